"""Training and resuming: chunks, checkpoints, progress, divergence and interrupts.

Training is split into chunks at multiples of ``run.checkpoint_every``
(one chunk if 0); the model state is saved after every chunk
(:func:`~brian_effplast.runs.rundir.write_checkpoint`). Because
:class:`~brian_effplast.circuit.model.PlasticCircuit` reseeds Brian2 at the start
of every run from ``(seed, step)``, a run resumed from a checkpoint gives
the same result as an uninterrupted run with the same chunking (same
target).

A run stopped by a signal records status "interrupted" and keeps its last
checkpoint; a chunk that did not simulate every step is never saved
(:class:`~brian_effplast.errors.Interrupted`). A run that fails before its
first chunk is saved leaves no run directory. The configuration may not
change under a run: :func:`resume` refuses an edited ``config.toml``
unless told to record the change.
"""

import os
import shutil
import signal
import sys
import time
import warnings
from pathlib import Path

import numpy as np

from ..config import SEED_MAX, Config, ConfigError, check_resources
from ..errors import Diverged, Interrupted, RunError, interrupts_unmasked
from .progress import Progress
from .rundir import (FILES, check_new_dir, check_npz, checkpoint_steps, clear_dir, config_edits, config_record,
                     describe_edits, now, read_run, versions, write_checkpoint, write_figure, write_in_place,
                     write_json, write_npz, write_text, writing)
from ..circuit.state import saved_keys

__all__ = ["train", "resume", "extend", "load", "model_from", "resolve_config", "draw_seed", "objectives", "check_chunking",
           "DIVERGENCE_LIMITS"]

#: A run has diverged when any parameter exceeds these magnitudes.
DIVERGENCE_LIMITS = {"W": 1e3, "C": 1e3, "b": 1e3, "D": 1e3}


def _as_config(config):
    if isinstance(config, Config):
        return config
    if isinstance(config, (str, os.PathLike)):
        return Config.from_toml(config)
    raise TypeError(f"config = {config!r} is not allowed: must be a Config or the path of a TOML file")


def draw_seed():
    """A fresh random seed in [0, 2**32 - 1]."""
    return int(np.random.SeedSequence().entropy % (SEED_MAX + 1))


def resolve_config(config, *, duration=None, seed=None, target=None, replicas=None,
                   checkpoint_every=None, workers=None, source="arguments"):
    """The configuration of a training run, validated, with a seed.

    ``config`` is a :class:`Config` or a TOML path; the keyword arguments
    override ``run.*`` (``None`` keeps the file's value). A missing seed is
    drawn. Checks that the duration, checkpoint interval and learning-curve
    bin are whole numbers of steps and that the duration and checkpoint
    interval are whole numbers of curve bins.
    """
    cfg = _as_config(config)
    overrides = {k: v for k, v in (("duration", duration), ("seed", seed), ("target", target),
                                   ("replicas", replicas), ("checkpoint_every", checkpoint_every),
                                   ("workers", workers))
                 if v is not None}
    if overrides:
        cfg = cfg.override({f"run.{k}": v for k, v in overrides.items()}, source=source)
    if cfg.run.seed is None:
        cfg = cfg.replace(**{"run.seed": draw_seed()})
    check_chunking(cfg)
    check_resources(cfg)  # refuses a model that cannot fit in memory
    return cfg


def check_chunking(cfg):
    run = cfg.run
    src = getattr(cfg, "_source", "<Config>")
    n_total = cfg.steps(run.duration, "run.duration")
    n_bin = cfg.steps(run.curve_bin, "run.curve_bin")
    n_ce = cfg.steps(run.checkpoint_every, "run.checkpoint_every")
    if n_total % n_bin:
        raise ConfigError(f"{src}: run.duration = {run.duration!r} is not allowed: must be a whole "
                          f"number of learning-curve bins (run.curve_bin = {run.curve_bin!r})")
    if n_ce % n_bin:
        raise ConfigError(f"{src}: run.checkpoint_every = {run.checkpoint_every!r} is not allowed: "
                          f"must be 0 or a whole number of learning-curve bins "
                          f"(run.curve_bin = {run.curve_bin!r})")
    if cfg.steps(run.trial, "run.trial") % n_bin:
        raise ConfigError(f"{src}: run.trial = {run.trial!r} is not allowed: must be 0 or a whole number "
                          f"of learning-curve bins (run.curve_bin = {run.curve_bin!r})")
    return n_total, n_bin, n_ce


