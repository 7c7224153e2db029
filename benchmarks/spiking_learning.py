"""Does the rule learn the estimation task on a spiking network? Networks of Poisson neurons
against rate neurons, each with the whole rule and with the decoder alone learning.

Four conditions, each ``--replicas`` independent networks (seed ``--seed``: replica ``q``
starts from the same initial ``W``, ``C``, ``b``, ``D`` and stimulus in every condition)
trained for ``--duration`` time units on cpp_standalone:

- ``spiking``: ``models/estimation_spiking.toml`` (Poisson neurons, rates as filtered spike trains);
- ``spiking, decoder only``: the same with ``eta_W = eta_C = eta_b = 0`` (only ``D`` learns, by
  its delta rule: what the readout alone gets out of the untrained spiking circuit);
- ``rate``, ``rate, decoder only``: the same two with ``models/estimation.toml`` (Eq. 2).

Each network is tested untrained (its initial state) and trained with the model's test protocol
(``[test]``: 12 held angles x 200 time units, plasticity off); per network the test MSE over the
angles, uniformly and weighted by the stimulus prior. Paired tests over the networks: trained
against untrained, and whole rule against decoder only (Wilcoxon signed-rank, exact, two-sided;
the paired t-test beside it). Run with a core to spare::

    python benchmarks/spiking_learning.py [--replicas 10] [--duration 20000] [--seed 1] [--out runs/spiking_learning]

Writes ``OUT/results.json`` (and, without the curves and spikes, ``benchmarks/spiking_learning.json``),
``OUT/spiking_learning.png`` (learning curves; test MSE per network
before and after; spikes and filtered rates of a trained spiking network) and prints the tables
of ``docs/beyond.md``. A condition whose run directory is complete is not trained again (its
tests are run again); ``--replot`` only redraws the figure and tables.
"""

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

from brian_effplast import Config, PlasticCircuit, runs
from brian_effplast.config.modelfiles import model_path
from brian_effplast.blocks.prior import prior_weights
from brian_effplast.runs.protocol import held_stimulus_test, per_angle_error

CONDITIONS = {
    "spiking": ("estimation_spiking", {}),
    "spiking, decoder only": ("estimation_spiking", {f"plasticity.eta_{p}": 0.0 for p in "WCb"}),
    "rate": ("estimation", {}),
    "rate, decoder only": ("estimation", {f"plasticity.eta_{p}": 0.0 for p in "WCb"}),
}


def test_mse(data, task):
    """Per network: the test MSE over the angles, uniform and prior-weighted."""
    per_angle = per_angle_error(data, task)  # (R, K)
    w = prior_weights(np.asarray(data["angles"]), data["prior_mu"], data["prior_kappa"])
    return per_angle.mean(axis=1), per_angle @ w


def decomposition(data, task):
    """Per network, prior-weighted: the squared bias of the mean output and the variance of the
    outputs about it (their sum is the test MSE), and the mean variance of a neuron's rate."""
    y, angles = np.asarray(data["outputs"]), np.asarray(data["angles"])  # (R, K, S, n_out)
    w = prior_weights(angles, data["prior_mu"], data["prior_kappa"])
    bias2 = np.sum((y.mean(axis=2) - task.target(angles)[None]) ** 2, axis=-1)  # (R, K)
    var = np.sum(y.var(axis=2), axis=-1)
    return {"bias2": (bias2 @ w).tolist(), "variance": (var @ w).tolist(),
            "rate_variance": np.asarray(data["rates"]).var(axis=2).mean(axis=(1, 2)).tolist(),
            "rate_mean": np.asarray(data["rates"]).mean(axis=(1, 2, 3)).tolist()}


def paired(a, b):
    """Paired comparison of a and b (per network): mean and s.e.m. of b - a, Wilcoxon and t p-values."""
    from scipy.stats import ttest_rel, wilcoxon
    d = np.asarray(b) - np.asarray(a)
    return {"mean_diff": float(d.mean()), "sem_diff": float(d.std(ddof=1) / np.sqrt(len(d))),
            "wilcoxon_p": float(wilcoxon(a, b).pvalue), "t_p": float(ttest_rel(a, b).pvalue),
            "n_lower": int(np.sum(d < 0)), "n": len(d)}


def mean_sem(x):
    x = np.asarray(x, dtype=float)
    return float(x.mean()), float(x.std(ddof=1) / np.sqrt(len(x)))


