"""Speed benchmark: microseconds per time step and peak memory of every
implementation of the model, in one run.

    python benchmarks/speed.py [--quick] [--json PATH] [--only TEXT]

Implementations (each timed with learning on, noise generation included
unless stated):

- ``floor``         hand-written C loop (benchmarks/floor.py, floor.c)
- ``numpy_loop``    the straightforward NumPy loop (benchmarks/numpy_loop.py)
- ``oracle``        the NumPy oracle of the tests (tests/oracle.py; its
                    normals are drawn before the timed loop)
- ``numpy``, ``cython``, ``cpp_standalone``: brian_effplast.PlasticCircuit on
                    that Brian2 target.

Every (implementation, task, N, R) case runs in a fresh Python subprocess so
that peak resident memory (``resource.getrusage``) is per case.  All numeric
libraries are limited to one thread (OMP/OPENBLAS/MKL_NUM_THREADS=1) and
Brian2's standalone OpenMP is off (its default), so every implementation is
single-threaded.  For ``cython`` the parent first runs a pre-warm subprocess
that fills Brian2's Cython cache, so that compilation sets neither the
timings nor the peak memory.

Brian2 targets: per-step cost from the difference of two run() durations, so
that the fixed cost of a run() call (code-object setup for the runtime
targets; code generation + compilation + binary start for cpp_standalone) is
excluded and reported on its own lines.  For cpp_standalone the binary is
started through this script (``--wrap``, via the Brian2 preference
``devices.cpp_standalone.run_cmd_unix``), which records the binary's own wall
and CPU time and peak memory; the headline per-step figure is the difference
of the binary's times (compilation time varies by seconds from build to build
and would swamp the difference of the whole compile+run times, which is
reported alongside).  The model caches compiled projects by structure
(``BRIAN_EFFPLAST_CACHE``, pointed at a fresh temporary folder here); the
fixed cost per run() is reported for a structure compiled from scratch, the
same structure again in the same process, a structure compiled by an earlier
process, and (first cpp_standalone case of a full run) a return to an earlier
structure in the same process.

Times are wall clock and process CPU time; the ratio to the floor uses CPU
time (robust to other load on the machine; equal to wall time on an idle
machine).  Results go to benchmarks/results.json (or --json PATH).

This file imports only the standard library at top level: ``--wrap`` runs in
``python -I -S``.
"""
import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
DT = 0.01  # time units per step (Config.default)
IMPLS = ("floor", "numpy_loop", "oracle", "numpy", "cython", "cpp_standalone")
BRIAN_RUNTIME = ("numpy", "cython")
SINGLE_THREAD_ENV = {k: "1" for k in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS",
                                      "NUMEXPR_NUM_THREADS", "VECLIB_MAXIMUM_THREADS")}

# ---------------------------------------------------------------- cases --
# Sizes: steps (floor, numpy_loop, oracle) or (short, long) run() durations in
# time units (Brian2 targets).  Chosen so that the timed part (the long-minus-
# short difference for Brian2) is >= ~0.5-1 s on a 2-core machine, and the
# full run stays < 15 min.
GROUPS = [  # (task, N, R, {impl: size})
    ("estimation", 40, 1, {"floor": 300_000, "numpy_loop": 10_000, "oracle": 3_000,
                           "numpy": (1.0, 25.0), "cython": (1.0, 200.0),
                           "cpp_standalone": (200.0, 2000.0)}),
    ("classification", 25, 1, {"floor": 400_000, "numpy_loop": 10_000, "oracle": 3_000,
                                "numpy": (1.0, 25.0), "cython": (1.0, 200.0),
                                "cpp_standalone": (200.0, 2000.0)}),
    ("estimation", 40, 20, {"floor": 20_000, "numpy_loop": 3_000, "oracle": 200,
                            "numpy": (1.0, 10.0), "cython": (1.0, 30.0),
                            "cpp_standalone": (20.0, 200.0)}),
    ("estimation", 100, 1, {"floor": 100_000, "numpy_loop": 6_000, "oracle": 2_000,
                            "numpy": (1.0, 15.0), "cython": (1.0, 100.0),
                            "cpp_standalone": (100.0, 1000.0)}),
    ("estimation", 400, 1, {"floor": 20_000, "cpp_standalone": (20.0, 200.0)}),
]
QUICK_GROUPS = [
    ("estimation", 40, 1, {"floor": 200_000, "numpy_loop": 5_000, "oracle": 1_000,
                           "numpy": (1.0, 10.0), "cython": (1.0, 60.0),
                           "cpp_standalone": (20.0, 500.0)}),
]


