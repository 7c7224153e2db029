"""What the figure panels (:mod:`brian_effplast.paper.fig1`, ``_fig2``,
``_fig3``) share: JSON-ready numbers, the task of an experiment, angle
masks (the drawing helpers are in :mod:`brian_effplast.plotting`).

Every panel is a function ``panel(data, draw=True)`` of the loaded runs
(:func:`brian_effplast.paper.experiments.load_all`) returning ``(numbers,
figure)``: the numbers behind the panel for ``figures.json`` (``None`` for a
panel without numbers) and the panel drawn from them (``None`` when
``draw`` is false).
"""

import numpy as np

from .. import analysis
from ..blocks.tasks import get_task

__all__ = ["ms", "lst", "experiment_task", "near_far", "class_masks", "per_angle_loss", "tenths"]


def ms(x, axis=0):
    """Mean and s.e.m. (:func:`~brian_effplast.analysis.mean_sem`) as arrays."""
    m, s = analysis.mean_sem(np.asarray(x, dtype=float), axis=axis)
    return np.asarray(m), np.asarray(s)


def lst(x):
    """A JSON-ready list (or number) rounded to 6 decimals; non-finite values as None."""
    x = np.asarray(x, dtype=float)
    return [None if not np.isfinite(v) else round(float(v), 6) for v in x.ravel()] if x.ndim else \
        (None if not np.isfinite(x) else round(float(x), 6))


def experiment_task(data, name):
    """The :class:`~brian_effplast.blocks.tasks.Task` experiment ``name`` was trained on."""
    return get_task(data[name]["config"].task)


def near_far(angles):
    """Masks of the test angles near the prior mode 0 (``|theta| <= 45°``) and
    far from it (``|theta| >= 135°``)."""
    a = np.abs(analysis.wrap_angle(np.asarray(angles)))
    return a <= np.pi / 4 + 1e-9, a >= 3 * np.pi / 4 - 1e-9


def class_masks(angles, task):
    """Masks of the test angles of class 1 and of class 0 (:meth:`Task.target`),
    leaving out the angles on a class boundary (within 1e-9 of
    ``task.class_boundaries``, circularly: 0 and +-pi for classification),
    whose class is a convention."""
    angles = analysis.wrap_angle(np.asarray(angles, dtype=float))
    on = np.zeros(angles.shape, bool)
    for b in task.class_boundaries:
        on |= np.abs(analysis.wrap_angle(angles - b)) <= 1e-9
    c = np.asarray(task.target(angles)) == 1
    return c & ~on, ~c & ~on


def per_angle_loss(test, task):
    """Mean :meth:`Task.test_loss` (the authors' per-angle error: the squared
    error for estimation, the negative log-likelihood of the true class for
    classification) per replica and test angle, ``(R, K)``."""
    y, angles = np.asarray(test["outputs"]), np.asarray(test["angles"])  # (R, K, S, n_out), (K,)
    return task.test_loss(y, angles[None, :, None]).mean(axis=2)


def tenths(curve, task):
    """The task's objective averaged over the first and the last 10% of a
    learning curve (R, bins): two arrays (R,)."""
    c = get_task(task).objective(curve)
    m = max(1, c.shape[1] // 10)
    return c[:, :m].mean(1), c[:, -m:].mean(1)


