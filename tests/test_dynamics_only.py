"""Runs of the dynamics alone (``PlasticCircuit.run(plastic=False, averages=False)``), as the test
protocols run their copies: with learning off the low-pass averages feed back into nothing, so
leaving them out changes no rate, output or reward, bit for bit, and the averages keep their values.
With the stimulus held too (``stimulus.sigma_s = 0``) the input current ``I_in = C s`` is computed
once per run, and copies with the same weights read one copy of them: the same to rounding."""

import glob
import os

import numpy as np
import pytest
from brian2 import NeuronGroup, ms, second

from brian_effplast import PlasticCircuit
from brian_effplast.blocks.plasticity import ThreeFactorSynapses
from brian_effplast.circuit.state import reset_trial, shared_copies
from brian_effplast.runs import protocol
from helpers import fast_learning, normal_noise

AVERAGE_KEYS = {"eq10": ("r_bar", "W_bar", "C_bar"), "reinforce": ("r_bar", "W_e", "C_e", "b_e")}
SMALL = {"circuit.N": 6, "circuit.N_s": 4, "run.replicas": 2, "run.seed": 5, "test.angles": 3,
         "test.hold": 11.0, "test.record_every": 50, "test.trials": 2}


@pytest.mark.parametrize("rule", ["eq10", "reinforce"])
def test_same_dynamics_without_the_averages(rule):
    """numpy, external noise: the same rates, outputs, rewards, stimulus and parameters with the
    averages left out; the averages (REINFORCE: the traces) keep their values instead of moving."""
    steps = 200
    cfg = fast_learning(**{"circuit.N": 6, "circuit.N_s": 4, "plasticity.rule": rule})
    noise = normal_noise(3, steps, 2, 6)
    runs = {}
    for averages in (True, False):
        model = PlasticCircuit(cfg, replicas=2, seed=3, target="numpy", noise=noise)
        before = {k: v.copy() for k, v in model.state.items()}
        out = model.run(steps * cfg.circuit.dt, plastic=False, averages=averages,
                        record=("theta", "r", "y", "alpha"))
        runs[averages] = before, model.state, out
    (init, with_, out_with), (_, without, out_without) = runs[True], runs[False]
    for var in ("curve", "theta", "r", "y", "alpha"):
        assert np.array_equal(out_with[var], out_without[var]), var
    for key in set(with_) - set(AVERAGE_KEYS[rule]):
        assert np.array_equal(with_[key], without[key]), key
    for key in AVERAGE_KEYS[rule]:
        assert np.array_equal(without[key], init[key]), f"{key} moved without the averages"
        assert not np.array_equal(with_[key], init[key]), f"{key} did not move with them"


def test_averages_are_needed_for_learning():
    model = PlasticCircuit(fast_learning(), seed=1, target="numpy")
    with pytest.raises(ValueError, match="averages = False is not allowed with learning on"):
        model.run(0.1, plastic=True, averages=False)
    with pytest.raises(ValueError, match="averages = False is not allowed with learning on"):
        model.run(0.1, averages=False)  # (learning is on by default)


def _both_protocols(target, monkeypatch, averages):
    """The held (2 trials from the model's state) and the authors' test (2 trials of 5 stimuli)
    of one trained small model, their copies run with the protocols' ``averages=False`` or,
    patched, with the averages as before; also which ``averages`` the protocols asked for."""
    asked = []
    run = PlasticCircuit.run

    def patched(self, *args, **kwds):
        asked.append(kwds.get("averages"))
        if averages:
            kwds["averages"] = True
        return run(self, *args, **kwds)

    cfg = fast_learning(**SMALL, **{"run.target": target})
    model = PlasticCircuit(cfg)
    model.run(2.0)  # (averages away from their reset: a test from the current state starts from them)
    with monkeypatch.context() as patch:
        patch.setattr(PlasticCircuit, "run", patched)
        held = protocol.held_stimulus_test(model)
        authors = protocol.authors_test(model, trials=2, hold=1.0)
    return held, authors, asked


@pytest.mark.parametrize("target", ["numpy", pytest.param("cpp_standalone", marks=pytest.mark.slow)])
def test_test_protocols_give_the_same_samples_without_the_averages(target, monkeypatch):
    """Same seed: every rate and output sample of a held test and of an authors' test is the same
    (to the float32 rounding of the stored samples: the held input current is summed in another
    order) whether the copies step the averages, the inputs and ``C s`` (as before) or not (now)."""
    held, authors, asked = _both_protocols(target, monkeypatch, averages=False)
    assert asked == [False] * (1 + protocol.AUTHORS_STIMULI), asked  # both protocols leave them out
    held_before, authors_before, _ = _both_protocols(target, monkeypatch, averages=True)
    for new, old in ((held, held_before), (authors, authors_before)):
        for key in ("rates", "outputs"):
            assert new[key].shape == old[key].shape and new[key].size > 0
            assert np.abs(new[key] - old[key]).max() <= 1e-6, key
    assert not np.array_equal(held["rates"][:, 0], held["rates"][:, 1])  # (the angles differ)


