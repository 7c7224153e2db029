"""Sanity tests of the NumPy oracle itself (tests/oracle.py), not of the library."""


import numpy as np
import pytest

# Import the oracle as a plain module, whether or not tests/ is a package.
import oracle  # noqa: E402


N_S = 12


def make_state(task, R, N, seed=0, b0=None, theta0=None):
    """Initial state as in the reference parameters (random W, C, D)."""
    rng = np.random.default_rng(seed)
    n_out = oracle.N_OUT[task]
    if b0 is None:
        b0 = 0.0 if task == "estimation" else 0.7
    return dict(
        theta=rng.uniform(-np.pi, np.pi, R) if theta0 is None else np.full(R, theta0),
        r=np.full((R, N), 0.1),
        W=rng.uniform(-0.3 / np.sqrt(N), 0.3 / np.sqrt(N), (R, N, N)),
        C=rng.uniform(-0.5 / np.sqrt(N_S), 0.5 / np.sqrt(N_S), (R, N, N_S)),
        b=np.full((R, N), b0),
        D=rng.uniform(-1.0 / N, 1.0 / N, (R, n_out, N)),
        rr_bar=np.zeros((R, N, N)),
        rs_bar=np.zeros((R, N, N_S)),
        r_bar=np.zeros((R, N)),
    )


def noise(steps, R, N, seed=1):
    rng = np.random.default_rng(seed)
    return rng.standard_normal((steps, R)), rng.standard_normal((steps, R * N))


def test_reference_params_and_angles():
    est = oracle.reference_params("estimation")
    cls = oracle.reference_params("classification")
    keys = {"task", "dt", "sigma", "mu", "kappa", "sigma_s", "k_bar", "r_min",
            "r_max", "a", "beta", "g", "eta_W", "eta_C", "eta_b", "eta_D",
            "lam_W", "lam_C", "lam_b", "lam_D", "plastic"}
    assert set(est) == keys and set(cls) == keys
    assert est["eta_D"] == 5e-6 and cls["eta_D"] == 1e-8
    assert cls["lam_C"] == 0.0625 and est["lam_C"] == 4.8e-3
    with pytest.raises(ValueError):
        oracle.reference_params("regression")

    th = oracle.preferred_angles(12)
    assert th.shape == (12,)
    assert th[0] == -np.pi
    np.testing.assert_allclose(np.diff(th), 2 * np.pi / 12)
    assert th[-1] < np.pi


def test_f_inv_is_inverse_of_f():
    x = np.linspace(-0.1, 0.6, 50)
    r = oracle.f_softplus(x)
    np.testing.assert_allclose(oracle.f_inv_softplus(r), x, rtol=0, atol=1e-9)
    # with non-default a, beta, g
    kw = dict(a=0.3, beta=0.1, g=5.0)
    np.testing.assert_allclose(oracle.f_inv_softplus(oracle.f_softplus(x, **kw), **kw),
                               x, rtol=0, atol=1e-9)


@pytest.mark.parametrize("task", ["estimation", "classification"])
def test_deterministic_rates_converge_to_fixed_point(task):
    R, N, steps = 1, 10, 3000
    p = dict(oracle.reference_params(task), sigma=0.0, sigma_s=0.0, plastic=0)
    state = make_state(task, R, N, seed=3, b0=0.3)
    z_s, z = noise(steps, R, N)
    final, tr = oracle.simulate(p, state, z_s, z, steps)
    # with sigma_s = 0 the stimulus does not move
    np.testing.assert_array_equal(tr["theta"][:, 0], state["theta"][0])
    s = np.maximum(0.0, np.cos(state["theta"][0] - oracle.preferred_angles(N_S)))
    r = final["r"][0]
    u = final["W"][0] @ r + final["C"][0] @ s + final["b"][0]
    np.testing.assert_allclose(r, oracle.f_softplus(u), rtol=1e-9, atol=1e-12)
    assert np.all(r > p["r_min"]) and np.all(r < p["r_max"])  # clip inactive
    # and the rates did move away from their initial value
    assert np.max(np.abs(r - 0.1)) > 0.05


@pytest.mark.parametrize("task", ["estimation", "classification"])
def test_not_plastic_keeps_parameters_bit_for_bit(task):
    R, N, steps = 2, 6, 200
    p = dict(oracle.reference_params(task), plastic=0, sigma_s=0.5)
    state = make_state(task, R, N, seed=4)
    z_s, z = noise(steps, R, N, seed=5)
    final, _ = oracle.simulate(p, state, z_s, z, steps)
    for key in ("W", "C", "b", "D"):
        np.testing.assert_array_equal(final[key], state[key])
    # ... while the dynamic state and the averages did change
    for key in ("theta", "r", "rr_bar", "rs_bar", "r_bar"):
        assert not np.array_equal(final[key], state[key])


