"""REINFORCE (``plasticity.rule = "reinforce"``), the rule the paper compares Eq. 10 with.

Every target against a plain NumPy reference of the REINFORCE step written here
(independent of the library), step for step; the trial protocol resets the
traces; the rule learns the estimation task; bad values are refused; a run
resumed from a checkpoint (traces included) equals the uninterrupted run.
"""

import json
from pathlib import Path

import numpy as np
import pytest
from brian2 import DimensionMismatchError, NeuronGroup, ms, prefs, second

import oracle
from helpers import CHECK_R as R, CHECK_RECORD as RECORD, CHECK_STEPS as STEPS
from helpers import TARGETS, assert_same_run, load_npz, normal_noise, write_model
from brian_effplast import Config, ConfigError, PlasticCircuit, Softplus, check_fi_curve, cli
from brian_effplast.blocks.plasticity import NeuronRules, ReinforceSynapses

REPO = Path(__file__).resolve().parent.parent
RTOL, ATOL = 1e-9, 1e-12  # round-off of -ffast-math code vs NumPy (as tests/test_oracle_match.py)
TAU_E = 2.0  # time units: not tau_bar (6.67), so that a mix-up of the two shows


# -- the reference: one step of the circuit with REINFORCE, in NumPy ------------------------

def reference_inputs(model):
    """Parameters and initial state of the reference, read from a PlasticCircuit's config and state."""
    cfg, pl = model.config, model.config.plasticity
    p = dict(task=cfg.task, dt=cfg.circuit.dt, sigma=cfg.circuit.sigma, mu=cfg.stimulus.mu,
             kappa=cfg.stimulus.kappa, sigma_s=cfg.stimulus.sigma_s, r_min=cfg.circuit.r_min,
             r_max=cfg.circuit.r_max, a=cfg.nonlinearity.a, beta=cfg.nonlinearity.beta, g=cfg.nonlinearity.g,
             k_bar=cfg.circuit.dt / pl.tau_bar, k_e=cfg.circuit.dt / pl.tau_e, plastic=1,
             **{f"eta_{x}": getattr(pl, f"eta_{x}") for x in "WCbD"},
             **{f"lam_{x}": getattr(pl, f"lam_{x}") for x in "WCbD"})
    state = {k: np.array(v, dtype=float) for k, v in model.state.items() if k != "I_rec"}
    return p, state


