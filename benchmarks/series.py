"""Compile once, run many; and replicas spread over both cores.

    python benchmarks/series.py [--runs 10] [--duration 200]

1. A series of runs of one compiled ``cpp_standalone`` binary that vary the
   seed, ``sigma``, ``kappa``, ``mu``, the learning rates and L2 constants and
   the initial weights: prints how many projects were compiled and each run's
   overhead beyond its simulation loop.
2. R = 20 replicas (estimation, N = 40) in one process, and split over two
   processes of 10: microseconds per replica-step, wall clock.
"""

import argparse
import json
import multiprocessing as mp
import os
import time

import numpy as np


def series(runs, duration):
    from brian_effplast import Config, PlasticCircuit
    import brian_effplast.circuit.standalone as sa

    compiled = []
    original = sa.StandaloneProject.__init__

    def counting_init(self, *args, **kwds):
        compiled.append(time.perf_counter())
        original(self, *args, **kwds)

    sa.StandaloneProject.__init__ = counting_init
    rng = np.random.default_rng(0)
    rows = []
    for k in range(runs):
        cfg = Config.default("estimation").replace(**{
            "circuit.sigma": float(rng.uniform(0.1, 0.5)), "stimulus.kappa": float(rng.uniform(0.5, 2)),
            "stimulus.mu": float(rng.uniform(-1, 1)), "plasticity.eta_W": float(rng.uniform(1e-6, 1e-5)),
            "plasticity.lam_W": float(rng.uniform(1e-4, 1e-3)), "init.W_scale": float(rng.uniform(0.1, 0.5))})
        model = PlasticCircuit(cfg, seed=k, target="cpp_standalone")
        start = time.perf_counter()
        out = model.run(duration)
        wall = time.perf_counter() - start
        rows.append({"run": k, "seed": k, "sigma": cfg.circuit.sigma, "wall_s": wall,
                     "loop_s": out["loop_seconds"], "overhead_s": wall - out["loop_seconds"],
                     "mean_reward": float(out["curve"].mean())})
    sa.StandaloneProject.__init__ = original
    return len(compiled), rows


def _worker(args):
    replicas, seed, duration = args
    from brian_effplast import Config, PlasticCircuit
    model = PlasticCircuit(Config.default("estimation").replace(**{"run.transient": 0.0}),
                           seed=seed, target="cpp_standalone", replicas=replicas)
    model.run(duration)  # compile (or load the cached project) outside the timing
    start = time.perf_counter()
    model.run(duration)
    return time.perf_counter() - start


def parallel(duration, replicas=20, workers=2):
    steps = duration / 0.01
    ctx = mp.get_context("spawn")
    one = _worker((replicas, 1, duration))
    with ctx.Pool(workers) as pool:
        # each worker: its own process, its own project slot, half of the replicas
        walls = pool.map(_worker, [(replicas // workers, 100 + w, duration) for w in range(workers)])
        both = max(walls)  # the compile/warm-up run is inside the workers, excluded from each timing
    return {"replicas": replicas, "workers": workers,
            "one_process_us_per_replica_step": one / steps / replicas * 1e6,
            "two_processes_us_per_replica_step": both / steps / replicas * 1e6}


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--duration", type=float, default=200.0, help="time units per run")
    parser.add_argument("--parallel-duration", type=float, default=500.0)
    parser.add_argument("--json", default=os.path.join(os.path.dirname(__file__), "series.json"))
    args = parser.parse_args()

    n_compiled, rows = series(args.runs, args.duration)
    print(f"{args.runs}-run series of one structure ({args.duration:g} time units each): "
          f"{n_compiled} compilation(s)")
    for row in rows:
        print(f"  run {row['run']}: seed {row['seed']}, sigma {row['sigma']:.3f}: loop {row['loop_s']:.3f} s, "
              f"overhead {row['overhead_s']:.3f} s")
    extra = [r["overhead_s"] for r in rows[1:]]
    print(f"  overhead of runs 2-{args.runs}: max {max(extra):.3f} s, mean {np.mean(extra):.3f} s "
          f"(run 1 includes building/compiling: {rows[0]['overhead_s']:.1f} s)")
    par = parallel(args.parallel_duration)
    print(f"R = {par['replicas']}, N = 40: {par['one_process_us_per_replica_step']:.2f} us per replica-step in one "
          f"process, {par['two_processes_us_per_replica_step']:.2f} us with {par['workers']} processes of "
          f"{par['replicas'] // par['workers']}")
    with open(args.json, "w") as f:
        json.dump({"compilations": n_compiled, "series": rows, "parallel": par}, f, indent=1)


if __name__ == "__main__":
    main()
