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

Before a long or large run, :func:`estimate_memory`, :func:`estimate_seconds`
and :func:`check_resources` estimate what the configuration needs on this
machine (they are not part of :meth:`Config.validate`, which does not depend
on the machine).
"""

from __future__ import annotations

import codecs
import dataclasses
import difflib
import json
import math
import os
import re
import sys
import tomllib
from fractions import Fraction
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
    "MAX_FILE_BYTES",
    "estimate_memory",
    "estimate_seconds",
    "check_resources",
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
# Rules: (section, key) -> (allowed-text, predicate[, depends-on[, fallback]]).
# The text completes "must be ..."; it may be a function of the configuration
# for cross-field rules (it must then cope with any value, well typed or not).
# Type (int / finite float / string) is checked before the predicate, which
# only sees a well-typed value (the other fields may hold anything, except
# those in depends-on, which are well typed).  A
# cross-field rule is skipped when a field it depends on ("section.key") has
# already been reported, so that one bad value gives one message; when it has
# a fallback (allowed-text, predicate), that single-field check is made
# instead.  Keys given explicitly (e.g. in the file) are checked first, so a
# conflict is blamed on the key that was given.
# --------------------------------------------------------------------------

_NUM = "a finite number"
_NONNEG = f"{_NUM} >= 0"

#: Per-step noise of the rates, sigma*sqrt(dt), at most this fraction of r_max - r_min.
_NOISE_FRACTION = 0.1


def _oneof(names) -> str:
    return "one of " + ", ".join(json.dumps(n) for n in names)


def _finite(value: Any) -> bool:
    """A finite int or float (not a bool)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return False
    try:
        return math.isfinite(float(value))
    except OverflowError:
        return False


def _nonneg(value: Any) -> bool:
    return _finite(value) and value >= 0


def _dt_ok(dt: Any) -> bool:
    """``circuit.dt`` usable in a bound (its own rule reports it otherwise)."""
    return _finite(dt) and 0 < dt < 1


def _num(x: float) -> str:
    """A computed bound for messages."""
    return f"{x:.6g}"


# Counts (neurons, replicas, angles, steps) index Brian2 arrays, whose indices are 32-bit.
_COUNT_MAX = 2**31 - 1


def _count_rule(section: str, key: str, unit: str = ""):
    def text(c) -> str:
        v = getattr(getattr(c, section), key)
        if isinstance(v, int) and not isinstance(v, bool) and v > _COUNT_MAX:
            return f"an integer in [1, {_COUNT_MAX}] (2**31-1: Brian2 indices are 32-bit){unit}"
        return f"an integer >= 1{unit}"

    return (text, lambda v, c: 1 <= v <= _COUNT_MAX)


# circuit.sigma: the noise added per step, sigma*sqrt(dt), must not swamp the rate range.
def _sigma_context(c) -> bool:
    ci = c.circuit
    return _dt_ok(ci.dt) and _finite(ci.r_min) and _finite(ci.r_max) and ci.r_max > ci.r_min


def _sigma_ok(v, c) -> bool:
    if v < 0:
        return False
    if not _sigma_context(c):
        return True  # circuit.dt / r_min / r_max are reported by their own rules
    ci = c.circuit
    return float(v) * math.sqrt(ci.dt) <= _NOISE_FRACTION * (float(ci.r_max) - float(ci.r_min))


def _sigma_text(c) -> str:
    ci = c.circuit
    if not (_nonneg(ci.sigma) and _sigma_context(c)):
        return _NONNEG
    span = float(ci.r_max) - float(ci.r_min)
    bound = _NOISE_FRACTION * span / math.sqrt(ci.dt)
    return (f"{_NUM} with 0 <= sigma <= {_num(bound)}, so that the noise per step, sigma*sqrt(circuit.dt), "
            f"is at most a tenth of the rate range: 0.1*(circuit.r_max - circuit.r_min) = "
            f"{_num(_NOISE_FRACTION * span)} (circuit.dt = {_fmt(ci.dt)}, circuit.r_min = {_fmt(ci.r_min)}, "
            f"circuit.r_max = {_fmt(ci.r_max)})")