def _copies(target, T=3, R=2):
    """A briefly trained model's state in ``T`` copies per replica (trial reset, each copy its own
    angle), as the test protocols make them, and the tester's config (stimulus held)."""
    cfg = fast_learning(**{"circuit.N": 6, "circuit.N_s": 4, "run.target": target})
    model = PlasticCircuit(cfg, replicas=R, seed=3)
    model.run(2.0)
    state = {k: np.repeat(np.asarray(v), T, axis=0) for k, v in model.state.items()}
    reset_trial(state, cfg.circuit.r_init)
    state["theta"] = np.linspace(-np.pi, 3.0, R * T)  # (3.0 + a wrap: -pi .. pi)
    state["theta"][-1] = 4.0  # outside [-pi, pi): the first step wraps it
    return cfg.replace(**{"stimulus.sigma_s": 0.0, "run.replicas": R * T}), state


@pytest.mark.parametrize("target", ["numpy", "cpp_standalone"])
def test_held_stimulus_and_shared_copies(target, tmp_path, monkeypatch):
    """Copies of a network with the stimulus held: the dynamics alone (``I_in`` computed once,
    copies sharing ``W``) against learning off with the averages (every step as in training):
    the same angles exactly, the same rates and outputs to rounding (1e-12). On cpp_standalone
    the compiled loop reads one copy of ``W`` per network and has no inputs' code object."""
    monkeypatch.setenv("BRIAN_EFFPLAST_CACHE", str(tmp_path))  # (only this test's projects)
    cfg, state = _copies(target)
    assert shared_copies(state["W"]) == 3
    out = {}
    for averages in (True, False):
        tester = PlasticCircuit(cfg, state={k: v.copy() for k, v in state.items()}, seed=7)
        out[averages] = tester.run(3.0, plastic=False, averages=averages, record=("theta", "r", "y"))
    assert np.array_equal(out[True]["theta"], out[False]["theta"])
    assert out[False]["theta"][0, -1] == pytest.approx(4.0 - 2 * np.pi)
    for key in ("r", "y"):
        assert np.abs(out[True][key] - out[False][key]).max() <= 1e-12, key
        assert np.ptp(out[False][key][-1]) > 1e-3, key  # (the copies differ: their angles do)
    if target == "cpp_standalone":
        projects = {}
        for main in glob.glob(os.path.join(tmp_path, "standalone", "*", "main.cpp")):
            with open(main) as f:
                projects["_held" if "inputs_rates" not in f.read() else "_every_step"] = os.path.dirname(main)
        assert set(projects) == {"_held", "_every_step"}, projects
        with open(os.path.join(projects["_held"], "code_objects", "W_synapses_rule_current_codeobject.cpp")) as f:
            assert "_shared = 3;" in f.read()


def test_shared_copies_finds_groups_of_equal_weights():
    W = np.random.default_rng(0).normal(size=(4, 3, 3))
    assert shared_copies(np.repeat(W, 5, axis=0)) == 5
    assert shared_copies(np.repeat(W[:1], 6, axis=0)) == 6
    assert shared_copies(W) == 1
    changed = np.repeat(W, 5, axis=0)
    changed[7, 1, 2] += 1e-15
    assert shared_copies(changed) == 1
    assert shared_copies(np.concatenate([np.repeat(W[:2], 2, axis=0), W[2:3]])) == 1  # (5 is not 2 x groups)


def test_shared_refused_for_a_rule_that_writes_its_synapses():
    group = NeuronGroup(4, "r : 1\nI : 1")
    reward = NeuronGroup(1, "alpha : 1")
    syn = ThreeFactorSynapses(group, group, pre="r", post="r", reward=(reward, "alpha"), eta=1 / second,
                              tau_bar=10 * ms, current="I", accumulate=True)
    syn.connect_replicas(2)
    syn.set_learning(False, averages=False)
    syn.rule_current.shared = 2  # I_post += w*r_pre: reads w only
    for bad in (0, 1.5, True):
        with pytest.raises(ValueError, match=f"shared = {bad!r} is not allowed: must be an integer >= 1"):
            syn.rule_current.shared = bad
    with pytest.raises(ValueError, match=r"shared = 2 is not allowed for a rule that writes the synaptic "
                                         r"variables \['w', 'w_bar'\]"):
        syn.rule.shared = 2
