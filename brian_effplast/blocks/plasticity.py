"""Reward-gated (three-factor) plasticity of Eq. 10 and its siblings, as Brian2 building blocks.

The blocks work on any Brian2 groups: the activities they multiply are
expressions of the user's variables, the reward is any dimensionless
variable of any group (one value per element of the learning group through
an index variable, or one shared value), and the averaging time constant
and learning rate carry units: every step the rule uses its own clock's
``dt``, so changing ``dt`` leaves the rule per unit time unchanged. A block
runs on the clock of the group it attaches to (the synapses' target, the
learning group), as Brian2's ``PoissonInput`` does; ``clock=`` or ``dt=``
overrides it.

Per step of ``dt``, with ``g = learn * eta * dt`` (``eta`` in ``1/second``)
and ``k = dt / tau_bar``:

- :class:`ThreeFactorSynapses` (any ``Synapses`` the user connects):
  ``x = post * pre``, ``x_bar += k*(x - x_bar)``,
  ``w += g*(alpha*(x - x_bar) - lam*w)``; optionally also the current
  ``I_post = sum w * pre`` (a summed variable, or ``accumulate=True``:
  added up by the rule itself right after the update, one pass instead of
  two).
- :class:`ReinforceSynapses`, its REINFORCE sibling (the paper's
  comparison): an eligibility trace ``e += k_e*(x - e)`` with
  ``k_e = dt/tau_e`` and ``w += g*(alpha*e - lam*w)``, where ``post`` is the
  postsynaptic factor ``f'(h)*(r - r_bar)`` (computed once per neuron by
  :class:`NeuronRules`), so ``x = f'(h_i)*(r_i - r_bar_i)*pre_j``.
- :class:`NeuronRules` on a ``NeuronGroup``: the bias, the same with
  ``x = r`` (``rule="eq10"``) or ``x = f'(h)*(r - r_bar)`` and a trace
  (``rule="reinforce"``), and a :class:`Decoder`'s weights
  ``D_k += g*(delta_k*r - lam*D_k)`` (each neuron holds its column of
  ``D``; one pass over the group for all).
- :class:`Decoder` (group to readout): ``y_k = sum D_k r`` (summed).

The paper's convention ``dp = dt*100*eta*update`` per step, ``dt`` in time
units of ``tau``, is ``eta = 100*eta_paper/tau`` here (:func:`paper_rate`).
``eta``, ``lam``, ``tau_bar`` and ``tau_e`` are ``(shared, constant)`` variables of
the block: change them between runs (or with ``run_args``) without
rebuilding.

The gate ``learn`` (optional: any dimensionless variable, 0 or 1) and the
reward are linked into synapses as ``learn_syn`` and ``alpha_syn`` (Brian2
refuses synaptic names that clash with the groups').
"""

import numpy as np
from brian2 import CodeRunner, NeuronGroup, Synapses, linked_var, second
from brian2.units.fundamentalunits import DIMENSIONLESS

from .dense import SynapseRule
from ._groups import (add_link, add_state, attach, attached_clock, check_variable, connect_once,
                      drop_idle_state_updater, group_expression, resolve_reward, reward_link, scalar_quantity)

__all__ = ["ThreeFactorSynapses", "ReinforceSynapses", "NeuronRules", "Decoder", "RATE_SCALE", "replica_pairs",
           "paper_rate"]

#: The reference code moves each parameter by ``dt * RATE_SCALE * eta * update`` (``dt`` in time units).
RATE_SCALE = 100.0


