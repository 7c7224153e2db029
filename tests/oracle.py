"""Plain-NumPy reference implementation ("oracle") of the brian-effplast model.

This module implements, step by step and in exactly the stated order, the
discrete-time update specified in ``docs/model.md``. It is deliberately
independent of the library: it must not import ``brian2`` or
``brian_effplast``. It is written for clarity, not speed: explicit Python
loops over steps and replicas, NumPy only within one replica.

Order of one step (``docs/model.md``, "One step, in order"):

1. stimulus (Euler-Maruyama of the Langevin process), then wrap to [-pi, pi);
2. inputs ``s_k = max(0, cos(theta - theta_k))`` from the new ``theta``;
3. rates from the *previous* rates and the *new* inputs, then clip;
4. readout, target, reward ``alpha`` and decoder error ``delta`` from the new
   rates and new stimulus (``delta`` uses ``D`` before its update);
5. low-pass averages with the new rates and inputs;
6. parameter updates with the *new* averages.
"""

import numpy as np

TASKS = ("estimation", "classification")
N_OUT = {"estimation": 2, "classification": 1}

STATE_KEYS = ("theta", "r", "W", "C", "b", "D", "rr_bar", "rs_bar", "r_bar")

_SHARED_PARAMS = dict(
    dt=0.01,
    sigma=0.2,
    mu=0.0,
    kappa=0.75,
    sigma_s=0.06,
    k_bar=0.0015,
    r_min=0.001,
    r_max=100.0,
    a=0.0,
    beta=1.0 / 30.0,
    g=30.0,
    plastic=1,
)

_TASK_PARAMS = {
    "estimation": dict(
        eta_W=5e-6, eta_C=5e-6, eta_b=5e-6, eta_D=5e-6,
        lam_W=8e-4, lam_C=4.8e-3, lam_b=4.8e-3, lam_D=8e-4,
    ),
    "classification": dict(
        eta_W=1e-6, eta_C=1e-6, eta_b=1e-6, eta_D=1e-8,
        lam_W=1.875e-3, lam_C=0.0625, lam_b=0.05, lam_D=1.875e-3,
    ),
}


def reference_params(task):
    """Default parameters (the authors' published values, written out independently of the library) for `task`."""
    if task not in TASKS:
        raise ValueError(f"unknown task {task!r}; expected one of {TASKS}")
    params = dict(task=task)
    params.update(_SHARED_PARAMS)
    params.update(_TASK_PARAMS[task])
    return params


def preferred_angles(N_s):
    """Preferred angles of the input units: ``-pi + 2*pi*k/N_s``, k = 0..N_s-1."""
    k = np.arange(N_s)
    return -np.pi + 2.0 * np.pi * k / N_s


def f_softplus(x, a=0.0, beta=1 / 30, g=30.0):
    """F-I curve ``f(x) = beta*log(1 + exp(a + g*x))``.

    Not used by `simulate` (only ``f^-1`` enters the rate dynamics); provided
    for tests (fixed points). ``logaddexp`` is the overflow-safe form of the
    same expression.
    """
    return beta * np.logaddexp(0.0, a + g * np.asarray(x, dtype=float))


def f_inv_softplus(r, a=0.0, beta=1 / 30, g=30.0):
    """Inverse F-I curve ``f^-1(r) = (log(exp(r/beta) - 1) - a)/g``.

    Evaluated as ``u + log1p(-exp(-u))`` with ``u = r/beta`` (the same value,
    but finite up to ``r_max``: the literal form overflows for ``r > ~23.7``),
    as the spec in docs/model.md prescribes.
    """
    u = np.asarray(r, dtype=float) / beta
    return (u + np.log1p(-np.exp(-u)) - a) / g


def _copy_state(state):
    return {key: np.array(state[key], dtype=float, copy=True) for key in STATE_KEYS}


def _check_shapes(task, state):
    theta, r, W, C, b, D = (state[k] for k in ("theta", "r", "W", "C", "b", "D"))
    R, N = r.shape
    N_s = C.shape[2]
    n_out = N_OUT[task]
    expected = dict(
        theta=(R,), r=(R, N), W=(R, N, N), C=(R, N, N_s), b=(R, N),
        D=(R, n_out, N), rr_bar=(R, N, N), rs_bar=(R, N, N_s), r_bar=(R, N),
    )
    for key, shape in expected.items():
        if state[key].shape != shape:
            raise ValueError(
                f"state[{key!r}] has shape {state[key].shape}, expected {shape} "
                f"(task {task!r})"
            )
    return R, N, N_s, n_out


