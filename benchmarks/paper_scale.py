"""Issue #26's numbers in one run, beside the floor: the step against N, 20
replicas on both cores, and the projected wall time of the paper's figures.

    python benchmarks/paper_scale.py [--rounds 2] [--duration 300] [--test-duration 20] [--json PATH]
                                     [--base DIR] [--pause PID]

1. The step against N (estimation, R = 1, learning on): the floor (``floor.c``)
   and ``cpp_standalone`` alternate, ``--rounds`` times each, every case in a
   fresh process (``speed.py``'s cases: CPU time of the binary, difference of
   two runs); the ratio is median over median.  With ``--base DIR`` (another
   checkout of the library, e.g. ``git worktree``/``git archive`` of main) its
   ``cpp_standalone`` takes its turn in the same alternation: before/after in
   one run.
2. 20 replicas on both cores, as ``brian-effplast figures`` runs them (one
   experiment of R = 20 per worker process, two workers): two processes start
   at once; each runs ``--duration`` time units learning, then the same with
   learning off (the averages stepped), each a project of its own, then the
   test: the authors' protocol's copies of the 20 networks (100 trials each,
   2000 copies, the stimulus held, the dynamics alone) for ``--test-duration``
   time units. Each is timed in a second run after the one that compiles. Reported per replica-step: the binaries' loop time (CPU
   clock, what an otherwise idle machine gives) and the wall time of the run()
   calls; for estimation also one worker's own step per replica beside the
   floor's at N = 40 with 20 replicas (one core). Estimation (N = 40) and
   classification (N = 25) each; with ``--base DIR`` that library's workers
   too, after this one's. ``--pause PID`` stops a background job's process
   tree meanwhile.
3. The projection of ``brian-effplast figures`` at its defaults (20 replicas,
   10 experiments: 8 at N = 40, 2 at N = 25; 260000 time units of training) with
   the authors' test protocol at each of its 3 stages (100 trials of 1000 time
   units, the dynamics alone) for each network: replica-steps times the cost per
   replica-step on both cores (item 2), plus the compilations (item 2's first
   run, ``COMPILES_PER_EXPERIMENT`` per experiment, shared by the workers); and
   the floor's own time for the training replica-steps (the floor at 20
   replicas, one core per worker).

Results go to ``benchmarks/paper_scale.json`` (or ``--json PATH``).
"""
import argparse
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, HERE)
import speed  # noqa: E402  (this folder's benchmark: its cases, timers and wrapper)

NS = (40, 100, 400)
SIZES = {40: (200.0, 2000.0), 100: (100.0, 1000.0), 400: (20.0, 200.0)}  # short, long run (time units)
FLOOR_STEPS = {40: 300_000, 100: 100_000, 400: 20_000}
#: brian-effplast figures at its defaults (brian_effplast.paper.experiments.DEFAULTS, EXPERIMENTS)
FIGURES = dict(replicas=20, duration=260000.0, experiments={"estimation": 8, "classification": 2},
               stages=3, test_trials=100, test_trial=1000.0, workers=2)
#: standalone structures compiled per experiment (training, the resumed final stage, the tests)
COMPILES_PER_EXPERIMENT = 4
DT = speed.DT
#: (name, learning, averages) of the timed runs: training, learning off, the test protocols' copies
KINDS = (("train", True, True), ("off", False, True), ("test", False, False))
#: the copies per network of the authors' test (``test.trials``), run side by side
TEST_COPIES = FIGURES["test_trials"]


def _env(lib):
    env = dict(os.environ, **speed.SINGLE_THREAD_ENV)
    env["PYTHONPATH"] = lib + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    return env


def _case(spec, lib, timeout):
    """One of speed.py's cases, in a fresh process importing the library at ``lib``."""
    cache = tempfile.mkdtemp(prefix="effplast_scale_cache_")
    if spec["impl"] == "cpp_standalone":
        spec = dict(spec, phase="main", cache=cache, sequence=[("new", 0), ("new", 1)])
    try:
        proc = subprocess.run([sys.executable, os.path.join(HERE, "speed.py"), "--case", json.dumps(spec)],
                              capture_output=True, text=True, env=_env(lib), timeout=timeout, cwd=ROOT)
    finally:
        shutil.rmtree(cache, ignore_errors=True)
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("{")]
    if proc.returncode or not lines:
        raise RuntimeError(f"{spec['impl']} N={spec['N']} failed:\n" + (proc.stderr or proc.stdout)[-2000:])
    return json.loads(lines[-1])["us_cpu"]


