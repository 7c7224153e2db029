"""The library's Brian2 simulation against the stationary theory of the circuit.

For symmetric ``W``, a fixed stimulus and plasticity off, the rates of the
circuit (Eq. 2) sample the Gibbs density ``p(r|s) ~ exp(-E(r)/T)`` (Eqs.
3-4) with ``T = sigma^2 / 2`` for the noise ``sigma*sqrt(dt)*z`` of
``docs/model.md`` (``convention="sde"`` in ``tests/gibbs.py``). This file
runs :class:`~brian_effplast.PlasticCircuit` itself (``cpp_standalone``, the
generated code, not a NumPy re-implementation) and checks

1. the distribution of the rates, ``N = 1`` (Kolmogorov-Smirnov) and
   ``N = 2`` (chi-square), against the quadrature density at significance
   ``ALPHA = 0.001``, and that the same samples *reject* the density at a
   wrong noise level (``1.2 sigma``) and at the paper's printed temperature
   (``T = sigma^2``);
2. the expected plasticity update ``E[alpha (x - <x>)]`` (``x = r_i r_j``,
   ``r_i s_k``, ``r_i``: the rule's eligibility for one ``W`` pair, one
   ``C`` entry and one ``b`` entry) estimated from the simulated rates and
   the recorded reward, against the quadrature ``T * rule_expectation``
   (i.e. ``dO/dtheta = Cov / T``), within 4 standard errors estimated from
   the replica-to-replica spread; and that the prediction of the density
   at ``1.2 sigma`` is rejected by the same criterion.

Samples. Each replica is an independent chain; every replica gets its own
random ``C`` and a bias ``b = h - C s(theta)`` that gives all replicas of a
group the same external drive ``h = C s + b`` (computed from the state with
the input rates of ``docs/model.md``), so a mistake in the per-replica
wiring of ``C``, ``s`` or ``b`` changes the sampled law. ``sigma_s = 0``
holds the stimulus at ``THETA``. Autocorrelation: the slowest relaxation
rate of ``r`` is ``~1 - lambda_max(W)`` (0.8 for ``N = 1``, 0.71 for ``N =
2``), so the goodness-of-fit tests keep one sample every 5 time units
(lag-5 autocorrelation < 0.03) after a 10 time-unit burn-in from ``r_init``.

Discretisation (why these ``dt``). The Euler-Maruyama chain is not exactly
the diffusion: its stationary law differs by ``O(dt)`` in the interior and
the clip at ``r_min`` puts an atom there (1.7 % of the mass for the ``N = 1``
circuit at ``dt = 0.01``) with an ``O(sigma sqrt(dt))`` boundary layer. The
goodness-of-fit tests condition on ``r > 0.02`` (about ``sigma sqrt(dt)``
at ``dt = 0.01``), which removes the atom and the layer; measured with 4e5
independent NumPy Euler-Maruyama draws at ``dt = 0.01`` the remaining bias
was not detectable (KS ``D = 0.0017``, p = 0.2; chi-square p = 0.3 on 2e5
``N = 2`` draws), far below what ~1e4 samples resolve (``D ~ 0.015`` at
alpha = 0.001). So ``N = 1`` runs at the default ``dt = 0.01``. The gradient
check is much more sensitive (relative standard error ~1-2 %): near the
wall the covariances are biased by 3.4 % at ``dt = 0.01`` and still ~1 %
at ``dt = 0.002`` (3 SE and 1-2 SE here); with the drive of group B (both
neurons ~3 sd above the wall) the bias is 1.2 % at ``dt = 0.01`` and ~0.2 %
at ``dt = 0.002``. Hence the ``N = 2`` run uses ``circuit.dt = 0.002`` and
the gradient check uses group B (the wall-dominated group A, where the
softplus curvature matters, is checked by the goodness-of-fit test).
"""


import numpy as np
import pytest

import gibbs as gb  # noqa: E402

from brian_effplast.config import Config  # noqa: E402
from brian_effplast.circuit.model import PlasticCircuit  # noqa: E402

pytestmark = pytest.mark.standalone  # the theory checks simulate on cpp_standalone

ALPHA = 0.001  # significance level of every goodness-of-fit test
Z_MAX = 4.0  # gradient check: |simulation - theory| < Z_MAX standard errors
WRONG = 1.2  # the wrong noise level of the negative controls, in units of sigma
SIGMA = 0.2  # circuit.sigma (the default)
THETA = 0.4  # the fixed stimulus angle
N_S = 12
TARGET = np.array([np.cos(THETA), np.sin(THETA)])  # estimation target at THETA
BURN_IN = 10.0  # time units discarded at the start (relaxation time ~1.4)
THIN = 5.0  # time units between the samples of the goodness-of-fit tests
COND = 0.02  # goodness of fit conditioned on r > COND (clipping atom at r_min)

