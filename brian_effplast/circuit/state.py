"""The model state: the arrays that make up ``R`` replicas of the circuit (NumPy only).

A state is a dict of arrays, replica first (:func:`state_keys`): the
parameters ``W (R, N, N)``, ``C (R, N, N_s)``, ``b (R, N)``, ``D (R, n_out, N)``
(``W[q, i, j]`` is the weight from neuron ``j`` to ``i``), the low-pass
average ``r_bar (R, N)``, the rates ``r (R, N)``, the stimulus ``theta (R,)``,
the recurrent input of the next step ``I_rec = W r (R, N)`` and the state of
the learning rule (:data:`RULE_STATE`): for Eq. 10 the coactivity averages
``W_bar``, ``C_bar``, for REINFORCE the eligibility traces ``W_e``, ``C_e``,
``b_e`` (same shapes as ``W``, ``C``, ``b``). The same state runs on every
target.
"""

import numpy as np

from ..blocks.prior import preferred_angles, sample_prior

__all__ = ["STATE_KEYS", "SAVED_KEYS", "RULE_STATE", "state_keys", "saved_keys", "initial_state",
           "recurrent_input", "held_input", "shared_copies", "reset_trial", "check_state"]

#: The arrays of each learning rule (``plasticity.rule``) besides those all rules share;
#: a trial start resets them (and ``r_bar``) to 0.
RULE_STATE = {"eq10": ("W_bar", "C_bar"), "reinforce": ("W_e", "C_e", "b_e")}


def state_keys(rule="eq10"):
    """The arrays that make up the model state of ``rule``, per replica."""
    if rule not in RULE_STATE:
        raise ValueError(f"rule = {rule!r} is not allowed: must be one of {', '.join(map(repr, RULE_STATE))}")
    return ("theta", "r", "W", "C", "b", "D") + RULE_STATE[rule] + ("r_bar", "I_rec")


def saved_keys(rule="eq10"):
    """The arrays a checkpoint of ``rule`` saves.

    Eq. 10: all but ``I_rec``, which is ``W r`` again on loading. REINFORCE
    reads the total input ``h = I_rec + I_in + b`` itself, where ``W r``
    recomputed in NumPy would differ from the network's own sum by round-off:
    its checkpoints keep ``I_rec``, so that a resumed run is bit-identical.
    """
    return tuple(k for k in state_keys(rule) if k != "I_rec" or rule == "reinforce")


#: Arrays that make up the model state of the default rule (Eq. 10), per replica.
STATE_KEYS = state_keys("eq10")
#: The arrays a checkpoint of the default rule saves (:func:`saved_keys`).
SAVED_KEYS = saved_keys("eq10")


def _shapes(R, N, N_s, n_out, rule):
    shapes = {"theta": (R,), "r": (R, N), "W": (R, N, N), "C": (R, N, N_s), "b": (R, N),
              "D": (R, n_out, N), "r_bar": (R, N), "I_rec": (R, N),
              "W_bar": (R, N, N), "C_bar": (R, N, N_s), "W_e": (R, N, N), "C_e": (R, N, N_s), "b_e": (R, N)}
    return {k: shapes[k] for k in state_keys(rule)}


def initial_state(cfg, replicas, seed):
    """The reference initial state, drawn from ``numpy.random.default_rng(seed)``.

    ``W`` uniform in ``+-W_scale/sqrt(N)`` (with ``init.W_symmetric``, its
    upper triangle mirrored: ``W[q] == W[q].T`` exactly), ``C`` in ``+-C_scale/sqrt(N_s)``,
    ``D`` in ``+-D_scale/N``, ``b`` constant, rates ``r_init``, averages
    and traces 0 (those of ``cfg.plasticity.rule``), ``theta`` from the
    stimulus' stationary law, ``I_rec = W r`` (the recurrent input of the
    first step). Independent of the target.
    """
    rng = np.random.default_rng(seed)
    N, N_s, n_out, R = cfg.circuit.N, cfg.circuit.N_s, cfg.n_out, replicas
    ini = cfg.init
    state = {
        "theta": sample_prior(rng, R, cfg.stimulus.mu, cfg.stimulus.kappa),
        "r": np.full((R, N), cfg.circuit.r_init),
        "W": _draw_W(rng, R, N, ini.W_scale / np.sqrt(N), ini.W_symmetric),
        "C": rng.uniform(-1, 1, (R, N, N_s)) * ini.C_scale / np.sqrt(N_s),
        "b": np.full((R, N), float(ini.b)),
        "D": rng.uniform(-1, 1, (R, n_out, N)) * ini.D_scale / N,
    }
    shapes = _shapes(R, N, N_s, n_out, cfg.plasticity.rule)
    for key in RULE_STATE[cfg.plasticity.rule] + ("r_bar",):
        state[key] = np.zeros(shapes[key])
    state["I_rec"] = recurrent_input(state)
    return state


