"""The ``brian-effplast`` command.

::

    brian-effplast demo --out DIR
    brian-effplast train MODEL.toml --out DIR [--duration T] [--seed S]
                   [--target numpy|cython|cpp_standalone] [--replicas R]
                   [--checkpoint-every T] [--set section.key=value ...] [--quiet]
    brian-effplast test DIR [--out DIR2] [--protocol held|authors] [--angles K] [--hold T] [--trials N] [--start current|reset] [--record-every STEPS] [--target ...]
    brian-effplast resume DIR [--quiet]
    brian-effplast info DIR

Exit status: 0 success, 2 bad input (one line ``brian-effplast: error: ...``
per problem, nothing written), 1 training diverged or failed, 130
interrupted by SIGINT (Ctrl-C), 143 by SIGTERM (a training keeps its last
checkpoint; continue it with ``brian-effplast resume DIR``). An interrupt
stops the simulation at once; a second one while stopping changes nothing.
"""

import argparse
import os
import signal
import sys
import tomllib
import warnings
from pathlib import Path

from .config import TARGETS, Config, ConfigError
from .errors import Diverged, Interrupted, RunError, interrupts_unmasked
from .config.messages import fmt
from .config.modelfiles import model_path, shipped_models
from .config.schema import TEST_PROTOCOLS, TEST_STARTS

PROG = "brian-effplast"
#: Model file of the demo (models/estimation.toml, shipped inside the package).
DEMO_MODEL = "estimation.toml"
#: Duration of the demo training, time units (about 20 s on cpp_standalone once compiled).
DEMO_DURATION = 20000.0
#: Seed of the demo (the package's first seed, not a chosen one: the demo reports every replica).
DEMO_SEED = 1
#: Networks the demo trains (replicas: independent initial states and noise), for mean +- s.e.m.
DEMO_REPLICAS = 5
#: Test-protocol hold of the demo, time units per angle (the test MSE is flat over the hold).
DEMO_HOLD = 100.0


class UsageError(Exception):
    """A bad command line (exit 2)."""


class _Parser(argparse.ArgumentParser):
    def error(self, message):
        raise UsageError(f"{message} (see '{self.prog} --help')")


def _parse_set(items):
    """``["section.key=value", ...]`` -> {"section.key": value} (value as TOML, else a string)."""
    out = {}
    for item in items or ():
        key, sep, text = item.partition("=")
        key = key.strip()
        if not sep or not key or "." not in key:
            raise UsageError(f"argument --set: expected section.key=value, got {fmt(item)}")
        text = text.strip()
        try:
            value = tomllib.loads(f"v = {text}")["v"]
        except (tomllib.TOMLDecodeError, ValueError, RecursionError):
            value = text  # a bare word: a string (e.g. run.target=numpy); else validation names it
        out[key] = value
    return out


def _duration(text):
    """A duration argument: time units (``"200"``) or with a unit (``"2s"``, ``"500 ms"``), converted
    with the model's tau by the configuration."""
    from .config.durations import to_time_units
    try:
        return float(text)
    except ValueError:
        if isinstance(to_time_units(text, 1.0), float):
            return text  # with a unit
    raise argparse.ArgumentTypeError(f"{text!r} is not a duration: give time units (e.g. 200) or a number "
                                     f"with a unit (e.g. 2s, 500ms)")


def _apply_set(cfg, sets):
    for path in sets:
        if path == "task" or path.startswith("task."):
            raise UsageError("argument --set: task cannot be changed with --set (use another model file)")
    return cfg.override(sets, source="--set") if sets else cfg


