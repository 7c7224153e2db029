"""The validation rules of every configuration field: what is allowed, as text and as a test.

:data:`RULES` maps ``(section, key)`` to ``(allowed-text, predicate[,
depends-on[, fallback]])``; :meth:`brian_effplast.config.Config.validate`
applies them. One rule per field, checked at import.
"""

from __future__ import annotations

import dataclasses
import json
import math
import re
from typing import Any

from .messages import fmt
from .schema import (NEURONS, NONLINEARITIES, PLASTICITY_RULES, SECTIONS, SEED_MAX, TARGETS, TASKS, TEST_PROTOCOLS,
                     TEST_STARTS, TRIAL_ANGLES)

__all__ = ["RULES", "NUM"]

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

NUM = "a finite number"
_NONNEG = f"{NUM} >= 0"

#: Per-step noise of the rates, sigma*sqrt(dt), at most this fraction of r_max - r_min.
_NOISE_FRACTION = 0.1


_IMPORT_PATH = re.compile(r"^[A-Za-z_]\w*(\.[A-Za-z_]\w*)*:[A-Za-z_]\w*$")


def _import_path(value: Any) -> bool:
    """``"package.module:Name"`` (a user's class, imported when the configuration is checked)."""
    return isinstance(value, str) and bool(_IMPORT_PATH.match(value))


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


def _optional(rule, none_text):
    """``rule`` for an ``int?`` field that may also be None (``none_text`` names it in messages)."""
    text, pred = rule
    return (lambda c: text(c) + f", or {none_text}", lambda v, c: v is None or pred(v, c))


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
    return (f"{NUM} with 0 <= sigma <= {_num(bound)}, so that the noise per step, sigma*sqrt(circuit.dt), "
            f"is at most a tenth of the rate range: 0.1*(circuit.r_max - circuit.r_min) = "
            f"{_num(_NOISE_FRACTION * span)} (circuit.dt = {fmt(ci.dt)}, circuit.r_min = {fmt(ci.r_min)}, "
            f"circuit.r_max = {fmt(ci.r_max)})")


# circuit.neuron = "poisson": the spikes are the only noise, and the rule is Eq. 10 (REINFORCE's
# factor f'(h)*(r - r_bar) is the rate neuron's; a Poisson neuron's score is another expression).
def _poisson_needs(c) -> str:
    """What ``circuit.neuron = "poisson"`` needs and this configuration lacks ("" when nothing)."""
    if c.circuit.neuron != "poisson":
        return ""
    lacks = []
    if c.circuit.sigma != 0:
        lacks.append(f"circuit.sigma = 0 (the spikes are the noise; it is {fmt(c.circuit.sigma)})")
    if c.plasticity.rule != "eq10":
        lacks.append(f'plasticity.rule = "eq10" (it is {fmt(c.plasticity.rule)})')
    return ' ("poisson" needs ' + " and ".join(lacks) + ")" if lacks else ""


# stimulus.sigma_s: one step of the stimulus diffusion must not go round the circle.
def _sigma_s_ok(v, c) -> bool:
    if v < 0:
        return False
    return not _dt_ok(c.circuit.dt) or float(v) * math.sqrt(c.circuit.dt) <= math.pi


def _sigma_s_text(c) -> str:
    dt = c.circuit.dt
    if not (_nonneg(c.stimulus.sigma_s) and _dt_ok(dt)):
        return _NONNEG
    return (f"{NUM} with 0 <= sigma_s <= pi/sqrt(circuit.dt) = {_num(math.pi / math.sqrt(dt))} "
            f"(circuit.dt = {fmt(dt)}), so that the stimulus noise per step, sigma_s*sqrt(circuit.dt), is "
            f"at most pi (else the stimulus jumps around the circle within one step)")


# plasticity.eta_X / lam_X: each step moves a parameter p by dt*100*eta*(... - lam*p); with
# dt*100*eta*lam > 1 the L2 decay alone overshoots zero every step (the explicit Euler step of
# the decay flips the sign of p; above 2 it grows without bound).
def _l2_step(c, p: str):
    """dt*100*eta_p*lam_p, or None when a factor is not usable (reported by its own rule)."""
    dt, eta, lam = c.circuit.dt, getattr(c.plasticity, f"eta_{p}"), getattr(c.plasticity, f"lam_{p}")
    if not (_dt_ok(dt) and _nonneg(eta) and _nonneg(lam)):
        return None
    if float(eta) == 0 or float(lam) == 0:
        return 0.0  # (no decay, whatever the factor: not 0*inf)
    return float(dt) * 100.0 * float(eta) * float(lam) * _lam_factor(c, p)


