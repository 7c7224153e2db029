"""Fig. 2 and S1d, S1f: decoder outputs, bias and variance, class
discriminability, test error vs angle.

Each panel function (``fig2a`` ... ``figS1f``) takes the loaded runs and
returns ``(numbers, figure)`` (see :mod:`brian_effplast.paper.panels`);
its drawing is the ``draw_*`` function beside it.
"""

import numpy as np
from matplotlib.patches import Ellipse

from .. import analysis
from .panels import class_masks, experiment_task, lst, ms, near_far, per_angle_loss
from .experiments import STAGES
from ..plotting import band, boundary_lines, closed_circle, draw_bias_variance, new_figure, task_of, xdeg
from ..runs.protocol import per_angle_error

__all__ = ["fig2a", "fig2b", "fig2c", "fig2d", "figS1d", "figS1f", "draw_output_ellipses",
           "draw_boundary_outputs", "draw_dprime", "draw_error_vs_angle"]


# --- Fig. 2a, 2b: bias and variance of the estimates ---------------------------

def _bias_variance(t):
    bias2, var = analysis.bias_variance(t["outputs"], t["angles"])
    angles = np.asarray(t["angles"])
    near, far = near_far(angles)
    numbers = {"angles_deg": lst(np.degrees(angles)), "bias2_mean": lst(ms(bias2)[0]),
               "bias2_sem": lst(ms(bias2)[1]), "variance_mean": lst(ms(var)[0]),
               "variance_sem": lst(ms(var)[1]),
               "bias2_near_mode(|theta|<=45)": lst(ms(bias2[:, near].mean(1))),
               "bias2_far(|theta|>=135)": lst(ms(bias2[:, far].mean(1))),
               "variance_near_mode": lst(ms(var[:, near].mean(1))),
               "variance_far": lst(ms(var[:, far].mean(1)))}
    return numbers, bias2, var


def fig2b(data, draw=True):
    """Fig. 2b: squared bias and variance of the estimates vs angle."""
    t = data["estimation"]["final"]
    numbers, bias2, var = _bias_variance(t)
    return numbers, draw_bias_variance(t, bias2, var) if draw else None


def fig2a(data, draw=True):
    """Fig. 2a: the estimates of replica 0 (numbers: the bias far from / near the prior mode)."""
    t = data["estimation"]["final"]
    fb = _bias_variance(t)[0]
    numbers = {"see": "fig2b (the same test data; replica 0 drawn)",
               "bias2_far_over_near": round(float(fb["bias2_far(|theta|>=135)"][0] /
                                                  max(fb["bias2_near_mode(|theta|<=45)"][0], 1e-12)), 3)}
    return numbers, draw_output_ellipses(t, experiment_task(data, "estimation")) if draw else None


def draw_output_ellipses(test, task=None, replica=0, level=0.95):
    """Two-output estimates: targets (crosses, :meth:`Task.target`), mean
    outputs with bias lines, 95% ellipses; lighter colours further from the
    prior mode."""
    task = task_of(test, task)
    angles, y = np.asarray(test["angles"]), np.asarray(test["outputs"])[replica]
    mu = float(test.get("prior_mu", 0.0))
    fig = new_figure(4.4, 4.4)
    ax = fig.add_subplot()
    curve = task.target(np.linspace(-np.pi, np.pi, 200))
    ax.plot(curve[:, 0], curve[:, 1], color="0.85", lw=0.8)
    for k, (a, tgt) in enumerate(zip(angles, task.target(angles))):
        light = abs(float(analysis.wrap_angle(a - mu))) / np.pi
        col = (0.75 * light + 0.55 * (1 - light), 0.6 * light + 0.35 * (1 - light), 0.25 * light)
        col = tuple(min(1, c + 0.35 * light) for c in col)
        c, w, h, ang = analysis.confidence_ellipse(y[k, :, :2], level)
        ax.add_patch(Ellipse(c, w, h, angle=ang, fill=False, color=col, lw=1.5))
        ax.plot([tgt[0], c[0]], [tgt[1], c[1]], color="k", lw=1)
        ax.plot(tgt[0], tgt[1], "k+", ms=8)
    ax.set_aspect("equal")
    ax.set_xlim(-1.5, 1.5)
    ax.set_ylim(-1.5, 1.5)
    ax.set_xlabel("$y_1$")
    ax.set_ylabel("$y_2$")
    ax.set_title(f"Fig. 2a: estimation outputs (replica {replica}); lines: bias", fontsize=9)
    return fig