# stimulus.sigma_s: one step of the stimulus diffusion must not go round the circle.
def _sigma_s_ok(v, c) -> bool:
    if v < 0:
        return False
    return not _dt_ok(c.circuit.dt) or float(v) * math.sqrt(c.circuit.dt) <= math.pi


def _sigma_s_text(c) -> str:
    dt = c.circuit.dt
    if not (_nonneg(c.stimulus.sigma_s) and _dt_ok(dt)):
        return _NONNEG
    return (f"{_NUM} with 0 <= sigma_s <= pi/sqrt(circuit.dt) = {_num(math.pi / math.sqrt(dt))} "
            f"(circuit.dt = {_fmt(dt)}), so that the stimulus noise per step, sigma_s*sqrt(circuit.dt), is "
            f"at most pi (else the stimulus jumps around the circle within one step)")


# plasticity.eta_X / lam_X: each step moves a parameter p by dt*100*eta*(... - lam*p); with
# dt*100*eta*lam > 1 the L2 decay alone overshoots zero every step (the explicit Euler step of
# the decay flips the sign of p; above 2 it grows without bound).
def _l2_step(c, p: str):
    """dt*100*eta_p*lam_p, or None when a factor is not usable (reported by its own rule)."""
    dt, eta, lam = c.circuit.dt, getattr(c.plasticity, f"eta_{p}"), getattr(c.plasticity, f"lam_{p}")
    if not (_dt_ok(dt) and _nonneg(eta) and _nonneg(lam)):
        return None
    return float(dt) * 100.0 * float(eta) * float(lam)


def _l2_rule(p: str, which: str):
    name = f"{which}_{p}"
    other = ("lam" if which == "eta" else "eta") + f"_{p}"

    def ok(v, c) -> bool:
        if v < 0:
            return False
        step = _l2_step(c, p)
        return step is None or step <= 1.0

    def text(c) -> str:
        step = _l2_step(c, p)
        o = getattr(c.plasticity, other)
        if step is None or o == 0:
            return _NONNEG
        bound = 1.0 / (float(c.circuit.dt) * 100.0 * float(o))
        return (f"{_NONNEG} with circuit.dt*100*eta_{p}*lam_{p} <= 1, i.e. {name} <= {_num(bound)} "
                f"(circuit.dt = {_fmt(c.circuit.dt)}, plasticity.{other} = {_fmt(o)}); a larger step "
                f"makes the L2 decay -lam_{p}*{p} overshoot zero every step")

    return (text, ok, ("circuit.dt", f"plasticity.{other}"), (_NONNEG, lambda v, c: v >= 0))


_RULES: dict = {
    ("", "task"): (_oneof(TASKS), lambda v, c: v in TASKS),
    # circuit
    ("circuit", "N"): _count_rule("circuit", "N"),
    ("circuit", "N_s"): _count_rule("circuit", "N_s"),
    ("circuit", "sigma"): (
        _sigma_text,
        _sigma_ok,
        ("circuit.dt", "circuit.r_min", "circuit.r_max"),
        (_NONNEG, lambda v, c: v >= 0),
    ),
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
    ("stimulus", "sigma_s"): (_sigma_s_text, _sigma_s_ok, ("circuit.dt",), (_NONNEG, lambda v, c: v >= 0)),
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
    ("run", "replicas"): _count_rule("run", "replicas"),
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
    ("test", "angles"): _count_rule("test", "angles"),
    ("test", "hold"): (f"{_NUM} > 0 (time units)", lambda v, c: v > 0),
    ("test", "record_every"): _count_rule("test", "record_every", " (steps)"),
}
for _p in ("W", "C", "b", "D"):
    for _which in ("eta", "lam"):
        _RULES[("plasticity", f"{_which}_{_p}")] = _l2_rule(_p, _which)
del _p, _which

# Every field has a rule (checked at import time).
assert set(_RULES) == {("", "task")} | {
    (s, f.name) for s, cls in SECTIONS.items() for f in dataclasses.fields(cls)
}


# --------------------------------------------------------------------------
# Formatting helpers
# --------------------------------------------------------------------------


