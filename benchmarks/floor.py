"""The speed floor: a hand-written single-threaded C loop of the model step.

``floor.c`` implements exactly the step of docs/model.md (R independent
replicas, learning on), with its own normal generator (xoshiro256+ and the
Marsaglia polar method) drawn inside the timed loop.  It is compiled with
the same flags Brian2 uses for its C++ code (``prefs.codegen.cpp.
extra_compile_args_gcc``, minus the C++-only ones), into a cache under
``benchmarks/.build`` keyed by the source and the flags, and called through
ctypes.  Used by the speed benchmark only, never by the tests.

Public:

- ``floor_us_per_step(task, N, R, steps, seed=0) -> float``
- ``floor_run(task, N, R, steps, seed=0, ...) -> FloorResult``
  (also the mean reward of the first and last blocks of steps)
- ``compile_seconds() -> float``: time of one fresh compilation
- ``compile_flags() -> list[str]``
"""
import ctypes
import hashlib
import os
import subprocess
import tempfile
import time
from collections import namedtuple

import numpy as np

try:
    from .numpy_loop import initial_state, numpy_run, reference_params
except ImportError:  # run as a script or with benchmarks/ on sys.path
    from numpy_loop import initial_state, numpy_run, reference_params

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE = os.path.join(HERE, "floor.c")
BUILD_DIR = os.path.join(HERE, ".build")
CC = os.environ.get("CC", "cc")

# order of floor.c's params[] array
_PARAM_NAMES = ("dt", "sigma", "kappa", "mu", "sigma_s", "k_bar",
                "a", "beta", "g", "r_min", "r_max",
                "eta_W", "eta_C", "eta_b", "eta_D",
                "lam_W", "lam_C", "lam_b", "lam_D", "plastic")
_STATE_NAMES = ("theta", "r", "W", "C", "b", "D", "rr_bar", "rs_bar", "r_bar")

_BRIAN2_DEFAULT_FLAGS = ["-w", "-O3", "-ffast-math", "-fno-finite-math-only",
                         "-march=native", "-std=c++11"]


def compile_flags():
    """Brian2's gcc flags for generated code (the installed preference, or
    Brian2 2.9's default), without the C++-only ``-std=c++*``."""
    try:
        import brian2
        flags = list(brian2.prefs.codegen.cpp.extra_compile_args_gcc)
    except Exception:  # brian2 missing or prefs unreadable
        flags = list(_BRIAN2_DEFAULT_FLAGS)
    return [f for f in flags if not f.startswith("-std=")] + ["-std=gnu11"]


def _compile(out_path):
    cmd = [CC, *compile_flags(), "-fPIC", "-shared", SOURCE, "-o", out_path,
           "-lm"]
    subprocess.run(cmd, check=True, capture_output=True, text=True)


def compile_seconds():
    """Wall-clock seconds of one fresh compilation of floor.c (in a
    temporary directory; the cached library is not touched)."""
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        _compile(os.path.join(tmp, "floor.so"))
        return time.perf_counter() - t0


_lib = None


def _library():
    """Compile floor.c (once per source/flags/compiler) and load it."""
    global _lib
    if _lib is not None:
        return _lib
    key = hashlib.sha256()
    with open(SOURCE, "rb") as fh:
        key.update(fh.read())
    key.update(" ".join([CC, *compile_flags()]).encode())
    os.makedirs(BUILD_DIR, exist_ok=True)
    so = os.path.join(BUILD_DIR, f"floor-{key.hexdigest()[:16]}.so")
    if not os.path.exists(so):
        fd, tmp = tempfile.mkstemp(suffix=".so", dir=BUILD_DIR)
        os.close(fd)
        try:
            _compile(tmp)
            os.replace(tmp, so)  # atomic: concurrent builds cannot clash
        finally:
            if os.path.exists(tmp):
                os.remove(tmp)
    lib = ctypes.CDLL(so)
    dp = ctypes.POINTER(ctypes.c_double)
    lib.floor_run.restype = ctypes.c_int
    lib.floor_run.argtypes = ([ctypes.c_int, ctypes.c_int, ctypes.c_int,
                               ctypes.c_long, dp, ctypes.c_uint64]
                              + [dp] * len(_STATE_NAMES)
                              + [dp, dp, ctypes.c_long, dp, dp])
    lib.floor_n_params.restype = ctypes.c_int
    if lib.floor_n_params() != len(_PARAM_NAMES):
        raise RuntimeError("floor.c and floor.py disagree on the parameters")
    _lib = lib
    return lib


def _ptr(a):
    return None if a is None else a.ctypes.data_as(ctypes.POINTER(ctypes.c_double))


FloorResult = namedtuple(
    "FloorResult", "us_per_step seconds steps alpha_first alpha_final "
                   "reward_blocks state")


