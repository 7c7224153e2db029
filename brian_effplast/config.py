"""Parameters of brian-effplast: the single validation layer.

Every way of configuring a simulation (the command line, the Python API and
the TOML model files) goes through :class:`Config`.  The defaults are the
reference parameters of Bredenberg, Simoncelli & Savin (NeurIPS 2020) as used
in the authors' published code (see ``docs/model.md`` and the reference
parameter sheet); they depend on the task (``"estimation"`` or
``"classification"``), so build a default configuration with
:meth:`Config.default` rather than ``Config()``.

Time is measured in the paper's dimensionless time units: one unit is
``circuit.tau_ms`` milliseconds in the Brian2 model.  All durations here
(``dt``, ``tau_bar``, ``run.duration`` ...) are in time units unless the name
says otherwise.

This module is deliberately free of NumPy and Brian2 so that it can be
imported (and configurations checked) cheaply.

Example::

    cfg = Config.from_toml("models/estimation.toml")
    cfg = cfg.replace(**{"circuit.sigma": 0.33, "run.seed": 3})
    cfg.to_toml("out/config.toml")

Every error is a :class:`ConfigError` (a ``ValueError``) whose message names
the source, the key as ``section.key``, the offending value and what is
allowed, e.g.::

    models/x.toml: circuit.sigma = -0.1 is not allowed: must be a finite number >= 0
"""

from __future__ import annotations

import dataclasses
import difflib
import json
import math
import os
import tomllib
from dataclasses import dataclass, field
from typing import Any, Mapping, Union

__all__ = [
    "ConfigError",
    "Config",
    "CircuitParams",
    "NonlinearityParams",
    "StimulusParams",
    "PlasticityParams",
    "InitParams",
    "RunParams",
    "TestParams",
    "TASKS",
    "TARGETS",
    "NONLINEARITIES",
    "SECTIONS",
    "SEED_MAX",
    "STEP_TOLERANCE",
]

#: Names accepted for ``task``.
TASKS = ("estimation", "classification")
#: Names accepted for ``run.target`` (Brian2 code-generation targets).
TARGETS = ("numpy", "cython", "cpp_standalone")
#: Names accepted for ``nonlinearity.kind``.
NONLINEARITIES = ("softplus",)
#: Largest accepted ``run.seed``.
SEED_MAX = 2**32 - 1
#: Relative tolerance of :meth:`Config.steps` for "a whole number of steps".
STEP_TOLERANCE = 1e-9

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
    """Learning rates (dp/dt = 100 * eta_p * update), L2 constants, averaging."""

    tau_bar: float = field(
        default=_DT_DEFAULT / _K_BAR_DEFAULT,
        metadata=_doc("time constant of the coactivity averages, time units (k_bar = dt/tau_bar)"),
    )
    eta_W: float = field(default=5e-6, metadata=_doc("learning rate of W (recurrent weights)"))
    eta_C: float = field(default=5e-6, metadata=_doc("learning rate of C (input weights)"))
    eta_b: float = field(default=5e-6, metadata=_doc("learning rate of b (biases)"))
    eta_D: float = field(default=5e-6, metadata=_doc("learning rate of D (decoder)"))
    lam_W: float = field(default=8e-4, metadata=_doc("L2 constant of W"))
    lam_C: float = field(default=4.8e-3, metadata=_doc("L2 constant of C"))
    lam_b: float = field(default=4.8e-3, metadata=_doc("L2 constant of b"))
    lam_D: float = field(default=8e-4, metadata=_doc("L2 constant of D"))


@dataclass
class InitParams:
    """Initial parameters."""

    W_scale: float = field(default=0.3, metadata=_doc("W uniform in +-W_scale/sqrt(N)"))
    C_scale: float = field(default=0.5, metadata=_doc("C uniform in +-C_scale/sqrt(N_s)"))
    D_scale: float = field(default=1.0, metadata=_doc("D uniform in +-D_scale/N"))
    b: float = field(default=0.0, metadata=_doc("initial bias of every neuron (estimation 0, classification 0.7)"))


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


@dataclass
class TestParams:
    """The test protocol (plasticity off, stimulus held at preferred angles)."""

    __test__ = False  # not a pytest test class

    angles: int = field(default=12, metadata=_doc("number of test angles"))
    hold: float = field(default=200.0, metadata=_doc("time units per test angle"))
    record_every: int = field(default=20, metadata=_doc("record rates every this many steps"))


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

