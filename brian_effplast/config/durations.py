"""Durations with units: Brian2 quantities and strings such as ``"200 s"``, in time units of tau.

The configuration keeps every time in the paper's time units (one unit is
``circuit.tau_ms`` ms); a duration may also be given with its unit, as a
Brian2 quantity (``2*second``, from Python) or a string (``"200s"``,
``"50 ms"``, from the command line or a model file), and is converted here.
No Brian2 import: a quantity is recognised by its ``dim``.
"""

import re

__all__ = ["to_time_units", "given_tau_ms", "TIME_UNITS_MS", "TIME_KEYS"]

#: The configuration's durations and time constants (in time units; a unit is converted).
TIME_KEYS = frozenset({("circuit", "dt"), ("circuit", "tau_r"), ("plasticity", "tau_bar"), ("plasticity", "tau_e"),
                       ("run", "duration"), ("run", "transient"), ("run", "checkpoint_every"),
                       ("run", "curve_bin"), ("run", "trial"), ("test", "hold")})

#: Unit names accepted in duration strings, in ms.
TIME_UNITS_MS = {"us": 1e-3, "usecond": 1e-3, "ms": 1.0, "msecond": 1.0, "s": 1e3, "second": 1e3,
                 "seconds": 1e3, "min": 6e4, "minute": 6e4, "minutes": 6e4, "h": 3.6e6, "hour": 3.6e6,
                 "hours": 3.6e6}

_NUMBER_UNIT = re.compile(r"^\s*([-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)\s*\*?\s*([A-Za-z]+)\s*$")


def to_time_units(value, tau_ms):
    """``value`` in time units of ``tau_ms`` ms.

    A Brian2 quantity of time (``0.05*second``) or a string with a unit
    (``"200 s"``, ``"50ms"``, ``"2 * second"``; units: :data:`TIME_UNITS_MS`)
    is converted; a plain number or a dimensionless quantity is already in
    time units. Anything else (a string without a known unit, a quantity of
    other units) is returned unchanged, for the caller's validation to
    report.
    """
    dim = getattr(value, "dim", None)
    if dim is not None and getattr(value, "shape", ()) == ():
        if str(dim) == "s":  # (Brian2's float() of a quantity is its value in SI units)
            return float(value) * 1e3 / tau_ms
        if str(dim) == "1":
            return float(value)
        return value
    if isinstance(value, str):
        m = _NUMBER_UNIT.match(value)
        if m and m.group(2) in TIME_UNITS_MS:
            return float(m.group(1)) * TIME_UNITS_MS[m.group(2)] / tau_ms
        try:
            return float(value)  # a plain number on the command line: time units
        except ValueError:
            return value
    return value


def given_tau_ms(d, default):
    """``circuit.tau_ms`` of a configuration mapping ``d`` when it is a number > 0, else ``default``
    (a bad value is reported by the validation)."""
    circuit = d.get("circuit")
    tau = circuit.get("tau_ms") if hasattr(circuit, "get") else None
    ok = isinstance(tau, (int, float)) and not isinstance(tau, bool) and 0 < tau < float("inf")
    return float(tau) if ok else default