def floor_run(task, N, R, steps, seed=0, plastic=1, state=None, zs=None,
              z=None, block=None):
    """Run ``steps`` steps of the C loop; time only the loop (noise included).

    ``task``: 'estimation' or 'classification'.  ``state``: dict from
    ``numpy_loop.initial_state`` (updated in place; default a fresh one
    from ``seed``).  ``zs[step, replica]``, ``z[step, replica, neuron]``:
    normals to use instead of the C generator (for cross-checks).
    ``block``: steps per entry of ``reward_blocks`` (mean alpha over the
    block and the replicas); default ``max(1, steps // 10)``.
    """
    p = reference_params(task, plastic)
    lib = _library()
    if state is None:
        state = initial_state(task, N, R, seed)
    for k in _STATE_NAMES:
        state[k] = np.ascontiguousarray(state[k], dtype=np.float64)
    if (zs is None) != (z is None):
        raise ValueError("give both zs and z, or neither")
    if zs is not None:
        zs = np.ascontiguousarray(zs, dtype=np.float64)
        z = np.ascontiguousarray(z, dtype=np.float64)
        if zs.shape != (steps, R) or z.shape != (steps, R, N):
            raise ValueError(f"zs must be {(steps, R)} and z {(steps, R, N)}, "
                             f"got {zs.shape} and {z.shape}")
    if block is None:
        block = max(1, steps // 10)
    n_blocks = -(-steps // block)
    params = np.array([p[k] for k in _PARAM_NAMES], dtype=np.float64)
    reward_sum = np.zeros(max(n_blocks, 1))
    seconds = ctypes.c_double(0.0)
    rc = lib.floor_run(0 if task == "estimation" else 1, N, R, steps,
                       _ptr(params), seed & (2**64 - 1),
                       *[_ptr(state[k]) for k in _STATE_NAMES],
                       _ptr(zs), _ptr(z), block, _ptr(reward_sum),
                       ctypes.byref(seconds))
    if rc != 0:
        raise RuntimeError(f"floor_run failed with code {rc}")
    counts = np.full(n_blocks, float(block * R))
    if n_blocks:
        counts[-1] = (steps - (n_blocks - 1) * block) * R
    blocks = reward_sum[:n_blocks] / counts
    return FloorResult(
        us_per_step=1e6 * seconds.value / steps if steps else float("nan"),
        seconds=seconds.value, steps=steps,
        alpha_first=blocks[0] if n_blocks else float("nan"),
        alpha_final=blocks[-1] if n_blocks else float("nan"),
        reward_blocks=blocks, state=state)


def floor_us_per_step(task, N, R, steps, seed=0):
    """Microseconds per time step (all ``R`` replicas together) of the C
    loop, learning on; compilation and initialisation excluded, noise
    generation included."""
    return floor_run(task, N, R, steps, seed=seed).us_per_step


def cross_check(task, N=7, R=3, steps=3000, seed=5):
    """Largest absolute difference between the C loop and the NumPy loop
    after ``steps`` steps from the same state with the same normals."""
    rng = np.random.default_rng(seed + 100)
    zs = rng.standard_normal((steps, R))
    z = rng.standard_normal((steps, R, N))
    s0 = initial_state(task, N, R, seed)
    a = floor_run(task, N, R, steps, state={k: v.copy() for k, v in s0.items()},
                  zs=zs, z=z)
    b = numpy_run(task, N, R, steps, state={k: v.copy() for k, v in s0.items()},
                  zs=zs, z=z)
    err = max(float(np.max(np.abs(a.state[k] - b.state[k])))
              for k in _STATE_NAMES)
    return max(err, float(np.max(np.abs(a.reward_blocks - b.reward_blocks))))


if __name__ == "__main__":
    print(f"compiler: {CC} {' '.join(compile_flags())}")
    print(f"compile: {compile_seconds():.3f} s")
    for task in ("estimation", "classification"):
        print(f"cross-check against numpy_loop ({task}, same noise): "
              f"max |diff| = {cross_check(task):.2e}")
    steps = 200_000
    for task, N, R in (("estimation", 40, 1), ("estimation", 25, 1),
                       ("estimation", 40, 20), ("classification", 25, 1)):
        res = floor_run(task, N, R, steps)
        print(f"C floor     {task:14s} N={N:3d} R={R:3d}: "
              f"{res.us_per_step:8.3f} us/step   mean reward: first "
              f"{steps // 10} steps {res.alpha_first:+.4f}, last "
              f"{res.alpha_final:+.4f}")
    # learning sanity check: 3 million steps (30,000 time units)
    res = floor_run("estimation", 40, 1, 3_000_000, block=300_000)
    print("estimation N=40, 3e6 steps, mean reward per 3e5 steps:",
          " ".join(f"{v:+.3f}" for v in res.reward_blocks))
