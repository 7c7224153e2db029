"""Tests of brian_effplast.analysis on synthetic data with known answers."""

import numpy as np
import pytest

from brian_effplast import analysis as an

K12 = -np.pi + 2 * np.pi * np.arange(12) / 12  # the default test angles


def rng(seed=0):
    return np.random.default_rng(seed)


# --------------------------------------------------------------------------
# helpers
# --------------------------------------------------------------------------

def test_input_rates_matches_eq1():
    s = an.input_rates(K12, 12)
    assert s.shape == (12, 12)
    # each input unit peaks (value 1) at its own preferred angle
    np.testing.assert_allclose(np.diag(s), 1.0)
    # explicit values: at theta = 0, unit k=6 (theta_k = 0) is 1, units at
    # +-pi/3 are 0.5, units at +-pi/2 and beyond are 0
    s0 = an.input_rates(0.0, 12)
    np.testing.assert_allclose(s0[6], 1.0)
    np.testing.assert_allclose(s0[[4, 8]], 0.5, atol=1e-12)
    np.testing.assert_allclose(s0[[0, 1, 2, 3, 9, 10, 11]], 0.0, atol=1e-12)
    assert an.input_rates(np.zeros((3, 5)), 7).shape == (3, 5, 7)


def test_wrap_angle():
    np.testing.assert_allclose(an.wrap_angle([np.pi, -np.pi, 3 * np.pi / 2,
                                              0.1]),
                               [-np.pi, -np.pi, -np.pi / 2, 0.1])


def test_mean_sem():
    x = np.array([[1.0, 2.0], [3.0, 6.0], [5.0, 10.0]])
    m, s = an.mean_sem(x, axis=0)
    np.testing.assert_allclose(m, [3.0, 6.0])
    np.testing.assert_allclose(s, [2.0 / np.sqrt(3), 4.0 / np.sqrt(3)])
    m, s = an.mean_sem(x[:1], axis=0)
    np.testing.assert_allclose(m, [1.0, 2.0])
    np.testing.assert_array_equal(s, [0.0, 0.0])
    m, s = an.mean_sem(x, axis=None)
    assert np.isclose(m, x.mean())
    assert np.isclose(s, x.std(ddof=1) / np.sqrt(6))


def test_learning_curve_stats_and_smooth():
    curves = np.array([[0.0, 1.0, 2.0], [2.0, 3.0, 6.0]])
    m, s = an.learning_curve_stats(curves)
    np.testing.assert_allclose(m, [1.0, 2.0, 4.0])
    np.testing.assert_allclose(s, np.std(curves, axis=0, ddof=1) / np.sqrt(2))
    x = np.array([1.0, 2.0, 3.0, 4.0, 10.0])
    np.testing.assert_allclose(an.smooth(x, 3), [1.5, 2.0, 3.0, 17 / 3, 7.0])
    np.testing.assert_allclose(an.smooth(x, 1), x)
    np.testing.assert_allclose(an.smooth(np.full((2, 9), 4.0), 4), 4.0)
    # interior points equal numpy's valid convolution
    y = rng().normal(size=50)
    np.testing.assert_allclose(an.smooth(y, 5)[2:-2],
                               np.convolve(y, np.ones(5) / 5, "valid"))


# --------------------------------------------------------------------------
# Fig. 1
# --------------------------------------------------------------------------

def test_tuning_curves_and_population_rate():
    R, K, S, N = 3, 4, 5, 6
    x = rng(1).uniform(size=(R, K, S, N))
    tc = an.tuning_curves(x)
    np.testing.assert_allclose(tc, x.mean(axis=2))
    pop = an.population_rate(x)
    np.testing.assert_allclose(pop["mean"], tc.mean(axis=(0, 2)))
    per_neuron = tc.transpose(1, 0, 2).reshape(K, R * N)
    np.testing.assert_allclose(pop["sem_neurons"],
                               per_neuron.std(axis=1, ddof=1) / np.sqrt(R * N))
    rep = tc.mean(axis=2)
    np.testing.assert_allclose(pop["replica_means"], rep)
    np.testing.assert_allclose(pop["sem_replicas"],
                               rep.std(axis=0, ddof=1) / np.sqrt(R))
    # a hand-made case: replica 0 all ones, replica 1 all threes
    y = np.ones((2, 1, 2, 2))
    y[1] = 3.0
    pop = an.population_rate(y)
    np.testing.assert_allclose(pop["mean"], [2.0])
    np.testing.assert_allclose(pop["sem_replicas"], [1.0])  # std sqrt(2)/sqrt(2)
    np.testing.assert_allclose(pop["sem_neurons"],
                               [np.std([1, 1, 3, 3], ddof=1) / 2])


