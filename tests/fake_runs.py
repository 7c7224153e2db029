"""Fake loaded runs for the tests of the panels and verdicts: the layout of
:func:`brian_effplast.paper.experiments.load_all` (per experiment: three test stages,
a learning curve, the config and summary) filled with synthetic numbers of
known structure, so that no simulation is needed."""

import numpy as np

from brian_effplast.paper.experiments import EXPERIMENTS, STAGES, experiment_config

R, K, S, N, NS = 5, 12, 20, 6, 12
ANGLES = -np.pi + 2 * np.pi * np.arange(K) / K


def fake_test(cfg, rng, noise=0.3, R=R):
    """One stage's test data of experiment config ``cfg`` for ``R`` networks: random positive
    rates, outputs = target + Gaussian noise (s.d. ``noise``), random weights."""
    est = cfg.task == "estimation" or "estimation" in str(cfg.task)
    n_out = 2 if est else 1
    if est:
        target = np.stack([np.cos(ANGLES), np.sin(ANGLES)], -1)  # (K, 2)
    else:
        target = np.where(ANGLES >= 0, 0.3, -0.3)[:, None]  # the sign gives the class (some errors)
    return {"angles": ANGLES.copy(), "rates": rng.uniform(0.1, 2.0, (R, K, S, N)),
            "outputs": target[None, :, None, :] + noise * rng.standard_normal((R, K, S, n_out)),
            "W": 0.1 * rng.standard_normal((R, N, N)), "C": 0.1 * rng.standard_normal((R, N, NS)),
            "b": 0.1 * rng.standard_normal((R, N)), "D": rng.standard_normal((R, n_out, N)),
            "prior_mu": np.float64(cfg.stimulus.mu), "prior_kappa": np.float64(2 * cfg.stimulus.kappa),
            "t": np.float64(0.0)}


def fake_data(names=tuple(EXPERIMENTS), seed=0, R=R):
    """Fake loaded runs (:func:`~brian_effplast.paper.experiments.load_all`'s layout) for
    ``names``, ``R`` networks each."""
    rng = np.random.default_rng(seed)
    data = {}
    for name in names:
        cfg = experiment_config(name, R, "numpy")
        d = {stage: fake_test(cfg, rng, R=R) for stage in STAGES}
        for i, stage in enumerate(STAGES):
            d[stage]["t"] = np.float64(1000.0 * i)
        d["curve"] = {"curve": -rng.uniform(0.1, 1.0, (R, 50)), "curve_bin": np.float64(10.0)}
        d["config"], d["summary"] = cfg, {"status": "complete"}
        data[name] = d
    return data


# --- fake runs with a known effect per claim ---------------------------------------------
# effect_data(key, sign): fake runs of the experiments claim ``key`` reads, built so that its
# measure has an effect in the claimed direction (sign = +1) or the reverse (sign = -1), over
# RE networks; the other claims' measures are left random.

RE = 20
#: classes as the authors count them (theta = -pi in class 1), as +-1
CLASS_SIGN = np.where((ANGLES >= 0) | np.isclose(ANGLES, -np.pi), 1.0, -1.0)


def _tuned(prefs, rng, kappa=2.0):
    """Rates (R, K, S, N) of neurons tuned to ``prefs`` (R, N): von Mises bumps plus noise."""
    bump = np.exp(kappa * (np.cos(ANGLES[None, :, None] - prefs[:, None, :]) - 1))
    return 0.1 + bump[:, :, None, :] + 0.05 * rng.uniform(size=prefs.shape[:1] + (K, S, prefs.shape[1]))


def _vm(rng, mu, conc, n):
    return rng.vonmises(mu, conc, size=(RE, n))


def _profile_rates(profile, rng):
    """Rates (R, K, S, N): every neuron of network r follows ``profile[r]`` (R, K), times noise."""
    return profile[:, :, None, None] * (1 + 0.05 * rng.standard_normal((RE, K, S, N)))


def _bump_profile(rng, mu, kappa):
    k = kappa * np.exp(0.15 * rng.standard_normal((RE, 1)))  # each network its own width
    return 0.2 + np.exp(k * (np.cos(ANGLES - mu) - 1))


def _cls_outputs(rng, margin, sd):
    """Classification outputs (R, K, S, 1): class sign * margin (K,) + N(0, sd (K,))."""
    m = CLASS_SIGN * np.broadcast_to(margin, (K,))
    return (m[None, :, None] + np.broadcast_to(sd, (K,))[None, :, None] * rng.standard_normal((RE, K, S)))[..., None]


