"""Enough samples? The covariance and discrimination measures against the samples per angle (issue #25).

A trained estimation network at sigma = 0.33 (the Fig. 3c experiment, ``models/noise_levels.toml``)
is tested with the authors' protocol (:func:`~brian_effplast.runs.protocol.authors_test`: trials of
5 stimuli of 200 time units from the 12 input angles, a sample every 200 steps = 2 time units,
each angle pooled over its first ``n_min`` presentations), with ``--trials`` trials instead of 100
(the draws extend the authors' 100: their first 100 trials are the same, so the first 3000 samples
of every angle are exactly the authors' protocol's). On the first ``n`` samples of every angle, for
``n`` in :data:`NS`, per network:

- the noise volume fraction (:func:`~brian_effplast.analysis.volume_fraction_per_angle`), the
  determinant ratio and the entropy difference, averaged over the angles near the prior mode
  (``|theta| <= 45°``) and far from it (``>= 135°``), and near minus far;
- the variance of the outputs (Fig. 2b, :func:`~brian_effplast.analysis.bias_variance`), near and far;
- d' of Fig. 2c (:func:`~brian_effplast.analysis.boundary_dprime`) between the test angles on either
  side of the boundary at 0 (±30°) and at ±180° (±150°). The estimation network has no class
  output: d' is taken on its second output ``y_2``, the estimate of ``sin theta``, which changes
  sign at the same two boundaries.

Each as mean ± s.e.m. over the networks; near minus far also with a one-sided paired t-test over
the networks (near > far, the claim of Fig. 3c). A measure *settles* at the smallest ``n`` from
which its mean stays within 5% of its value at the largest ``n``. Also the rates' correlation
between successive samples within a presentation (lag 2 time units) on the trained networks::

    python benchmarks/convergence.py [--duration 20000] [--replicas 4] [--seed 33] [--trials 440]
    python benchmarks/convergence.py --from RUN_DIR     # a trained run directory instead (read only)
    python benchmarks/convergence.py --show             # reprint the table of benchmarks/convergence.json

The training goes to ``--work`` (default ``/tmp/brian_effplast_convergence``; a complete run
there is reused) and the test's samples to ``WORK/convergence_test.npz``. Writes
``benchmarks/convergence.json`` and ``docs/figures/convergence_3c.png``; prints the table.
"""

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
from scipy import stats

from brian_effplast import analysis, runs
from brian_effplast.config.modelfiles import model_path
from brian_effplast.paper.fig2 import boundary_pairs
from brian_effplast.paper.panels import near_far
from brian_effplast.plotting import new_figure
from brian_effplast.runs.protocol import AUTHORS_PROTOCOL, authors_draws, authors_test
from brian_effplast.runs.rundir import read_run

HERE = Path(__file__).resolve().parent
#: Samples per angle at which the measures are computed.
NS = (250, 500, 1000, 2000, 3000, 4000, 8000, 16000)
#: The authors' protocol: 100 trials, each angle's first 30 presentations of 100 samples.
AUTHORS_N = 3000
TOLERANCE = 0.05
SIGMA = 0.33
#: (key, label) of the measures, each with a near and a far value.
MEASURES = (("vf_determinant", "noise volume fraction (det. ratio, Eq. 13)"),
            ("vf_entropy_difference", "entropy difference, 1/2 log VF (nats)"),
            ("variance", "variance of the outputs (Fig. 2b)"),
            ("dprime", "d' of $y_2$ across the boundary (2c)"))


def trained_run(args):
    """The trained run directory: ``--from``, or trained into ``--work`` (reused when complete)."""
    if args.source:
        run_dir = Path(args.source)
        cfg, summary, _ = read_run(run_dir)
        if summary["status"] != "complete" or cfg.task != "estimation":
            sys.exit(f"{run_dir}: a {summary['status']} {cfg.task} run; need a complete estimation run")
        return run_dir
    run_dir = Path(args.work) / f"sigma{SIGMA}_seed{args.seed}_R{args.replicas}_T{args.duration:g}"
    if (run_dir / "summary.json").is_file() and read_run(run_dir)[1]["status"] == "complete":
        print(f"reusing {run_dir}")
        return run_dir
    runs.train(model_path("noise_levels"), run_dir, duration=args.duration, seed=args.seed,
               replicas=args.replicas, workers=1, target="cpp_standalone")
    return run_dir


