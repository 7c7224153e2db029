"""A third task and an F-I curve defined outside the package, named by import
path in a model file (tests/ is on pytest's pythonpath): adding a task is one class."""

import numpy as np

from brian_effplast import FICurve, Softplus, Task


class DoubleAngle(Task):
    """Estimate ``scale * (cos 2 theta, sin 2 theta)``; ``alpha = -||target - y||^2``."""

    n_out = 2
    variables = "target_0 : 1\ntarget_1 : 1"
    code = """
    target_0 = da_scale*cos(2*theta)
    target_1 = da_scale*sin(2*theta)
    delta_0 = target_0 - y_0
    delta_1 = target_1 - y_1
    alpha = -(delta_0**2 + delta_1**2)
    """
    delta_scale = 0.5
    objective_label = "MSE of 2θ"
    objective_name = "mse"
    log_scale_curve = True
    score_name = "mse"
    error_label = "squared error"

    def __init__(self, scale=1.0):
        self.scale = float(scale)
        self.namespace = {"da_scale": self.scale}

    def __repr__(self):
        return f"DoubleAngle(scale={self.scale!r})"

    def target(self, theta):
        theta = np.asarray(theta, dtype=float)
        return self.scale * np.stack([np.cos(2 * theta), np.sin(2 * theta)], axis=-1)

    def reward(self, y, theta):
        return -np.sum((self.target(theta) - y) ** 2, axis=-1)

    def delta(self, y, theta):
        return self.target(theta) - y

    def objective(self, reward):
        return -np.asarray(reward, dtype=float)

    def test_error(self, y, theta):
        return np.sum((np.asarray(y) - self.target(theta)) ** 2, axis=-1)


class SteepSoftplus(Softplus):
    """The softplus with its own parameter names (an F-I curve from a user's module)."""

    def __init__(self, steepness=30.0, scale=1 / 30):
        super().__init__(a=0.0, beta=scale, g=steepness)
        self.steepness, self.scale = steepness, scale

    def __repr__(self):
        return f"SteepSoftplus(steepness={self.steepness!r}, scale={self.scale!r})"


class NotATask:
    pass


assert issubclass(SteepSoftplus, FICurve)