def _steps(duration):
    return int(round(duration / DT))


# ------------------------------------------------- measurement helpers --

def _rss_now_mb(field="VmRSS:"):
    """Current (or, with field="VmHWM:", peak) resident set of this process
    in MB, from /proc (Linux; nan elsewhere)."""
    try:
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith(field):
                    return int(line.split()[1]) / 1024.0
    except OSError:
        pass
    return float("nan")


def _maxrss_mb(who):
    kb = resource.getrusage(who).ru_maxrss
    mb = kb / (1024.0 * 1024.0) if sys.platform == "darwin" else kb / 1024.0
    if who == resource.RUSAGE_SELF:  # the kernel's counter can lag VmRSS slightly
        mb = max(mb, _rss_now_mb(), _rss_now_mb("VmHWM:"))
    return mb


def _cpu_children():
    ru = resource.getrusage(resource.RUSAGE_CHILDREN)
    return ru.ru_utime + ru.ru_stime


class _Timer:
    """Wall clock and CPU time (this process, plus its waited-for children)."""

    def __enter__(self):
        self.w0, self.c0, self.k0 = time.perf_counter(), time.process_time(), _cpu_children()
        return self

    def __exit__(self, *exc):
        self.wall = time.perf_counter() - self.w0
        self.cpu = time.process_time() - self.c0 + _cpu_children() - self.k0
        return False


# ------------------------------------------------------ one case (child) --

def _case_loops(impl, task, N, R, steps):
    sys.path.insert(0, HERE)
    if impl == "floor":
        from floor import compile_flags, floor_us_per_step as run
        run(task, N, R, 100)  # compile (cached in benchmarks/.build) and load: excluded
        extra = {"compile_flags": " ".join(compile_flags())}
    else:
        from numpy_loop import numpy_us_per_step as run
        run(task, N, R, 10)
        extra = {}
    rss_base = _rss_now_mb()
    with _Timer() as t:
        us = run(task, N, R, steps)
    # the loop's own timer (wall) excludes initialisation; CPU time is of the call
    return dict(steps=steps, us_wall=us, us_cpu=1e6 * t.cpu / steps, seconds=us * steps / 1e6,
                rss_base_mb=rss_base, **extra)


def _model(task, N, R, target):
    from brian_effplast import Config, PlasticCircuit
    # learning on from the first step (the floor and the loops always learn)
    cfg = Config.default(task).replace(**{"circuit.N": N, "run.transient": 0.0})
    return PlasticCircuit(cfg, seed=1, target=target, replicas=R)


def _case_oracle(task, N, R, steps):
    import numpy as np
    sys.path.insert(0, os.path.join(ROOT, "tests"))
    import oracle
    from conftest import oracle_inputs
    params, state = oracle_inputs(_model(task, N, R, "numpy"))
    rng = np.random.default_rng(0)
    z_s, z = rng.standard_normal((steps, R)), rng.standard_normal((steps, R * N))
    oracle.simulate(params, state, z_s, z, 5, record=False)
    rss_base = _rss_now_mb()
    with _Timer() as t:
        oracle.simulate(params, state, z_s, z, steps, record=False)
    return dict(steps=steps, us_wall=1e6 * t.wall / steps, us_cpu=1e6 * t.cpu / steps,
                seconds=t.wall, rss_base_mb=rss_base, noise="drawn before the timed loop")


def _quiet_brian():
    import brian2
    brian2.prefs.reset_to_defaults()
    brian2.BrianLogger.log_level_warn()
    return brian2


