"""A spiking population for the same circuit: Poisson neurons read through filtered spike trains.

Each neuron fires as an inhomogeneous Poisson process whose rate is the F-I
curve of the same input as in Eq. 2, ``h_i = sum_j W_ij r_j + sum_k C_ik s_k + b_i``:

    P(spike in [t, t + dt)) = rate_scale * f(h_i) * dt/tau

and its *rate* ``r_i``, what the synapses, the decoder and the plasticity
read, is its spike train filtered by an exponential of time constant
``tau_r``, scaled so that its mean is ``f(h_i)``:

    dr_i/dt = -r_i/tau_r,   r_i += tau/(rate_scale*tau_r) at each spike of neuron i.

``rate_scale`` is the number of spikes per time unit at ``r = 1``: the
filtered rate fluctuates with variance ``f(h)/(2*rate_scale*tau_r)`` (time
units) about its mean, so ``rate_scale`` and ``tau_r`` set the noise that
``sigma`` sets in the rate model (the spikes are the only noise here). The
group has the variables of :class:`~brian_effplast.blocks.population.RecurrentPopulation`
that the other blocks read (``r``, ``I_rec``, ``I_in``, ``b``, ``h``,
``replica``, ``D_k``), so the rules of :mod:`brian_effplast.blocks.plasticity`,
the :class:`~brian_effplast.blocks.plasticity.Decoder` and
:class:`~brian_effplast.circuit.model.PlasticCircuit` use it unchanged
(``circuit.neuron = "poisson"``).
"""

import numpy as np
from brian2 import NeuronGroup, check_units, second
from brian2.utils.stringtools import word_substitute

from .nonlinearity import Softplus, log1p_function
from ._groups import ProjectedEuler, attach, check_sizes

__all__ = ["PoissonPopulation"]


class PoissonPopulation(NeuronGroup):
    """
    PoissonPopulation(N, replicas, tau, rate_scale=10, tau_r=1, fi_curve=None, r_init=0.1, n_out=0, **kwds)

    ``replicas`` independent populations of ``N`` Poisson neurons whose
    rates ``r`` are their exponentially filtered spike trains.

    One step of the clock, in this order (all in the ``groups`` slot at the
    group's ``order``: the state update, then the threshold, then the reset,
    so that everything running later in the step reads the rates with this
    step's spikes):

    1. ``r`` decays by ``dt/tau_r`` (Euler), the input of the step
       ``h = I_rec + I_in + b`` is kept and ``I_rec`` is consumed (set to 0,
       as in `RecurrentPopulation`: the recurrent synapses add up the next
       step's input into it);
    2. a neuron spikes with probability ``rho*dt``,
       ``rho = rate_scale*f(h)/tau`` (one ``rand()`` per neuron; at most one
       spike per step, so ``f(h)`` saturates at ``1/(rate_scale*dt)`` in
       time units);
    3. each spike adds ``tau/(rate_scale*tau_r)`` to its neuron's ``r``.

    Parameters
    ----------
    N : int
        Neurons per replica (``>= 1``).
    replicas : int
        Independent copies (``>= 1``); neuron ``i`` of replica ``q`` has
        index ``q*N + i`` and ``replica == q``.
    tau : `Quantity`
        The time unit (second).
    rate_scale : float
        Spikes per time unit at ``r = 1`` (``> 0``), ``(shared, constant)``.
    tau_r : `Quantity`
        Time constant of the filter (second), ``(shared, constant)``.
    fi_curve : `FICurve`, optional
        Default `Softplus()`; it must give ``f`` as a Brian2 expression
        (:attr:`~brian_effplast.blocks.nonlinearity.FICurve.f_expr`).
    r_init : float
        Initial filtered rate.
    n_out : int
        Decoder rows declared up front (``D_0 ... D_{n_out-1}``), as in
        `RecurrentPopulation`.
    kwds
        Passed to `NeuronGroup` (``clock``, ``order``, ``name``...).

    Notes
    -----
    Variables: ``r`` (the filtered spike train), ``rho`` (the firing rate,
    hertz, a subexpression of ``h``), ``h``, ``I_rec``, ``I_in``, ``b``,
    ``rate_scale``, ``tau_r``, ``replica`` and ``D_0 ... D_{n_out-1}``. The
    spikes are ordinary Brian2 spikes: record them with a `SpikeMonitor`.
    The randomness is Brian2's ``rand()``, seeded by ``brian2.seed``.

    Examples
    --------
    >>> pop = PoissonPopulation(40, 1, tau=100*ms, rate_scale=10, tau_r=100*ms)  # doctest: +SKIP
    >>> spikes = SpikeMonitor(pop)  # doctest: +SKIP
    """

    @check_units(tau=second, tau_r=second)
    def __init__(self, N, replicas, tau, rate_scale=10.0, tau_r=None, fi_curve=None, r_init=0.1, n_out=0,
                 name="population*", **kwds):
        N, replicas = check_sizes(N, replicas)
        if not (np.isfinite(rate_scale) and rate_scale > 0):
            raise ValueError(f"rate_scale = {rate_scale!r} is not allowed: must be a finite number > 0")
        tau_r = tau if tau_r is None else tau_r
        if not float(tau_r) > 0:
            raise ValueError(f"tau_r = {tau_r!r} is not allowed: must be > 0 second")
        fi_curve = Softplus() if fi_curve is None else fi_curve
        if fi_curve.f_expr is None:
            raise ValueError(f"{type(fi_curve).__name__} has no f_expr: spiking neurons fire at f(h) and need f "
                             f"as a Brian2 expression in x (FICurve.f_expr)")
        namespace = dict(kwds.pop("namespace", {}))
        namespace.update(fi_curve.namespace, tau=tau, fi_log1p=log1p_function())
        rate = word_substitute(fi_curve.f_expr, {"x": "h"})
        eqs = f"""
        dr/dt = -r/tau_r : 1
        rho = rate_scale*({rate})/tau : hertz
        I_rec : 1
        I_in : 1
        b : 1
        h : 1
        rate_scale : 1 (shared, constant)
        tau_r : second (shared, constant)
        replica : integer (constant)
        """
        eqs += "".join(f"D_{k} : 1\n" for k in range(n_out))
        # the decay, then the input of the step kept as h and I_rec consumed, in one state update
        super().__init__(N * replicas, eqs, threshold="rand() < rho*dt", reset="r += tau/(rate_scale*tau_r)",
                         method=ProjectedEuler("h = I_rec + I_in + b\nI_rec = 0"),
                         namespace=namespace, name=name, **kwds)
        # Threshold and reset run right after the state update, in the same slot: the readout and
        # the rules later in the step must see this step's spikes (their default slots come after
        # 'groups'). Orders between this group's and the next integer keep them in that sequence
        # (within one order Brian2 sorts by name, which would put the reset first).
        for step, updater in enumerate((self.thresholder["spike"], self.resetter["spike"]), start=1):
            updater.when, updater.order = "groups", self.order + step / 3
        attach(self, N_per_replica=N, replicas=replicas, n_out=int(n_out), fi_curve=fi_curve)
        self.rate_scale = rate_scale
        self.tau_r = tau_r
        self.r = r_init
        self.replica = np.repeat(np.arange(replicas), N)