def test_preferred_stimulus_on_grid_peaks():
    # von Mises bumps peaked exactly on test angles: parabola is symmetric,
    # refinement must not move them
    peaks = K12[[0, 3, 6, 11]]
    tc = np.exp(2.0 * np.cos(K12[:, None] - peaks[None, :]))  # (K, N)
    rates = np.broadcast_to(tc[None, :, None, :], (1, 12, 3, 4))
    pref = an.preferred_stimulus(rates, K12)
    np.testing.assert_allclose(pref[0], peaks, atol=1e-12)


def test_preferred_stimulus_off_grid_parabola_exact():
    # curves quadratic in the circular distance to the peak: the parabola
    # through the three points recovers the peak exactly
    peaks = np.array([0.1, -0.2, 3.1, -3.0, 1.0])  # 3.1, -3.0 near the wrap
    d = an.wrap_angle(K12[:, None] - peaks[None, :])
    tc = 10.0 - d ** 2
    rates = np.broadcast_to(tc[None, :, None, :], (1, 12, 2, 5))
    pref = an.preferred_stimulus(rates, K12)
    np.testing.assert_allclose(an.wrap_angle(pref[0] - peaks), 0.0,
                               atol=1e-10)
    # argmax alone would be off by up to half a grid step
    grid_only = K12[np.argmax(tc, axis=0)]
    assert np.max(np.abs(an.wrap_angle(grid_only - peaks))) > 0.1


def test_preferred_stimulus_unsorted_angles_and_von_mises():
    peaks = np.array([0.2, -1.3])
    perm = rng(2).permutation(12)
    ang = K12[perm]
    tc = np.exp(3.0 * np.cos(ang[:, None] - peaks[None, :]))
    rates = np.broadcast_to(tc[None, :, None, :], (1, 12, 2, 2))
    pref = an.preferred_stimulus(rates, ang)
    err = np.abs(an.wrap_angle(pref[0] - peaks))
    # much better than the grid (half step = 0.26 rad)
    assert np.all(err < 0.03), err


def test_circular_kde_integrates_to_one_and_peaks_at_data():
    grid = np.linspace(-np.pi, np.pi, 2000, endpoint=False)
    dx = 2 * np.pi / grid.size
    samples = np.array([0.0, 0.05, -0.05, 3.1, -3.1])
    for bw in (0.01, 0.3, 2.0, 10.0):
        p = an.circular_kde(samples, grid, bw)
        assert np.all(p >= 0)
        assert abs(p.sum() * dx - 1.0) < 1e-6
    p = an.circular_kde(np.full(3, 1.0), grid, 0.2)
    assert abs(grid[np.argmax(p)] - 1.0) < 2 * dx
    # tiny bandwidth: close to a Gaussian of sd = bandwidth
    bw = 0.05
    p = an.circular_kde([0.0], np.array([0.0]), bw)
    assert abs(p[0] - 1 / np.sqrt(2 * np.pi * bw ** 2)) < 0.01 * p[0]
    # huge bandwidth: uniform
    p = an.circular_kde(samples, grid, 100.0)
    np.testing.assert_allclose(p, 1 / (2 * np.pi), rtol=1e-3)


# --------------------------------------------------------------------------
# Fig. 2
# --------------------------------------------------------------------------

