"""Fig. 1 and S1a-c, S1e: learning curves, preferred stimuli, population
rates, tuning maps.

Each panel function (``fig1b`` ... ``figS1e``) takes the loaded runs and
returns ``(numbers, figure)`` (see :mod:`brian_effplast.paper.panels`);
its drawing is the ``draw_*`` function beside it, which also takes one
test's data directly.
"""

import math

import numpy as np

from .. import analysis
from .panels import experiment_task, lst, ms, tenths
from ..plotting import (draw_population_rates, draw_preferred_stimuli, draw_tuning_map, new_figure,
                        objective_curve)
from ..blocks.prior import prior_weights
from ..runs.protocol import per_angle_error

__all__ = ["fig1b", "fig1c", "fig1d", "fig1e", "fig1f", "figS1a", "figS1b", "figS1c", "figS1e",
           "draw_learning_curves"]

# --- Fig. 1b: learning curves ------------------------------------------------

def fig1b(data, draw=True):
    """Fig. 1b: the objective during learning (estimation, classification)."""
    numbers, curves = {}, []
    for name in ("estimation", "classification"):
        task = experiment_task(data, name)
        first, last = tenths(np.asarray(data[name]["curve"]["curve"]), task)
        key = task.objective_name
        numbers[name] = {
            f"{key}_first10pct": lst(ms(first)), f"{key}_last10pct": lst(ms(last)),
            "per_replica_first": lst(first), "per_replica_last": lst(last),
            "test_error_init": lst(ms(per_angle_error(data[name]["init"], task).mean(1))),
            "test_error_final": lst(ms(per_angle_error(data[name]["final"], task).mean(1))),
            "note": "mean, s.e.m. across replicas; test_error = MSE (estimation) / error rate "
                    "(classification), uniform over test angles"}
        curves.append((task, data[name]["curve"]["curve"], float(data[name]["curve"]["curve_bin"])))
    return numbers, draw_learning_curves(curves) if draw else None


def draw_learning_curves(curves, window=None):
    """Learning curves, one axis each; ``curves`` = [(task, curve (R, bins), curve_bin)]."""
    fig = new_figure(5.5, 5)
    axes = np.atleast_1d(fig.subplots(len(curves), 1))
    for i, (ax, (task, curve, dtb)) in enumerate(zip(axes, curves)):
        t, m, s, w = objective_curve(curve, dtb, task, window)
        color = ("C0", "C2")[i % 2]
        ax.plot(t, m, color=color, lw=1.3)
        ax.fill_between(t, m - s, m + s, color=color, alpha=0.3, lw=0)
        ax.set_ylabel(task.objective_label)
        ax.set_title(f"{task.name}: mean ± s.e.m. of {np.atleast_2d(curve).shape[0]} replicas "
                     f"(smoothed {w * dtb:g} t.u.)", fontsize=9)
        if task.log_scale_curve and np.all(m > 0):
            ax.set_yscale("log")
    axes[-1].set_xlabel("training time (time units of τ = 10 ms)")
    fig.suptitle("Fig. 1b: performance during learning", fontsize=10)
    return fig


# --- Fig. 1c, 1d, S1c, S1e: preferred stimuli --------------------------------

def _preferred(data, name, title, draw):
    t, task = data[name]["final"], experiment_task(data, name)
    pref = analysis.preferred_stimulus(t["rates"], t["angles"]).ravel()
    dist = np.abs(analysis.wrap_angle(pref - float(t["prior_mu"])))
    numbers = {"n_neurons": int(pref.size),
               "frac_within_45deg_of_prior_mode": round(float(np.mean(dist < np.pi / 4)), 4),
               "frac_within_45deg_of_boundary_0":
                   round(float(np.mean(np.abs(analysis.wrap_angle(pref)) < np.pi / 4)), 4),
               "frac_within_45deg_of_pi": round(float(np.mean(dist > 3 * np.pi / 4)), 4),
               "circular_mean_abs_deviation_from_mode_deg": round(float(np.degrees(dist.mean())), 2),
               "uniform_expectation_within_45deg": 0.25}
    if task.class_boundaries:
        pos = analysis.wrap_angle(pref)
        numbers["frac_preferring_class1"] = round(float(np.mean(task.target(pos))), 4)
        # bimodality: fraction of neurons more than 20 degrees from every class boundary
        off = np.all([np.abs(analysis.wrap_angle(pos - b)) > np.radians(20) for b in task.class_boundaries], axis=0)
        numbers["frac_off_boundaries_20_160deg"] = round(float(np.mean(off)), 4)
    return numbers, draw_preferred_stimuli(t, title, task, pref=pref) if draw else None


