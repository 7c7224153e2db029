"""Figures of a run: learning curve, population tuning, output distributions.

Each function returns a :class:`matplotlib.figure.Figure` drawn with the Agg
renderer and no pyplot state (safe in scripts, threads and notebooks); save
it with ``fig.savefig("name.png")``. Jupyter shows it as an image where it is
the value of a cell (it has ``_repr_png_``; pyplot's inline backend only
displays figures that pyplot made). Plots that depend on the task take a
task name or a :class:`~brian_effplast.blocks.tasks.Task` (what differs between
tasks comes from the Task: labels, scale, class boundaries, outputs).

The paper's panels (Figs. 1-3, S1) are drawn by :mod:`brian_effplast.paper.figures`
beside the numbers behind them; the drawing primitives they share with the
plots here are :func:`new_figure`, :func:`objective_curve`,
:func:`prior_curve` and :func:`closed_circle`. A few panel drawings that
take one test's data are also reachable from here
(:func:`fig_preferred_stimuli`, :func:`fig_population_rates`,
:func:`figS1_tuning_map`, :func:`fig2b_bias_variance`).
"""

import io

import numpy as np
from matplotlib.figure import Figure
from matplotlib.patches import Ellipse

from . import analysis
from .blocks.prior import prior_weights
from .blocks.tasks import Task, get_task

__all__ = ["learning_curve", "population_tuning", "output_distributions", "new_figure", "objective_curve",
           "prior_curve", "closed_circle", "task_of", "band", "xdeg", "boundary_lines", "draw_preferred_stimuli",
           "draw_population_rates", "draw_tuning_map", "draw_bias_variance"]


class _Figure(Figure):
    """A Figure that IPython displays as a PNG without pyplot."""

    def _repr_png_(self):
        buf = io.BytesIO()
        self.savefig(buf, format="png", dpi=100)
        return buf.getvalue()


def new_figure(w, h):
    """An Agg-backed :class:`~matplotlib.figure.Figure` (no pyplot), constrained layout,
    shown inline by Jupyter as a cell's value."""
    fig = _Figure(figsize=(w, h), layout="constrained")
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    FigureCanvasAgg(fig)
    return fig


def _load(test_npz):
    """A dict of arrays from a path, an open NpzFile or a mapping."""
    if isinstance(test_npz, (str, bytes)) or hasattr(test_npz, "__fspath__"):
        with np.load(test_npz, allow_pickle=False) as z:
            return {k: z[k] for k in z.files}
    return {k: test_npz[k] for k in (test_npz.files if hasattr(test_npz, "files") else test_npz.keys())}


def task_of(test, task=None):
    """The :class:`~brian_effplast.blocks.tasks.Task` of test data: ``task`` (a name or
    a Task) when given, else the one named by the data's ``task`` entry (a task
    without a registered name: the base :class:`~brian_effplast.blocks.tasks.Task`)."""
    if task is not None:
        return get_task(task)
    try:
        return get_task(str(test["task"]))
    except (KeyError, ValueError):
        return Task()