def test_bias_variance_on_circle_with_known_noise():
    R, S = 2, 4000
    ang = K12
    g = rng(3)
    bias_true = np.array([0.0, 0.3])          # per replica: radial shrink
    sd = np.array([0.1, 0.2])                 # per replica: isotropic noise
    target = np.stack([np.cos(ang), np.sin(ang)], -1)
    y = np.empty((R, 12, S, 2))
    for r in range(R):
        y[r] = (1 - bias_true[r]) * target[:, None, :] \
            + sd[r] * g.standard_normal((12, S, 2))
    b2, v = an.bias_variance(y, ang)
    assert b2.shape == v.shape == (R, 12)
    # the mean misses by sampling error only: var of mean ~ 2 sd^2 / S
    np.testing.assert_allclose(b2[0], 0.0, atol=10 * 2 * 0.1 ** 2 / S)
    np.testing.assert_allclose(b2[1], 0.09, atol=0.01)
    # trace(cov) = 2 sd^2, relative sampling error ~ sqrt(1/S)
    np.testing.assert_allclose(v[0], 2 * 0.01, rtol=0.08)
    np.testing.assert_allclose(v[1], 2 * 0.04, rtol=0.08)
    # exact: outputs exactly on the circle at the target, no noise
    y0 = np.broadcast_to(target[None, :, None, :], (1, 12, 5, 2))
    b2, v = an.bias_variance(y0, ang)
    np.testing.assert_allclose(b2, 0.0, atol=1e-24)
    np.testing.assert_allclose(v, 0.0, atol=1e-24)
    # ddof=0: squared bias + variance = empirical MSE
    b2, v = an.bias_variance(y, ang, ddof=0)
    mse = np.mean(np.sum((y - target[None, :, None, :]) ** 2, -1), -1)
    np.testing.assert_allclose(b2 + v, mse, rtol=1e-10)


def test_bias_variance_hand_example():
    # two samples at theta = 0: (1.2, 0.1) and (0.8, -0.1)
    y = np.array([[1.2, 0.1], [0.8, -0.1]])[None, None]
    b2, v = an.bias_variance(y, np.array([0.0]))
    assert np.isclose(b2[0, 0], 0.0)
    assert np.isclose(v[0, 0], 0.08 + 0.02)  # ddof=1 variances
    y = np.array([[0.0, 2.0], [0.0, 2.0]])[None, None]
    b2, v = an.bias_variance(y, np.array([np.pi / 2]))
    assert np.isclose(b2[0, 0], 1.0)
    assert np.isclose(v[0, 0], 0.0)


def test_confidence_ellipse_known_covariance():
    phi = np.deg2rad(30.0)
    Rot = np.array([[np.cos(phi), -np.sin(phi)], [np.sin(phi), np.cos(phi)]])
    cov = Rot @ np.diag([4.0, 1.0]) @ Rot.T
    x = rng(4).multivariate_normal([1.0, -2.0], cov, size=20000)
    center, w, h, ang = an.confidence_ellipse(x, 0.95)
    q = 5.991464547107979  # chi2(2 dof) 95% quantile
    np.testing.assert_allclose(center, [1.0, -2.0], atol=0.05)
    assert abs(w - 2 * np.sqrt(q * 4.0)) < 0.03 * w
    assert abs(h - 2 * np.sqrt(q * 1.0)) < 0.03 * h
    assert abs(ang - 30.0) < 2.0
    # coverage of fresh samples
    y = rng(5).multivariate_normal([1.0, -2.0], cov, size=20000)
    d = (y - center) @ Rot  # coordinates along the true axes
    inside = (d[:, 0] / (w / 2)) ** 2 + (d[:, 1] / (h / 2)) ** 2 <= 1
    assert abs(inside.mean() - 0.95) < 0.01
    # axis-aligned, major axis along y: angle 90
    x = rng(6).standard_normal((20000, 2)) * [1.0, 3.0]
    _, w, h, ang = an.confidence_ellipse(x, 0.5)
    q50 = -2 * np.log(0.5)
    assert abs(w - 2 * 3 * np.sqrt(q50)) < 0.05 * w
    assert abs(h - 2 * np.sqrt(q50)) < 0.05 * h
    assert abs(abs(ang) - 90.0) < 2.0 and -90 < ang <= 90


