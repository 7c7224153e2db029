"""Reward-gated (three-factor) plasticity of Eq. 10 and its siblings.

All rules run as Brian2 code every step (``run_regularly``), so they work
in every target, ``cpp_standalone`` included. Per step, with
``g = learn * dt * 100 * eta`` (``dt`` in time units) and the reward
``alpha`` of the synapse's replica:

The gate ``learn`` (0 or 1, the readout's ``plastic`` once ``t >= t_on``)
is linked from the :class:`~brian_effplast.tasks.TaskReadout` (in synapses
as ``learn_syn`` and ``alpha_syn``: Brian2 refuses synaptic names that
clash with the population's).

- :class:`ThreeFactorSynapses` (``W``: population to population, ``C``:
  inputs to population): ``x = r_post * x_pre``,
  ``x_bar += k_bar*(x - x_bar)``, ``w += g*(alpha*(x - x_bar) - lam*w)``;
  the synapses also provide the current ``I_post = sum w * x_pre``: as a
  summed variable, or (``accumulate=True``, for ``W``) added up by the rule
  itself right after the update.
- :class:`NeuronRules` on the population: the bias, the same with ``x = r``,
  and the decoder ``D_k += g*(delta_k*r - lam*D_k)`` (each neuron holds its
  column of ``D``; one pass over the population for both).
- :class:`Decoder` (population to readout): ``y_k = sum D_k r`` (summed).

``eta`` and ``lam`` are ``(shared, constant)`` variables: change them
between runs (or with ``run_args``) without rebuilding.
"""

import numpy as np
from brian2 import CodeRunner, NeuronGroup, Synapses, linked_var

from ._groups import attach, drop_idle_state_updater

__all__ = ["ThreeFactorSynapses", "NeuronRules", "Decoder", "RATE_SCALE", "replica_pairs"]

#: The reference code moves each parameter by ``dt * RATE_SCALE * eta * update``.
RATE_SCALE = 100.0


def replica_pairs(n_pre, n_post, replicas):
    """Presynaptic and postsynaptic indices of all-to-all synapses within each replica.

    Synapse order: replica, then presynaptic, then postsynaptic unit.
    """
    i = np.repeat(np.arange(n_pre), n_post)
    j = np.tile(np.arange(n_post), n_pre)
    pre = np.concatenate([q * n_pre + i for q in range(replicas)])
    post = np.concatenate([q * n_post + j for q in range(replicas)])
    return pre.astype(np.int32), post.astype(np.int32)


class ThreeFactorSynapses(Synapses):
    """
    ThreeFactorSynapses(source, population, readout, weight, current, x, eta, lam, k_bar, dt_tu, accumulate=False, **kwds)

    All-to-all plastic synapses within each replica, from ``source`` (variable
    ``x``) onto the recurrent ``population`` (variable ``r``), gated by the
    reward ``alpha`` of ``readout``.

    Parameters
    ----------
    source, population : `NeuronGroup`
        Both must have an integer ``replica`` variable and equally many replicas.
    readout : `TaskReadout`
        Holds ``alpha`` per replica.
    weight : str
        Name of the weight (``"W"`` or ``"C"``); its average is ``<weight>_bar``.
    current : str
        Postsynaptic variable receiving ``sum weight * x_pre``.
    x : str
        Presynaptic activity (``"r"`` or ``"s"``).
    eta, lam : float
        Learning rate and L2 constant.
    k_bar : float
        Low-pass factor per step.
    dt_tu : float
        Time step in time units.
    accumulate : bool
        Instead of a summed variable (a second pass over the synapses before
        the population's update), the rule adds ``weight * x_pre`` to
        ``current`` right after updating the weight: exact when ``x`` is
        final at that point (``x = r``: the next step's recurrent input is
        ``W(t+dt) r(t+dt)``), one pass over ``W`` per step instead of two. The
        population must consume and reset ``current`` in its update
        (`RecurrentPopulation` does) and ``current`` must hold the input of
        the first step when a run starts.
    """

    def __init__(self, source, population, readout, weight, current, x, eta, lam, k_bar, dt_tu,
                 accumulate=False, name=None, **kwds):
        replicas = len(readout)
        n_pre, n_post = len(source) // replicas, len(population) // replicas
        eqs = f"""
        {weight} : 1
        {weight}_bar : 1
        eta_{weight} : 1 (shared, constant)
        lam_{weight} : 1 (shared, constant)
        learn_syn : 1 (linked)
        alpha_syn : 1 (linked)
        replica_syn : integer (constant)
        """
        if not accumulate:
            eqs += f"{current}_post = {weight}*{x}_pre : 1 (summed)\n"
        namespace = dict(kwds.pop("namespace", {}))
        namespace.update(k_bar=k_bar, rate_dt=RATE_SCALE * dt_tu)
        super().__init__(source, population, eqs, namespace=namespace,
                         name=name or f"{weight}_synapses*", **kwds)
        pre, post = replica_pairs(n_pre, n_post, replicas)
        self.connect(i=pre, j=post)
        self.replica_syn = np.repeat(np.arange(replicas), n_pre * n_post)
        self.alpha_syn = linked_var(readout, "alpha", index="replica_syn")
        self.learn_syn = linked_var(readout, "learn")
        setattr(self, f"eta_{weight}", eta)
        setattr(self, f"lam_{weight}", lam)
        w = weight
        code = f"""
            coactivity = r_post*{x}_pre
            {w}_bar += k_bar*(coactivity - {w}_bar)
            {w} += learn_syn*rate_dt*eta_{w}*(alpha_syn*(coactivity - {w}_bar) - lam_{w}*{w})
            """
        if accumulate:
            code += f"{current}_post += {w}*{x}_pre"
        rule = self.run_regularly(code, when="groups", order=self.order, name=self.name + "_rule")
        self.contained_objects.append(rule)
        attach(self, weight=weight, rule=rule)


