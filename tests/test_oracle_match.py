"""Every target against the NumPy oracle (tests/oracle.py), step for step, learning on.

Every run has the structure of helpers.CHECK_* (one compilation per task on cpp_standalone)."""

import numpy as np
import pytest

import oracle
from helpers import TARGETS, fast_learning, normal_noise, oracle_inputs
from helpers import CHECK_R as R, CHECK_RECORD as RECORD, CHECK_STEPS as STEPS
from brian_effplast import PlasticCircuit

RTOL, ATOL = 1e-9, 1e-12  # round-off of -ffast-math code vs NumPy, over 900 steps


@pytest.mark.parametrize("target", TARGETS)
@pytest.mark.parametrize("task", ["estimation", "classification"])
def test_matches_oracle_with_learning(target, task):
    cfg = fast_learning(task)
    noise = normal_noise(11, STEPS, R, cfg.circuit.N)
    model = PlasticCircuit(cfg, seed=5, target=target, replicas=R, noise=noise)
    params, state = oracle_inputs(model)
    expected, traces = oracle.simulate(params, state, noise["stimulus"], noise["rates"], STEPS)
    out = model.run(STEPS * cfg.circuit.dt, record=RECORD)
    got = model.state
    for var in RECORD:
        np.testing.assert_allclose(out[var], traces[var].reshape(out[var].shape), rtol=RTOL, atol=ATOL,
                                   err_msg=var)
    for key, okey in [("W", "W"), ("C", "C"), ("b", "b"), ("D", "D"), ("W_bar", "rr_bar"),
                      ("C_bar", "rs_bar"), ("r_bar", "r_bar")]:
        np.testing.assert_allclose(got[key], expected[okey], rtol=RTOL, atol=ATOL, err_msg=key)
    # learning really happened: every parameter moved well beyond the tolerance
    for key in "WCbD":
        assert np.max(np.abs(got[key] - state[key])) > 1e-4, key


@pytest.mark.parametrize("target", TARGETS)
def test_learning_off_then_on_matches_oracle(target):
    """run(plastic=False) runs no update at all (set_learning), yet the state is the oracle's with
    plastic = 0: the parameters stay bit for bit, the averages go on; then learning on."""
    cfg = fast_learning("estimation")
    noise = normal_noise(15, 2 * STEPS, R, cfg.circuit.N)
    model = PlasticCircuit(cfg, seed=9, target=target, replicas=R, noise=noise)
    params, state = oracle_inputs(model)
    start = {k: v.copy() for k, v in model.state.items()}
    off = model.run(STEPS * cfg.circuit.dt, plastic=False, record=RECORD)
    for key in "WCbD":
        assert np.array_equal(model.state[key], start[key]), key
    expected, traces = oracle.simulate(dict(params, plastic=0), state, noise["stimulus"], noise["rates"], STEPS)
    for var in RECORD:
        np.testing.assert_allclose(off[var], traces[var].reshape(off[var].shape), rtol=RTOL, atol=ATOL,
                                   err_msg=var)
    assert np.max(np.abs(model.state["W_bar"] - state["rr_bar"])) > 1e-4  # the averages went on
    expected, _ = oracle.simulate(params, expected, noise["stimulus"][STEPS:], noise["rates"][STEPS:], STEPS)
    model.run(STEPS * cfg.circuit.dt, plastic=True)
    for key, okey in [("W", "W"), ("C", "C"), ("b", "b"), ("D", "D"), ("W_bar", "rr_bar"),
                      ("C_bar", "rs_bar"), ("r_bar", "r_bar"), ("r", "r")]:
        np.testing.assert_allclose(model.state[key], expected[okey], rtol=RTOL, atol=ATOL, err_msg=key)
    for key in "WCbD":
        assert np.max(np.abs(model.state[key] - start[key])) > 1e-4, key