def _case_runtime(impl, task, N, R, durations):
    _quiet_brian()
    m = _model(task, N, R, impl)
    with _Timer() as t0:
        m.run(1.0)  # warm-up: code generation (Cython: cache load, compiled by the parent's pre-warm)
    rss_base = _rss_now_mb()
    runs = []
    for d in durations:
        with _Timer() as t:
            m.run(d)
        runs.append(dict(duration=d, steps=_steps(d), wall=t.wall, cpu=t.cpu))
    (s, l) = runs
    dn = l["steps"] - s["steps"]
    us_wall = 1e6 * (l["wall"] - s["wall"]) / dn
    us_cpu = 1e6 * (l["cpu"] - s["cpu"]) / dn
    return dict(steps=dn, us_wall=us_wall, us_cpu=us_cpu, seconds=l["wall"] - s["wall"],
                rss_base_mb=rss_base, runs=runs, warmup_wall=t0.wall,
                run_overhead_wall=s["wall"] - s["steps"] * us_wall / 1e6,
                run_overhead_cpu=s["cpu"] - s["steps"] * us_cpu / 1e6,
                us_wall_naive=1e6 * l["wall"] / l["steps"])


def _case_standalone(task, N, R, durations, phase, cache, sequence):
    """cpp_standalone in one process; the project cache is ``cache`` (not the
    user's).  ``sequence``: [(kind, duration index)] of the run() calls.

    phase "main" (empty cache): run(short) and run(long), each a new
    structure compiled from scratch, with run(short) repeated in between (same
    project: no compilation).  Per-step cost from these.
    phase "cached" (a fresh process, same cache): the same structures again,
    in the same order, so the projects on disk are reused; optionally
    run(short) once more after run(long) (back to an earlier structure in the
    same process)."""
    brian2 = _quiet_brian()
    os.environ["BRIAN_EFFPLAST_CACHE"] = cache
    log = os.path.join(cache, f"binary_runs_{os.getpid()}.jsonl")
    brian2.prefs.devices.cpp_standalone.run_cmd_unix = [
        sys.executable, "-I", "-S", os.path.abspath(__file__), "--wrap", log, "./main"]
    m = _model(task, N, R, "cpp_standalone")
    rss_base = _rss_now_mb()
    runs = []
    for kind, i in sequence:
        d = durations[i]
        with _Timer() as t:
            m.run(d)
        runs.append(dict(kind=kind, duration=d, steps=_steps(d), wall=t.wall, cpu=t.cpu))
    with open(log) as fh:
        binaries = [json.loads(line) for line in fh]
    os.remove(log)
    if len(binaries) != len(runs):
        raise RuntimeError(f"expected {len(runs)} binary runs, the wrapper logged {len(binaries)}")
    for run, b in zip(runs, binaries):
        run["binary"] = b
    out = dict(rss_base_mb=rss_base, runs=runs,
               binary_peak_rss_mb=max(r["binary"]["maxrss_mb"] for r in runs))
    if phase == "main":
        s, l = [r for r in runs if r["kind"] == "new"]
        dn = l["steps"] - s["steps"]
        net = [r["binary"].get("net_run_time") for r in (s, l)]
        out.update(steps=dn, us_wall=1e6 * (l["binary"]["wall"] - s["binary"]["wall"]) / dn,
                   us_cpu=1e6 * (l["binary"]["cpu"] - s["binary"]["cpu"]) / dn,
                   seconds=l["binary"]["wall"] - s["binary"]["wall"],
                   us_wall_total_diff=1e6 * (l["wall"] - s["wall"]) / dn,
                   us_cpu_total_diff=1e6 * (l["cpu"] - s["cpu"]) / dn,
                   us_wall_in_binary=(1e6 * (net[1] - net[0]) / dn if None not in net else None))
    return out


def standalone_overheads(res):
    """Fixed cost of one run() by kind of run (everything but the per-step
    work at the measured us/step); adds ``{kind}_{what}`` to ``res``."""
    us_wall, us_cpu = res["us_wall"], res["us_cpu"]
    runs = res["runs"] + res.get("cached_process", {}).get("runs", [])
    for r in runs:
        r["overhead_wall"] = r["wall"] - r["steps"] * us_wall / 1e6
        r["overhead_cpu"] = r["cpu"] - r["steps"] * us_cpu / 1e6
        r["outside_binary_wall"] = r["wall"] - r["binary"]["wall"]  # code generation, compilation, I/O
        r["binary_startup_wall"] = r["binary"]["wall"] - r["steps"] * us_wall / 1e6
    for kind in STANDALONE_KINDS:
        rs = [r for r in runs if r["kind"] == kind]
        for k in ("overhead_wall", "overhead_cpu", "outside_binary_wall", "binary_startup_wall"):
            res[f"{kind}_{k}"] = sum(r[k] for r in rs) / len(rs) if rs else None


