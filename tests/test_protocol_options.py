"""The test protocol's options: independent trials per angle (test.trials) and where each copy
starts (test.start), the authors' protocol, and what test.npz records (numpy target, tiny runs)."""

import numpy as np
import pytest

from brian_effplast import Config, PlasticCircuit
from brian_effplast.runs import protocol
from brian_effplast.config import ConfigError
from brian_effplast.runs.protocol import AUTHORS_PROTOCOL, describe_protocol, held_stimulus_test, per_angle_error
from brian_effplast.circuit.state import initial_state, reset_trial, saved_keys
from brian_effplast.runs.training import train
from helpers import load_npz

# hold 11 with a sample every 50 steps keeps 2 samples after the 10 time units of settling
SMALL = {"circuit.N": 6, "circuit.N_s": 4, "run.target": "numpy", "run.duration": 2.0, "run.transient": 1.0,
         "run.replicas": 2, "run.seed": 5, "test.angles": 3, "test.hold": 11.0, "test.record_every": 50}


def small_config(**changes):
    return Config.default("estimation").replace(**{**SMALL, **changes})


@pytest.fixture(scope="module")
def model():
    """A model away from the trial reset: 2 time units of learning (rates, averages not at their reset values)."""
    m = PlasticCircuit(small_config())
    m.run(2.0)
    assert not np.allclose(m.state["r"], 0.1) and np.any(m.state["W_bar"] != 0)
    return m


def test_one_trial_from_the_current_state_is_the_test_as_before(model):
    """trials = 1, start = "current" (the defaults): the (replica, angle) copies of the model's state
    run as before, bit for bit, with the layout (R, K, S, N)."""
    cfg, R, K = model.config, model.R, model.config.test.angles
    data = held_stimulus_test(model)
    assert np.array_equal(data["rates"], held_stimulus_test(model, trials=1, start="current")["rates"])
    # the protocol as it was: one copy per (replica, angle), replica r angle k at r*K + k
    state = {k: np.repeat(model.state[k], K, axis=0) for k in saved_keys()}
    state["theta"] = np.tile(-np.pi + 2 * np.pi * np.arange(K) / K, R)
    tester = PlasticCircuit(cfg.replace(**{"stimulus.sigma_s": 0.0, "run.replicas": R * K}), state=state,
                            t=model.t, seed=model.seed)
    rec = tester.run(cfg.test.hold, plastic=False, record=("r", "y"), record_every=cfg.test.record_every)
    r, y = rec["r"][-2:], rec["y"][-2:]  # the 2 samples after settling
    assert np.array_equal(data["rates"], r.reshape(2, R, K, -1).transpose(1, 2, 0, 3))
    assert np.array_equal(data["outputs"], y.reshape(2, R, K, -1).transpose(1, 2, 0, 3))
    assert data["rates"].shape == (R, K, 2, cfg.circuit.N)
    assert int(data["trials"]) == 1 and str(data["start"]) == "current"
    assert str(data["protocol"]) == "3 angles x 11 time units, from the model's state"


def test_reset_start_begins_every_copy_at_the_trial_reset_rate(monkeypatch):
    """start = "reset": the first recorded sample (one step, no settling, no noise) is the
    NumPy step of docs/model.md from r = circuit.r_init, whatever the model's rates."""
    monkeypatch.setattr(protocol, "SETTLE", 0.0)
    cfg = small_config(**{"circuit.sigma": 0.0, "test.record_every": 1})
    m = PlasticCircuit(cfg, state={"r": np.full((2, 6), 0.7)})
    data = held_stimulus_test(m, hold=0.05, trials=2, start="reset")
    first = data["rates"][:, :, ::5]  # (R, K, trials, N): each trial's first sample
    # one Euler step from r = 0.1 with the model's W, C, b; inputs max(0, cos(theta - theta_k))
    dt, r0, st = cfg.circuit.dt, cfg.circuit.r_init, m.state
    s = np.maximum(0, np.cos(data["angles"][:, None] - (-np.pi + 2 * np.pi * np.arange(4) / 4)))  # (K, N_s)
    finv = np.log(np.expm1(r0 * 30.0)) / 30.0  # the softplus' inverse (a = 0, beta = 1/30, g = 30)
    drive = r0 * st["W"].sum(axis=2)[:, None] + np.einsum("qij,kj->qki", st["C"], s) + st["b"][:, None]
    expected = np.clip(r0 + dt * (-finv + drive), cfg.circuit.r_min, cfg.circuit.r_max)  # (R, K, N)
    for j in range(2):
        np.testing.assert_allclose(first[:, :, j], expected, rtol=1e-10, atol=1e-13)
    np.testing.assert_allclose(data["outputs"][:, :, 0], np.einsum("qoi,qki->qko", st["D"], expected),
                               rtol=1e-10, atol=1e-13)
    # from the model's own state (r = 0.7) the first step is elsewhere
    current = held_stimulus_test(m, hold=0.05)["rates"][:, :, 0]
    assert np.all(np.abs(current - expected) > 0.1)