def reference(p, state, z_s, z, steps):
    """``steps`` steps from ``state`` (copied); returns the final state and the rewards (steps, R).

    Per step and replica, after the stimulus, inputs and rates of Eq. 2 (the
    input that moved the rates is ``h = W r_old + C s + b``) and the reward:
    ``r_bar += k_bar (r - r_bar)``, ``dev = f'(h) (r - r_bar)`` with
    ``f'(x) = beta g / (1 + exp(-(a + g x)))``, the traces
    ``W_e += k_e (dev r^T - W_e)``, ``C_e += k_e (dev s^T - C_e)``,
    ``b_e += k_e (dev - b_e)``, then ``W += g_W (alpha W_e - lam_W W)`` (the
    same for ``C`` and ``b``) and ``D += g_D (delta r^T - lam_D D)``.
    """
    st = {k: v.copy() for k, v in state.items()}
    R, N = st["r"].shape
    theta_k = oracle.preferred_angles(st["C"].shape[2])
    dt = p["dt"]
    gain = {x: p["plastic"] * dt * 100.0 * p[f"eta_{x}"] for x in "WCbD"}
    alphas = np.empty((steps, R))
    for n in range(steps):
        for q in range(R):
            theta = st["theta"][q]
            theta = (theta - dt * p["kappa"] * p["sigma_s"] ** 2 * np.sin(theta - p["mu"])
                     + p["sigma_s"] * np.sqrt(dt) * z_s[n, q])
            theta -= 2.0 * np.pi * np.floor((theta + np.pi) / (2.0 * np.pi))
            st["theta"][q] = theta
            s = np.maximum(0.0, np.cos(theta - theta_k))
            W, C, b, D, r_old = st["W"][q], st["C"][q], st["b"][q], st["D"][q], st["r"][q]
            h = W @ r_old + C @ s + b
            finv = oracle.f_inv_softplus(r_old, a=p["a"], beta=p["beta"], g=p["g"])
            r = np.clip(r_old + dt * (-finv + h) + p["sigma"] * np.sqrt(dt) * z[n, q * N:(q + 1) * N],
                        p["r_min"], p["r_max"])
            st["r"][q] = r
            y = D @ r
            if p["task"] == "estimation":
                delta = np.array([np.cos(theta), np.sin(theta)]) - y
                alpha = -np.sum(delta ** 2)
            else:
                psi = np.clip(1.0 / (1.0 + np.exp(-100.0 * y)), 1e-4, 1.0 - 1e-4)
                c = 1.0 if theta >= 0 else 0.0
                alpha = (c * np.log(psi) + (1.0 - c) * np.log(1.0 - psi))[0]
                delta = 100.0 * (c - psi)
            alphas[n, q] = alpha
            st["r_bar"][q] += p["k_bar"] * (r - st["r_bar"][q])
            fprime = p["beta"] * p["g"] / (1.0 + np.exp(-(p["a"] + p["g"] * h)))
            dev = fprime * (r - st["r_bar"][q])
            st["W_e"][q] += p["k_e"] * (np.outer(dev, r) - st["W_e"][q])
            st["C_e"][q] += p["k_e"] * (np.outer(dev, s) - st["C_e"][q])
            st["b_e"][q] += p["k_e"] * (dev - st["b_e"][q])
            st["W"][q] += gain["W"] * (alpha * st["W_e"][q] - p["lam_W"] * W)
            st["C"][q] += gain["C"] * (alpha * st["C_e"][q] - p["lam_C"] * C)
            st["b"][q] += gain["b"] * (alpha * st["b_e"][q] - p["lam_b"] * b)
            st["D"][q] += gain["D"] * (np.outer(delta, r) - p["lam_D"] * D)
    return st, alphas


def fast_reinforce(task="estimation"):
    """REINFORCE with large rates (1000x the reference's for W, C, b; 200x for D) so that every
    parameter moves within the test, learning from the first step, biases away from 0."""
    cfg = Config.default(task)
    pl = cfg.plasticity
    return cfg.replace(**{f"plasticity.eta_{p}": 1000 * getattr(pl, f"eta_{p}") for p in "WCb"},
                       **{"plasticity.eta_D": 200 * pl.eta_D, "plasticity.rule": "reinforce",
                          "plasticity.tau_e": TAU_E, "run.transient": 0.0, "init.b": 0.3})


def assert_state(got, expected, keys=("W", "C", "b", "D", "W_e", "C_e", "b_e", "r_bar", "r", "theta")):
    for key in keys:
        np.testing.assert_allclose(got[key], expected[key], rtol=RTOL, atol=ATOL, err_msg=key)


# -- (a) every target equals the reference ------------------------------------------------

@pytest.mark.parametrize("target, task", [(t, "estimation") for t in TARGETS] + [("numpy", "classification")])
def test_every_target_matches_the_reference(target, task):
    cfg = fast_reinforce(task)
    noise = normal_noise(31, STEPS, R, cfg.circuit.N)  # (the structure of helpers.CHECK_*)
    model = PlasticCircuit(cfg, seed=9, target=target, replicas=R, noise=noise)
    p, state = reference_inputs(model)
    assert sorted(state) == ["C", "C_e", "D", "W", "W_e", "b", "b_e", "r", "r_bar", "theta"]
    expected, alphas = reference(p, state, noise["stimulus"], noise["rates"], STEPS)
    out = model.run(STEPS * cfg.circuit.dt, record=RECORD)
    np.testing.assert_allclose(out["alpha"], alphas, rtol=RTOL, atol=ATOL)
    assert_state(model.state, expected)
    # learning happened: every parameter and trace moved well beyond the tolerance
    for key in ("W", "C", "b", "D", "W_e", "C_e", "b_e"):
        assert np.max(np.abs(model.state[key] - state[key])) > 1e-4, key


