"""Small helpers shared by the Brian2 building blocks."""

import numpy as np
from brian2 import TimedArray


def attach(group, **attributes):
    """Set plain Python attributes on a Brian2 group (which refuses unknown names)."""
    for name, value in attributes.items():
        if name not in group.__dict__:
            group.add_attribute(name)
        setattr(group, name, value)


def noise_array(noise, n, clock, what):
    """A `TimedArray` of standard normals, shape (steps, n), on ``clock``."""
    noise = np.asarray(noise, dtype=float)
    if noise.ndim != 2 or noise.shape[1] != n:
        raise ValueError(f"{what} has shape {noise.shape}: must be (steps, {n})")
    if not np.all(np.isfinite(noise)):
        raise ValueError(f"{what} contains NaN or infinite values: must be finite")
    if clock is None:
        raise ValueError(f"{what} needs an explicit clock= to fix its time step")
    return TimedArray(noise, dt=clock.dt)


def drop_idle_state_updater(group):
    """Remove the state updater of a group without differential equations.

    Brian2 schedules one anyway; it does nothing but costs a code-object
    call every step.
    """
    if not group.equations.diff_eq_names:
        group.contained_objects.remove(group.state_updater)
