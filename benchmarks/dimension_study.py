"""Eq. 10 against REINFORCE: learning rates tuned per rule on one grid, then both against N.

The measurements of docs/beyond.md, "REINFORCE" and "Dimension". Every run is a
cell of :func:`brian_effplast.runs.sweep.sweep` (train, then the model's test protocol):
one cell per (rule, learning-rate multiplier, N), each ``--replicas`` independent
networks in one process (one seed per N, so at each N both rules start from the
same initial networks).

- The multiplier ``m`` scales ``eta_W``, ``eta_C`` and ``eta_b`` together, from the
  reference ``5e-6`` (models/estimation.toml); ``eta_D`` stays at the reference.
  Both rules get the same budget: the same number of grid points, duration,
  replicas and seeds.
- Stage 1: the grid at ``--grid-N`` (40) for both rules. Stage 2: every other N of
  ``--Ns``, with the whole grid per N (``--per-N-grid``) or only the multiplier
  chosen at ``--grid-N``.
- Chosen multiplier: lowest final training MSE (mean over the replicas). A cell
  that diverged or failed is never chosen.
  With ``--per-N-grid`` speed is also compared at each rule's *fastest*
  multiplier per N (the most networks reaching the threshold, then the shortest
  mean time).

Measures per network (replica):

- training MSE curve: ``learning_curve.npz`` (mean squared error per 10 time units),
  smoothed by :func:`brian_effplast.analysis.smooth` (``--smooth`` bins, centred);
- initial MSE: mean of the (unsmoothed) curve over the first ``--initial`` time units
  after the transient;
- learning speed: the first time (after the transient) at which the smoothed curve is
  at or below ``--fraction`` x the initial MSE ("not reached" otherwise);
- final training MSE: mean of the curve over the last 10% of the training;
- test MSE, prior-weighted: the test protocol (plasticity off, 12 angles held for
  ``test.hold`` time units each) weighted by the stimulus prior, per replica.

::

    python benchmarks/dimension_study.py --out runs/dimension_study [--Ns 10,20,40,80,160] [--per-N-grid]

Resumable: running it again reuses every finished cell. Prints a table, writes
``benchmarks/dimension_study.json`` and ``docs/figures/beyond_reinforce.png``,
``docs/figures/beyond_dimension.png`` (with ``--per-N-grid``:
``benchmarks/dimension_study_per_N.json`` and ``docs/figures/beyond_dimension_per_N.png``,
each point labelled with the multiplier its N chose).
"""

import argparse
import json
import math
import sys
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
REFERENCE_ETA = 5e-6
MODELS = {"eq10": "estimation", "reinforce": "estimation_reinforce"}
LABEL = {"eq10": "Eq. 10", "reinforce": "REINFORCE"}


def _floats(text):
    return [float(x) for x in text.split(",")]


def _ints(text):
    return [int(x) for x in text.split(",")]


def cell_config(rule, mult, N, a):
    from brian_effplast import Config
    from brian_effplast.config.modelfiles import model_path
    cfg = Config.from_toml(model_path(MODELS[rule]))
    eta = REFERENCE_ETA * mult
    return cfg.override({
        "circuit.N": N, "plasticity.eta_W": eta, "plasticity.eta_C": eta, "plasticity.eta_b": eta,
        "plasticity.eta_D": REFERENCE_ETA, "run.duration": a.duration, "run.checkpoint_every": a.duration,
        "run.replicas": a.replicas, "run.seed": a.seed + N, "test.hold": a.hold}, source="dimension_study")


def run_cell(rule, mult, N, a):
    """Train and test one (rule, multiplier, N) cell through the sweep machinery; its run dir."""
    from brian_effplast.runs import sweep
    out = Path(a.out) / f"{rule}_x{mult:g}"
    t0 = time.perf_counter()
    rows = sweep.sweep(cell_config(rule, mult, N, a), out, {"circuit.N": [N]}, workers=1, quiet=True)
    row = rows[0]
    print(f"  {LABEL[rule]:>9} x{mult:<6g} N={N:<4d} {row['status']:>8}  {time.perf_counter() - t0:6.0f} s"
          + (f"  ({row['error'][:200]})" if row.get("error") else ""), flush=True)
    return Path(row["run_dir"]), row


