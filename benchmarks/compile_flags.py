"""What the package's makefile edits save, and that no step gets slower.

    python benchmarks/compile_flags.py [--repeats 2] [--runs 5] [--duration 2000]

Builds one cached standalone project (the estimation model, default sizes),
then, alternating the two makefiles ``--repeats`` times in this one run:

- rebuilds everything with ``make -B -j1`` and takes the compilers' CPU time
  (user + system of the child processes);
- runs the binary ``--runs`` times (``--duration`` time units, ``--duration``/dt
  steps) and takes its CPU time (the least of the runs).

"brian2" is Brian2's makefile (every file at -O3); "setup -O0" adds
:data:`brian_effplast.circuit.brian2_internals.UNOPTIMISED_RULE`; "brian-effplast" (the
package's makefile) adds the precompiled standard headers too
(:data:`~brian_effplast.circuit.brian2_internals.STD_HEADER_RULE`; ``make -B`` builds
them again each time, so their own compilation is counted). Prints each and the
ratios to Brian2's. Keep the other core quiet while it runs.
"""

import argparse
import os
import resource
import subprocess
import tempfile


def children_cpu():
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--duration", type=float, default=2000.0)
    args = parser.parse_args()
    os.environ["BRIAN_EFFPLAST_CACHE"] = tempfile.mkdtemp(prefix="compile-flags-")
    from brian_effplast import PlasticCircuit
    from brian_effplast.circuit import standalone
    from brian_effplast.circuit.brian2_internals import UNOPTIMISED_RULE

    model = PlasticCircuit(task="estimation", replicas=1, seed=1, target="cpp_standalone")
    model.run(args.duration)
    directory = standalone._ACTIVE.directory
    with open(os.path.join(directory, "makefile")) as f:
        ours = f.read()
    assert UNOPTIMISED_RULE in ours and "STD_HEADER" in ours, "the makefile edits did not apply"
    end = ours.index(UNOPTIMISED_RULE)
    makefiles = {"brian2": ours[:end], "setup -O0": ours[:end + len(UNOPTIMISED_RULE)], "brian-effplast": ours}
    results = {name: {"compile": [], "run": []} for name in makefiles}
    for _ in range(args.repeats):
        for name, text in makefiles.items():
            with open(os.path.join(directory, "makefile"), "w") as f:
                f.write(text)
            before = children_cpu()
            subprocess.run(["make", "-B", "-j1"], cwd=directory, check=True, capture_output=True)
            results[name]["compile"].append(children_cpu() - before)
            for _ in range(args.runs):
                before = children_cpu()
                subprocess.run(["./main"], cwd=directory, check=True, capture_output=True)
                results[name]["run"].append(children_cpu() - before)
    print(f"project {directory}; {args.repeats} repeat(s), alternating; binary: {args.duration:g} time units")
    print(f"{'makefile':<16}{'compile CPU s':>16}{'run CPU s':>14}")
    for name, r in results.items():
        print(f"{name:<16}{min(r['compile']):>16.2f}{min(r['run']):>14.3f}")
    b = results["brian2"]
    for name in ("setup -O0", "brian-effplast"):
        a = results[name]
        print(f"{name} / brian2: compile {min(a['compile']) / min(b['compile']):.2f}, "
              f"run {min(a['run']) / min(b['run']):.3f}")


if __name__ == "__main__":
    main()