class NeuronRules(CodeRunner):
    """
    NeuronRules(population, readout, eta_b, lam_b, eta_D, lam_D, k_bar, dt_tu, **kwds)

    The plasticity of the per-neuron parameters, in one pass over
    ``population``: the bias, ``r_bar += k_bar*(r - r_bar)`` and
    ``b += g_b*(alpha*(r - r_bar) - lam_b*b)``, and each neuron's decoder
    weights ``D_k += g_D*(delta_k*r - lam_D*D_k)`` (``delta_k`` of the
    readout, computed with ``D`` before this update). Create the population
    with ``RecurrentPopulation(..., rules=True, n_out=...)``, which holds the
    state (``r_bar``, ``D_k``, linked ``alpha``, ``learn``, ``delta_k``...).
    """

    def __init__(self, population, readout, eta_b, lam_b, eta_D, lam_D, k_bar, dt_tu, name=None, **kwds):
        n_out = readout.task.n_out
        if getattr(population, "n_out", 0) != n_out:
            raise ValueError(f"population holds {getattr(population, 'n_out', 0)} decoder rows, the task "
                             f"needs n_out = {n_out}: create it with RecurrentPopulation(..., n_out={n_out})")
        population.alpha = linked_var(readout, "alpha", index="replica")
        population.learn = linked_var(readout, "learn")
        for k in range(n_out):
            setattr(population, f"delta_{k}", linked_var(readout, f"delta_{k}", index="replica"))
        population.eta_b, population.lam_b = eta_b, lam_b
        population.eta_D, population.lam_D = eta_D, lam_D
        code = "r_bar += k_bar*(r - r_bar)\nb += learn*rate_dt*eta_b*(alpha*(r - r_bar) - lam_b*b)\n"
        code += "\n".join(f"D_{k} += learn*rate_dt*eta_D*(delta_{k}*r - lam_D*D_{k})" for k in range(n_out))
        population.namespace.update(k_bar=k_bar, rate_dt=RATE_SCALE * dt_tu)
        super().__init__(population, "stateupdate", code=code, when="groups", clock=kwds.pop("clock", population.clock),
                         name=name or population.name + "_rules", **kwds)


class Decoder(Synapses):
    """
    Decoder(population, readout, **kwds)

    The linear readout ``y_k = sum_j D_k,j r_j`` of each replica, for all
    ``k`` in one summed variable (one pass per step, whatever ``n_out``):
    neuron ``j`` of replica ``q`` has one synapse per output ``k`` onto
    element ``q*n_out + k`` of the group :attr:`outputs`, to which the
    readout's ``y_k`` are linked. The weights ``D_k`` are the population's
    (each neuron holds its column of ``D``); `NeuronRules` learns them.
    """

    def __init__(self, population, readout, name="decoder*", **kwds):
        n_out = readout.task.n_out
        replicas = len(readout)
        N = len(population) // replicas
        outputs = NeuronGroup(replicas * n_out, "y : 1", clock=kwds.get("clock"),
                              name=name.rstrip("*") + "_outputs" + ("*" if name.endswith("*") else ""))
        drop_idle_state_updater(outputs)
        weight = " + ".join(f"D_{k}_pre*int(k_out == {k})" for k in range(n_out))
        eqs = f"k_out : integer (constant)\ny_post = ({weight})*r_pre : 1 (summed)"
        super().__init__(population, outputs, eqs, name=name, **kwds)
        k = np.tile(np.arange(n_out), replicas * N)
        pre = np.repeat(np.arange(replicas * N), n_out)
        self.connect(i=pre.astype(np.int32), j=(pre // N * n_out + k).astype(np.int32))
        self.k_out = k
        for k in range(n_out):
            setattr(readout, f"y_{k}", linked_var(outputs, "y", index=np.arange(replicas) * n_out + k))
        self.contained_objects.append(outputs)
        attach(self, n_out=n_out, outputs=outputs)