def test_trials_are_independent_copies_one_block_of_samples_each(model):
    """trials = 3: three copies per (replica, angle), each with its own noise, their samples one
    block after the other along S; scores and per-angle errors work unchanged."""
    R, K, N = model.R, model.config.test.angles, model.N
    data = held_stimulus_test(model, trials=3, start="reset")
    assert data["rates"].shape == (R, K, 3 * 2, N) and data["outputs"].shape == (R, K, 6, 2)
    blocks = data["rates"].reshape(R, K, 3, 2, N)
    for j in range(3):
        for i in range(j):
            assert not np.allclose(blocks[:, :, i], blocks[:, :, j])  # different noise in every copy
    assert per_angle_error(data, "estimation").shape == (R, K)
    assert set(protocol.scores(data, "estimation")) == {"mse", "mse_prior"}
    assert int(data["trials"]) == 3 and str(data["start"]) == "reset"
    assert str(data["protocol"]) == "3 angles x 11 time units x 3 trials, from r = 0.1 (trial reset)"


def test_reset_trial_is_the_training_trial_start():
    """The state the reset start uses is the training trial's: rates r_init, r_bar and the rule's
    averages or traces 0, I_rec = W r; the parameters and theta kept."""
    for rule in ("eq10", "reinforce"):
        cfg = small_config(**{"plasticity.rule": rule})
        st = initial_state(cfg, 2, 1)
        for key in st:
            if key not in ("theta", "W", "C", "b", "D"):
                st[key] = np.full_like(st[key], 0.3)
        kept = {k: st[k].copy() for k in ("theta", "W", "C", "b", "D")}
        reset_trial(st, 0.1, rule)
        assert np.all(st["r"] == 0.1)
        assert all(np.all(st[k] == 0) for k in {"eq10": ("W_bar", "C_bar"), "reinforce": ("W_e", "C_e", "b_e")}[rule]
                   + ("r_bar",))
        np.testing.assert_allclose(st["I_rec"], 0.1 * st["W"].sum(axis=2))
        assert all(np.array_equal(st[k], v) for k, v in kept.items())


@pytest.mark.parametrize("kwargs, key, allowed", [
    ({"trials": 0}, "test.trials = 0", "an integer >= 1"),
    ({"trials": 1.5}, "test.trials = 1.5", "an integer >= 1"),
    ({"start": "zero"}, 'test.start = "zero"', 'one of "current", "reset"'),
])
def test_bad_options_are_refused_naming_the_key(model, kwargs, key, allowed):
    with pytest.raises(ConfigError) as err:
        held_stimulus_test(model, **kwargs)
    assert key in str(err.value) and allowed in str(err.value)
    with pytest.raises(ConfigError) as err:  # and in a model file
        Config.from_dict({"test": {k: v for k, v in kwargs.items()}}, source="m.toml")
    assert str(err.value).startswith(f"m.toml: {key} is not allowed: must be {allowed}")


def test_the_authors_protocol_is_configuration_and_keywords():
    cfg = Config.default().replace(test=AUTHORS_PROTOCOL)
    t = cfg.test
    assert (t.protocol, t.angles, t.hold, t.n_trials, t.every) == ("authors", 12, 200.0, 100, 200)
    assert describe_protocol(12, 200.0, 100, protocol="authors") == (
        "the authors' protocol: 100 trials of 1000 time units, 5 stimuli of 200 from the 12 input angles, "
        "from r = 0.1")
    # omitted trials and record_every are the protocol's
    assert (Config.default().test.n_trials, Config.default().test.every) == (1, 20)
    t = Config.default().replace(**{"test.protocol": "authors"}).test
    assert (t.n_trials, t.every) == (100, 200)


def test_run_test_records_the_protocol_in_test_npz(tmp_path):
    d = tmp_path / "run"
    train(small_config(), d, quiet=True)
    res = protocol.run_test(d, trials=2, start="reset", quiet=True)
    assert res["protocol"] == "3 angles x 11 time units x 2 trials, from r = 0.1 (trial reset)"
    assert res["samples"] == 4 and "mse" in res
    z = load_npz(d / "test.npz")
    assert (str(z["protocol"]), int(z["trials"]), str(z["start"])) == (res["protocol"], 2, "reset")
    assert z["rates"].shape == (2, 3, 4, 6)
