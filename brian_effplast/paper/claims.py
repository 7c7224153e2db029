"""The claims of Figs. 1-3 and S1 (:data:`CLAIMS`) and the per-network
quantities each reads from the loaded runs
(:func:`brian_effplast.paper.experiments.load_all`); judged by
:func:`brian_effplast.paper.verdicts.judge`.
"""

from dataclasses import dataclass, field
from typing import Callable

import numpy as np

from .. import analysis
from . import fig2 as f2
from . import fig3 as f3
from .panels import class_masks, experiment_task, near_far, per_angle_loss, tenths
from .experiments import SIGMAS, SIGMAS_LAMSCALED, STAGES

__all__ = ["Claim", "CLAIMS", "PanelCache"]


@dataclass(frozen=True)
class Claim:
    """One claim of the paper and how it is tested.

    Attributes
    ----------
    key : str
        A short unique name (e.g. ``"1c_pref_near_mode"``).
    panel : str
        The panel(s) the claim belongs to (e.g. ``"2a, 2b"``).
    claim : str
        The claim, one sentence.
    needs : tuple of str
        The experiments (keys of the loaded runs) the claim reads; the
        claim is skipped when one is missing.
    compute : callable
        ``compute(data) -> (x, y, paired, alternative)``: per-network
        values ``x`` (and ``y`` for a two-sample comparison, ``None`` for a
        one-sample one against ``reference``), whether ``x`` and ``y``
        are the same networks, and the claimed direction of ``x - y`` (or
        ``x - reference``) as in SciPy: ``"greater"``, ``"less"``
        (``"two-sided"`` for a descriptive claim).
    labels : tuple of str
        What ``x`` and ``y`` are, for the table.
    reference : float
        The constant of a one-sample claim.
    kind : {"test", "descriptive", "ratio"}
        ``"test"``: a claim of the paper, decided by the test.
        ``"descriptive"``: a comparison the paper does not claim (or not as
        measured here), reported as the difference of the means with its
        interval and two-sided p, no verdict drawn. ``"ratio"``: a
        descriptive claim ("nearly flat") reported as the ratio of the
        means ``mean(x) / mean(y)`` with a bootstrap interval; a
        non-significant difference could not show it.
    note : str
        Why the claim is measured this way (shown in the results).
    """

    key: str
    panel: str
    claim: str
    needs: tuple
    compute: Callable
    labels: tuple = ("x", "y")
    reference: float = 0.0
    kind: str = "test"
    note: str = field(default="")


# --- per-network quantities --------------------------------------------------------

class PanelCache(dict):
    """The loaded runs with a cache of panel numbers: several claims read the
    same panel (e.g. Fig. 3c for two measures), computed once per
    :func:`~brian_effplast.paper.verdicts.judge`."""

    def __init__(self, data):
        super().__init__(data)
        self.panel_cache = {}


def _panel(data, fn, **kw):
    """The numbers of panel function ``fn`` (``draw=False``), cached while :func:`judge` runs."""
    cache = getattr(data, "panel_cache", None)
    key = (fn.__module__, fn.__name__, tuple(sorted((k, repr(v)) for k, v in kw.items())))
    if cache is not None and key in cache:
        return cache[key]
    numbers, _ = fn(data, draw=False, **kw)
    if cache is not None:
        cache[key] = numbers
    return numbers


def _arr(values):
    """A per-network list of panel numbers (``None`` for undefined) as floats (NaN)."""
    return np.asarray(values, dtype=float)


def _error(data, name, stage="final", where=None):
    """The authors' test error (:meth:`Task.test_loss`) per network, averaged over the test
    angles (uniformly) or over those in mask ``where(test)``."""
    t = data[name][stage]
    err = per_angle_loss(t, experiment_task(data, name))  # (R, K)
    return err.mean(1) if where is None else err[:, where(t)].mean(1)


def _far(t):
    return near_far(t["angles"])[1]


def _probable_class(data, name):
    """Mask ``where(test)`` of the test angles of the class holding the prior mode (the probable
    class), angles on a class boundary left out (:func:`~brian_effplast.paper.panels.class_masks`)."""
    task = experiment_task(data, name)

    def where(t):
        return class_masks(t["angles"], task)[0 if task.target(float(t["prior_mu"])) == 1 else 1]
    return where


