"""Fig. 3 and S1g: the noise sweep (learning, recurrent vs input current,
noise volume fraction, mean energy).

Each panel function (``fig3a`` ... ``figS1g``) takes the loaded runs and
returns ``(numbers, figure)`` (see :mod:`brian_effplast.paper.panels`);
its drawing is the ``draw_*`` function beside it.
"""

import numpy as np

from .. import analysis
from .panels import experiment_task, lst, ms, near_far, tenths
from .experiments import SIGMAS, SIGMAS_LAMSCALED, STAGES
from ..blocks.nonlinearity import Softplus
from ..plotting import band, closed_circle, new_figure, objective_curve, xdeg
from ..blocks.prior import prior_weights
from ..runs.protocol import per_angle_error

__all__ = ["fig3a", "fig3b", "fig3c", "fig3d", "figS1g", "draw_noise_learning_curves", "draw_current_ratio",
           "draw_volume_fraction", "draw_energy", "draw_energy_vs_sigma2"]


def _suffix(sigmas):
    """Title suffix naming the L2 scheme of a noise sweep."""
    return " (λ ∝ σ²)" if sigmas == SIGMAS_LAMSCALED else ""


def _viridis(i, n):
    import matplotlib
    return matplotlib.colormaps["viridis"](i / max(1, n - 1) * 0.9)


# --- Fig. 3a: learning vs noise ----------------------------------------------------

def fig3a(data, draw=True, sigmas=SIGMAS):
    """Fig. 3a: the objective during learning for each sigma (``sigmas``: sigma -> experiment)."""
    numbers, curves = {}, {}
    for s, name in sigmas.items():
        task = experiment_task(data, name)
        curve = np.asarray(data[name]["curve"]["curve"])
        first, last = tenths(curve, task)
        key = task.objective_name
        test_error = per_angle_error(data[name]["final"], task).mean(1)
        numbers[str(s)] = {f"{key}_first10pct": lst(ms(first)), f"{key}_last10pct": lst(ms(last)),
                           f"test_{task.score_name}_final": lst(ms(task.score(test_error))),
                           f"per_replica_{key}_last10pct": lst(last),
                           f"per_replica_test_{task.score_name}_final": lst(task.score(test_error))}
        curves[s] = (task, curve, float(data[name]["curve"]["curve_bin"]))
    return numbers, draw_noise_learning_curves(curves, title_suffix=_suffix(sigmas)) if draw else None


def draw_noise_learning_curves(curves, window=None, title_suffix=""):
    """Learning curves for several sigma; ``curves`` = {sigma: (task, curve (R, bins), curve_bin)}."""
    fig = new_figure(5.2, 3.5)
    ax = fig.add_subplot()
    for i, (sig, (task, curve, dtb)) in enumerate(sorted(curves.items())):
        t, m, s, _ = objective_curve(curve, dtb, task, window)
        c = _viridis(i, len(curves))
        ax.plot(t, m, color=c, lw=1.3, label=f"σ = {sig:g}")
        ax.fill_between(t, m - s, m + s, color=c, alpha=0.25, lw=0)
        ax.set_ylabel(task.objective_label)
        if task.log_scale_curve:
            ax.set_yscale("log")
    ax.set_xlabel("training time (time units of τ = 10 ms)")
    ax.legend(fontsize=8)
    ax.set_title("Fig. 3a: learning vs intrinsic noise" + title_suffix, fontsize=9)
    return fig


# --- Fig. 3b: recurrent vs input current ------------------------------------------

def fig3b(data, draw=True, low=0.1, high=0.5, sigmas=SIGMAS):
    """Fig. 3b: recurrent / input current ratio, before and after learning: the authors'
    ratio of population means of the sample-averaged currents
    (:func:`~brian_effplast.analysis.current_ratio_population`, ``population_*``, the
    two bars drawn) and per neuron (:func:`~brian_effplast.analysis.current_ratio`, the
    histogram beside them)."""
    numbers, ratios, pops = {}, {}, {}
    for s, name in sigmas.items():
        t, t0 = data[name]["final"], data[name]["init"]
        cr = analysis.current_ratio(t["rates"], t["angles"], t["W"], t["C"])  # (R, N)
        cr0 = analysis.current_ratio(t0["rates"], t["angles"], t0["W"], t0["C"])
        pop = analysis.current_ratio_population(t["rates"], t["angles"], t["W"], t["C"])  # (R,)
        pop0 = analysis.current_ratio_population(t0["rates"], t["angles"], t0["W"], t0["C"])
        numbers[str(s)] = {"ratio_after": lst(ms(cr.mean(1))), "ratio_before": lst(ms(cr0.mean(1))),
                           "per_replica_after": lst(cr.mean(1)), "per_replica_before": lst(cr0.mean(1)),
                           "population_after": lst(ms(pop)), "population_before": lst(ms(pop0)),
                           "per_replica_population_after": lst(pop), "per_replica_population_before": lst(pop0)}
        ratios[s], pops[s] = cr, pop
    if not draw:
        return numbers, None
    return numbers, draw_current_ratio(ratios, pops, low, high, title_suffix=_suffix(sigmas))


