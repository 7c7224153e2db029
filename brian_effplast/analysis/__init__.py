"""The paper's measures, computed from recorded test data.

Bredenberg, Simoncelli & Savin, "Learning efficient task-dependent
representations with synaptic plasticity" (NeurIPS 2020), section 3 and
Figs. 1-3. Every function here takes NumPy arrays and returns NumPy arrays
(or tuples/dicts of them). This module imports neither ``brian2`` nor any
plotting library, and it depends on NumPy only.

Data layout
-----------
Test data are recorded with plasticity off, each test stimulus held fixed
while the rates are sampled (see ``docs/model.md``). The arrays are:

``angles`` : (K,)
    Test stimulus angles, radians, in ``[-pi, pi)``.
``rates`` : (R, K, S, N)
    ``R`` replicas (independent circuits), ``K`` test angles, ``S`` samples
    per angle, ``N`` recurrent neurons.
``outputs`` : (R, K, S, n_out)
    Decoder outputs ``y = D r``; ``n_out = 2`` for estimation (target
    ``(cos theta, sin theta)``), ``n_out = 1`` for classification (class 1
    where ``theta >= 0``). For classification a trailing axis of length 1
    may be omitted: ``(R, K, S)`` is accepted too.
``W`` : (R, N, N)
    Recurrent weights, ``W[r, i, j]`` from neuron ``j`` to neuron ``i``.
``C`` : (R, N, N_s)
    Input weights, ``C[r, i, k]`` from input unit ``k`` to neuron ``i``.
``b`` : (R, N)
    Biases.
``D`` : (R, n_out, N)
    Decoders.

Inputs ``s(theta)`` are recomputed from the angles with :func:`input_rates`
(``s_k = max(0, cos(theta - theta_k))``, ``theta_k = -pi + 2 pi k / N_s``),
so they need not be recorded.

Conventions
-----------
* Sample statistics (means, variances, covariances) are taken over the
  sample axis ``S`` of one replica and one angle unless stated otherwise.
  Variances and covariances use ``ddof=1`` unless stated otherwise.
* Standard errors of the mean are ``std(ddof=1) / sqrt(n)`` and are 0 when
  ``n = 1`` (:func:`mean_sem`).
* Angles returned are wrapped to ``[-pi, pi)``.
"""

import numpy as np

from ..blocks.prior import preferred_angles

__all__ = [
    "wrap_angle",
    "input_rates",
    "preferred_input_angles",
    "tuning_curves",
    "preferred_stimulus",
    "circular_kde",
    "population_rate",
    "bias_variance",
    "confidence_ellipse",
    "dprime",
    "boundary_dprime",
    "prior_averaged_dprime",
    "noise_volume_fraction",
    "volume_fraction_per_angle",
    "current_ratio",
    "current_ratio_population",
    "energy_spread",
    "VOLUME_MEASURES",
    "energy",
    "mean_energy_per_angle",
    "learning_curve_stats",
    "smooth",
    "mean_sem",
]


# ---------------------------------------------------------------------------
# Small helpers
# ---------------------------------------------------------------------------

def wrap_angle(theta):
    """Wrap angles to ``[-pi, pi)``.

    Parameters
    ----------
    theta : array_like
        Angles in radians.

    Returns
    -------
    ndarray
        ``theta - 2 pi floor((theta + pi) / (2 pi))``, same shape as
        ``theta`` (the wrapping used by the model, ``docs/model.md``).
    """
    theta = np.asarray(theta, dtype=float)
    return theta - 2 * np.pi * np.floor((theta + np.pi) / (2 * np.pi))


def preferred_input_angles(N_s):
    """Preferred angles of the input population.

    Parameters
    ----------
    N_s : int
        Number of input units.

    Returns
    -------
    ndarray, shape (N_s,)
        ``theta_k = -pi + 2 pi k / N_s``, ``k = 0 .. N_s - 1``.
    """
    N_s = int(N_s)
    if N_s < 1:
        raise ValueError(f"N_s must be a positive integer, got {N_s}")
    return preferred_angles(N_s)