def _improbable_class(data, name):
    task, probable = experiment_task(data, name), _probable_class(data, name)
    return lambda t: ~probable(t) & np.any(class_masks(t["angles"], task), axis=0)


def _higher_is_better(task):
    """Whether a larger training objective is better: the reward is, and the
    objective is a monotonic function of it (the MSE of estimation is its negative)."""
    o = np.asarray(task.objective(np.array([0.0, 1.0])), dtype=float)
    return bool(o[1] > o[0])


def _objective_tenths(data, name):
    """The objective over the first and the last 10% of training (R,) each, and whether larger is better."""
    task = experiment_task(data, name)
    first, last = tenths(np.asarray(data[name]["curve"]["curve"]), task)
    return first, last, _higher_is_better(task)


def _preferences(data, name, stage):
    """Preferred stimulus of every neuron, (R, N), and the test it is read from."""
    t = data[name][stage]
    return analysis.preferred_stimulus(t["rates"], t["angles"]), t


def _frac_near_mode(data, name, stage="final"):
    """Per network, the fraction of neurons preferring a stimulus within 45° of the prior mode (as Fig. 1c)."""
    pref, t = _preferences(data, name, stage)
    return np.mean(np.abs(analysis.wrap_angle(pref - float(t["prior_mu"]))) < np.pi / 4, axis=1)


def _frac_off_boundaries(data, name, stage):
    """Per network, the fraction of neurons preferring a stimulus more than 20° from every class boundary (Fig. 1d)."""
    pref, _ = _preferences(data, name, stage)
    bounds = experiment_task(data, name).class_boundaries
    off = np.all([np.abs(analysis.wrap_angle(pref - b)) > np.radians(20) for b in bounds], axis=0)
    return off.mean(axis=1)


def _frac_prefer_probable(data, name):
    """Per network, the fraction of neurons whose preferred stimulus lies in the probable class (S1e)."""
    pref, t = _preferences(data, name, "final")
    task = experiment_task(data, name)
    return np.mean(task.target(pref) == task.target(float(t["prior_mu"])), axis=1)


def _replica_means(data, name):
    """Population-mean rate per network and test angle after training, (R, K), and the test."""
    t = data[name]["final"]
    return analysis.population_rate(t["rates"])["replica_means"], t


def _log_mode_antimode(data, name):
    """Per network, log of the population rate at the test angle nearest the prior
    mode over that nearest the opposite angle (the log of Fig. 1e's ratio, symmetric
    around 0 so that a one-sample test against 0 is fair)."""
    rm, t = _replica_means(data, name)
    angles, mu = np.asarray(t["angles"]), float(t["prior_mu"])
    k_mode = int(np.argmin(np.abs(analysis.wrap_angle(angles - mu))))
    k_anti = int(np.argmin(np.abs(analysis.wrap_angle(angles - mu - np.pi))))
    with np.errstate(divide="ignore", invalid="ignore"):
        out = np.log(rm[:, k_mode] / rm[:, k_anti])
    return np.where(np.isfinite(out), out, np.nan)


def _log_profile_kappa(data, name):
    """Per network, the log concentration of a baseline plus a von Mises bump fitted to the
    population-rate profile (:func:`~brian_effplast.analysis.fit_von_mises_profile`; larger is
    narrower; NaN for a flat profile)."""
    rm, t = _replica_means(data, name)
    return np.log(analysis.fit_von_mises_profile(rm, t["angles"])["kappa"])


def _class_rate_contrast(data, name):
    """Per network, mean rate over the test angles of the probable class and of the improbable one (Fig. 1f)."""
    rm, t = _replica_means(data, name)
    return rm[:, _probable_class(data, name)(t)].mean(1), rm[:, _improbable_class(data, name)(t)].mean(1)


def _bias_variance_near_far(data):
    """Squared bias and variance of the estimation outputs after training, each
    averaged near / far from the prior mode per network (Fig. 2b)."""
    t = data["estimation"]["final"]
    bias2, var = analysis.bias_variance(t["outputs"], t["angles"])
    near, far = near_far(t["angles"])
    return {"bias2": (bias2[:, near].mean(1), bias2[:, far].mean(1)),
            "variance": (var[:, near].mean(1), var[:, far].mean(1))}


# --- the claims ----------------------------------------------------------------------

NEAR, FAR = "near (|θ|≤45°)", "far (|θ|≥135°)"


