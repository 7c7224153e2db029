"""The configuration's schema: its sections, fields, defaults and names (no NumPy, no Brian2).

Each section of a model file is a dataclass here, with every field's
default (the authors' published parameter values; the task-dependent ones
in :data:`TASK_DEFAULTS`) and a one-line description (``field.metadata["doc"]``).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Union

__all__ = ["ConfigError", "CircuitParams", "NonlinearityParams", "StimulusParams", "PlasticityParams",
           "InitParams", "RunParams", "TestParams", "SECTIONS", "TASK_DEFAULTS", "TASKS", "TARGETS", "TRIAL_ANGLES",
           "TEST_STARTS", "TEST_PROTOCOLS", "NEURONS",
           "NONLINEARITIES", "PLASTICITY_RULES", "SEED_MAX", "STEP_TOLERANCE", "MAX_FILE_BYTES", "fields_of", "kind_of"]

#: Names accepted for ``task``.
TASKS = ("estimation", "classification")
#: Names accepted for ``run.target`` (Brian2 code-generation targets).
TARGETS = ("numpy", "cython", "cpp_standalone")
#: Names accepted for ``run.trial_angle``.
TRIAL_ANGLES = ("continue", "prior", "authors")
#: Names accepted for ``test.start``: each test copy starts from the model's state, or from a trial reset.
TEST_STARTS = ("current", "reset")
#: Names accepted for ``test.protocol``: every angle held in parallel copies, or the authors' trials
#: of 5 stimuli drawn from the input angles (:mod:`brian_effplast.runs.protocol`).
TEST_PROTOCOLS = ("held", "authors")
#: Names accepted for ``circuit.neuron``: the rate neurons of Eq. 2, or Poisson spiking neurons
#: read through exponentially filtered spike trains (:mod:`brian_effplast.blocks.spiking`).
NEURONS = ("rate", "poisson")
#: Names accepted for ``nonlinearity.kind``.
NONLINEARITIES = ("softplus",)
#: Names accepted for ``plasticity.rule``: the paper's Eq. 10, or REINFORCE (its comparison).
PLASTICITY_RULES = ("eq10", "reinforce")
#: Largest accepted ``run.seed``.
SEED_MAX = 2**32 - 1
#: Relative tolerance of :meth:`Config.steps` for "a whole number of steps".
STEP_TOLERANCE = 1e-9
#: Largest model file :meth:`Config.from_toml` reads (a model file is a few kB).
MAX_FILE_BYTES = 1 << 20

# Default low-pass factor per step of the coactivity averages, and the time
# constant that gives it at the default dt.
_K_BAR_DEFAULT = 0.0015
_DT_DEFAULT = 0.01


class ConfigError(ValueError):
    """An invalid configuration.

    ``str(err)`` is one line per problem; the list is also in ``err.errors``.
    """

    def __init__(self, errors: Union[str, list]):
        if isinstance(errors, str):
            errors = [errors]
        self.errors = list(errors)
        super().__init__("\n".join(self.errors))


def _doc(text: str) -> dict:
    return {"doc": text}


# --------------------------------------------------------------------------
# Sections.  Plain (mutable) dataclasses; treat them as frozen and use
# Config.replace() to derive modified configurations.  Field annotations are
# used (as strings) for type checking: "int", "float", "str", "int | None".
# The class defaults are the estimation-task defaults.
# --------------------------------------------------------------------------


@dataclass
class CircuitParams:
    """The recurrent circuit and its integration."""

    N: int = field(default=40, metadata=_doc("recurrent neurons (estimation 40, classification 25)"))
    N_s: int = field(default=12, metadata=_doc("input units, preferred angles -pi + 2*pi*k/N_s"))
    sigma: float = field(default=0.2, metadata=_doc("intrinsic noise amplitude"))
    tau_ms: float = field(default=10.0, metadata=_doc("the time unit, in ms (tau of the Brian2 model)"))
    dt: float = field(default=_DT_DEFAULT, metadata=_doc("Euler-Maruyama step, time units"))
    r_min: float = field(default=0.001, metadata=_doc("lower rate bound (rates clipped every step)"))
    r_max: float = field(default=100.0, metadata=_doc("upper rate bound"))
    r_init: float = field(default=0.1, metadata=_doc("initial rate of every neuron"))
    neuron: str = field(default="rate", metadata=_doc(
        "\"rate\" (Eq. 2) or \"poisson\": Poisson neurons firing at rate_scale*f(h) per time unit, whose "
        "rate r is the spike train filtered with time constant tau_r (the spikes are the noise: sigma = 0)"))
    rate_scale: float = field(default=10.0, metadata=_doc(
        "neuron = \"poisson\": spikes per time unit at r = 1 (more spikes, less noise in r)"))
    tau_r: float = field(default=1.0, metadata=_doc(
        "neuron = \"poisson\": time constant of the filter that turns spikes into the rate r, time units"))


@dataclass
class NonlinearityParams:
    """The F-I curve f(x) = beta * log(1 + exp(a + g*x))."""

    kind: str = field(default="softplus", metadata=_doc("F-I curve family: " + ", ".join(NONLINEARITIES)))
    a: float = field(default=0.0, metadata=_doc("softplus offset"))
    beta: float = field(default=1.0 / 30.0, metadata=_doc("softplus output scale"))
    g: float = field(default=30.0, metadata=_doc("softplus input gain"))


@dataclass
class StimulusParams:
    """The Langevin stimulus process (stationary law von Mises(mu, 2*kappa))."""

    mu: float = field(default=0.0, metadata=_doc("prior mean angle, radians (any real; wrapped)"))
    kappa: float = field(default=0.75, metadata=_doc("prior concentration parameter"))
    sigma_s: float = field(default=0.06, metadata=_doc("stimulus diffusion amplitude"))


@dataclass
class PlasticityParams:
    """The learning rule, its rates (dp/dt = 100 * eta_p * update), L2 constants, time constants."""

    rule: str = field(default="eq10", metadata=_doc(
        "learning rule of W, C and b: \"eq10\" (the paper's reward-gated Hebbian rule) or \"reinforce\" "
        "(REINFORCE with eligibility traces, the paper's comparison); D always learns by its delta rule"))
    tau_bar: float = field(
        default=_DT_DEFAULT / _K_BAR_DEFAULT,
        metadata=_doc("time constant of the low-pass averages, time units (k_bar = dt/tau_bar)"),
    )
    # tau_e = tau_bar by default: both rules then remember the same stretch of the past (the
    # reward's effect of a fluctuation is credited over the window eq10 centres its coactivity
    # in), a window long against the circuit's own time constant (1 time unit) and short
    # against the stimulus' drift (about 1/(kappa*sigma_s^2) = 370 time units).
    tau_e: float = field(
        default=_DT_DEFAULT / _K_BAR_DEFAULT,
        metadata=_doc("rule = \"reinforce\": time constant of the eligibility traces, time units "
                      "(default equal to the default tau_bar)"),
    )
    eta_W: float = field(default=5e-6, metadata=_doc("learning rate of W (recurrent weights)"))
    eta_C: float = field(default=5e-6, metadata=_doc("learning rate of C (input weights)"))
    eta_b: float = field(default=5e-6, metadata=_doc("learning rate of b (biases)"))
    eta_D: float = field(default=5e-6, metadata=_doc("learning rate of D (decoder)"))
    lam_W: float = field(default=8e-4, metadata=_doc("L2 constant of W"))
    lam_C: float = field(default=4.8e-3, metadata=_doc("L2 constant of C"))
    lam_b: float = field(default=4.8e-3, metadata=_doc("L2 constant of b"))
    lam_D: float = field(default=8e-4, metadata=_doc("L2 constant of D"))
    lam_sigma_ref: float = field(default=0.0, metadata=_doc(
        "0: lam_W, lam_C and lam_b apply as given at every circuit.sigma; > 0: they are the values at "
        "circuit.sigma = lam_sigma_ref and scale as (sigma/lam_sigma_ref)**2 (the paper's "
        "lambda_W = sigma^2 lambda); lam_D is never scaled"))


@dataclass
class InitParams:
    """Initial parameters."""

    W_scale: float = field(default=0.3, metadata=_doc("W uniform in +-W_scale/sqrt(N)"))
    C_scale: float = field(default=0.5, metadata=_doc("C uniform in +-C_scale/sqrt(N_s)"))
    D_scale: float = field(default=1.0, metadata=_doc("D uniform in +-D_scale/N"))
    b: float = field(default=0.0, metadata=_doc("initial bias of every neuron (estimation 0, classification 0.7)"))
    W_symmetric: bool = field(default=False, metadata=_doc(
        "true: W starts symmetric (the upper triangle drawn as usual, mirrored) and, the update of Eq. 10 "
        "being symmetric in i and j, stays symmetric, so the Gibbs density of Eqs. 3-4 exists throughout "
        "learning (plasticity.rule = \"eq10\" only)"))


@dataclass
class RunParams:
    """One training run."""

    duration: float = field(default=5000.0, metadata=_doc("simulated time, time units"))
    transient: float = field(default=40.0, metadata=_doc("plasticity off for this long at the start, time units"))
    seed: Union[int, None] = field(default=None, metadata=_doc("random seed in [0, 2**32-1]; omitted = random"))
    target: str = field(default="cpp_standalone", metadata=_doc("Brian2 target: " + ", ".join(TARGETS)))
    replicas: int = field(default=1, metadata=_doc("independent networks simulated together"))
    workers: int = field(default=1, metadata=_doc(
        "processes the replicas are spread over (brian-effplast train/resume); the noise depends on it"))
    checkpoint_every: float = field(default=0.0, metadata=_doc("checkpoint interval, time units (0 = only at the end)"))
    curve_bin: float = field(default=1.0, metadata=_doc("time units per learning-curve point"))
    trial: float = field(default=0.0, metadata=_doc(
        "trial length, time units: at each trial start r is reset to circuit.r_init, the low-pass "
        "averages to 0, and learning is off for run.transient (the authors' protocol); 0 = online, no resets"))
    trial_angle: str = field(default="continue", metadata=_doc(
        "the stimulus angle at each trial start: \"continue\" (the angle diffuses on), \"prior\" (a new "
        "angle drawn from the stimulus' stationary law, von Mises(mu, 2 kappa)) or \"authors\" (a new angle "
        "drawn from von Mises(mu, kappa), as the authors' code does)"))


@dataclass
class TestParams:
    """The test protocol (plasticity off, stimulus held at preferred angles)."""

    __test__ = False  # not a pytest test class

    protocol: str = field(default="held", metadata=_doc(
        "\"held\": each of test.angles angles held for test.hold in test.trials copies; \"authors\": "
        "test.trials trials from the trial reset, each of 5 stimuli of test.hold drawn from the "
        "circuit.N_s input angles, the state carried over between stimuli"))
    angles: int = field(default=12, metadata=_doc(
        "number of test angles (-pi + 2 pi k / angles); the authors' protocol needs circuit.N_s"))
    hold: float = field(default=200.0, metadata=_doc("time units per test angle (held) or per stimulus (authors)"))
    record_every: Union[int, None] = field(default=None, metadata=_doc(
        "record rates every this many steps; omitted = 20 (held), 200 (authors: 2 time units)"))
    trials: Union[int, None] = field(default=None, metadata=_doc(
        "independent copies per test angle (held; their samples are concatenated) or trials (authors); "
        "omitted = 1 (held), 100 (authors)"))
    start: str = field(default="current", metadata=_doc(
        "held protocol: where each copy starts: \"current\" (the model's state) or \"reset\" (the training "
        "trial start: rates circuit.r_init, low-pass averages 0); the authors' protocol always resets"))

    @property
    def n_trials(self) -> int:
        """``trials``, or the protocol's default when omitted."""
        return self.trials if self.trials is not None else (100 if self.protocol == "authors" else 1)

    @property
    def every(self) -> int:
        """``record_every``, or the protocol's default when omitted."""
        return self.record_every if self.record_every is not None else (200 if self.protocol == "authors" else 20)