def input_rates(angles, N_s=12):
    """Rates of the input population for given stimulus angles (Eq. 1).

    Parameters
    ----------
    angles : array_like, shape (...)
        Stimulus angles in radians.
    N_s : int, optional
        Number of input units (default 12).

    Returns
    -------
    ndarray, shape (..., N_s)
        ``s_k(theta) = max(0, cos(theta - theta_k))`` with
        ``theta_k = -pi + 2 pi k / N_s``.
    """
    angles = np.asarray(angles, dtype=float)
    theta_k = preferred_input_angles(N_s)
    return np.maximum(0.0, np.cos(angles[..., None] - theta_k))


def mean_sem(x, axis=0):
    """Mean and standard error of the mean along an axis.

    Parameters
    ----------
    x : array_like
        Data.
    axis : int, tuple of int or None, optional
        Axis or axes to average over (default 0); ``None`` means all.

    Returns
    -------
    mean : ndarray
        Mean over ``axis``.
    sem : ndarray
        ``std(x, ddof=1) / sqrt(n)`` over ``axis``, ``n`` the number of
        values averaged. Equal to 0 where ``n == 1``.
    """
    x = np.asarray(x, dtype=float)
    mean = np.mean(x, axis=axis)
    if axis is None:
        n = x.size
    else:
        axes = (axis,) if np.ndim(axis) == 0 else tuple(axis)
        n = int(np.prod([x.shape[a] for a in axes]))
    if n <= 1:
        return mean, np.zeros_like(mean)
    sem = np.std(x, axis=axis, ddof=1) / np.sqrt(n)
    return mean, sem


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


def _check_rates(rates):
    rates = np.asarray(rates, dtype=float)
    if rates.ndim != 4:
        raise ValueError(
            f"rates must have shape (R, K, S, N), got {rates.shape}")
    return rates


def _check_angles(angles, K):
    angles = np.asarray(angles, dtype=float)
    if angles.shape != (K,):
        raise ValueError(
            f"angles must have shape ({K},) to match the data, got "
            f"{angles.shape}")
    return angles


def _check_circuit(rates, angles, W, C):
    """Test rates (R, K, S, N), their angles (K,) and each replica's weights
    ``W`` (R, N, N) and ``C`` (R, N, N_s), checked and as float arrays."""
    x = _check_rates(rates)
    R, K, S, N = x.shape
    angles = _check_angles(angles, K)
    W = np.asarray(W, dtype=float)
    C = np.asarray(C, dtype=float)
    if W.shape != (R, N, N):
        raise ValueError(f"W must have shape ({R}, {N}, {N}), got {W.shape}")
    if C.ndim != 3 or C.shape[:2] != (R, N):
        raise ValueError(f"C must have shape ({R}, {N}, N_s), got {C.shape}")
    return x, angles, W, C


# ---------------------------------------------------------------------------
# Fig. 1: tuning, preferred stimuli, population rate
# ---------------------------------------------------------------------------

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
    return _check_rates(rates).mean(axis=2)


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
    angles = wrap_angle(_check_angles(angles, K))
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


# ---------------------------------------------------------------------------
# Fig. 2: outputs
# ---------------------------------------------------------------------------

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
    angles = _check_angles(angles, y.shape[1])
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
    angles = wrap_angle(_check_angles(angles, K))
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
    Class 1 holds the test angles with ``theta >= 0``, class 0 the others
    (angles wrapped to ``[-pi, pi)`` first). Each class's output
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
    angles = wrap_angle(_check_angles(angles, K))
    cls = angles >= 0
    if cls.all() or not cls.any():
        raise ValueError("both classes need at least one test angle")
    logw = float(kappa_stationary) * (np.cos(angles - mu) - 1.0)
    w = np.exp(logw)
    means = y.mean(axis=2)  # (R, K)
    second = np.mean(y ** 2, axis=2)  # (R, K)
    stats = []
    for mask in (cls, ~cls):
        wc = w[mask] / w[mask].sum()
        m = means[:, mask] @ wc
        v = second[:, mask] @ wc - m ** 2
        stats.append((m, np.clip(v, 0.0, None)))
    (m1, v1), (m0, v0) = stats
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.abs(m1 - m0) / np.sqrt(0.5 * (v1 + v0))


# ---------------------------------------------------------------------------
# Fig. 3: noise, currents, energy
# ---------------------------------------------------------------------------

