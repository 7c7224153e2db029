"""The paper's measures, computed from recorded test data.

Bredenberg, Simoncelli & Savin, "Learning efficient task-dependent
representations with synaptic plasticity" (NeurIPS 2020), section 3 and
Figs. 1-3. Every function here takes NumPy arrays and returns NumPy arrays
(or tuples/dicts of them). This package imports neither ``brian2`` nor any
plotting library, and it depends on NumPy only. Its modules, one job each,
are re-exported here: :mod:`~brian_effplast.analysis.tuning` (Fig. 1),
:mod:`~brian_effplast.analysis.outputs` (Fig. 2),
:mod:`~brian_effplast.analysis.noise` (Fig. 3),
:mod:`~brian_effplast.analysis.curves` (learning curves) and
:mod:`~brian_effplast.analysis.common` (angles, inputs, means).

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

from .common import input_rates, mean_sem, preferred_input_angles, wrap_angle
from .tuning import circular_kde, fit_von_mises_profile, population_rate, preferred_stimulus, tuning_curves
from .outputs import bias_variance, boundary_dprime, confidence_ellipse, dprime, prior_averaged_dprime
from .noise import (VOLUME_MEASURES, current_ratio, current_ratio_population, energy, energy_spread,
                    mean_energy_per_angle, noise_volume_fraction, volume_fraction_per_angle)
from .curves import learning_curve_stats, smooth

__all__ = [
    "wrap_angle",
    "input_rates",
    "preferred_input_angles",
    "tuning_curves",
    "preferred_stimulus",
    "circular_kde",
    "population_rate",
    "fit_von_mises_profile",
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