def _step_replica(p, theta_k, st, q, z_s, z):
    """Advance replica `q` of the state dict `st` by one step, in place.

    `z_s` is this replica's stimulus normal (scalar), `z` its N rate normals.
    Returns ``(y, alpha)`` for recording.
    """
    dt = p["dt"]

    # 1. Stimulus: Euler-Maruyama step of the Langevin process, then wrap.
    theta = st["theta"][q]
    theta = (theta
             - dt * p["kappa"] * p["sigma_s"] ** 2 * np.sin(theta - p["mu"])
             + p["sigma_s"] * np.sqrt(dt) * z_s)
    theta = theta - 2.0 * np.pi * np.floor((theta + np.pi) / (2.0 * np.pi))
    st["theta"][q] = theta

    # 2. Inputs from the new stimulus.
    s = np.maximum(0.0, np.cos(theta - theta_k))

    # 3. Rates: previous rates, new inputs; clip after the step.
    r_old = st["r"][q]
    W, C, b, D = st["W"][q], st["C"][q], st["b"][q], st["D"][q]
    u = W @ r_old + C @ s + b
    f_inv = f_inv_softplus(r_old, a=p["a"], beta=p["beta"], g=p["g"])
    r = r_old + dt * (-f_inv + u) + p["sigma"] * np.sqrt(dt) * z
    r = np.clip(r, p["r_min"], p["r_max"])
    st["r"][q] = r

    # 4. Readout, target, reward and decoder error (D before its update).
    y = D @ r
    if p["task"] == "estimation":
        target = np.array([np.cos(theta), np.sin(theta)])
        delta = target - y
        alpha = -np.sum((target - y) ** 2)
    else:  # classification
        psi = np.clip(1.0 / (1.0 + np.exp(-100.0 * y)), 1e-4, 1.0 - 1e-4)
        c = 1.0 if theta >= 0 else 0.0
        alpha = (c * np.log(psi) + (1.0 - c) * np.log(1.0 - psi))[0]
        delta = 100.0 * (c - psi)

    # 5. Low-pass averages with the new rates and inputs.
    k_bar = p["k_bar"]
    rr = np.outer(r, r)
    rs = np.outer(r, s)
    st["rr_bar"][q] += k_bar * (rr - st["rr_bar"][q])
    st["rs_bar"][q] += k_bar * (rs - st["rs_bar"][q])
    st["r_bar"][q] += k_bar * (r - st["r_bar"][q])

    # 6. Updates, with the new averages.
    gain = {name: p["plastic"] * dt * 100.0 * p["eta_" + name]
            for name in ("W", "C", "b", "D")}
    st["W"][q] += gain["W"] * (alpha * (rr - st["rr_bar"][q]) - p["lam_W"] * W)
    st["C"][q] += gain["C"] * (alpha * (rs - st["rs_bar"][q]) - p["lam_C"] * C)
    st["b"][q] += gain["b"] * (alpha * (r - st["r_bar"][q]) - p["lam_b"] * b)
    st["D"][q] += gain["D"] * (np.outer(delta, r) - p["lam_D"] * D)

    return y, alpha


def simulate(params, state, z_s, z, steps, record=True):
    """Advance `state` (dict, copied, not mutated) by `steps` steps.

    params: dict with keys task ('estimation'|'classification'), dt, sigma,
        mu, kappa, sigma_s, k_bar, r_min, r_max, a, beta, g, eta_W, eta_C,
        eta_b, eta_D, lam_W, lam_C, lam_b, lam_D, plastic (0/1)
    state: dict with arrays theta (R,), r (R,N), W (R,N,N), C (R,N,N_s),
        b (R,N), D (R,n_out,N), rr_bar (R,N,N), rs_bar (R,N,N_s), r_bar (R,N)
    z_s: (steps, R) standard normals for the stimulus; z: (steps, R*N)
        standard normals for the rates (neuron i of replica q is column q*N + i).
    Returns (final_state, traces) where traces is a dict of arrays recorded
    after every step: theta (steps,R), r (steps,R,N), y (steps,R,n_out),
    alpha (steps,R)  (empty dict if record=False).
    """
    p = dict(params)
    if p["task"] not in TASKS:
        raise ValueError(f"unknown task {p['task']!r}; expected one of {TASKS}")
    st = _copy_state(state)
    R, N, N_s, n_out = _check_shapes(p["task"], st)

    z_s = np.asarray(z_s, dtype=float)
    z = np.asarray(z, dtype=float)
    if z_s.ndim != 2 or z_s.shape[0] < steps or z_s.shape[1] != R:
        raise ValueError(f"z_s has shape {z_s.shape}, expected ({steps}, {R})")
    if z.ndim != 2 or z.shape[0] < steps or z.shape[1] != R * N:
        raise ValueError(f"z has shape {z.shape}, expected ({steps}, {R * N})")

    theta_k = preferred_angles(N_s)

    traces = {}
    if record:
        traces = dict(
            theta=np.empty((steps, R)),
            r=np.empty((steps, R, N)),
            y=np.empty((steps, R, n_out)),
            alpha=np.empty((steps, R)),
        )

    for n in range(steps):
        for q in range(R):
            z_q = z[n, q * N:(q + 1) * N]
            y, alpha = _step_replica(p, theta_k, st, q, z_s[n, q], z_q)
            if record:
                traces["theta"][n, q] = st["theta"][q]
                traces["r"][n, q] = st["r"][q]
                traces["y"][n, q] = y
                traces["alpha"][n, q] = alpha

    return st, traces
