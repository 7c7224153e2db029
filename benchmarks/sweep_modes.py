"""Twenty networks three ways: a dask sweep, one training after another, and replicas.

The same work, 20 estimation networks x DURATION time units on
cpp_standalone, each then tested (the model's test protocol):

- ``sweep``: ``brian-effplast sweep models/estimation.toml --grid run.seed=1,...,20``
  on an embedded dask cluster of 2 worker processes (one cell per seed);
- ``sequential``: the same 20 cells, ``train`` then ``test``, one after another
  in one process;
- ``replicas``: ``train --replicas 20 --workers 2`` (20 networks in two
  processes of 10 replicas each, one seed), then ``test``.

Every mode starts from the same state of the compiled-project cache: each gets
a fresh cache directory (``BRIAN_EFFPLAST_CACHE``), so the compilations are
part of what is measured, as a new user would see them. Run with the machine
otherwise idle::

    python benchmarks/sweep_modes.py [--duration 20000] [--seeds 20] [--out /tmp/bench_sweep]

Prints one line per mode and writes ``benchmarks/sweep_modes.json``.
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def _cli(*args, env):
    subprocess.run([sys.executable, "-m", "brian_effplast.cli", *map(str, args)], check=True, env=env,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--duration", type=float, default=20000.0)
    p.add_argument("--seeds", type=int, default=20)
    p.add_argument("--out", default=tempfile.mkdtemp(prefix="bench_sweep_"))
    a = p.parse_args(argv)
    out = Path(a.out)
    seeds = list(range(1, a.seeds + 1))
    results = {}

    def timed(mode, fn):
        env = dict(os.environ, BRIAN_EFFPLAST_CACHE=str(out / mode / "cache"))
        t0 = time.perf_counter()
        fn(out / mode, env)
        results[mode] = round(time.perf_counter() - t0, 1)
        print(f"{mode:>10}: {results[mode]:8.1f} s", flush=True)

    def sweep(d, env):
        _cli("sweep", "estimation", "--out", d / "sweep", "--grid", "run.seed=" + ",".join(map(str, seeds)),
             "--duration", a.duration, "--workers", 2, env=env)

    def sequential(d, env):
        for s in seeds:
            _cli("train", "estimation", "--out", d / f"seed{s}", "--seed", s, "--duration", a.duration,
                 env=env)
            _cli("test", d / f"seed{s}", env=env)

    def replicas(d, env):
        _cli("train", "estimation", "--out", d / "replicas", "--seed", 1, "--duration", a.duration,
             "--replicas", a.seeds, "--workers", 2, env=env)
        _cli("test", d / "replicas", env=env)

    print(f"{a.seeds} estimation networks x {a.duration:g} time units, trained and tested, cpp_standalone, "
          f"fresh compiled-project cache per mode -> {out}", flush=True)
    for mode, fn in (("sweep", sweep), ("sequential", sequential), ("replicas", replicas)):
        timed(mode, fn)
    base = results["sweep"]
    for mode, sec in results.items():
        print(f"{mode:>10}: {sec / base:5.2f} x the sweep's wall time")
    record = {"seeds": a.seeds, "duration": a.duration, "cores": os.cpu_count(), "wall_seconds": results,
              "ratio_to_sweep": {m: round(s / base, 3) for m, s in results.items()}}
    (HERE / "sweep_modes.json").write_text(json.dumps(record, indent=2) + "\n")


if __name__ == "__main__":
    main()