def _est_outputs(rng, shrink, sd):
    """Estimation outputs (R, K, S, 2): (1 - shrink(θ)) (cos θ, sin θ) + N(0, sd^2)."""
    target = np.stack([np.cos(ANGLES), np.sin(ANGLES)], -1) * (1 - np.broadcast_to(shrink, (K,)))[:, None]
    return target[None, :, None, :] + np.broadcast_to(sd, (K,))[None, :, None, None] * rng.standard_normal((RE, K, S, 2))


def _swap(s, a, b):
    return (a, b) if s > 0 else (b, a)


def _test_error(name):
    def build(d, s, rng, sig):
        good, bad = _swap(s, "final", "init")
        if name == "estimation":
            d[name][good]["outputs"], d[name][bad]["outputs"] = _est_outputs(rng, 0, 0.1), _est_outputs(rng, 0, 1.0)
        else:
            d[name][good]["outputs"], d[name][bad]["outputs"] = _cls_outputs(rng, 0.5, 0.1), _cls_outputs(rng, 0, 1.0)
    return build


def _objective(d, s, rng, sig):
    for name in d:
        ramp = -1 + 0.9 * np.linspace(0, 1, 50)[::s]  # the mean reward over training
        d[name]["curve"]["curve"] = ramp + 0.05 * rng.standard_normal((RE, 50))


def _pref_near_mode(d, s, rng, sig):
    d["estimation"]["init"]["rates"] = _tuned(rng.uniform(-np.pi, np.pi, (RE, N)), rng)
    d["estimation"]["final"]["rates"] = _tuned(_vm(rng, 0 if s > 0 else np.pi, 4, N), rng)


def _pref_off_boundary(d, s, rng, sig):
    t = d["classification"]
    t["init"]["rates"] = _tuned(rng.uniform(-np.pi, np.pi, (RE, N)), rng)
    centres = np.where(np.arange(N) % 2, np.pi / 2, -np.pi / 2) + (0 if s > 0 else np.pi / 2)  # ±90° or 0/180°
    t["final"]["rates"] = _tuned(centres + np.radians(8) * rng.standard_normal((RE, N)), rng)


def _mode_antimode(name):
    def build(d, s, rng, sig):
        d[name]["final"]["rates"] = _profile_rates(_bump_profile(rng, 0 if s > 0 else np.pi, 1.5), rng)
    return build


def _profile_width(d, s, rng, sig):
    narrow, standard = _swap(s, "estimation_narrow_prior", "estimation")
    d[narrow]["final"]["rates"] = _profile_rates(_bump_profile(rng, 0, 4.0), rng)
    d[standard]["final"]["rates"] = _profile_rates(_bump_profile(rng, 0, 1.0), rng)


def _probable_side_rate(d, s, rng, sig):
    profile = 1 + 0.5 * s * np.sign(np.sin(ANGLES)) + 0.1 * rng.standard_normal((RE, K))
    d["classification_shifted_prior"]["final"]["rates"] = _profile_rates(profile, rng)


def _bias_far(d, s, rng, sig):
    d["estimation"]["final"]["outputs"] = _est_outputs(rng, 0.3 * (1 - s * np.cos(ANGLES)) / 2, 0.1)


def _dprime_mode_vs_pi(d, s, rng, sig):
    d["classification"]["final"]["outputs"] = _cls_outputs(rng, 0.2 + 0.8 * (1 + s * np.cos(ANGLES)) / 2, 0.5)


def _dprime_learning(d, s, rng, sig):
    good, bad = _swap(s, "final", "init")
    t = d["classification"]
    t[good]["outputs"], t[bad]["outputs"] = _cls_outputs(rng, 1.0, 0.5), _cls_outputs(rng, 0.0, 0.5)


def _noisier_worse(d, s, rng, sig):
    hi, lo = _swap(s, sig[0.5], sig[0.1])
    d[hi]["final"]["outputs"], d[lo]["final"]["outputs"] = _est_outputs(rng, 0, 0.5), _est_outputs(rng, 0, 0.1)


def _noisier_objective(d, s, rng, sig):
    hi, lo = _swap(s, sig[0.5], sig[0.1])
    for name, level in ((hi, -1.0), (lo, -0.2)):  # the mean reward: lower is worse
        d[name]["curve"]["curve"] = level + 0.05 * rng.standard_normal((RE, 50))


def _current_ratio(d, s, rng, sig):
    hi, lo = _swap(s, sig[0.5], sig[0.1])
    for name, w in ((hi, 0.3), (lo, 0.05)):
        d[name]["final"]["W"] = w * rng.uniform(0.5, 1.5, (RE, N, N))