def fig1c(data, draw=True):
    return _preferred(data, "estimation", "Fig. 1c: estimation, preferred stimuli", draw)


def fig1d(data, draw=True):
    return _preferred(data, "classification", "Fig. 1d: classification, preferred stimuli", draw)


def figS1c(data, draw=True):
    return _preferred(data, "estimation_narrow_prior", "S1c: narrow prior (κ=2), preferred stimuli", draw)


def figS1e(data, draw=True):
    return _preferred(data, "classification_shifted_prior", "S1e: shifted prior (45°), preferred stimuli", draw)


# --- Fig. 1e, 1f: population rate ----------------------------------------------

def _population(data, items, title, draw, class_split=(), note=None):
    """``items`` = [(experiment, label)]; ``class_split``: experiments that also
    get the class-1 minus class-0 rate."""
    numbers, pops = {}, []
    for name, _ in items:
        t, task = data[name]["final"], experiment_task(data, name)
        pop = analysis.population_rate(t["rates"])
        angles, mu = np.asarray(t["angles"]), float(t["prior_mu"])
        prior = prior_weights(angles, mu, t["prior_kappa"])
        rm = pop["replica_means"]
        corr = [float(np.corrcoef(rm[r], prior)[0, 1]) for r in range(rm.shape[0])]
        k_mode = int(np.argmin(np.abs(analysis.wrap_angle(angles - mu))))
        k_anti = int(np.argmin(np.abs(analysis.wrap_angle(angles - mu - np.pi))))
        p = {"angles_deg": lst(np.degrees(angles)), "mean": lst(pop["mean"]),
             "sem_replicas": lst(pop["sem_replicas"]), "sem_neurons": lst(pop["sem_neurons"]),
             "corr_with_prior_density": lst(ms(corr)),
             "rate_mode_over_antimode": lst(ms(rm[:, k_mode] / rm[:, k_anti])),
             "prior_mu_deg": round(math.degrees(mu), 2),
             "prior_kappa_stationary": float(t["prior_kappa"])}
        fit = analysis.fit_von_mises_profile(rm, angles)  # per replica
        p["profile_kappa"] = lst(ms(fit["kappa"]))
        p["per_replica_profile_kappa"] = lst(fit["kappa"])
        p["profile_peak_deg"] = lst(ms(np.degrees(fit["mu"])))
        if name in class_split:
            pos = task.target(angles) == 1
            p["rate_class1_minus_class0"] = lst(ms(rm[:, pos].mean(1) - rm[:, ~pos].mean(1)))
        numbers[name] = p
        pops.append(pop)
    if note:
        numbers["width_note"] = note
    if not draw:
        return numbers, None
    task = experiment_task(data, items[0][0])
    return numbers, draw_population_rates([(label, data[n]["final"]) for n, label in items], title, task, pops)


def fig1e(data, draw=True):
    return _population(data, [("estimation", "prior κ=0.75 (stationary 1.5)"),
                              ("estimation_narrow_prior", "narrow prior κ=2 (stationary 4)")],
                       "Fig. 1e: estimation, population rate for two priors", draw,
                       note="profile_kappa: concentration of b0 + a exp(kappa (cos(θ - m) - 1)) fitted to each "
                            "replica's population-rate profile; a narrower prior should give a larger value")


def fig1f(data, draw=True):
    return _population(data, [("classification", "prior at 0 (on boundary)"),
                              ("classification_shifted_prior", "prior shifted to 45°")],
                       "Fig. 1f: classification, shifted prior", draw,
                       class_split=("classification_shifted_prior",))


# --- S1a, S1b: tuning maps (no numbers) ------------------------------------------

def figS1a(data, draw=True):
    t = data["estimation"]["final"]
    return None, draw_tuning_map(t, "S1a: estimation tuning curves (replica 0)",
                                 experiment_task(data, "estimation")) if draw else None


def figS1b(data, draw=True):
    t = data["classification"]["final"]
    return None, draw_tuning_map(t, "S1b: classification tuning curves (replica 0)",
                                 experiment_task(data, "classification")) if draw else None


