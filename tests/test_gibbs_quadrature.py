"""Tests of the quadrature reference ``tests/gibbs.py`` (Gibbs density of the
circuit, Eqs. 3-4, and the expected plasticity rule, Eqs. 8-10).

Plain NumPy/SciPy; does not import ``brian2`` or ``brian_effplast``.
"""


import numpy as np
import pytest
from scipy import integrate

import gibbs as gb  # noqa: E402

TOL = 0.02  # relative tolerance of the gradient checks (the brief's 2%)

W1 = np.array([[0.2]])
H1 = np.array([0.15])
W2 = np.array([[0.1, 0.3], [0.3, -0.2]])
H2 = np.array([0.1, 0.25])
S_IN = np.array([0.7, 0.3, 0.0])  # a few input rates s_k for the C entries
THETA = 0.4
TARGET_EST = np.array([np.cos(THETA), np.sin(THETA)])

CIRCUITS = {
    1: dict(W=W1, h=H1, D_est=np.array([[1.5], [0.8]]), D_cls=np.array([[0.2]]),
            whiches=[("W", 0, 0), ("C", 0, 1), ("b", 0)]),
    2: dict(W=W2, h=H2, D_est=np.array([[1.2, -0.4], [0.3, 0.9]]),
            D_cls=np.array([[0.3, -0.2]]),
            whiches=[("W", 0, 1), ("W", 1, 1), ("C", 1, 0), ("b", 0)]),
}
TASKS = {"estimation": ("mse", "D_est", TARGET_EST),
         "classification": ("classification", "D_cls", 1.0)}


def rel(a, b):
    return abs(a - b) / abs(b)


# ---------------------------------------------------------------------------
# F-I curve
# ---------------------------------------------------------------------------

def test_softplus_F_is_the_integral_of_finv():
    for r in [1e-4, 1e-3, 0.01, 0.05, 0.3, 1.0, 2.0]:
        q = integrate.quad(gb.softplus_finv, 0.0, r, limit=200, points=[min(r, 1e-3)],
                           epsabs=1e-15, epsrel=1e-12)[0]
        assert gb.softplus_F(r) == pytest.approx(q, rel=1e-9, abs=1e-14)
    r = np.array([1e-3, 0.02, 0.1, 1.0, 5.0, 50.0])
    np.testing.assert_allclose(gb.softplus_f(gb.softplus_finv(r)), r, rtol=1e-12)
    eps = 1e-6
    np.testing.assert_allclose((gb.softplus_F(r + eps) - gb.softplus_F(r - eps)) / (2 * eps),
                               gb.softplus_finv(r), rtol=1e-6, atol=1e-9)
    assert gb.softplus_F(0.0) == 0.0
    # non-default parameters
    p = dict(a=0.5, beta=0.1, g=5.0)
    q = integrate.quad(lambda x: gb.softplus_finv(x, **p), 0.0, 0.7, limit=200)[0]
    assert gb.softplus_F(0.7, **p) == pytest.approx(q, rel=1e-9)


# ---------------------------------------------------------------------------
# Normalisation and convergence of the quadrature
# ---------------------------------------------------------------------------

@pytest.mark.parametrize("convention", gb.CONVENTIONS)
@pytest.mark.parametrize("sigma", [0.02, 0.2, 0.33])
@pytest.mark.parametrize("N", [1, 2])
def test_normalisation_converges_when_halving_the_spacing(N, sigma, convention):
    c = CIRCUITS[N]
    G = gb.gibbs_density(c["W"], c["h"], sigma, convention=convention)
    assert G.mass().sum() == pytest.approx(1.0, abs=1e-13)
    assert np.all(G.density >= 0)

    def summary(G):
        r = G.points
        return np.concatenate([[G.log_z], G.expect(r),
                               G.expect(r[..., :, None] * r[..., None, :]).ravel()])

    # default points_per_sd = 16; halve the spacing once and twice
    coarse = gb.gibbs_density(c["W"], c["h"], sigma, convention=convention, points_per_sd=8)
    finer = gb.gibbs_density(c["W"], c["h"], sigma, convention=convention, points_per_sd=32)
    np.testing.assert_allclose(summary(G), summary(coarse), rtol=1e-6, atol=1e-9)
    np.testing.assert_allclose(summary(finer), summary(G), rtol=1e-8, atol=1e-10)
    # the box holds all the mass: widening it does not change Z
    wide = gb.gibbs_density(c["W"], c["h"], sigma, convention=convention, n_sd=15)
    assert wide.log_z == pytest.approx(G.log_z, abs=1e-9)