def _parser():
    from .version import __version__
    p = _Parser(prog=PROG, description="Recurrent circuits that learn task-specific codes with "
                "reward-gated plasticity (Bredenberg, Simoncelli & Savin, NeurIPS 2020), on Brian2.",
                epilog="Times are in the paper's time units (tau = circuit.tau_ms ms), or with a unit: "
                       "--duration 200s, --hold 500ms.")
    p.add_argument("--version", action="version", version=f"{PROG} {__version__}")
    sub = p.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    sub.required = True

    def targets(q):
        q.add_argument("--target", choices=TARGETS, help="Brian2 code-generation target")

    t = sub.add_parser("train", help="train a model and write a run directory")
    t.add_argument("model", metavar="MODEL", help="a model file, or the name of a shipped model: "
                   + ", ".join(shipped_models()))
    t.add_argument("--out", required=True, metavar="DIR", help="run directory (new or empty)")
    t.add_argument("--duration", type=_duration, metavar="T",
                   help="simulated time units, or with a unit, e.g. 200s (run.duration)")
    t.add_argument("--seed", type=int, metavar="S", help="random seed (run.seed; default: random)")
    targets(t)
    t.add_argument("--replicas", type=int, metavar="R", help="independent networks (run.replicas)")
    t.add_argument("--workers", type=int, metavar="W",
                   help="processes the replicas are spread over (run.workers; e.g. 2 on 2 cores)")
    t.add_argument("--checkpoint-every", type=_duration, metavar="T",
                   help="checkpoint interval, time units (run.checkpoint_every; 0 = end only)")
    t.add_argument("--set", action="append", metavar="SECTION.KEY=VALUE", default=[],
                   help="override any configuration value, e.g. --set circuit.sigma=0.33 (repeatable)")
    t.add_argument("--quiet", action="store_true", help="no progress output")

    s = sub.add_parser("test", help="test a trained model (plasticity off, stimulus held at test angles)")
    s.add_argument("run_dir", metavar="DIR", help="run directory")
    s.add_argument("--out", metavar="DIR2", help="where to write test.npz and figures (default: DIR)")
    s.add_argument("--protocol", choices=TEST_PROTOCOLS,
                   help="held: every angle held in parallel copies; authors: the authors' 100 trials of 5 "
                   "stimuli of 200 time units from the input angles, each trial from r = 0.1 (test.protocol)")
    s.add_argument("--angles", type=int, metavar="K", help="number of test angles (test.angles)")
    s.add_argument("--hold", type=_duration, metavar="T", help="time units per angle or stimulus, or e.g. 1s (test.hold)")
    s.add_argument("--trials", type=int, metavar="N", help="copies per angle, or trials (test.trials)")
    s.add_argument("--record-every", type=int, metavar="STEPS", help="steps between samples (test.record_every)")
    s.add_argument("--start", choices=TEST_STARTS,
                   help="where each copy starts: the trained state or the trial reset (test.start)")
    targets(s)
    s.add_argument("--quiet", action="store_true", help="no progress output")

    r = sub.add_parser("resume", help="continue an interrupted run from its last checkpoint")
    r.add_argument("run_dir", metavar="DIR")
    r.add_argument("--accept-config-change", action="store_true",
                   help="continue although config.toml was edited since the run started "
                   "(the change is recorded in summary.json)")
    r.add_argument("--quiet", action="store_true", help="no progress output")

    i = sub.add_parser("info", help="describe a run directory")
    i.add_argument("run_dir", metavar="DIR")

    f = sub.add_parser("figures", help="run (or reuse) every experiment of the paper's Figs. 1-3 and S1 "
                       "and draw all panels (defaults: the paper's 20 networks x 260000 time units per experiment; "
                       "see docs/reproduction.md for wall times; --quick: a few minutes)")
    f.add_argument("--out", required=True, metavar="DIR",
                   help="output folder (runs/, figures/, figures.json); complete runs in it are reused")
    f.add_argument("--replicas", type=int, metavar="R",
                   help="networks (replicas) per experiment (default 20, the paper's; quick 2)")
    f.add_argument("--duration", type=float, metavar="T",
                   help="training time units (default 260000; quick 3000; at least 250, so that the "
                        "mid-training snapshot, a fifth of it, comes after the transient)")
    f.add_argument("--quick", action="store_true", help="2 replicas, 3000 time units, the authors' test shortened to 20 trials of "
                   "5 stimuli of 40 time units")
    f.add_argument("--report", action="store_true",
                   help="run nothing: draw the panels and judge the claims of the experiments complete so far "
                   "in --out (a run in progress), listing what is still pending")
    f.add_argument("--workers", type=int, metavar="W",
                   help="worker processes of the embedded dask cluster (default: one per core; 1: no cluster)")
    f.add_argument("--scheduler", metavar="ADDRESS",
                   help="run the experiments on this running dask scheduler (e.g. tcp://host:8786)")
    targets(f)

    d = sub.add_parser("demo", help=f"train {DEMO_REPLICAS} networks of the estimation model for "
                       f"{DEMO_DURATION:g} time units, test them untrained and trained beside two baselines "
                       "(the best constant output, the decoder learning alone) and draw the figures")
    d.add_argument("--out", default="brian-effplast-demo", metavar="DIR",
                   help="run directory: new, empty, or a previous demo's, which is replaced "
                   "(default: %(default)s)")
    d.add_argument("--duration", type=_duration, metavar="T", default=DEMO_DURATION,
                   help="training time units, or with a unit (default: %(default)g, i.e. 200s)")
    d.add_argument("--seed", type=int, metavar="S", default=DEMO_SEED, help="random seed (default: %(default)s)")
    d.add_argument("--replicas", type=int, metavar="R", default=DEMO_REPLICAS,
                   help="networks trained and tested (default: %(default)s)")
    targets(d)
    d.add_argument("--quiet", action="store_true", help="no progress output (the results are still printed)")

    w = sub.add_parser("sweep", help="train and test every cell of a grid of configuration values on "
                       "dask.distributed (an embedded local cluster, or --scheduler ADDRESS)")
    w.add_argument("model", metavar="MODEL", help="a model file, or the name of a shipped model")
    w.add_argument("--out", required=True, metavar="DIR",
                   help="sweep folder: cells/<cell>/ run directories and results.csv; finished cells are reused")
    w.add_argument("--grid", action="append", required=True, metavar="SECTION.KEY=V1,V2,...",
                   help="values of one configuration key (repeatable: the cells are the product), "
                   "e.g. --grid circuit.sigma=0.1,0.2 --grid run.seed=1,2,3")
    w.add_argument("--duration", type=float, metavar="T", help="training time units of every cell (run.duration)")
    where = w.add_mutually_exclusive_group()
    where.add_argument("--workers", type=int, metavar="K", help="worker processes of the embedded cluster "
                       "(default: one per core)")
    where.add_argument("--scheduler", metavar="ADDRESS", help="a running dask scheduler, e.g. tcp://host:8786")
    w.add_argument("--quiet", action="store_true", help="no progress output")

    c = sub.add_parser("cache", help="show (or --clear) the compiled cpp_standalone projects kept for reuse")
    c.add_argument("--clear", action="store_true",
                   help="delete every project no running process is using, and the precompiled headers if none is")
    return p