def step_against_n(rounds, libs, timeout):
    out = []
    for N in NS:
        times = {"floor": []} | {name: [] for name in libs}
        for k in range(rounds):
            times["floor"].append(_case(dict(impl="floor", task="estimation", N=N, R=1, size=FLOOR_STEPS[N]),
                                        ROOT, timeout))
            for name, lib in libs.items():
                times[name].append(_case(dict(impl="cpp_standalone", task="estimation", N=N, R=1,
                                              size=SIZES[N]), lib, timeout))
        floor = statistics.median(times["floor"])
        row = {"N": N, "us_per_step": times, "floor_us": floor,
               "ratio_to_floor": {name: statistics.median(times[name]) / floor for name in libs}}
        out.append(row)
        print(f"  N = {N:3d}: floor {floor:8.2f} us/step; " + "; ".join(
            f"{name} {statistics.median(times[name]):8.2f} us/step = {row['ratio_to_floor'][name]:.2f} x floor"
            for name in libs) + f"   (CPU, median of {rounds})", flush=True)
    return out


def worker(spec):
    """One figures-like worker: R replicas of ``task``, learning on and off, then the authors' test's
    copies of them (each a project of its own): compile in a first run, then time a second."""
    import brian2
    import numpy as np
    brian2.BrianLogger.log_level_warn()
    from brian_effplast import Config, PlasticCircuit
    from brian_effplast.circuit.state import reset_trial
    cfg = Config.default(spec["task"]).replace(**{"run.transient": 0.0})
    R, d, res = spec["R"], spec["duration"], {}
    model = PlasticCircuit(cfg, seed=1, target="cpp_standalone", replicas=R)
    for kind, plastic, averages in KINDS:
        if kind == "test":  # as runs.protocol.authors_test makes them: T copies per network, each an angle
            state = {k: np.repeat(np.asarray(v), TEST_COPIES, axis=0) for k, v in model.state.items()}
            reset_trial(state, cfg.circuit.r_init)
            state["theta"] = np.random.default_rng(0).uniform(-np.pi, np.pi, R * TEST_COPIES)
            model = PlasticCircuit(cfg.replace(**{"stimulus.sigma_s": 0.0, "run.replicas": R * TEST_COPIES}),
                                   state=state, seed=1, target="cpp_standalone")
            d = spec["test_duration"]
        t0 = time.perf_counter()
        model.run(d, plastic=plastic, averages=averages)  # compiles (outside the timing below)
        first = time.perf_counter() - t0
        t0 = time.perf_counter()
        out = model.run(d, plastic=plastic, averages=averages)
        res[kind] = {"wall": time.perf_counter() - t0, "loop": out["loop_seconds"], "first_run_wall": first}
    return res


