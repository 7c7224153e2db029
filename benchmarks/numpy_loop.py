"""The straightforward NumPy loop: the speed reference of the paper's authors.

One time step of docs/model.md, vectorised with NumPy array operations over
neurons (and over the ``R`` independent replicas), a Python ``for`` loop over
the steps, and fresh ``np.random.default_rng`` normal draws every step.
This is what the authors' published code does per step (their code runs one
replica; ``R = 1`` here is that case).  Used by the speed benchmark only.

Public:

- ``numpy_us_per_step(task, N, R, steps, seed=0) -> float``
- ``numpy_run(task, N, R, steps, seed=0, ...) -> NumpyResult``
- ``reference_params(task, plastic=1) -> dict`` and
  ``initial_state(task, N, R, seed=0) -> dict`` (shared with ``floor.py``)
"""
import time
from collections import namedtuple

import numpy as np

N_S = 12
TASKS = ("estimation", "classification")

# docs/model.md and the authors' published parameter values
_SHARED = dict(dt=0.01, sigma=0.2, kappa=0.75, mu=0.0, sigma_s=0.06,
               k_bar=0.0015, a=0.0, beta=1.0 / 30.0, g=30.0,
               r_min=0.001, r_max=100.0)
_TASK = {
    "estimation": dict(eta_W=5e-6, eta_C=5e-6, eta_b=5e-6, eta_D=5e-6,
                       lam_W=8e-4, lam_C=4.8e-3, lam_b=4.8e-3, lam_D=8e-4,
                       b0=0.0),
    "classification": dict(eta_W=1e-6, eta_C=1e-6, eta_b=1e-6, eta_D=1e-8,
                           lam_W=1.875e-3, lam_C=0.0625, lam_b=0.05,
                           lam_D=1.875e-3, b0=0.7),
}


def _check_task(task):
    if task not in TASKS:
        raise ValueError(f"task must be one of {TASKS}, got {task!r}")


def reference_params(task, plastic=1):
    """Reference parameters of ``task`` ('estimation' or 'classification')."""
    _check_task(task)
    p = dict(_SHARED)
    p.update(_TASK[task])
    p["plastic"] = float(plastic)
    p["n_out"] = 2 if task == "estimation" else 1
    return p


def initial_state(task, N, R, seed=0):
    """Initial state of ``R`` replicas of ``N`` neurons (replica-major arrays).

    W ~ U(+-0.3/sqrt(N)), C ~ U(+-0.5/sqrt(N_s)), D ~ U(+-1/N), r = 0.1,
    b = 0 (estimation) or 0.7 (classification), averages 0, and theta drawn
    from the stationary law of the stimulus (von Mises, mean mu,
    concentration 2*kappa).
    """
    p = reference_params(task)
    rng = np.random.default_rng(seed)
    n_out = p["n_out"]
    w, c, d = 0.3 / np.sqrt(N), 0.5 / np.sqrt(N_S), 1.0 / N
    return dict(
        theta=rng.vonmises(p["mu"], 2 * p["kappa"], size=R),
        r=np.full((R, N), 0.1),
        W=rng.uniform(-w, w, size=(R, N, N)),
        C=rng.uniform(-c, c, size=(R, N, N_S)),
        b=np.full((R, N), p["b0"]),
        D=rng.uniform(-d, d, size=(R, n_out, N)),
        rr_bar=np.zeros((R, N, N)),
        rs_bar=np.zeros((R, N, N_S)),
        r_bar=np.zeros((R, N)),
    )


NumpyResult = namedtuple(
    "NumpyResult", "us_per_step seconds steps alpha_first alpha_final "
                   "reward_blocks state")