def _quiet_brian():
    warnings.filterwarnings("ignore", category=DeprecationWarning)
    import brian2
    brian2.BrianLogger.log_level_error()
    try:
        brian2.prefs.logging.file_log = False
    except Exception:  # pragma: no cover
        pass
    # after importing Brian2, whose own SIGINT handler would let a run end
    # early and return partial results
    _stop_on_signals()


def _stop_on_signals():
    """SIGINT and SIGTERM raise :class:`Interrupted` once; later ones are ignored
    (the run is stopping already: a second Ctrl-C changes nothing)."""
    def handler(signum, frame):
        for s in (signal.SIGINT, signal.SIGTERM):
            signal.signal(s, signal.SIG_IGN)
        raise Interrupted(signum)
    for s in (signal.SIGINT, signal.SIGTERM):
        signal.signal(s, handler)


def _print_trained(summary, out, quiet):
    if quiet:
        return
    print(f"{PROG}: {summary['status']}: {summary['task']}, {summary['replicas']} replica(s), "
          f"seed {summary['seed']}, {summary['duration']:g} time units on {summary['target']} "
          f"in {summary['wall_seconds']:.1f} s")
    shown = summary.get("objective") or {}
    if shown.get("initial") is not None:
        print(f"  {shown['label']} {shown['initial']:.4g} -> {shown['final']:.4g} (first -> last 10% of training)")
    print(f"  run directory: {out}")


def _print_tested(res, quiet):
    if quiet:
        return
    names = {"mse": "MSE", "mse_prior": "prior-weighted MSE", "accuracy": "accuracy",
             "accuracy_prior": "prior-weighted accuracy"}
    score = ", ".join(f"{names[k]} {v:.4g}" for k, v in res.items() if k in names)
    print(f"{PROG}: tested {res['angles']} angles x {res['samples']} samples ({res['protocol']}): {score}")
    print(f"  {res['test']}\n  {res['tuning']}\n  {res['outputs']}")