def _fig1_2_claims():
    est, cls, nar, sh = "estimation", "classification", "estimation_narrow_prior", "classification_shifted_prior"

    def objective(name):
        def compute(data):
            first, last, higher = _objective_tenths(data, name)
            return last, first, True, "greater" if higher else "less"
        return compute

    def error_after_before(name):
        return lambda data: (_error(data, name, "final"), _error(data, name, "init"), True, "less")

    def log_ratio(name):
        return lambda data: (_log_mode_antimode(data, name), None, False, "greater")

    def dprime_2d(stage):
        return lambda data: _arr(_panel(data, f2.fig2d)[stage]["per_replica"])

    return [
        Claim("1b_estimation_test_error", "1b",
              "Estimation: training lowers the held-stimulus test error (mean squared error over the test angles).",
              (est,), error_after_before(est), ("trained", "untrained")),
        Claim("1b_classification_test_error", "1b",
              "Classification: training lowers the held-stimulus test error (negative log-likelihood of the true "
              "class over the test angles).", (cls,), error_after_before(cls), ("trained", "untrained")),
        Claim("1b_estimation_objective", "1b",
              "Estimation: the training objective over the last tenth of training beats that over the first tenth.",
              (est,), objective(est), ("last 10%", "first 10%"),
              note="objective: training MSE (lower is better)"),
        Claim("1b_classification_objective", "1b",
              "Classification: the training objective over the last tenth of training beats that over the first "
              "tenth.", (cls,), objective(cls), ("last 10%", "first 10%"),
              note="objective: training log-likelihood (higher is better)"),
        Claim("1c_pref_near_mode", "1c",
              "Estimation: training raises the share of a network's neurons whose preferred stimulus lies within "
              "45° of the prior mode.",
              (est,), lambda d: (_frac_near_mode(d, est, "final"), _frac_near_mode(d, est, "init"), True, "greater"),
              ("trained", "untrained"), note="uniform preferences give 0.25"),
        Claim("1d_pref_off_boundary", "1d",
              "Classification: training raises the share of neurons whose preferred stimulus is more than 20° from "
              "every class boundary (preferences split into two modes, one per class).",
              (cls,), lambda d: (_frac_off_boundaries(d, cls, "final"), _frac_off_boundaries(d, cls, "init"),
                                 True, "greater"), ("trained", "untrained")),
        Claim("1e_mode_antimode_standard", "1e",
              "Standard prior: after training the population rate is higher at the prior mode than at the opposite "
              "angle.", (est,), log_ratio(est), ("log(rate mode / antimode)", None),
              note="one-sample test of the log ratio against 0"),
        Claim("1e_mode_antimode_narrow", "1e",
              "Narrow prior: after training the population rate is higher at the prior mode than at the opposite "
              "angle.", (nar,), log_ratio(nar), ("log(rate mode / antimode)", None),
              note="one-sample test of the log ratio against 0"),
        Claim("1e_contrast_narrow_vs_standard", "1e",
              "Descriptive (not a claim of the paper): the mode-to-antimode rate contrast, narrow vs standard prior.",
              (est, nar), lambda d: (_log_mode_antimode(d, nar), _log_mode_antimode(d, est), False, "two-sided"),
              ("narrow", "standard"), kind="descriptive", note="log(rate mode / antimode) per network"),
        Claim("1e_profile_width", "1e",
              "A narrower prior gives a narrower population-rate profile: the fitted concentration is larger for "
              "the narrow prior than for the standard one.",
              (est, nar), lambda d: (_log_profile_kappa(d, nar), _log_profile_kappa(d, est), False, "greater"),
              ("narrow", "standard"),
              note="log kappa of b0 + a exp(kappa (cos(θ - m) - 1)) fitted to each network's population-rate "
                   "profile by least squares (larger kappa: narrower)"),
        Claim("1f_probable_side_rate", "1f",
              "Shifted prior: after training the mean rate over test angles of the probable class exceeds that over "
              "the improbable class.",
              (sh,), lambda d: (*_class_rate_contrast(d, sh), True, "greater"), ("probable class", "improbable class"),
              note="the probable class is the one holding the prior mode (class 1 for mu = 45°); angles on a class "
                   "boundary (0, ±180°) left out"),
        Claim("2ab_bias_far_near", "2a, 2b",
              "Estimation: the squared bias of the output is larger far from the prior mode than near it.",
              (est,), lambda d: (*_bias_variance_near_far(d)["bias2"][::-1], True, "greater"), (FAR, NEAR)),
        Claim("2ab_variance_flat", "2a, 2b",
              "Estimation: the output variance changes much less with the angle than the bias does (nearly flat).",
              (est,), lambda d: (*_bias_variance_near_far(d)["variance"][::-1], True, "two-sided"),
              (FAR, NEAR), kind="ratio",
              note="descriptive: the far/near ratio of the mean variance with a 95% bootstrap interval; a "
                   "non-significant difference cannot prove flatness, the interval bounds how far from 1 it is"),
        Claim("2c_dprime_mode_vs_pi", "2c",
              "Classification: d' between test angles straddling the class boundary is higher at the prior mode "
              "than at ±180°.",
              (cls,), lambda d: (_arr(_panel(d, f2.fig2c)["per_replica_at_mode"]),
                                 _arr(_panel(d, f2.fig2c)["per_replica_at_pi"]), True, "greater"),
              ("at the mode", "at ±180°")),
        Claim("2d_dprime_learning", "2d",
              "Classification: training raises the prior-averaged d' between the classes.",
              (cls,), lambda d: (dprime_2d("final")(d), dprime_2d("init")(d), True, "greater"),
              ("trained", "untrained"), note="d' of the outputs at θ > 0 vs θ < 0, each class's test angles "
                                              "weighted by the prior (the authors' measure)"),
    ]