def long_test(run_dir, trials, cache):
    """The authors' protocol with ``trials`` trials on the run's last checkpoint (cached in ``cache``)."""
    if cache.is_file():
        with np.load(cache) as z:
            if int(z["trials"]) == trials and str(z["run_dir"]) == str(run_dir):
                print(f"reusing {cache}")
                return {k: z[k] for k in z.files}
    model = runs.load(run_dir, target="cpp_standalone")
    t0 = time.time()
    data = authors_test(model, trials=trials)
    keep = ("angles", "rates", "outputs", "D", "n_min", "samples_per_presentation", "t", "seed")
    data = {k: data[k] for k in keep} | {"trials": np.int64(trials), "run_dir": np.str_(run_dir),
                                         "task": np.str_(model.task.name),
                                         "sigma": np.float64(model.config.circuit.sigma),
                                         "wall_seconds": np.float64(time.time() - t0)}
    np.savez(cache, **data)
    return data


def measures(data, n):
    """Per network (R,) the measures near and far from the mode on the first ``n`` samples per angle."""
    rates, y = data["rates"][:, :, :n], data["outputs"][:, :, :n]
    angles = np.asarray(data["angles"])
    near, far = near_far(angles)
    out = {}
    for measure in analysis.VOLUME_MEASURES:
        vf = analysis.volume_fraction_per_angle(rates, data["D"], measure)
        out[f"vf_{measure}"] = (vf[:, near].mean(1), vf[:, far].mean(1))
    var = analysis.bias_variance(y, angles)[1]
    out["variance"] = (var[:, near].mean(1), var[:, far].mean(1))
    # y_2, the estimate of sin(theta), changes sign at the class boundaries 0 and pi
    at_mode, at_pi = (analysis.boundary_dprime(y[..., 1], angles, p)[:, 0] for p in boundary_pairs(angles))
    out["dprime"] = (at_mode, at_pi)
    return out