def _volume(d, s, rng, sig):
    t = d[sig[0.33]]["final"]
    near = np.abs(ANGLES) <= np.pi / 4 + 1e-9
    rates = np.empty((RE, K, S, N))
    for r in range(RE):
        Q, _ = np.linalg.qr(np.concatenate([t["D"][r].T, rng.standard_normal((N, N - 2))], axis=1))
        for k in range(K):
            hide = near[k] == (s > 0)  # noise mostly off the readout manifold here
            a_in, a_out = (0.2, 1.0) if hide else (1.0, 0.2)
            z = rng.standard_normal((S, N)) * np.r_[a_in, a_in, np.full(N - 2, a_out)]
            rates[r, k] = 1.0 + z @ Q.T
    t["rates"] = rates


def _energy_spread(d, s, rng, sig):
    hi, lo = _swap(s, sig[0.5], sig[0.1])
    for stage in STAGES:
        for name, c in ((hi, 1.0), (lo, 0.3)):
            t = d[name][stage]
            r0 = rng.uniform(0.5, 1.5, (RE, 1, 1, N))
            t["rates"] = np.broadcast_to(r0, (RE, K, S, N)).copy()  # the same rates at every angle:
            t["W"], t["b"] = np.zeros((RE, N, N)), np.zeros((RE, N))  # the energy varies by C s(θ) only
            t["C"] = c * rng.standard_normal((RE, N, NS))


def _s1c(d, s, rng, sig):
    narrow, standard = _swap(s, "estimation_narrow_prior", "estimation")
    d[narrow]["final"]["rates"] = _tuned(_vm(rng, 0, 4, N), rng)
    d[standard]["final"]["rates"] = _tuned(rng.uniform(-np.pi, np.pi, (RE, N)), rng)


def _s1d_far(d, s, rng, sig):
    narrow, standard = _swap(s, "estimation_narrow_prior", "estimation")
    far = np.abs(ANGLES) >= 3 * np.pi / 4 - 1e-9
    d[narrow]["final"]["outputs"] = _est_outputs(rng, 0, np.where(far, 0.5, 0.1))
    d[standard]["final"]["outputs"] = _est_outputs(rng, 0, 0.1)


def _s1f(d, s, rng, sig):
    improbable = ANGLES < 0  # mu = 45°: class 1 is the probable one
    sd = np.where(improbable == (s > 0), 1.0, 0.1)
    d["classification_shifted_prior"]["final"]["outputs"] = _cls_outputs(rng, 1.0, sd)


def _s1e(d, s, rng, sig):
    n1 = np.clip(np.round(N * (0.5 + 0.3 * s) + rng.integers(-1, 2, RE)), 0, N).astype(int)
    prefs = np.where(np.arange(N)[None, :] < n1[:, None], np.pi / 2, -np.pi / 2)
    d["classification_shifted_prior"]["final"]["rates"] = _tuned(prefs, rng)


#: claim key (without "_lamscaled"; a key prefix for the per-stage claims) -> builder(data, sign, rng, sigmas)
EFFECTS = {
    "1b_estimation_test_error": _test_error("estimation"),
    "1b_classification_test_error": _test_error("classification"),
    "1b_estimation_objective": _objective, "1b_classification_objective": _objective,
    "1c_pref_near_mode": _pref_near_mode, "1d_pref_off_boundary": _pref_off_boundary,
    "1e_mode_antimode_standard": _mode_antimode("estimation"),
    "1e_mode_antimode_narrow": _mode_antimode("estimation_narrow_prior"),
    "1e_profile_width": _profile_width, "1f_probable_side_rate": _probable_side_rate,
    "2ab_bias_far_near": _bias_far, "2c_dprime_mode_vs_pi": _dprime_mode_vs_pi, "2d_dprime_learning": _dprime_learning,
    "3a_test_error": _noisier_worse, "3a_objective": _noisier_objective,
    "3b_current_ratio_population": _current_ratio, "3c_volume_fraction": _volume, "3c_volume_entropy": _volume,
    "3d_energy_spread": _energy_spread,
    "S1c_pref_near_mode": _s1c, "S1d_error_far": _s1d_far, "S1f_error_by_class": _s1f,
    "S1e_prefer_probable_class": _s1e,
}


def effect_data(claim, sign, seed=0):
    """Fake runs (RE networks) of the experiments ``claim`` reads, with its effect of sign ``sign``
    (+1: the claimed direction, -1: the reverse; a descriptive claim: no effect built in)."""
    from brian_effplast.paper.experiments import SIGMAS, SIGMAS_LAMSCALED
    data = fake_data(claim.needs, seed, R=RE)
    if claim.kind == "test":
        base = claim.key.removesuffix("_lamscaled")
        build = next(f for k, f in EFFECTS.items() if base == k or base.startswith(k + "_"))
        build(data, sign, np.random.default_rng(seed + 1),
              SIGMAS_LAMSCALED if claim.key.endswith("_lamscaled") else SIGMAS)
    return data