# N = 1: the circuit of tests/gibbs.py's docstring; mean rate ~0.2, sd ~0.16,
# so the wall at r_min and the curvature of the softplus matter.
W1 = np.array([[0.2]])
H1 = np.array([0.15])
R1 = 200  # replicas
DT1 = 0.01  # the default step (see the module docstring)
T1 = 310.0  # time units: 61 thinned samples per replica from t = BURN_IN on

# N = 2: one run, two groups of replicas with the same W and different drives.
W2 = np.array([[0.1, 0.3], [0.3, -0.2]])  # eigenvalues 0.285, -0.385
H2A = np.array([0.1, 0.25])  # group A: neuron 0 ~1.3 sd above the wall
H2B = np.array([0.3, 0.4])  # group B: both ~3 sd above the wall (gradient check)
D2 = np.array([[1.2, -0.4], [0.3, 0.9]])  # decoder, fixed (plasticity off)
R2 = 200  # replicas per group
DT2 = 0.002
T2 = 310.0
EVERY2 = 0.1  # time units between recorded samples (gradient: all of them)
# the entries of the gradient check: one W pair, one C entry, one b entry
WHICHES = [("W", 0, 1), ("C", 1, 7), ("b", 0)]


def inputs(theta, N_s=N_S):
    """``s_k = max(0, cos(theta - theta_k))``, ``theta_k = -pi + 2 pi k / N_s``
    (``docs/model.md``, step 2; written out here, not taken from the library)."""
    theta_k = -np.pi + 2 * np.pi * np.arange(N_s) / N_s
    return np.maximum(0.0, np.cos(theta - theta_k))


S = inputs(THETA)


def simulate(N, W, drives, dt, duration, record_every, seed):
    """Run the library's circuit, ``len(drives)`` groups of ``R`` replicas.

    ``drives`` is a list of ``(h, R)``; every replica gets the same ``W``,
    its own random ``C`` and ``b = h - C s``. Returns the model, the
    recorded output, the initial state and the per-replica drive.
    """
    rng = np.random.default_rng(seed)
    R = sum(n for _, n in drives)
    h = np.concatenate([np.tile(np.asarray(hh, dtype=float), (n, 1)) for hh, n in drives])
    C = rng.uniform(-0.2, 0.2, (R, N, N_S))
    b = h - C @ S
    D = np.tile(D2[:, :N] if N == 2 else np.array([[0.5], [0.3]]), (R, 1, 1))
    state = {"W": np.tile(W, (R, 1, 1)), "C": C, "b": b, "D": D, "theta": np.full(R, THETA)}
    cfg = Config.default("estimation").replace(**{
        "circuit.N": N, "circuit.sigma": SIGMA, "circuit.dt": dt, "stimulus.sigma_s": 0.0})
    model = PlasticCircuit(cfg, target="cpp_standalone", replicas=R, seed=seed, state=state)
    every = cfg.steps(record_every, name="record_every")
    out = model.run(duration, plastic=False, record=("r", "alpha"), record_every=every)
    # the drive computed from the state, independently of the library
    h_state = np.einsum("qik,k->qi", model.state["C"], S) + model.state["b"]
    np.testing.assert_allclose(h_state, h, rtol=0, atol=1e-12)
    return model, out, state


def _check_fixed(model, state):
    """Plasticity off and sigma_s = 0: parameters and stimulus did not move."""
    for key in ("W", "C", "b", "D", "theta"):
        np.testing.assert_array_equal(model.state[key], state[key], err_msg=key)


def _thinned(r, record_every):
    """Samples (n, N): burn-in dropped, one sample per THIN time units per replica."""
    start = int(round(BURN_IN / record_every))  # record m is at time (m + 1) * record_every
    step = int(round(THIN / record_every))
    return r[start - 1::step].reshape(-1, r.shape[-1])


@pytest.fixture(scope="module")
def run1():
    model, out, state = simulate(1, W1, [(H1, R1)], DT1, T1, THIN, seed=2020)
    return model, out, state


@pytest.fixture(scope="module")
def run2():
    model, out, state = simulate(2, W2, [(H2A, R2), (H2B, R2)], DT2, T2, EVERY2, seed=2021)
    return model, out, state


# ---------------------------------------------------------------------------
# 1. Stationary distribution
# ---------------------------------------------------------------------------

