"""Clocks and units as a Brian2 user expects them: a block attached to a group runs on that
group's clock; durations take Brian2 quantities; construction errors name the object."""

import numpy as np
import pytest
from brian2 import Clock, Network, NeuronGroup, ms, prefs, second

from brian_effplast import Config, PlasticCircuit
from brian_effplast.blocks.plasticity import Decoder, NeuronRules, ReinforceSynapses, ThreeFactorSynapses
from brian_effplast.config import ConfigError
from brian_effplast.config.durations import to_time_units

TAU_BAR = 20 * ms


def _network(**override):
    """A user's network at dt = 1 ms, every block built without dt=; ``override``: kwds of the rules."""
    prefs.codegen.target = "numpy"
    G = NeuronGroup(3, "r : 1\nI : 1\nb : 1\ng : 1", dt=1 * ms, name="G")
    G.r, G.g = 0.5, 1.0
    critic = NeuronGroup(1, "alpha : 1\ndelta_0 : 1", dt=1 * ms, name="critic")
    syn = ThreeFactorSynapses(G, G, pre="r", post="r", reward=critic.alpha, eta=1 / second, tau_bar=TAU_BAR,
                              current="I", connect=True, name="syn")
    rsyn = ReinforceSynapses(G, G, pre="r", post="r", reward=critic.alpha, eta=1 / second, tau_e=TAU_BAR,
                             weight="v", connect=True, name="rsyn")
    decoder = Decoder(G, n_out=1, name="dec")
    rules = NeuronRules(G, reward=critic.alpha, tau_bar=TAU_BAR, bias="b", eta_bias=1 / second, decoder=decoder,
                        delta=(critic, "delta"), name="rules", **override)
    return Network(G, critic, syn, rsyn, decoder, rules), syn, rsyn, decoder, rules


def _all_objects(objects):
    for obj in objects:
        yield obj
        yield from _all_objects(getattr(obj, "contained_objects", ()))


def test_blocks_run_on_the_clock_of_their_group():
    net, syn, rsyn, decoder, rules = _network()
    dts = {obj.name: float(obj.clock.dt) for obj in _all_objects(net.objects)}
    assert set(dts.values()) == {1e-3}, dts
    assert {"syn_rule", "rsyn_rule", "dec_outputs", "rules"} <= set(dts)
    net.run(10 * ms)
    # 10 steps of dt/tau_bar with a constant coactivity x = 0.25, the averages from 0: a plain
    # statement of the rule (at Brian2's default 0.1 ms it would be 100 steps, about 0.099)
    x, k = 0.25, 1.0 / 20.0
    expected = x * (1 - (1 - k) ** 10)
    assert np.allclose(syn.w_bar[:], expected, rtol=1e-12)
    assert np.allclose(rsyn.v_e[:], expected, rtol=1e-12)
    assert np.allclose(net["G"].r_bar[:], 0.5 * (1 - (1 - k) ** 10), rtol=1e-12)
    assert syn.step_factors()["k_bar"] == pytest.approx(k, rel=1e-12)


def test_dt_and_clock_override_the_group_clock():
    net, _, _, decoder, rules = _network(dt=0.5 * ms)
    assert float(rules.clock.dt) == 0.5e-3
    G = net["G"]
    clock = Clock(dt=2 * ms)
    dec = Decoder(G, n_out=1, name="dec2", clock=clock)
    assert dec.clock is clock and dec.outputs.clock is clock
    dec3 = Decoder(G, n_out=1, name="dec3", dt=0.25 * ms)
    assert float(dec3.clock.dt) == float(dec3.outputs.clock.dt) == 0.25e-3
    with pytest.raises(ValueError, match=r"Decoder 'dec4': give dt= or clock=, not both"):
        Decoder(G, n_out=1, name="dec4", dt=1 * ms, clock=clock)
    with pytest.raises(ValueError, match=r"NeuronRules 'r2': give dt= or clock=, not both"):
        NeuronRules(G, reward=net["critic"].alpha, tau_bar=TAU_BAR, activity="g", bias="b",
                    eta_bias=1 / second, name="r2", dt=1 * ms, clock=clock)


def test_messages_name_the_group_type_and_work_before_connect():
    prefs.codegen.target = "numpy"
    G = NeuronGroup(4, "r : 1\nrep : integer (constant)", dt=1 * ms, name="pop")
    G.rep = [0, 0, 1, 1]
    critic = NeuronGroup(3, "alpha : 1", name="critic3")
    with pytest.raises(ValueError, match=r"reward group NeuronGroup 'critic3' has 3 elements"):
        ThreeFactorSynapses(G, G, pre="r", post="r", reward=critic.alpha, reward_index="rep", eta=1 / second,
                            tau_bar=TAU_BAR)
    one = NeuronGroup(1, "alpha : 1")
    syn = ThreeFactorSynapses(G, G, pre="r", post="r", reward=one.alpha, eta=2 / second, tau_bar=TAU_BAR)
    assert syn.step_factors() == pytest.approx({"k_bar": 1 / 20, "g": 2e-3}, rel=1e-12)  # before connect()
    syn.connect()
    assert syn.step_factors() == pytest.approx({"k_bar": 1 / 20, "g": 2e-3}, rel=1e-12)


@pytest.mark.parametrize("value, expected", [(5, 5.0), (0.05 * second, 5.0), (50 * ms, 5.0), ("50 ms", 5.0),
                                             ("200s", 20000.0), ("2 * second", 200.0), ("7.5", 7.5),
                                             (3 * ms / ms, 3.0)])
def test_durations_with_units_are_time_units_of_tau(value, expected):
    assert to_time_units(value, 10.0) == pytest.approx(expected, rel=1e-12)


def test_quantities_in_the_config_and_bad_ones_named():
    cfg = Config.default("estimation").replace(**{"run.duration": 2 * second, "test.hold": "500 ms",
                                                  "circuit.tau_ms": 20.0})
    assert (cfg.run.duration, cfg.test.hold) == (100.0, 25.0)  # in units of tau = 20 ms
    for bad in ("5 volt", "soon"):
        with pytest.raises(ConfigError, match=r"run.duration"):
            Config.default("estimation").replace(**{"run.duration": bad})
    model = PlasticCircuit(task="estimation", seed=1, target="numpy")
    with pytest.raises(ConfigError, match=r"^PlasticCircuit.run\(\): duration"):
        model.run(0.5 * ms / 10)


def test_run_with_a_quantity_equals_run_in_time_units():
    from helpers import fast_learning
    cfg = fast_learning(**{"circuit.N": 8, "run.transient": 1.0})
    a = PlasticCircuit(cfg, seed=3, target="numpy")
    b = PlasticCircuit(cfg, seed=3, target="numpy")
    out_a, out_b = a.run(0.05 * second), b.run(5)  # tau = 10 ms
    assert a.t == b.t == 5.0
    np.testing.assert_array_equal(out_a["curve"], out_b["curve"])
    for key in ("W", "C", "b", "D", "r"):
        np.testing.assert_array_equal(a.state[key], b.state[key])