def paper_rate(eta, tau):
    """The learning rate per unit time (``1/second``) of the paper's ``eta``:
    ``RATE_SCALE * eta / tau``, so that a step of ``dt`` moves a parameter by
    ``dt/tau * 100 * eta * update``, the reference code's step."""
    return RATE_SCALE * eta / tau


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
    ThreeFactorSynapses(source, target, pre, post, reward, eta, tau_bar, lam=0, weight="w", reward_index=None, gate=None, current=None, accumulate=False, connect=None, **kwds)

    Plastic synapses from ``source`` to ``target`` learning with the
    reward-gated Hebbian rule of Eq. 10: per step of ``dt``,
    ``x = post*pre``, ``x_bar += dt/tau_bar*(x - x_bar)`` and
    ``w += gate*eta*dt*(alpha*(x - x_bar) - lam*w)``.

    Construction does not connect (unless ``connect=`` says how): call
    :meth:`connect` as on any `Synapses`, any number of times, with any
    pattern (``p=0.2``, conditions, arrays...).

    Parameters
    ----------
    source, target : `NeuronGroup`
        Presynaptic and postsynaptic groups.
    pre, post : str
        Presynaptic and postsynaptic activity: a variable name or any
        dimensionless expression of the group's variables (e.g. ``"r"``,
        ``"clip(v/mV, 0, inf)"``).
    reward : (group, str) or variable view
        The third factor ``alpha``: a dimensionless variable of any group,
        e.g. ``(readout, "alpha")`` or ``readout.alpha``.
    eta : `Quantity`
        Learning rate per unit time (``1/second``; :func:`paper_rate` gives it
        for the paper's ``eta``).
    tau_bar : `Quantity`
        Time constant of the coactivity average ``x_bar`` (second).
    lam : float
        L2 constant of this pathway.
    weight : str
        Name of the weight (``"w"``); its average is ``<weight>_bar``, the
        rate, L2 constant and time constant ``eta_<weight>``, ``lam_<weight>``
        and ``tau_bar_<weight>``.
    reward_index : str, optional
        An integer variable of ``target`` holding, for each postsynaptic
        neuron, the element of the reward group to read (e.g. its replica).
        ``None``: one reward for all (a group of size 1 or a ``(shared)``
        variable).
    gate : (group, str), optional
        A dimensionless variable (0 or 1) that switches learning on and off.
    current : str, optional
        A dimensionless variable of ``target`` receiving ``sum w * pre``
        (a summed variable); ``None``: the synapses only learn.
    accumulate : bool
        Instead of a summed variable (a second pass over the synapses),
        the rule adds ``w * pre`` to ``current`` right after updating the
        weight: exact when ``pre`` is final at that point, one pass per
        step instead of two. The target must consume and reset ``current``
        in its own update (`RecurrentPopulation` does).
    connect : bool, str or dict, optional
        Connect right away: ``True`` (all to all), a condition string, or
        the keyword arguments of :meth:`connect`.
    kwds
        Passed to `Synapses` (``order``, ``name``...). The synapses and their
        rule run on the clock of ``target`` (as Brian2's `PoissonInput`
        does), unless ``clock=`` or ``dt=`` gives another.

    Raises
    ------
    ValueError, TypeError, DimensionMismatchError
        At construction, naming the argument, variable and group: a name
        that is not a variable of its group, a dimensioned activity or
        reward, a reward group whose size does not match ``reward_index``,
        a ``tau_bar`` or ``eta`` without the right units.

    Examples
    --------
    >>> syn = ThreeFactorSynapses(G, G, pre="r", post="r", reward=(critic, "alpha"),  # doctest: +SKIP
    ...                           eta=0.05/second, tau_bar=50*ms, lam=1e-3, current="I_syn")
    >>> syn.connect(p=0.2)  # doctest: +SKIP
    """

    #: Suffix of the per-synapse state (``<weight>_bar``), the name of its time constant
    #: (``tau_bar_<weight>``) and the key of its factor in :meth:`step_factors`.
    _state, _tau, _factor = "bar", "tau_bar", "k_bar"

    def __init__(self, source, target, pre, post, reward, eta, tau_bar, lam=0.0, weight="w", reward_index=None,
                 gate=None, current=None, accumulate=False, connect=None, name="three_factor*", **kwds):
        self._setup(source, target, pre, post, reward, eta, tau_bar, lam, weight, reward_index, gate, current,
                    accumulate, connect, name, kwds)

    def _rule_code(self, x, g):
        """The rule's statements per step, for the product ``x = post*pre`` and the gain ``g``:
        ``(state, update)``, the average (run whether or not the weights learn) and the weight's update."""
        w = self.weight
        return (f"coactivity = {x}\n{w}_bar += dt/tau_bar_{w}*(coactivity - {w}_bar)\n",
                f"{w} += {g}*(alpha_syn*(coactivity - {w}_bar) - lam_{w}*{w})\n")

    def _setup(self, source, target, pre, post, reward, eta, tau, lam, weight, reward_index, gate, current,
               accumulate, connect, name, kwds):
        owner = f"{type(self).__name__} {name.rstrip('*')!r}"
        kwds["clock"] = attached_clock(target, kwds, owner)
        for what, group in (("source", source), ("target", target)):
            if not isinstance(group, NeuronGroup):  # (a Subgroup is a NeuronGroup's view: allowed too)
                from brian2 import Subgroup
                if not isinstance(group, Subgroup):
                    raise TypeError(f"{owner}: {what} must be a NeuronGroup, not {group!r}")
        if not (isinstance(weight, str) and weight.isidentifier()):
            raise ValueError(f"{owner}: weight = {weight!r} is not allowed: must be a variable name")
        pre_code = group_expression(source, pre, "_pre", "pre", owner)
        post_code = group_expression(target, post, "_post", "post", owner)
        eta = scalar_quantity(eta, (1 / second).dim, "eta", owner)
        tau = scalar_quantity(tau, second.dim, self._tau, owner, positive=True)
        lam = scalar_quantity(lam, DIMENSIONLESS, "lam", owner)
        reward_group, reward_name = resolve_reward(reward, owner)
        index = reward_link(reward_group, reward_name, target, reward_index, owner)
        if gate is not None:
            gate_group, gate_name = resolve_reward(gate, owner, "gate")
            check_variable(gate_group, gate_name, "gate variable", owner)
            gate_index = reward_link(gate_group, gate_name, target, reward_index, owner, "gate")
        if current is not None:
            check_variable(target, current, "current", owner)
        elif accumulate:
            raise ValueError(f"{owner}: accumulate=True needs current= (the variable of the target it adds to)")
        w = weight
        eqs = f"""
        {w} : 1
        {w}_{self._state} : 1
        eta_{w} : hertz (shared, constant)
        lam_{w} : 1 (shared, constant)
        {self._tau}_{w} : second (shared, constant)
        alpha_syn : 1 (linked)
        """
        if gate is not None:
            eqs += "learn_syn : 1 (linked)\n"
        if index != "0":
            eqs += "replica_syn : integer (constant)\n"
        if current is not None and not accumulate:
            eqs += f"{current}_post = {w}*{pre_code} : 1 (summed)\n"
        super().__init__(source, target, eqs, name=name, **kwds)
        attach(self, weight=w, reward_index=reward_index, pre_code=pre_code, post_code=post_code)
        self.alpha_syn = linked_var(reward_group, reward_name, index=None if index == "0" else "replica_syn")
        if gate is not None:
            self.learn_syn = linked_var(gate_group, gate_name, index=None if gate_index == "0" else "replica_syn")
        # (Brian2 refuses writes to synaptic variables before connect(): set at the first one)
        attach(self, _initial={f"eta_{w}": eta, f"lam_{w}": lam, f"{self._tau}_{w}": tau})
        g = ("learn_syn*" if gate is not None else "") + f"eta_{w}*dt"
        state, update = self._rule_code(f"{post_code}*{pre_code}", g)
        current_code = f"{current}_post += {w}*{pre_code}" if accumulate else ""
        # with learning off (set_learning) the weights' update is not run at all: rule_off steps the
        # averages (or traces) alone, with the same statements, so they go on as before; without
        # the averages too, rule_current adds up the current alone
        rules = {key: SynapseRule(self, code, when="groups", order=self.order, clock=self._clock,
                                  name=f"{self.name}_{key}")
                 for key, code in (("rule", state + update + current_code), ("rule_off", state + current_code),
                                   ("rule_current", current_code)) if code}
        for key, rule in rules.items():
            rule.active = key == "rule"
        self.contained_objects.extend(rules.values())
        attach(self, **{"rule_current": None, **rules}, _rules=list(rules.values()), _connected=False)
        if connect is not None and connect is not False:
            if connect is True:
                self.connect()
            elif isinstance(connect, str):
                self.connect(connect)
            elif isinstance(connect, dict):
                self.connect(**connect)
            else:
                raise TypeError(f"{owner}: connect = {connect!r} is not allowed: True, a condition string "
                                f"or a dict of connect() arguments")

    def connect(self, *args, **kwds):
        """`Synapses.connect`, then each new synapse reads the reward of its
        postsynaptic neuron's ``reward_index`` (when there is one).

        On a runtime target the synapses are created as Brian2 runs its other
        one-off code (``codegen.string_expression_target``, numpy by default),
        so ``cython`` compiles no module for it and connects as ``numpy`` does."""
        connect_once(self, *args, **kwds)
        # (connect_replicas sets the layout again if these are the only synapses)
        for rule in self._rules:
            rule.layout = None
        self._connected = True
        if self._initial:
            for key, value in self._initial.items():
                setattr(self, key, value)
            self._initial = None
        if self.reward_index is not None and "replica_syn" in self.variables:
            self.replica_syn = f"{self.reward_index}_post"

    def connect_replicas(self, replicas):
        """All to all within each of ``replicas`` equal blocks of the source
        and target (the paper's layout; synapse order: replica, presynaptic,
        postsynaptic unit, see :func:`replica_pairs`).

        As the only synapses of this object, they are stepped without index
        arrays on ``cpp_standalone`` (:class:`~brian_effplast.blocks.dense.SynapseRule`);
        so is the reward's index when ``reward_index`` is ``"replica"`` of a
        population of ``replicas`` replicas (`RecurrentPopulation`,
        `PoissonPopulation`: neuron ``i`` of replica ``q`` is ``q*N + i``)."""
        n_pre, n_post = len(self.source) // replicas, len(self.target) // replicas
        pre, post = replica_pairs(n_pre, n_post, replicas)
        fresh = not self._connected
        self.connect(i=pre, j=post)
        if fresh and n_pre * replicas == len(self.source) and n_post * replicas == len(self.target):
            blocked = self.reward_index == "replica" and getattr(self.target, "replicas", None) == replicas
            for rule in self._rules:
                rule.layout = (replicas, n_pre, n_post)
                rule.indices = {"replica_syn"} if blocked and "replica_syn" in self.variables else set()

    def set_learning(self, on, averages=True):
        """Learning on (default) or off for the following runs. Off, the weights' update is
        not run at all (rather than gated to zero), while the averages (`ReinforceSynapses`:
        the traces) and the current go on with the same statements: the state is the same as
        with the gate at 0, for less work per step. Off with ``averages=False``, the averages
        are not stepped either (they keep their values) and only the current is computed: with
        learning off nothing reads them, so the current is the same. On ``cpp_standalone`` set
        it before the network is built: the generated loop holds only the active rule."""
        on = bool(on)
        if on and not averages:
            raise ValueError("set_learning(True, averages=False) is not allowed: learning reads the averages")
        self.rule.active, self.rule_off.active = on, not on and bool(averages)
        if self.rule_current is not None:
            self.rule_current.active = not on and not averages

    def step_factors(self):
        """``{"k_bar": dt/tau_bar, "g": eta*dt}`` (`ReinforceSynapses`: ``"k_e": dt/tau_e``):
        what one step of this object's clock does (``g`` before the gate)."""
        w, dt = self.weight, float(self.clock.dt)
        if self._initial:  # not connected yet: the values given to the constructor
            tau, eta = (float(self._initial[f"{v}_{w}"]) for v in (self._tau, "eta"))
        else:
            tau, eta = (float(self.variables[f"{v}_{w}"].get_value()[0]) for v in (self._tau, "eta"))
        return {self._factor: dt / tau, "g": eta * dt}


class ReinforceSynapses(ThreeFactorSynapses):
    """
    ReinforceSynapses(source, target, pre, post, reward, eta, tau_e, lam=0, weight="w", reward_index=None, gate=None, current=None, accumulate=False, connect=None, **kwds)

    Plastic synapses learning with REINFORCE, the rule the paper compares
    Eq. 10 with: per step of ``dt``, an eligibility trace
    ``e += dt/tau_e*(post*pre - e)`` and
    ``w += gate*eta*dt*(alpha*e - lam*w)``.

    For REINFORCE proper, ``post`` is ``f'(h)*(r - r_bar)``: the slope of
    the F-I curve at the neuron's input times the rate's deviation from its
    running mean. `NeuronRules` with ``rule="reinforce"`` computes it once
    per neuron per step as the variable ``r_dev`` of the target; it must run
    before these synapses in the step (a lower ``order`` in the same
    ``when`` slot), so that the trace uses this step's factor. Any other
    dimensionless expression of the target's variables works too.

    Parameters
    ----------
    source, target, pre, post, reward, eta, lam, reward_index, gate, current, accumulate, connect, kwds
        As for `ThreeFactorSynapses`.
    tau_e : `Quantity`
        Time constant of the eligibility trace (second).
    weight : str
        Name of the weight (``"w"``); its trace is ``<weight>_e``, its rate,
        L2 constant and time constant ``eta_<weight>``, ``lam_<weight>``
        and ``tau_e_<weight>``.

    Raises
    ------
    ValueError, TypeError, DimensionMismatchError
        As `ThreeFactorSynapses` (``tau_e`` instead of ``tau_bar``).

    Examples
    --------
    With ``G`` a `RecurrentPopulation` (its ``fprime_h`` is ``f'(h)``):

    >>> rules = NeuronRules(G, reward=(critic, "alpha"), tau_bar=50*ms, rule="reinforce",  # doctest: +SKIP
    ...                     gain="fprime_h", tau_e=50*ms, bias="b", eta_bias=0.05/second, order=0)
    >>> syn = ReinforceSynapses(G, G, pre="r", post="r_dev", reward=(critic, "alpha"),  # doctest: +SKIP
    ...                         eta=0.05/second, tau_e=50*ms, lam=1e-3, current="I_syn", order=1)
    >>> syn.connect(p=0.2)  # doctest: +SKIP
    """

    _state, _tau, _factor = "e", "tau_e", "k_e"

    def __init__(self, source, target, pre, post, reward, eta, tau_e, lam=0.0, weight="w", reward_index=None,
                 gate=None, current=None, accumulate=False, connect=None, name="reinforce*", **kwds):
        self._setup(source, target, pre, post, reward, eta, tau_e, lam, weight, reward_index, gate, current,
                    accumulate, connect, name, kwds)

    def _rule_code(self, x, g):
        w = self.weight
        return (f"{w}_e += dt/tau_e_{w}*({x} - {w}_e)\n",
                f"{w} += {g}*(alpha_syn*{w}_e - lam_{w}*{w})\n")


class NeuronRules(CodeRunner):
    """
    NeuronRules(group, reward, tau_bar, activity="r", reward_index=None, gate=None, bias=None, eta_bias=0, lam_bias=0, decoder=None, delta=None, eta_decoder=0, lam_decoder=0, rule="eq10", gain=None, tau_e=None, **kwds)

    The plasticity of per-neuron parameters of any `NeuronGroup`, in one
    pass over it. With ``x = activity`` and ``g = gate*eta*dt``, every step
    updates the average ``x_bar += dt/tau_bar*(x - x_bar)``, then

    - ``rule="eq10"``: the bias ``b += g_b*(alpha*(x - x_bar) - lam_b*b)``;
    - ``rule="reinforce"``: the postsynaptic factor of REINFORCE,
      ``r_dev = gain*(x - x_bar)`` (``gain`` the slope ``f'(h)``), the
      bias' eligibility trace ``b_e += dt/tau_e*(r_dev - b_e)`` and
      ``b += g_b*(alpha*b_e - lam_b*b)``; `ReinforceSynapses` read
      ``r_dev`` (run this object before them);

    and, with either rule, a `Decoder`'s weights
    ``D_k += g_D*(delta_k*x - lam_D*D_k)`` (``delta_k`` computed with ``D``
    before this update). The state it needs is added to ``group``: the
    average ``r_bar``, the links ``alpha``, ``learn``, ``delta_k``, the
    ``(shared, constant)`` ``eta_b``, ``lam_b``, ``eta_D``, ``lam_D``,
    ``tau_bar_r`` and, for REINFORCE, ``r_dev``, ``<bias>_e`` and ``tau_e_b``.

    Parameters
    ----------
    group : `NeuronGroup`
    reward, reward_index, gate
        As for `ThreeFactorSynapses` (``reward_index``: an integer
        variable of ``group``).
    tau_bar : `Quantity`
        Time constant of the average (second).
    activity : str
        Dimensionless expression of ``group``'s variables (default ``"r"``).
    bias : str, optional
        The dimensionless variable of ``group`` learned as the bias.
    eta_bias, lam_bias : `Quantity`, float
        Its rate (``1/second``) and L2 constant.
    decoder : `Decoder`, optional
        Learn this decoder's weights (on ``group``) too, from ``delta``.
    delta : (group, str), optional
        Decoder errors: variables ``<str>_0 ... <str>_{n_out-1}`` of the
        group (indexed as the reward), e.g. ``(readout, "delta")``.
    eta_decoder, lam_decoder : `Quantity`, float
    rule : {"eq10", "reinforce"}
        The bias' rule (the decoder's is the same with both).
    gain : str, optional
        ``rule="reinforce"`` only, and needed there: a dimensionless
        expression of ``group``'s variables, the slope of the F-I curve at
        the neuron's input (`RecurrentPopulation`'s ``"fprime_h"``).
    tau_e : `Quantity`, optional
        ``rule="reinforce"`` with a bias: time constant of its trace (second).
    kwds
        Passed to `CodeRunner` (``order``, ``name``...). The rules run on
        ``group``'s clock unless ``clock=`` or ``dt=`` gives another.

    Raises
    ------
    ValueError, TypeError, DimensionMismatchError
        At construction, naming the argument: an unknown ``rule``, ``gain``
        or ``tau_e`` missing for REINFORCE or given for Eq. 10, nothing to
        learn, and the errors of `ThreeFactorSynapses`.
    """

    def __init__(self, group, reward, tau_bar, activity="r", reward_index=None, gate=None, bias=None,
                 eta_bias=0.0, lam_bias=0.0, decoder=None, delta=None, eta_decoder=0.0, lam_decoder=0.0,
                 rule="eq10", gain=None, tau_e=None, average="r_bar", deviation="r_dev", name=None, **kwds):
        name = name or group.name + "_rules"
        owner = f"NeuronRules {name.rstrip('*')!r}"
        if not isinstance(group, NeuronGroup):
            raise TypeError(f"{owner}: group must be a NeuronGroup, not {group!r}")
        clock = attached_clock(group, kwds, owner)
        if rule not in ("eq10", "reinforce"):
            raise ValueError(f"{owner}: rule = {rule!r} is not allowed: must be 'eq10' or 'reinforce'")
        reinforce = rule == "reinforce"
        x = group_expression(group, activity, "", "activity", owner)
        tau_bar = scalar_quantity(tau_bar, second.dim, "tau_bar", owner, positive=True)
        reward_group, reward_name = resolve_reward(reward, owner)
        index = reward_link(reward_group, reward_name, group, reward_index, owner)
        if not reinforce and (gain is not None or tau_e is not None):
            raise ValueError(f"{owner}: gain= and tau_e= belong to rule='reinforce' (the rule here is 'eq10')")
        if reinforce:
            if gain is None:
                raise ValueError(f"{owner}: rule='reinforce' needs gain=, the slope f'(h) of the F-I curve at the "
                                 f"neuron's input (e.g. 'fprime_h' of a RecurrentPopulation)")
            gain = group_expression(group, gain, "", "gain", owner)
            if bias is not None:
                if tau_e is None:
                    raise ValueError(f"{owner}: rule='reinforce' with bias= needs tau_e=, the time constant of "
                                     f"the bias' eligibility trace")
                tau_e = scalar_quantity(tau_e, second.dim, "tau_e", owner, positive=True)
        elif bias is None and decoder is None:
            raise ValueError(f"{owner}: nothing to learn: give bias= and/or decoder=")
        # every check before the group is changed
        if gate is not None:
            gate_group, gate_name = resolve_reward(gate, owner, "gate")
            gate_index = reward_link(gate_group, gate_name, group, reward_index, owner, "gate")
        if bias is not None:
            check_variable(group, bias, "bias", owner)
            eta_bias = scalar_quantity(eta_bias, (1 / second).dim, "eta_bias", owner)
            lam_bias = scalar_quantity(lam_bias, DIMENSIONLESS, "lam_bias", owner)
        n_out, deltas = 0, []
        if decoder is not None:
            if not isinstance(decoder, Decoder) or decoder.source.name != group.name:
                raise ValueError(f"{owner}: decoder must be a Decoder reading group {group.name!r}")
            if delta is None:
                raise ValueError(f"{owner}: decoder= needs delta=(group, 'delta'): the decoder errors "
                                 f"delta_0 ... delta_{decoder.n_out - 1}")
            delta_group, prefix = resolve_reward(delta, owner, "delta")
            n_out = decoder.n_out
            deltas = [reward_link(delta_group, f"{prefix}_{k}", group, reward_index, owner, "delta")
                      for k in range(n_out)]
            eta_decoder = scalar_quantity(eta_decoder, (1 / second).dim, "eta_decoder", owner)
            lam_decoder = scalar_quantity(lam_decoder, DIMENSIONLESS, "lam_decoder", owner)
        links = ["alpha"] + (["learn"] if gate is not None else []) + [f"delta_{k}" for k in range(n_out)]
        for name_ in links:
            if name_ in group.variables:
                raise ValueError(f"{owner}: NeuronGroup {group.name!r} already has a variable {name_!r}: the rule "
                                 f"links its own {name_!r} (one NeuronRules per group; rename yours)")
        # the state of the rule, added to the group
        add_link(group, "alpha", reward_group, reward_name, index, owner)
        g = ""
        if gate is not None:
            add_link(group, "learn", gate_group, gate_name, gate_index, owner)
            g = "learn*"
        add_state(group, average, owner=owner)
        add_state(group, "tau_bar_r", shared=True, constant=True, dimensions=second.dim, owner=owner)
        group.tau_bar_r = tau_bar
        code = [f"{average} += dt/tau_bar_r*({x} - {average})"]
        if reinforce:
            # REINFORCE's postsynaptic factor, once per neuron (the synapses read it)
            add_state(group, deviation, owner=owner)
            code.append(f"{deviation} = ({gain})*({x} - {average})")
            if bias is not None:
                code.append(f"{bias}_e += dt/tau_e_b*({deviation} - {bias}_e)")
        state = list(code)  # what runs with learning off too (set_learning)
        if bias is not None:
            add_state(group, "eta_b", shared=True, constant=True, dimensions=(1 / second).dim, owner=owner)
            add_state(group, "lam_b", shared=True, constant=True, owner=owner)
            group.eta_b, group.lam_b = eta_bias, lam_bias
            if reinforce:
                add_state(group, f"{bias}_e", owner=owner)
                add_state(group, "tau_e_b", shared=True, constant=True, dimensions=second.dim, owner=owner)
                group.tau_e_b = tau_e
                code.append(f"{bias} += {g}eta_b*dt*(alpha*{bias}_e - lam_b*{bias})")
            else:
                code.append(f"{bias} += {g}eta_b*dt*(alpha*({x} - {average}) - lam_b*{bias})")
        if decoder is not None:
            for k, di in enumerate(deltas):
                add_link(group, f"delta_{k}", delta_group, f"{prefix}_{k}", di, owner)
            add_state(group, "eta_D", shared=True, constant=True, dimensions=(1 / second).dim, owner=owner)
            add_state(group, "lam_D", shared=True, constant=True, owner=owner)
            group.eta_D, group.lam_D = eta_decoder, lam_decoder
            D = decoder.weight
            code += [f"{D}_{k} += {g}eta_D*dt*(delta_{k}*{x} - lam_D*{D}_{k})" for k in range(n_out)]
        super().__init__(group, "stateupdate", code="\n".join(code), when="groups", clock=clock, name=name,
                         **kwds)
        off = CodeRunner(group, "stateupdate", code="\n".join(state), when="groups", clock=clock,
                         order=self.order, name=self.name + "_off")
        off.active = False
        self.contained_objects.append(off)
        attach(self, n_out=n_out, bias=bias, decoder=decoder, rule=rule, rule_off=off)

    def set_learning(self, on, averages=True):
        """Learning on (default) or off for the following runs, as
        `ThreeFactorSynapses.set_learning`: off, the bias' and the decoder's updates are
        not run at all; the average (REINFORCE: also ``r_dev`` and the bias' trace) is
        stepped by ``rule_off`` with the same statements, unless ``averages=False`` (then
        nothing runs)."""
        if on and not averages:
            raise ValueError("set_learning(True, averages=False) is not allowed: learning reads the averages")
        self.active = bool(on)  # (sets its contained rule_off too: hence after)
        self.rule_off.active = not on and bool(averages)


class Decoder(Synapses):
    """
    Decoder(group, n_out, activity="r", weight="D", index=None, replicas=1, readout=None, **kwds)

    The linear readout ``y_k = sum_j D_k,j x_j`` (``x`` = ``activity``) of
    each block of ``group`` (e.g. each replica), for all ``k`` in one summed
    variable (one pass per step, whatever ``n_out``): neuron ``j`` of block
    ``q`` has one synapse per output ``k`` onto element ``q*n_out + k`` of
    the group ``outputs`` (variable ``y``). The weights ``D_0 ...``
    live on ``group`` (each neuron holds its column of ``D``; added when
    missing); `NeuronRules` learns them.

    Parameters
    ----------
    group : `NeuronGroup`
    n_out : int
        Number of readouts.
    activity : str
        Dimensionless expression of ``group``'s variables.
    weight : str
        Prefix of the weights (``D`` -> ``D_0, D_1...``).
    index : str, optional
        Integer variable of ``group`` giving each neuron's block (e.g.
        ``"replica"``); ``None``: one block.
    replicas : int
        Number of blocks.
    readout : `NeuronGroup`, optional
        A group of ``replicas`` elements whose linked ``y_0 ... y_{n_out-1}``
        are set to the readouts (a `TaskReadout`).
    kwds
        Passed to `Synapses` (``order``, ``name``...). The decoder and its
        ``outputs`` group run on ``group``'s clock unless ``clock=`` or
        ``dt=`` gives another.
    """

    def __init__(self, group, n_out, activity="r", weight="D", index=None, replicas=1, readout=None,
                 name="decoder*", **kwds):
        owner = f"Decoder {name.rstrip('*')!r}"
        clock = attached_clock(group, kwds, owner)
        if isinstance(n_out, bool) or int(n_out) != n_out or n_out < 1:
            raise ValueError(f"{owner}: n_out = {n_out!r} is not allowed: must be an integer >= 1")
        n_out, replicas = int(n_out), int(replicas)
        x = group_expression(group, activity, "_pre", "activity", owner)
        if index is None:
            if replicas != 1:
                raise ValueError(f"{owner}: replicas = {replicas} needs index= (an integer variable of "
                                 f"{group.name!r} giving each neuron's replica)")
        else:
            check_variable(group, index, "index", owner, integer=True)
        if readout is not None and len(readout) != replicas:
            raise ValueError(f"{owner}: readout {readout.name!r} has {len(readout)} elements, one per replica "
                             f"is needed ({replicas})")
        for k in range(n_out):
            add_state(group, f"{weight}_{k}", owner=owner)
        outputs = NeuronGroup(replicas * n_out, "y : 1", clock=clock,
                              name=name.rstrip("*") + "_outputs" + ("*" if name.endswith("*") else ""))
        drop_idle_state_updater(outputs)
        w = " + ".join(f"{weight}_{k}_pre*int(k_out == {k})" for k in range(n_out))
        eqs = f"k_out : integer (constant)\ny_post = ({w})*{x} : 1 (summed)"
        super().__init__(group, outputs, eqs, clock=clock, name=name, **kwds)
        block = "0" if index is None else f"{index}_pre"
        connect_once(self, j=f"{block}*{n_out} + k_dec for k_dec in range(0, {n_out})")
        self.k_out = f"j % {n_out}"
        if readout is not None:
            for k in range(n_out):
                setattr(readout, f"y_{k}", linked_var(outputs, "y", index=np.arange(replicas) * n_out + k))
        self.contained_objects.append(outputs)
        attach(self, n_out=n_out, outputs=outputs, weight=weight)