def _cmd_train(args):
    sets = _parse_set(args.set)
    model = model_path(args.model)
    cfg = _apply_set(Config.from_toml(model), sets)
    from . import runs
    _quiet_brian()
    summary = runs.train(cfg, args.out, duration=args.duration, seed=args.seed, target=args.target,
                         replicas=args.replicas, checkpoint_every=args.checkpoint_every, workers=args.workers,
                         quiet=args.quiet, source="command line", model_file=model)
    _print_trained(summary, args.out, args.quiet)
    return 0


def _cmd_test(args):
    from . import runs
    _quiet_brian()
    res = runs.run_test(args.run_dir, out=args.out, angles=args.angles, hold=args.hold, target=args.target,
                        trials=args.trials, start=args.start, protocol=args.protocol,
                        record_every=args.record_every, quiet=args.quiet)
    _print_tested(res, args.quiet)
    return 0


def _cmd_resume(args):
    from . import runs
    _quiet_brian()
    summary = runs.resume(args.run_dir, accept_config_change=args.accept_config_change, quiet=args.quiet)
    if summary.get("already_complete"):
        if summary.get("repaired") and not args.quiet:
            print(f"{PROG}: {args.run_dir} is complete; rewrote {', '.join(summary['repaired'])} from its "
                  "verified checkpoint")
        elif not args.quiet:
            print(f"{PROG}: {args.run_dir} is already complete ({summary['t']:g} of "
                  f"{summary['duration']:g} time units); nothing to do")
        return 0
    _print_trained(summary, args.run_dir, args.quiet)
    return 0


def _cmd_info(args):
    from . import runs
    print(runs.info(args.run_dir))
    return 0