def _draw_W(rng, R, N, scale, symmetric):
    """``W`` uniform in ``+-scale``; ``symmetric``: the upper triangle (diagonal included)
    mirrored onto the lower one, so every entry keeps the same uniform law (only the pairs
    are tied) and the same numbers are drawn, leaving ``C``, ``D`` and ``theta`` unchanged."""
    W = rng.uniform(-1, 1, (R, N, N)) * scale
    if symmetric:
        upper = np.triu(W)
        W = upper + np.triu(W, 1).transpose(0, 2, 1)
    return W


def recurrent_input(state):
    """``W r`` per replica: the recurrent input of the next step."""
    return np.einsum("qij,qj->qi", state["W"], state["r"])


def held_input(state, N_s):
    """The input current ``I_in = C s`` (shape ``(R, N)``) of a held stimulus: Eq. 1's rates
    ``s = max(0, cos(theta - theta_k))`` of the angle wrapped to ``[-pi, pi)``, as a step wraps it."""
    theta = np.asarray(state["theta"], dtype=float)
    theta = theta - 2 * np.pi * np.floor((theta + np.pi) / (2 * np.pi))
    s = np.clip(np.cos(theta[:, None] - preferred_angles(N_s)), 0, np.inf)
    return np.einsum("qik,qk->qi", state["C"], s)


def shared_copies(W):
    """The largest ``g`` such that every group of ``g`` consecutive replicas has the same
    weights ``W`` (shape ``(R, N, N)``), the case of a network's test copies; 1 if none."""
    flat = np.asarray(W).reshape(len(W), -1)
    differ = np.flatnonzero(np.any(flat[1:] != flat[0], axis=1))
    g = len(flat) if len(differ) == 0 else int(differ[0]) + 1
    if g == 1 or len(flat) % g:
        return 1
    groups = flat.reshape(len(flat) // g, g, -1)
    return g if np.array_equal(groups, np.broadcast_to(groups[:, :1], groups.shape)) else 1


def reset_trial(state, r_init, rule="eq10"):
    """The authors' trial start, in place: rates to ``r_init``, the low-pass average
    ``r_bar`` and the rule's averages or traces (:data:`RULE_STATE`) to 0, and
    ``I_rec = W r`` with the reset rates. ``W``, ``C``, ``b``, ``D`` and ``theta``
    are kept."""
    state["r"] = np.full_like(state["r"], r_init)
    for key in RULE_STATE[rule] + ("r_bar",):
        state[key] = np.zeros_like(state[key])
    state["I_rec"] = recurrent_input(state)
    return state


def check_state(state, R, N, N_s, n_out, rule="eq10"):
    """``state`` (any subset of ``state_keys(rule)``) as float arrays, checked
    for names, shapes and finite values; ``ValueError`` naming the array."""
    shapes = _shapes(R, N, N_s, n_out, rule)
    unknown = set(state) - set(shapes)
    if unknown:
        other = [r for r in RULE_STATE if r != rule and unknown <= set(RULE_STATE[r])]
        why = f" (the state of plasticity.rule = {other[0]!r}, not of {rule!r})" if other else ""
        raise ValueError(f"unknown state arrays {sorted(unknown)}{why}: allowed are {list(shapes)}")
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