# Task-dependent defaults (everything else is the dataclass default).
_TASK_DEFAULTS: dict = {
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


def _fields(cls) -> dict:
    return {f.name: f for f in dataclasses.fields(cls)}


def _kind(f: dataclasses.Field) -> str:
    t = f.type if isinstance(f.type, str) else getattr(f.type, "__name__", str(f.type))
    t = t.replace(" ", "")
    if t in ("int", "float", "str"):
        return t
    if t in ("int|None", "Union[int,None]", "Optional[int]"):
        return "int?"
    raise AssertionError(f"unsupported field type {f.type!r}")  # pragma: no cover


# --------------------------------------------------------------------------
# Rules: (section, key) -> (allowed-text, predicate[, depends-on]).  The text
# completes "must be ..."; it may be a function of the configuration for
# cross-field rules.  Type (int / finite float / string) is checked before the
# predicate, which only sees well-typed values.  A cross-field rule is skipped
# when a field it depends on ("section.key") has already been reported, so
# that one bad value gives one message; keys given explicitly (e.g. in the
# file) are checked first, so a conflict is blamed on the key that was given.
# --------------------------------------------------------------------------

_NUM = "a finite number"


def _oneof(names) -> str:
    return "one of " + ", ".join(json.dumps(n) for n in names)


_RULES: dict = {
    ("", "task"): (_oneof(TASKS), lambda v, c: v in TASKS),
    # circuit
    ("circuit", "N"): ("an integer >= 1", lambda v, c: v >= 1),
    ("circuit", "N_s"): ("an integer >= 1", lambda v, c: v >= 1),
    ("circuit", "sigma"): (f"{_NUM} >= 0", lambda v, c: v >= 0),
    ("circuit", "tau_ms"): (f"{_NUM} > 0 (milliseconds)", lambda v, c: v > 0),
    ("circuit", "dt"): (
        f"{_NUM} with 0 < dt < 1: dt must be smaller than tau (1 time unit)",
        lambda v, c: 0 < v < 1,
    ),
    ("circuit", "r_min"): (
        lambda c: (
            f"{_NUM} with 0 < r_min < circuit.r_max ({_fmt(c.circuit.r_max)}) "
            f"and r_min <= circuit.r_init ({_fmt(c.circuit.r_init)})"
        ),
        lambda v, c: 0 < v < c.circuit.r_max and v <= c.circuit.r_init,
        ("circuit.r_max", "circuit.r_init"),
    ),
    ("circuit", "r_max"): (
        lambda c: (
            f"{_NUM} > circuit.r_min ({_fmt(c.circuit.r_min)}) "
            f"and >= circuit.r_init ({_fmt(c.circuit.r_init)})"
        ),
        lambda v, c: v > c.circuit.r_min and v >= c.circuit.r_init,
        ("circuit.r_min", "circuit.r_init"),
    ),
    ("circuit", "r_init"): (
        lambda c: (
            f"{_NUM} with circuit.r_min <= r_init <= circuit.r_max "
            f"({_fmt(c.circuit.r_min)} <= r_init <= {_fmt(c.circuit.r_max)})"
        ),
        lambda v, c: c.circuit.r_min <= v <= c.circuit.r_max,
        ("circuit.r_min", "circuit.r_max"),
    ),
    # nonlinearity
    ("nonlinearity", "kind"): (_oneof(NONLINEARITIES), lambda v, c: v in NONLINEARITIES),
    ("nonlinearity", "a"): (_NUM, lambda v, c: True),
    ("nonlinearity", "beta"): (f"{_NUM} > 0", lambda v, c: v > 0),
    ("nonlinearity", "g"): (f"{_NUM} > 0", lambda v, c: v > 0),
    # stimulus
    ("stimulus", "mu"): (f"{_NUM} (radians; any real, wrapped to [-pi, pi))", lambda v, c: True),
    ("stimulus", "kappa"): (f"{_NUM} >= 0", lambda v, c: v >= 0),
    ("stimulus", "sigma_s"): (f"{_NUM} >= 0", lambda v, c: v >= 0),
    # plasticity
    ("plasticity", "tau_bar"): (
        lambda c: f"{_NUM} >= circuit.dt ({_fmt(c.circuit.dt)}) (time units)",
        lambda v, c: v >= c.circuit.dt,
        ("circuit.dt",),
    ),
    # init
    ("init", "W_scale"): (f"{_NUM} >= 0", lambda v, c: v >= 0),
    ("init", "C_scale"): (f"{_NUM} >= 0", lambda v, c: v >= 0),
    ("init", "D_scale"): (f"{_NUM} >= 0", lambda v, c: v >= 0),
    ("init", "b"): (_NUM, lambda v, c: True),
    # run
    ("run", "duration"): (
        lambda c: f"{_NUM} > 0 and > run.transient ({_fmt(c.run.transient)}) (time units)",
        lambda v, c: v > 0 and v > c.run.transient,
        ("run.transient",),
    ),
    ("run", "transient"): (
        lambda c: f"{_NUM} with 0 <= transient < run.duration ({_fmt(c.run.duration)}) (time units)",
        lambda v, c: 0 <= v < c.run.duration,
        ("run.duration",),
    ),
    ("run", "seed"): (
        f"an integer in [0, {SEED_MAX}] (2**32-1), or omitted for a random seed",
        lambda v, c: v is None or 0 <= v <= SEED_MAX,
    ),
    ("run", "target"): (_oneof(TARGETS), lambda v, c: v in TARGETS),
    ("run", "replicas"): ("an integer >= 1", lambda v, c: v >= 1),
    ("run", "workers"): (
        lambda c: f"an integer in [1, run.replicas] ([1, {c.run.replicas}])",
        lambda v, c: 1 <= v <= c.run.replicas,
        ("run.replicas",),
    ),
    ("run", "checkpoint_every"): (
        f"{_NUM} >= 0 (time units; 0 = only at the end)",
        lambda v, c: v >= 0,
    ),
    ("run", "trial"): (
        lambda c: f"{_NUM}: 0 (no trials) or > run.transient ({_fmt(c.run.transient)}) (time units)",
        lambda v, c: v == 0 or v > c.run.transient,
        ("run.transient",),
    ),
    ("run", "curve_bin"): (
        lambda c: f"{_NUM} >= circuit.dt ({_fmt(c.circuit.dt)}) (time units)",
        lambda v, c: v >= c.circuit.dt,
        ("circuit.dt",),
    ),
    # test
    ("test", "angles"): ("an integer >= 1", lambda v, c: v >= 1),
    ("test", "hold"): (f"{_NUM} > 0 (time units)", lambda v, c: v > 0),
    ("test", "record_every"): ("an integer >= 1 (steps)", lambda v, c: v >= 1),
}
for _name in ("eta_W", "eta_C", "eta_b", "eta_D", "lam_W", "lam_C", "lam_b", "lam_D"):
    _RULES[("plasticity", _name)] = (f"{_NUM} >= 0", lambda v, c: v >= 0)
del _name

# Every field has a rule (checked at import time).
assert set(_RULES) == {("", "task")} | {
    (s, f.name) for s, cls in SECTIONS.items() for f in dataclasses.fields(cls)
}


# --------------------------------------------------------------------------
# Formatting helpers
# --------------------------------------------------------------------------


def _fmt(value: Any) -> str:
    """Format a value for messages (TOML-like)."""
    if value is None:
        return "(none)"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value)
    if isinstance(value, Mapping):
        return "{" + ", ".join(f"{k} = {_fmt(v)}" for k, v in value.items()) + "}"
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_fmt(v) for v in value) + "]"
    return repr(value)


