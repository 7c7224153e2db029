"""Fig. 1 and S1: tuning curves, preferred stimuli, the population rate."""

import numpy as np

from .common import check_angles, check_rates, mean_sem, wrap_angle

__all__ = ["tuning_curves", "preferred_stimulus", "circular_kde", "population_rate", "fit_von_mises_profile"]


def _log_i0(kappa):
    """log of the modified Bessel function I_0, stable for large kappa."""
    kappa = float(kappa)
    if kappa < 0:
        raise ValueError(f"concentration must be >= 0, got {kappa}")
    if kappa <= 600.0:
        return float(np.log(np.i0(kappa)))
    # Asymptotic expansion; relative error < 1e-10 for kappa > 600.
    k = kappa
    series = 1 + 1 / (8 * k) + 9 / (128 * k ** 2) + 225 / (3072 * k ** 3)
    return k - 0.5 * np.log(2 * np.pi * k) + np.log(series)



def tuning_curves(rates):
    """Tuning curves: mean rate of each neuron at each test angle.

    Parameters
    ----------
    rates : ndarray, shape (R, K, S, N)

    Returns
    -------
    ndarray, shape (R, K, N)
        Mean over the ``S`` samples.
    """
    return check_rates(rates).mean(axis=2)


def preferred_stimulus(rates, angles):
    """Preferred stimulus of each neuron (Fig. 1c, d).

    The test angle of maximal mean rate, refined by a parabola through the
    maximum and its two circular neighbours.

    Parameters
    ----------
    rates : ndarray, shape (R, K, S, N)
    angles : ndarray, shape (K,)
        Test angles; they need not be sorted or evenly spaced.

    Returns
    -------
    ndarray, shape (R, N)
        Preferred angles in ``[-pi, pi)``.

    Notes
    -----
    The test angles are sorted around the circle. For each neuron, let
    ``k`` be the test angle of the largest mean rate ``m0`` (the first one
    on ties), and ``m-``, ``m+`` the mean rates at the previous and next
    test angles in circular order, at signed circular offsets
    ``x- < 0 < x+`` from angle ``k``. The parabola through
    ``(x-, m-), (0, m0), (x+, m+)`` is ``m0 + a x^2 + c x``, and the
    preferred stimulus is ``angle_k + x*`` with ``x* = -c / (2 a)``,
    clipped to ``[x-, x+]``. For evenly spaced angles (spacing ``h``),
    ``x* = h (m- - m+) / (2 (m- - 2 m0 + m+))``, which lies in
    ``[-h/2, h/2]``. If the parabola is not concave (``a >= 0``, a flat
    top) or there are fewer than 3 test angles, no refinement is made.
    The refinement is exact for curves that are quadratic in the angle
    over the three points.
    """
    tc = tuning_curves(rates)  # (R, K, N)
    R, K, N = tc.shape
    angles = wrap_angle(check_angles(angles, K))
    order = np.argsort(angles, kind="stable")
    ang = angles[order]
    tc = tc[:, order, :]
    kmax = np.argmax(tc, axis=1)  # (R, N)
    peak = ang[kmax]
    if K < 3:
        return wrap_angle(peak)
    prev_i = (kmax - 1) % K
    next_i = (kmax + 1) % K
    m0 = np.take_along_axis(tc, kmax[:, None, :], axis=1)[:, 0, :]
    mm = np.take_along_axis(tc, prev_i[:, None, :], axis=1)[:, 0, :]
    mp = np.take_along_axis(tc, next_i[:, None, :], axis=1)[:, 0, :]
    # signed circular offsets of the neighbours, in (-2 pi, 0) and (0, 2 pi)
    xm = -np.mod(peak - ang[prev_i], 2 * np.pi)
    xp = np.mod(ang[next_i] - peak, 2 * np.pi)
    e1 = mm - m0
    e2 = mp - m0
    det = xm * xp * (xm - xp)
    with np.errstate(divide="ignore", invalid="ignore"):
        a = (e1 * xp - e2 * xm) / det
        c = (xm ** 2 * e2 - xp ** 2 * e1) / det
        shift = np.where(a < 0, -c / (2 * a), 0.0)
    shift = np.where(np.isfinite(shift), shift, 0.0)
    shift = np.clip(shift, xm, xp)
    return wrap_angle(peak + shift)


def circular_kde(samples, grid, bandwidth):
    """Kernel density estimate on the circle with a von Mises kernel.

    Parameters
    ----------
    samples : array_like
        Angles in radians (any shape; flattened), e.g. the ``(R, N)``
        output of :func:`preferred_stimulus`.
    grid : array_like
        Angles at which to evaluate the density.
    bandwidth : float
        Kernel width in radians, playing the role of a standard deviation:
        the kernel is von Mises with concentration
        ``kappa = 1 / bandwidth**2`` (for small widths the kernel is close
        to a Gaussian of standard deviation ``bandwidth``).

    Returns
    -------
    ndarray, same shape as ``grid``
        ``p(x) = mean_i exp(kappa cos(x - x_i)) / (2 pi I0(kappa))``, a
        probability density with respect to the angle: it integrates to 1
        over ``[-pi, pi)``.
    """
    x = np.asarray(samples, dtype=float).ravel()
    if x.size == 0:
        raise ValueError("circular_kde needs at least one sample")
    bandwidth = float(bandwidth)
    if not bandwidth > 0:
        raise ValueError(f"bandwidth must be > 0, got {bandwidth}")
    grid = np.asarray(grid, dtype=float)
    kappa = 1.0 / bandwidth ** 2
    log_norm = np.log(2 * np.pi) + _log_i0(kappa)
    # exp(kappa (cos - 1)) keeps the exponent <= 0 for any kappa
    k = np.exp(kappa * (np.cos(grid[..., None] - x) - 1.0) + kappa - log_norm)
    return k.mean(axis=-1)


