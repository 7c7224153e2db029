"""Figures of a run: learning curve, population tuning, output distributions.

Each function returns a :class:`matplotlib.figure.Figure` drawn with the Agg
renderer and no pyplot state (safe in scripts, threads and notebooks); save
it with ``fig.savefig("name.png")``.
"""

import numpy as np
from matplotlib.figure import Figure
from matplotlib.patches import Ellipse

from . import analysis

__all__ = ["learning_curve", "population_tuning", "output_distributions"]


def _figure(w, h):
    fig = Figure(figsize=(w, h), layout="constrained")
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    FigureCanvasAgg(fig)
    return fig


def _load(test_npz):
    """A dict of arrays from a path, an open NpzFile or a mapping."""
    if isinstance(test_npz, (str, bytes)) or hasattr(test_npz, "__fspath__"):
        with np.load(test_npz, allow_pickle=False) as z:
            return {k: z[k] for k in z.files}
    return {k: test_npz[k] for k in (test_npz.files if hasattr(test_npz, "files") else test_npz.keys())}


def learning_curve(curve, dt_bin, task, transient=0.0, window=None):
    """Learning curve: mean +- sem across replicas, smoothed.

    Parameters
    ----------
    curve : ndarray, shape (R, bins) or (bins,)
        Mean reward per bin (``learning_curve.npz``'s ``curve``).
    dt_bin : float
        Time units per bin.
    task : str
        ``"estimation"`` (plots the MSE ``-reward``, log scale) or
        ``"classification"`` (plots the log-likelihood ``reward``).
    transient : float
        Plasticity-off period at the start, shaded.
    window : int, optional
        Smoothing window in bins (centred moving average); default about
        2% of the run.
    """
    curve = np.atleast_2d(np.asarray(curve, dtype=float))
    R, T = curve.shape
    if window is None:
        window = max(1, T // 50)
    y = -curve if task == "estimation" else curve
    ys = analysis.smooth(y, window)
    mean, sem = analysis.learning_curve_stats(ys)
    t = (np.arange(T) + 0.5) * dt_bin
    fig = _figure(6, 3.6)
    ax = fig.add_subplot()
    ax.plot(t, mean, color="C0", lw=1.5, label=f"mean of {R} replica(s)" if R > 1 else "replica 0")
    if R > 1:
        ax.fill_between(t, mean - sem, mean + sem, color="C0", alpha=0.3, lw=0, label="± sem")
    if transient > 0:
        ax.axvspan(0, min(transient, t[-1] + dt_bin / 2 if T else transient), color="0.85", lw=0,
                   label="plasticity off")
    ax.set_xlabel("time (time units)")
    smooth_tu = window * dt_bin
    if task == "estimation":
        ax.set_ylabel("MSE  (−reward)")
        lo, hi = np.min(mean - sem) if T else 0, np.max(mean + sem) if T else 0
        if T and lo > 0 and hi / lo > 10:  # log scale only when it spans more than a decade
            ax.set_yscale("log")
        ax.set_title(f"Estimation: squared error (smoothed over {smooth_tu:g} time units)", fontsize=10)
    else:
        ax.set_ylabel("log-likelihood (reward)")
        ax.set_title(f"Classification: log-likelihood (smoothed over {smooth_tu:g} time units)", fontsize=10)
    ax.set_xlim(0, T * dt_bin if T else 1)
    ax.legend(fontsize=8, loc="best")
    return fig


def population_tuning(test_npz):
    """Tuning curves of one replica and the population rate vs angle.

    ``test_npz``: path or mapping with ``angles`` (K,) and ``rates``
    (R, K, S, N) (optionally ``prior_mu``, ``prior_kappa``: the stationary
    prior, drawn on a second axis).
    """
    d = _load(test_npz)
    angles, rates = np.asarray(d["angles"]), np.asarray(d["rates"])
    # sorted, and closed around the circle (the first angle again at +360 degrees)
    order = np.argsort(angles)
    order = np.append(order, order[:1])
    deg = np.degrees(analysis.wrap_angle(angles[order]))
    deg[-1] += 360.0
    tc = analysis.tuning_curves(rates)[:, order, :]  # (R, K+1, N)
    pop = analysis.population_rate(rates)
    R = rates.shape[0]
    fig = _figure(10, 3.6)
    ax1, ax2 = fig.subplots(1, 2)
    ax1.plot(deg, tc[0], color="0.4", lw=0.8, alpha=0.7)
    ax1.set_xlabel("stimulus angle (degrees)")
    ax1.set_ylabel("mean rate")
    ax1.set_title(f"Tuning curves, replica 0 ({rates.shape[3]} neurons)", fontsize=10)
    mean = pop["mean"][order]
    sem = (pop["sem_replicas"] if R > 1 else pop["sem_neurons"])[order]
    ax2.errorbar(deg, mean, yerr=sem, color="C0", marker="o", ms=4, capsize=2,
                 label=f"population rate ± sem ({'replicas' if R > 1 else 'neurons'})")
    ax2.set_xlabel("stimulus angle (degrees)")
    ax2.set_ylabel("population-averaged rate")
    ax2.set_title("Population rate vs angle", fontsize=10)
    if "prior_mu" in d and "prior_kappa" in d:
        grid = np.linspace(-np.pi, np.pi, 361)
        kappa = float(d["prior_kappa"])
        dens = np.exp(kappa * (np.cos(grid - float(d["prior_mu"])) - 1.0))
        dens /= np.trapezoid(dens, grid) if hasattr(np, "trapezoid") else np.trapz(dens, grid)
        tw = ax2.twinx()
        tw.plot(np.degrees(grid), dens, color="C1", lw=1, ls="--", label="stimulus prior")
        tw.set_ylabel("prior density", color="C1")
        tw.set_ylim(0, None)
        h1, l1 = ax2.get_legend_handles_labels()
        h2, l2 = tw.get_legend_handles_labels()
        ax2.legend(h1 + h2, l1 + l2, fontsize=8, loc="lower center")
    else:
        ax2.legend(fontsize=8)
    ticks = [x for x in range(-180, 541, 90) if deg[0] - 1e-9 <= x <= deg[-1] + 1e-9]
    for ax in (ax1, ax2):
        ax.set_xticks(ticks)
    return fig


def output_distributions(test_npz, task, replica=0):
    """Decoder outputs at each test angle, one replica.

    Estimation: the 2-D outputs as a scatter per angle with 95% confidence
    ellipses (:func:`analysis.confidence_ellipse`) and the targets
    ``(cos, sin)``. Classification: a histogram of ``y`` per angle, the
    class boundary ``y = 0`` marked.
    """
    import matplotlib
    d = _load(test_npz)
    angles, y = np.asarray(d["angles"]), np.asarray(d["outputs"])
    K = angles.size
    yr = y[replica]  # (K, S, n_out)
    cmap = matplotlib.colormaps["hsv"]
    colors = [cmap((a + np.pi) / (2 * np.pi)) for a in angles]
    if task == "estimation":
        fig = _figure(5.2, 5)
        ax = fig.add_subplot()
        circ = np.linspace(0, 2 * np.pi, 200)
        ax.plot(np.cos(circ), np.sin(circ), color="0.7", lw=0.8)
        S = yr.shape[1]
        step = max(1, S // 200)
        for k in range(K):
            pts = yr[k, ::step]
            ax.scatter(pts[:, 0], pts[:, 1], s=3, color=colors[k], alpha=0.35, lw=0)
            if yr.shape[1] >= 3:
                c, w, h, ang = analysis.confidence_ellipse(yr[k], 0.95)
                ax.add_patch(Ellipse(c, w, h, angle=ang, fill=False, color=colors[k], lw=1.5))
            ax.plot(np.cos(angles[k]), np.sin(angles[k]), marker="o", ms=7, mfc=colors[k], mec="k")
        ax.set_aspect("equal")
        ax.set_xlabel("output $y_1$  (target cos θ)")
        ax.set_ylabel("output $y_2$  (target sin θ)")
        R = y.shape[0]
        ax.set_title(f"Estimates per test angle with 95% ellipses\n(replica {replica} of {R}; "
                     "dots on the unit circle: targets)", fontsize=9)
        lim = max(1.3, float(np.nanmax(np.abs(yr))) * 1.05) if yr.size else 1.3
        lim = min(lim, 5.0)
        ax.set_xlim(-lim, lim)
        ax.set_ylim(-lim, lim)
        return fig
    order = np.argsort(angles)
    ncol = min(4, K)
    nrow = int(np.ceil(K / ncol))
    fig = _figure(2.6 * ncol, 1.9 * nrow + 0.4)
    axes = np.atleast_1d(fig.subplots(nrow, ncol, sharex=True, squeeze=False)).ravel()
    lo, hi = float(np.min(yr)), float(np.max(yr))
    span = max(hi - lo, 1e-6)
    bins = np.linspace(min(lo, 0) - 0.05 * span, max(hi, 0) + 0.05 * span, 40)
    for ax, k in zip(axes, order):
        cls = int(angles[k] >= 0)
        ax.hist(yr[k, :, 0], bins=bins, color="C1" if cls else "C0", alpha=0.8)
        ax.axvline(0, color="k", lw=0.8, ls="--")
        ax.set_title(f"θ = {np.degrees(angles[k]):.0f}°, class {cls}", fontsize=9)
        ax.set_yticks([])
    for ax in axes[K:]:
        ax.set_visible(False)
    for ax in axes[(nrow - 1) * ncol:]:
        ax.set_xlabel("output y = D r")
    fig.suptitle(f"Classification outputs per test angle (replica {replica} of {y.shape[0]}); "
                 "dashed: decision boundary", fontsize=10)
    return fig


# ---------------------------------------------------------------------------
# Paper panels (Figs. 1-3, S1), used by brian_effplast.figures. Each takes
# test data (dicts as in test.npz) or learning curves and returns a Figure.
# ---------------------------------------------------------------------------

def _deg_closed(angles, *arrays):
    """Sort by angle and close the circle: degrees (K+1,) and arrays (..., K+1)."""
    angles = np.asarray(angles)
    order = np.argsort(analysis.wrap_angle(angles))
    order = np.append(order, order[:1])
    deg = np.degrees(analysis.wrap_angle(angles[order]))
    deg[-1] += 360.0
    return (deg,) + tuple(np.asarray(a)[..., order] for a in arrays)


def _band(ax, x, mean, sem, color, label, marker="o"):
    ax.plot(x, mean, color=color, marker=marker, ms=3, lw=1.5, label=label)
    ax.fill_between(x, mean - sem, mean + sem, color=color, alpha=0.25, lw=0)


def _prior_curve(test, grid):
    k, mu = float(test["prior_kappa"]), float(test["prior_mu"])
    d = np.exp(k * (np.cos(grid - mu) - 1.0))
    return d / (np.sum(d) * (grid[1] - grid[0]))


def _xdeg(ax):
    ax.set_xlabel("stimulus angle θ (degrees)")
    ax.set_xticks([-180, -90, 0, 90, 180])


def fig1b_learning_curves(est, cls, window=None):
    """Fig. 1b: learning curves, estimation (MSE) and classification
    (log-likelihood); ``est``/``cls`` = (curve (R, bins), curve_bin)."""
    fig = _figure(5.5, 5)
    axes = fig.subplots(2, 1)
    for ax, (curve, dtb), task in zip(axes, (est, cls), ("estimation", "classification")):
        curve = np.atleast_2d(np.asarray(curve, dtype=float))
        R, T = curve.shape
        w = window or max(1, T // 50)
        y = analysis.smooth(-curve if task == "estimation" else curve, w)
        m, s = analysis.learning_curve_stats(y)
        t = (np.arange(T) + 0.5) * dtb
        ax.plot(t, m, color="C0" if task == "estimation" else "C2", lw=1.3)
        ax.fill_between(t, m - s, m + s, color="C0" if task == "estimation" else "C2", alpha=0.3, lw=0)
        ax.set_ylabel("MSE" if task == "estimation" else "log-likelihood")
        ax.set_title(f"{task}: mean ± s.e.m. of {R} replicas (smoothed {w * dtb:g} t.u.)", fontsize=9)
        if task == "estimation" and np.all(m > 0):
            ax.set_yscale("log")
    axes[-1].set_xlabel("training time (time units)")
    fig.suptitle("Fig. 1b: performance during learning", fontsize=10)
    return fig


def fig_preferred_stimuli(test, title, boundary=False, bandwidth=0.35, bins=18):
    """Fig. 1c/1d (S1c, S1e): histogram of preferred stimuli (all neurons of
    all replicas) with a von Mises KDE and the stimulus prior."""
    pref = analysis.preferred_stimulus(test["rates"], test["angles"]).ravel()
    grid = np.linspace(-np.pi, np.pi, 361)
    kde = analysis.circular_kde(pref, grid, bandwidth)
    fig = _figure(4.8, 3.4)
    ax = fig.add_subplot()
    ax.hist(np.degrees(pref), bins=np.linspace(-180, 180, bins + 1), density=True, color="C1", alpha=0.6,
            label=f"{pref.size} neurons")
    ax.plot(np.degrees(grid), kde * np.pi / 180, color="C1", lw=2, label="KDE")
    ax.plot(np.degrees(grid), _prior_curve(test, grid) * np.pi / 180, color="0.5", lw=1, label="stimulus prior")
    if boundary:
        for x in (0, -180, 180):
            ax.axvline(x, color="g", ls="--", lw=1, label="class boundary" if x == 0 else None)
    _xdeg(ax)
    ax.set_ylabel("density (per degree)")
    ax.set_title(title, fontsize=9)
    ax.legend(fontsize=7)
    return fig


def fig_population_rates(items, title, boundary=False):
    """Fig. 1e/1f: population-averaged rate vs angle for several networks
    ``items`` = [(label, test)]; shading: s.e.m. across replicas (dark) and
    across all neurons (light)."""
    fig = _figure(5.2, 3.5)
    ax = fig.add_subplot()
    tw = ax.twinx()
    grid = np.linspace(-np.pi, np.pi, 361)
    for i, (label, t) in enumerate(items):
        pop = analysis.population_rate(t["rates"])
        deg, m, sr, sn = _deg_closed(t["angles"], pop["mean"], pop["sem_replicas"], pop["sem_neurons"])
        c = f"C{i}"
        ax.fill_between(deg, m - sn, m + sn, color=c, alpha=0.12, lw=0)
        _band(ax, deg, m, sr, c, label)
        tw.plot(np.degrees(grid), _prior_curve(t, grid), color=c, ls=":", lw=1)
    if boundary:
        ax.axvline(0, color="g", ls="--", lw=1)
    _xdeg(ax)
    ax.set_ylabel("population rate")
    tw.set_ylabel("prior density (dotted)")
    tw.set_ylim(0, None)
    ax.set_title(title, fontsize=9)
    ax.legend(fontsize=7, loc="upper left")
    return fig


def fig2a_output_ellipses(test, replica=0, level=0.95):
    """Fig. 2a: estimation outputs: targets (crosses), mean outputs with bias
    lines, 95% ellipses; lighter colours further from the prior mode."""
    angles, y = np.asarray(test["angles"]), np.asarray(test["outputs"])[replica]
    mu = float(test.get("prior_mu", 0.0))
    fig = _figure(4.4, 4.4)
    ax = fig.add_subplot()
    circ = np.linspace(0, 2 * np.pi, 200)
    ax.plot(np.cos(circ), np.sin(circ), color="0.85", lw=0.8)
    for k, a in enumerate(angles):
        light = abs(float(analysis.wrap_angle(a - mu))) / np.pi
        col = (0.75 * light + 0.55 * (1 - light), 0.6 * light + 0.35 * (1 - light), 0.25 * light)
        col = tuple(min(1, c + 0.35 * light) for c in col)
        c, w, h, ang = analysis.confidence_ellipse(y[k], level)
        ax.add_patch(Ellipse(c, w, h, angle=ang, fill=False, color=col, lw=1.5))
        ax.plot([np.cos(a), c[0]], [np.sin(a), c[1]], color="k", lw=1)
        ax.plot(np.cos(a), np.sin(a), "k+", ms=8)
    ax.set_aspect("equal")
    ax.set_xlim(-1.5, 1.5)
    ax.set_ylim(-1.5, 1.5)
    ax.set_xlabel("$y_1$")
    ax.set_ylabel("$y_2$")
    ax.set_title(f"Fig. 2a: estimation outputs (replica {replica}); lines: bias", fontsize=9)
    return fig


def fig2b_bias_variance(test):
    """Fig. 2b: squared bias and variance vs angle, mean ± s.e.m. across replicas."""
    bias2, var = analysis.bias_variance(test["outputs"], test["angles"])
    fig = _figure(4.8, 3.4)
    ax = fig.add_subplot()
    for arr, c, lab in ((bias2, "C3", "squared bias"), (var, "C0", "variance")):
        m, s = analysis.mean_sem(arr, axis=0)
        deg, m, s = _deg_closed(test["angles"], m, s)
        _band(ax, deg, m, s, c, lab)
    _xdeg(ax)
    ax.set_ylabel("squared error component")
    ax.set_title(f"Fig. 2b: bias² and variance (± s.e.m., {bias2.shape[0]} replicas)", fontsize=9)
    ax.legend(fontsize=8)
    return fig


def fig2c_boundary_outputs(test):
    """Fig. 2c: output distributions for the two test angles straddling the
    class boundary at ±pi (low prior) and at 0 (prior mode), all replicas
    pooled; d' per replica (mean ± s.e.m.) in the titles."""
    angles = analysis.wrap_angle(np.asarray(test["angles"]))
    y = np.asarray(test["outputs"])[..., 0]
    h = 2 * np.pi / angles.size
    fig = _figure(7, 3)
    axes = fig.subplots(1, 2, sharey=True)
    for ax, pair, where in zip(axes, ((np.pi - h, -np.pi + h), (-h, h)), ("θ = ±π (improbable)", "θ = 0 (prior mode)")):
        dp = analysis.boundary_dprime(test["outputs"], angles, np.array([pair]))[:, 0]
        m, s = analysis.mean_sem(dp)
        ks = [int(np.argmin(np.abs(analysis.wrap_angle(angles - a)))) for a in pair]
        lo, hi = float(y[:, ks].min()), float(y[:, ks].max())
        bins = np.linspace(lo, hi, 40)
        for k, c in zip(ks, ("C0", "C1")):
            ax.hist(y[:, k].ravel(), bins=bins, color=c, alpha=0.55, density=True,
                    label=f"θ = {np.degrees(angles[k]):.0f}°")
        ax.axvline(0, color="g", ls="--", lw=1)
        ax.set_title(f"{where}: d' = {float(m):.2f} ± {float(s):.2f}", fontsize=9)
        ax.set_xlabel("output y")
        ax.legend(fontsize=7)
    fig.suptitle("Fig. 2c: classification outputs on either side of the boundary", fontsize=10)
    return fig


def fig2d_dprime(stages):
    """Fig. 2d: prior-averaged d' at several stages; ``stages`` = {label: test}."""
    fig = _figure(4.2, 3.4)
    ax = fig.add_subplot()
    labels, ms, ss = [], [], []
    for label, t in stages.items():
        dp = analysis.prior_averaged_dprime(t["outputs"], t["angles"], float(t["prior_mu"]), float(t["prior_kappa"]))
        m, s = analysis.mean_sem(dp)
        labels.append(f"{label}\n(t = {float(t['t']):g})")
        ms.append(float(m))
        ss.append(float(s))
        ax.plot(np.full(dp.shape, len(labels) - 1), dp, "k.", ms=4)
    ax.bar(range(len(ms)), ms, yerr=ss, color="C2", alpha=0.7, capsize=4)
    ax.set_xticks(range(len(ms)))
    ax.set_xticklabels(labels, fontsize=8)
    ax.set_ylabel("prior-averaged d'")
    ax.set_title("Fig. 2d: class discriminability during learning", fontsize=9)
    return fig


def fig3a_noise_learning_curves(curves, window=None):
    """Fig. 3a: estimation MSE during learning for several sigma;
    ``curves`` = {sigma: (curve (R, bins), curve_bin)}."""
    import matplotlib
    fig = _figure(5.2, 3.5)
    ax = fig.add_subplot()
    cmap = matplotlib.colormaps["viridis"]
    for i, (sig, (curve, dtb)) in enumerate(sorted(curves.items())):
        curve = np.atleast_2d(np.asarray(curve, dtype=float))
        w = window or max(1, curve.shape[1] // 50)
        m, s = analysis.learning_curve_stats(analysis.smooth(-curve, w))
        t = (np.arange(curve.shape[1]) + 0.5) * dtb
        c = cmap(i / max(1, len(curves) - 1) * 0.9)
        ax.plot(t, m, color=c, lw=1.3, label=f"σ = {sig:g}")
        ax.fill_between(t, m - s, m + s, color=c, alpha=0.25, lw=0)
    ax.set_yscale("log")
    ax.set_xlabel("training time (time units)")
    ax.set_ylabel("MSE")
    ax.legend(fontsize=8)
    ax.set_title("Fig. 3a: learning vs intrinsic noise", fontsize=9)
    return fig


def fig3b_current_ratio(tests, low, high):
    """Fig. 3b: recurrent / input current ratio per neuron, low vs high noise
    (histograms), and the mean ± s.e.m. across replicas for every sigma (inset)."""
    fig = _figure(5.2, 3.5)
    ax = fig.add_subplot()
    ratios = {s: analysis.current_ratio(t["rates"], t["angles"], t["W"], t["C"]) for s, t in tests.items()}
    allv = np.concatenate([ratios[low].ravel(), ratios[high].ravel()])
    bins = np.linspace(0, float(np.percentile(allv, 99)) * 1.05 + 1e-9, 30)
    for s, c in ((low, "C0"), (high, "C3")):
        ax.hist(ratios[s].ravel(), bins=bins, color=c, alpha=0.55, density=True,
                label=f"σ = {s:g}: mean {ratios[s].mean():.3f}")
    ax.set_xlabel("|recurrent current| / |input current| per neuron")
    ax.set_ylabel("density")
    ax.legend(fontsize=7, loc="upper right")
    ins = ax.inset_axes([0.55, 0.3, 0.4, 0.35])
    sig = sorted(ratios)
    mm = [analysis.mean_sem(ratios[s].mean(1)) for s in sig]
    ins.errorbar(sig, [float(m) for m, _ in mm], yerr=[float(e) for _, e in mm], marker="o", ms=3, capsize=2)
    ins.set_xlabel("σ", fontsize=7)
    ins.tick_params(labelsize=6)
    ax.set_title("Fig. 3b: recurrent vs input current after learning", fontsize=9)
    return fig


def fig3c_volume_fraction(stages, sigma):
    """Fig. 3c: noise volume fraction vs angle at several stages
    (``stages`` = {label: test}), mean ± s.e.m. across replicas."""
    fig = _figure(5, 3.5)
    ax = fig.add_subplot()
    cols = {"init": "0.5", "mid": "C1", "final": "C3"}
    for i, (label, t) in enumerate(stages.items()):
        vf = analysis.volume_fraction_per_angle(t["rates"], t["D"])
        m, s = analysis.mean_sem(vf, axis=0)
        deg, m, s = _deg_closed(t["angles"], m, s)
        _band(ax, deg, m, s, cols.get(label, f"C{i}"), f"{label} (t = {float(t['t']):g})")
    _xdeg(ax)
    ax.set_ylabel("noise volume fraction")
    ax.set_ylim(0, None)
    ax.legend(fontsize=7)
    ax.set_title(f"Fig. 3c: volume fraction, σ = {sigma:g}", fontsize=9)
    return fig


def _energies(tests, fis):
    return {s: analysis.mean_energy_per_angle(t["rates"], t["angles"], t["W"], t["C"], t["b"], fis[s])
            for s, t in tests.items()}


def fig3d_energy(tests, fis):
    """Fig. 3d: mean energy vs angle for several sigma; ``fis`` = {sigma:
    finv_integral}."""
    import matplotlib
    cmap = matplotlib.colormaps["viridis"]
    E = _energies(tests, fis)
    fig = _figure(5, 3.5)
    ax = fig.add_subplot()
    for i, s in enumerate(sorted(E)):
        m, e = analysis.mean_sem(E[s], axis=0)
        deg, m, e = _deg_closed(tests[s]["angles"], m, e)
        _band(ax, deg, m, e, cmap(i / max(1, len(E) - 1) * 0.9), f"σ = {s:g}")
    _xdeg(ax)
    ax.set_ylabel("mean energy E(r, s)")
    ax.legend(fontsize=7)
    ax.set_title("Fig. 3d: mean energy vs angle", fontsize=9)
    return fig


def figS1g_energy_vs_sigma2(tests, fis):
    """S1g: angle-averaged mean energy vs sigma^2 (± s.e.m. across replicas)."""
    E = _energies(tests, fis)
    sig = sorted(E)
    mm = [analysis.mean_sem(E[s].mean(1)) for s in sig]
    fig = _figure(4.2, 3.3)
    ax = fig.add_subplot()
    ax.errorbar([s * s for s in sig], [float(m) for m, _ in mm], yerr=[float(e) for _, e in mm],
                marker="o", capsize=3)
    ax.set_xlabel("σ²")
    ax.set_ylabel("mean energy (angle average)")
    ax.set_title("S1g: mean energy vs noise variance", fontsize=9)
    return fig


def figS1_tuning_map(test, title, replica=0, boundary=False):
    """S1a/S1b: tuning curves of one replica, normalised per neuron and sorted
    by preferred stimulus (image), with the population rate below."""
    tc = analysis.tuning_curves(test["rates"])[replica]  # (K, N)
    pref = analysis.preferred_stimulus(test["rates"], test["angles"])[replica]
    order = np.argsort(pref)
    deg, tcc = _deg_closed(test["angles"], tc.T)
    img = tcc[order] / np.maximum(tcc[order].max(axis=1, keepdims=True), 1e-12)
    fig = _figure(4.8, 3.6)
    ax = fig.add_subplot()
    ax.imshow(img, aspect="auto", origin="lower", extent=(deg[0], deg[-1], 0, img.shape[0]), cmap="magma")
    if boundary:
        ax.axvline(0, color="c", ls="--", lw=1)
    ax.set_xlabel("stimulus angle θ (degrees)")
    ax.set_ylabel("neuron (sorted by preferred θ)")
    ax.set_title(title + "\nrate / max rate", fontsize=9)
    return fig


def figS1_error_vs_angle(items, task, title):
    """S1d/S1f: error vs angle (estimation: squared error; classification:
    error rate), mean ± s.e.m. across replicas, for several networks."""
    fig = _figure(5, 3.5)
    ax = fig.add_subplot()
    for i, (label, t) in enumerate(items):
        angles, y = np.asarray(t["angles"]), np.asarray(t["outputs"])
        if task == "estimation":
            tgt = np.stack([np.cos(angles), np.sin(angles)], -1)[None, :, None, :]
            err = np.mean(np.sum((y - tgt) ** 2, -1), axis=2)
        else:
            err = 1.0 - np.mean((y[..., 0] >= 0) == (angles >= 0)[None, :, None], axis=2)
        m, s = analysis.mean_sem(err, axis=0)
        deg, m, s = _deg_closed(angles, m, s)
        _band(ax, deg, m, s, f"C{i}", label)
        if float(t["prior_mu"]) != 0.0:
            ax.axvline(np.degrees(float(t["prior_mu"])), color=f"C{i}", ls=":", lw=1)
    if task == "classification":
        ax.axvline(0, color="g", ls="--", lw=1)
    _xdeg(ax)
    ax.set_ylabel("squared error" if task == "estimation" else "error rate")
    ax.legend(fontsize=7)
    ax.set_title(title, fontsize=9)
    return fig


__all__ += ["fig1b_learning_curves", "fig_preferred_stimuli", "fig_population_rates", "fig2a_output_ellipses",
            "fig2b_bias_variance", "fig2c_boundary_outputs", "fig2d_dprime", "fig3a_noise_learning_curves",
            "fig3b_current_ratio", "fig3c_volume_fraction", "fig3d_energy", "figS1g_energy_vs_sigma2",
            "figS1_tuning_map", "figS1_error_vs_angle"]