STANDALONE_KINDS = {
    "new": "new structure, compiled from scratch",
    "repeat": "same structure again, same process",
    "disk": "structure compiled by an earlier process",
    "return": "back to an earlier structure, same process",
}


def _case_profile(target, task, N, R, duration):
    """Brian2's profile of one run: [(code object, us per step)], largest first."""
    _quiet_brian()
    import tempfile
    os.environ["BRIAN_EFFPLAST_CACHE"] = tempfile.mkdtemp(prefix="effplast_profile_cache_")
    m = _model(task, N, R, target)
    m.run(1.0)
    out = m.run(duration, profile=True)
    steps = _steps(duration)
    objects = sorted(((name, 1e6 * sec / steps) for name, sec in out["profile"]), key=lambda x: -x[1])
    return dict(target=target, task=task, N=N, R=R, duration=duration, objects=objects,
                loop_us=1e6 * out["loop_seconds"] / steps)


PROFILES = [("cython", 50.0), ("cpp_standalone", 500.0)]  # (target, duration), estimation N=40 R=1


def _print_profile(p):
    if "error" in p:
        print(f"\nprofile {p.get('target')}: FAILED: {p['error'].splitlines()[-1][:90]}")
        return
    print(f"\nwhere the time goes: {p['target']}, {p['task']} N={p['N']} R={p['R']}, us/step per code object "
          f"(profiling adds its own timer cost to each; whole profiled loop {p['loop_us']:.2f} us/step)")
    for name, us in p["objects"]:
        if us >= 0.005:
            print(f"  {name:52s}{us:8.2f}")


def run_case(spec):
    if spec["impl"] == "profile":
        return _case_profile(spec["target"], "estimation", 40, 1, spec["duration"])
    impl, task, N, R, size = spec["impl"], spec["task"], spec["N"], spec["R"], spec["size"]
    if spec.get("prewarm"):  # fill Brian2's Cython cache, in a process of its own
        _quiet_brian()
        m = _model(task, N, R, impl)
        with _Timer() as t:
            # as many run() calls as the measurement: each one adds monitors with
            # new names, hence new code to compile the first time ever
            for _ in range(1 + len(size)):
                m.run(1.0)
        return dict(prewarm_wall=t.wall)
    load0 = os.getloadavg()[0]
    if impl in ("floor", "numpy_loop"):
        res = _case_loops(impl, task, N, R, size)
    elif impl == "oracle":
        res = _case_oracle(task, N, R, size)
    elif impl in BRIAN_RUNTIME:
        res = _case_runtime(impl, task, N, R, size)
    elif impl == "cpp_standalone":
        res = _case_standalone(task, N, R, size, spec["phase"], spec["cache"], spec["sequence"])
    else:
        raise ValueError(f"unknown implementation {impl!r}")
    res.update(peak_rss_mb=_maxrss_mb(resource.RUSAGE_SELF),
               children_peak_rss_mb=_maxrss_mb(resource.RUSAGE_CHILDREN),
               loadavg=[load0, os.getloadavg()[0]])
    return res


# ----------------------------------------------- binary wrapper (--wrap) --

def wrap(log, cmd):
    """Run the standalone binary ``cmd``; append its wall/CPU time, peak RSS
    and Brian2's in-binary network run time to ``log`` (one JSON line)."""
    t0 = time.perf_counter()
    rc = subprocess.call(cmd)
    wall = time.perf_counter() - t0
    ru = resource.getrusage(resource.RUSAGE_CHILDREN)
    rec = dict(rc=rc, wall=wall, cpu=ru.ru_utime + ru.ru_stime, maxrss_mb=ru.ru_maxrss / 1024.0)
    if "--results_dir" in cmd:
        info = os.path.join(cmd[cmd.index("--results_dir") + 1], "last_run_info.txt")
        try:
            with open(info) as fh:
                rec["net_run_time"] = float(fh.read().split()[0])
        except (OSError, ValueError, IndexError):
            pass
    with open(log, "a") as fh:
        fh.write(json.dumps(rec) + "\n")
    return rc


