"""Learning curves (Fig. 1b, 3a): means across replicas, smoothing."""

import numpy as np

from .common import mean_sem

__all__ = ["learning_curve_stats", "smooth"]


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