def _row_space_basis(D):
    """Orthonormal basis (..., N, n_out) of the row space of D (..., n_out, N)."""
    Q, Rm = np.linalg.qr(np.swapaxes(D, -1, -2))
    diag = np.abs(np.diagonal(Rm, axis1=-2, axis2=-1))
    scale = np.max(np.abs(D), axis=(-2, -1))
    if np.any(diag <= 1e-12 * np.maximum(scale[..., None], 1e-300)):
        raise ValueError("the decoder D must have full row rank")
    return Q


#: Measures of :func:`volume_fraction_per_angle`.
VOLUME_MEASURES = ("determinant", "entropy")


def _volume_fraction_from_cov(cov, D, measure="determinant"):
    if measure not in VOLUME_MEASURES:
        raise ValueError(f"measure = {measure!r} is not allowed: choose from {', '.join(VOLUME_MEASURES)}")
    n_out = D.shape[-2]
    Q = _row_space_basis(D)
    CD = np.swapaxes(Q, -1, -2) @ cov @ Q
    evals = np.linalg.eigvalsh(cov)[..., ::-1][..., :n_out]
    evals = np.clip(evals, 0.0, None)
    with np.errstate(divide="ignore", invalid="ignore"):
        if measure == "determinant":
            return np.linalg.det(CD) / np.prod(evals, axis=-1)
        # Gaussian entropies of the two projections, n/2*log(2*pi*e) + 1/2*log det
        const = 0.5 * n_out * np.log(2 * np.pi * np.e)
        return (const + 0.5 * np.linalg.slogdet(CD)[1]) / (const + 0.5 * np.sum(np.log(evals), axis=-1))


def noise_volume_fraction(rates_one_angle, D):
    """Noise volume fraction for one stimulus (Eq. 13, Fig. 3c).

    Parameters
    ----------
    rates_one_angle : ndarray, shape (S, N)
        Rate samples for one fixed stimulus, one replica.
    D : ndarray, shape (n_out, N)
        Decoder of that replica (``n_out = 2`` for estimation; any full
        row rank ``n_out <= N`` is accepted).

    Returns
    -------
    float
        ``VF = det(Q^T Sigma Q) / (lambda_1 ... lambda_n_out)``.

    Notes
    -----
    ``Sigma`` is the sample covariance of the rates, ``Q`` (N x n_out) an
    orthonormal basis of the row space of ``D`` (the readout manifold;
    from a QR decomposition of ``D^T``), and ``lambda_1 >= lambda_2 >= ...``
    the eigenvalues of ``Sigma``, so the denominator is the determinant of
    the covariance projected on the first ``n_out`` principal components.
    The basis is orthonormalised so that VF does not depend on the scale
    or mixing of the rows of ``D`` (projecting on ``D`` itself would
    multiply the numerator by ``det(D D^T)``).

    ``0 <= VF <= 1``: by the Cauchy (Poincare) interlacing theorem, the
    eigenvalues ``mu_i`` of ``Q^T Sigma Q`` for any orthonormal ``Q``
    satisfy ``0 <= mu_i <= lambda_i``, so ``det(Q^T Sigma Q) <= prod
    lambda_i``: the top principal components maximise the determinant
    among orthonormal projections of that dimension. VF = 1 when the
    readout manifold is the plane of the top principal components, VF = 0
    when the noise has no variance in some direction of the readout
    manifold (e.g. noise orthogonal to it). Invariant to ``ddof``.
    """
    x = np.asarray(rates_one_angle, dtype=float)
    D = np.asarray(D, dtype=float)
    if x.ndim != 2 or x.shape[0] < 2:
        raise ValueError(
            f"rates_one_angle must have shape (S, N), S >= 2, got {x.shape}")
    if D.ndim != 2 or D.shape[1] != x.shape[1]:
        raise ValueError(
            f"D must have shape (n_out, {x.shape[1]}), got {D.shape}")
    cov = np.cov(x, rowvar=False, ddof=1).reshape(x.shape[1], x.shape[1])
    return float(_volume_fraction_from_cov(cov, D))