def _lam_factor(c, p: str) -> float:
    """(sigma/lam_sigma_ref)**2 for W, C and b when lam_sigma_ref > 0, else 1 (unusable values: 1)."""
    ref, sigma = c.plasticity.lam_sigma_ref, c.circuit.sigma
    if p == "D" or not (_nonneg(ref) and _nonneg(sigma)) or float(ref) == 0:
        return 1.0
    ratio = float(sigma) / float(ref)
    return ratio * ratio  # inf, not OverflowError, for a vanishing lam_sigma_ref (then reported as too large a step)


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
        factor = _lam_factor(c, p)
        bound = 1.0 / (float(c.circuit.dt) * 100.0 * float(o) * factor)
        scaled, given = "", ""
        if factor != 1.0:
            scaled = "*(circuit.sigma/plasticity.lam_sigma_ref)**2"
            given = (f", circuit.sigma = {fmt(c.circuit.sigma)}, "
                     f"plasticity.lam_sigma_ref = {fmt(c.plasticity.lam_sigma_ref)}")
        return (f"{_NONNEG} with circuit.dt*100*eta_{p}*lam_{p}{scaled} <= 1, i.e. {name} <= {_num(bound)} "
                f"(circuit.dt = {fmt(c.circuit.dt)}, plasticity.{other} = {fmt(o)}{given}); a larger step "
                f"makes the L2 decay -lam_{p}*{p} overshoot zero every step")

    return (text, ok, ("circuit.dt", f"plasticity.{other}", "circuit.sigma", "plasticity.lam_sigma_ref"),
            (_NONNEG, lambda v, c: v >= 0))


#: The smallest circuit.dt (time units): 1e6 steps per time unit. Far below it a run's step count
#: overflows (dt = 1e-320: inf steps) or is blamed on run.duration (dt = 1e-300).
DT_MIN = 1e-6


