"""Small helpers shared by the Brian2 building blocks."""

import numpy as np
from brian2 import NeuronGroup, Synapses, TimedArray
from brian2.stateupdaters.base import StateUpdateMethod
from brian2.units.fundamentalunits import Quantity, fail_for_dimension_mismatch, get_unit
from brian2.stateupdaters.explicit import euler


def attach(group, **attributes):
    """Set plain Python attributes on a Brian2 group (which refuses unknown names)."""
    for name, value in attributes.items():
        if name not in group.__dict__ and hasattr(group, "add_attribute"):
            group.add_attribute(name)
        setattr(group, name, value)


def scalar_quantity(value, dim, what, owner, positive=False):
    """A scalar with the dimensions ``dim`` (0 is accepted for any rate), as a `Quantity`."""
    if np.ndim(value) != 0:
        raise ValueError(f"{owner}: {what} = {value!r} is not allowed: must be one number")
    if not (isinstance(value, (int, float)) and value == 0 and not positive):
        fail_for_dimension_mismatch(value, Quantity(1, dim=dim), f"{owner}: {what} = {{value}} must have "
                                    f"units of {get_unit(dim)!r}", value=value)
    x = float(value)
    if not np.isfinite(x) or x < 0 or (positive and x == 0):
        raise ValueError(f"{owner}: {what} = {value!r} is not allowed: must be a finite number "
                         + ("> 0" if positive else ">= 0"))
    return Quantity(x, dim=dim)


def check_sizes(N, replicas):
    """``(N, replicas)`` as integers, each checked to be ``>= 1`` (a population's sizes)."""
    for name, value in (("N", N), ("replicas", replicas)):
        if isinstance(value, bool) or int(value) != value or value < 1:
            raise ValueError(f"{name} = {value!r} is not allowed: must be an integer >= 1")
    return int(N), int(replicas)


def noise_array(noise, n, clock, what, name="_timedarray*"):
    """A `TimedArray` of standard normals, shape (steps, n), on ``clock``."""
    noise = np.asarray(noise, dtype=float)
    if noise.ndim != 2 or noise.shape[1] != n:
        raise ValueError(f"{what} has shape {noise.shape}: must be (steps, {n})")
    if not np.all(np.isfinite(noise)):
        raise ValueError(f"{what} contains NaN or infinite values: must be finite")
    if clock is None:
        raise ValueError(f"{what} needs an explicit clock= to fix its time step")
    return TimedArray(noise, dt=clock.dt, name=name)


def connect_once(synapses, *args, **kwds):
    """`Synapses.connect` run as Brian2 runs other one-off code (indexing, string
    assignments): on ``codegen.string_expression_target`` (numpy by default) under
    a runtime device, so that creating synapses compiles no Cython module (one,
    of 5-15 s, per synapse object on a first run); the compiled target under a
    standalone device. A ``codeobj_class`` given to the synapses is kept."""
    from brian2.devices.device import get_device
    given = synapses.codeobj_class
    if given is None:
        synapses.codeobj_class = get_device().code_object_class(fallback_pref="codegen.string_expression_target")
    try:
        return Synapses.connect(synapses, *args, **kwds)
    finally:
        synapses.codeobj_class = given


def drop_idle_state_updater(group):
    """Remove the state updater of a group without differential equations.

    Brian2 schedules one anyway; it does nothing but costs a code-object
    call every step.
    """
    if not group.equations.diff_eq_names:
        group.contained_objects.remove(group.state_updater)


def skip_group_calls(objects):
    """Stop the runtime network from calling the groups themselves every step.

    A runtime ``Network`` calls every active object each step; a group's own
    call does nothing (its work is done by the state updaters and other code
    objects it contains, which stay active) yet costs about 0.3 us per group
    in Python. Deactivating a group also skips its pre-run unit check of the
    equations, so this is for groups built and checked by this package.
    """
    for obj in objects:
        if isinstance(obj, (NeuronGroup, Synapses)):
            obj.active = False  # (also deactivates the contained objects...)
            for contained in obj.contained_objects:
                contained.active = True  # (...which do the work)
            skip_group_calls(obj.contained_objects)