def test_dprime_known_normals_and_hand_values():
    g = rng(7)
    a = g.normal(0.0, 2.0, 20000)
    b = g.normal(3.0, 2.0, 20000)
    assert abs(an.dprime(a, b) - 1.5) < 0.05
    c = g.normal(1.0, 1.0, 20000)
    d = g.normal(0.0, np.sqrt(7.0), 20000)
    assert abs(an.dprime(c, d) - 1.0 / 2.0) < 0.03   # sqrt((1+7)/2) = 2
    assert an.dprime([0, 2], [4, 6]) == pytest.approx(4 / np.sqrt(2))
    assert an.dprime([1, 1], [2, 2]) == np.inf


def _class_outputs(means, sds, S, seed):
    """(R=len(means), K=12, S, 1) normal outputs with given per-angle stats."""
    g = rng(seed)
    means = np.asarray(means, float)
    sds = np.asarray(sds, float)
    return (means[..., None] + sds[..., None]
            * g.standard_normal(means.shape + (S,)))[..., None]


def test_boundary_dprime():
    S = 20000
    means = np.zeros((2, 12))
    sds = np.ones((2, 12))
    # replica 0: good separation at 0 (angles -pi/6, pi/6: k = 5, 7),
    # poor at pi (angles 5pi/6, -5pi/6: k = 11, 1)
    means[0, 5], means[0, 7] = -1.0, 1.0
    means[0, 11], means[0, 1] = 0.1, -0.1
    means[1, 5], means[1, 7] = 0.0, 0.5
    sds[1, 5], sds[1, 7] = 0.5, 0.5
    y = _class_outputs(means, sds, S, 8)
    pairs = [(-np.pi / 6, np.pi / 6), (5 * np.pi / 6, -5 * np.pi / 6)]
    d = an.boundary_dprime(y, K12, pairs)
    assert d.shape == (2, 2)
    np.testing.assert_allclose(d[0], [2.0, 0.2], atol=0.04)
    np.testing.assert_allclose(d[1, 0], 1.0, atol=0.04)
    # (R, K, S) accepted, and pi is matched to -pi
    d2 = an.boundary_dprime(y[..., 0], K12, [(np.pi, 0.0)])
    assert d2[0, 0] == pytest.approx(an.dprime(y[0, 0, :, 0], y[0, 6, :, 0]))
    with pytest.raises(ValueError):
        an.boundary_dprime(y, K12, [(0.1, 0.2)])


def test_prior_averaged_dprime():
    S = 4000
    ang = K12
    cls = ang >= 0
    pos, neg = ang > 0, ang < 0  # the authors' classes: theta = 0 in neither, -pi with theta < 0
    # every angle: class 1 -> N(+1, 1), class 0 -> N(-1, 1): d' = 2 whatever
    # the weights
    means = np.where(cls, 1.0, -1.0)[None, :]
    y = _class_outputs(means, np.ones((1, 12)), S, 9)
    d = an.prior_averaged_dprime(y, ang, 0.0, 1.5)
    assert d.shape == (1,)
    assert abs(d[0] - 2.0) < 0.05
    # kappa = 0 (uniform weights): d' of the pooled samples (ddof=0)
    means = rng(10).normal(size=(2, 12)) + np.where(cls, 1.0, 0.0)
    y = _class_outputs(means, np.full((2, 12), 0.5), 50, 11)
    d = an.prior_averaged_dprime(y, ang, 0.0, 0.0)
    for r in range(2):
        a, b = y[r, pos].ravel(), y[r, neg].ravel()
        expect = abs(a.mean() - b.mean()) / np.sqrt(0.5 * (a.var() + b.var()))
        assert d[r] == pytest.approx(expect, rel=1e-10)
    # weights follow the prior: with a very concentrated prior at mu = pi/2
    # (class 1) and mu = -pi/2 (class 0) only those angles matter
    means = np.zeros((1, 12))
    means[0, 9] = 3.0   # theta = pi/2
    means[0, 3] = -3.0  # theta = -pi/2
    y = _class_outputs(means, np.ones((1, 12)), 2000, 12)
    d_far = an.prior_averaged_dprime(y, ang, np.pi / 2, 200.0)
    # class 1 concentrates on pi/2 (k=9, outputs N(3, 1)); class 0 on its
    # angle closest to pi/2, i.e. -pi (k=0, outputs N(0, 1)); the -3 at
    # -pi/2 gets weight exp(-400). Compare with the formula by hand too.
    w = np.exp(200.0 * (np.cos(ang - np.pi / 2) - 1))
    m, v = [], []
    for mask in (pos, neg):
        wc = w[mask] / w[mask].sum()
        mk = y[0, mask, :, 0].mean(1)
        vk = y[0, mask, :, 0].var(1)
        m.append(wc @ mk)
        v.append(wc @ (vk + mk ** 2) - (wc @ mk) ** 2)
    expect = abs(m[0] - m[1]) / np.sqrt(0.5 * (v[0] + v[1]))
    assert d_far[0] == pytest.approx(expect, rel=1e-10)
    assert abs(d_far[0] - 3.0) < 0.1   # N(3, 1) vs N(0, 1)
    # uniform weights would pool the -3 into class 0: a different answer
    assert abs(an.prior_averaged_dprime(y, ang, np.pi / 2, 0.0)[0] - 3.0) > 0.3
    # theta = 0 (on the boundary) is in neither class: outputs there change nothing
    y0 = _class_outputs(np.where(cls, 1.0, -1.0)[None, :], np.ones((1, 12)), 200, 13)
    moved = y0.copy()
    moved[0, 6] += 50.0  # K12[6] = 0
    assert an.prior_averaged_dprime(moved, ang, 0.0, 1.5)[0] == an.prior_averaged_dprime(y0, ang, 0.0, 1.5)[0]