def measure(run_dir, row, a):
    """Per-replica measures of one cell (None if it did not finish)."""
    from brian_effplast.analysis import smooth
    from brian_effplast.blocks.prior import prior_weights
    from brian_effplast.runs.protocol import per_angle_error
    from brian_effplast.blocks.tasks import get_task
    rec = {"status": row["status"], "error": row.get("error") or "", "run_dir": str(run_dir),
           "wall_seconds": row.get("wall_seconds")}
    try:
        rec["train_wall_seconds"] = json.loads((run_dir / "summary.json").read_text()).get("wall_seconds")
    except (OSError, ValueError):
        pass
    try:
        lc = np.load(run_dir / "learning_curve.npz")
    except OSError:
        return rec
    mse = -np.asarray(lc["curve"], float)  # (R, bins): reward = -squared error
    t = np.asarray(lc["time"], float)
    bin_ = float(lc["curve_bin"])
    transient = float(lc["transient"])
    after = t - bin_ / 2 >= transient - 1e-9
    mse, t = mse[:, after], t[after]
    if mse.shape[1] == 0 or not np.all(np.isfinite(mse)):
        rec["status"] = "diverged" if rec["status"] == "complete" else rec["status"]
        return rec
    n_init = max(1, int(round(a.initial / bin_)))
    initial = mse[:, :n_init].mean(axis=1)
    sm = smooth(mse, a.smooth)
    speed = []
    for q in range(mse.shape[0]):
        hit = np.nonzero(sm[q] <= a.fraction * initial[q])[0]
        speed.append(float(t[hit[0]] - bin_ / 2 - transient) if hit.size else None)
    m = max(1, int(round(0.1 * mse.shape[1])))
    rec.update(time=t.tolist(), curve_mean=mse.mean(axis=0).tolist(),
               curve_sem=(mse.std(axis=0, ddof=1) / math.sqrt(mse.shape[0])).tolist(),
               initial=initial.tolist(), speed=speed, final=mse[:, -m:].mean(axis=1).tolist())
    try:  # largest real part of an eigenvalue of the trained W, per replica (> 1: no stable rest state)
        W = np.load(run_dir / "parameters.npz")["W"]
        rec["eig_W"] = [float(np.max(np.linalg.eigvals(w).real)) for w in W]
    except (OSError, KeyError):
        pass
    try:
        data = dict(np.load(run_dir / "test.npz"))
        task = get_task("estimation")
        per = per_angle_error(data, task)  # (R, K)
        w = prior_weights(data["angles"], data["prior_mu"], data["prior_kappa"])
        rec["test_prior"] = (per * w[None, :]).sum(axis=1).tolist()
        rec["test_uniform"] = per.mean(axis=1).tolist()
    except (OSError, KeyError):
        pass
    return rec


def mean_sem(x):
    x = np.asarray([v for v in x if v is not None], float)
    if x.size == 0:
        return float("nan"), float("nan"), 0
    return float(x.mean()), float(x.std(ddof=1) / math.sqrt(x.size)) if x.size > 1 else float("nan"), int(x.size)


def fmt(x, digits=3):
    m, s, n = mean_sem(x)
    return "-" if n == 0 else f"{m:.{digits}f} ± {s:.{digits}f}"


def fmt_speed(x, total):
    m, s, n = mean_sem(x)
    if n == 0:
        return f"not reached (0/{total})"
    return f"{m:.0f} ± {s:.0f}" + (f" ({n}/{total} reached)" if n < total else "")


def fmt_test(x):
    """Mean ± s.e.m., then the median and how many networks scored above 2 (twice an untrained
    circuit's ~1: outputs far off the circle, e.g. rates running away with learning off)."""
    x = [v for v in x if v is not None]
    if not x:
        return "-"
    big = sum(v > 2.0 for v in x)
    return f"{fmt(x)} (median {np.median(x):.3f}" + (f"; {big}/{len(x)} above 2)" if big else ")")