#: Section name -> dataclass, in file order.
SECTIONS: dict = {
    "circuit": CircuitParams,
    "nonlinearity": NonlinearityParams,
    "stimulus": StimulusParams,
    "plasticity": PlasticityParams,
    "init": InitParams,
    "run": RunParams,
    "test": TestParams,
}

#: Task-dependent defaults, ``{task: {section: {key: value}}}`` (everything else is the dataclass default).
TASK_DEFAULTS: dict = {
    "estimation": {
        "circuit": {"N": 40},
        "plasticity": {
            "eta_W": 5e-6,
            "eta_C": 5e-6,
            "eta_b": 5e-6,
            "eta_D": 5e-6,
            "lam_W": 0.5 / 625,  # 8e-4
            "lam_C": 3 / 625,  # 4.8e-3
            "lam_b": 3 / 625,  # 4.8e-3
            "lam_D": 8e-4,
        },
        "init": {"b": 0.0},
    },
    "classification": {
        "circuit": {"N": 25},
        "plasticity": {
            "eta_W": 1e-6,
            "eta_C": 1e-6,
            "eta_b": 1e-6,
            "eta_D": 1e-8,
            "lam_W": 3 / 1600,  # 1.875e-3
            "lam_C": 25 / 400,  # 0.0625
            "lam_b": 2 / 40,  # 0.05
            "lam_D": 1.875e-3,
        },
        "init": {"b": 0.7},
    },
}


def fields_of(cls) -> dict:
    return {f.name: f for f in dataclasses.fields(cls)}


def kind_of(f: dataclasses.Field) -> str:
    t = f.type if isinstance(f.type, str) else getattr(f.type, "__name__", str(f.type))
    t = t.replace(" ", "")
    if t in ("int", "float", "str", "bool"):
        return t
    if t in ("int|None", "Union[int,None]", "Optional[int]"):
        return "int?"
    raise AssertionError(f"unsupported field type {f.type!r}")  # pragma: no cover
