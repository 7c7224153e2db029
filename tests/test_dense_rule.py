"""The synapse rules stepped without index arrays (brian_effplast.blocks.dense): which synapses
get the dense loop, and that the compiled model uses it (its results: tests/test_oracle_match.py)."""

import glob
import os

import numpy as np
import pytest
from brian2 import NeuronGroup, ms, second

from helpers import CHECK_R, CHECK_STEPS, fast_learning, normal_noise
from brian_effplast import PlasticCircuit
from brian_effplast.blocks._groups import attach
from brian_effplast.blocks.plasticity import ThreeFactorSynapses


def _synapses(replicas=2, n=3, blocked=True):
    group = NeuronGroup(replicas * n, "r : 1\nI : 1\nreplica : integer (constant)")
    group.replica = np.repeat(np.arange(replicas), n)
    if blocked:  # what RecurrentPopulation declares: neuron i of replica q is q*n + i
        attach(group, replicas=replicas)
    reward = NeuronGroup(replicas, "alpha : 1")
    return ThreeFactorSynapses(group, group, pre="r", post="r", reward=(reward, "alpha"), eta=1 / second,
                               tau_bar=10 * ms, reward_index="replica", current="I", accumulate=True)


def test_connect_replicas_alone_is_dense():
    syn = _synapses()
    syn.connect_replicas(2)
    assert syn.rule.layout == (2, 3, 3)
    assert syn.rule.indices == {"replica_syn"}


def test_reward_index_read_unless_the_target_declares_its_replicas():
    syn = _synapses(blocked=False)
    syn.connect_replicas(2)
    assert syn.rule.layout == (2, 3, 3)
    assert syn.rule.indices == set()


@pytest.mark.parametrize("order", ["before", "after"])
def test_other_synapses_make_it_generic(order):
    syn = _synapses()
    if order == "before":
        syn.connect(i=0, j=1)
    syn.connect_replicas(2)
    if order == "after":
        syn.connect(i=0, j=1)
    assert syn.rule.layout is None


@pytest.mark.standalone
def test_compiled_model_reads_no_synaptic_indices(tmp_path, monkeypatch):
    """The W and C rules of the compiled model (helpers.CHECK_* structure) compute their indices."""
    monkeypatch.setenv("BRIAN_EFFPLAST_CACHE", str(tmp_path))  # (only this test's project)
    cfg = fast_learning("estimation")
    noise = normal_noise(11, CHECK_STEPS, CHECK_R, cfg.circuit.N)
    model = PlasticCircuit(cfg, seed=5, target="cpp_standalone", replicas=CHECK_R, noise=noise)
    model.run(CHECK_STEPS * cfg.circuit.dt)
    for name in ("W_synapses", "C_synapses"):
        files = glob.glob(os.path.join(tmp_path, "standalone", "*", "code_objects", f"{name}_rule_codeobject.cpp"))
        assert files, name
        for path in files:
            with open(path) as f:
                code = f.read()
            assert "for(int _q=0" in code, path  # the dense template's loop
            loop = code[code.index("for(int _q=0"):]
            assert "_synaptic_post[" not in loop and "_synaptic_pre[" not in loop and "replica_syn[" not in loop
            assert f"_blocks = {CHECK_R}, _n_pre = " in code