def choose(recs):
    ok = {mult: r for mult, r in recs.items() if r.get("final") is not None and r["status"] == "complete"}
    if not ok:
        return None
    return min(ok, key=lambda mult: float(np.mean(ok[mult]["final"])))


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--out", default="runs/dimension_study", help="sweep folders (one per rule and multiplier)")
    p.add_argument("--duration", type=float, default=2000.0, help="training time units per cell")
    p.add_argument("--replicas", type=int, default=10, help="networks per cell (the seeds)")
    p.add_argument("--seed", type=int, default=1000, help="run.seed = SEED + N")
    p.add_argument("--hold", type=float, default=100.0, help="test.hold: time units per test angle")
    p.add_argument("--mults-eq10", type=_floats, default=[1.0, 10.0, 100.0])
    p.add_argument("--mults-reinforce", type=_floats, default=[100.0, 1000.0, 10000.0])
    p.add_argument("--grid-N", type=int, default=40)
    p.add_argument("--Ns", type=_ints, default=[10, 20, 40, 80, 160])
    p.add_argument("--per-N-grid", action="store_true", help="the whole grid at every N (else the grid-N choice)")
    p.add_argument("--smooth", type=int, default=10, help="smoothing window, curve bins")
    p.add_argument("--initial", type=float, default=100.0, help="time units averaged for the initial MSE")
    p.add_argument("--fraction", type=float, default=0.75, help="learning speed: time to reach FRACTION x initial")
    p.add_argument("--json", default=None,
                   help="default: dimension_study.json here (dimension_study_per_N.json with --per-N-grid)")
    p.add_argument("--figures", default=str(ROOT / "docs" / "figures"))
    p.add_argument("--analyse-only", action="store_true", help="no training: tables from finished cells only")
    a = p.parse_args(argv)
    import warnings
    warnings.filterwarnings("ignore", category=DeprecationWarning)
    mults = {"eq10": a.mults_eq10, "reinforce": a.mults_reinforce}
    if len(mults["eq10"]) != len(mults["reinforce"]):
        p.error("the same budget: give both rules the same number of multipliers")
    t_start = time.perf_counter()
    results = {rule: {} for rule in mults}  # rule -> N -> mult -> record

    def do(rule, mult, N):
        cell_dir = Path(a.out) / f"{rule}_x{mult:g}" / "cells" / f"circuit.N={N}"
        if a.analyse_only:
            from brian_effplast.runs.sweep import _finished
            if not _finished(cell_dir):
                return
            row = {"status": "complete", "run_dir": str(cell_dir)}
        else:
            cell_dir, row = run_cell(rule, mult, N, a)
        results[rule].setdefault(N, {})[mult] = measure(cell_dir, row, a)

    print(f"stage 1: learning-rate grid at N = {a.grid_N}, {a.replicas} networks x {a.duration:g} time units "
          f"per cell -> {a.out}", flush=True)
    for rule in mults:
        for mult in mults[rule]:
            do(rule, mult, a.grid_N)
    chosen_grid = {rule: choose(results[rule].get(a.grid_N, {})) for rule in mults}
    print(f"chosen at N = {a.grid_N}: " + ", ".join(f"{LABEL[r]} x{m:g}" for r, m in chosen_grid.items()
                                                     if m is not None), flush=True)
    print(f"stage 2: N = {a.Ns} ({'the whole grid per N' if a.per_N_grid else 'the N = %d choice' % a.grid_N})",
          flush=True)
    for N in a.Ns:
        if N == a.grid_N:
            continue
        for rule in mults:
            for mult in (mults[rule] if a.per_N_grid else [chosen_grid[rule]]):
                if mult is not None:
                    do(rule, mult, N)
    wall = time.perf_counter() - t_start

    # tables
    chosen = {rule: {N: choose(results[rule][N]) for N in sorted(results[rule])} for rule in mults}
    print("\nlearning-rate grid at N = %d (mean ± s.e.m. over %d networks; MSE; speed: time units to reach "
          "%g x initial)" % (a.grid_N, a.replicas, a.fraction))
    print("| rule | multiplier (eta_W = eta_C = eta_b) | status | initial MSE | time to %g x initial | "
          "final training MSE (last 10%%) | test MSE, prior-weighted |" % a.fraction)
    print("|---|---|---|---|---|---|---|")
    for rule in mults:
        for mult, r in sorted(results[rule].get(a.grid_N, {}).items()):
            star = " (chosen)" if mult == chosen[rule].get(a.grid_N) else ""
            print(f"| {LABEL[rule]} | x{mult:g} ({REFERENCE_ETA * mult:g}){star} | {r['status']} | "
                  f"{fmt(r.get('initial', []))} | {fmt_speed(r.get('speed', []), a.replicas)} | "
                  f"{fmt(r.get('final', []))} | {fmt_test(r.get('test_prior', []))} |")
    stats = {}
    g = {rule: results[rule].get(a.grid_N, {}).get(chosen_grid[rule]) for rule in mults}
    if all(v is not None and v.get("final") for v in g.values()):
        from scipy import stats as st
        for key in ("final", "test_prior"):
            x, y = np.asarray(g["eq10"][key]), np.asarray(g["reinforce"][key])
            welch = st.ttest_ind(x, y, equal_var=False)
            mw = st.mannwhitneyu(x, y, alternative="two-sided")
            paired = st.wilcoxon(x, y)
            stats[key] = {"welch_t": float(welch.statistic), "welch_p": float(welch.pvalue),
                          "mannwhitney_U": float(mw.statistic), "mannwhitney_p": float(mw.pvalue),
                          "wilcoxon_paired_p": float(paired.pvalue)}
            print(f"Eq. 10 vs REINFORCE at N = {a.grid_N}, each at its chosen rate, {key}: Welch t = "
                  f"{welch.statistic:.2f}, p = {welch.pvalue:.2g}; Mann-Whitney U = {mw.statistic:.0f}, "
                  f"p = {mw.pvalue:.2g}; Wilcoxon signed-rank (same initial networks) p = {paired.pvalue:.2g}")
    print("\nagainst N (each rule at its chosen multiplier; mean ± s.e.m. over %d networks)" % a.replicas)
    print("| N | rule | multiplier | initial MSE | time to %g x initial | final training MSE | "
          "test MSE, prior-weighted | training wall s |" % a.fraction)
    print("|---|---|---|---|---|---|---|---|")
    for N in sorted(set(results["eq10"]) | set(results["reinforce"])):
        for rule in mults:
            mult = chosen[rule].get(N)
            if N not in results[rule]:
                continue
            if mult is None:
                print(f"| {N} | {LABEL[rule]} | none finished | | | | | |")
                continue
            r = results[rule][N][mult]
            print(f"| {N} | {LABEL[rule]} | x{mult:g} | {fmt(r['initial'])} | "
                  f"{fmt_speed(r['speed'], a.replicas)} | {fmt(r['final'])} | {fmt_test(r.get('test_prior', []))} | "
                  f"{r.get('train_wall_seconds') or 0:.0f} |")
    # per N: Eq. 10 against REINFORCE, both at their chosen rates, on the same initial networks
    stats_N = {}
    from scipy import stats as st
    for N in sorted(set(results["eq10"]) & set(results["reinforce"])):
        pair = [results[rule][N].get(chosen[rule].get(N)) for rule in ("eq10", "reinforce")]
        if any(r is None or not r.get("final") for r in pair):
            continue
        for key in ("speed", "final"):
            x, y = (np.array([np.nan if v is None else v for v in r[key]], float) for r in pair)
            both = ~np.isnan(x) & ~np.isnan(y)  # (speed: networks that reached the threshold)
            if both.sum() < 2:
                continue
            welch = st.ttest_ind(x[~np.isnan(x)], y[~np.isnan(y)], equal_var=False)
            paired = st.wilcoxon(x[both], y[both])
            stats_N.setdefault(str(N), {})[key] = {"welch_p": float(welch.pvalue), "wilcoxon_paired_p":
                                                   float(paired.pvalue), "pairs": int(both.sum())}
            print(f"N = {N}, {key}: Eq. 10 {np.nanmean(x):.3g} vs REINFORCE {np.nanmean(y):.3g}; Welch p = "
                  f"{welch.pvalue:.2g}; Wilcoxon signed-rank p = {paired.pvalue:.2g} ({both.sum()} pairs)")
    # with the whole grid per N: speed again, each rule at its fastest rate (most networks reaching
    # the threshold, then the shortest mean time), which need not be its lowest-error rate
    fastest, stats_fastest = {rule: {} for rule in mults}, {}
    if a.per_N_grid:
        for rule in mults:
            for N, recs in results[rule].items():
                ok = {m: [v for v in r.get("speed", []) if v is not None] for m, r in recs.items()}
                ok = {m: v for m, v in ok.items() if v}
                if ok:
                    fastest[rule][N] = min(ok, key=lambda m: (-len(ok[m]), float(np.mean(ok[m]))))
        for N in sorted(set(fastest["eq10"]) & set(fastest["reinforce"])):
            pair = [results[rule][N][fastest[rule][N]] for rule in ("eq10", "reinforce")]
            x, y = (np.array([np.nan if v is None else v for v in r["speed"]], float) for r in pair)
            both = ~np.isnan(x) & ~np.isnan(y)
            if both.sum() < 2:
                continue
            paired = st.wilcoxon(x[both], y[both])
            stats_fastest[str(N)] = {"eq10": fastest["eq10"][N], "reinforce": fastest["reinforce"][N],
                                     "eq10_mean": float(np.nanmean(x)), "reinforce_mean": float(np.nanmean(y)),
                                     "wilcoxon_paired_p": float(paired.pvalue), "pairs": int(both.sum())}
            print(f"N = {N}, speed at the fastest rates: Eq. 10 x{fastest['eq10'][N]:g} {np.nanmean(x):.3g} vs "
                  f"REINFORCE x{fastest['reinforce'][N]:g} {np.nanmean(y):.3g}; Wilcoxon signed-rank "
                  f"p = {paired.pvalue:.2g} ({both.sum()} pairs)")
    print(f"\nwall time {wall:.0f} s")

    record = {"args": {k: v for k, v in vars(a).items()}, "wall_seconds": round(wall, 1),
              "chosen": {rule: {str(N): m for N, m in c.items()} for rule, c in chosen.items()},
              "stats_grid_N": stats, "stats_per_N": stats_N, "speed_at_fastest_rates": stats_fastest,
              "cells": {rule: {str(N): {f"x{m:g}": r for m, r in d.items()} for N, d in results[rule].items()}
                        for rule in results}}
    if a.json is None:
        a.json = str(HERE / ("dimension_study_per_N.json" if a.per_N_grid else "dimension_study.json"))
    Path(a.json).write_text(json.dumps(record, indent=1, default=float) + "\n")
    print(f"wrote {a.json}")
    plot(results, chosen, chosen_grid, fastest, a)


