"""Runs of the dynamics alone (``PlasticCircuit.run(plastic=False, averages=False)``), as the test
protocols run their copies: with learning off the low-pass averages feed back into nothing, so
leaving them out changes no rate, output or reward, bit for bit, and the averages keep their values."""

import numpy as np
import pytest

from brian_effplast import PlasticCircuit
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
    """Same seed: every rate and output sample of a held test and of an authors' test is the same,
    bit for bit, whether the copies step the averages (as before) or not (now)."""
    held, authors, asked = _both_protocols(target, monkeypatch, averages=False)
    assert asked == [False] * (1 + protocol.AUTHORS_STIMULI), asked  # both protocols leave them out
    held_before, authors_before, _ = _both_protocols(target, monkeypatch, averages=True)
    for new, old in ((held, held_before), (authors, authors_before)):
        for key in ("rates", "outputs"):
            assert new[key].shape == old[key].shape and new[key].size > 0
            assert np.array_equal(new[key], old[key]), key
    assert not np.array_equal(held["rates"][:, 0], held["rates"][:, 1])  # (the angles differ)