# --- Fig. 2c, 2d: class discriminability -----------------------------------------

def boundary_pairs(angles):
    """Test-angle pairs straddling the class boundary at 0 and at +-pi."""
    h = 2 * np.pi / np.asarray(angles).size  # the spacing of the test angles
    return np.array([[-h, h]]), np.array([[np.pi - h, -np.pi + h]])


def fig2c(data, draw=True):
    """Fig. 2c: d' between the outputs on either side of the class boundary,
    at the prior mode (0) and at +-pi."""
    t = data["classification"]["final"]
    p0, ppi = boundary_pairs(t["angles"])
    d0 = analysis.boundary_dprime(t["outputs"], t["angles"], p0)[:, 0]
    dpi = analysis.boundary_dprime(t["outputs"], t["angles"], ppi)[:, 0]
    y = np.asarray(t["outputs"])[..., 0]
    ang = analysis.wrap_angle(np.asarray(t["angles"]))

    def idx(a):
        return int(np.argmin(np.abs(analysis.wrap_angle(ang - a))))

    def sep(pr):
        return np.abs(y[:, idx(pr[0])].mean(1) - y[:, idx(pr[1])].mean(1))

    def sd(pr):
        return np.sqrt(0.5 * (y[:, idx(pr[0])].var(1, ddof=1) + y[:, idx(pr[1])].var(1, ddof=1)))

    numbers = {"pair_at_mode_deg": lst(np.degrees(p0[0])), "pair_at_pi_deg": lst(np.degrees(ppi[0])),
               "dprime_at_mode": lst(ms(d0)), "dprime_at_pi": lst(ms(dpi)),
               "per_replica_at_mode": lst(d0), "per_replica_at_pi": lst(dpi),
               "mean_separation_at_mode": lst(ms(sep(p0[0]))), "mean_separation_at_pi": lst(ms(sep(ppi[0]))),
               "pooled_sd_at_mode": lst(ms(sd(p0[0]))), "pooled_sd_at_pi": lst(ms(sd(ppi[0])))}
    if not draw:
        return numbers, None
    items = [("θ = ±π (improbable)", [idx(a) for a in ppi[0]], dpi),
             ("θ = 0 (prior mode)", [idx(a) for a in p0[0]], d0)]
    return numbers, draw_boundary_outputs(t, items, experiment_task(data, "classification"))


def draw_boundary_outputs(test, items, task=None):
    """Output distributions (all replicas pooled) for pairs of test angles,
    one axis each: ``items`` = [(where, [k1, k2], d' per replica)]."""
    task = task_of(test, task)
    angles = analysis.wrap_angle(np.asarray(test["angles"]))
    y = np.asarray(test["outputs"])[..., 0]
    fig = new_figure(7, 3)
    axes = np.atleast_1d(fig.subplots(1, len(items), sharey=True))
    for ax, (where, ks, dp) in zip(axes, items):
        m, s = analysis.mean_sem(dp)
        bins = np.linspace(float(y[:, ks].min()), float(y[:, ks].max()), 40)
        for k, c in zip(ks, ("C0", "C1")):
            ax.hist(y[:, k].ravel(), bins=bins, color=c, alpha=0.55, density=True,
                    label=f"θ = {np.degrees(angles[k]):.0f}°")
        if task.decision_threshold is not None:
            ax.axvline(task.decision_threshold, color="g", ls="--", lw=1)
        ax.set_title(f"{where}: d' = {float(m):.2f} ± {float(s):.2f}", fontsize=9)
        ax.set_xlabel("output y")
        ax.legend(fontsize=7)
    fig.suptitle("Fig. 2c: classification outputs on either side of the boundary", fontsize=10)
    return fig


def fig2d(data, draw=True):
    """Fig. 2d: prior-averaged d' at the three stages of training."""
    numbers, dps = {}, {}
    for stage in STAGES:
        t = data["classification"][stage]
        dp = analysis.prior_averaged_dprime(t["outputs"], t["angles"], float(t["prior_mu"]), float(t["prior_kappa"]))
        numbers[stage] = {"t": float(t["t"]), "dprime": lst(ms(dp)), "per_replica": lst(dp)}
        dps[f"{stage}\n(t = {float(t['t']):g})"] = dp
    return numbers, draw_dprime(dps) if draw else None