# --------------------------------------------------------------------------
# Fig. 3
# --------------------------------------------------------------------------

def _decoder(N, seed):
    return rng(seed).normal(size=(2, N))


def test_volume_fraction_in_span_of_D_is_one():
    N, S = 10, 3000
    D = _decoder(N, 13)
    z = rng(14).normal(size=(S, 2)) * [3.0, 1.0]
    x = 5.0 + z @ D  # rates in the row space of D (plus a constant)
    assert an.noise_volume_fraction(x, D) == pytest.approx(1.0, rel=1e-8)
    # plus a little isotropic noise: still close to 1
    x2 = x + 0.01 * rng(15).normal(size=x.shape)
    assert an.noise_volume_fraction(x2, D) > 0.99
    # invariant to scaling and mixing the decoder rows
    M = np.array([[2.0, 1.0], [0.5, -3.0]])
    assert an.noise_volume_fraction(x2, M @ D) == pytest.approx(
        an.noise_volume_fraction(x2, D), rel=1e-10)


def test_volume_fraction_noise_orthogonal_to_D_is_zero():
    N, S = 10, 3000
    D = _decoder(N, 16)
    Q, _ = np.linalg.qr(D.T)
    P_perp = np.eye(N) - Q @ Q.T
    noise = rng(17).normal(size=(S, N)) @ P_perp
    assert an.noise_volume_fraction(noise, D) < 1e-20
    # mostly orthogonal noise with a small component in the readout plane:
    # VF ~ (0.1^2)^2 / (top-2 eigenvalues ~ 1 each)
    x = noise + 0.1 * rng(18).normal(size=(S, 2)) @ Q.T
    vf = an.noise_volume_fraction(x, D)
    assert 1e-5 < vf < 1e-3


def test_volume_fraction_bounds_and_batched_version():
    R, K, S, N = 2, 3, 200, 8
    g = rng(19)
    A = g.normal(size=(R, K, N, N))
    x = np.einsum("rkij,rksj->rksi", A, g.normal(size=(R, K, S, N)))
    D = g.normal(size=(R, 2, N))
    vf = an.volume_fraction_per_angle(x, D)
    assert vf.shape == (R, K)
    assert np.all((vf >= 0) & (vf <= 1))
    for r in range(R):
        for k in range(K):
            assert vf[r, k] == pytest.approx(
                an.noise_volume_fraction(x[r, k], D[r]), rel=1e-8)
    # hand example in N = 3: cov = diag(4, 2, 1), D spans axes 0 and 2
    # -> det C_D = 4, det C_PCA = 8, VF = 0.5 (exact with a balanced sample)
    base = np.array([[1, 1, 1], [1, -1, 1], [1, 1, -1], [1, -1, -1],
                     [-1, 1, 1], [-1, -1, 1], [-1, 1, -1], [-1, -1, -1]],
                    float)
    x3 = base * np.sqrt([4.0, 2.0, 1.0]) * np.sqrt(7 / 8)
    D3 = np.array([[1.0, 0, 0], [0, 0, 2.0]])
    np.testing.assert_allclose(np.cov(x3, rowvar=False), np.diag([4, 2, 1.0]),
                               atol=1e-12)
    assert an.noise_volume_fraction(x3, D3) == pytest.approx(0.5)
    with pytest.raises(ValueError):
        an.noise_volume_fraction(x3, np.array([[1.0, 0, 0], [2.0, 0, 0]]))