class ProjectedEuler(StateUpdateMethod):
    """Euler-Maruyama followed, in the same code object, by ``statements``.

    The statements project the new state back onto its domain (the rates'
    clip to ``[r_min, r_max]``, the angle's wrap to ``[-pi, pi)``): part of
    the step, so they belong in the state update rather than in a separate
    ``run_regularly`` called every step.
    """

    def __init__(self, statements):
        self.statements = statements

    def can_integrate(self, equations, variables, method_options=None):
        return euler.can_integrate(equations, variables, method_options)

    def __call__(self, equations, variables=None, method_options=None):
        return euler(equations, variables, method_options) + "\n" + self.statements


# -- checked references to the variables of a user's groups ------------------------

def _label(group):
    # (group.__class__, not type(group): a variable view's group is a weakref proxy)
    return f"{group.__class__.__name__} {getattr(group, 'name', '?')!r}"


def attached_clock(group, kwds, owner):
    """Take ``dt=`` and ``clock=`` out of ``kwds``: the clock of a block attached
    to ``group``, as `PoissonInput` does it: ``group``'s clock unless ``clock=``
    (a `Clock`) or ``dt=`` (a new `Clock` of that step) says otherwise."""
    from brian2 import Clock
    dt, clock = kwds.pop("dt", None), kwds.pop("clock", None)
    if dt is not None and clock is not None:
        raise ValueError(f"{owner}: give dt= or clock=, not both (dt={dt!r}, clock={clock.name!r})")
    if clock is not None:
        return clock
    if dt is not None:
        return Clock(dt=dt)
    return group.clock


def public_variables(group):
    """Names of a group's variables a user can refer to (sorted)."""
    return sorted(k for k in group.variables if not k.startswith("_") and k not in ("N", "t", "dt", "t_in_timesteps",
                                                                                     "i", "j", "lastupdate"))


def group_expression(group, expr, suffix, what, owner):
    """``expr`` (an expression of ``group``'s variables) with ``suffix``
    appended to every variable of ``group``, after checking that every name
    it uses exists and that it is dimensionless.

    ``what`` names the argument (``"pre"``...), ``owner`` the object being
    built: both appear in the error messages.
    """
    from brian2.core.functions import DEFAULT_FUNCTIONS
    from brian2.core.namespace import DEFAULT_CONSTANTS, DEFAULT_UNITS
    from brian2.parsing.expressions import parse_expression_dimensions
    from brian2.units.fundamentalunits import DIMENSIONLESS, get_unit
    from brian2.utils.stringtools import get_identifiers, word_substitute

    if not isinstance(expr, str) or not expr.strip():
        raise TypeError(f"{owner}: {what} = {expr!r} is not allowed: must be a variable name or an expression "
                        f"of the variables of {_label(group)}")
    names = get_identifiers(expr)
    known = set(group.variables)
    for name in sorted(names):
        if name in known and not name.startswith("_"):
            continue
        if name in DEFAULT_FUNCTIONS or name in DEFAULT_CONSTANTS or name in DEFAULT_UNITS:
            continue
        if name in getattr(group, "namespace", {}):
            raise ValueError(f"{owner}: {what} = {expr!r} uses {name!r}, a constant of {_label(group)}'s "
                             f"namespace: write its value into the expression (only variables and Brian2's "
                             f"functions and units can be used)")
        raise ValueError(f"{owner}: {what} = {expr!r} uses {name!r}, which is not a variable of {_label(group)} "
                         f"(its variables: {', '.join(public_variables(group))})")
    try:
        dims = parse_expression_dimensions(expr, group.resolve_all(names, run_namespace={}))
    except Exception as exc:  # a dimension mismatch inside the expression
        raise ValueError(f"{owner}: {what} = {expr!r} is not a valid expression of {_label(group)}'s "
                         f"variables: {exc}") from None
    if dims is not DIMENSIONLESS:
        raise ValueError(f"{owner}: {what} = {expr!r} has units of {get_unit(dims)!r} in {_label(group)}: the "
                         f"rule needs a dimensionless activity (divide by a unit, e.g. '({expr})/{get_unit(dims)!r}')")
    mine = {n: n + suffix for n in names if n in known and not n.startswith("_")}
    return word_substitute(expr, mine)