@pytest.mark.parametrize("target", TARGETS)
def test_trials_match_oracle(target):
    """run.trial (the authors' protocol): each trial starts from r_init with the averages at 0
    and learning off for run.transient; the oracle does the same by hand."""
    cfg = fast_learning("estimation").replace(**{"run.transient": 1.0, "run.trial": 3.0})
    N, steps = cfg.circuit.N, 3 * STEPS  # trials [0, 3), [3, 6) and [6, 9): STEPS each
    noise = normal_noise(12, steps, R, N)
    model = PlasticCircuit(cfg, seed=6, target=target, replicas=R, noise=noise)
    params, state = oracle_inputs(model)
    alphas, done = [], 0
    while done < steps:
        state = dict(state, r=np.full_like(state["r"], cfg.circuit.r_init), rr_bar=0 * state["rr_bar"],
                     rs_bar=0 * state["rs_bar"], r_bar=0 * state["r_bar"])
        for plastic, n in ((0, 100), (1, 200)):
            n = min(n, steps - done)
            state, tr = oracle.simulate(dict(params, plastic=plastic), state, noise["stimulus"][done:],
                                        noise["rates"][done:], n)
            alphas.append(tr["alpha"])
            done += n
    # two calls, the second with a trial boundary inside
    outs = [model.run(n * STEPS * cfg.circuit.dt, record=RECORD) for n in (1, 2)]
    np.testing.assert_allclose(np.concatenate([o["alpha"] for o in outs]), np.concatenate(alphas),
                               rtol=RTOL, atol=ATOL)
    assert np.concatenate([o["curve"] for o in outs], axis=1).shape == (R, 9)
    for key, okey in [("W", "W"), ("C", "C"), ("b", "b"), ("D", "D"), ("W_bar", "rr_bar"), ("r", "r")]:
        np.testing.assert_allclose(model.state[key], state[okey], rtol=RTOL, atol=ATOL, err_msg=key)


@pytest.mark.parametrize("target", ["numpy", "cpp_standalone"])
def test_lam_scaled_with_sigma_matches_oracle(target):
    """plasticity.lam_sigma_ref: the L2 constants of W, C and b scale as (sigma/ref)^2, that of D
    does not; the oracle gets the scaled values computed here."""
    cfg = fast_learning("estimation").replace(**{"circuit.sigma": 0.3, "plasticity.lam_sigma_ref": 0.1})
    steps = STEPS
    noise = normal_noise(13, steps, R, cfg.circuit.N)
    model = PlasticCircuit(cfg, seed=7, target=target, replicas=R, noise=noise)
    params, state = oracle_inputs(model)
    pl = cfg.plasticity
    params.update(lam_W=9 * pl.lam_W, lam_C=9 * pl.lam_C, lam_b=9 * pl.lam_b, lam_D=pl.lam_D)
    expected, _ = oracle.simulate(params, state, noise["stimulus"], noise["rates"], steps)
    model.run(steps * cfg.circuit.dt, record=RECORD)
    for key in "WCbD":
        np.testing.assert_allclose(model.state[key], expected[key], rtol=RTOL, atol=ATOL, err_msg=key)


@pytest.mark.parametrize("target", ["numpy", "cpp_standalone"])
def test_trial_angle_from_the_prior(target):
    """run.trial_angle = "prior": each trial starts at an angle drawn from the stationary prior
    (von Mises, concentration 2*kappa) with numpy's generator seeded by (seed, step, 1)."""
    cfg = fast_learning("estimation").replace(**{"run.transient": 1.0, "run.trial": 3.0,
                                                 "run.trial_angle": "prior"})
    steps = 3 * STEPS  # three trials
    noise = normal_noise(14, steps, R, cfg.circuit.N)
    model = PlasticCircuit(cfg, seed=8, target=target, replicas=R, noise=noise)
    theta = model.run(steps * cfg.circuit.dt, record=RECORD)["theta"]
    mu, kappa, s_s = cfg.stimulus.mu, cfg.stimulus.kappa, cfg.stimulus.sigma_s
    for start in (0, 300, 600):
        theta0 = np.random.default_rng([8, start, 1]).vonmises(mu, 2 * kappa, R)
        theta0 = theta0 - 2 * np.pi * np.floor((theta0 + np.pi) / (2 * np.pi))
        # the first recorded angle of the trial is one Euler-Maruyama step from theta0
        dt = cfg.circuit.dt
        step = theta0 - kappa * s_s**2 * np.sin(theta0 - mu) * dt + s_s * np.sqrt(dt) * noise["stimulus"][start]
        np.testing.assert_allclose(theta[start], step - 2 * np.pi * np.floor((step + np.pi) / (2 * np.pi)),
                                   rtol=RTOL, atol=ATOL)
    # in between, the angle diffuses: no jump of more than a few noise steps
    assert np.max(np.abs(np.diff(theta[1:300], axis=0))) < 10 * s_s * np.sqrt(cfg.circuit.dt)