def _fig3_claims(sigmas, suffix, low=0.1, high=0.5, mid=0.33):
    """The Fig. 3 / S1g claims for one noise sweep ``sigmas`` (sigma -> experiment)."""
    lo, hi = sigmas[low], sigmas[high]
    pair = {low: lo, high: hi}
    labels = (f"σ = {high:g}", f"σ = {low:g}")

    def p(panel):
        return f"{panel}{suffix}"

    def key(k):
        return f"{k}{'_lamscaled' if suffix else ''}"

    def objective(data):
        _, last_hi, higher = _objective_tenths(data, hi)
        _, last_lo, _ = _objective_tenths(data, lo)
        return last_hi, last_lo, False, "less" if higher else "greater"

    def current(field_, alternative="greater"):
        def compute(data):
            n = _panel(data, f3.fig3b, sigmas=pair)
            return _arr(n[str(high)][field_]), _arr(n[str(low)][field_]), False, alternative
        return compute

    def volume(measure):
        def compute(data):
            n = _panel(data, f3.fig3c, sigma=mid, sigmas={mid: sigmas[mid]})["final"]
            return (_arr(n[f"per_replica_{measure}_near_mode"]), _arr(n[f"per_replica_{measure}_far"]),
                    True, "less")
        return compute

    def energy(stage, field_, alternative="greater"):
        def compute(data):
            n = _panel(data, f3.fig3d, sigmas=pair)
            return _arr(n[str(high)][stage][field_]), _arr(n[str(low)][stage][field_]), False, alternative
        return compute

    spread = [Claim(key(f"3d_energy_spread_{stage}"), p("3d, S1g"),
                    f"{stage.capitalize()} stage of training: the spread of the per-angle mean energies (the "
                    f"authors' measure) is larger at σ = {high:g} than at σ = {low:g}.",
                    (lo, hi), energy(stage, "per_replica_spread"), labels,
                    note="spread: || E_k - mean_k E_k || over the test angles k, E_k the mean energy at angle k"
                         + ("; init: the untrained weights (what the noise alone does)" if stage == "init" else ""))
              for stage in STAGES]
    return [
        Claim(key("3a_test_error"), p("3a"),
              f"More noise, worse result: the final held-stimulus test error is higher at σ = {high:g} than at "
              f"σ = {low:g}.", (lo, hi), lambda d: (_error(d, hi), _error(d, lo), False, "greater"), labels),
        Claim(key("3a_objective"), p("3a"),
              f"More noise, worse training: the objective over the last tenth of training is worse at σ = {high:g} "
              f"than at σ = {low:g}.", (lo, hi), objective, labels, note="objective: training MSE (lower is better)"),
        Claim(key("3b_current_ratio_population"), p("3b"),
              f"Noisier networks rely more on recurrence: after training the ratio of recurrent to input current "
              f"(the authors' measure) is higher at σ = {high:g} than at σ = {low:g}.", (lo, hi),
              current("per_replica_population_after"), labels,
              note="mean over neurons and angles of |recurrent current averaged over the samples of the angle| "
                   "over that of |input current|"),
        Claim(key("3b_current_ratio"), p("3b"),
              f"Descriptive: the per-neuron ratio of mean |recurrent| to mean |input| current (network mean), "
              f"σ = {high:g} vs σ = {low:g}.", (lo, hi), current("per_replica_after", "two-sided"), labels,
              kind="descriptive", note="absolute values taken per sample, so the noise adds to the recurrent current"),
        Claim(key("3c_volume_fraction"), p("3c"),
              f"σ = {mid:g}, after training: the noise volume fraction (determinant ratio) is lower near the prior "
              f"mode than far from it.", (sigmas[mid],), volume("vf"), (NEAR, FAR)),
        Claim(key("3c_volume_entropy"), p("3c"),
              f"σ = {mid:g}, after training: the entropy of the noise in the readout manifold, less that on the top "
              f"principal components, is lower near the prior mode than far from it.", (sigmas[mid],),
              volume("entropy_difference"), (NEAR, FAR),
              note="entropy difference = 1/2 log(volume fraction), nats; the authors' entropy ratio is not used: "
                   "its denominator can be near 0"),
        *spread,
        Claim(key("3d_mean_energy"), p("3d, S1g"),
              f"Descriptive: after training the angle-averaged mean energy at σ = {high:g} vs σ = {low:g}.",
              (lo, hi), energy("final", "per_replica_angle_avg", "two-sided"), labels, kind="descriptive",
              note="the noise variance acts as a temperature, so the mean energy rises with σ at fixed weights too"),
    ]


