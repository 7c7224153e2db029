"""Fig. 3 and S1g: the noise volume fraction, recurrent vs input current, the energy."""

import numpy as np

from .common import check_angles, check_rates, input_rates

__all__ = ["VOLUME_MEASURES", "noise_volume_fraction", "volume_fraction_per_angle", "current_ratio",
           "current_ratio_population", "energy", "mean_energy_per_angle", "energy_spread"]


def _check_circuit(rates, angles, W, C):
    """Test rates (R, K, S, N), their angles (K,) and each replica's weights
    ``W`` (R, N, N) and ``C`` (R, N, N_s), checked and as float arrays."""
    x = check_rates(rates)
    R, K, S, N = x.shape
    angles = check_angles(angles, K)
    W = np.asarray(W, dtype=float)
    C = np.asarray(C, dtype=float)
    if W.shape != (R, N, N):
        raise ValueError(f"W must have shape ({R}, {N}, {N}), got {W.shape}")
    if C.ndim != 3 or C.shape[:2] != (R, N):
        raise ValueError(f"C must have shape ({R}, {N}, N_s), got {C.shape}")
    return x, angles, W, C


def _row_space_basis(D):
    """Orthonormal basis (..., N, n_out) of the row space of D (..., n_out, N)."""
    Q, Rm = np.linalg.qr(np.swapaxes(D, -1, -2))
    diag = np.abs(np.diagonal(Rm, axis1=-2, axis2=-1))
    scale = np.max(np.abs(D), axis=(-2, -1))
    if np.any(diag <= 1e-12 * np.maximum(scale[..., None], 1e-300)):
        raise ValueError("the decoder D must have full row rank")
    return Q


#: Measures of :func:`volume_fraction_per_angle`.
VOLUME_MEASURES = ("determinant", "entropy_difference")


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
        # difference of the Gaussian entropies of the two projections: the n/2 log(2 pi e) cancel
        return 0.5 * (np.linalg.slogdet(CD)[1] - np.sum(np.log(evals), axis=-1))


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
    measure : {"determinant", "entropy_difference"}
        ``"determinant"``: :func:`noise_volume_fraction` (the paper's text,
        Eq. 13). ``"entropy_difference"``: the Gaussian entropy of the noise
        projected on the readout manifold minus that on the top ``n_out``
        principal components, ``1/2 log det(Q^T Sigma Q) - 1/2 log(lambda_1
        ... lambda_n_out)`` = ``1/2 log VF`` (nats, ``<= 0``). The authors'
        code takes the *ratio* of the two entropies by default; as each
        entropy can be negative or near 0 that ratio is not a fraction and
        can blow up, so the difference is used here.

    Returns
    -------
    ndarray, shape (R, K)
        The measure of ``rates[r, k]`` with ``D[r]``.
    """
    x = check_rates(rates)
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
