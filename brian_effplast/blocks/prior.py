"""The stimulus prior and angles, in NumPy (no Brian2).

The stimulus process of :mod:`brian_effplast.blocks.stimulus`,
``d theta = -kappa*sigma_s**2*sin(theta - mu) dt + sigma_s dB``, has a von
Mises stationary law with mean ``mu`` and concentration ``2*kappa``
(:func:`stationary_kappa`): the prior of the paper's tasks. Analyses that
weight by the prior use :func:`prior_weights`; the test protocol holds the
stimulus at :func:`test_angles`.
"""

import numpy as np

__all__ = ["preferred_angles", "test_angles", "stationary_kappa", "prior_density", "prior_weights",
           "sample_prior"]


def _even_angles(n):
    return -np.pi + 2 * np.pi * np.arange(n) / n


def preferred_angles(N_s):
    """Preferred angles ``theta_k = -pi + 2*pi*k/N_s`` of the input units.

    Examples
    --------
    >>> from brian_effplast import preferred_angles
    >>> np.degrees(preferred_angles(4))
    array([-180.,  -90.,    0.,   90.])
    """
    return _even_angles(N_s)


def test_angles(K):
    """The ``K`` held stimuli of the test protocol, ``-pi + 2*pi*k/K`` (the
    input units' preferred angles when ``K = N_s``)."""
    return _even_angles(K)


test_angles.__test__ = False  # not a pytest test


def stationary_kappa(kappa):
    """Concentration of the stationary von Mises law of the stimulus process.

    Examples
    --------
    >>> from brian_effplast.blocks.prior import stationary_kappa
    >>> stationary_kappa(0.75)  # the reference kappa: a von Mises prior of concentration 1.5
    1.5
    """
    return 2.0 * kappa


def prior_density(theta, mu, kappa):
    """Stationary density of the stimulus process at ``theta`` (von Mises, ``2*kappa``)."""
    from scipy.stats import vonmises
    return vonmises.pdf(theta, stationary_kappa(kappa), loc=mu)


def sample_prior(rng, size, mu, kappa):
    """Draws from the stationary law, von Mises(``mu``, ``2 kappa``), wrapped to ``[-pi, pi)``."""
    return sample_von_mises(rng, size, mu, stationary_kappa(kappa))


def sample_von_mises(rng, size, mu, kappa):
    """Draws from von Mises(``mu``, ``kappa``), wrapped to ``[-pi, pi)``."""
    theta = rng.vonmises(mu, kappa, size=size)
    return theta - 2 * np.pi * np.floor((theta + np.pi) / (2 * np.pi))


def prior_weights(angles, mu, kappa_stationary):
    """Weights of ``angles`` under von Mises(``mu``, ``kappa_stationary``),
    normalised to sum to 1 (the prior-weighted average over test angles)."""
    angles = np.asarray(angles, dtype=float)
    w = np.exp(float(kappa_stationary) * (np.cos(angles - float(mu)) - 1.0))
    return w / w.sum()