def volume_fraction_per_angle(rates, D, measure="determinant"):
    """Noise volume fraction for every replica and test angle (Fig. 3c).

    Parameters
    ----------
    rates : ndarray, shape (R, K, S, N)
    D : ndarray, shape (R, n_out, N)
    measure : {"determinant", "entropy"}
        ``"determinant"``: :func:`noise_volume_fraction` (the paper's text,
        Eq. 13). ``"entropy"``: the ratio of the Gaussian entropies of the
        two projections, ``H = n/2 log(2 pi e) + 1/2 log det(cov)``, readout
        manifold over the top ``n_out`` principal components (the measure the
        authors' analysis uses by default). It is 1 where the determinant
        ratio is 1; as both entropies can be negative, it is a ratio, not a
        fraction.

    Returns
    -------
    ndarray, shape (R, K)
        The measure of ``rates[r, k]`` with ``D[r]``.
    """
    x = _check_rates(rates)
    R, K, S, N = x.shape
    D = np.asarray(D, dtype=float)
    if D.ndim != 3 or D.shape[0] != R or D.shape[2] != N:
        raise ValueError(f"D must have shape ({R}, n_out, {N}), got {D.shape}")
    if S < 2:
        raise ValueError("need at least 2 samples per angle")
    xc = x - x.mean(axis=2, keepdims=True)
    cov = np.einsum("rksi,rksj->rkij", xc, xc) / (S - 1)
    return _volume_fraction_from_cov(cov, D[:, None], measure)