@pytest.mark.parametrize("r_lo", [gb.R_MIN, 0.0])
@pytest.mark.parametrize("sigma", [0.2, 0.33])
def test_normaliser_matches_scipy_quad(sigma, r_lo):
    T = gb.temperature(sigma)
    G = gb.gibbs_density(W1, H1, sigma, r_lo=r_lo)

    def un(r):
        return np.exp(-gb.energy(np.array([r]), W1, H1) / T)

    z = integrate.quad(un, r_lo, 8.0, points=[0.01, 0.1, 0.3], limit=500,
                       epsabs=0, epsrel=1e-13)[0]
    assert G.log_z == pytest.approx(np.log(z), abs=1e-8)
    # N = 2 with diagonal W factorises into two 1-D integrals
    Wd = np.diag([0.1, -0.2])
    G2 = gb.gibbs_density(Wd, H2, sigma, r_lo=r_lo)
    logz = 0.0
    for i in range(2):
        zi = integrate.quad(lambda r: np.exp(-gb.energy(np.array([r]), Wd[i:i + 1, i:i + 1],
                                                        H2[i:i + 1]) / T),
                            r_lo, 8.0, points=[0.01, 0.1, 0.3], limit=500, epsabs=0,
                            epsrel=1e-13)[0]
        logz += np.log(zi)
    assert G2.log_z == pytest.approx(logz, abs=1e-8)


def test_conventions_differ_by_a_factor_two_in_temperature():
    a = gb.gibbs_density(W2, H2, 0.2, convention="sde")
    b = gb.gibbs_density(W2, H2, 0.2 / np.sqrt(2), convention="paper")
    assert a.temperature == pytest.approx(0.02, rel=1e-14)
    assert b.temperature == pytest.approx(0.02, rel=1e-14)
    c = gb.gibbs_density(W2, H2, 0.2, convention="paper")
    assert c.temperature == pytest.approx(0.04)
    assert a.log_z == pytest.approx(b.log_z, abs=1e-10)
    with pytest.raises(ValueError, match="convention"):
        gb.gibbs_density(W2, H2, 0.2, convention="physics")


def test_bad_inputs_are_rejected():
    with pytest.raises(ValueError, match="symmetric"):
        gb.gibbs_density([[0.1, 0.3], [0.0, 0.1]], H2, 0.2)
    with pytest.raises(ValueError, match="normalisable"):
        gb.gibbs_density([[1.2]], H1, 0.2)
    with pytest.raises(ValueError, match="shape"):
        gb.gibbs_density(W2, H1, 0.2)


# ---------------------------------------------------------------------------
# Small-noise mode: r = f(W r + h)
# ---------------------------------------------------------------------------

@pytest.mark.parametrize("N", [1, 2])
def test_mode_is_the_fixed_point_at_small_noise(N):
    c = CIRCUITS[N]
    W, h = c["W"], c["h"]
    r_star = gb.fixed_point(W, h)
    np.testing.assert_allclose(gb.softplus_f(W @ r_star + h), r_star, rtol=1e-12)
    G = gb.gibbs_density(W, h, 0.02)
    # grid argmax within one spacing of the fixed point, refined mode on it
    idx = np.unravel_index(np.argmax(G.density), G.shape)
    node = np.array([x[i] for x, i in zip(G.axes, idx)])
    spacing = np.array([x[1] - x[0] for x in G.axes])
    assert np.all(np.abs(node - r_star) <= spacing)
    mode = G.mode()
    np.testing.assert_allclose(mode, r_star, rtol=1e-7)
    np.testing.assert_allclose(gb.softplus_f(W @ mode + h), mode, rtol=1e-7)
    # the mean approaches the fixed point as sigma -> 0
    dev = [np.abs(gb.expectation(lambda r: r, W, h, s) - r_star).max()
           for s in (0.2, 0.05, 0.02)]
    assert dev[2] < 2e-3
    assert dev[0] > dev[1] > dev[2]


# ---------------------------------------------------------------------------
# Expected rule vs finite-difference gradient of the expected objective
# ---------------------------------------------------------------------------

RULE_CASES = [(N, sigma, task, which, conv)
              for N in (1, 2) for sigma in (0.2, 0.33) for task in TASKS
              for which in CIRCUITS[N]["whiches"] for conv in gb.CONVENTIONS]


def _case(N, task):
    c = CIRCUITS[N]
    reward, dkey, target = TASKS[task]
    return c["W"], c["h"], c[dkey], target, reward


@pytest.mark.parametrize("N,sigma,task,which,conv", RULE_CASES,
                         ids=[f"N{n}-s{s}-{t}-{''.join(map(str, w))}-{c}"
                              for n, s, t, w, c in RULE_CASES])