def plot(results, chosen, chosen_grid, fastest, a):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from brian_effplast.analysis import smooth
    figs = Path(a.figures)
    figs.mkdir(parents=True, exist_ok=True)
    colors = {"eq10": "C0", "reinforce": "C3"}
    # learning curves at grid N, every multiplier
    fig, axes = plt.subplots(1, 3, figsize=(15, 3.8), sharey=True)
    for rule in ("eq10", "reinforce"):
        r = results[rule].get(a.grid_N, {}).get(chosen_grid[rule])
        if r and "curve_mean" in r:
            t, m, s = np.array(r["time"]), smooth(np.array(r["curve_mean"]), a.smooth), \
                smooth(np.array(r["curve_sem"]), a.smooth)
            axes[2].plot(t, m, color=colors[rule], lw=1.8, label=f"{LABEL[rule]} x{chosen_grid[rule]:g}")
            axes[2].fill_between(t, m - s, m + s, color=colors[rule], alpha=0.2, lw=0)
    axes[2].set_title(f"both rules at their chosen rates, N = {a.grid_N}", fontsize=9)
    axes[2].set_xlabel("time (time units)")
    axes[2].legend(fontsize=8)
    for ax, rule in zip(axes, ("eq10", "reinforce")):
        recs = results[rule].get(a.grid_N, {})
        for k, (mult, r) in enumerate(sorted(recs.items())):
            if "curve_mean" not in r:
                continue
            t, m, s = np.array(r["time"]), smooth(np.array(r["curve_mean"]), a.smooth), \
                smooth(np.array(r["curve_sem"]), a.smooth)
            lw = 2.2 if mult == chosen_grid[rule] else 1.0
            line, = ax.plot(t, m, lw=lw, color=plt.cm.viridis(k / max(1, len(recs) - 1) * 0.85),
                            label=f"x{mult:g} (eta {REFERENCE_ETA * mult:g})"
                            + (" chosen" if mult == chosen_grid[rule] else "")
                            + ("" if r["status"] == "complete" else f" [{r['status']}]"))
            ax.fill_between(t, m - s, m + s, color=line.get_color(), alpha=0.2, lw=0)
        ax.set_yscale("log")
        ax.set_title(f"{LABEL[rule]}, N = {a.grid_N}: training MSE (mean ± s.e.m., {a.replicas} networks)",
                     fontsize=9)
        ax.set_xlabel("time (time units)")
        ax.legend(fontsize=8)
    axes[0].set_ylabel(f"training MSE (smoothed over {a.smooth * 10:g} time units)")
    fig.tight_layout()
    fig.savefig(figs / "beyond_reinforce.png", dpi=110)
    plt.close(fig)
    # against N
    fig, axes = plt.subplots(1, 3, figsize=(13, 3.8))
    for rule in ("eq10", "reinforce"):
        for ax, key in zip(axes, ("speed", "final", "test_prior")):
            rate = fastest[rule] if key == "speed" and a.per_N_grid else chosen[rule]
            Ns = sorted(N for N in results[rule] if rate.get(N) is not None)
            recs = [results[rule][N][rate[N]] for N in Ns]
            if key == "test_prior":
                x = [N for N, r in zip(Ns, recs) if r.get(key)]
                q = np.array([np.percentile(r[key], [25, 50, 75]) for r in recs if r.get(key)])
                if len(x):
                    ax.errorbar(x, q[:, 1], yerr=[q[:, 1] - q[:, 0], q[:, 2] - q[:, 1]], marker="o", capsize=3,
                                color=colors[rule], label=LABEL[rule])
                continue
            ms = [mean_sem(r.get(key, [])) for r in recs]
            x = [N for N, (m, s, n) in zip(Ns, ms) if n]
            y = [m for m, s, n in ms if n]
            e = [0 if math.isnan(s) else s for m, s, n in ms if n]
            ax.errorbar(x, y, yerr=e, marker="o", capsize=3, color=colors[rule], label=LABEL[rule])
            if a.per_N_grid:  # which rate each N chose
                for N, m in zip(x, y):
                    ax.annotate(f"x{rate[N]:g}", (N, m), textcoords="offset points", xytext=(4, 4),
                                fontsize=7, color=colors[rule])
            if key == "speed":
                for N, (m, s, n) in zip(Ns, ms):
                    if n < a.replicas:
                        ax.annotate(f"{n}/{a.replicas}", (N, m if n else 0), fontsize=7, color=colors[rule])
    titles = {"speed": f"time to {a.fraction:g} x initial MSE", "final": "final training MSE (last 10%)",
              "test_prior": "test MSE, prior-weighted: median and quartiles"}
    if a.per_N_grid:
        titles["speed"] += "\neach rule at its fastest rate"
        titles["final"] += "\neach rule at its lowest-error rate"
        titles["test_prior"] += "\neach rule at its lowest-error rate"
    all_Ns = sorted({N for rule in results for N in results[rule]})
    for ax, key in zip(axes, ("speed", "final", "test_prior")):
        ax.set_xscale("log", base=2)
        ax.set_xticks(all_Ns, [str(N) for N in all_Ns])
        ax.set_xticks([], minor=True)
        ax.set_xlabel("N (neurons)")
        ax.set_title(titles[key], fontsize=9)
        ax.legend(fontsize=8)
    axes[0].set_ylabel("time units")
    axes[2].set_yscale("log")
    where = ("the rate chosen at each N from the whole grid (labels)" if a.per_N_grid
             else f"the rate chosen at N = {a.grid_N}")
    fig.suptitle(f"each rule at {where}; mean ± s.e.m. over {a.replicas} networks, "
                 f"{a.duration:g} time units of training", fontsize=9)
    fig.tight_layout()
    name = "beyond_dimension_per_N.png" if a.per_N_grid else "beyond_dimension.png"
    fig.savefig(figs / name, dpi=110)
    plt.close(fig)
    print(f"wrote {figs / 'beyond_reinforce.png'}, {figs / name}")


if __name__ == "__main__":
    sys.exit(main())
