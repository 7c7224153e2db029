"""The model state: the arrays that make up ``R`` replicas of the circuit (NumPy only).

A state is a dict of arrays, replica first (:data:`STATE_KEYS`): the
parameters ``W (R, N, N)``, ``C (R, N, N_s)``, ``b (R, N)``, ``D (R, n_out, N)``
(``W[q, i, j]`` is the weight from neuron ``j`` to ``i``), the low-pass
averages ``W_bar``, ``C_bar``, ``r_bar`` (same shapes as ``W``, ``C``, ``b``),
the rates ``r (R, N)``, the stimulus ``theta (R,)`` and the recurrent input
of the next step ``I_rec = W r (R, N)``. The same state runs on every target.
"""

import numpy as np

from .prior import sample_prior

__all__ = ["STATE_KEYS", "SAVED_KEYS", "initial_state", "recurrent_input", "check_state"]

#: Arrays that make up the model state, per replica.
STATE_KEYS = ("theta", "r", "W", "C", "b", "D", "W_bar", "C_bar", "r_bar", "I_rec")
#: The arrays a checkpoint saves: all but ``I_rec``, which is ``W r`` again on loading.
SAVED_KEYS = tuple(k for k in STATE_KEYS if k != "I_rec")


def _shapes(R, N, N_s, n_out):
    return {"theta": (R,), "r": (R, N), "W": (R, N, N), "C": (R, N, N_s), "b": (R, N),
            "D": (R, n_out, N), "W_bar": (R, N, N), "C_bar": (R, N, N_s), "r_bar": (R, N), "I_rec": (R, N)}


def initial_state(cfg, replicas, seed):
    """The reference initial state, drawn from ``numpy.random.default_rng(seed)``.

    ``W`` uniform in ``+-W_scale/sqrt(N)``, ``C`` in ``+-C_scale/sqrt(N_s)``,
    ``D`` in ``+-D_scale/N``, ``b`` constant, rates ``r_init``, averages 0,
    ``theta`` from the stimulus' stationary law, ``I_rec = W r`` (the
    recurrent input of the first step). Independent of the target.
    """
    rng = np.random.default_rng(seed)
    N, N_s, n_out, R = cfg.circuit.N, cfg.circuit.N_s, cfg.n_out, replicas
    ini = cfg.init
    state = {
        "theta": sample_prior(rng, R, cfg.stimulus.mu, cfg.stimulus.kappa),
        "r": np.full((R, N), cfg.circuit.r_init),
        "W": rng.uniform(-1, 1, (R, N, N)) * ini.W_scale / np.sqrt(N),
        "C": rng.uniform(-1, 1, (R, N, N_s)) * ini.C_scale / np.sqrt(N_s),
        "b": np.full((R, N), float(ini.b)),
        "D": rng.uniform(-1, 1, (R, n_out, N)) * ini.D_scale / N,
        "W_bar": np.zeros((R, N, N)), "C_bar": np.zeros((R, N, N_s)), "r_bar": np.zeros((R, N)),
    }
    state["I_rec"] = recurrent_input(state)
    return state


def recurrent_input(state):
    """``W r`` per replica: the recurrent input of the next step."""
    return np.einsum("qij,qj->qi", state["W"], state["r"])


def check_state(state, R, N, N_s, n_out):
    """``state`` (any subset of :data:`STATE_KEYS`) as float arrays, checked
    for names, shapes and finite values; ``ValueError`` naming the array."""
    shapes = _shapes(R, N, N_s, n_out)
    unknown = set(state) - set(shapes)
    if unknown:
        raise ValueError(f"unknown state arrays {sorted(unknown)}: allowed are {list(STATE_KEYS)}")
    out = {}
    for key, value in state.items():
        value = np.array(value, dtype=float)
        if value.shape != shapes[key]:
            raise ValueError(f"{key} has shape {value.shape}: must be {shapes[key]} "
                             f"(replicas={R}, N={N}, N_s={N_s}, n_out={n_out})")
        if not np.all(np.isfinite(value)):
            raise ValueError(f"{key} contains NaN or infinite values: must be finite")
        out[key] = value
    return out