def draw_dprime(dps):
    """Bars of the prior-averaged d' (mean ± s.e.m., dots: replicas); ``dps`` = {label: d' (R,)}."""
    fig = new_figure(4.2, 3.4)
    ax = fig.add_subplot()
    ms_, ss = [], []
    for i, dp in enumerate(dps.values()):
        m, s = analysis.mean_sem(dp)
        ms_.append(float(m))
        ss.append(float(s))
        ax.plot(np.full(dp.shape, i), dp, "k.", ms=4)
    ax.bar(range(len(ms_)), ms_, yerr=ss, color="C2", alpha=0.7, capsize=4)
    ax.set_xticks(range(len(ms_)))
    ax.set_xticklabels(list(dps), fontsize=8)
    ax.set_ylabel("prior-averaged d'")
    ax.set_title("Fig. 2d: class discriminability during learning", fontsize=9)
    return fig


# --- S1d, S1f: test error vs angle -------------------------------------------------

def figS1d(data, draw=True):
    """S1d: estimation error vs angle, wide vs narrow prior."""
    items = [("estimation", "prior κ=0.75"), ("estimation_narrow_prior", "narrow prior κ=2")]
    numbers, errs = {}, []
    for name, _ in items:
        t = data[name]["final"]
        err = per_angle_loss(t, experiment_task(data, name))
        near, far = near_far(t["angles"])
        numbers[name] = {"angles_deg": lst(np.degrees(np.asarray(t["angles"]))), "mse_mean": lst(ms(err)[0]),
                         "mse_sem": lst(ms(err)[1]), "mse_near": lst(ms(err[:, near].mean(1))),
                         "mse_far": lst(ms(err[:, far].mean(1)))}
        errs.append(err)
    if not draw:
        return numbers, None
    return numbers, draw_error_vs_angle([(label, data[n]["final"], e) for (n, label), e in zip(items, errs)],
                                        experiment_task(data, "estimation"), "S1d: estimation error vs angle")


def figS1f(data, draw=True):
    """S1f: classification error vs angle, prior centred on vs shifted off the boundary."""
    items = [("classification", "prior at 0"), ("classification_shifted_prior", "prior shifted to 45°")]
    numbers, errs = {}, []
    for name, _ in items:
        t, task = data[name]["final"], experiment_task(data, name)
        err = per_angle_loss(t, task)
        angles = np.asarray(t["angles"])
        pos, neg = class_masks(angles, task)  # angles on a class boundary in neither
        y = np.asarray(t["outputs"])[..., 0]
        numbers[name] = {"angles_deg": lst(np.degrees(angles)), "nll_mean": lst(ms(err)[0]),
                         "nll_sem": lst(ms(err)[1]), "nll_class1": lst(ms(err[:, pos].mean(1))),
                         "nll_class0": lst(ms(err[:, neg].mean(1))),
                         "mean_output_margin_class1": lst(ms(y[:, pos].mean((1, 2)))),
                         "mean_output_margin_class0": lst(ms(-y[:, neg].mean((1, 2)))),
                         "note": "nll: negative log-likelihood of the true class (the authors' error); class "
                                 "means leave out the angles on a class boundary (0, ±180°)"}
        errs.append(err)
    if not draw:
        return numbers, None
    task = experiment_task(data, "classification")
    return numbers, draw_error_vs_angle([(label, data[n]["final"], e) for (n, label), e in zip(items, errs)],
                                        task, "S1f: classification error vs angle", ylabel=task.loss_label)


def draw_error_vs_angle(items, task, title, ylabel=None):
    """The task's test error vs angle (mean ± s.e.m. across replicas) for several
    networks ``items`` = [(label, test, error (R, K) or None: :meth:`Task.test_error`)];
    dotted: each prior's mode when off 0; ``ylabel`` defaults to the task's ``error_label``."""
    task = task_of(items[0][1], task)
    fig = new_figure(5, 3.5)
    ax = fig.add_subplot()
    for i, (label, t, err) in enumerate(items):
        err = per_angle_error(t, task) if err is None else err
        m, s = analysis.mean_sem(err, axis=0)
        deg, m, s = closed_circle(t["angles"], m, s)
        band(ax, deg, m, s, f"C{i}", label)
        if float(t["prior_mu"]) != 0.0:
            ax.axvline(np.degrees(float(t["prior_mu"])), color=f"C{i}", ls=":", lw=1)
    boundary_lines(ax, task)
    xdeg(ax)
    ax.set_ylabel(task.error_label if ylabel is None else ylabel)
    ax.legend(fontsize=7)
    ax.set_title(title, fontsize=9)
    return fig
