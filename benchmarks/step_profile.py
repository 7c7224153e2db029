"""Where one training step goes, and how much of it is the normal generator.

    python benchmarks/step_profile.py [--replicas 20] [--duration 50] [--json PATH]

Brian2's profile (``PlasticCircuit.run(..., profile=True)``, ``cpp_standalone``, estimation,
learning on) of ``--replicas`` networks, microseconds per step for each code object (the
fastest of two runs after a warm-up; the profile's timers add about 0.5 us per object), twice:
with Brian2's own normals (``xi``) and with the normals supplied as arrays (``noise=``), which
costs a memory read instead of a draw. The difference in ``population_stateupdater`` is what
the generator costs, an upper bound on what a faster one could save. Writes
``benchmarks/step_profile.json``.
"""
import argparse
import json
import os
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import speed  # noqa: E402  (this folder's benchmark: machine and version metadata)


def profile(R, duration, arrays):
    import brian2
    brian2.BrianLogger.log_level_warn()
    from brian_effplast import Config, PlasticCircuit
    cfg = Config.default("estimation").replace(**{"run.transient": 0.0})
    steps = int(round(duration / cfg.circuit.dt))
    noise = None
    if arrays:  # rows for the warm-up and the two timed runs
        rng = np.random.default_rng(0)
        noise = {"rates": rng.standard_normal((3 * steps, R * cfg.circuit.N)),
                 "stimulus": rng.standard_normal((3 * steps, R))}
    model = PlasticCircuit(cfg, seed=1, target="cpp_standalone", replicas=R, noise=noise)
    model.run(duration)  # compiles
    runs = [model.run(duration, profile=True) for _ in range(2)]
    per_object = {name: 1e6 * min(dict(r["profile"])[name] for r in runs) / steps for name in dict(runs[0]["profile"])}
    return {"loop_us_per_step": [1e6 * r["loop_seconds"] / steps for r in runs],
            "profile_us_per_step": dict(sorted(per_object.items(), key=lambda kv: -kv[1]))}


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--replicas", type=int, default=20)
    ap.add_argument("--duration", type=float, default=50.0, help="time units per timed run")
    ap.add_argument("--json", default=os.path.join(HERE, "step_profile.json"))
    args = ap.parse_args(argv)
    result = {"meta": speed._meta(False), "replicas": args.replicas, "duration": args.duration}
    for kind, arrays in (("xi", False), ("arrays", True)):
        r = result[kind] = profile(args.replicas, args.duration, arrays)
        print(f"{kind:6s}: loop {min(r['loop_us_per_step']):.1f} us/step ({args.replicas} replicas); "
              + ", ".join(f"{k.replace('_codeobject', '')} {v:.2f}" for k, v in r["profile_us_per_step"].items()),
              flush=True)
    gen = (result["xi"]["profile_us_per_step"]["population_stateupdater_codeobject"]
           - result["arrays"]["profile_us_per_step"]["population_stateupdater_codeobject"])
    result["generator_us_per_step"] = gen
    print(f"the normal generator: {gen:.2f} us per step, {gen / min(result['xi']['loop_us_per_step']):.0%} of the "
          f"step ({1e3 * gen / (args.replicas * 41):.1f} ns per normal)")
    with open(args.json, "w") as fh:
        json.dump(result, fh, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