@pytest.mark.parametrize("target", ["numpy", "cpp_standalone"])
def test_learning_off_then_on_matches_the_reference(target):
    """With learning off no update runs (set_learning), but the traces go on as the reference's
    with plastic = 0, and learning on continues from them."""
    cfg = fast_reinforce()
    noise = normal_noise(32, 2 * STEPS, R, cfg.circuit.N)
    model = PlasticCircuit(cfg, seed=10, target=target, replicas=R, noise=noise)
    p, state = reference_inputs(model)
    off, _ = reference(dict(p, plastic=0), state, noise["stimulus"], noise["rates"], STEPS)
    model.run(STEPS * cfg.circuit.dt, plastic=False)
    assert_state(model.state, off)
    for key in ("W", "C", "b", "D"):
        assert np.array_equal(model.state[key], state[key]), key
    for key in ("W_e", "C_e", "b_e"):
        assert np.max(np.abs(model.state[key] - state[key])) > 1e-4, key
    on, _ = reference(p, off, noise["stimulus"][STEPS:], noise["rates"][STEPS:], STEPS)
    model.run(STEPS * cfg.circuit.dt, plastic=True)
    assert_state(model.state, on)


@pytest.mark.parametrize("target", ["numpy", "cpp_standalone"])
def test_trial_starts_reset_the_traces(target):
    """run.trial: each trial starts from r_init with r_bar and the traces at 0, learning off for
    run.transient; the reference does the same by hand."""
    cfg = fast_reinforce().replace(**{"run.transient": 1.0, "run.trial": 3.0})
    N, steps = cfg.circuit.N, 3 * STEPS  # trials [0, 3), [3, 6) and [6, 9): STEPS each
    noise = normal_noise(32, steps, R, N)
    model = PlasticCircuit(cfg, seed=10, target=target, replicas=R, noise=noise)
    p, state = reference_inputs(model)
    alphas, done = [], 0
    while done < steps:
        state = dict(state, r=np.full_like(state["r"], cfg.circuit.r_init),
                     **{k: 0 * state[k] for k in ("r_bar", "W_e", "C_e", "b_e")})
        for plastic, n in ((0, 100), (1, 200)):
            n = min(n, steps - done)
            state, a = reference(dict(p, plastic=plastic), state, noise["stimulus"][done:], noise["rates"][done:], n)
            alphas.append(a)
            done += n
    # two calls, the second with a trial boundary inside (the structure of the test above)
    outs = [model.run(n * STEPS * cfg.circuit.dt, record=RECORD) for n in (1, 2)]
    np.testing.assert_allclose(np.concatenate([o["alpha"] for o in outs]), np.concatenate(alphas),
                               rtol=RTOL, atol=ATOL)
    assert_state(model.state, state)


# -- (b) it learns the estimation task ------------------------------------------------------

@pytest.mark.slow
def test_reinforce_learns_the_estimation_task():
    """The shipped model file, 2000 time units, 4 replicas on cpp_standalone: the training MSE of
    the last tenth is well below that of the first, and below that of a control in which only
    the decoder learns (same seed, so the same stimulus path and noise): the decoder's delta rule
    alone lowers the MSE too, so the control shows that W, C and b learn."""
    cfg = Config.from_toml(REPO / "models" / "estimation_reinforce.toml").replace(
        **{"run.duration": 2000.0, "run.replicas": 4, "run.seed": 3, "run.target": "cpp_standalone"})
    control = cfg.replace(**{f"plasticity.eta_{p}": 0.0 for p in "WCb"})
    tenths = {}
    for name, c in (("reinforce", cfg), ("decoder only", control)):
        mse = -PlasticCircuit(c).run(c.run.duration)["curve"]  # (replicas, bins)
        n = mse.shape[1] // 10
        tenths[name] = (mse[:, :n].mean(), mse[:, -n:].mean())
    first, last = tenths["reinforce"]
    assert last < 0.7 * first, tenths
    assert last < 0.85 * tenths["decoder only"][1], tenths


