"""What the measures share: angles, the inputs, means with standard errors,
and the checks of the arrays' shapes (see :mod:`brian_effplast.analysis` for
the data layout and conventions)."""

import numpy as np

from ..blocks.prior import preferred_angles

__all__ = ["wrap_angle", "input_rates", "preferred_input_angles", "mean_sem"]


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



def check_rates(rates):
    """``rates`` as a float array, checked to be (R, K, S, N)."""
    rates = np.asarray(rates, dtype=float)
    if rates.ndim != 4:
        raise ValueError(
            f"rates must have shape (R, K, S, N), got {rates.shape}")
    return rates


def check_angles(angles, K):
    """``angles`` as a float array, checked to be (K,)."""
    angles = np.asarray(angles, dtype=float)
    if angles.shape != (K,):
        raise ValueError(
            f"angles must have shape ({K},) to match the data, got "
            f"{angles.shape}")
    return angles
