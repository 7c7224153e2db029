"""Small helpers shared by the Brian2 building blocks."""

import numpy as np
from brian2 import NeuronGroup, Synapses, TimedArray
from brian2.stateupdaters.base import StateUpdateMethod
from brian2.stateupdaters.explicit import euler


def attach(group, **attributes):
    """Set plain Python attributes on a Brian2 group (which refuses unknown names)."""
    for name, value in attributes.items():
        if name not in group.__dict__:
            group.add_attribute(name)
        setattr(group, name, value)


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