# -- (c) bad values -------------------------------------------------------------------------

def test_bad_config_values_are_refused():
    with pytest.raises(ConfigError, match=r'plasticity\.rule = "hebb" is not allowed: must be one of "eq10", '
                                          r'"reinforce"'):
        Config.default().replace(**{"plasticity.rule": "hebb"})
    with pytest.raises(ConfigError, match=r"plasticity\.tau_e = 0\.001 is not allowed: must be a finite number "
                                          r">= circuit\.dt \(0\.01\) \(time units\)"):
        Config.default().replace(**{"plasticity.tau_e": 0.001})
    with pytest.raises(ConfigError, match=r"plasticity\.tau_e = .* is not allowed"):
        Config.default().replace(**{"plasticity.tau_e": float("inf")})
    with pytest.raises(ConfigError, match=r'plasticity\.rule = "REINFORCE" is not allowed'):
        Config.from_toml_string('[plasticity]\nrule = "REINFORCE"\n')


def _group():
    G = NeuronGroup(4, "r : 1\nb : 1\nslope : 1\nrep : integer (constant)\nv : volt", name="grp")
    critic = NeuronGroup(1, "alpha : 1", name="critic")
    return G, critic


def test_bad_building_block_arguments_are_refused():
    prefs.codegen.target = "numpy"  # (connect() below generates code: no compiler needed)
    G, critic = _group()
    base = dict(reward=(critic, "alpha"), tau_bar=20 * ms, bias="b", eta_bias=1 / second)
    with pytest.raises(ValueError, match=r"rule = 'hebb' is not allowed: must be 'eq10' or 'reinforce'"):
        NeuronRules(G, rule="hebb", **base)
    with pytest.raises(ValueError, match=r"rule='reinforce' needs gain="):
        NeuronRules(G, rule="reinforce", tau_e=20 * ms, **base)
    with pytest.raises(ValueError, match=r"rule='reinforce' with bias= needs tau_e="):
        NeuronRules(G, rule="reinforce", gain="slope", **base)
    with pytest.raises(ValueError, match=r"gain= and tau_e= belong to rule='reinforce'"):
        NeuronRules(G, gain="slope", **base)
    with pytest.raises(ValueError, match=r"gain = 'fprime' uses 'fprime', which is not a variable"):
        NeuronRules(G, rule="reinforce", gain="fprime", tau_e=20 * ms, **base)
    with pytest.raises(ValueError, match=r"gain = 'v' has units of"):
        NeuronRules(G, rule="reinforce", gain="v", tau_e=20 * ms, **base)
    with pytest.raises(DimensionMismatchError, match=r"tau_e = 0.02 must have units of"):
        NeuronRules(G, rule="reinforce", gain="slope", tau_e=0.02, **base)
    syn = dict(pre="r", post="r", reward=(critic, "alpha"), eta=1 / second)
    with pytest.raises(DimensionMismatchError, match=r"ReinforceSynapses 'syn': tau_e = 0.02 must have units"):
        ReinforceSynapses(G, G, tau_e=0.02, name="syn", **syn)
    with pytest.raises(ValueError, match=r"ReinforceSynapses 'syn': tau_e = .* is not allowed: .* > 0"):
        ReinforceSynapses(G, G, tau_e=0 * ms, name="syn", **syn)
    # a good one: its trace and time constant
    ok = ReinforceSynapses(G, G, tau_e=20 * ms, name="syn", connect=True, **syn)
    assert "w_e" in ok.variables and "w_bar" not in ok.variables
    assert ok.step_factors() == pytest.approx({"k_e": 0.005, "g": 1e-4})


