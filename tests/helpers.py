"""Helpers shared by the tests (importable: pytest's pythonpath includes tests/)."""

import sys
from pathlib import Path

import numpy as np

from brian_effplast.circuit.state import saved_keys

TARGETS = ["numpy", "cython", "cpp_standalone"]

#: The step-by-step checks (test_oracle_match.py, test_reinforce.py, test_model_behaviour.py, test_cli.py's
#: change of target) share one structure per task and rule: 2 replicas, external noise, these variables
#: recorded, runs of 300 steps. On cpp_standalone a structure is a compilation of tens of seconds; these
#: compile one. (With run.trial, a standalone run is one binary run per trial: trials of 300 steps, 3 time
#: units, keep that structure also in runs of several trials.)
CHECK_R, CHECK_STEPS, CHECK_RECORD = 2, 300, ("theta", "r", "y", "alpha")


def fast_learning(task="estimation", **changes):
    """The task's default model with learning rates 200x the reference, no transient and biases
    away from r_min, so that the few hundred steps of a check move every parameter visibly
    (rates, transient and state are run arguments: the structure stays helpers.CHECK_*)."""
    from brian_effplast import Config
    cfg = Config.default(task)
    pl = cfg.plasticity
    updates = {f"plasticity.eta_{p}": 200 * getattr(pl, f"eta_{p}") for p in "WCbD"}
    updates.update({"run.transient": 0.0, "init.b": 0.3})
    updates.update(changes)
    return cfg.replace(**updates)


def command():
    """The ``brian-effplast`` command of this environment."""
    exe = Path(sys.executable).parent / "brian-effplast"
    return [str(exe)] if exe.exists() else [sys.executable, "-m", "brian_effplast.cli"]


def write_model(path, text):
    path = Path(path)
    path.write_text(text)
    return str(path)


def load_npz(path):
    with np.load(path, allow_pickle=False) as z:
        return {k: z[k] for k in z.files}


def assert_same_run(a, b):
    """Run directories ``a`` and ``b`` hold bit-identical parameters, final state, learning curve and the
    stimulus at its bins."""
    pa, pb = load_npz(Path(a) / "parameters.npz"), load_npz(Path(b) / "parameters.npz")
    assert set(pa) == set(pb)
    for key in pa:
        assert np.array_equal(pa[key], pb[key]), key
    ca, cb = load_npz(Path(a) / "checkpoint.npz"), load_npz(Path(b) / "checkpoint.npz")
    # the saved state (that of the run's rule) and the curve
    state = [k for k in set(saved_keys("eq10") + saved_keys("reinforce")) if k in ca or k in cb]
    for key in sorted(state) + ["curve", "curve_theta"]:
        assert key in ca and key in cb, key
        assert np.array_equal(ca[key], cb[key]), key


def oracle_inputs(model):
    """The oracle's params and initial state for a PlasticCircuit."""
    cfg, st = model.config, model.state
    pl = cfg.plasticity
    params = dict(task=cfg.task, dt=cfg.circuit.dt, sigma=cfg.circuit.sigma, mu=cfg.stimulus.mu,
                  kappa=cfg.stimulus.kappa, sigma_s=cfg.stimulus.sigma_s, k_bar=cfg.k_bar,
                  r_min=cfg.circuit.r_min, r_max=cfg.circuit.r_max, a=cfg.nonlinearity.a,
                  beta=cfg.nonlinearity.beta, g=cfg.nonlinearity.g, eta_W=pl.eta_W, eta_C=pl.eta_C,
                  eta_b=pl.eta_b, eta_D=pl.eta_D, lam_W=pl.lam_W, lam_C=pl.lam_C, lam_b=pl.lam_b,
                  lam_D=pl.lam_D, plastic=1)
    state = dict(theta=st["theta"], r=st["r"], W=st["W"], C=st["C"], b=st["b"], D=st["D"],
                 rr_bar=st["W_bar"], rs_bar=st["C_bar"], r_bar=st["r_bar"])
    return params, state


def normal_noise(seed, steps, R, N):
    rng = np.random.default_rng(seed)
    return {"stimulus": rng.standard_normal((steps, R)), "rates": rng.standard_normal((steps, R * N))}


def proc_stat(pid):
    """``(state, parent pid)`` of process ``pid`` from /proc (Linux), or None if it is gone."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()  # (after the command name, which may hold spaces)
    except OSError:
        return None
    return fields[0], int(fields[1])