def population_rate(rates):
    """Population-averaged rate at each test angle (Fig. 1e, f).

    Parameters
    ----------
    rates : ndarray, shape (R, K, S, N)

    Returns
    -------
    dict
        ``mean`` : (K,)
            Mean of the tuning curves (:func:`tuning_curves`) over all
            neurons of all replicas.
        ``sem_neurons`` : (K,)
            Standard error of that mean across the ``R * N`` neurons of all
            replicas (each neuron's tuning-curve value is one sample).
        ``sem_replicas`` : (K,)
            Standard error across the ``R`` replica means (each replica's
            population mean is one sample).
        ``replica_means`` : (R, K)
            Population mean of each replica.
    """
    tc = tuning_curves(rates)  # (R, K, N)
    R, K, N = tc.shape
    per_neuron = np.moveaxis(tc, 1, 0).reshape(K, R * N)
    mean, sem_n = mean_sem(per_neuron, axis=1)
    replica_means = tc.mean(axis=2)  # (R, K)
    _, sem_r = mean_sem(replica_means, axis=0)
    return {"mean": mean, "sem_neurons": sem_n, "sem_replicas": sem_r,
            "replica_means": replica_means}


def fit_von_mises_profile(profiles, angles, kappa_range=(1e-2, 1e2)):
    """Least-squares fit of a baseline plus a von Mises bump to rate profiles (Fig. 1e).

    Parameters
    ----------
    profiles : array_like, shape (..., K)
        Rate profiles against the test angles, e.g. each network's population
        rate (``population_rate(rates)["replica_means"]``, (R, K)).
    angles : array_like, shape (K,)
    kappa_range : (float, float)
        The concentrations searched (a fit at an end says the profile is
        flatter or sharper than the range resolves).

    Returns
    -------
    dict of ndarray, shape (...)
        ``baseline`` ``b0``, ``amplitude`` ``a >= 0``, ``kappa`` and ``mu``
        (radians, in ``[-pi, pi)``) minimising
        ``sum_k (profile_k - b0 - a exp(kappa (cos(theta_k - mu) - 1)))^2``,
        and ``sse``, that minimum. ``kappa`` is the width: a larger one is a
        narrower bump (for large ``kappa`` the bump is close to a Gaussian of
        s.d. ``1 / sqrt(kappa)``).

    Notes
    -----
    ``b0 + a exp(kappa (cos - 1))`` is ``b0 + a' exp(kappa cos)`` with
    ``a' = a exp(-kappa)``; the bump's height is ``a``. For fixed ``kappa``
    and ``mu`` the model is linear in ``b0`` and ``a``, solved exactly
    (``a`` clipped at 0: a profile with a dip, not a bump, is fitted by its
    mean); ``kappa`` (log-spaced) and ``mu`` are searched on a grid, refined
    eleven times around the best point (each grid 2.5 times finer).
    A flat profile has no width: its ``kappa`` is NaN.
    """
    y = np.asarray(profiles, dtype=float)
    shape = y.shape[:-1]
    y = y.reshape(-1, y.shape[-1])  # (P, K)
    angles = check_angles(angles, y.shape[1])
    lo, hi = np.log(kappa_range[0]), np.log(kappa_range[1])
    P = y.shape[0]
    yc = y - y.mean(1, keepdims=True)
    ss = np.sum(yc ** 2, axis=1)  # (P,)
    centre = np.stack([np.full(P, 0.5 * (lo + hi)), np.zeros(P)], axis=1)  # (log kappa, mu) per profile
    half = np.array([0.5 * (hi - lo), np.pi])
    n = 41
    for _ in range(12):
        steps = np.linspace(-1, 1, n)
        lk = np.clip(centre[:, 0, None] + half[0] * steps, lo, hi)  # (P, n)
        mu = centre[:, 1, None] + half[1] * steps  # (P, n)
        g = np.exp(np.exp(lk)[:, :, None, None] * (np.cos(angles - mu[:, None, :, None]) - 1))  # (P, n, n, K)
        gc = g - g.mean(-1, keepdims=True)
        cov = np.einsum("pijk,pk->pij", gc, yc)
        var = np.sum(gc ** 2, -1)
        with np.errstate(divide="ignore", invalid="ignore"):
            gain = np.where(cov > 0, cov ** 2 / var, 0.0)  # the fall of the SSE from the mean's
        gain = np.where(np.isfinite(gain), gain, 0.0)
        best = gain.reshape(P, -1).argmax(1)
        i, j = np.unravel_index(best, (n, n))
        centre = np.stack([lk[np.arange(P), i], mu[np.arange(P), j]], axis=1)
        half = half * 4 / (n - 1)  # the next grid spans 2 steps of this one either side
        n = 11
    kappa, mu = np.exp(centre[:, 0]), wrap_angle(centre[:, 1])
    g = np.exp(kappa[:, None] * (np.cos(angles - mu[:, None]) - 1))
    gc = g - g.mean(1, keepdims=True)
    a = np.clip(np.sum(gc * yc, 1) / np.maximum(np.sum(gc ** 2, 1), 1e-300), 0, None)
    b0 = y.mean(1) - a * g.mean(1)
    sse = np.sum((y - b0[:, None] - a[:, None] * g) ** 2, 1)
    flat = (a <= 0) | (ss <= 1e-24 * np.maximum(np.sum(y ** 2, 1), 1e-300))
    kappa = np.where(flat, np.nan, kappa)
    out = {"baseline": b0, "amplitude": a, "kappa": kappa, "mu": mu, "sse": sse}
    return {k: v.reshape(shape) for k, v in out.items()}
