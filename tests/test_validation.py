"""Bad input is refused with an error naming the value and what is allowed."""

import numpy as np
import pytest

from brian_effplast import (Classification, Config, ConfigError, Estimation, FICurve, PlasticCircuit,
                            Softplus, Task, check_fi_curve, check_task)
from brian_effplast.blocks.population import RecurrentPopulation
from brian_effplast.blocks.stimulus import LangevinStimulus
from brian_effplast.blocks.tasks import get_task
from brian2 import ms


def model(**kwds):
    kwds.setdefault("seed", 1)
    kwds.setdefault("target", "numpy")
    return PlasticCircuit(**kwds)


# ---- configuration values -----------------------------------------------------------------

def test_config_error_is_a_value_error():
    assert issubclass(ConfigError, ValueError)


def test_negative_sigma():
    with pytest.raises(ConfigError, match=r"circuit\.sigma = -0\.1 is not allowed: must be a finite number >= 0"):
        Config.default().replace(**{"circuit.sigma": -0.1})
    # the building block checks too
    with pytest.raises(ValueError, match=r"sigma = -0\.1 is not allowed: must be a finite number >= 0"):
        RecurrentPopulation(4, 1, 10 * ms, sigma=-0.1)


def test_nan_sigma():
    with pytest.raises(ConfigError, match=r"circuit\.sigma = nan is not allowed: must be a finite number >= 0"):
        Config.default().replace(**{"circuit.sigma": float("nan")})
    with pytest.raises(ValueError, match=r"sigma = nan is not allowed: must be a finite number >= 0"):
        RecurrentPopulation(4, 1, 10 * ms, sigma=float("nan"))


def test_zero_neurons():
    with pytest.raises(ConfigError, match=r"circuit\.N = 0 is not allowed: must be an integer >= 1"):
        Config.default().replace(**{"circuit.N": 0})
    with pytest.raises(ValueError, match=r"N = 0 is not allowed: must be an integer >= 1"):
        RecurrentPopulation(0, 1, 10 * ms)


@pytest.mark.parametrize("dt, shown", [(1.0, r"1\.0"), (2, "2")])
def test_dt_not_smaller_than_tau(dt, shown):
    with pytest.raises(ConfigError, match=rf"circuit\.dt = {shown} is not allowed: must be .*1e-06 <= dt < 1.*"
                                          r"smaller than tau") as err:
        Config.default().replace(**{"circuit.dt": dt})
    # one bad value, one message (the rules depending on dt are not reported too)
    assert len(err.value.errors) == 1, err.value.errors


def test_trial_angle_and_lam_sigma_ref():
    with pytest.raises(ConfigError, match=r'run\.trial_angle = "random" is not allowed: must be one of '
                                          r'"continue", "prior", "authors"'):
        Config.default().replace(**{"run.trial": 1000.0, "run.trial_angle": "random"})
    with pytest.raises(ConfigError, match=r'run\.trial_angle = "prior" is not allowed: .*"prior" and "authors" '
                                          r'draw an angle at each trial start: they need run\.trial > 0'):
        Config.default().replace(**{"run.trial_angle": "prior"})
    with pytest.raises(ConfigError, match=r"plasticity\.lam_sigma_ref = -0\.2 is not allowed: must be a finite "
                                          r"number >= 0"):
        Config.default().replace(**{"plasticity.lam_sigma_ref": -0.2})
    # the L2 step bound counts the scaling: 0.01*100*1*8e-4 = 8e-4 unscaled, times (0.5/0.01)^2 = 2500
    big = {"circuit.sigma": 0.5, "plasticity.lam_sigma_ref": 0.01, "plasticity.eta_W": 1.0}
    with pytest.raises(ConfigError, match=r"plasticity\.(eta|lam)_W = .* circuit\.dt\*100\*eta_W\*lam_W"
                       r"\*\(circuit\.sigma/plasticity\.lam_sigma_ref\)\*\*2 <= 1.*plasticity\.lam_sigma_ref = 0\.01"):
        Config.default().replace(**big)
    cfg = Config.default().replace(**{"circuit.sigma": 0.5, "plasticity.lam_sigma_ref": 0.25})
    assert cfg.lam("W") == pytest.approx(4 * cfg.plasticity.lam_W)
    assert cfg.lam("D") == cfg.plasticity.lam_D
    with pytest.raises(ValueError, match=r"p = 'X' is not allowed: choose from W, C, b, D"):
        cfg.lam("X")