# ------------------------------------------------------------- parent --

def _specs(groups, only):
    for task, N, R, sizes in groups:
        for impl in IMPLS:
            if impl in sizes:
                spec = dict(impl=impl, task=task, N=N, R=R, size=sizes[impl])
                if not only or any(o in _label(spec) for o in only):
                    yield spec


def _label(spec):
    return f"{spec['impl']} {spec['task']} N={spec['N']} R={spec['R']}"


def _child(spec, env, timeout):
    proc = subprocess.run([sys.executable, os.path.abspath(__file__), "--case", json.dumps(spec)],
                          capture_output=True, text=True, env=env, timeout=timeout, cwd=ROOT)
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("{")]
    if proc.returncode != 0 or not lines:
        tail = "\n".join((proc.stderr or proc.stdout).strip().splitlines()[-15:])
        return dict(error=f"exit {proc.returncode}: {tail}")
    return json.loads(lines[-1])


def _spawn(spec, timeout, return_check=False):
    env = dict(os.environ, **SINGLE_THREAD_ENV)
    t0 = time.perf_counter()
    if spec["impl"] == "cython":
        # Cython compilation (on a cold cache) would otherwise set the peak memory
        _child(dict(spec, prewarm=True), env, timeout)
    if spec["impl"] != "cpp_standalone":
        res = _child(spec, env, timeout)
        return dict(spec, **res, case_seconds=time.perf_counter() - t0)
    import shutil
    import tempfile
    cache = tempfile.mkdtemp(prefix="effplast_speed_cache_")
    try:
        res = _child(dict(spec, phase="main", cache=cache,
                          sequence=[("new", 0), ("repeat", 0), ("new", 1)]), env, timeout)
        if "error" not in res:
            seq = [("disk", 0), ("disk", 1)] + ([("return", 0)] if return_check else [])
            res["cached_process"] = _child(dict(spec, phase="cached", cache=cache, sequence=seq), env, timeout)
            if "error" in res["cached_process"]:
                res["error"] = "second process: " + res["cached_process"]["error"]
            else:
                standalone_overheads(res)
    finally:
        shutil.rmtree(cache, ignore_errors=True)
    return dict(spec, **res, case_seconds=time.perf_counter() - t0)


NAMES = {"floor": "floor (C loop)", "numpy_loop": "NumPy loop", "oracle": "oracle (tests)",
         "numpy": "brian numpy", "cython": "brian cython", "cpp_standalone": "brian cpp_standalone"}
HEADER = (f"  {'implementation':22s}{'steps':>9s}{'us/step':>11s}{'us/step':>11s}"
          f"{'us/replica':>12s}{'x floor':>9s}{'peak RSS':>10s}{'base RSS':>10s}\n"
          f"  {'':22s}{'timed':>9s}{'wall':>11s}{'CPU':>11s}{'-step CPU':>12s}{'(CPU)':>9s}"
          f"{'MB':>10s}{'MB':>10s}")


def _fmt_us(x):
    return f"{x:11.1f}" if x >= 100 else f"{x:11.2f}" if x >= 10 else f"{x:11.3f}"