def _tree(pid):
    """``pid`` and its descendants (from /proc), parents first."""
    children = {}
    for stat in os.listdir("/proc"):
        if stat.isdigit():
            try:
                with open(f"/proc/{stat}/stat") as f:
                    ppid = int(f.read().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(ppid, []).append(int(stat))
    out, todo = [], [pid]
    while todo:
        p = todo.pop(0)
        out.append(p)
        todo += children.get(p, [])
    return out


class paused:
    """Stop the process tree of ``pid`` (a background job) while timing; continue it on exit,
    whatever happens, and after ``limit`` seconds at the latest (a timer thread)."""

    def __init__(self, pid, limit=540.0):
        self.pid, self.limit, self.pids = pid, limit, []

    def _signal(self, sig, pids):
        for p in pids:
            try:
                os.kill(p, sig)
            except ProcessLookupError:
                pass

    def __enter__(self):
        import threading
        if self.pid:
            self.pids = _tree(self.pid)
            self._signal(signal.SIGSTOP, self.pids)
            self.timer = threading.Timer(self.limit, self._signal, (signal.SIGCONT, self.pids[::-1]))
            self.timer.daemon = True
            self.timer.start()
        return self

    def __exit__(self, *exc):
        if self.pids:
            self.timer.cancel()
            self._signal(signal.SIGCONT, self.pids[::-1])


def both_cores(task, R, duration, test_duration, lib, timeout, workers=2):
    spec = json.dumps(dict(task=task, R=R, duration=duration, test_duration=test_duration))
    cache = tempfile.mkdtemp(prefix="effplast_scale_cache_")
    env = dict(_env(lib), BRIAN_EFFPLAST_CACHE=cache)
    try:
        procs = [subprocess.Popen([sys.executable, __file__, "--worker", spec], stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE, text=True, env=env, cwd=ROOT) for _ in range(workers)]
        results = []
        for p in procs:
            stdout, stderr = p.communicate(timeout=timeout)
            lines = [ln for ln in stdout.splitlines() if ln.startswith("{")]
            if p.returncode or not lines:
                raise RuntimeError(f"worker {task} failed:\n{stderr[-2000:]}")
            results.append(json.loads(lines[-1]))
    finally:
        shutil.rmtree(cache, ignore_errors=True)
    out = {"task": task, "R": R, "workers": workers, "duration": duration, "test_duration": test_duration,
           "test_copies": TEST_COPIES, "workers_raw": results}
    for kind, _, _ in KINDS:
        # done by both cores together
        replica_steps = workers * R * (TEST_COPIES * round(test_duration / DT) if kind == "test"
                                       else round(duration / DT))
        out[f"{kind}_compile_wall"] = statistics.mean(r[kind]["first_run_wall"] - r[kind]["wall"] for r in results)
        # the workers run side by side: both cores' time is the slower one's
        out[f"{kind}_us_cpu"] = 1e6 * max(r[kind]["loop"] for r in results) / replica_steps
        out[f"{kind}_us_wall"] = 1e6 * max(r[kind]["wall"] for r in results) / replica_steps
        # one worker's own step, per replica (comparable with the floor's, one core)
        out[f"{kind}_us_cpu_one"] = out[f"{kind}_us_cpu"] * workers
    out["compile_wall"] = statistics.mean(out[f"{kind}_compile_wall"] for kind, _, _ in KINDS)  # one project
    return out


def projection(cores, floor):
    """Seconds of ``brian-effplast figures`` at its defaults, from the per-replica-step costs on both
    cores; and the floor's own seconds for its training (``floor``: us per replica-step, one core)."""
    f = FIGURES
    train_steps = round(f["duration"] / DT)
    test_steps = f["stages"] * f["test_trials"] * round(f["test_trial"] / DT)
    out = {"train_replica_steps": 0, "test_replica_steps": 0}
    for which in ("cpu", "wall"):
        parts = {"train": 0.0, "test": 0.0, "compile": 0.0}
        for task, n in f["experiments"].items():
            c = cores[task]
            parts["train"] += n * f["replicas"] * 1e-6 * train_steps * c[f"train_us_{which}"]
            parts["test"] += n * f["replicas"] * 1e-6 * test_steps * c[f"test_us_{which}"]
            parts["compile"] += n * COMPILES_PER_EXPERIMENT * c["compile_wall"] / f["workers"]
        out[f"seconds_{which}"] = sum(parts.values())
        out.update({f"{part}_seconds_{which}": v for part, v in parts.items()})
    for task, n in f["experiments"].items():
        out["train_replica_steps"] += n * f["replicas"] * train_steps
        out["test_replica_steps"] += n * f["replicas"] * test_steps
    # (the floor is an estimation step at N = 40: the 2 classification experiments, N = 25, cost less)
    out["floor_train_seconds"] = out["train_replica_steps"] * floor * 1e-6 / f["workers"]
    return out


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rounds", type=int, default=2, help="alternations of floor and library per N")
    ap.add_argument("--duration", type=float, default=300.0, help="time units per timed run, 20 replicas")
    ap.add_argument("--test-duration", type=float, default=20.0,
                    help="time units per timed run of the test's 2000 copies")
    ap.add_argument("--base", help="another checkout of the library, timed beside this one (items 1 and 2)")
    ap.add_argument("--skip-n", action="store_true", help="leave out item 1")
    ap.add_argument("--json", default=os.path.join(HERE, "paper_scale.json"))
    ap.add_argument("--timeout", type=float, default=1800.0)
    ap.add_argument("--pause", type=int, metavar="PID",
                    help="stop this process and its descendants (a background job) during item 2, "
                         "one task at a time (at most 9 minutes each), and continue them after")
    args = ap.parse_args(argv)
    t_start = time.perf_counter()
    meta = speed._meta(False)
    print(f"paper_scale, {meta['date']}: {meta.get('cpu_model', '?')}, {meta['cpu_count']} cores; "
          f"git {meta.get('git_commit', '?')[:7]}", flush=True)
    libs = {"this": ROOT} | ({"base": os.path.abspath(args.base)} if args.base else {})
    result = {"meta": meta, "libs": libs}
    if not args.skip_n:
        print("1. step against N, estimation, R = 1, learning on (us/step, CPU):", flush=True)
        result["step_against_n"] = step_against_n(args.rounds, libs, args.timeout)
    print(f"2. {FIGURES['replicas']} replicas per process, {FIGURES['workers']} processes at once "
          f"({args.duration:g} time units each; the test's {FIGURES['replicas'] * TEST_COPIES} copies "
          f"{args.test_duration:g}; us per replica-step on both cores):", flush=True)
    R = FIGURES["replicas"]
    floor = _case(dict(impl="floor", task="estimation", N=40, R=R, size=20_000), ROOT, args.timeout) / R
    result["floor_R20_us_per_replica_step"] = floor
    print(f"  floor, estimation N = 40, {R} replicas, one core: {floor:.3f} us per replica-step (CPU)", flush=True)
    for name, lib in libs.items():
        cores = {}
        for task in FIGURES["experiments"]:
            with paused(args.pause):
                c = cores[task] = both_cores(task, R, args.duration, args.test_duration, lib, args.timeout)
            print(f"  {name}, {task:14s} learning {c['train_us_cpu']:.3f} (CPU) / {c['train_us_wall']:.3f} (wall); "
                  f"learning off {c['off_us_cpu']:.3f} / {c['off_us_wall']:.3f}; "
                  f"test ({TEST_COPIES} copies per network) {c['test_us_cpu']:.3f} / {c['test_us_wall']:.3f}; "
                  "compilation " + " + ".join(f"{c[f'{kind}_compile_wall']:.1f}" for kind, _, _ in KINDS) + " s",
                  flush=True)
            if task == "estimation":
                print(f"  {'':20s} one worker's step per replica (CPU): " + ", ".join(
                    f"{kind} {c[f'{kind}_us_cpu_one']:.3f} us = {c[f'{kind}_us_cpu_one'] / floor:.2f} x floor"
                    for kind, _, _ in KINDS), flush=True)
        result["both_cores" if name == "this" else f"both_cores_{name}"] = cores
        p = result["projection" if name == "this" else f"projection_{name}"] = projection(cores, floor)
        print(f"3. ({name}) brian-effplast figures at its defaults, tests included: {p['train_replica_steps']:.3g} "
              f"training + {p['test_replica_steps']:.3g} test replica-steps: {p['seconds_cpu'] / 3600:.2f} h "
              f"(CPU-clock costs: an otherwise idle machine; {p['train_seconds_cpu'] / 3600:.2f} h training, "
              f"{p['test_seconds_cpu'] / 3600:.2f} h tests), {p['seconds_wall'] / 3600:.2f} h at this run's wall "
              f"times; the floor's own training alone: {p['floor_train_seconds'] / 3600:.2f} h", flush=True)
    meta["total_seconds"] = time.perf_counter() - t_start
    with open(args.json, "w") as fh:
        json.dump(result, fh, indent=1)
    print(f"total {meta['total_seconds']:.0f} s; written to {os.path.relpath(args.json)}")
    return 0


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--worker":
        print(json.dumps(worker(json.loads(sys.argv[2]))))
        sys.exit(0)
    sys.exit(main())