def lag_correlation(data):
    """Mean correlation of a neuron's rate between successive samples of one presentation
    (per angle and network, about the angle's mean), over neurons, angles and networks."""
    x = np.asarray(data["rates"], dtype=float)
    R, K, S, N = x.shape
    p = int(data["samples_per_presentation"])
    x = x.reshape(R, K, S // p, p, N)
    x = x - x.mean(axis=(2, 3), keepdims=True)
    cov1 = (x[:, :, :, 1:] * x[:, :, :, :-1]).mean(axis=(2, 3))
    return float(np.nanmean(cov1 / (x ** 2).mean(axis=(2, 3))))


def settles(means, ns):
    """Smallest n from which the mean stays within TOLERANCE of its value at the largest n."""
    ref = means[-1]
    ok = np.abs(np.asarray(means) - ref) <= TOLERANCE * abs(ref)
    bad = np.nonzero(~ok)[0]
    return int(ns[bad[-1] + 1]) if bad.size else int(ns[0])


def summarise(data):
    S = data["rates"].shape[2]
    ns = [n for n in NS if n <= S]
    per_n = [measures(data, n) for n in ns]
    table = {}
    for key, label in MEASURES:
        near = np.array([m[key][0] for m in per_n])  # (n, R)
        far = np.array([m[key][1] for m in per_n])
        diff = near - far
        entry = {"label": label, "near_mean": near.mean(1), "near_sem": stats.sem(near, axis=1),
                 "far_mean": far.mean(1), "far_sem": stats.sem(far, axis=1),
                 "near_minus_far_mean": diff.mean(1), "near_minus_far_sem": stats.sem(diff, axis=1),
                 # Fig. 3c's claim: near > far (one-sided paired t over the networks)
                 "p_near_gt_far": [float(stats.ttest_1samp(d, 0.0, alternative="greater").pvalue) for d in diff],
                 "per_network_near": near, "per_network_far": far}
        entry = {k: (np.round(v, 6).tolist() if isinstance(v, np.ndarray) else v) for k, v in entry.items()}
        entry["settles_near"] = settles(entry["near_mean"], ns)
        entry["settles_far"] = settles(entry["far_mean"], ns)
        entry["settles_near_minus_far"] = settles(entry["near_minus_far_mean"], ns)
        signs = np.sign(entry["near_minus_far_mean"])
        entry["near_minus_far_keeps_sign"] = bool(np.all(signs == signs[-1]))
        table[key] = entry
    return ns, table


def draw(ns, table, meta, path):
    fig = new_figure(11, 6.2)
    axes = fig.subplots(2, 4)
    for j, (key, label) in enumerate(MEASURES):
        e = table[key]
        names = ("at ±30°", "at ±150°") if key == "dprime" else ("near the mode", "far from it")
        ax = axes[0, j]
        for part, name, c in (("near", names[0], "C0"), ("far", names[1], "C3")):
            ax.errorbar(ns, e[f"{part}_mean"], e[f"{part}_sem"], color=c, marker="o", ms=3, capsize=2, label=name)
            ref = e[f"{part}_mean"][-1]  # the band where the measure counts as settled
            ax.axhspan(ref - TOLERANCE * abs(ref), ref + TOLERANCE * abs(ref), color=c, alpha=0.12, lw=0)
        ax.set_title(label, fontsize=8.5)
        ax.legend(fontsize=7)
        ax = axes[1, j]
        ax.errorbar(ns, e["near_minus_far_mean"], e["near_minus_far_sem"], color="k", marker="o", ms=3, capsize=2)
        ax.axhline(0.0, color="0.6", lw=0.8)
        ax.set_title(("at ±30° minus at ±150°" if key == "dprime" else "near minus far"), fontsize=8.5)
    for ax in axes.ravel():
        ax.set_xscale("log")
        ax.axvline(AUTHORS_N, color="g", ls="--", lw=1)
    fig.supxlabel("samples per angle n (a sample every 2 time units); dashed: the authors' protocol (3000); "
                  f"bands: within {TOLERANCE:.0%} of the value at the largest n", fontsize=9)
    fig.suptitle(f"Measures against the samples per angle: {meta['networks']} estimation networks, "
                 f"sigma = {meta['sigma']:g}, trained {meta['trained']:g} time units (mean ± s.e.m. over networks)",
                 fontsize=10)
    fig.savefig(path, dpi=110)


def print_table(result):
    ns, table = result["ns"], result["measures"]
    print(f"\n{result['settings']['networks']} networks, sigma = {result['settings']['sigma']:g}, "
          f"trained {result['settings']['trained']:g} time units; rates' correlation between successive "
          f"samples (2 time units) {result['lag_correlation']:.3f}")
    print(f"{'measure':<24}{'n':>7}{'near':>22}{'far':>22}{'near - far':>22}{'p (near > far)':>16}")
    for key, e in table.items():
        for i, n in enumerate(ns):
            cells = [f"{e[p + '_mean'][i]:.4g} ± {e[p + '_sem'][i]:.2g}" for p in ("near", "far", "near_minus_far")]
            print(f"{key if i == 0 else '':<24}{n:>7}" + "".join(f"{c:>22}" for c in cells)
                  + f"{e['p_near_gt_far'][i]:>16.3g}")
        print(f"{'':<24}settles (within {TOLERANCE:.0%} of n = {ns[-1]}): near {e['settles_near']}, far "
              f"{e['settles_far']}, near - far {e['settles_near_minus_far']}; near - far keeps its sign: "
              f"{e['near_minus_far_keeps_sign']}")


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--from", dest="source", help="a trained run directory (read only) instead of training")
    ap.add_argument("--duration", type=float, default=20000.0, help="training, time units (paper: 260000)")
    ap.add_argument("--replicas", type=int, default=4)
    ap.add_argument("--seed", type=int, default=33)
    ap.add_argument("--trials", type=int, default=440,
                    help="trials of the test (440: every angle shown >= 171 times, 17100 samples)")
    ap.add_argument("--work", default="/tmp/brian_effplast_convergence")
    ap.add_argument("--json", default=str(HERE / "convergence.json"))
    ap.add_argument("--figure", default=str(HERE.parent / "docs" / "figures" / "convergence_3c.png"))
    ap.add_argument("--show", action="store_true", help="reprint the table of --json")
    args = ap.parse_args(argv)
    if args.show:
        print_table(json.loads(Path(args.json).read_text()))
        return
    Path(args.work).mkdir(parents=True, exist_ok=True)
    run_dir = trained_run(args)
    data = long_test(run_dir, args.trials, Path(args.work) / "convergence_test.npz")
    ns, table = summarise(data)
    cfg, summary, _ = read_run(run_dir, need_checkpoint=False)
    settings = {"run_dir": str(run_dir), "from": bool(args.source), "task": str(data["task"]),
                "sigma": float(data["sigma"]), "networks": int(data["rates"].shape[0]), "trained": float(data["t"]),
                "training_seed": cfg.run.seed, "test_seed": int(data["seed"]),
                "model_file": None if args.source else "models/noise_levels.toml",
                "test": {**AUTHORS_PROTOCOL, "trials": args.trials},
                "n_min": int(data["n_min"]), "samples_per_presentation": int(data["samples_per_presentation"]),
                "samples_per_angle": int(data["rates"].shape[2]),
                "first_100_trials_are_the_authors": bool(np.array_equal(authors_draws(100, 12),
                                                                        authors_draws(args.trials, 12)[:100])),
                "tolerance": TOLERANCE, "wall_seconds_training": round(float(summary["wall_seconds"]), 1),
                "wall_seconds_test": round(float(data["wall_seconds"]), 1)}
    result = {"settings": settings, "ns": ns, "lag_correlation": round(lag_correlation(data), 4),
              "measures": table}
    Path(args.json).write_text(json.dumps(result, indent=1) + "\n")
    draw(ns, table, settings, args.figure)
    print_table(result)
    print(f"\nwrote {args.json} and {args.figure}")


if __name__ == "__main__":
    main()
