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
