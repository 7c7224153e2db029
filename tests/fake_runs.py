"""Fake loaded runs for the tests of the panels and verdicts: the layout of
:func:`brian_effplast.paper.experiments.load_all` (per experiment: three test stages,
a learning curve, the config and summary) filled with synthetic numbers of
known structure, so that no simulation is needed."""

import numpy as np

from brian_effplast.paper.experiments import EXPERIMENTS, STAGES, experiment_config

R, K, S, N, NS = 5, 12, 20, 6, 12
ANGLES = -np.pi + 2 * np.pi * np.arange(K) / K


def fake_test(cfg, rng, noise=0.3):
    """One stage's test data of experiment config ``cfg``: random positive rates,
    outputs = target + Gaussian noise (s.d. ``noise``), random weights."""
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


def fake_data(names=tuple(EXPERIMENTS), seed=0):
    """Fake loaded runs (:func:`figures_runs.load_all`'s layout) for ``names``."""
    rng = np.random.default_rng(seed)
    data = {}
    for name in names:
        cfg = experiment_config(name, R, "numpy")
        d = {stage: fake_test(cfg, rng) for stage in STAGES}
        for i, stage in enumerate(STAGES):
            d[stage]["t"] = np.float64(1000.0 * i)
        d["curve"] = {"curve": -rng.uniform(0.1, 1.0, (R, 50)), "curve_bin": np.float64(10.0)}
        d["config"], d["summary"] = cfg, {"status": "complete"}
        data[name] = d
    return data