def run_condition(name, out, args):
    model, changes = CONDITIONS[name]
    cfg = Config.from_toml(model_path(model)).replace(**changes)
    d = out / name.replace(", ", "_").replace(" ", "_")
    t0 = time.perf_counter()
    if not (d / "summary.json").is_file() or json.loads((d / "summary.json").read_text())["status"] != "complete":
        if d.exists():
            import shutil
            shutil.rmtree(d)
        runs.train(cfg, d, duration=args.duration, seed=args.seed, replicas=args.replicas,
                   target="cpp_standalone", checkpoint_every=0, quiet=True)
    trained = runs.load(d)
    untrained = PlasticCircuit(trained.config, seed=args.seed)  # the same seed: the initial state
    task = trained.task
    before, after = held_stimulus_test(untrained), held_stimulus_test(trained)
    (u_uni, u_pri), (t_uni, t_pri) = test_mse(before, task), test_mse(after, task)
    curve = np.load(d / "learning_curve.npz")
    res = {"model": model, "changes": changes, "run_dir": str(d), "seconds": round(time.perf_counter() - t0, 1),
           "train_wall_seconds": json.loads((d / "summary.json").read_text())["wall_seconds"],
           "test_mse_untrained": u_uni.tolist(), "test_mse_trained": t_uni.tolist(),
           "test_mse_prior_untrained": u_pri.tolist(), "test_mse_prior_trained": t_pri.tolist(),
           "trained_vs_untrained": paired(u_uni, t_uni), "trained_vs_untrained_prior": paired(u_pri, t_pri),
           "untrained": decomposition(before, task), "trained": decomposition(after, task),
           "curve": (-curve["curve"]).tolist(), "curve_time": curve["time"].tolist()}
    print(f"{name:>22}: {res['seconds']:.0f} s", flush=True)
    return res


def spike_raster(run_dir, angle=0.0, duration=20.0):
    """Spikes and filtered rates of replica 0 of a trained spiking network, stimulus held at
    ``angle``, plasticity off (numpy target: a SpikeMonitor added to the model's network)."""
    from brian2 import SpikeMonitor
    model = runs.load(run_dir, target="numpy")
    model.config = model.config.replace(**{"stimulus.sigma_s": 0.0})
    model.state["theta"][:] = angle
    N = model.N
    spikes = SpikeMonitor(model.population)
    model.add(spikes)
    out = model.run(duration, plastic=False, record=("r",), record_every=10)
    keep = np.asarray(spikes.i[:]) < N
    t = (np.asarray(spikes.t_[:]) / float(model.tau))[keep]  # (the model's network starts at 0)
    return {"t": t.tolist(), "i": np.asarray(spikes.i[:])[keep].tolist(),
            "r": out["r"][:, 0, :].tolist(), "r_time": (np.arange(1, len(out["r"]) + 1) * 10 * model.dt).tolist()}