def test_stationary_distribution_n1(run1):
    model, out, state = run1
    _check_fixed(model, state)
    r = out["r"]  # (records, R, 1), one record every THIN time units
    assert r.shape == (round(T1 / THIN), R1, 1)
    x = _thinned(r, THIN)[:, 0]
    assert x.size == (round((T1 - BURN_IN) / THIN) + 1) * R1  # 12200
    # successive thinned samples of one replica are nearly independent
    xc = r[2:, :, 0] - x.mean()
    assert abs((xc[1:] * xc[:-1]).mean() / xc.var()) < 0.05
    # the clipping atom at r_min is small (conditioning removes it)
    assert (x <= 1.001 * gb.R_MIN).mean() < 0.03

    good = gb.sample_gof(x, W1, H1, SIGMA, alpha=ALPHA, condition_above=COND)
    print(f"\nN=1: {good!r}")
    assert good.passed, good
    # power: the same samples reject the density at a wrong noise level, and
    # at the paper's printed temperature T = sigma^2 (= sigma * sqrt(2) here)
    for sigma_bad in (WRONG * SIGMA, np.sqrt(2) * SIGMA):
        bad = gb.sample_gof(x, W1, H1, sigma_bad, alpha=ALPHA, condition_above=COND)
        print(f"N=1, density at sigma = {sigma_bad:.3g}: {bad!r}")
        assert not bad.passed and bad.pvalue < 1e-6, bad


@pytest.mark.parametrize("group", ["A", "B"])
def test_stationary_distribution_n2(run2, group):
    model, out, state = run2
    _check_fixed(model, state)
    h = H2A if group == "A" else H2B
    sl = slice(0, R2) if group == "A" else slice(R2, 2 * R2)
    r = out["r"][:, sl, :]
    x = _thinned(r, EVERY2)
    assert x.shape == ((round((T2 - BURN_IN) / THIN) + 1) * R2, 2)  # 12200
    good = gb.sample_gof_2d(x, W2, h, SIGMA, alpha=ALPHA, condition_above=COND)
    print(f"\nN=2, group {group}: {good!r}")
    assert good.passed and good.dof >= 30, good
    for sigma_bad in (WRONG * SIGMA, np.sqrt(2) * SIGMA):
        bad = gb.sample_gof_2d(x, W2, h, sigma_bad, alpha=ALPHA, condition_above=COND)
        print(f"N=2, group {group}, density at sigma = {sigma_bad:.3g}: {bad!r}")
        assert not bad.passed and bad.pvalue < 1e-6, bad
    # the 2-D test sees the coupling: the uncoupled circuit is rejected
    W_unc = np.diag(np.diag(W2))
    bad = gb.sample_gof_2d(x, W_unc, h, SIGMA, alpha=ALPHA, condition_above=COND)
    print(f"N=2, group {group}, uncoupled W: {bad!r}")
    assert not bad.passed, bad


# ---------------------------------------------------------------------------
# 2. The expected plasticity update (the gradient) by simulation
# ---------------------------------------------------------------------------

def _eligibility(r, which):
    kind, i, j = which if len(which) == 3 else (*which, None)
    if kind == "W":
        return r[..., i] * r[..., j]
    if kind == "C":
        return r[..., i] * S[j]
    return r[..., i]


def test_expected_update_matches_rule_expectation(run2):
    model, out, state = run2
    sl = slice(R2, 2 * R2)  # group B
    start = int(round(BURN_IN / EVERY2))
    r = out["r"][start:, sl, :]  # (time, replica, 2)
    alpha = out["alpha"][start:, sl]
    # the recorded reward is the task's: alpha = -||target - D r||^2
    y = np.einsum("tqi,ki->tqk", r, D2)
    np.testing.assert_allclose(alpha, -((TARGET - y) ** 2).sum(-1), rtol=1e-9, atol=1e-12)

    T = gb.temperature(SIGMA)  # sigma^2 / 2
    T_bad = gb.temperature(WRONG * SIGMA)
    G = gb.gibbs_density(W2, H2B, SIGMA)
    G_bad = gb.gibbs_density(W2, H2B, WRONG * SIGMA)
    a0 = alpha - alpha.mean()
    lines = []
    for which in WHICHES:
        x = _eligibility(r, which)
        # E[alpha (x - <x>)] with the pooled means; per replica for the spread
        # (each replica's time average is one nearly independent estimate)
        per_replica = (a0 * (x - x.mean())).mean(axis=0)
        est = per_replica.mean()
        se = per_replica.std(ddof=1) / np.sqrt(per_replica.size)
        # quadrature: dO/dtheta = E[alpha (x - <x>)] / T (sde convention)
        rule = gb.rule_expectation(W2, H2B, D2, TARGET, SIGMA, "mse", which, s=S, grid=G)
        z = (est / T - rule) / (se / T)
        # negative control: the density at 1.2 sigma predicts another covariance
        cov_bad = T_bad * gb.rule_expectation(W2, H2B, D2, TARGET, WRONG * SIGMA, "mse", which,
                                              s=S, grid=G_bad)
        z_bad = (est - cov_bad) / se
        lines.append(f"{which}: simulated dO/dtheta = {est / T:.5g} +- {se / T:.2g}, "
                     f"quadrature {rule:.5g}, z = {z:+.2f}; z vs 1.2 sigma density = {z_bad:+.1f}")
        assert abs(est) > 10 * se  # a clearly non-zero update
        assert abs(z) < Z_MAX, lines[-1]
        assert abs(z_bad) > Z_MAX, lines[-1]
    print("\n" + "\n".join(lines))