def objective_curve(curve, dt_bin, task, window=None):
    """The task's objective (:meth:`Task.objective <brian_effplast.blocks.tasks.Task.objective>`)
    of a learning curve, smoothed: ``(t, mean, sem, window)``.

    ``curve`` (R, bins) or (bins,): mean reward per bin; ``window``: centred
    moving average in bins (default about 2% of the run); mean and s.e.m.
    across replicas (:func:`~brian_effplast.analysis.learning_curve_stats`).
    """
    task = get_task(task)
    curve = np.atleast_2d(np.asarray(curve, dtype=float))
    T = curve.shape[1]
    if window is None:
        window = max(1, T // 50)
    mean, sem = analysis.learning_curve_stats(analysis.smooth(task.objective(curve), window))
    return (np.arange(T) + 0.5) * dt_bin, mean, sem, window


def prior_curve(test, grid):
    """Density of the stimulus prior of test data (``prior_mu``, ``prior_kappa``:
    the stationary von Mises law) on an evenly spaced ``grid`` of angles."""
    return prior_weights(grid, test["prior_mu"], test["prior_kappa"]) / (grid[1] - grid[0])


def closed_circle(angles, *arrays):
    """Sort by angle and close the circle: degrees (K+1,) and ``arrays`` (..., K+1)."""
    angles = np.asarray(angles)
    order = np.argsort(analysis.wrap_angle(angles))
    order = np.append(order, order[:1])
    deg = np.degrees(analysis.wrap_angle(angles[order]))
    deg[-1] += 360.0
    return (deg,) + tuple(np.asarray(a)[..., order] for a in arrays)


def learning_curve(curve, dt_bin, task, transient=0.0, window=None, tau=None):
    """Learning curve: the task's objective, mean +- sem across replicas, smoothed.

    Parameters
    ----------
    curve : ndarray, shape (R, bins) or (bins,)
        Mean reward per bin (``learning_curve.npz``'s ``curve``).
    dt_bin : float
        Time units per bin.
    task : str or Task
        What is shown: :meth:`Task.objective <brian_effplast.blocks.tasks.Task.objective>`
        (the MSE ``-reward`` for estimation, the log-likelihood ``reward`` for
        classification), on a log axis when :attr:`Task.log_scale_curve` and
        the curve spans more than a decade.
    transient : float
        Plasticity-off period at the start (time units), marked by a dashed line
        where learning starts.
    window : int, optional
        Smoothing window in bins (centred moving average); default about
        2% of the run.
    tau : float, optional
        Seconds per time unit (``config.circuit.tau_ms / 1000``): the time axis in
        seconds; without it, in time units of tau.
    """
    task = get_task(task)
    R, T = np.atleast_2d(np.asarray(curve)).shape
    t, mean, sem, window = objective_curve(curve, dt_bin, task, window)
    scale, unit = (1.0, "time units of τ") if tau is None else (float(tau), "s")
    fig = new_figure(6, 3.6)
    ax = fig.add_subplot()
    ax.plot(t * scale, mean, color="C0", lw=1.5, label=f"mean of {R} replicas" if R > 1 else "replica 0")
    if R > 1:
        ax.fill_between(t * scale, mean - sem, mean + sem, color="C0", alpha=0.3, lw=0,
                        label=f"± s.e.m. across the {R} replicas")
    if transient > 0:  # a line, not a shaded span: the transient is often under 1% of the run
        ax.axvline(transient * scale, color="0.4", ls="--", lw=1,
                   label=f"plasticity on from t = {transient * scale:g} {unit}")
    ax.set_xlabel("time (s)" if tau is not None else "time (time units of τ)")
    ax.set_ylabel(task.objective_label)
    if task.log_scale_curve and T:
        lo, hi = np.min(mean - sem), np.max(mean + sem)
        if lo > 0 and hi / lo > 10:  # log scale only when it spans more than a decade
            ax.set_yscale("log")
    ax.set_title(f"{str(task.name).capitalize()}: {task.objective_label} "
                 f"(moving average over {window * dt_bin * scale:g} {unit})", fontsize=10)
    ax.set_xlim(0, (T * dt_bin if T else 1) * scale)
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
    pop = analysis.population_rate(rates)
    R = rates.shape[0]
    sem = pop["sem_replicas"] if R > 1 else pop["sem_neurons"]
    # sorted, and closed around the circle (the first angle again at +360 degrees)
    deg, tc, mean, sem = closed_circle(angles, analysis.tuning_curves(rates)[0].T, pop["mean"], sem)
    fig = new_figure(10, 3.6)
    ax1, ax2 = fig.subplots(1, 2)
    ax1.plot(deg, tc.T, color="0.4", lw=0.8, alpha=0.7)
    ax1.set_xlabel("stimulus angle (degrees)")
    ax1.set_ylabel("mean rate")
    ax1.set_title(f"Tuning curves, replica 0 ({rates.shape[3]} neurons)", fontsize=10)
    ax2.errorbar(deg, mean, yerr=sem, color="C0", marker="o", ms=4, capsize=2,
                 label=f"population rate ± sem ({'replicas' if R > 1 else 'neurons'})")
    ax2.set_xlabel("stimulus angle (degrees)")
    ax2.set_ylabel("population-averaged rate")
    ax2.set_title("Population rate vs angle", fontsize=10)
    if "prior_mu" in d and "prior_kappa" in d:
        grid = np.linspace(-np.pi, np.pi, 361)
        tw = ax2.twinx()
        tw.plot(np.degrees(grid), prior_curve(d, grid), color="C1", lw=1, ls="--", label="stimulus prior")
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

    Two or more outputs (``task.n_out >= 2``, e.g. estimation): the first two
    as a scatter per angle with 95% confidence ellipses
    (:func:`analysis.confidence_ellipse`) and the targets
    (:meth:`Task.target <brian_effplast.blocks.tasks.Task.target>`). One output
    (e.g. classification): a histogram of ``y`` per angle, coloured by class
    and with the task's :attr:`~brian_effplast.blocks.tasks.Task.decision_threshold`
    marked when it has classes.
    """
    import matplotlib
    task = get_task(task)
    d = _load(test_npz)
    angles, y = np.asarray(d["angles"]), np.asarray(d["outputs"])
    K, R = angles.size, y.shape[0]
    yr = y[replica]  # (K, S, n_out)
    if task.n_out >= 2:
        cmap = matplotlib.colormaps["hsv"]
        colors = [cmap((a + np.pi) / (2 * np.pi)) for a in angles]
        fig = new_figure(6, 5)
        ax = fig.add_subplot()
        circ = task.target(np.linspace(-np.pi, np.pi, 200))
        ax.plot(circ[:, 0], circ[:, 1], color="0.7", lw=0.8)
        targets = task.target(angles)
        step = max(1, yr.shape[1] // 200)
        for k in range(K):
            pts = yr[k, ::step]
            ax.scatter(pts[:, 0], pts[:, 1], s=3, color=colors[k], alpha=0.35, lw=0)
            if yr.shape[1] >= 3:
                c, w, h, ang = analysis.confidence_ellipse(yr[k, :, :2], 0.95)
                ax.add_patch(Ellipse(c, w, h, angle=ang, fill=False, color=colors[k], lw=1.5))
            ax.plot(targets[k, 0], targets[k, 1], marker="o", ms=7, mfc=colors[k], mec="k")
        ax.set_aspect("equal")
        key = matplotlib.cm.ScalarMappable(matplotlib.colors.Normalize(-180, 180), cmap)
        fig.colorbar(key, ax=ax, shrink=0.7, ticks=[-180, -90, 0, 90, 180], label="test angle θ (degrees)")
        ax.set_xlabel("output $y_1$")
        ax.set_ylabel("output $y_2$")
        ax.set_title(f"Estimates per test angle: samples, 95% ellipses\nand targets (large dots); "
                     f"replica {replica} of {R}", fontsize=9)
        lim = max(1.3, float(np.nanmax(np.abs(yr))) * 1.05) if yr.size else 1.3
        lim = min(lim, 5.0)
        ax.set_xlim(-lim, lim)
        ax.set_ylim(-lim, lim)
        return fig
    threshold = task.decision_threshold
    order = np.argsort(angles)
    ncol = min(4, K)
    nrow = int(np.ceil(K / ncol))
    fig = new_figure(2.6 * ncol, 1.9 * nrow + 0.4)
    axes = np.atleast_1d(fig.subplots(nrow, ncol, sharex=True, squeeze=False)).ravel()
    lo, hi = float(np.min(yr)), float(np.max(yr))
    span = max(hi - lo, 1e-6)
    if threshold is not None:  # the threshold in view
        lo, hi = min(lo, threshold), max(hi, threshold)
    bins = np.linspace(lo - 0.05 * span, hi + 0.05 * span, 40)
    for ax, k in zip(axes, order):
        title = f"θ = {np.degrees(angles[k]):.0f}°"
        color = "C0"
        if threshold is not None:
            cls = int(task.target(angles[k]))
            title, color = f"{title}, class {cls}", f"C{cls}"
            ax.axvline(threshold, color="k", lw=0.8, ls="--")
        ax.hist(yr[k, :, 0], bins=bins, color=color, alpha=0.8)
        ax.set_title(title, fontsize=9)
        ax.set_yticks([])
    for ax in axes[K:]:
        ax.set_visible(False)
    for ax in axes[(nrow - 1) * ncol:]:
        ax.set_xlabel("output y = D r")
    fig.suptitle(f"{str(task.name).capitalize()} outputs per test angle (replica {replica} of {R})"
                 + ("; dashed: decision boundary" if threshold is not None else ""), fontsize=10)
    return fig


# ---------------------------------------------------------------------------
# Drawings of one test's data: a run's own plots (runs.protocol) and the paper's
# panels (brian_effplast.paper) both draw with these
# ---------------------------------------------------------------------------

GRID = np.linspace(-np.pi, np.pi, 361)


def band(ax, x, mean, sem, color, label, marker="o"):
    """A line with a shaded ± s.e.m. band."""
    ax.plot(x, mean, color=color, marker=marker, ms=3, lw=1.5, label=label)
    ax.fill_between(x, mean - sem, mean + sem, color=color, alpha=0.25, lw=0)


def xdeg(ax):
    """The stimulus-angle x axis, in degrees."""
    ax.set_xlabel("stimulus angle θ (degrees)")
    ax.set_xticks([-180, -90, 0, 90, 180])


def boundary_lines(ax, task, color="g", label=None):
    """Vertical lines at the task's class boundaries (degrees, ±180 both drawn)."""
    xs = []
    for b in task.class_boundaries:
        d = float(np.degrees(analysis.wrap_angle(b)))
        xs += [-180.0, 180.0] if abs(abs(d) - 180.0) < 1e-9 else [d]
    for i, x in enumerate(sorted(xs, key=abs)):
        ax.axvline(x, color=color, ls="--", lw=1, label=label if i == 0 else None)


def draw_preferred_stimuli(test, title, task=None, bandwidth=0.35, bins=18, pref=None):
    """Histogram of preferred stimuli (all neurons of all replicas) with a von
    Mises KDE, the stimulus prior and the task's class boundaries."""
    task = task_of(test, task)
    if pref is None:
        pref = analysis.preferred_stimulus(test["rates"], test["angles"]).ravel()
    kde = analysis.circular_kde(pref, GRID, bandwidth)
    fig = new_figure(4.8, 3.4)
    ax = fig.add_subplot()
    ax.hist(np.degrees(pref), bins=np.linspace(-180, 180, bins + 1), density=True, color="C1", alpha=0.6,
            label=f"{pref.size} neurons")
    ax.plot(np.degrees(GRID), kde * np.pi / 180, color="C1", lw=2, label="KDE")
    ax.plot(np.degrees(GRID), prior_curve(test, GRID) * np.pi / 180, color="0.5", lw=1, label="stimulus prior")
    boundary_lines(ax, task, label="class boundary")
    xdeg(ax)
    ax.set_ylabel("density (per degree)")
    ax.set_title(title, fontsize=9)
    ax.legend(fontsize=7)
    return fig


def draw_population_rates(items, title, task=None, pops=None):
    """Population-averaged rate vs angle for several networks ``items`` =
    [(label, test)]; shading: s.e.m. across replicas (dark) and across all
    neurons (light); dotted: each network's stimulus prior."""
    task = task_of(items[0][1], task)
    fig = new_figure(5.2, 3.5)
    ax = fig.add_subplot()
    tw = ax.twinx()
    for i, (label, t) in enumerate(items):
        pop = analysis.population_rate(t["rates"]) if pops is None else pops[i]
        deg, m, sr, sn = closed_circle(t["angles"], pop["mean"], pop["sem_replicas"], pop["sem_neurons"])
        c = f"C{i}"
        ax.fill_between(deg, m - sn, m + sn, color=c, alpha=0.12, lw=0)
        band(ax, deg, m, sr, c, label)
        tw.plot(np.degrees(GRID), prior_curve(t, GRID), color=c, ls=":", lw=1)
    boundary_lines(ax, task)
    xdeg(ax)
    ax.set_ylabel("population rate")
    tw.set_ylabel("prior density (dotted)")
    tw.set_ylim(0, None)
    ax.set_title(title, fontsize=9)
    ax.legend(fontsize=7, loc="upper left")
    return fig


def draw_tuning_map(test, title, task=None, replica=0):
    """Tuning curves of one replica, raw mean rates (colour bar in rate units: the
    paper reads gain allocation from them), sorted by preferred stimulus (image),
    the task's class boundaries marked."""
    task = task_of(test, task)
    tc = analysis.tuning_curves(test["rates"])[replica]  # (K, N)
    pref = analysis.preferred_stimulus(test["rates"], test["angles"])[replica]
    order = np.argsort(pref)
    deg, tcc = closed_circle(test["angles"], tc.T)
    img = tcc[order]
    fig = new_figure(5.2, 3.6)
    ax = fig.add_subplot()
    im = ax.imshow(img, aspect="auto", origin="lower", extent=(deg[0], deg[-1], 0, img.shape[0]), cmap="magma")
    fig.colorbar(im, ax=ax, label="mean rate")
    boundary_lines(ax, task, color="c")
    ax.set_xlim(deg[0], deg[-1])
    ax.set_xlabel("stimulus angle θ (degrees)")
    ax.set_ylabel("neuron (sorted by preferred θ)")
    ax.set_title(title, fontsize=9)
    return fig


def draw_bias_variance(test, bias2=None, var=None):
    """Squared bias and variance vs angle, mean ± s.e.m. across replicas."""
    if bias2 is None or var is None:
        bias2, var = analysis.bias_variance(test["outputs"], test["angles"])
    fig = new_figure(4.8, 3.4)
    ax = fig.add_subplot()
    for arr, c, lab in ((bias2, "C3", "squared bias"), (var, "C0", "variance")):
        m, s = analysis.mean_sem(arr, axis=0)
        deg, m, s = closed_circle(test["angles"], m, s)
        band(ax, deg, m, s, c, lab)
    xdeg(ax)
    ax.set_ylabel("squared error component")
    ax.set_title(f"Fig. 2b: bias² and variance (± s.e.m., {bias2.shape[0]} replicas)", fontsize=9)
    ax.legend(fontsize=8)
    return fig