def objectives(curve, cfg):
    """Mean reward over the first and last 10% of the training after the
    transient, averaged over replicas: ``(initial, final)`` (None if empty)."""
    curve = np.asarray(curve, dtype=float)
    if curve.ndim != 2 or curve.shape[1] == 0:
        return None, None
    starts = np.arange(curve.shape[1]) * cfg.run.curve_bin
    after = curve[:, starts >= cfg.run.transient - 1e-9 * cfg.run.curve_bin]
    n = after.shape[1]
    if n == 0:
        return None, None
    m = max(1, int(round(0.1 * n)))
    return float(np.mean(after[:, :m])), float(np.mean(after[:, -m:]))


def _summary_objectives(summary, curve, cfg):
    ini, fin = objectives(curve, cfg)
    task = cfg.make_task()
    shown = lambda x: None if x is None else float(task.objective(x))
    summary["objective_initial"], summary["objective_final"] = ini, fin
    summary["objective"] = {"label": task.objective_label, "initial": shown(ini), "final": shown(fin)}


def _check_divergence(state):
    for key, limit in DIVERGENCE_LIMITS.items():
        x = np.asarray(state[key])
        if not np.all(np.isfinite(x)):
            return f"{key} is not finite"
        m = float(np.max(np.abs(x))) if x.size else 0.0
        if m > limit:
            return f"max |{key}| = {m:.3g} exceeds {limit:g}"
    return None


def write_curve(run_dir, cfg, curve, theta, plot=True):
    """learning_curve.npz (at every checkpoint) and, with ``plot``, learning_curve.png."""
    curve = np.asarray(curve, dtype=float)
    time_ = (np.arange(curve.shape[1]) + 0.5) * cfg.run.curve_bin
    write_npz(Path(run_dir) / FILES["curve"], curve=curve, time=time_, theta=np.asarray(theta, dtype=float),
               curve_bin=np.float64(cfg.run.curve_bin), transient=np.float64(cfg.run.transient),
               task=np.str_(cfg.task))
    if plot and curve.shape[1]:
        from .. import plotting
        fig = plotting.learning_curve(curve, cfg.run.curve_bin, cfg.make_task(), transient=cfg.run.transient,
                                      tau=cfg.circuit.tau_ms / 1000)
        write_figure(Path(run_dir) / FILES["curve_png"], fig)


def train(config, out_dir, *, duration=None, seed=None, target=None, replicas=None,
          checkpoint_every=None, workers=None, quiet=False, source="arguments", stream=None, model_file=None):
    """Train a model and write a run directory.

    Parameters
    ----------
    config : Config or path
        The model (a :class:`Config` or a TOML file).
    out_dir : path
        The run directory: created; must not exist or be empty.
    duration, seed, target, replicas, checkpoint_every, workers : optional
        Override ``run.*`` of the configuration (time units for durations).
        With ``workers > 1`` the replicas are spread over that many
        processes (:class:`~brian_effplast.runs.parallel.ReplicaPool`).
    quiet : bool
        No progress output.

    Returns
    -------
    dict
        The summary (as written to ``summary.json``).

    Raises
    ------
    ConfigError, RunError
        Bad configuration or output directory (nothing is created).
    Diverged
        A parameter became non-finite or too large; the run directory keeps
        the last good checkpoint and ``summary.json`` says when and what.
    """
    if model_file is None and isinstance(config, (str, os.PathLike)):
        model_file = os.fspath(config)
    cfg = resolve_config(config, duration=duration, seed=seed, target=target, replicas=replicas,
                         checkpoint_every=checkpoint_every, workers=workers, source=source)
    out = Path(out_dir)
    check_new_dir(out)
    model = _trainer(cfg)  # draws the initial state; nothing is built yet
    created = not out.exists()
    # the lock is taken, and the emptiness checked under it, before anything is written: of two
    # trains started at once on one directory, the second is refused
    with writing(out, create=True, empty=True):
        text = cfg.to_toml_string()
        summary = _new_summary(cfg, text, model_file)
        curve = np.zeros((cfg.run.replicas, 0))
        try:
            write_text(out / FILES["config"], text)
            write_checkpoint(out, model, 0, curve, curve)
            write_json(out / FILES["summary"], summary)
            return _continue(out, cfg, model, curve, curve, summary, quiet=quiet, stream=stream)
        except (Exception, KeyboardInterrupt) as exc:
            if isinstance(exc, (Diverged, KeyboardInterrupt)) or checkpoint_steps(out) > 0:
                raise  # the run directory holds something to resume or to look at
            # failed before the first chunk was saved (e.g. the compiler or the disk):
            # nothing to keep, and the same command can simply be run again
            if hasattr(model, "close"):
                model.close()
            if created:
                shutil.rmtree(out, ignore_errors=True)
            else:
                clear_dir(out)
            raise