def _cmd_demo(args):
    """Train, test (untrained and trained) and explain; a previous demo in ``--out`` is replaced."""
    import importlib.resources
    import json
    import numpy as np
    from . import runs

    out = Path(args.out)
    path = Path(str(importlib.resources.files("brian_effplast.models").joinpath(DEMO_MODEL)))
    # the demo's test settings go into its config.toml, so that `test` on it reproduces its numbers
    cfg = Config.from_toml(path).override({"test.hold": DEMO_HOLD}, source="demo")
    # a bad --duration/--seed/--target/--replicas is reported before anything is touched
    runs.resolve_config(cfg, duration=args.duration, seed=args.seed, target=args.target, replicas=args.replicas,
                        source="command line")

    def previous_demo():
        """True if ``out`` holds a demo run's files (a run directory marked "demo") and nothing else."""
        if not out.is_dir() or out.is_symlink():
            return False
        known = set(runs.FILES.values())
        for entry in out.iterdir():
            leftover = entry.name.startswith(".") and entry.name.endswith(".tmp") and \
                entry.name[1:].rsplit(".", 2)[0] in known  # an interrupted atomic write
            if entry.is_symlink() or not entry.is_file() or not (entry.name in known or leftover):
                return False
        try:
            s = json.loads((out / runs.FILES["summary"]).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return False
        model_file = s.get("model_file") if isinstance(s, dict) else None
        return (isinstance(s, dict) and isinstance(s.get("demo"), dict) and s.get("task") == "estimation"
                and (model_file is None or (isinstance(model_file, str) and model_file.endswith(DEMO_MODEL))))

    replace = previous_demo()
    ours = replace or not out.exists() or (out.is_dir() and not any(out.iterdir()))
    if replace:
        for entry in out.iterdir():
            entry.unlink()
        if not args.quiet:
            print(f"{PROG}: replacing the previous demo in {out}/", file=sys.stderr)
    demo = {"complete": False, "test_hold": None}

    def mark():
        """Record ``demo`` in summary.json: a later demo may replace this run directory."""
        summary_path = out / runs.FILES["summary"]
        if not ours or not summary_path.is_file():
            return
        from .runs.rundir import write_json
        try:
            s = json.loads(summary_path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return
        if isinstance(s, dict):
            write_json(summary_path, {**s, "demo": demo})

    try:
        _quiet_brian()
        summary = runs.train(cfg, out, duration=args.duration, seed=args.seed, target=args.target,
                             replicas=args.replicas, quiet=args.quiet, source="command line", model_file=path)
        _print_trained(summary, out, args.quiet)
        run_cfg, _, _ = runs.read_run(out)
        with np.load(out / runs.FILES["curve"], allow_pickle=False) as z:
            curve = z["curve"]
        hold = run_cfg.test.hold
        demo["test_hold"] = hold
        from .circuit.model import PlasticCircuit
        from .runs import demo as numbers
        say = (lambda text: None) if args.quiet else (lambda text: print(f"{PROG}: {text}", file=sys.stderr))
        say(f"testing the untrained circuits (seed {run_cfg.run.seed}, initial state)")
        untrained = numbers.replica_scores(runs.held_stimulus_test(PlasticCircuit(run_cfg, target=args.target),
                                                                   hold=hold))
        res = runs.run_test(out, target=args.target, quiet=args.quiet)
        with np.load(res["test"], allow_pickle=False) as z:
            trained = numbers.replica_scores(z)
            constant = numbers.constant_baseline(z["angles"], z["prior_mu"], z["prior_kappa"])
            angles = z["angles"]
        say(f"baseline: training the same circuits with only the decoder learning ({run_cfg.run.duration:g} "
            "time units), then testing them")
        frozen_training, frozen = numbers.decoder_only(run_cfg, run_cfg.run.duration, hold, target=args.target)
        first, last = numbers.training_mse(curve, run_cfg)
        rows = {"untrained": (None, untrained), "trained": ((first, last), trained),
                "decoder_only": (frozen_training, frozen)}
        for key, (training, test) in rows.items():
            demo[key] = {"test_mse": test["mse"].tolist(), "test_mse_prior": test["mse_prior"].tolist()}
            if training is not None:
                demo[key]["training_mse_first"], demo[key]["training_mse_last"] = (t.tolist() for t in training)
        demo["constant_output"] = {k: np.asarray(v).tolist() for k, v in constant.items()}
        demo["complete"] = True
    finally:
        mark()

    pm = lambda x: "{:.3f} +- {:.3f}".format(*numbers.mean_sem(x))
    R = len(first)
    print(f"{PROG}: demo results: {R} networks (seed {summary['seed']}), {summary['duration']:g} time units "
          f"on {summary['target']}; squared error of the estimate of (cos theta, sin theta), mean +- s.e.m. "
          f"over the {R} networks")
    print(f"  {'':32}{'training, first -> last 10%':34}{'test, prior-weighted':22}test, {len(angles)} angles alike")
    for label, (training, test) in (("untrained circuit", rows["untrained"]),
                                    ("trained (W, C, b and D learn)", rows["trained"]),
                                    ("decoder alone (W, C, b frozen)", rows["decoder_only"])):
        train_text = "" if training is None else f"{pm(training[0])} -> {pm(training[1])}"
        print(f"  {label:32}{train_text:34}{pm(test['mse_prior']):22}{pm(test['mse'])}")
    c = constant["output"]
    print(f"  {'best constant output':32}{'':34}{constant['mse_prior']:<22.3f}{constant['mse']:.3f}"
          f"   (always ({c[0]:.2f}, {c[1]:.2f}): the prior's mean direction)")
    print(f"  the training stimulus follows the prior, so the prior-weighted test MSE is the one to compare "
          f"with training; the {len(angles)} angles weighted alike include improbable ones "
          f"({hold:g} time units each)")
    if not args.quiet:
        print(f"{PROG}: demo files in {out}/:")
        for name, what in (("learning_curve.png", "squared error during learning, on the drifting stimulus"),
                           ("tuning.png", "tuning curves and population rate vs angle"),
                           ("outputs.png", "estimates per test angle with 95% ellipses"),
                           ("summary.json", "run summary (seed, MSE before/after, wall time; 'demo': "
                            "the test numbers above)"),
                           ("parameters.npz", "learned W, C, b, D (NumPy, replica first)"),
                           ("test.npz", "test responses of the trained circuit (angles, rates, outputs)")):
            print(f"  {out / name}  ({what})")
        print(f"  details: {PROG} info {out}; run 'demo' again to replace this one")
    return 0


def _cmd_figures(args):
    from .paper import figures
    _quiet_brian()
    figures.make_figures(args.out, replicas=args.replicas, duration=args.duration, quick=args.quick,
                         target=args.target or "cpp_standalone", workers=args.workers, scheduler=args.scheduler,
                         report=args.report)
    return 0


def _cmd_sweep(args):
    from .runs.sweep import parse_grid, sweep
    grid = parse_grid(args.grid)
    if args.workers is not None and args.workers < 1:
        raise UsageError(f"argument --workers: {args.workers} is not allowed: must be >= 1")
    _quiet_brian()
    rows = sweep(args.model, args.out, grid, duration=args.duration, workers=args.workers,
                 scheduler=args.scheduler, quiet=args.quiet)
    failed = [r for r in rows if r["status"] != "complete"]
    if not args.quiet:
        print(f"{PROG}: sweep: {len(rows) - len(failed)} of {len(rows)} cells complete; "
              f"table: {Path(args.out) / 'results.csv'}")
        for r in failed:
            print(f"  failed: {r['cell']}: {r.get('error', '')}")
    return 1 if failed else 0


def _cmd_cache(args):
    from .circuit.standalone import cache_root, cached_projects, clear_cache, headers_size
    mb = lambda n: f"{n / 1e6:.1f} MB"
    if args.clear:
        deleted, freed, kept = clear_cache()
        print(f"{PROG}: deleted {deleted} project(s), {mb(freed)}; kept {kept} in use")
        return 0
    projects = cached_projects()
    print(f"{cache_root()} (set BRIAN_EFFPLAST_CACHE to move it): {len(projects)} compiled project(s), "
          f"{mb(sum(size for _, size, _ in projects))}; precompiled headers {mb(headers_size())}")
    for folder, size, in_use in projects:
        print(f"  {os.path.basename(folder)}  {mb(size):>9}" + ("  (in use)" if in_use else ""))
    return 0


COMMANDS = {"train": _cmd_train, "test": _cmd_test, "resume": _cmd_resume, "info": _cmd_info,
            "demo": _cmd_demo, "figures": _cmd_figures, "sweep": _cmd_sweep,
            "cache": _cmd_cache}


#: What an interrupt leaves, by command (training commands say it themselves).
_INTERRUPTED = {"test": "no test file was written",
                "sweep": "finished cells are kept: run the same command again to continue",
                "figures": "finished stages are kept: run the same command again to continue them"}


def _error(message):
    for line in str(message).splitlines() or [""]:
        print(f"{PROG}: error: {line}", file=sys.stderr)


def main(argv=None):
    """Run the command line ``argv`` (default ``sys.argv[1:]``); return the exit status."""
    handlers = {s: signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM)}
    status = None
    from .blocks import tasks
    announce, tasks.on_import = tasks.on_import, _announce_import  # say where a task's code comes from
    try:
        status = _main(argv)
        return status
    finally:
        tasks.on_import = announce
        # called from Python (argv given), give the caller its handlers back; as the
        # command, an interrupted run keeps ignoring signals until the process exits
        # (a second Ctrl-C must not kill it on its way out)
        if argv is not None or status not in (130, 143):
            for s, handler in handlers.items():
                signal.signal(s, handler)


def _announce_import(line):
    print(f"{PROG}: {line}", file=sys.stderr, flush=True)


def _main(argv):
    command = None
    try:
        args = _parser().parse_args(argv)
        command = args.command
        with interrupts_unmasked():
            return COMMANDS[args.command](args)
    except SystemExit as exc:  # --help
        return exc.code if isinstance(exc.code, int) else 0
    except KeyboardInterrupt as exc:
        for s in (signal.SIGINT, signal.SIGTERM):
            signal.signal(s, signal.SIG_IGN)
        if not isinstance(exc, Interrupted):  # Python's own, from SIGINT
            exc = Interrupted(signal.SIGINT)
        name = signal.Signals(exc.signum).name
        if exc.run_dir is not None:
            _error(f"interrupted ({name}): kept the checkpoint at t = {exc.t:g} time units; "
                   f"continue with: {PROG} resume {exc.run_dir}")
        else:
            _error(f"interrupted ({name}); " + _INTERRUPTED.get(command, "nothing unfinished was saved"))
        return exc.exit_status
    except Diverged as exc:
        _error(exc)
        return 1
    except (UsageError, ConfigError, RunError) as exc:
        _error(exc)
        return 2
    except (ValueError, OSError) as exc:
        _error(exc if not isinstance(exc, OSError) or not exc.filename
               else f"{exc.filename}: {exc.strerror or exc}")
        return 2
    except Exception as exc:  # a failure inside the simulation: no traceback unless asked
        if os.environ.get("BRIAN_EFFPLAST_TRACEBACK"):
            raise
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
        _error(f"{type(exc).__name__}: {first} (set BRIAN_EFFPLAST_TRACEBACK=1 for details)")
        return 1


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