def _s1_claims():
    est, nar, sh = "estimation", "estimation_narrow_prior", "classification_shifted_prior"
    return [
        Claim("S1c_pref_near_mode", "S1c",
              "A narrower prior raises the share of neurons preferring stimuli within 45° of the mode.",
              (est, nar), lambda d: (_frac_near_mode(d, nar), _frac_near_mode(d, est), False, "greater"),
              ("narrow", "standard")),
        Claim("S1d_error_far", "S1d",
              "A narrower prior gives larger errors for improbable stimuli (|θ| ≥ 135°).",
              (est, nar), lambda d: (_error(d, nar, where=_far), _error(d, est, where=_far), False, "greater"),
              ("narrow", "standard")),
        Claim("S1d_error_near", "S1d",
              "Descriptive (the paper claims larger errors at improbable stimuli only): the error near the mode "
              "(|θ| ≤ 45°), narrow vs standard prior.",
              (est, nar), lambda d: (_error(d, nar, where=lambda t: near_far(t["angles"])[0]),
                                     _error(d, est, where=lambda t: near_far(t["angles"])[0]), False, "two-sided"),
              ("narrow", "standard"), kind="descriptive"),
        Claim("S1f_error_by_class", "S1e, S1f",
              "Shifted prior: the test error (negative log-likelihood of the true class) is higher on test angles "
              "of the improbable class than of the probable one.",
              (sh,), lambda d: (_error(d, sh, where=_improbable_class(d, sh)),
                                _error(d, sh, where=_probable_class(d, sh)), True, "greater"),
              ("improbable class", "probable class"), note="angles on a class boundary (0, ±180°) left out"),
        Claim("S1e_prefer_probable_class", "S1e, S1f",
              "Shifted prior: more than half of a network's neurons prefer stimuli of the probable class.",
              (sh,), lambda d: (_frac_prefer_probable(d, sh), None, False, "greater"),
              ("fraction preferring the probable class", None), reference=0.5),
    ]


#: The claims of Figs. 1-3 and S1, in the order of the paper (Fig. 3 / S1g once per noise sweep:
#: L2 constants fixed, :data:`~brian_effplast.paper.experiments.SIGMAS`, and scaled by sigma^2,
#: :data:`~brian_effplast.paper.experiments.SIGMAS_LAMSCALED`).
CLAIMS = _fig1_2_claims() + _fig3_claims(SIGMAS, "") + _fig3_claims(SIGMAS_LAMSCALED, " (λ∝σ²)") + _s1_claims()