#: Longest value (or name) quoted in a message; longer ones are cut.
_MAX_SHOWN = 200
_BARE_KEY = re.compile(r"[A-Za-z0-9_-]+")


def _clip(text: str, limit: int = _MAX_SHOWN) -> str:
    if len(text) <= limit:
        return text
    return f"{text[:limit - 40]}... ({len(text)} characters)"


def _fmt(value: Any, _depth: int = 0) -> str:
    """Format a value for messages (TOML-like, one line, at most about ``_MAX_SHOWN`` characters)."""
    if value is None:
        return "(none)"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        if value.bit_length() > 256:  # str() of huge ints is slow or refused (int_max_str_digits)
            digits = hex(abs(value))[2:]
            return f"{'-' if value < 0 else ''}0x{digits[:16]}... (a {value.bit_length()}-bit integer)"
        return str(value)
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, str):
        return _clip(json.dumps(value))
    if isinstance(value, (Mapping, list, tuple)):
        mapping = isinstance(value, Mapping)
        if _depth >= 4:
            return "{...}" if mapping else "[...]"
        parts, size = [], 0
        items = value.items() if mapping else value
        for item in items:
            if size > _MAX_SHOWN:
                parts.append(f"... ({len(value)} items)")
                break
            text = (f"{_bare(str(item[0]))} = {_fmt(item[1], _depth + 1)}" if mapping
                    else _fmt(item, _depth + 1))
            parts.append(text)
            size += len(text) + 2
        inner = ", ".join(parts)
        return "{" + inner + "}" if mapping else "[" + inner + "]"
    return _clip(_one_line(repr(value)))


def _one_line(text: Any) -> str:
    """``text`` (e.g. an exception's message) on one line."""
    return " ".join(str(text).splitlines())


def _bare(name: str) -> str:
    """A key or section name as written in TOML: bare when it can be, else quoted (one line)."""
    return name if _BARE_KEY.fullmatch(name) else _clip(json.dumps(name))


def _src(source: Any) -> str:
    """A source name for messages (quoted if it would span several lines)."""
    text = str(source)
    return text if "".join(text.splitlines()) == text else json.dumps(text)


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
    """``section.key`` for messages (names that are not bare TOML keys are quoted)."""
    return f"{_bare(section)}.{_bare(key)}" if section else _bare(key)


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
# Reading model files: every failure is one ConfigError naming the file
# --------------------------------------------------------------------------

_CANNOT_READ = "cannot read the configuration file"


def _read_file(path: Any, source: str) -> bytes:
    """The bytes of ``path`` (at most ``MAX_FILE_BYTES``)."""
    try:
        with open(path, "rb") as fh:
            raw = fh.read(MAX_FILE_BYTES + 1)
    except IsADirectoryError as exc:
        raise ConfigError(f"{source}: {_CANNOT_READ}: it is a directory, not a TOML file") from exc
    except FileNotFoundError as exc:
        raise ConfigError(f"{source}: {_CANNOT_READ}: no such file") from exc
    except PermissionError as exc:
        raise ConfigError(f"{source}: {_CANNOT_READ}: permission denied") from exc
    except OSError as exc:
        raise ConfigError(f"{source}: {_CANNOT_READ}: {_one_line(exc.strerror or exc)}") from exc
    except ValueError as exc:  # e.g. a NUL character in the path
        raise ConfigError(f"{source}: {_CANNOT_READ}: not a valid path ({_one_line(exc)})") from exc
    if len(raw) > MAX_FILE_BYTES:
        raise ConfigError(f"{source}: {_CANNOT_READ}: it is larger than {_gib(MAX_FILE_BYTES)} "
                          "(a model file is a few kB of TOML text)")
    return raw