@pytest.mark.parametrize("task", ["estimation", "classification"])
def test_input_state_not_mutated_and_plastic_changes_parameters(task):
    R, N, steps = 1, 5, 50
    p = dict(oracle.reference_params(task), eta_W=1e-2, eta_C=1e-2, eta_b=1e-2, eta_D=1e-2)
    state = make_state(task, R, N, seed=6)
    snapshot = {k: v.copy() for k, v in state.items()}
    z_s, z = noise(steps, R, N, seed=7)
    final, _ = oracle.simulate(p, state, z_s, z, steps)
    for key in state:
        np.testing.assert_array_equal(state[key], snapshot[key])
        assert not np.array_equal(final[key], state[key]), key


@pytest.mark.parametrize("task", ["estimation", "classification"])
def test_replicas_are_independent(task):
    N, steps = 5, 100
    p = dict(oracle.reference_params(task), eta_W=1e-3, eta_C=1e-3, eta_b=1e-3, eta_D=1e-3)
    state2 = make_state(task, 2, N, seed=8)
    z_s, z = noise(steps, 2, N, seed=9)
    final2, tr2 = oracle.simulate(p, state2, z_s, z, steps)

    state1 = {k: v[1:2] for k, v in state2.items()}
    final1, tr1 = oracle.simulate(p, state1, z_s[:, 1:2], z[:, N:2 * N], steps)
    for key in final1:
        np.testing.assert_array_equal(final2[key][1:2], final1[key])
    for key in tr1:
        np.testing.assert_array_equal(tr2[key][:, 1:2], tr1[key])
    # the two replicas really differ
    assert not np.array_equal(tr2["r"][:, 0], tr2["r"][:, 1])


def test_noise_layout_column_q_times_N_plus_i():
    # Noise only on neuron 2 of replica 1 (column 1*N + 2): only that neuron's
    # rate differs from a noiseless run after one step, by sigma*sqrt(dt)*z.
    R, N = 2, 4
    p = dict(oracle.reference_params("estimation"), plastic=0)
    state = make_state("estimation", R, N, seed=10)
    z_s = np.zeros((1, R))
    z0 = np.zeros((1, R * N))
    z1 = z0.copy()
    z1[0, 1 * N + 2] = 1.0
    f0, _ = oracle.simulate(p, state, z_s, z0, 1, record=False)
    f1, tr = oracle.simulate(p, state, z_s, z1, 1, record=False)
    assert tr == {}
    diff = f1["r"] - f0["r"]
    expected = np.zeros((R, N))
    expected[1, 2] = p["sigma"] * np.sqrt(p["dt"])
    np.testing.assert_allclose(diff, expected, rtol=1e-12, atol=1e-15)


def test_classification_reward_is_log_likelihood():
    R, N, steps = 2, 5, 300
    p = dict(oracle.reference_params("classification"), sigma_s=1.0, sigma=1.0)
    state = make_state("classification", R, N, seed=11)
    state["D"] *= 50  # spread y so that psi covers (0, 1) including the clip
    z_s, z = noise(steps, R, N, seed=12)
    _, tr = oracle.simulate(p, state, z_s, z, steps)
    y = tr["y"][..., 0]
    with np.errstate(over="ignore"):
        psi = np.clip(1 / (1 + np.exp(-100 * y)), 1e-4, 1 - 1e-4)
    c = (tr["theta"] >= 0).astype(float)
    expected = np.where(c == 1, np.log(psi), np.log(1 - psi))
    np.testing.assert_allclose(tr["alpha"], expected, rtol=1e-12, atol=0)
    assert np.all(tr["alpha"] <= 0)
    assert np.all(tr["alpha"] >= np.log(1e-4) - 1e-12)
    # both classes and the clip occur, so the test covers all branches
    assert 0 < c.mean() < 1
    assert np.any(np.isclose(tr["alpha"], np.log(1e-4)))


def test_estimation_reward_and_readout():
    R, N, steps = 2, 5, 100
    p = dict(oracle.reference_params("estimation"), sigma_s=1.0)
    state = make_state("estimation", R, N, seed=13)
    z_s, z = noise(steps, R, N, seed=14)
    _, tr = oracle.simulate(p, state, z_s, z, steps)
    target = np.stack([np.cos(tr["theta"]), np.sin(tr["theta"])], axis=-1)
    np.testing.assert_allclose(tr["alpha"], -np.sum((target - tr["y"]) ** 2, axis=-1),
                               rtol=1e-12)
    # the first readout uses the initial decoder and the recorded new rates
    np.testing.assert_allclose(tr["y"][0], np.einsum("qon,qn->qo", state["D"], tr["r"][0]),
                               rtol=1e-12)