def test_negative_kappa():
    with pytest.raises(ConfigError, match=r"stimulus\.kappa = -0\.5 is not allowed: must be a finite number >= 0"):
        Config.default().replace(**{"stimulus.kappa": -0.5})
    with pytest.raises(ValueError, match=r"kappa = -0\.5 is not allowed: must be a finite number >= 0"):
        LangevinStimulus(1, 0.0, -0.5, 0.06, 10 * ms)


def test_unknown_task():
    allowed = r'task = "regression" is not allowed: must be one of "estimation", "classification"'
    with pytest.raises(ConfigError, match=allowed):
        Config.default("regression")
    with pytest.raises(ConfigError, match=allowed):
        model(task="regression")
    with pytest.raises(ConfigError, match=allowed):
        model(config=Config.default(), task="regression")
    with pytest.raises(ValueError, match=r"task = 'regression' is not allowed: must be one of "
                                         r"\['classification', 'estimation'\] or a Task instance"):
        get_task("regression")


def test_unknown_target():
    with pytest.raises(ConfigError, match=r'run\.target = "cuda" is not allowed: must be one of '
                                          r'"numpy", "cython", "cpp_standalone"'):
        model(target="cuda")


def test_bad_replicas_and_seed():
    with pytest.raises(ConfigError, match=r"run\.replicas = 0 is not allowed: must be an integer >= 1"):
        model(replicas=0)
    with pytest.raises(ConfigError, match=r"run\.seed = -1 is not allowed: must be an integer in \[0, "):
        model(seed=-1)
    with pytest.raises(ValueError, match=r"t = -1\.0 is not allowed: must be a finite number of time units >= 0"):
        model(t=-1.0)


def test_config_must_be_a_config():
    with pytest.raises(TypeError, match=r"config = \{'task': 'estimation'\} is not allowed: "
                                        r"must be a brian_effplast\.Config"):
        PlasticCircuit({"task": "estimation"})


# ---- F-I curves -----------------------------------------------------------------------------

class WrongInverse(Softplus):
    """Softplus whose f^-1 is off by a factor of two: f(f^-1(r)) != r."""

    def finv(self, r):
        return 2 * super().finv(r)


class NotInvertibleCurve(FICurve):
    finv_expr = "r"  # claims f^-1(r) = r ...

    def f(self, x):  # ... but f is exp
        return np.exp(np.asarray(x, dtype=float))

    def finv(self, r):
        return np.asarray(r, dtype=float)

    def finv_integral(self, r):
        return np.asarray(r, dtype=float) ** 2 / 2


@pytest.mark.parametrize("curve", [WrongInverse(), NotInvertibleCurve()], ids=type)
def test_fi_curve_whose_inverse_does_not_invert(curve):
    name = type(curve).__name__
    message = rf"{name}: f\(f\^-1\(r\)\) = .* at r = .*: the inverse does not invert f on the allowed rates"
    with pytest.raises(ValueError, match=message):
        check_fi_curve(curve)
    # through the model: checked at the latest when the network is built (the first run)
    with pytest.raises(ValueError, match=message):
        model(fi_curve=curve).run(0.01)


def test_good_fi_curve_passes():
    assert check_fi_curve(Softplus()) is True
    assert check_fi_curve(Softplus(a=0.5, beta=0.1, g=10.0)) is True


def test_fi_curve_must_be_an_fi_curve():
    with pytest.raises(TypeError, match=r"is not an FICurve"):
        check_fi_curve(np.exp)
    with pytest.raises(TypeError, match=r"is not an FICurve"):
        model(fi_curve=np.exp).run(0.01)


def test_softplus_parameters():
    with pytest.raises(ValueError, match=r"Softplus beta = -1\.0 is not allowed: must be a finite number > 0"):
        Softplus(beta=-1.0)
    with pytest.raises(ConfigError, match=r"nonlinearity\.g = 0\.0 is not allowed: must be a finite number > 0"):
        Config.default().replace(**{"nonlinearity.g": 0.0})


# ---- user-given arrays ---------------------------------------------------------------------