def numpy_run(task, N, R, steps, seed=0, plastic=1, state=None, zs=None,
              z=None, block=None):
    """Run ``steps`` steps of the NumPy loop; time only the loop.

    ``state``: dict from ``initial_state`` (updated in place; default a
    fresh one from ``seed``).  ``zs[step, replica]`` and ``z[step, replica,
    neuron]``: normals to use instead of the generator (for cross-checks).
    ``block``: steps per entry of ``reward_blocks`` (mean alpha over the
    block and the replicas); default ``max(1, steps // 10)``.
    """
    p = reference_params(task, plastic)
    if state is None:
        state = initial_state(task, N, R, seed)
    if block is None:
        block = max(1, steps // 10)
    rng = np.random.default_rng(seed + 1)

    dt, sigma, kappa, mu, sigma_s = (p[k] for k in
                                     ("dt", "sigma", "kappa", "mu", "sigma_s"))
    k_bar, a, beta, g = p["k_bar"], p["a"], p["beta"], p["g"]
    r_min, r_max = p["r_min"], p["r_max"]
    g_W, g_C, g_b, g_D = (p["plastic"] * dt * 100 * p["eta_" + k]
                          for k in "WCbD")
    lam_W, lam_C, lam_b, lam_D = (p["lam_" + k] for k in "WCbD")
    classification = task == "classification"
    theta_k = -np.pi + 2 * np.pi * np.arange(N_S) / N_S
    sq_dt = np.sqrt(dt)

    theta, r, W, C, b, D = (state[k] for k in ("theta", "r", "W", "C", "b", "D"))
    rr_bar, rs_bar, r_bar = state["rr_bar"], state["rs_bar"], state["r_bar"]
    n_blocks = -(-steps // block)
    reward_sum = np.zeros(n_blocks)

    t0 = time.perf_counter()
    for n in range(steps):
        if zs is None:
            z_s = rng.standard_normal(R)
            z_i = rng.standard_normal((R, N))
        else:
            z_s, z_i = zs[n], z[n]
        # 1. stimulus
        theta = (theta - dt * kappa * sigma_s**2 * np.sin(theta - mu)
                 + sigma_s * sq_dt * z_s)
        theta = theta - 2 * np.pi * np.floor((theta + np.pi) / (2 * np.pi))
        # 2. inputs
        s = np.maximum(0.0, np.cos(theta[:, None] - theta_k))
        # 3. rates; f^-1(r) = (log(exp(r/beta) - 1) - a)/g, in a form that
        # stays finite up to r_max
        x = r / beta
        f_inv = (x + np.log(-np.expm1(-x)) - a) / g
        u = (W @ r[:, :, None])[:, :, 0] + (C @ s[:, :, None])[:, :, 0] + b
        r = np.clip(r + dt * (-f_inv + u) + sigma * sq_dt * z_i, r_min, r_max)
        # 4. readout, reward, decoder error
        y = (D @ r[:, :, None])[:, :, 0]
        if classification:
            psi = np.clip(1.0 / (1.0 + np.exp(-100.0 * y[:, 0])),
                          1e-4, 1 - 1e-4)
            c = (theta >= 0).astype(float)
            alpha = c * np.log(psi) + (1 - c) * np.log(1 - psi)
            delta = (100.0 * (c - psi))[:, None]
        else:
            delta = np.stack((np.cos(theta), np.sin(theta)), axis=1) - y
            alpha = -np.sum(delta**2, axis=1)
        reward_sum[n // block] += alpha.sum()
        # 5. low-pass averages
        rr = r[:, :, None] * r[:, None, :]
        rs = r[:, :, None] * s[:, None, :]
        rr_bar += k_bar * (rr - rr_bar)
        rs_bar += k_bar * (rs - rs_bar)
        r_bar += k_bar * (r - r_bar)
        # 6. updates
        al = alpha[:, None, None]
        W += g_W * (al * (rr - rr_bar) - lam_W * W)
        C += g_C * (al * (rs - rs_bar) - lam_C * C)
        b += g_b * (alpha[:, None] * (r - r_bar) - lam_b * b)
        D += g_D * (delta[:, :, None] * r[:, None, :] - lam_D * D)
    seconds = time.perf_counter() - t0

    state["theta"], state["r"] = theta, r
    counts = np.full(n_blocks, float(block * R))
    if n_blocks:
        counts[-1] = (steps - (n_blocks - 1) * block) * R
    blocks = reward_sum / counts
    return NumpyResult(
        us_per_step=1e6 * seconds / steps if steps else float("nan"),
        seconds=seconds, steps=steps,
        alpha_first=blocks[0] if n_blocks else float("nan"),
        alpha_final=blocks[-1] if n_blocks else float("nan"),
        reward_blocks=blocks, state=state)


def numpy_us_per_step(task, N, R, steps, seed=0):
    """Microseconds per time step (all ``R`` replicas together) of the NumPy
    loop, learning on; initialisation excluded, noise draws included."""
    return numpy_run(task, N, R, steps, seed=seed).us_per_step


if __name__ == "__main__":
    steps = 20_000
    for task, N, R in (("estimation", 40, 1), ("estimation", 25, 1),
                       ("estimation", 40, 20), ("classification", 25, 1)):
        res = numpy_run(task, N, R, steps)
        print(f"numpy loop  {task:14s} N={N:3d} R={R:3d}: "
              f"{res.us_per_step:8.2f} us/step   mean reward: first "
              f"{steps // 10} steps {res.alpha_first:+.4f}, last "
              f"{res.alpha_final:+.4f}")