def format_row(r, floor_cpu):
    name = NAMES[r["impl"]]
    if "error" in r:
        return f"  {name:22s}  FAILED: {r['error'].splitlines()[-1][:90]}"
    ratio = f"{r['us_cpu'] / floor_cpu:9.1f}" if floor_cpu else f"{'-':>9s}"
    line = (f"  {name:22s}{r['steps']:9d}{_fmt_us(r['us_wall'])}{_fmt_us(r['us_cpu'])}"
            f"{_fmt_us(r['us_cpu'] / r['R'])[1:]:>12s}{ratio}{r['peak_rss_mb']:10.0f}{r['rss_base_mb']:10.0f}")
    notes = []
    if r["impl"] in BRIAN_RUNTIME:
        notes.append(f"per run() overhead {r['run_overhead_wall']:.2f} s wall / {r['run_overhead_cpu']:.2f} s CPU"
                     f" (warm-up incl. code generation {r['warmup_wall']:.1f} s); a single "
                     f"{r['runs'][1]['duration']:g}-unit run() costs {r['us_wall_naive']:.1f} us/step wall")
    elif r["impl"] == "cpp_standalone":
        ib = r["us_wall_in_binary"]
        for kind, what in STANDALONE_KINDS.items():
            if r.get(kind + "_overhead_wall") is not None:
                notes.append(f"overhead per run(), {what}: {r[kind + '_overhead_wall']:.2f} s wall / "
                             f"{r[kind + '_overhead_cpu']:.2f} s CPU (outside the binary "
                             f"{r[kind + '_outside_binary_wall']:.2f} s, binary start/IO "
                             f"{r[kind + '_binary_startup_wall']:.2f} s)")
        notes.append(f"per step from the whole compile+run times ({r['runs'][0]['duration']:g} vs "
                     f"{r['runs'][-1]['duration']:g} units): {r['us_wall_total_diff']:.2f} us wall / "
                     f"{r['us_cpu_total_diff']:.2f} us CPU; Brian's in-binary network timer: "
                     + (f"{ib:.2f} us" if ib is not None else "n/a")
                     + f"; peak RSS: binary {r['binary_peak_rss_mb']:.0f} MB, "
                     f"compiler {r['children_peak_rss_mb']:.0f} MB")
    elif r["impl"] == "oracle":
        notes.append("normals drawn before the timed loop")
    if r["us_wall"] > 1.15 * r["us_cpu"]:
        notes.append(f"wall time {r['us_wall'] / r['us_cpu']:.2f} x CPU time: the machine was busy "
                     f"(load average {r['loadavg'][0]:.1f} -> {r['loadavg'][1]:.1f}); use the CPU column")
    return "\n".join([line] + [f"  {'':22s}  {n}" for n in notes])


def _library_digest():
    """Hash of the library's source files (to detect edits during a run)."""
    import hashlib
    h = hashlib.sha256()
    lib = os.path.join(ROOT, "brian_effplast")
    for name in sorted(os.listdir(lib)) if os.path.isdir(lib) else []:
        if name.endswith(".py"):
            with open(os.path.join(lib, name), "rb") as fh:
                h.update(name.encode() + fh.read())
    return h.hexdigest()[:16]


def _meta(quick):
    meta = dict(date=time.strftime("%Y-%m-%d %H:%M:%S %z"), quick=quick, host=platform.node(),
                platform=platform.platform(), processor=platform.processor(), cpu_count=os.cpu_count(),
                python=platform.python_version(), dt=DT,
                threads="single (OMP/OPENBLAS/MKL_NUM_THREADS=1; no OpenMP in standalone)")
    try:  # read-only: which library version was measured
        git = lambda *a: subprocess.run(["git", *a], capture_output=True, text=True, cwd=ROOT,
                                        timeout=30).stdout.strip()
        meta["git_commit"] = git("rev-parse", "HEAD")
        meta["git_modified"] = git("status", "--porcelain", "--untracked-files=no").splitlines()
    except Exception:
        pass
    try:
        with open("/proc/cpuinfo") as fh:
            meta["cpu_model"] = next(ln.split(":", 1)[1].strip() for ln in fh if ln.startswith("model name"))
    except (OSError, StopIteration):
        pass
    try:
        out = subprocess.run([sys.executable, "-c", "import brian2, numpy; print(brian2.__version__, "
                              "numpy.__version__); print(' '.join(brian2.prefs.codegen.cpp."
                              "extra_compile_args_gcc))"], capture_output=True, text=True, timeout=120)
        versions, flags = out.stdout.strip().splitlines()[:2]
        meta["brian2"], meta["numpy"] = versions.split()
        meta["brian2_compile_args"] = flags
    except Exception:  # informational only
        pass
    return meta


def _print_intro(meta):
    print(f"brian-effplast speed benchmark{' (--quick)' if meta['quick'] else ''}, {meta['date']}: "
          f"{meta.get('cpu_model', meta['processor'])}, {meta['cpu_count']} cores, "
          f"Python {meta['python']}, Brian2 {meta.get('brian2', '?')}, NumPy {meta.get('numpy', '?')}; "
          f"git {meta.get('git_commit', '?')[:7]}"
          + (f" + modified {', '.join(ln.split()[-1] for ln in meta.get('git_modified', []))}"
             if meta.get("git_modified") else ""), flush=True)
    print(f"dt = {meta['dt']} time units; learning on; single-threaded; per-step times exclude compilation; "
          "Brian2 targets: difference of two run() durations (fixed cost per run() below each)", flush=True)


