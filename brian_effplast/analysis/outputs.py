"""Fig. 2: the decoder's outputs (bias and variance, confidence ellipses, d')."""

import numpy as np

from .common import check_angles, wrap_angle

__all__ = ["bias_variance", "confidence_ellipse", "dprime", "boundary_dprime", "prior_averaged_dprime"]


def _scalar_outputs(outputs):
    """Classification outputs as (R, K, S) (drops a trailing axis of 1)."""
    y = np.asarray(outputs, dtype=float)
    if y.ndim == 4:
        if y.shape[-1] != 1:
            raise ValueError(
                "classification outputs must have n_out = 1, got outputs "
                f"of shape {y.shape}")
        y = y[..., 0]
    if y.ndim != 3:
        raise ValueError(
            "outputs must have shape (R, K, S, 1) or (R, K, S), got "
            f"{y.shape}")
    return y



def bias_variance(outputs, angles, ddof=1):
    """Squared bias and variance of the estimation output (Fig. 2a, b).

    Parameters
    ----------
    outputs : ndarray, shape (R, K, S, 2)
        Estimation outputs ``y = D r``.
    angles : ndarray, shape (K,)
    ddof : int, optional
        Delta degrees of freedom of the variance (default 1). With
        ``ddof=0``, ``bias2 + variance`` equals the empirical mean squared
        error ``mean_s ||y_s - (cos, sin)||^2`` exactly.

    Returns
    -------
    bias2 : ndarray, shape (R, K)
        ``||mean_s y - (cos theta, sin theta)||^2``.
    variance : ndarray, shape (R, K)
        ``trace(cov_s y)``, the summed variance of the two outputs.
    """
    y = np.asarray(outputs, dtype=float)
    if y.ndim != 4 or y.shape[-1] != 2:
        raise ValueError(
            f"estimation outputs must have shape (R, K, S, 2), got {y.shape}")
    angles = check_angles(angles, y.shape[1])
    target = np.stack([np.cos(angles), np.sin(angles)], axis=-1)  # (K, 2)
    mean = y.mean(axis=2)  # (R, K, 2)
    bias2 = np.sum((mean - target) ** 2, axis=-1)
    variance = np.sum(np.var(y, axis=2, ddof=ddof), axis=-1)
    return bias2, variance


def confidence_ellipse(samples2d, level=0.95):
    """Confidence ellipse of a 2-D sample set under a Gaussian model (Fig. 2a).

    Parameters
    ----------
    samples2d : array_like, shape (S, 2)
    level : float, optional
        Probability mass inside the ellipse (default 0.95).

    Returns
    -------
    center : ndarray, shape (2,)
        Sample mean.
    width : float
        Full length of the major axis, ``2 sqrt(q lambda_1)``.
    height : float
        Full length of the minor axis, ``2 sqrt(q lambda_2)``.
    angle_deg : float
        Counter-clockwise angle of the major axis from the x axis, degrees,
        in ``(-90, 90]``.

    Notes
    -----
    ``lambda_1 >= lambda_2`` are the eigenvalues of the sample covariance
    (``ddof=1``) and ``q = -2 log(1 - level)`` is the ``level`` quantile of
    the chi-square distribution with 2 degrees of freedom, so the ellipse
    ``(y - center)^T Cov^-1 (y - center) <= q`` holds probability ``level``
    of a Gaussian with that mean and covariance. The return values follow
    ``matplotlib.patches.Ellipse(center, width, height, angle=angle_deg)``.
    """
    x = np.asarray(samples2d, dtype=float)
    if x.ndim != 2 or x.shape[1] != 2 or x.shape[0] < 2:
        raise ValueError(
            f"samples2d must have shape (S, 2) with S >= 2, got {x.shape}")
    level = float(level)
    if not 0 < level < 1:
        raise ValueError(f"level must be in (0, 1), got {level}")
    center = x.mean(axis=0)
    cov = np.cov(x, rowvar=False, ddof=1)
    evals, evecs = np.linalg.eigh(cov)  # ascending
    evals = np.clip(evals, 0.0, None)
    q = -2.0 * np.log1p(-level)
    width = 2.0 * np.sqrt(q * evals[1])
    height = 2.0 * np.sqrt(q * evals[0])
    v = evecs[:, 1]
    angle = np.degrees(np.arctan2(v[1], v[0]))
    # an axis has no direction: fold to (-90, 90]
    angle = angle - 180.0 * np.ceil((angle - 90.0) / 180.0)
    return center, float(width), float(height), float(angle)


def dprime(a, b):
    """Sensitivity index d' between two 1-D sample sets.

    Parameters
    ----------
    a, b : array_like
        Samples (flattened).

    Returns
    -------
    float
        ``|mean_a - mean_b| / sqrt((var_a + var_b) / 2)``, variances with
        ``ddof=1``. ``inf`` if both variances are 0 and the means differ,
        ``nan`` if they are also equal.
    """
    a = np.asarray(a, dtype=float).ravel()
    b = np.asarray(b, dtype=float).ravel()
    if a.size < 2 or b.size < 2:
        raise ValueError("dprime needs at least 2 samples in each set")
    num = abs(a.mean() - b.mean())
    den = np.sqrt(0.5 * (a.var(ddof=1) + b.var(ddof=1)))
    with np.errstate(divide="ignore", invalid="ignore"):
        return float(np.float64(num) / den)