def test_bad_curve_and_state_are_refused():
    class NoSlope(Softplus):  # a curve without f': fine for Eq. 10, not for REINFORCE
        def __init__(self):
            super().__init__()
            self.fprime_expr = None

    cfg = fast_reinforce()
    PlasticCircuit(Config.default(), fi_curve=NoSlope(), seed=1, target="numpy")
    with pytest.raises(ValueError, match=r'plasticity\.rule = "reinforce" needs the slope of the F-I curve: '
                                         r"NoSlope has no fprime_expr"):
        PlasticCircuit(cfg, fi_curve=NoSlope(), seed=1, target="numpy")

    class WrongSlope(Softplus):
        def fprime(self, x):
            return 2 * super().fprime(x)

    with pytest.raises(ValueError, match=r"WrongSlope: fprime = .* differs from df/dx"):
        check_fi_curve(WrongSlope())
    eq10 = PlasticCircuit(Config.default(), seed=1, target="numpy").state
    with pytest.raises(ValueError, match=r"unknown state arrays \['C_bar', 'W_bar'\] \(the state of "
                                         r"plasticity\.rule = 'eq10', not of 'reinforce'\)"):
        PlasticCircuit(cfg, seed=1, target="numpy", state=eq10)


# -- (d) checkpoints keep the traces ------------------------------------------------------

SMALL = """
task = "estimation"
[plasticity]
rule = "reinforce"
tau_e = 2.0
eta_W = 0.005
eta_C = 0.005
eta_b = 0.005
[run]
duration = 6.0
transient = 1.0
target = "numpy"
replicas = 2
checkpoint_every = 2.0
curve_bin = 1.0
"""


def test_resume_from_a_checkpoint_is_bit_identical(tmp_path, monkeypatch):
    """Run b is stopped during its third chunk (after the checkpoint at t = 4, which holds the
    traces), then resumed; it ends bit-identical to the uninterrupted run a."""
    model = write_model(tmp_path / "m.toml", SMALL)
    a, b = tmp_path / "a", tmp_path / "b"
    assert cli.main(["train", model, "--out", str(a), "--seed", "4", "--quiet"]) == 0
    ckpt = load_npz(a / "checkpoint.npz")
    assert {"W_e", "C_e", "b_e", "I_rec"} <= set(ckpt) and not {"W_bar", "C_bar"} & set(ckpt)
    assert np.abs(ckpt["W_e"]).max() > 0 and np.abs(ckpt["b_e"]).max() > 0

    real_run = PlasticCircuit.run
    calls = []

    def crashing_run(self, *args, **kwargs):
        calls.append(1)
        if len(calls) == 3:
            raise KeyboardInterrupt
        return real_run(self, *args, **kwargs)

    monkeypatch.setattr(PlasticCircuit, "run", crashing_run)
    assert cli.main(["train", model, "--out", str(b), "--seed", "4", "--quiet"]) == 130
    monkeypatch.setattr(PlasticCircuit, "run", real_run)
    assert json.loads((b / "summary.json").read_text())["t"] == 4.0
    assert cli.main(["resume", str(b), "--quiet"]) == 0
    assert_same_run(a, b)
    for key in ("W_e", "C_e", "b_e"):
        assert np.array_equal(ckpt[key], load_npz(b / "checkpoint.npz")[key]), key


def test_model_file():
    """models/estimation_reinforce.toml: REINFORCE with the reference values, except the rates of
    W, C and b, which it says are chosen here."""
    path = REPO / "models" / "estimation_reinforce.toml"
    cfg, default = Config.from_toml(path), Config.default("estimation")
    assert cfg.plasticity.rule == "reinforce" and "chosen here" in path.read_text()
    changed = {f"plasticity.eta_{p}": 1000 * getattr(default.plasticity, f"eta_{p}") for p in "WCb"}
    changed["plasticity.rule"] = "reinforce"
    for section in ("circuit", "nonlinearity", "stimulus", "plasticity", "init", "test"):
        for key, value in vars(getattr(default, section)).items():
            want = changed.get(f"{section}.{key}", value)
            assert getattr(getattr(cfg, section), key) == pytest.approx(want), f"{section}.{key}"