def current_ratio(rates, angles, W, C):
    """Ratio of recurrent to input current per neuron (Fig. 3b).

    Parameters
    ----------
    rates : ndarray, shape (R, K, S, N)
    angles : ndarray, shape (K,)
    W : ndarray, shape (R, N, N)
    C : ndarray, shape (R, N, N_s)
        ``N_s`` is taken from ``C``.

    Returns
    -------
    ndarray, shape (R, N)
        ``mean_{k,s} |sum_j W_ij r_j| / mean_{k,s} |sum_k' C_ik' s_k'|``.

    Notes
    -----
    A ratio of means, not a mean of ratios: the recurrent current
    ``(W r)_i`` is computed for every sample and its absolute value
    averaged over all angles and samples; the input current
    ``(C s(theta))_i`` (deterministic given the angle) is averaged in
    absolute value over the same angles and samples (with equal ``S`` per
    angle, the same as over angles). The bias ``b`` is part of neither
    current; self-connections ``W_ii`` count as recurrent.
    """
    x, angles, W, C = _check_circuit(rates, angles, W, C)
    s = input_rates(angles, C.shape[2])  # (K, N_s)
    rec = np.abs(np.einsum("rij,rksj->rksi", W, x)).mean(axis=(1, 2))
    inp = np.abs(np.einsum("rik,qk->rqi", C, s)).mean(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        return rec / inp


def current_ratio_population(rates, angles, W, C):
    """Recurrent to input current, the authors' way (Fig. 3b): one number per replica.

    Parameters
    ----------
    rates : ndarray, shape (R, K, S, N)
    angles : ndarray, shape (K,)
    W : ndarray, shape (R, N, N)
    C : ndarray, shape (R, N, N_s)

    Returns
    -------
    ndarray, shape (R,)
        ``mean_{k,i} |mean_s (W r)_i| / mean_{k,i} |(C s(theta_k))_i|``.

    Notes
    -----
    Unlike :func:`current_ratio`, the recurrent current is averaged over
    the samples of each angle *before* its absolute value is taken (its
    fluctuations cancel), and the ratio is of population means, not per
    neuron.
    """
    x, angles, W, C = _check_circuit(rates, angles, W, C)
    s = input_rates(angles, C.shape[2])  # (K, N_s)
    rec = np.abs(np.einsum("rij,rkj->rki", W, x.mean(axis=2))).mean(axis=(1, 2))
    inp = np.abs(np.einsum("rik,qk->rqi", C, s)).mean(axis=(1, 2))
    with np.errstate(divide="ignore", invalid="ignore"):
        return rec / inp


def energy_spread(mean_energies):
    """Spread of the per-angle mean energies (S1g, the authors' measure).

    Parameters
    ----------
    mean_energies : ndarray, shape (R, K)
        :func:`mean_energy_per_angle`.

    Returns
    -------
    ndarray, shape (R,)
        ``|| E_k - mean_k E_k ||`` over the ``K`` angles, per replica.
    """
    e = np.asarray(mean_energies, dtype=float)
    if e.ndim != 2:
        raise ValueError(f"mean_energies must have shape (R, K), got {e.shape}")
    return np.linalg.norm(e - e.mean(axis=1, keepdims=True), axis=1)


def energy(r, s, W, C, b, finv_integral):
    """Energy of Eq. 3.

    Parameters
    ----------
    r : ndarray, shape (..., N)
        Rates.
    s : ndarray, shape (..., N_s)
        Inputs.
    W : ndarray, shape (..., N, N)
    C : ndarray, shape (..., N, N_s)
    b : ndarray, shape (..., N)
        Leading dimensions of all arguments must broadcast together.
    finv_integral : callable
        Vectorised ``F(r) = integral_0^r f^-1(x) dx``, applied elementwise.

    Returns
    -------
    ndarray, shape (...)
        ``E = -1/2 r^T W r + sum_i F(r_i) - r^T C s - b . r``.

    Notes
    -----
    For a non-symmetric ``W`` only its symmetric part enters
    ``r^T W r``; the formula is used as written.
    """
    r = np.asarray(r, dtype=float)
    s = np.asarray(s, dtype=float)
    W = np.asarray(W, dtype=float)
    C = np.asarray(C, dtype=float)
    b = np.asarray(b, dtype=float)
    Wr = np.matmul(W, r[..., None])[..., 0]
    Cs = np.matmul(C, s[..., None])[..., 0]
    F = np.asarray(finv_integral(r), dtype=float)
    return (-0.5 * np.sum(r * Wr, axis=-1) + np.sum(F, axis=-1)
            - np.sum(r * Cs, axis=-1) - np.sum(b * r, axis=-1))


def mean_energy_per_angle(rates, angles, W, C, b, finv_integral):
    """Mean energy of the sampled responses at each test angle (Fig. 3d).

    Parameters
    ----------
    rates : ndarray, shape (R, K, S, N)
    angles : ndarray, shape (K,)
    W : ndarray, shape (R, N, N)
    C : ndarray, shape (R, N, N_s)
    b : ndarray, shape (R, N)
    finv_integral : callable
        See :func:`energy`.

    Returns
    -------
    ndarray, shape (R, K)
        Mean over the ``S`` samples of :func:`energy` with
        ``s = input_rates(angle, N_s)`` and the replica's parameters.
    """
    x, angles, W, C = _check_circuit(rates, angles, W, C)
    R, K, S, N = x.shape
    b = np.asarray(b, dtype=float)
    if b.shape != (R, N):
        raise ValueError(f"b must have shape ({R}, {N}), got {b.shape}")
    s = input_rates(angles, C.shape[2])  # (K, N_s)
    E = energy(x, s[None, :, None, :], W[:, None, None], C[:, None, None],
               b[:, None, None], finv_integral)
    return E.mean(axis=2)


# ---------------------------------------------------------------------------
# Learning curves (Fig. 1b, 3a)
# ---------------------------------------------------------------------------

def learning_curve_stats(curves):
    """Mean and standard error of learning curves across replicas.

    Parameters
    ----------
    curves : ndarray, shape (R, T)
        One curve (e.g. the objective ``alpha``, smoothed or binned) per
        replica.

    Returns
    -------
    mean : ndarray, shape (T,)
    sem : ndarray, shape (T,)
        Across replicas, as in :func:`mean_sem` (0 if ``R == 1``).
    """
    curves = np.asarray(curves, dtype=float)
    if curves.ndim != 2:
        raise ValueError(f"curves must have shape (R, T), got {curves.shape}")
    return mean_sem(curves, axis=0)


def smooth(curve, window):
    """Centred moving average along the last axis.

    Parameters
    ----------
    curve : array_like, shape (..., T)
    window : int
        Number of points averaged, ``>= 1``.

    Returns
    -------
    ndarray, shape (..., T)
        Point ``t`` is the mean of points ``t - (window - 1) // 2`` to
        ``t + window // 2``; near the ends the window is truncated to the
        points that exist (so the output has the input's length and a
        constant curve is unchanged).
    """
    x = np.asarray(curve, dtype=float)
    window = int(window)
    if window < 1:
        raise ValueError(f"window must be >= 1, got {window}")
    T = x.shape[-1]
    csum = np.concatenate(
        [np.zeros(x.shape[:-1] + (1,)), np.cumsum(x, axis=-1)], axis=-1)
    t = np.arange(T)
    lo = np.clip(t - (window - 1) // 2, 0, T)
    hi = np.clip(t + window // 2 + 1, 0, T)
    return (csum[..., hi] - csum[..., lo]) / (hi - lo)