def figure(results, raster, path, duration):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import MaxNLocator
    colors = {"spiking": "C3", "spiking, decoder only": "C1", "rate": "C0", "rate, decoder only": "C9"}
    fig, axes = plt.subplots(1, 3, figsize=(15, 4.3))
    ax = axes[0]
    for name, res in results["conditions"].items():
        c, t = np.asarray(res["curve"]), np.asarray(res["curve_time"])
        k = max(1, len(t) // 50)  # bins of k curve points
        n = len(t) // k * k
        cb, tb = c[:, :n].reshape(len(c), -1, k).mean(axis=2), t[:n].reshape(-1, k).mean(axis=1)
        m, s = cb.mean(axis=0), cb.std(axis=0, ddof=1) / np.sqrt(len(cb))
        ax.plot(tb, m, color=colors[name], label=name)
        ax.fill_between(tb, m - s, m + s, color=colors[name], alpha=0.25, lw=0)
    ax.set(yscale="log", xlabel="time (time units)", ylabel="training MSE",
           title=f"learning ({len(cb)} networks, mean ± s.e.m.)")
    ax.xaxis.set_major_locator(MaxNLocator(5))
    ax.legend(fontsize=8)
    ax = axes[1]
    for x, (name, res) in enumerate(results["conditions"].items()):
        u, t = np.asarray(res["test_mse_prior_untrained"]), np.asarray(res["test_mse_prior_trained"])
        for a, b in zip(u, t):
            ax.plot([x - 0.3, x + 0.3], [a, b], color=colors[name], alpha=0.5, lw=1)
        ax.plot([x - 0.3, x + 0.3], [u.mean(), t.mean()], color="k", lw=2, marker="o")
    ax.set_xticks(range(len(results["conditions"])))
    ax.set_xticklabels([n.replace(", ", ",\n") for n in results["conditions"]], fontsize=8)
    ax.set(ylabel="test MSE, prior-weighted",
           title=f"untrained (left) -> after {duration:g} time units (right)")
    ax = axes[2]
    ax.scatter(raster["t"], raster["i"], s=12, color="k", marker="|", lw=0.8)
    ax.set(xlabel="time (time units, 1 = 100 ms)", ylabel="neuron", title="trained spiking network, θ = 0: spikes")
    ax2 = ax.twinx()
    r = np.asarray(raster["r"])
    top = np.argsort(r.mean(axis=0))[-3:]
    for j in top:
        ax2.plot(raster["r_time"], r[:, j], lw=1, label=f"r of neuron {j}")
    ax2.set_ylabel("filtered rate r")
    ax2.legend(fontsize=7, loc="upper right")
    fig.tight_layout()
    fig.savefig(path, dpi=110)


def table(results):
    lines = ["| condition | test MSE untrained | trained | prior-weighted untrained | trained | "
             "trained < untrained (prior-weighted) | Wilcoxon p | paired t p |",
             "|---|---|---|---|---|---|---|---|"]
    for name, res in results["conditions"].items():
        cells = [f"{m:.3f} ± {s:.3f}" for m, s in (mean_sem(res[k]) for k in (
            "test_mse_untrained", "test_mse_trained", "test_mse_prior_untrained", "test_mse_prior_trained"))]
        p = res["trained_vs_untrained_prior"]
        lines.append(f"| {name} | " + " | ".join(cells) + f" | {p['n_lower']}/{p['n']} | {p['wilcoxon_p']:.2g} | "
                     f"{p['t_p']:.2g} |")
    lines += ["", "| condition, trained (prior-weighted) | squared bias of the mean output | variance of the output | "
              "mean rate | variance of a rate |", "|---|---|---|---|---|"]
    for name, res in results["conditions"].items():
        tr = res["trained"]
        lines.append(f"| {name} | " + " | ".join(f"{m:.3f} ± {s:.3f}" for m, s in (
            mean_sem(tr[k]) for k in ("bias2", "variance", "rate_mean"))) + f" | {np.mean(tr['rate_variance']):.4f} |")
    lines += ["", "| whole rule against decoder only (trained, prior-weighted) | difference | Wilcoxon p | "
              "paired t p |", "|---|---|---|---|"]
    for kind, p in results["rule_vs_decoder"].items():
        lines.append(f"| {kind} | {p['mean_diff']:+.3f} ± {p['sem_diff']:.3f} ({p['n_lower']}/{p['n']} lower) | "
                     f"{p['wilcoxon_p']:.2g} | {p['t_p']:.2g} |")
    return "\n".join(lines)


def write_summary(results, path):
    """``results`` without the learning curves and the spikes, to ``path``."""
    small = {k: v for k, v in results.items() if k != "raster"}
    small["conditions"] = {name: {k: v for k, v in res.items() if k not in ("curve", "curve_time")}
                           for name, res in results["conditions"].items()}
    Path(path).write_text(json.dumps(small, indent=1) + "\n")


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--replicas", type=int, default=10)
    p.add_argument("--duration", type=float, default=20000.0)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--out", default="runs/spiking_learning")
    p.add_argument("--only", action="append", choices=list(CONDITIONS), help="conditions to run (default all)")
    p.add_argument("--json", default=str(Path(__file__).with_suffix(".json")),
                   help="the numbers without the curves and spikes (default benchmarks/spiking_learning.json)")
    p.add_argument("--replot", action="store_true", help="only redraw the figure and table from OUT/results.json")
    args = p.parse_args(argv)
    out = Path(args.out)
    if args.replot:
        results = json.loads((out / "results.json").read_text())
        figure(results, results["raster"], out / "spiking_learning.png", results["duration"])
        write_summary(results, args.json)
        print(table(results))
        return 0
    out.mkdir(parents=True, exist_ok=True)
    results = {"replicas": args.replicas, "duration": args.duration, "seed": args.seed,
               "conditions": {name: run_condition(name, out, args) for name in (args.only or CONDITIONS)}}
    conds = results["conditions"]
    results["rule_vs_decoder"] = {
        kind: paired(conds[f"{kind}, decoder only"]["test_mse_prior_trained"], conds[kind]["test_mse_prior_trained"])
        for kind in ("spiking", "rate") if kind in conds and f"{kind}, decoder only" in conds}
    if "spiking" in conds:
        results["raster"] = spike_raster(conds["spiking"]["run_dir"])
        figure(results, results["raster"], out / "spiking_learning.png", args.duration)
    (out / "results.json").write_text(json.dumps(results, indent=1))
    write_summary(results, args.json)
    print(table(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