def draw_current_ratio(ratios, populations, low, high, title_suffix=""):
    """Left, the panel: the authors' ratio (mean ± s.e.m. across replicas, dots: replicas) at
    sigma ``low`` and ``high``, ``populations`` = {sigma: (R,)}; right: histograms of the ratio
    per neuron, ``ratios`` = {sigma: (R, N)}."""
    fig = new_figure(7.6, 3.4)
    ax, hx = fig.subplots(1, 2, gridspec_kw={"width_ratios": [1, 1.6]})
    for i, (s, c) in enumerate(((low, "C0"), (high, "C3"))):
        m, e = analysis.mean_sem(populations[s])
        ax.bar(i, float(m), yerr=float(e), color=c, alpha=0.7, capsize=4)
        ax.plot(np.full(populations[s].shape, i), populations[s], "k.", ms=3)
    ax.set_xticks([0, 1])
    ax.set_xticklabels([f"σ = {low:g}", f"σ = {high:g}"])
    ax.set_ylabel("recurrent / input current\n(sample-averaged, population means)", fontsize=8)
    allv = np.concatenate([ratios[low].ravel(), ratios[high].ravel()])
    bins = np.linspace(0, float(np.nanpercentile(allv, 99)) * 1.05 + 1e-9, 30)
    for s, c in ((low, "C0"), (high, "C3")):
        hx.hist(ratios[s].ravel(), bins=bins, color=c, alpha=0.55, density=True,
                label=f"σ = {s:g}: mean {np.nanmean(ratios[s]):.3f}")
    hx.set_xlabel("mean |recurrent| / mean |input| current, per neuron", fontsize=8)
    hx.set_ylabel("density")
    hx.legend(fontsize=7, loc="upper right")
    fig.suptitle("Fig. 3b: recurrent vs input current after learning" + title_suffix, fontsize=9)
    return fig


# --- Fig. 3c: noise volume fraction ----------------------------------------------

def fig3c(data, draw=True, sigma=0.33, sigmas=SIGMAS):
    """Fig. 3c: noise volume fraction vs angle at the three stages (one sigma): the
    determinant ratio (the paper's text, drawn) and the entropy difference, 1/2 log of it
    (``entropy_difference_*``), see
    :func:`~brian_effplast.analysis.volume_fraction_per_angle`."""
    numbers, vfs = {}, {}
    for stage in STAGES:
        t = data[sigmas[sigma]][stage]
        vf = analysis.volume_fraction_per_angle(t["rates"], t["D"])  # (R, K)
        er = analysis.volume_fraction_per_angle(t["rates"], t["D"], measure="entropy_difference")
        angles = np.asarray(t["angles"])
        near, far = near_far(angles)
        numbers[stage] = {"t": float(t["t"]), "angles_deg": lst(np.degrees(angles)), "vf_mean": lst(ms(vf)[0]),
                          "vf_sem": lst(ms(vf)[1]), "vf_near_mode": lst(ms(vf[:, near].mean(1))),
                          "vf_far": lst(ms(vf[:, far].mean(1))), "min": lst(vf.min()), "max": lst(vf.max()),
                          "per_replica_vf_near_mode": lst(vf[:, near].mean(1)),
                          "per_replica_vf_far": lst(vf[:, far].mean(1)),
                          "entropy_difference_mean": lst(ms(er)[0]),
                          "entropy_difference_near_mode": lst(ms(er[:, near].mean(1))),
                          "entropy_difference_far": lst(ms(er[:, far].mean(1))),
                          "per_replica_entropy_difference_near_mode": lst(er[:, near].mean(1)),
                          "per_replica_entropy_difference_far": lst(er[:, far].mean(1))}
        vfs[stage] = (t, vf)
    return numbers, draw_volume_fraction(vfs, sigma, title_suffix=_suffix(sigmas)) if draw else None


def draw_volume_fraction(vfs, sigma, title_suffix=""):
    """Volume fraction vs angle, mean ± s.e.m. across replicas; ``vfs`` = {stage: (test, (R, K))}."""
    fig = new_figure(5, 3.5)
    ax = fig.add_subplot()
    cols = {"init": "0.5", "mid": "C1", "final": "C3"}
    for i, (label, (t, vf)) in enumerate(vfs.items()):
        m, s = analysis.mean_sem(vf, axis=0)
        deg, m, s = closed_circle(t["angles"], m, s)
        band(ax, deg, m, s, cols.get(label, f"C{i}"), f"{label} (t = {float(t['t']):g})")
    xdeg(ax)
    ax.set_ylabel("noise volume fraction")
    ax.set_ylim(0, None)
    ax.legend(fontsize=7)
    ax.set_title(f"Fig. 3c: volume fraction, σ = {sigma:g}" + title_suffix, fontsize=9)
    return fig


# --- Fig. 3d, S1g: mean energy --------------------------------------------------------

