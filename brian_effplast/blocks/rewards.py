"""Rewards computed in Python, for the runtime targets (``numpy``, ``cython``).

The equation-level rules (:mod:`brian_effplast.blocks.plasticity`) read the reward
(and, for a decoder, its errors) from variables of a Brian2 group. Where
the reward cannot be said in Brian2's code (an environment written in
Python, a lookup table, a simulator of its own), :func:`reward_operation`
computes it in Python every step or every ``every`` steps, as a Brian2
``network_operation``, and writes those variables: the rules then run
unchanged.

Brian2 cannot call Python from the compiled simulation loop of
``cpp_standalone`` (a ``network_operation`` would be silently skipped
there), so this is refused on that target; write the reward as Brian2 code
instead (a ``run_regularly`` on the group holding it, or a
:class:`~brian_effplast.blocks.tasks.Task`'s ``code``).
"""

import numpy as np

__all__ = ["reward_operation", "STANDALONE_REFUSAL", "check_runtime"]

#: Why a reward from Python cannot run in cpp_standalone, and what to do instead.
STANDALONE_REFUSAL = (
    "a reward computed by a Python function cannot run in cpp_standalone: Brian2 cannot call Python from the "
    "compiled simulation loop (a network_operation is skipped there). Use the target 'numpy' or 'cython', or "
    "write the reward as Brian2 code: a run_regularly on the group that holds it (e.g. "
    "critic.run_regularly('alpha = -(y - cue)**2')), or, in a PlasticCircuit, a Task whose `code` sets alpha "
    "and delta_k from theta and y_k (brian_effplast.blocks.tasks)")


def check_runtime(target=None, what="reward"):
    """Raise ``ValueError`` (:data:`STANDALONE_REFUSAL`) for ``cpp_standalone``:
    ``target`` given, or the current Brian2 device when ``None``."""
    if target is None:
        from brian2.devices.device import RuntimeDevice, get_device
        standalone = not isinstance(get_device(), RuntimeDevice)
    else:
        standalone = target == "cpp_standalone"
    if standalone:
        raise ValueError(f"{what}: " + STANDALONE_REFUSAL)


def _view(spec, what):
    from ._groups import check_variable, resolve_reward
    group, name = resolve_reward(spec, "reward_operation", what)
    check_variable(group, name, what, "reward_operation", dimensionless=False)
    var = group.variables[name]
    if group.variables.indices[name] not in ("_idx", "0"):
        raise ValueError(f"reward_operation: {what} {name!r} of {group.name!r} is a linked variable with an index: "
                         f"give the variable it links to")
    return var


def reward_operation(function, reads, writes, every=1, clock=None, when="groups", order=0,
                     name="reward_operation*"):
    """A ``network_operation`` that calls ``function`` and writes what it returns.

    Parameters
    ----------
    function : callable
        ``function(t, **values)`` with ``t`` the time (seconds, a float) and
        ``values`` the current arrays of ``reads`` (by their keys); returns a
        dict ``{key of writes: array}``. It may keep state of its own (an
        object with ``__call__``, a closure).
    reads, writes : dict
        ``{key: (group, "variable")}`` (or a group's variable, ``G.r``).
    every : int
        Call it every ``every`` steps of ``clock`` (the values written are
        held in between).
    clock : `Clock`
        Default: the clock of the first group of ``writes``.
    when, order : str, int
        Its place in the step: after what it reads is computed and before
        the rules read what it writes.

    Raises
    ------
    ValueError
        On ``cpp_standalone`` (:data:`STANDALONE_REFUSAL`), for a variable
        that does not exist, or ``every < 1``.
    """
    from brian2 import NetworkOperation
    check_runtime(what="reward_operation")
    if not callable(function):
        raise TypeError(f"reward_operation: function = {function!r} is not callable")
    if isinstance(every, bool) or int(every) != every or every < 1:
        raise ValueError(f"reward_operation: every = {every!r} is not allowed: must be an integer >= 1")
    if not writes:
        raise ValueError("reward_operation: writes is empty: say which variables the function sets")
    read_vars = {k: _view(v, f"reads[{k!r}]") for k, v in reads.items()}
    write_vars = {k: _view(v, f"writes[{k!r}]") for k, v in writes.items()}
    if clock is None:
        clock = next(iter(write_vars.values())).owner.clock
    timing = dict(clock=clock) if int(every) == 1 else dict(dt=int(every) * clock.dt)

    def operation(t):
        out = function(float(np.asarray(t)), **{k: v.get_value().copy() for k, v in read_vars.items()})
        for key, var in write_vars.items():
            value = np.asarray(out[key], dtype=var.dtype)
            var.set_value(np.broadcast_to(value, (var.size,)) if not var.scalar else value)

    return NetworkOperation(operation, when=when, order=order, name=name, **timing)