def test_rule_expectation_equals_fd_gradient(N, sigma, task, which, conv):
    W, h, D, target, reward = _case(N, task)
    G = gb.gibbs_density(W, h, sigma, convention=conv)
    fd = gb.fd_gradient(W, h, D, target, sigma, reward, which, s=S_IN, grid=G)
    rule = gb.rule_expectation(W, h, D, target, sigma, reward, which, s=S_IN, grid=G)
    assert abs(fd) > 1e-3  # a non-trivial gradient
    diagonal = which[0] == "W" and which[1] == which[2]
    # pair, C entry and b entry: dO/dtheta = E[alpha (x - <x>)] / T;
    # diagonal: dO/dw_ii = E[alpha (r_i^2 - <r_i^2>)] / (2 T)
    expected = rule / 2 if diagonal else rule
    assert rel(expected, fd) < TOL
    assert gb.analytic_gradient(W, h, D, target, sigma, reward, which, s=S_IN,
                                grid=G) == pytest.approx(expected, rel=1e-12)
    # negative control 1: wrong temperature in the prefactor, (1.2 sigma)^2
    wrong = gb.rule_expectation(W, h, D, target, sigma, reward, which, s=S_IN, grid=G,
                                rule_sigma=1.2 * sigma)
    assert rel(wrong / 2 if diagonal else wrong, fd) > TOL
    # negative control 2: the diagonal without its factor 1/2 fails
    if diagonal:
        assert rel(rule, fd) > TOL


@pytest.mark.parametrize("task", list(TASKS))
def test_fd_with_independent_integrators(task):
    """The rule also matches finite differences computed with an independent
    integrator (scipy.integrate.quad, N = 1) or with a new adaptive grid for
    every evaluation (N = 2), so the agreement is not an artefact of the
    fixed quadrature rule. (Rebuilding the grid adds quadrature noise of
    ~1e-9 to each objective, hence the looser 1e-3 for N = 2.)"""
    sigma, eps = 0.2, 1e-3
    T = gb.temperature(sigma)
    W, h, D, target, reward = _case(1, task)
    rfun = gb.REWARDS[reward]

    def objective(W_, h_):
        def un(r):
            return np.exp(-gb.energy(np.array([r]), W_, h_) / T)

        def num(r):
            return un(r) * rfun(np.atleast_2d(D @ np.array([r])).reshape(1, -1), target)[0]

        kw = dict(points=[0.01, 0.1, 0.3], limit=500, epsabs=0, epsrel=1e-12)
        return (integrate.quad(num, gb.R_MIN, 6.0, **kw)[0]
                / integrate.quad(un, gb.R_MIN, 6.0, **kw)[0])

    for which in CIRCUITS[1]["whiches"]:
        Wp, hp = gb._perturbed(W, h, gb._parse_which(which, 1, S_IN), eps, S_IN)
        Wm, hm = gb._perturbed(W, h, gb._parse_which(which, 1, S_IN), -eps, S_IN)
        fd = (objective(Wp, hp) - objective(Wm, hm)) / (2 * eps)
        an = gb.analytic_gradient(W, h, D, target, sigma, reward, which, s=S_IN)
        assert rel(an, fd) < 1e-4

    eps = 1e-3
    W, h, D, target, reward = _case(2, task)
    for which in CIRCUITS[2]["whiches"]:
        Wp, hp = gb._perturbed(W, h, gb._parse_which(which, 2, S_IN), eps, S_IN)
        Wm, hm = gb._perturbed(W, h, gb._parse_which(which, 2, S_IN), -eps, S_IN)
        fd = (gb.expected_objective(Wp, hp, D, target, sigma, reward)
              - gb.expected_objective(Wm, hm, D, target, sigma, reward)) / (2 * eps)
        an = gb.analytic_gradient(W, h, D, target, sigma, reward, which, s=S_IN)
        assert rel(an, fd) < 1e-3


def test_expected_updates_match_rule_expectation():
    W, h, D, target, reward = _case(2, "estimation")
    sigma = 0.2
    T = gb.temperature(sigma)
    G = gb.gibbs_density(W, h, sigma)
    up = gb.expected_updates(W, h, D, target, sigma, reward, s=S_IN, grid=G)
    for i in range(2):
        for j in range(2):
            assert up["W"][i, j] == pytest.approx(
                T * gb.rule_expectation(W, h, D, target, sigma, reward, ("W", i, j), grid=G),
                rel=1e-10)
        assert up["b"][i] == pytest.approx(
            T * gb.rule_expectation(W, h, D, target, sigma, reward, ("b", i), grid=G), rel=1e-10)
        for k in range(2):
            assert up["C"][i, k] == pytest.approx(
                T * gb.rule_expectation(W, h, D, target, sigma, reward, ("C", i, k), s=S_IN,
                                        grid=G), rel=1e-10, abs=1e-14)
    np.testing.assert_allclose(up["W"], up["W"].T, rtol=0, atol=1e-15)