def _new_summary(cfg, text, model_file=None):
    """summary.json of a run starting (status "running")."""
    return {
        "status": "running",
        "task": cfg.task,
        "target": cfg.run.target,
        "seed": cfg.run.seed,
        "replicas": cfg.run.replicas,
        "workers": cfg.run.workers,
        "duration": cfg.run.duration,
        "steps": cfg.steps(cfg.run.duration, "run.duration"),
        "dt": cfg.circuit.dt,
        "transient": cfg.run.transient,
        "checkpoint_every": cfg.run.checkpoint_every,
        "curve_bin": cfg.run.curve_bin,
        "t": 0.0,
        "steps_done": 0,
        "wall_seconds": 0.0,
        "objective_initial": None,
        "objective_final": None,
        "objective": {"label": cfg.make_task().objective_label, "initial": None, "final": None},
        "model_file": None if model_file is None else os.path.abspath(model_file),
        "created": now(),
        "updated": now(),
        "sessions": 1,
        "versions": versions(),
        **config_record(cfg, text),
    }


def _record_status(run_dir, summary):
    """Write summary.json as the run stops; on a full disk, in place (an atomic write needs room
    for a second copy): a stopped run must not keep saying "running"."""
    path = Path(run_dir) / FILES["summary"]
    try:
        write_json(path, summary)
    except OSError:
        import json
        try:
            write_in_place(path, json.dumps(summary, indent=2) + "\n")
        except OSError:
            pass  # (info still tells: a "running" run that no process holds)