def _energies(data, sigmas):
    """Mean energy per replica and angle (R, K), {sigma: {stage: ...}} for every stage, and the numbers of 3d."""
    E, numbers = {}, {}
    for s, name in sigmas.items():
        nl = data[name]["config"].nonlinearity
        finv_integral = Softplus(nl.a, nl.beta, nl.g).finv_integral
        E[s], res = {}, {}
        for stage in STAGES:
            t = data[name][stage]
            e = analysis.mean_energy_per_angle(t["rates"], t["angles"], t["W"], t["C"], t["b"], finv_integral)
            w = prior_weights(t["angles"], t["prior_mu"], t["prior_kappa"])
            spread = analysis.energy_spread(e)
            res[stage] = {"per_angle_mean": lst(ms(e)[0]), "per_angle_sem": lst(ms(e)[1]),
                          "angle_avg": lst(ms(e.mean(1))), "prior_avg": lst(ms(e @ w)),
                          "spread": lst(ms(spread)), "per_replica_angle_avg": lst(e.mean(1)),
                          "per_replica_spread": lst(spread)}
            E[s][stage] = e
        res["angles_deg"] = lst(np.degrees(np.asarray(data[name]["final"]["angles"])))
        res["sigma2"] = s * s
        numbers[str(s)] = res
    return E, numbers


def fig3d(data, draw=True, sigmas=SIGMAS):
    """Fig. 3d: mean energy vs angle for each sigma, untrained and trained."""
    E, numbers = _energies(data, sigmas)
    if not draw:
        return numbers, None
    return numbers, draw_energy({s: (data[n]["final"], E[s]["final"]) for s, n in sigmas.items()},
                                title_suffix=_suffix(sigmas))


def draw_energy(energies, title_suffix=""):
    """Mean energy vs angle for several sigma; ``energies`` = {sigma: (test, (R, K))}."""
    fig = new_figure(5, 3.5)
    ax = fig.add_subplot()
    for i, s in enumerate(sorted(energies)):
        t, e = energies[s]
        m, err = analysis.mean_sem(e, axis=0)
        deg, m, err = closed_circle(t["angles"], m, err)
        band(ax, deg, m, err, _viridis(i, len(energies)), f"σ = {s:g}")
    xdeg(ax)
    ax.set_ylabel("mean energy E(r, s)")
    ax.legend(fontsize=7)
    ax.set_title("Fig. 3d: mean energy vs angle" + title_suffix, fontsize=9)
    return fig


def figS1g(data, draw=True, sigmas=SIGMAS):
    """S1g: against sigma^2, the angle-averaged mean energy (drawn, with the untrained
    weights beside) and the authors' measure, the spread of the per-angle mean energies
    (:func:`~brian_effplast.analysis.energy_spread`, ``spread*``)."""
    E, d3 = _energies(data, sigmas)
    s1g = {"sigma2": [s * s for s in sigmas], "mean_energy": [d3[str(s)]["final"]["angle_avg"][0] for s in sigmas],
           "sem": [d3[str(s)]["final"]["angle_avg"][1] for s in sigmas],
           "spread": [d3[str(s)]["final"]["spread"][0] for s in sigmas],
           "spread_sem": [d3[str(s)]["final"]["spread"][1] for s in sigmas],
           "spread_untrained": [d3[str(s)]["init"]["spread"][0] for s in sigmas],
           "per_replica_mean_energy": {str(s): d3[str(s)]["final"]["per_replica_angle_avg"] for s in sigmas},
           "per_replica_spread": {str(s): d3[str(s)]["final"]["per_replica_spread"] for s in sigmas}}
    s1g["mean_energy_untrained"] = [d3[str(s)]["init"]["angle_avg"][0] for s in sigmas]
    s1g["learning_change"] = [round(a - b, 6) for a, b in zip(s1g["mean_energy"], s1g["mean_energy_untrained"])]
    s1g["note"] = ("mean_energy_untrained: the same sigma with the initial weights; the rise with sigma^2 "
                   "at fixed weights is the temperature effect, learning_change is what training added")
    e = s1g["mean_energy"]
    s1g["monotonic_increasing"] = bool(all(e[i] < e[i + 1] for i in range(len(e) - 1)))
    return s1g, draw_energy_vs_sigma2({s: E[s]["final"] for s in sigmas}, _suffix(sigmas)) if draw else None


def draw_energy_vs_sigma2(energies, title_suffix=""):
    """Against sigma^2 (± s.e.m. across replicas), the angle-averaged mean energy (left) and
    the spread of the per-angle mean energies (right); ``energies`` = {sigma: (R, K)}."""
    sig = sorted(energies)
    fig = new_figure(7.4, 3.3)
    for i, (measure, label) in enumerate(((lambda e: e.mean(1), "mean energy (angle average)"),
                                          (analysis.energy_spread, "spread of per-angle mean energies"))):
        ax = fig.add_subplot(1, 2, i + 1)
        mm = [analysis.mean_sem(measure(energies[s])) for s in sig]
        ax.errorbar([s * s for s in sig], [float(m) for m, _ in mm], yerr=[float(e) for _, e in mm],
                    marker="o", capsize=3)
        ax.set_xlabel("σ²")
        ax.set_ylabel(label, fontsize=8)
    fig.suptitle("S1g: mean energy vs noise variance" + title_suffix, fontsize=9)
    return fig
