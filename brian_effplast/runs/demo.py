"""The numbers of ``brian-effplast demo``: scores per replica (mean +- s.e.m.) and the
two baselines that give them meaning.

- **Best constant output.** An estimator that ignores the stimulus does best
  by always answering the prior's mean of ``(cos theta, sin theta)``: the
  mean direction ``mu`` with length ``I1(k)/I0(k)`` (``k`` the prior's
  concentration). Its prior-weighted MSE (``1 - (I1/I0)^2``, about 0.65
  for ``k = 1.5``) is what the circuit must beat to have learned anything
  about the stimulus.
- **Decoder alone.** The same networks (same seed, same initial state and
  noise) trained with ``W``, ``C`` and ``b`` frozen (``eta_W = eta_C =
  eta_b = 0``): what a linear readout of the random initial circuit learns.
  The gap between it and the full training is what the plasticity of the
  circuit itself adds.
"""

import numpy as np

from ..blocks.prior import prior_weights
from .protocol import held_stimulus_test, per_angle_error
from .training import objectives

__all__ = ["mean_sem", "replica_scores", "constant_baseline", "decoder_only", "training_mse"]

#: The learning rates a "decoder alone" baseline sets to 0.
FROZEN = {"plasticity.eta_W": 0.0, "plasticity.eta_C": 0.0, "plasticity.eta_b": 0.0}


def mean_sem(values):
    """``(mean, standard error of the mean)`` of a 1-d sample (s.e.m. ``nan`` for one value)."""
    x = np.asarray(values, dtype=float).ravel()
    sem = float(np.std(x, ddof=1) / np.sqrt(x.size)) if x.size > 1 else float("nan")
    return float(np.mean(x)), sem


def replica_scores(data):
    """Estimation test scores of every replica: ``{"mse": (R,), "mse_prior": (R,)}`` from a
    test's ``angles``, ``outputs``, ``prior_mu`` and ``prior_kappa``."""
    per_angle = per_angle_error(data, "estimation")  # (R, K)
    w = prior_weights(data["angles"], data["prior_mu"], data["prior_kappa"])
    return {"mse": per_angle.mean(axis=1), "mse_prior": per_angle @ w}


def training_mse(curve, cfg):
    """Training MSE of every replica over the first and last 10% of training (after the
    transient): two arrays ``(R,)``, as the run summary computes their mean."""
    first, last = zip(*(objectives(np.asarray(c)[None, :], cfg) for c in np.asarray(curve)))
    return -np.array(first), -np.array(last)


def constant_baseline(angles, mu, kappa):
    """The best constant estimate and its MSE on the test angles.

    The constant minimising the prior-weighted squared error is the
    prior-weighted mean of the targets ``(cos theta, sin theta)`` (on the
    test grid: close to ``(I1/I0)(kappa)`` in direction ``mu``).

    Returns
    -------
    dict
        ``"output"`` (2,), ``"mse_prior"`` (its prior-weighted MSE) and
        ``"mse"`` (its MSE with the angles equally weighted).
    """
    angles = np.asarray(angles, dtype=float)
    w = prior_weights(angles, mu, kappa)
    targets = np.stack([np.cos(angles), np.sin(angles)], axis=1)
    c = w @ targets
    err = np.sum((targets - c) ** 2, axis=1)
    return {"output": c, "mse_prior": float(w @ err), "mse": float(err.mean())}


def decoder_only(cfg, duration, hold, target=None):
    """Train the networks of ``cfg`` (its seed and replicas) for ``duration`` with only
    the decoder learning, then test them: ``(training (first, last) per replica,
    replica_scores of the test)``."""
    from ..circuit.model import PlasticCircuit
    model = PlasticCircuit(cfg.replace(**FROZEN), target=target)
    curve = model.run(duration)["curve"]
    return training_mse(curve, model.config), replica_scores(held_stimulus_test(model, hold=hold))