def _type_name(value: Any) -> str:
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int):
        return "an integer"
    if isinstance(value, float):
        return "a float"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, Mapping):
        return "a table"
    if isinstance(value, (list, tuple)):
        return "an array"
    return f"a {type(value).__name__}"


def _key(section: str, key: str) -> str:
    return f"{section}.{key}" if section else key


def _error(source: str, path: str, value: Any, allowed: str) -> str:
    return f"{source}: {path} = {_fmt(value)} is not allowed: {allowed}"


def _suggest(name: str, choices) -> str:
    choices = list(choices)
    lower = {c.lower(): c for c in choices}
    if name.lower() in lower:
        return lower[name.lower()]
    close = difflib.get_close_matches(name, choices, n=1, cutoff=0.6)
    if not close:
        close = difflib.get_close_matches(name.lower(), list(lower), n=1, cutoff=0.6)
        close = [lower[c] for c in close]
    return close[0] if close else ""


def _toml_string(s: str) -> str:
    out = ['"']
    for ch in s:
        o = ord(ch)
        if ch == '"':
            out.append('\\"')
        elif ch == "\\":
            out.append("\\\\")
        elif ch == "\n":
            out.append("\\n")
        elif ch == "\t":
            out.append("\\t")
        elif o < 0x20 or o == 0x7F:
            out.append(f"\\u{o:04X}")
        else:
            out.append(ch)
    out.append('"')
    return "".join(out)


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            return "nan" if math.isnan(value) else ("inf" if value > 0 else "-inf")
        return repr(value)  # always contains '.' or 'e': a TOML float
    if isinstance(value, str):
        return _toml_string(value)
    raise TypeError(f"cannot write {value!r} to TOML")  # pragma: no cover