#: ``(section, key) -> (allowed-text, predicate[, depends-on[, fallback]])``, one rule per field.
RULES: dict = {
    ("", "task"): (_oneof(TASKS) + ', or an import path "package.module:Class" of a Task subclass',
                   lambda v, c: v in TASKS or _import_path(v)),
    # circuit
    ("circuit", "N"): _count_rule("circuit", "N"),
    ("circuit", "N_s"): _count_rule("circuit", "N_s"),
    ("circuit", "sigma"): (
        _sigma_text,
        _sigma_ok,
        ("circuit.dt", "circuit.r_min", "circuit.r_max"),
        (_NONNEG, lambda v, c: v >= 0),
    ),
    ("circuit", "tau_ms"): (f"{NUM} > 0 (milliseconds)", lambda v, c: v > 0),
    ("circuit", "dt"): (
        f"{NUM} with {DT_MIN:g} <= dt < 1: dt must be smaller than tau (1 time unit), and not so small that "
        "one time unit takes more than a million steps",
        lambda v, c: DT_MIN <= v < 1,
    ),
    ("circuit", "r_min"): (
        lambda c: (
            f"{NUM} with 0 < r_min < circuit.r_max ({fmt(c.circuit.r_max)}) "
            f"and r_min <= circuit.r_init ({fmt(c.circuit.r_init)})"
        ),
        lambda v, c: 0 < v < c.circuit.r_max and v <= c.circuit.r_init,
        ("circuit.r_max", "circuit.r_init"),
    ),
    ("circuit", "r_max"): (
        lambda c: (
            f"{NUM} > circuit.r_min ({fmt(c.circuit.r_min)}) "
            f"and >= circuit.r_init ({fmt(c.circuit.r_init)})"
        ),
        lambda v, c: v > c.circuit.r_min and v >= c.circuit.r_init,
        ("circuit.r_min", "circuit.r_init"),
    ),
    ("circuit", "r_init"): (
        lambda c: (
            f"{NUM} with circuit.r_min <= r_init <= circuit.r_max "
            f"({fmt(c.circuit.r_min)} <= r_init <= {fmt(c.circuit.r_max)})"
        ),
        lambda v, c: c.circuit.r_min <= v <= c.circuit.r_max,
        ("circuit.r_min", "circuit.r_max"),
    ),
    ("circuit", "neuron"): (
        lambda c: _oneof(NEURONS) + _poisson_needs(c),
        lambda v, c: v in NEURONS and (v == "rate" or not _poisson_needs(c)),
        ("circuit.sigma", "plasticity.rule"),
        (_oneof(NEURONS), lambda v, c: v in NEURONS),
    ),
    ("circuit", "rate_scale"): (f"{NUM} > 0 (spikes per time unit at r = 1)", lambda v, c: v > 0),
    ("circuit", "tau_r"): (
        lambda c: f"{NUM} >= circuit.dt ({fmt(c.circuit.dt)}) (time units)",
        lambda v, c: v >= c.circuit.dt,
        ("circuit.dt",),
    ),
    # nonlinearity
    ("nonlinearity", "kind"): (_oneof(NONLINEARITIES) + ', or an import path "package.module:Class" of an '
                               'FICurve subclass', lambda v, c: v in NONLINEARITIES or _import_path(v)),
    ("nonlinearity", "a"): (NUM, lambda v, c: True),
    ("nonlinearity", "beta"): (f"{NUM} > 0", lambda v, c: v > 0),
    ("nonlinearity", "g"): (f"{NUM} > 0", lambda v, c: v > 0),
    # stimulus
    ("stimulus", "mu"): (f"{NUM} (radians; any real, wrapped to [-pi, pi))", lambda v, c: True),
    ("stimulus", "kappa"): (f"{NUM} >= 0", lambda v, c: v >= 0),
    ("stimulus", "sigma_s"): (_sigma_s_text, _sigma_s_ok, ("circuit.dt",), (_NONNEG, lambda v, c: v >= 0)),
    # plasticity
    ("plasticity", "rule"): (_oneof(PLASTICITY_RULES), lambda v, c: v in PLASTICITY_RULES),
    ("plasticity", "tau_bar"): (
        lambda c: f"{NUM} >= circuit.dt ({fmt(c.circuit.dt)}) (time units)",
        lambda v, c: v >= c.circuit.dt,
        ("circuit.dt",),
    ),
    ("plasticity", "tau_e"): (
        lambda c: f"{NUM} >= circuit.dt ({fmt(c.circuit.dt)}) (time units)",
        lambda v, c: v >= c.circuit.dt,
        ("circuit.dt",),
    ),
    ("plasticity", "lam_sigma_ref"): (
        f"{NUM} >= 0 (0 = lam_W, lam_C and lam_b do not scale with circuit.sigma)",
        lambda v, c: v >= 0,
    ),
    # init
    ("init", "W_scale"): (f"{NUM} >= 0", lambda v, c: v >= 0),
    ("init", "C_scale"): (f"{NUM} >= 0", lambda v, c: v >= 0),
    ("init", "D_scale"): (f"{NUM} >= 0", lambda v, c: v >= 0),
    ("init", "b"): (NUM, lambda v, c: True),
    ("init", "W_symmetric"): (
        lambda c: ("false with plasticity.rule = \"reinforce\": REINFORCE moves W[i, j] by "
                   "f'(h_i)*(r_i - r_bar_i)*r_j, not symmetric in i and j, so W would not stay symmetric "
                   "(the mode needs plasticity.rule = \"eq10\")"
                   if c.init.W_symmetric is True and c.plasticity.rule == "reinforce" else "true or false"),
        lambda v, c: not v or c.plasticity.rule != "reinforce",
        ("plasticity.rule",),
        ("true or false", lambda v, c: True),
    ),
    # run
    ("run", "duration"): (
        lambda c: f"{NUM} > 0 and > run.transient ({fmt(c.run.transient)}) (time units)",
        lambda v, c: v > 0 and v > c.run.transient,
        ("run.transient",),
    ),
    ("run", "transient"): (
        lambda c: f"{NUM} with 0 <= transient < run.duration ({fmt(c.run.duration)}) (time units)",
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
        f"{NUM} >= 0 (time units; 0 = only at the end)",
        lambda v, c: v >= 0,
    ),
    ("run", "trial"): (
        lambda c: f"{NUM}: 0 (no trials) or > run.transient ({fmt(c.run.transient)}) (time units)",
        lambda v, c: v == 0 or v > c.run.transient,
        ("run.transient",),
    ),
    ("run", "trial_angle"): (
        lambda c: _oneof(TRIAL_ANGLES) + ("" if c.run.trial else " (\"prior\" and \"authors\" draw an angle "
                                                                  "at each trial start: they need run.trial > 0)"),
        lambda v, c: v == "continue" or (v in TRIAL_ANGLES and c.run.trial > 0),
        ("run.trial",),
    ),
    ("run", "curve_bin"): (
        lambda c: f"{NUM} >= circuit.dt ({fmt(c.circuit.dt)}) (time units)",
        lambda v, c: v >= c.circuit.dt,
        ("circuit.dt",),
    ),
    # test
    ("test", "protocol"): (_oneof(TEST_PROTOCOLS), lambda v, c: v in TEST_PROTOCOLS),
    ("test", "angles"): (
        lambda c: (f"circuit.N_s ({fmt(c.circuit.N_s)}) with test.protocol = \"authors\" (its stimuli are "
                   "the input units' preferred angles)" if c.test.protocol == "authors"
                   else _count_rule("test", "angles")[0](c)),
        lambda v, c: _count_rule("test", "angles")[1](v, c) and (c.test.protocol != "authors" or v == c.circuit.N_s),
        ("test.protocol", "circuit.N_s"),
        _count_rule("test", "angles"),
    ),
    ("test", "hold"): (f"{NUM} > 0 (time units)", lambda v, c: v > 0),
    ("test", "record_every"): _optional(_count_rule("test", "record_every", " (steps)"), "omitted"),
    ("test", "trials"): _optional(_count_rule("test", "trials"), "omitted"),
    ("test", "start"): (_oneof(TEST_STARTS), lambda v, c: v in TEST_STARTS),
}
for _p in ("W", "C", "b", "D"):
    for _which in ("eta", "lam"):
        RULES[("plasticity", f"{_which}_{_p}")] = _l2_rule(_p, _which)
del _p, _which

# Every field has a rule (checked at import time).
assert set(RULES) == {("", "task")} | {
    (s, f.name) for s, cls in SECTIONS.items() for f in dataclasses.fields(cls)
}