def test_state_with_wrong_shape():
    with pytest.raises(ValueError, match=r"W has shape \(1, 3, 3\): must be \(1, 40, 40\)"):
        model(state={"W": np.zeros((1, 3, 3))})
    # the shape follows replicas (first) and the task's n_out
    with pytest.raises(ValueError, match=r"D has shape \(2, 2, 25\): must be \(2, 1, 25\)"):
        model(task="classification", replicas=2, state={"D": np.zeros((2, 2, 25))})
    with pytest.raises(ValueError, match=r"r has shape \(40,\): must be \(1, 40\)"):
        model(state={"r": np.full(40, 0.1)})


def test_state_unknown_or_not_finite():
    with pytest.raises(ValueError, match=r"unknown state arrays \['V'\]: allowed are \['theta', 'r', 'W'"):
        model(state={"V": np.zeros(3)})
    with pytest.raises(ValueError, match=r"C contains NaN or infinite values: must be finite"):
        model(state={"C": np.full((1, 40, 12), np.nan)})


def test_noise_with_wrong_shape():
    with pytest.raises(ValueError, match=r"noise\['rates'\] has shape \(10, 7\): must be \(steps, 40\)"):
        model(noise={"rates": np.zeros((10, 7))})
    with pytest.raises(ValueError, match=r"noise\['stimulus'\] has shape \(10,\): must be \(steps, 2\)"):
        model(replicas=2, noise={"stimulus": np.zeros(10)})
    with pytest.raises(ValueError, match=r"noise keys \['stim'\] are not allowed: use 'stimulus' and/or 'rates'"):
        model(noise={"stim": np.zeros((10, 1))})
    # different numbers of steps per key
    with pytest.raises(ValueError, match=r"noise arrays have different numbers of steps \[9, 10\]: must be equal"):
        model(noise={"stimulus": np.zeros((10, 1)), "rates": np.zeros((9, 40))})


def test_noise_too_short_for_the_run():
    m = model(noise={"stimulus": np.zeros((10, 1))})
    with pytest.raises(ValueError, match=r"duration = 0\.2 needs 20 noise rows in total, the supplied noise has 10"):
        m.run(0.2)


# ---- run arguments --------------------------------------------------------------------------

def test_duration_not_a_multiple_of_dt():
    m = model()
    with pytest.raises(ConfigError, match=r"duration = 0\.015 is not allowed: must be a whole number of steps "
                                          r"of circuit\.dt = 0\.01 \(it is 1\.5 steps\)"):
        m.run(0.015)
    with pytest.raises(ValueError, match=r"duration = 0\.0 is not allowed: must be at least one step"):
        m.run(0.0)
    with pytest.raises(ConfigError, match=r"duration = -1\.0 is not allowed"):
        m.run(-1.0)
    assert m.t == 0.0  # nothing ran


def test_record_unknown_variable():
    m = model()
    with pytest.raises(ValueError, match=r"record = \['v'\] is not allowed: choose from theta, r, y, alpha"):
        m.run(0.01, record=("r", "v"))
    assert m.t == 0.0


# ---- tasks ------------------------------------------------------------------------------------

def test_check_task_builtin_tasks_pass():
    assert check_task(Estimation()) is True
    assert check_task(Classification()) is True
    assert check_task("estimation") is True
    assert check_task(Classification(gain=20.0, eps=1e-3)) is True


class SquaredError(Task):
    """Scalar readout of cos(theta), alpha = -(cos theta - y)**2."""

    name = "cosine"
    n_out = 1
    code = """
    delta_0 = cos(theta) - y_0
    alpha = -delta_0**2
    """
    delta_scale = 0.5  # delta = (target - y) is half the gradient

    def reward(self, y, theta):
        return -(np.cos(theta) - y[..., 0]) ** 2

    def delta(self, y, theta):
        return (np.cos(theta) - y[..., 0])[..., None]


class WrongGradient(SquaredError):
    delta_scale = 1.0  # but delta is still half the gradient


class WrongSign(SquaredError):
    def delta(self, y, theta):
        return -super().delta(y, theta)


def test_check_task_user_task_passes():
    assert check_task(SquaredError()) is True


@pytest.mark.parametrize("task", [WrongGradient(), WrongSign()], ids=type)
def test_check_task_delta_not_the_gradient(task):
    with pytest.raises(ValueError, match=r"delta_0 = .* but delta_scale \* d alpha/d y_0 = .* at theta = "):
        check_task(task)


def test_check_task_code_must_set_alpha_and_delta():
    class NoDelta(SquaredError):
        code = "alpha = -(cos(theta) - y_0)**2"

    with pytest.raises(ValueError, match=r"\.code does not set delta_0"):
        check_task(NoDelta())