# --------------------------------------------------------------------------
# Config
# --------------------------------------------------------------------------


@dataclass
class Config:
    """All parameters of one simulation.

    Build with :meth:`default`, :meth:`from_dict` or :meth:`from_toml`; derive
    variants with :meth:`replace`.  Direct construction validates too, but
    ``Config()`` / ``Config(task=...)`` use the *estimation* section defaults
    whatever the task: prefer ``Config.default(task)``.
    """

    task: str = "estimation"
    circuit: CircuitParams = field(default_factory=CircuitParams)
    nonlinearity: NonlinearityParams = field(default_factory=NonlinearityParams)
    stimulus: StimulusParams = field(default_factory=StimulusParams)
    plasticity: PlasticityParams = field(default_factory=PlasticityParams)
    init: InitParams = field(default_factory=InitParams)
    run: RunParams = field(default_factory=RunParams)
    test: TestParams = field(default_factory=TestParams)

    def __post_init__(self) -> None:
        self.validate()

    # ---- construction -------------------------------------------------

    @classmethod
    def _unvalidated(cls, task: str, sections: Mapping[str, Mapping[str, Any]]) -> "Config":
        """Build without validation (values are taken as given)."""
        self = object.__new__(cls)
        self.task = task
        for name, sec_cls in SECTIONS.items():
            sec = object.__new__(sec_cls)
            for key, value in sections[name].items():
                setattr(sec, key, value)
            setattr(self, name, sec)
        return self

    @staticmethod
    def _default_sections(task: str) -> dict:
        sections = {
            name: {f.name: (f.default_factory() if f.default is dataclasses.MISSING else f.default)
                   for f in dataclasses.fields(sec_cls)}
            for name, sec_cls in SECTIONS.items()
        }
        for name, values in _TASK_DEFAULTS[task].items():
            sections[name].update(values)
        return sections

    @classmethod
    def _check_task(cls, task: Any, source: str) -> None:
        allowed, ok = _RULES[("", "task")][:2]
        if not isinstance(task, str) or not ok(task, None):
            extra = f" (got {_type_name(task)})" if not isinstance(task, str) else ""
            hint = _suggest(task, TASKS) if isinstance(task, str) else ""
            hint = f"; did you mean {json.dumps(hint)}?" if hint else ""
            raise ConfigError(_error(source, "task", task, f"must be {allowed}{extra}{hint}"))

    @classmethod
    def default(cls, task: str = "estimation") -> "Config":
        """The reference defaults for ``task`` ("estimation" or "classification")."""
        cls._check_task(task, "Config.default()")
        cfg = cls._unvalidated(task, cls._default_sections(task))
        return cfg.validate(source="Config.default()")

    @classmethod
    def from_dict(cls, d: Mapping[str, Any], source: str = "<dict>") -> "Config":
        """Build from a nested mapping ``{"task": ..., "circuit": {...}, ...}``.

        Missing keys take the defaults of the task (``task`` itself defaults to
        "estimation").  ``run.seed`` may be ``None`` or missing.
        """
        source = str(source)
        if not isinstance(d, Mapping):
            raise ConfigError(
                f"{source}: the configuration = {_fmt(d)} is not allowed: must be a table "
                f"(mapping) of sections (got {_type_name(d)})"
            )
        task = d.get("task", "estimation")
        cls._check_task(task, source)
        sections = cls._default_sections(task)
        errors = []
        given = []
        valid_top = ["task"] + list(SECTIONS)
        for name, values in d.items():
            if name == "task":
                continue
            if not isinstance(name, str) or name not in SECTIONS:
                hint = _suggest(str(name), valid_top)
                hint = f"did you mean {hint if hint == 'task' else '[' + hint + ']'}? " if hint else ""
                errors.append(
                    _error(source, str(name), values,
                           f"unknown section or key; {hint}allowed: task, "
                           + ", ".join(f"[{s}]" for s in SECTIONS))
                )
                continue
            if not isinstance(values, Mapping):
                errors.append(
                    _error(source, name, values,
                           f"must be a table [{name}] of keys (got {_type_name(values)})")
                )
                continue
            known = _fields(SECTIONS[name])
            for key, value in values.items():
                if not isinstance(key, str) or key not in known:
                    hint = _suggest(str(key), known)
                    hint = f"did you mean {name}.{hint}? " if hint else ""
                    errors.append(
                        _error(source, _key(name, str(key)), value,
                               f"unknown key in [{name}]; {hint}allowed keys: " + ", ".join(known))
                    )
                    continue
                sections[name][key] = value
                given.append(_key(name, key))
        cfg = cls._unvalidated(task, sections)
        return cfg.validate(source=source, _errors=errors, _given=given)

    @classmethod
    def from_toml(cls, path: Union[str, os.PathLike]) -> "Config":
        """Read a TOML model file (see :meth:`from_dict` for the layout)."""
        source = os.fspath(path)
        try:
            with open(path, "rb") as fh:
                data = tomllib.load(fh)
        except OSError as exc:
            raise ConfigError(f"{source}: cannot read the configuration file: {exc}") from exc
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"{source}: invalid TOML: {exc}") from exc
        return cls.from_dict(data, source=source)

    @classmethod
    def from_toml_string(cls, text: str, source: str = "<string>") -> "Config":
        """Parse TOML text (see :meth:`from_dict` for the layout)."""
        try:
            data = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"{source}: invalid TOML: {exc}") from exc
        return cls.from_dict(data, source=source)

    # ---- validation ---------------------------------------------------

    def validate(self, source: str = "<Config>", _errors=None, _given=()) -> "Config":
        """Check every value; raise :class:`ConfigError` listing all problems.

        Integers given for float fields are converted to ``float`` in place.
        Returns ``self``.
        """
        errors = list(_errors or [])
        self._check_task(self.task, source)
        well_typed = {}  # (section, key) -> bool
        to_float = []
        for name, sec_cls in SECTIONS.items():
            sec = getattr(self, name, None)
            if not isinstance(sec, sec_cls):
                raise ConfigError(
                    _error(source, name, sec, f"must be a {sec_cls.__name__} (got {_type_name(sec)})")
                )
            for f in dataclasses.fields(sec_cls):
                value = getattr(sec, f.name)
                ok, reason = self._check_type(_kind(f), value)
                if ok:
                    if _kind(f) == "float" and not isinstance(value, float):
                        to_float.append((sec, f.name))
                else:
                    errors.append(
                        _error(source, _key(name, f.name), value,
                               f"must be {self._allowed(name, f.name)}{reason}")
                    )
                well_typed[(name, f.name)] = ok
        failed = {_key(n, k) for (n, k), ok in well_typed.items() if not ok}
        given = set(_given)
        order = sorted(well_typed.items(), key=lambda item: _key(*item[0]) not in given)
        for (name, key), ok in order:
            if not ok:
                continue
            rule = _RULES[(name, key)]
            pred, deps = rule[1], (rule[2] if len(rule) > 2 else ())
            if failed.intersection(deps):
                continue
            value = getattr(getattr(self, name), key)
            if not pred(value, self):
                failed.add(_key(name, key))
                errors.append(
                    _error(source, _key(name, key), value, f"must be {self._allowed(name, key)}")
                )
        if errors:
            raise ConfigError(errors)
        for sec, key in to_float:  # ints given for float fields
            setattr(sec, key, float(getattr(sec, key)))
        self._source = source
        return self

    def _allowed(self, section: str, key: str) -> str:
        text = _RULES[(section, key)][0]
        if callable(text):
            try:
                return text(self)
            except Exception:  # a referenced field is badly typed
                return _NUM
        return text

    @staticmethod
    def _check_type(kind: str, value: Any):
        """Return (ok, reason-suffix)."""
        got = f" (got {_type_name(value)})"
        if kind == "int?" and value is None:
            return True, ""
        if kind in ("int", "int?"):
            if isinstance(value, int) and not isinstance(value, bool):
                return True, ""
            return False, got
        if kind == "float":
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                return False, got
            try:
                if math.isfinite(float(value)):
                    return True, ""
            except OverflowError:
                pass
            return False, " (got a non-finite number)" if isinstance(value, float) else " (too large)"
        if kind == "str":
            if isinstance(value, str):
                return True, ""
            return False, got
        raise AssertionError(kind)  # pragma: no cover

    # ---- derived copies and export -------------------------------------

    def to_dict(self) -> dict:
        """Nested plain dict ``{"task": ..., "circuit": {...}, ...}`` (seed may be None)."""
        return dataclasses.asdict(self)

    def replace(self, updates: Union[Mapping[str, Any], None] = None, /, **kwargs: Any) -> "Config":
        """A validated copy with some values changed.

        Keys are ``"section.key"`` (pass them with ``**{...}`` or as a mapping),
        ``"task"`` (only the task name changes, not the other defaults) or a
        section name with a mapping of its keys::

            cfg.replace(**{"circuit.sigma": 0.3, "run.seed": 3})
            cfg.replace({"circuit.sigma": 0.3}, run={"seed": 3})
        """
        changes = dict(updates or {})
        changes.update(kwargs)
        d = self.to_dict()
        for path, value in changes.items():
            if "." in path:
                section, key = path.split(".", 1)
                if section == "task":
                    raise ConfigError(
                        _error("Config.replace()", path, value, "unknown key: task has no sub-keys")
                    )
                # an unknown section or key is reported (with a suggestion) by from_dict
                d.setdefault(section, {})[key] = value
            elif path in SECTIONS and isinstance(value, Mapping):
                d[path].update(value)
            else:
                d[path] = value
        return type(self).from_dict(d, source="Config.replace()")

    def to_toml_string(self) -> str:
        """The configuration as TOML text (all fields; seed omitted when None)."""
        lines = [
            "# brian-effplast model configuration (times in time units of tau_ms ms)",
            f"task = {_toml_value(self.task)}  # {', '.join(TASKS)}",
        ]
        for name, sec_cls in SECTIONS.items():
            sec = getattr(self, name)
            lines.append("")
            lines.append(f"[{name}]")
            for f in dataclasses.fields(sec_cls):
                value = getattr(sec, f.name)
                doc = f.metadata.get("doc", "")
                if value is None:
                    lines.append(f"# {f.name} = (unset)  # {doc}")
                    continue
                if _kind(f) == "float":
                    value = float(value)
                lines.append(f"{f.name} = {_toml_value(value)}" + (f"  # {doc}" if doc else ""))
        return "\n".join(lines) + "\n"

    def to_toml(self, path: Union[str, os.PathLike]) -> None:
        """Write :meth:`to_toml_string` to ``path`` (UTF-8)."""
        with open(path, "w", encoding="utf-8") as fh:
            fh.write(self.to_toml_string())

    # ---- convenience ----------------------------------------------------

    @property
    def n_out(self) -> int:
        """Decoder outputs: 2 for estimation, 1 for classification."""
        return 2 if self.task == "estimation" else 1

    @property
    def k_bar(self) -> float:
        """Low-pass factor per step of the coactivity averages, dt / tau_bar."""
        return self.circuit.dt / self.plasticity.tau_bar

    def steps(self, duration: float, name: str = "duration") -> int:
        """Number of steps of ``circuit.dt`` in ``duration`` (time units).

        Raises :class:`ConfigError` unless ``duration`` is a finite number >= 0
        and a whole number of steps (relative tolerance ``STEP_TOLERANCE``).
        ``name`` (e.g. ``"run.duration"``) is used in the message.
        """
        source = getattr(self, "_source", "<Config>")
        dt = self.circuit.dt
        allowed = f"must be a whole number of steps of circuit.dt = {_fmt(dt)}"
        ok, reason = self._check_type("float", duration)
        if not ok or duration < 0:
            raise ConfigError(_error(source, name, duration, f"{allowed} (a finite number >= 0){reason}"))
        x = float(duration) / dt
        n = round(x)
        if abs(x - n) > STEP_TOLERANCE * max(1.0, abs(x)):
            raise ConfigError(_error(source, name, duration, f"{allowed} (it is {x!r} steps)"))
        return int(n)
