"""The stimulus prior (brian_effplast.blocks.prior) against the stimulus process itself:
Euler-Maruyama chains of d theta = -kappa sigma_s^2 sin(theta - mu) dt + sigma_s dB,
simulated here in NumPy, settle into prior_density (a von Mises of concentration
2 kappa); sample_prior draws from it, and prior_weights is it, normalised."""

import numpy as np
from scipy import stats

from brian_effplast.blocks.prior import prior_density, prior_weights, sample_prior, stationary_kappa

MU, KAPPA, SIGMA_S = 0.5, 0.75, 1.0
GRID = np.linspace(-np.pi, np.pi, 20001)


def cdf(x):
    """The CDF of prior_density on [-pi, pi), by the trapezoid rule."""
    dens = prior_density(GRID, MU, KAPPA)
    cum = np.concatenate([[0.0], np.cumsum((dens[1:] + dens[:-1]) / 2 * np.diff(GRID))])
    return np.interp(x, GRID, cum)


def wrap(theta):
    return theta - 2 * np.pi * np.floor((theta + np.pi) / (2 * np.pi))


def test_density_is_normalised_and_weights_are_the_density():
    assert abs(cdf(np.pi) - 1.0) < 1e-8
    angles = np.linspace(-np.pi, np.pi, 12, endpoint=False)
    dens = prior_density(angles, MU, KAPPA)
    np.testing.assert_allclose(prior_weights(angles, MU, stationary_kappa(KAPPA)), dens / dens.sum(), rtol=1e-12)
    assert np.argmax(prior_density(GRID, MU, KAPPA)) == np.argmin(np.abs(GRID - MU))


def test_the_stimulus_process_settles_into_the_prior_and_sample_prior_draws_from_it():
    rng = np.random.default_rng(0)
    dt, chains = 0.01, 4000
    theta = rng.uniform(-np.pi, np.pi, chains)
    for _ in range(1500):  # 15 time units: many relaxation times (1 / (kappa sigma_s^2))
        theta += -KAPPA * SIGMA_S ** 2 * np.sin(theta - MU) * dt + SIGMA_S * np.sqrt(dt) * rng.standard_normal(chains)
    assert stats.kstest(wrap(theta), cdf).pvalue > 0.01
    draws = sample_prior(rng, 4000, MU, KAPPA)
    assert draws.min() >= -np.pi and draws.max() < np.pi
    assert stats.kstest(draws, cdf).pvalue > 0.01
    # and the test has power: a concentration of kappa (not 2 kappa) is refused
    wrong = wrap(rng.vonmises(MU, KAPPA, 4000))
    assert stats.kstest(wrong, cdf).pvalue < 1e-6
