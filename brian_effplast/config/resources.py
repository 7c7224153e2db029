"""Resource estimates of a configuration: memory and time, before anything is allocated.

Machine-dependent, so not part of :meth:`~brian_effplast.config.Config.validate`:
:func:`check_resources` refuses a model that cannot fit in this machine's
memory and warns about a run that would take days.
"""

from __future__ import annotations

import math
import os
from fractions import Fraction
from typing import Any, Union

from .messages import duration_text, fmt, gib
from .schema import ConfigError


__all__ = ["estimate_memory", "estimate_seconds", "check_resources"]

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


def _memory_parts(cfg) -> tuple:
    """(synapses, units, learning curve) bytes; exact integers."""
    N, N_s, R = cfg.circuit.N, cfg.circuit.N_s, cfg.run.replicas
    synapses = _SYNAPSE_BYTES * R * (N * N + N * N_s)
    units = _UNIT_BYTES * R * (N + N_s + cfg.n_out)
    bins = math.ceil(Fraction(cfg.run.duration) / Fraction(cfg.run.curve_bin))
    curve = _CURVE_BYTES * (R + 1) * bins
    return synapses, units, curve


def estimate_memory(cfg) -> int:
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


def _seconds_per_step(cfg) -> float:
    a, per_unit, per_synapse = _STEP_COST[cfg.run.target]
    N, N_s, R = cfg.circuit.N, cfg.circuit.N_s, cfg.run.replicas
    scaled = per_unit * _as_float(R * N) + per_synapse * _as_float(R * (N * N + N * N_s))
    return a + scaled / max(1, min(cfg.run.workers, R))


def estimate_seconds(cfg) -> float:
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


def _physical_memory():
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (AttributeError, ValueError, OSError, TypeError):
        return None


def check_resources(cfg, available_bytes: Union[int, None] = None) -> list:
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
        have = f"{have} {gib(available_bytes)}"
        if curve > synapses + units:
            key, value = "run.duration", cfg.run.duration
            detail = (f"the learning curve alone takes {gib(curve)}: run.duration / run.curve_bin "
                      f"= {fmt(curve // (_CURVE_BYTES * (R + 1)))} bins x (R + 1) x {_CURVE_BYTES} bytes")
            advice = "; use a larger run.curve_bin or a shorter run.duration"
        else:
            bins = curve // (_CURVE_BYTES * (R + 1))
            per_replica = (synapses + units) // R + _CURVE_BYTES * bins
            one = per_replica + _CURVE_BYTES * bins  # a single replica, with its learning curve
            detail = (f"{_SYNAPSE_BYTES} bytes x R x (N*N + N*N_s) synapses = {_SYNAPSE_BYTES} x {fmt(R)} x "
                      f"{fmt(N * N + N * N_s)} bytes, plus the rest")
            if R == 1 or one > available_bytes:
                key, value = ("circuit.N_s", N_s) if N_s > N else ("circuit.N", N)
                advice = "; use a smaller circuit"
            else:
                key, value = "run.replicas", R
                fit = max(1, (available_bytes - _CURVE_BYTES * bins) // per_replica)
                advice = f"; at most about {fmt(fit)} replicas fit (spread the rest over several runs)"
        raise ConfigError(f"{source}: {key} = {fmt(value)} is not allowed: the model needs an estimated "
                          f"{gib(need)} of memory ({detail}), {have}{advice}")
    warnings = []
    seconds = estimate_seconds(cfg)
    if not seconds <= _DAY:
        workers = f", workers = {fmt(cfg.run.workers)}" if cfg.run.workers > 1 else ""
        warnings.append(
            f"{source}: run.duration = {fmt(cfg.run.duration)} time units on {cfg.run.target}: estimated "
            f"{duration_text(seconds, unknown='longer than the age of the universe')} "
            f"(R = {fmt(R)}, N = {fmt(N)}{workers}); consider a shorter run.duration"
        )
    return warnings