def _print_result(r, floor_cpu, current):
    key = (r["task"], r["N"], r["R"])
    if key != current:
        print(f"\n{r['task']} N={r['N']} R={r['R']}\n{HEADER}", flush=True)
    print(format_row(r, floor_cpu.get(key)), flush=True)
    return key


def show(path):
    """Print the table of a results file written earlier."""
    with open(path) as fh:
        data = json.load(fh)
    _print_intro(data["meta"])
    current, floor_cpu = None, {}
    for r in data["results"]:
        if r["impl"] == "floor" and "error" not in r:
            floor_cpu[(r["task"], r["N"], r["R"])] = r["us_cpu"]
        current = _print_result(r, floor_cpu, current)
    for p in data.get("profiles", []):
        _print_profile(p)
    if data["meta"].get("library_changed_during_run"):
        print("\nWARNING: brian_effplast/*.py changed during the run: the cases measured different code")
    print(f"\ntotal {data['meta']['total_seconds']:.0f} s")
    return 0


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="N=40, R=1 only, short runs (< 3 min)")
    ap.add_argument("--json", default=None,
                    help="output file (default benchmarks/results.json; with --quick "
                         "benchmarks/results-quick.json)")
    ap.add_argument("--only", action="append", default=[],
                    help="run only cases whose label ('cython estimation N=40 R=1') contains this text "
                         "(repeatable)")
    ap.add_argument("--timeout", type=float, default=900.0, help="seconds per case")
    ap.add_argument("--show", metavar="PATH", help="print the table of a results file and exit")
    args = ap.parse_args(argv)
    if args.show:
        return show(args.show)
    if args.json is None:
        args.json = os.path.join(HERE, "results-quick.json" if args.quick else "results.json")

    t_start = time.perf_counter()
    meta = _meta(args.quick)
    meta["library_digest"] = _library_digest()
    _print_intro(meta)
    results = []
    current = None
    floor_cpu = {}
    # the "return" check (one more compilation) runs with the first cpp_standalone case, not in --quick
    results_cpp_done = args.quick
    for spec in _specs(QUICK_GROUPS if args.quick else GROUPS, args.only):
        key = (spec["task"], spec["N"], spec["R"])
        try:
            r = _spawn(spec, args.timeout, return_check=not results_cpp_done)
        except subprocess.TimeoutExpired:
            r = dict(spec, error=f"timed out after {args.timeout:g} s")
        if spec["impl"] == "floor" and "error" not in r:
            floor_cpu[key] = r["us_cpu"]
        r["ratio_to_floor_cpu"] = (r["us_cpu"] / floor_cpu[key] if key in floor_cpu and "error" not in r
                                   else None)
        results.append(r)
        results_cpp_done = results_cpp_done or spec["impl"] == "cpp_standalone"
        current = _print_result(r, floor_cpu, current)
    profiles = []
    if not args.only:
        for target, duration in PROFILES:
            p = _child(dict(impl="profile", target=target, duration=duration), dict(os.environ, **SINGLE_THREAD_ENV),
                       args.timeout)
            profiles.append(dict(p, target=target))
            _print_profile(profiles[-1])
    meta["total_seconds"] = time.perf_counter() - t_start
    meta["library_changed_during_run"] = _library_digest() != meta["library_digest"]
    if meta["library_changed_during_run"]:
        print("\nWARNING: brian_effplast/*.py changed during the run: the cases measured different code")
    with open(args.json, "w") as fh:
        json.dump(dict(meta=meta, results=results, profiles=profiles), fh, indent=1)
    print(f"\ntotal {meta['total_seconds']:.0f} s; results written to {os.path.relpath(args.json)}")
    return 1 if any("error" in r for r in results) else 0


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--wrap":
        sys.exit(wrap(sys.argv[2], sys.argv[3:]))
    if len(sys.argv) > 1 and sys.argv[1] == "--case":
        print(json.dumps(run_case(json.loads(sys.argv[2]))))
        sys.exit(0)
    sys.exit(main())