# ---------------------------------------------------------------------------
# Goodness of fit
# ---------------------------------------------------------------------------

@pytest.mark.parametrize("sigma", [0.2, 0.33])
def test_sample_gof_1d(sigma):
    rng = np.random.default_rng(11)
    good = gb.sample_exact(W1, H1, sigma, 5000, rng)[:, 0]
    bad = gb.sample_exact(W1, H1, 1.2 * sigma, 5000, rng)[:, 0]
    p_good = gb.sample_gof(good, W1, H1, sigma)
    p_bad = gb.sample_gof(bad, W1, H1, sigma)
    assert p_good > 0.001 and p_good.passed
    assert p_bad < 1e-6 and not p_bad.passed
    assert gb.sample_gof(good, W1, H1, sigma, condition_above=0.02) > 0.001
    # the CDF is accurate, not just interpolated
    cdf = gb.gibbs_cdf(W1, H1, sigma)
    G = gb.gibbs_density(W1, H1, sigma)
    for v in (0.0015, 0.1, 0.4):
        q = integrate.quad(lambda r: G.pdf(np.array([r])), gb.R_MIN, v, epsabs=1e-14,
                           epsrel=1e-12, limit=200)[0]
        assert cdf(v) == pytest.approx(q, abs=1e-7)


@pytest.mark.parametrize("sigma", [0.2, 0.33])
def test_sample_gof_2d(sigma):
    rng = np.random.default_rng(12)
    good = gb.sample_exact(W2, H2, sigma, 5000, rng)
    bad = gb.sample_exact(W2, H2, 1.2 * sigma, 5000, rng)
    uncoupled = gb.sample_exact(np.diag(np.diag(W2)), H2, sigma, 5000, rng)
    p_good = gb.sample_gof_2d(good, W2, H2, sigma)
    assert p_good > 0.001 and p_good.passed and p_good.dof >= 30
    assert gb.sample_gof_2d(bad, W2, H2, sigma) < 1e-6
    # the 2-D test sees the coupling, not just the marginals
    assert gb.sample_gof_2d(uncoupled, W2, H2, sigma) < 1e-6
    assert gb.sample_gof_2d(good, W2, H2, sigma, condition_above=0.02) > 0.001


def test_exact_sampler_moments():
    rng = np.random.default_rng(13)
    x = gb.sample_exact(W2, H2, 0.2, 100000, rng)
    G = gb.gibbs_density(W2, H2, 0.2)
    se = x.std(axis=0) / np.sqrt(len(x))
    assert np.all(np.abs(x.mean(axis=0) - G.expect(G.points)) < 4 * se)
    assert x.min() >= G.axes[0][0]


def _euler_maruyama(W, h, sigma, replicas, seed, burn=1000, every=500, n_keep=10, dt=0.01):
    """The rate update of docs/model.md (step 3) with fixed drive h, thinned:
    one sample per replica every `every` steps (~5 correlation times)."""
    rng = np.random.default_rng(seed)
    r = np.full((replicas, len(h)), 0.1)
    out = []
    for n in range(burn + every * n_keep):
        z = rng.standard_normal(r.shape)
        r = np.clip(r + dt * (-gb.softplus_finv(r) + r @ W.T + h) + sigma * np.sqrt(dt) * z,
                    gb.R_MIN, gb.R_MAX)
        if n >= burn and (n - burn) % every == every - 1:
            out.append(r.copy())
    return np.concatenate(out)


def test_simulated_langevin_samples_have_temperature_sigma2_over_2():
    """Euler-Maruyama samples of Eq. 2 follow exp(-2E/sigma^2) (convention
    "sde"), not the paper's exp(-E/sigma^2) (convention "paper"). Away from
    the wall: clipping leaves an atom at r_min (checked) that is not part of
    the continuous law."""
    sigma = 0.2
    x = _euler_maruyama(W1, H1, sigma, 2000, seed=3)
    assert 0.002 < np.mean(x == gb.R_MIN) < 0.05  # the clipping atom
    assert gb.sample_gof(x[:, 0], W1, H1, sigma, condition_above=0.02) > 0.001
    assert gb.sample_gof(x[:, 0], W1, H1, sigma, condition_above=0.02,
                         convention="paper") < 1e-6
    y = _euler_maruyama(W2, H2, sigma, 1000, seed=4)
    assert gb.sample_gof_2d(y, W2, H2, sigma, condition_above=0.02) > 0.001
    assert gb.sample_gof_2d(y, W2, H2, sigma, condition_above=0.02,
                            convention="paper") < 1e-6