def _angle_indices(angles, targets, atol):
    """Index of the test angle circularly closest to each target."""
    targets = np.asarray(targets, dtype=float)
    dist = np.abs(wrap_angle(targets[..., None] - angles))
    idx = np.argmin(dist, axis=-1)
    best = np.take_along_axis(dist, idx[..., None], axis=-1)[..., 0]
    if np.any(best > atol):
        bad = targets[best > atol]
        raise ValueError(
            f"angles {bad} are not among the test angles {angles} "
            f"(tolerance {atol})")
    return idx


def boundary_dprime(outputs, angles, pairs, atol=1e-6):
    """d' between outputs for pairs of test angles (Fig. 2c).

    Parameters
    ----------
    outputs : ndarray, shape (R, K, S, 1) or (R, K, S)
        Classification outputs ``y = D r``.
    angles : ndarray, shape (K,)
    pairs : array_like, shape (P, 2)
        Pairs of stimulus angles (radians), typically one on each side of
        the class boundary, e.g. ``[(-pi/6, pi/6), (5*pi/6, -5*pi/6)]`` for
        the high- and low-probability crossings of the boundary with the
        default prior. Each angle is matched to the circularly closest test
        angle, which must lie within ``atol``.
    atol : float, optional
        Matching tolerance, radians (default 1e-6).

    Returns
    -------
    ndarray, shape (R, P)
        :func:`dprime` between the ``S`` outputs at the two angles of each
        pair, per replica.
    """
    y = _scalar_outputs(outputs)
    R, K, S = y.shape
    angles = wrap_angle(check_angles(angles, K))
    pairs = np.asarray(pairs, dtype=float)
    if pairs.ndim != 2 or pairs.shape[1] != 2:
        raise ValueError(f"pairs must have shape (P, 2), got {pairs.shape}")
    idx = _angle_indices(angles, pairs, atol)  # (P, 2)
    out = np.empty((R, len(idx)))
    for r in range(R):
        for p, (i, j) in enumerate(idx):
            out[r, p] = dprime(y[r, i], y[r, j])
    return out


def prior_averaged_dprime(outputs, angles, mu, kappa_stationary):
    """Prior-weighted d' between the two classes (Fig. 2d).

    Parameters
    ----------
    outputs : ndarray, shape (R, K, S, 1) or (R, K, S)
        Classification outputs ``y = D r``.
    angles : ndarray, shape (K,)
    mu : float
        Mean of the stimulus prior.
    kappa_stationary : float
        Concentration of the stimulus prior, i.e. of the *stationary* law
        of the stimulus process (``2 * kappa`` for the model's Langevin
        process, ``docs/model.md``).

    Returns
    -------
    ndarray, shape (R,)
        ``|m_1 - m_0| / sqrt((v_1 + v_0) / 2)``.

    Notes
    -----
    As the authors measure it: the test angles with ``theta > 0`` against
    those with ``theta < 0`` (angles wrapped to ``[-pi, pi)`` first, so
    ``+-pi`` falls with ``theta < 0``; ``theta = 0``, on the boundary, is
    in neither). Each class's output
    distribution is the mixture of the per-angle sample sets with weights
    ``w_k`` proportional to the prior density
    ``exp(kappa_stationary cos(theta_k - mu))``, normalised within the
    class (every one of the ``S`` samples at angle ``k`` has weight
    ``w_k / S``). ``m_c`` and ``v_c`` are the weighted mean and weighted
    (``ddof=0``) variance of that mixture:
    ``m_c = sum_k w_k mean_k``,
    ``v_c = sum_k w_k (var_k + mean_k^2) - m_c^2`` (per-angle ``var_k``
    with ``ddof=0``). With ``kappa_stationary = 0`` this is d' between the
    pooled samples of the two classes.
    """
    y = _scalar_outputs(outputs)
    R, K, S = y.shape
    angles = wrap_angle(check_angles(angles, K))
    pos, neg = angles > 0, angles < 0
    if not pos.any() or not neg.any():
        raise ValueError("both classes need at least one test angle")
    logw = float(kappa_stationary) * (np.cos(angles - mu) - 1.0)
    w = np.exp(logw)
    means = y.mean(axis=2)  # (R, K)
    second = np.mean(y ** 2, axis=2)  # (R, K)
    stats = []
    for mask in (pos, neg):
        wc = w[mask] / w[mask].sum()
        m = means[:, mask] @ wc
        v = second[:, mask] @ wc - m ** 2
        stats.append((m, np.clip(v, 0.0, None)))
    (m1, v1), (m0, v0) = stats
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.abs(m1 - m0) / np.sqrt(0.5 * (v1 + v0))