def _decode_toml(raw: bytes, source: str) -> str:
    """UTF-8 text of a model file (TOML files are UTF-8; a UTF-8 byte-order mark is dropped)."""
    not_text = f"{source}: {_CANNOT_READ}: it is not UTF-8 TOML text"
    if raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):  # (BOM_UTF32_LE starts with BOM_UTF16_LE)
        kind = "UTF-32" if raw.startswith((codecs.BOM_UTF32_LE, codecs.BOM_UTF32_BE)) else "UTF-16"
        raise ConfigError(f"{not_text} (it starts with a {kind} byte-order mark: save it as UTF-8)")
    if raw.startswith(codecs.BOM_UTF8):
        raw = raw[len(codecs.BOM_UTF8):]
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{not_text} (byte 0x{raw[exc.start]:02x} at offset {exc.start} is not valid "
                          "UTF-8: a binary file, or another encoding? save it as UTF-8)") from None
    nul = text.find("\0")
    if nul >= 0:
        raise ConfigError(f"{not_text} (it contains a NUL byte, character {nul}: a binary or UTF-16 file?)")
    return text


def _parse_toml(text: str, source: str) -> dict:
    """``tomllib.loads(text)``; any failure of the parser is a ConfigError naming ``source``."""
    invalid = f"{source}: invalid TOML"
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{invalid}: {_one_line(exc)}") from exc
    except RecursionError:
        raise ConfigError(f"{invalid}: arrays or tables nested too deeply") from None
    except MemoryError:
        raise ConfigError(f"{invalid}: too large to parse") from None
    except ValueError as exc:
        if "integer string conversion" in str(exc):  # sys.int_max_str_digits
            raise ConfigError(f"{invalid}: an integer has more than {sys.get_int_max_str_digits()} "
                              "digits") from exc
        raise ConfigError(f"{invalid}: {_clip(_one_line(exc))}") from exc
    except Exception as exc:  # anything else the parser may raise on odd input
        raise ConfigError(f"{invalid}: {type(exc).__name__}: {_clip(_one_line(exc))}") from exc


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
        source = _src(source)
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
                    _error(source, _bare(str(name)), values,
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
        """Read a TOML model file (see :meth:`from_dict` for the layout).

        Every problem is a :class:`ConfigError` naming the file: it cannot be
        read (missing, a directory, no permission, larger than
        ``MAX_FILE_BYTES``), it is not UTF-8 text (binary, UTF-16 ...; a UTF-8
        byte-order mark is accepted), it is not valid TOML, or a value is not
        allowed.
        """
        source = _src(os.fsdecode(os.fspath(path)))
        return cls.from_dict(_parse_toml(_decode_toml(_read_file(path, source), source), source),
                             source=source)

    @classmethod
    def from_toml_string(cls, text: str, source: str = "<string>") -> "Config":
        """Parse TOML text (see :meth:`from_dict` for the layout)."""
        source = _src(source)
        if not isinstance(text, str):
            raise ConfigError(f"{source}: cannot read the configuration: TOML text must be a str "
                              f"(got {_type_name(text)})")
        return cls.from_dict(_parse_toml(text, source), source=source)

    # ---- validation ---------------------------------------------------

    def validate(self, source: str = "<Config>", _errors=None, _given=()) -> "Config":
        """Check every value; raise :class:`ConfigError` listing all problems.

        Integers given for float fields are converted to ``float`` in place.
        Returns ``self``.
        """
        source = _src(source)
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
            allowed = None
            if failed.intersection(deps):
                if len(rule) < 4:
                    continue
                allowed, pred = rule[3]  # the check that does not involve the failed fields
            value = getattr(getattr(self, name), key)
            if not pred(value, self):
                failed.add(_key(name, key))
                if allowed is None:
                    allowed = self._allowed(name, key)
                errors.append(_error(source, _key(name, key), value, f"must be {allowed}"))
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
                        _error("Config.replace()", _key(section, key), value, "unknown key: task has no sub-keys")
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


# --------------------------------------------------------------------------
# Resource estimates (machine-dependent: not part of Config.validate)
# --------------------------------------------------------------------------

#: Bytes per synapse per replica: about 12 eight-byte values. Brian2 holds
#: W/C, W_bar/C_bar, the pre/post/replica indices (and the temporaries that
#: build them); the model keeps NumPy copies of W, W_bar, C, C_bar in shape
#: (R, N, N) / (R, N, N_s), and a checkpoint copy of them.
_SYNAPSE_BYTES = 96
#: Bytes per neuron, input unit or output per replica (rates, biases,
#: decoder columns, averages, noise buffers, Brian2 bookkeeping).
_UNIT_BYTES = 1024
#: Bytes per learning-curve bin per (replicas + 1): the monitor (with its
#: over-allocation), the times and the NumPy copies of the curve.
_CURVE_BYTES = 32

#: Per-step cost model, seconds: fixed + per neuron-replica + per synapse-replica,
#: fitted to benchmarks/results.json (one core, dt = 0.01; measured us/step
#: N=40,R=1 / N=25,R=1 / N=40,R=20 / N=100,R=1 / N=400,R=1:
#: cpp_standalone 4.6 / 2.4 / 90 / 18 / 271, cython 26 / 24 / 126 / 44 / -,
#: numpy 360 / 302 / 4096 / 672 / -; the model is within 30 % of each).
_STEP_COST = {
    "cpp_standalone": (1e-6, 3e-8, 1.5e-9),
    "cython": (2e-5, 5e-8, 1.7e-9),
    "numpy": (1.75e-4, 4.5e-6, 5e-9),
}
_DAY = 86400.0


def _as_float(x: Any) -> float:
    try:
        return float(x)
    except OverflowError:
        return math.inf


def _memory_parts(cfg: Config) -> tuple:
    """(synapses, units, learning curve) bytes; exact integers."""
    N, N_s, R = cfg.circuit.N, cfg.circuit.N_s, cfg.run.replicas
    synapses = _SYNAPSE_BYTES * R * (N * N + N * N_s)
    units = _UNIT_BYTES * R * (N + N_s + cfg.n_out)
    bins = math.ceil(Fraction(cfg.run.duration) / Fraction(cfg.run.curve_bin))
    curve = _CURVE_BYTES * (R + 1) * bins
    return synapses, units, curve


def estimate_memory(cfg: Config) -> int:
    """Bytes the arrays of a run of ``cfg`` need (estimated before allocating anything).

    With ``N = circuit.N``, ``N_s = circuit.N_s``, ``R = run.replicas``::

        96 * R * (N*N + N*N_s)                    synapses W (N*N) and C (N*N_s)
      + 1024 * R * (N + N_s + n_out)              per-unit state
      + 32 * (R + 1) * ceil(run.duration / run.curve_bin)   learning curve

    96 bytes per synapse is about 12 eight-byte values: in Brian2 the weight,
    its average, the pre/post/replica indices (and the temporaries that build
    them); in Python the NumPy state copies ``W``, ``W_bar``, ``C``, ``C_bar``
    (shape (R, N, N) / (R, N, N_s)) and a checkpoint copy.  Generous on
    purpose; the interpreter and Brian2 themselves (about 150 MB per process)
    are not counted.  ``run.workers`` does not change the total.
    """
    return sum(_memory_parts(cfg))


def _seconds_per_step(cfg: Config) -> float:
    a, per_unit, per_synapse = _STEP_COST[cfg.run.target]
    N, N_s, R = cfg.circuit.N, cfg.circuit.N_s, cfg.run.replicas
    scaled = per_unit * _as_float(R * N) + per_synapse * _as_float(R * (N * N + N * N_s))
    return a + scaled / max(1, min(cfg.run.workers, R))


def estimate_seconds(cfg: Config) -> float:
    """Rough wall time, in seconds, of training ``cfg`` for ``run.duration`` on ``run.target``.

    ``run.duration / circuit.dt`` steps at a per-step cost of::

        a + (b * R*N + c * R*(N*N + N*N_s)) / run.workers

    with (a, b, c) = (1e-6, 3e-8, 1.5e-9) s for cpp_standalone,
    (2e-5, 5e-8, 1.7e-9) for cython and (1.75e-4, 4.5e-6, 5e-9) for numpy,
    fitted to ``benchmarks/results.json`` (one core of the benchmark machine:
    4.6, 26 and 360 us per step at N = 40, R = 1).  Compilation, the test
    protocol and file output are not included; expect a factor of 2 either
    way on another machine.  May be ``inf`` for absurd sizes.
    """
    steps = _as_float(cfg.run.duration) / cfg.circuit.dt
    return steps * _seconds_per_step(cfg)


def _gib(n: int) -> str:
    """A size in bytes for messages (GiB, or MiB / KiB when small)."""
    try:
        x = n / 2**30
    except OverflowError:
        return "more than 1e+300 GiB"
    if x < 1:
        return f"{n / 2**20:.1f} MiB" if n >= 2**20 else f"{n / 1024:.1f} KiB"
    return f"{x:.1f} GiB" if x < 1e5 else f"{x:.3g} GiB"


def _duration_text(seconds: float) -> str:
    if not math.isfinite(seconds):
        return "longer than the age of the universe"
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 7200:
        return f"{seconds / 60:.0f} min"
    if seconds < 2 * _DAY:
        return f"{seconds / 3600:.1f} hours"
    if seconds < 365 * _DAY:
        return f"{seconds / _DAY:.1f} days"
    return f"{seconds / (365.25 * _DAY):.3g} years"


def _physical_memory():
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (AttributeError, ValueError, OSError, TypeError):
        return None


def check_resources(cfg: Config, available_bytes: Union[int, None] = None) -> list:
    """Refuse a run that cannot fit in memory; warn about one that would run for days.

    Raises :class:`ConfigError` (naming the configuration's source and the key
    that makes the model big: ``circuit.N`` or ``circuit.N_s`` when one
    replica does not fit, ``run.replicas`` when several do not,
    ``run.duration`` when the learning curve is the problem) if
    :func:`estimate_memory` exceeds ``available_bytes`` (default: the
    physical memory, ``SC_PAGE_SIZE * SC_PHYS_PAGES``; not checked when that
    is unknown).  Nothing is allocated.

    Returns a list of warnings (strings, possibly empty): one when
    :func:`estimate_seconds` exceeds 24 hours.
    """
    source = getattr(cfg, "_source", "<Config>")
    N, N_s, R = cfg.circuit.N, cfg.circuit.N_s, cfg.run.replicas
    have = "this machine has"
    if available_bytes is None:
        available_bytes = _physical_memory()
    else:
        have = "available:"
    need = estimate_memory(cfg)
    if available_bytes is not None and need > available_bytes:
        synapses, units, curve = _memory_parts(cfg)
        have = f"{have} {_gib(available_bytes)}"
        if curve > synapses + units:
            key, value = "run.duration", cfg.run.duration
            detail = (f"the learning curve alone takes {_gib(curve)}: run.duration / run.curve_bin "
                      f"= {_fmt(curve // (_CURVE_BYTES * (R + 1)))} bins x (R + 1) x {_CURVE_BYTES} bytes")
            advice = "; use a larger run.curve_bin or a shorter run.duration"
        else:
            bins = curve // (_CURVE_BYTES * (R + 1))
            per_replica = (synapses + units) // R + _CURVE_BYTES * bins
            one = per_replica + _CURVE_BYTES * bins  # a single replica, with its learning curve
            detail = (f"{_SYNAPSE_BYTES} bytes x R x (N*N + N*N_s) synapses = {_SYNAPSE_BYTES} x {_fmt(R)} x "
                      f"{_fmt(N * N + N * N_s)} bytes, plus the rest")
            if R == 1 or one > available_bytes:
                key, value = ("circuit.N_s", N_s) if N_s > N else ("circuit.N", N)
                advice = "; use a smaller circuit"
            else:
                key, value = "run.replicas", R
                fit = max(1, (available_bytes - _CURVE_BYTES * bins) // per_replica)
                advice = f"; at most about {_fmt(fit)} replicas fit (spread the rest over several runs)"
        raise ConfigError(f"{source}: {key} = {_fmt(value)} is not allowed: the model needs an estimated "
                          f"{_gib(need)} of memory ({detail}), {have}{advice}")
    warnings = []
    seconds = estimate_seconds(cfg)
    if not seconds <= _DAY:
        workers = f", workers = {_fmt(cfg.run.workers)}" if cfg.run.workers > 1 else ""
        warnings.append(
            f"{source}: run.duration = {_fmt(cfg.run.duration)} time units on {cfg.run.target}: estimated "
            f"{_duration_text(seconds)} (R = {_fmt(R)}, N = {_fmt(N)}{workers}); consider a shorter run.duration"
        )
    return warnings