def test_theta_wrapped_to_half_open_interval():
    R, N, steps = 3, 2, 2000
    p = dict(oracle.reference_params("estimation"), sigma_s=3.0, plastic=0)
    state = make_state("estimation", R, N, seed=15)
    state["theta"][:] = [-np.pi, 0.0, np.pi - 1e-9]
    z_s, z = noise(steps, R, N, seed=16)
    _, tr = oracle.simulate(p, state, z_s, z, steps)
    th = tr["theta"]
    assert np.all(th >= -np.pi) and np.all(th < np.pi)
    # the wrap was exercised: many jumps of nearly 2*pi
    assert np.sum(np.abs(np.diff(th, axis=0)) > np.pi) > 10


def test_updates_use_new_averages():
    # With k_bar = 1 and zero initial averages the new averages equal r r^T,
    # r s^T and r exactly, so (with lam = 0) W, C and b must not move at all
    # in one step, while D still learns from its error.
    R, N = 1, 4
    p = dict(oracle.reference_params("estimation"), k_bar=1.0,
             lam_W=0.0, lam_C=0.0, lam_b=0.0, eta_W=1.0, eta_C=1.0, eta_b=1.0)
    state = make_state("estimation", R, N, seed=17)
    z_s, z = noise(1, R, N, seed=18)
    final, tr = oracle.simulate(p, state, z_s, z, 1)
    for key in ("W", "C", "b"):
        np.testing.assert_array_equal(final[key], state[key])
    np.testing.assert_array_equal(final["r_bar"], tr["r"][0])
    assert not np.array_equal(final["D"], state["D"])


def test_decoder_uses_error_before_update():
    R, N = 1, 4
    p = dict(oracle.reference_params("estimation"), lam_D=0.0, eta_D=0.3)
    state = make_state("estimation", R, N, seed=19)
    z_s, z = noise(1, R, N, seed=20)
    final, tr = oracle.simulate(p, state, z_s, z, 1)
    r, th = tr["r"][0, 0], tr["theta"][0, 0]
    delta = np.array([np.cos(th), np.sin(th)]) - state["D"][0] @ r
    g_D = p["dt"] * 100 * p["eta_D"]
    np.testing.assert_allclose(final["D"][0], state["D"][0] + g_D * np.outer(delta, r),
                               rtol=1e-12)


def test_decoder_learning_reduces_estimation_error():
    # Fixed stimulus, no noise, only the decoder learns: D does LMS on a
    # fixed r, so the squared error must fall steadily towards 0.
    R, N, steps = 1, 8, 1500
    p = dict(oracle.reference_params("estimation"), sigma=0.0, sigma_s=0.0,
             eta_W=0.0, eta_C=0.0, eta_b=0.0, eta_D=2.0, lam_D=0.0)
    state = make_state("estimation", R, N, seed=21, b0=0.3, theta0=1.0)
    z_s, z = noise(steps, R, N)
    _, tr = oracle.simulate(p, state, z_s, z, steps)
    err = -tr["alpha"][:, 0]
    assert err[-1] < 1e-3 * err[0]
    assert np.all(np.diff(err[500:]) <= 0)


def test_stationary_stimulus_roughly_von_mises():
    # Fast stimulus (sigma_s = 3: correlation time 1/(kappa*sigma_s^2) ~ 0.15
    # time units), stationary law von Mises(mu, 2*kappa):
    # E[cos(theta - mu)] = I1(2 kappa)/I0(2 kappa) ~ 0.596, E[sin(theta - mu)] = 0.
    # Calibrated separately: Euler bias ~0.01, std of these 4-replica means
    # ~0.019 (cos) and ~0.024 (sin); the tolerances are > 3.5 std, and still
    # reject concentration kappa (0.35) or a wrong sign of mu (sin mean ~ -0.5).
    from scipy.special import i0, i1
    R, N, steps = 4, 1, 6000
    mu, kappa = 0.5, 0.75
    p = dict(oracle.reference_params("estimation"), sigma_s=3.0, mu=mu, kappa=kappa, plastic=0)
    state = make_state("estimation", R, N, seed=22)
    z_s, z = noise(steps, R, N, seed=23)
    _, tr = oracle.simulate(p, state, z_s, z, steps)
    th = tr["theta"][500:]
    expected = i1(2 * kappa) / i0(2 * kappa)
    assert abs(np.mean(np.cos(th - mu)) - expected) < 0.08
    assert abs(np.mean(np.sin(th - mu))) < 0.1
