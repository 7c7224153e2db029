import os
import sys

import numpy as np
import pytest

sys.path.insert(0, os.path.dirname(__file__))  # tests/oracle.py and tests/gibbs.py

TARGETS = ["numpy", "cython", "cpp_standalone"]


@pytest.fixture(autouse=True)
def _quiet_brian():
    import brian2
    brian2.prefs.reset_to_defaults()
    brian2.BrianLogger.log_level_warn()
    yield


def oracle_inputs(model):
    """The oracle's params and initial state for a PlasticCircuit."""
    cfg, st = model.config, model.state
    pl = cfg.plasticity
    params = dict(task=cfg.task, dt=cfg.circuit.dt, sigma=cfg.circuit.sigma, mu=cfg.stimulus.mu,
                  kappa=cfg.stimulus.kappa, sigma_s=cfg.stimulus.sigma_s, k_bar=cfg.k_bar,
                  r_min=cfg.circuit.r_min, r_max=cfg.circuit.r_max, a=cfg.nonlinearity.a,
                  beta=cfg.nonlinearity.beta, g=cfg.nonlinearity.g, eta_W=pl.eta_W, eta_C=pl.eta_C,
                  eta_b=pl.eta_b, eta_D=pl.eta_D, lam_W=pl.lam_W, lam_C=pl.lam_C, lam_b=pl.lam_b,
                  lam_D=pl.lam_D, plastic=1)
    state = dict(theta=st["theta"], r=st["r"], W=st["W"], C=st["C"], b=st["b"], D=st["D"],
                 rr_bar=st["W_bar"], rs_bar=st["C_bar"], r_bar=st["r_bar"])
    return params, state


def normal_noise(seed, steps, R, N):
    rng = np.random.default_rng(seed)
    return {"stimulus": rng.standard_normal((steps, R)), "rates": rng.standard_normal((steps, R * N))}