def check_variable(group, name, what, owner, dimensionless=True, integer=False):
    """The variable ``name`` of ``group`` (a `Variable`), or a clear error."""
    from brian2 import Group
    from brian2.units.fundamentalunits import DIMENSIONLESS, get_unit

    if not isinstance(group, Group):
        raise TypeError(f"{owner}: {what} must be a Brian2 group (NeuronGroup, Synapses...), not {group!r}")
    if not isinstance(name, str) or name not in group.variables or name.startswith("_"):
        raise ValueError(f"{owner}: {what} {name!r} is not a variable of {_label(group)} "
                         f"(its variables: {', '.join(public_variables(group))})")
    var = group.variables[name]
    if integer and not np.issubdtype(var.dtype, np.integer):
        raise TypeError(f"{owner}: {what} {name!r} of {_label(group)} must be an integer variable "
                        f"(declare it as '{name} : integer'), it is {var.dtype}")
    if dimensionless and not integer and var.dim is not DIMENSIONLESS:
        raise ValueError(f"{owner}: {what} {name!r} of {_label(group)} has units of {get_unit(var.dim)!r}: "
                         "it must be dimensionless")
    return var


def known_values(group, name):
    """The current values of a variable, or ``None`` where they cannot be read
    before a run (``cpp_standalone``)."""
    from brian2.devices.device import RuntimeDevice
    var = group.variables[name]
    if not isinstance(getattr(var, "device", None), RuntimeDevice):
        return None
    return np.asarray(var.get_value())


def resolve_reward(reward, owner, what="reward"):
    """``(group, variable name)`` from ``(group, "name")`` or a group's variable view."""
    from brian2.core.variables import VariableView
    if isinstance(reward, VariableView):
        return reward.group, reward.name
    if isinstance(reward, tuple) and len(reward) == 2:
        return reward
    raise TypeError(f"{owner}: {what} = {reward!r} is not allowed: give (group, 'variable'), "
                    f"e.g. (readout, 'alpha'), or the variable itself, e.g. readout.alpha")


def reward_link(group, name, target, index, owner, what="reward"):
    """Check a reward-like variable read by the elements of ``target``.

    ``index`` (a name) is an integer variable of ``target`` holding, for each
    element, the element of ``group`` to read; ``None`` for one shared value
    (a ``(shared)`` variable or a group of size 1). Returns the Brian2 index
    ("0" for a shared value, else ``index``) for ``add_reference``.
    """
    var = check_variable(group, name, f"{what} variable", owner)
    size = 1 if var.scalar else len(group)
    if index is None:
        if size != 1:
            raise ValueError(f"{owner}: {what} {name!r} of {_label(group)} has {size} elements: give "
                             f"{what}_index='...' naming an integer variable of {_label(target)} that picks each "
                             f"element's value (e.g. its replica), or use a group of size 1 or a (shared) "
                             f"variable for one value shared by all")
        return "0"
    check_variable(target, index, f"{what}_index", owner, integer=True)
    if size == 1:
        return "0"
    values = known_values(target, index)
    if values is not None and values.size:
        lo, hi = int(values.min()), int(values.max())
        if lo < 0 or hi != size - 1:
            raise ValueError(f"{owner}: {what} group {_label(group)} has {size} elements, but {what}_index "
                             f"{index!r} of {_label(target)} takes values {lo}..{hi}: the group must have one "
                             f"element per index value (0..{hi})")
    return index


def add_state(group, name, shared=False, constant=False, dimensions=None, owner="", values=None):
    """Add a variable to an existing group (unless it has it, with the same units)."""
    from brian2.units.fundamentalunits import DIMENSIONLESS, get_unit
    dims = DIMENSIONLESS if dimensions is None else dimensions
    if name in group.variables:
        var = group.variables[name]
        if var.dim is not dims:
            raise ValueError(f"{owner}: {_label(group)} already has a variable {name!r} with units of "
                             f"{get_unit(var.dim)!r}; the rule needs it with units of {get_unit(dims)!r}")
        return False
    group.variables.add_array(name, size=1 if shared else len(group), dimensions=dims, constant=constant,
                              scalar=shared)
    if values is not None:
        setattr(group, name + "_", values)
    return True


def add_link(group, name, source, source_name, index, owner):
    """Make ``group.name`` refer to ``source.source_name`` (index: see :func:`reward_link`)."""
    if name in group.variables:
        raise ValueError(f"{owner}: {_label(group)} already has a variable {name!r}: the rule links its own "
                         f"{name!r} to {_label(source)}.{source_name}; rename yours")
    group.variables.add_reference(name, source, source_name, index=index)