def test_current_ratio_hand_example():
    # N = 2, N_s = 12, one replica, two angles, two samples each
    ang = np.array([0.0, np.pi / 2])
    W = np.array([[[0.0, 1.0], [-2.0, 0.0]]])
    C = np.zeros((1, 2, 12))
    C[0, 0, 6] = 1.0   # neuron 0 <- input at 0
    C[0, 1, 9] = -4.0  # neuron 1 <- input at pi/2
    r = np.array([[[[1.0, 2.0], [3.0, 4.0]],
                   [[0.5, -1.0], [1.0, 1.0]]]])  # (1, 2, 2, 2)
    # W r: sample (1,2)->(2,-2); (3,4)->(4,-6); (0.5,-1)->(-1,-1); (1,1)->(1,-2)
    rec0 = np.mean([2, 4, 1, 1])
    rec1 = np.mean([2, 6, 1, 2])
    # C s: theta=0: s_6=1, s_9=0 -> (1, 0); theta=pi/2: s_6=0, s_9=1 -> (0,-4)
    inp0 = np.mean([1, 0])
    inp1 = np.mean([0, 4])
    cr = an.current_ratio(r, ang, W, C)
    np.testing.assert_allclose(cr, [[rec0 / inp0, rec1 / inp1]])


def test_energy_two_neurons_by_hand():
    W = np.array([[0.0, 0.5], [0.5, 0.0]])
    C = np.array([[1.0, 0.0, 2.0], [0.0, -1.0, 1.0]])
    b = np.array([0.1, -0.2])
    r = np.array([1.0, 2.0])
    s = np.array([0.5, 1.0, 0.25])

    def F(x):  # f^-1(x) = x  ->  F(x) = x^2 / 2
        return 0.5 * np.asarray(x) ** 2

    # -1/2 r W r = -1/2 * 2 * 0.5 * 1 * 2 = -1
    # sum F = 0.5 + 2 = 2.5
    # C s = (0.5 + 0.5, -1 + 0.25) = (1, -0.75); r.Cs = 1 - 1.5 = -0.5
    # b.r = 0.1 - 0.4 = -0.3
    expected = -1.0 + 2.5 + 0.5 + 0.3
    assert an.energy(r, s, W, C, b, F) == pytest.approx(expected)
    # broadcasting over samples
    rr = np.stack([r, 2 * r])
    E = an.energy(rr, s, W, C, b, F)
    assert E.shape == (2,)
    # r -> 2r: quadratic terms x4, linear terms x2
    assert E[1] == pytest.approx(4 * (-1.0 + 2.5) + 2 * (0.5 + 0.3))


def test_mean_energy_per_angle_matches_loop():
    R, K, S, N, Ns = 2, 3, 4, 5, 12
    g = rng(20)
    x = g.uniform(0.01, 2.0, size=(R, K, S, N))
    ang = np.array([-1.0, 0.0, 2.5])
    W = g.normal(size=(R, N, N))
    W = 0.5 * (W + W.transpose(0, 2, 1))
    C = g.normal(size=(R, N, Ns))
    b = g.normal(size=(R, N))

    def F(y):
        return y * np.log(y) - y  # integral of log

    E = an.mean_energy_per_angle(x, ang, W, C, b, F)
    assert E.shape == (R, K)
    for r in range(R):
        for k in range(K):
            s = an.input_rates(ang[k], Ns)
            vals = [-0.5 * x[r, k, i] @ W[r] @ x[r, k, i]
                    + np.sum(F(x[r, k, i])) - x[r, k, i] @ C[r] @ s
                    - b[r] @ x[r, k, i] for i in range(S)]
            assert E[r, k] == pytest.approx(np.mean(vals), rel=1e-10)