def _continue(run_dir, cfg, model, curve, theta, summary, quiet=False, stream=None):
    dt = cfg.circuit.dt
    total, n_bin, n_ce = check_chunking(cfg)
    n_ce = n_ce or total
    done = int(round(model.t / dt))
    wall_before = float(summary.get("wall_seconds", 0.0))
    t_start = time.perf_counter()
    progress = Progress(not quiet, total, done, dt, stream)
    for warning in check_resources(cfg):  # a run that would take days
        (sys.stderr if stream is None else stream).write(f"brian-effplast: warning: {warning}\n")
    what = "resuming" if done else "training"
    spread = f" in {cfg.run.workers} processes" if cfg.run.workers > 1 else ""
    progress.message(f"brian-effplast: {what} {cfg.task} ({cfg.run.replicas} replica(s){spread}, seed {model.seed}, "
                     f"target {cfg.run.target}) from t = {done * dt:g} to {total * dt:g} time units "
                     f"-> {run_dir}")
    try:
        with interrupts_unmasked():
            while done < total:
                end = min(total, (done // n_ce + 1) * n_ce)
                n = end - done
                reason = None
                try:
                    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):  # checked below
                        out = model.run(n * dt, plastic=True, record=("theta",), record_every=n_bin,
                                        report=progress.reporter(done, n, cfg.run.target))
                except FloatingPointError as exc:
                    reason = str(exc)
                else:
                    reason = _check_divergence(model.state)
                if reason is not None:
                    progress.close()
                    summary.update(status="diverged", wall_seconds=wall_before + time.perf_counter() - t_start,
                                   updated=now(),
                                   diverged={"what": reason, "during": [done * dt, end * dt],
                                             "last_good_checkpoint": done * dt})
                    _summary_objectives(summary, curve, cfg)
                    write_json(Path(run_dir) / FILES["summary"], summary)
                    write_curve(run_dir, cfg, curve, theta)
                    raise Diverged(f"training diverged between t = {done * dt:g} and {end * dt:g} time units "
                                   f"({reason}); the last good checkpoint (t = {done * dt:g}) is kept in "
                                   f"{run_dir}", run_dir, summary)
                curve = np.concatenate([curve, out["curve"]], axis=1)
                theta = np.concatenate([theta, out["theta"].T], axis=1)  # the stimulus at each bin
                write_checkpoint(run_dir, model, end, curve, theta)
                write_curve(run_dir, cfg, curve, theta, plot=False)  # an interrupted run keeps its curve too
                done = end
                summary.update(t=done * dt, steps_done=done, updated=now(),
                               wall_seconds=wall_before + time.perf_counter() - t_start)
                if done < total:
                    write_json(Path(run_dir) / FILES["summary"], summary)
                progress.chunk_done(done, out.get("loop_seconds"))
            # complete (also reached when a run was killed after its last checkpoint); a failure
            # here (a full disk) is recorded as "failed": resume writes these files again
            _finish(run_dir, cfg, model, curve, theta)
    except KeyboardInterrupt as exc:
        signum = getattr(exc, "signum", signal.SIGINT)
        progress.close()
        kept = checkpoint_steps(run_dir) * dt
        summary.update(status="interrupted", t=kept, steps_done=int(round(kept / dt)), updated=now(),
                       wall_seconds=wall_before + time.perf_counter() - t_start,
                       interrupted={"signal": signal.Signals(signum).name, "at_checkpoint": kept})
        _record_status(run_dir, summary)
        raise Interrupted(signum, f"training interrupted by {signal.Signals(signum).name}; the last checkpoint "
                          f"(t = {kept:g} of {total * dt:g} time units) is kept in {run_dir}",
                          run_dir=run_dir, t=kept) from None
    except Diverged:
        raise
    except Exception as exc:
        summary.update(status="failed", updated=now(), wall_seconds=wall_before + time.perf_counter() - t_start,
                       failed={"error": f"{type(exc).__name__}: {exc}"[:2000],
                               "at_checkpoint": checkpoint_steps(run_dir) * dt})
        _record_status(run_dir, summary)
        raise
    finally:
        progress.close()
        if hasattr(model, "close"):  # a ReplicaPool's processes
            model.close()
    _summary_objectives(summary, curve, cfg)
    summary.update(status="complete", t=done * dt, steps_done=done, updated=now(),
                   wall_seconds=wall_before + time.perf_counter() - t_start)
    write_json(Path(run_dir) / FILES["summary"], summary)
    return summary


def _finish(run_dir, cfg, state, curve, theta):
    """The files of a complete run from its final ``state`` (a model, or checkpoint arrays)."""
    state = getattr(state, "state", state)
    W, C, b, D = (np.asarray(state[k]) for k in ("W", "C", "b", "D"))
    write_npz(Path(run_dir) / FILES["parameters"], W=W, C=C, b=b, D=D)
    write_curve(run_dir, cfg, curve, theta)


def _damaged_outputs(run_dir, ckpt):
    """The files of a complete run that are missing, unreadable or differ from its verified final
    checkpoint: ``{file name: what is wrong}``."""
    run_dir = Path(run_dir)
    wrong = {}
    try:
        params = check_npz(run_dir / FILES["parameters"], ("W", "C", "b", "D"))
        if not all(np.array_equal(params[k], ckpt[k]) for k in ("W", "C", "b", "D")):
            wrong[FILES["parameters"]] = f"{run_dir / FILES['parameters']} differs from the verified checkpoint"
    except RunError as exc:
        wrong[FILES["parameters"]] = str(exc)
    try:
        curve = check_npz(run_dir / FILES["curve"], ("curve", "time"))
        if not np.array_equal(curve["curve"], ckpt["curve"]):
            wrong[FILES["curve"]] = f"{run_dir / FILES['curve']} differs from the verified checkpoint"
    except RunError as exc:
        wrong[FILES["curve"]] = str(exc)
    return wrong


def _curve_theta(ckpt):
    """The training stimulus at each learning-curve bin (a checkpoint written before the
    stimulus was kept has none: nan)."""
    return np.asarray(ckpt.get("curve_theta", np.full(np.shape(ckpt["curve"]), np.nan)), dtype=float)


def _saved_state(cfg, ckpt):
    """The model state in a checkpoint, for the rule of ``cfg``: a checkpoint of the other rule
    (a run whose plasticity.rule was changed) continues with that rule's averages or traces at 0."""
    return {k: ckpt[k] for k in saved_keys(cfg.plasticity.rule) if k in ckpt}


def _trainer(cfg, ckpt=None):
    """What trains: a PlasticCircuit, or a ReplicaPool when run.workers > 1."""
    kwargs = {} if ckpt is None else dict(state=_saved_state(cfg, ckpt), t=float(ckpt["t"]),
                                          seed=int(ckpt["seed"]))
    if cfg.run.workers > 1:
        from .parallel import ReplicaPool
        return ReplicaPool(cfg, cfg.run.workers, **kwargs)
    from ..circuit.model import PlasticCircuit
    return PlasticCircuit(cfg, **kwargs)


def model_from(cfg, ckpt, **kwargs):
    from ..circuit.model import PlasticCircuit
    return PlasticCircuit(cfg, state=_saved_state(cfg, ckpt), t=float(ckpt["t"]), seed=int(ckpt["seed"]), **kwargs)


def resume(out_dir, *, accept_config_change=False, quiet=False, stream=None):
    """Continue an interrupted, killed or failed run from its last good checkpoint.

    Returns the summary; a complete run is returned unchanged (its summary
    gets ``"already_complete": True`` in the returned dict only), unless its
    ``parameters.npz`` or ``learning_curve.npz`` is missing, damaged or
    differs from the verified final checkpoint: those are written again from
    it (``"repaired"`` in the returned dict names them, and ``stream`` is
    told). A damaged newest checkpoint is set aside as
    ``checkpoint.damaged.npz`` and the run continues from the previous one
    (said on ``stream``). A damaged ``summary.json`` is set aside as
    ``summary.damaged.json`` and rebuilt from the configuration and the
    verified checkpoint. A ``config.toml`` edited since the run started is
    refused with what changed, unless ``accept_config_change``: then the
    change is recorded in the summary (``config_changes``) and the run
    continues with the new values. The run directory is locked
    (:func:`~brian_effplast.runs.rundir.writing`) for the whole call: a second
    ``resume`` of it is refused.
    """
    run_dir = Path(out_dir)
    warn = (lambda text: None) if quiet else \
        (lambda text: (sys.stderr if stream is None else stream).write(f"brian-effplast: warning: {text}\n"))
    if not run_dir.is_dir():
        read_run(run_dir)  # the usual message
    with writing(run_dir):
        cfg, summary, ckpt = read_run(run_dir, need_summary=False)
        total = cfg.steps(cfg.run.duration, "run.duration")
        if isinstance(summary, RunError):  # damaged: rebuilt from what the verified checkpoint holds
            reason = str(summary)
            damaged = run_dir / FILES["summary"]
            os.replace(damaged, run_dir / "summary.damaged.json")
            text = (run_dir / FILES["config"]).read_text(encoding="utf-8")
            summary = _new_summary(cfg, text)
            summary.update(created=None, sessions=0, t=float(ckpt["t"]), steps_done=int(ckpt["steps"]),
                           rebuilt={"at": now(), "reason": reason, "damaged_copy": "summary.damaged.json"})
            warn(f"{reason}; rebuilt it from {ckpt.path.name} (t = {float(ckpt['t']):g}); the damaged file is "
                 "kept as summary.damaged.json")
        if summary["status"] == "complete":
            wrong = _damaged_outputs(run_dir, ckpt) if int(ckpt["steps"]) == total and not ckpt.fallback else {}
            if wrong:
                _finish(run_dir, cfg, ckpt, np.asarray(ckpt["curve"], dtype=float), _curve_theta(ckpt))
                for name, why in wrong.items():
                    warn(f"{why}; rewrote {name} from the verified checkpoint {ckpt.path.name}")
                summary.setdefault("repairs", []).append({"at": now(), "files": wrong})
                write_json(run_dir / FILES["summary"], summary)
                return dict(summary, already_complete=True, repaired=sorted(wrong))
            return dict(summary, already_complete=True)
        edits = config_edits(run_dir, cfg, summary)
        if edits and not accept_config_change:
            listed = describe_edits(edits)
            raise RunError(f"{run_dir / FILES['config']} was edited after the run started ({listed}): resuming "
                           "would mix two configurations in one run. Undo the edit, train a new run, or resume "
                           "with --accept-config-change (Python: accept_config_change=True) to record the change")
        if summary["status"] == "diverged":
            d = summary.get("diverged", {})
            raise RunError(f"{run_dir} diverged ({d.get('what', '?')}); resuming would diverge again: "
                           "change the configuration and train a new run")
        steps = int(ckpt["steps"])
        if not 0 <= steps <= total or abs(steps * cfg.circuit.dt - float(ckpt["t"])) > 1e-6 * max(1.0, steps):
            raise RunError(f"{run_dir / FILES['checkpoint']}: t = {float(ckpt['t'])} is not a step count "
                           f"in [0, {total}] steps")
        curve = np.asarray(ckpt["curve"], dtype=float)
        bins = steps // cfg.steps(cfg.run.curve_bin, "run.curve_bin")
        if curve.shape != (cfg.run.replicas, bins):
            raise RunError(f"{run_dir / FILES['checkpoint']}: learning curve has shape {curve.shape}, "
                           f"expected {(cfg.run.replicas, bins)}")
        try:
            model = _trainer(cfg, ckpt)
        except ValueError as exc:
            raise RunError(f"{ckpt.path}: {exc}") from exc
        if ckpt.fallback:
            if (run_dir / FILES["checkpoint"]).exists():
                os.replace(run_dir / FILES["checkpoint"], run_dir / "checkpoint.damaged.npz")
            os.replace(ckpt.path, run_dir / FILES["checkpoint"])
            summary.setdefault("checkpoint_fallbacks", []).append({"at": now(), "reason": ckpt.fallback})
            warn(f"{ckpt.fallback}; the damaged file is kept as checkpoint.damaged.npz")
        if edits:
            text = (run_dir / FILES["config"]).read_text(encoding="utf-8")
            summary.setdefault("config_changes", []).append({"at": now(), "t": float(ckpt["t"]), "changes": edits})
            summary.update(config_record(cfg, text), duration=cfg.run.duration, steps=total)
        summary.pop("failed", None)
        summary.pop("interrupted", None)
        summary.update(status="running", t=float(ckpt["t"]), steps_done=steps,
                       sessions=int(summary.get("sessions", 1)) + 1, updated=now(), versions=versions())
        write_json(run_dir / FILES["summary"], summary)
        return _continue(run_dir, cfg, model, curve, _curve_theta(ckpt), summary, quiet=quiet, stream=stream)


def load(run_dir, target=None, **kwargs):
    """A :class:`PlasticCircuit` continuing from a run's last checkpoint.

    ``target`` chooses the code-generation target (default: the run's);
    other keyword arguments go to :class:`PlasticCircuit` (e.g. ``noise``).
    """
    cfg, summary, ckpt = read_run(run_dir)
    if ckpt.fallback:
        warnings.warn(ckpt.fallback, stacklevel=2)
    if target is not None:
        cfg = cfg.replace(**{"run.target": target})
    return model_from(cfg, ckpt, **kwargs)


def extend(src, dst, duration):
    """Copy run directory ``src`` to ``dst`` with ``run.duration = duration``,
    ready for :func:`resume` to continue it (the change is recorded in the
    summary's ``config_changes``, as ``resume --accept-config-change`` would)."""
    src, dst = Path(src), Path(dst)
    cfg, summary, ckpt = read_run(src)
    with writing(dst, create=True):
        clear_dir(dst)
        _extend_into(src, dst, duration, cfg, summary, ckpt)


def _extend_into(src, dst, duration, cfg, summary, ckpt):
    for key in ("summary", "checkpoint", "curve"):
        if (src / FILES[key]).is_file():
            shutil.copy2(src / FILES[key], dst / FILES[key])
    new = cfg.replace(**{"run.duration": float(duration)})
    text = new.to_toml_string()
    write_text(dst / FILES["config"], text)
    summary.setdefault("config_changes", []).append(
        {"at": now(), "t": float(ckpt["t"]), "changes": {"run.duration": [cfg.run.duration, new.run.duration]}})
    summary.update(config_record(new, text), status="running", duration=new.run.duration,
                   steps=new.steps(new.run.duration, "run.duration"))
    write_json(dst / FILES["summary"], summary)