@pytest.mark.parametrize("bad", ["W", "C", "b", "angles", "rates"])
def test_circuit_measures_check_shapes_alike(bad):
    """current_ratio and mean_energy_per_angle check rates, angles, W and C the same way."""
    R, K, S, N, Ns = 2, 3, 4, 5, 12
    g = rng(21)
    args = dict(rates=g.uniform(0.1, 1.0, size=(R, K, S, N)), angles=np.array([-1.0, 0.0, 2.5]),
                W=g.normal(size=(R, N, N)), C=g.normal(size=(R, N, Ns)), b=g.normal(size=(R, N)))
    wrong = {"W": np.zeros((R, N, N + 1)), "C": np.zeros((R, N + 1, Ns)), "b": np.zeros((R, N + 1)),
             "angles": np.zeros(K + 1), "rates": np.zeros((R, K, N))}
    args[bad] = wrong[bad]
    a = args
    match = f"{bad} must have shape"
    if bad != "b":
        with pytest.raises(ValueError, match=match):
            an.current_ratio(a["rates"], a["angles"], a["W"], a["C"])
    with pytest.raises(ValueError, match=match):
        an.mean_energy_per_angle(a["rates"], a["angles"], a["W"], a["C"], a["b"], np.square)


# --------------------------------------------------------------------------
# The authors' measures behind the verdicts
# --------------------------------------------------------------------------

@pytest.mark.parametrize("kappa, mu", [(0.3, 0.0), (1.0, 0.7), (4.0, -2.9), (10.0, 2.0)])
def test_von_mises_fit_recovers_a_known_concentration(kappa, mu):
    b0, a = 0.4, 1.7
    y = b0 + a * np.exp(kappa * (np.cos(K12 - mu) - 1))
    fit = an.fit_von_mises_profile(np.stack([y, 2 * y]), K12)
    np.testing.assert_allclose(fit["kappa"], kappa, rtol=1e-3)
    np.testing.assert_allclose(fit["baseline"], [b0, 2 * b0], rtol=1e-3, atol=1e-4)
    np.testing.assert_allclose(fit["amplitude"], [a, 2 * a], rtol=1e-3)
    assert np.all(np.abs(an.wrap_angle(fit["mu"] - mu)) < 1e-3)
    # a flat profile has no width; a narrower bump a larger kappa, with noise too
    assert np.isnan(an.fit_von_mises_profile(np.full(12, 3.0), K12)["kappa"])
    noisy = 0.2 + np.exp(np.array([[1.0], [4.0]]) * (np.cos(K12) - 1)) + 0.01 * rng(3).standard_normal((2, 12))
    k1, k4 = an.fit_von_mises_profile(noisy, K12)["kappa"]
    assert 0.7 < k1 < 1.4 and 3 < k4 < 5.5


def test_energy_spread_and_entropy_difference_by_hand():
    e = rng(4).normal(size=(3, 12))
    np.testing.assert_allclose(an.energy_spread(e),
                               [np.sqrt(np.sum((row - row.mean()) ** 2)) for row in e], rtol=1e-12)
    x = rng(5).normal(size=(2, 3, 40, 5)) * np.array([3.0, 1.0, 0.5, 0.2, 2.0])
    D = rng(6).normal(size=(2, 2, 5))
    vf = an.volume_fraction_per_angle(x, D)
    h = an.volume_fraction_per_angle(x, D, measure="entropy_difference")
    np.testing.assert_allclose(h, 0.5 * np.log(vf), rtol=1e-10)
    # by hand for one cell: Gaussian entropies of the two 2-D projections
    cov = np.cov(x[1, 2], rowvar=False)
    Q, _ = np.linalg.qr(D[1].T)
    top = np.linalg.eigh(cov)[1][:, -2:]
    ent = [0.5 * np.log((2 * np.pi * np.e) ** 2 * np.linalg.det(B.T @ cov @ B)) for B in (Q, top)]
    assert h[1, 2] == pytest.approx(ent[0] - ent[1], rel=1e-9)
