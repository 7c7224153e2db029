"""The rule as a Brian2 building block: on a user's own network, against a NumPy
reference of the same update written here; dt-invariance; clear construction errors."""

import numpy as np
import pytest
from brian2 import (DimensionMismatchError, Network, NeuronGroup, StateMonitor, device, ms, mV, prefs,
                    second, seed, set_device)

from helpers import CHECK_R, CHECK_RECORD, CHECK_STEPS, fast_learning, normal_noise
from brian_effplast import PlasticCircuit
from brian_effplast.blocks.plasticity import Decoder, NeuronRules, ThreeFactorSynapses
from brian_effplast.circuit.standalone import release_device

N, N_IN, BLOCKS = 30, 8, 2
TAU_BAR, ETA, LAM = 20 * ms, 40 / second, 0.05


def user_network(dt=0.1 * ms, adaptation=True):
    """A network the package knows nothing about: rate units with adaptation,
    a tanh nonlinearity, two blocks with their own rewards, a sine input."""
    eqs = """
    dv/dt = (-v + I_syn + I_in + b - a)/(5*ms) : 1
    da/dt = (0.3*r - a)/(50*ms) : 1
    r = tanh(clip(v, 0, inf)) + 0.01 : 1
    I_syn : 1
    I_in : 1
    b : 1
    block : integer (constant)
    """
    G = NeuronGroup(N, eqs, method="euler", dt=dt, name="user_neurons")
    G.v = "0.5*rand()"
    G.block = np.repeat(np.arange(BLOCKS), N // BLOCKS)
    G.b = 0.2
    inp = NeuronGroup(N_IN, "s = 0.5*(1 + sin(2*pi*7*Hz*t + 2*pi*i/N_IN)) : 1",
                      namespace={"N_IN": N_IN}, dt=dt, name="user_input")
    critic = NeuronGroup(BLOCKS, "alpha : 1", dt=dt, name="critic")
    critic.run_regularly("alpha = cos(2*pi*3*Hz*t + i)", when="start")
    return G, inp, critic


def reference(pre, post, alpha, i, j, k_bar, g, lam, w0):
    """The three-factor update, step by step, in NumPy (traces: time first)."""
    w, w_bar = w0.copy(), np.zeros_like(w0)
    for t in range(len(alpha)):
        x = post[t, j] * pre[t, i]
        w_bar += k_bar * (x - w_bar)
        w += g * (alpha[t] * (x - w_bar) - lam * w)
    return w, w_bar


@pytest.fixture
def standalone(tmp_path):
    """Brian2's cpp_standalone device for one test (built and run by ``Network.run``)."""
    release_device()  # a model an earlier test of this process ran holds the device
    set_device("cpp_standalone", directory=str(tmp_path / "project"), build_on_run=True)
    yield
    device.reinit()
    device.activate()
    set_device("runtime")


# (cpp_standalone rather than cython: one compilation of ~30 s instead of ~15 Cython modules of
# ~7 s each; the oracle tests run the package's own circuit on cython)
@pytest.mark.parametrize("target", ["numpy", "cpp_standalone"])
def test_sparse_user_network_matches_numpy(target, request):
    if target == "cpp_standalone":
        # first the package's own model on the device, as a user's script may do (the structure
        # of helpers.CHECK_*, compiled once for the other tests): the fixture releases it
        cfg = fast_learning()
        model = PlasticCircuit(cfg, replicas=CHECK_R, seed=1, target=target,
                               noise=normal_noise(1, CHECK_STEPS, CHECK_R, cfg.circuit.N))
        model.run(CHECK_STEPS * cfg.circuit.dt, record=CHECK_RECORD)
        request.getfixturevalue("standalone")
    else:
        prefs.codegen.target = target
    seed(3)
    steps = 600
    G, inp, critic = user_network()
    rec = ThreeFactorSynapses(G, G, pre="r", post="r", reward=critic.alpha, reward_index="block", eta=ETA,
                              tau_bar=TAU_BAR, lam=LAM, current="I_syn", order=1, name="rec")
    rec.connect(p=0.2, condition="block_pre == block_post")
    # initial values that are functions of the indices: known after the run on every device
    # (a standalone device has no values before its binary runs)
    rec.w = "0.2*sin(7*i + 3*j)"
    ff = ThreeFactorSynapses(inp, G, pre="s", post="r", reward=(critic, "alpha"), reward_index="block",
                             weight="c", eta=2 * ETA, tau_bar=2 * TAU_BAR, lam=0.0, current="I_in",
                             accumulate=False, order=1, name="ff")
    ff.connect(p=0.2)
    ff.c = "0.15*(1 + sin(5*i + 11*j))"
    dec = Decoder(G, 2, activity="r", index="block", replicas=BLOCKS, order=1, name="dec")
    bias = NeuronRules(G, reward=(critic, "alpha"), reward_index="block", tau_bar=TAU_BAR, bias="b",
                       eta_bias=ETA, lam_bias=0.1, order=2, name="bias_rule")
    G.D_0, G.D_1 = "0.1*randn()", "0.1*randn()"
    mon = StateMonitor(G, "r", record=True, when="end")
    mon_s = StateMonitor(inp, "s", record=True, when="end")
    mon_a = StateMonitor(critic, "alpha", record=True, when="end")
    mon_y = StateMonitor(dec.outputs, "y", record=True, when="end")
    net = Network(G, inp, critic, rec, ff, dec, bias, mon, mon_s, mon_a, mon_y)
    net.run(steps * 0.1 * ms)
    ri, rj, fi, fj = (np.asarray(v[:]) for v in (rec.i, rec.j, ff.i, ff.j))
    w0, c0, b0 = 0.2 * np.sin(7 * ri + 3 * rj), 0.15 * (1 + np.sin(5 * fi + 11 * fj)), np.full(N, 0.2)
    r, s, a = mon.r[:].T, mon_s.s[:].T, mon_a.alpha[:].T  # (steps, n)
    assert len(rec) > 0 and len(rec) < N * N // BLOCKS  # sparse
    fac = rec.step_factors()
    assert fac["k_bar"] == pytest.approx(0.1 / 20) and fac["g"] == pytest.approx(40 * 1e-4)
    # each synapse reads the reward of its postsynaptic neuron's block
    w, w_bar = reference(r, r, a[:, np.asarray(G.block[:])[rj]], ri, rj, fac["k_bar"], fac["g"], LAM, w0)
    np.testing.assert_allclose(rec.w[:], w, rtol=1e-10, atol=1e-13)
    np.testing.assert_allclose(rec.w_bar[:], w_bar, rtol=1e-10, atol=1e-13)
    f = ff.step_factors()
    c, c_bar = reference(s, r, a[:, np.asarray(G.block[:])[fj]], fi, fj, f["k_bar"], f["g"], 0.0, c0)
    np.testing.assert_allclose(ff.c[:], c, rtol=1e-10, atol=1e-13)
    np.testing.assert_allclose(ff.c_bar[:], c_bar, rtol=1e-10, atol=1e-13)
    # the bias rule: the same with x = r, one per neuron
    blk = np.asarray(G.block[:])
    b, r_bar = b0.copy(), np.zeros(N)
    for t in range(steps):
        r_bar += fac["k_bar"] * (r[t] - r_bar)
        b += fac["g"] * (a[t, blk] * (r[t] - r_bar) - 0.1 * b)
    np.testing.assert_allclose(G.b[:], b, rtol=1e-10, atol=1e-13)
    np.testing.assert_allclose(G.r_bar[:], r_bar, rtol=1e-10, atol=1e-13)
    # the decoder: y_k of each block = sum over the block of D_k * r (its summed variable is
    # updated at order 0, before the neurons: the r of the step before)
    D = np.stack([G.D_0[:], G.D_1[:]])
    y = mon_y.y[:].T[-1].reshape(BLOCKS, 2)
    for q in range(BLOCKS):
        np.testing.assert_allclose(y[q], D[:, blk == q] @ r[-2, blk == q], rtol=1e-12)
    assert np.max(np.abs(rec.w[:] - w0)) > 1e-4  # it learned


def _connected(target, cache_dir):
    prefs.codegen.target = target
    prefs.codegen.runtime.cython.cache_dir = str(cache_dir)
    seed(5)
    G, inp, critic = user_network()
    rec = ThreeFactorSynapses(G, G, pre="r", post="r", reward=critic.alpha, reward_index="block", eta=ETA,
                              tau_bar=TAU_BAR, current="I_syn", name="rec")
    rec.connect(p=0.3, condition="block_pre == block_post")
    dec = Decoder(G, 2, activity="r", index="block", replicas=BLOCKS, name="dec")
    assert rec.codeobj_class is None and dec.codeobj_class is None  # the run's code: on the target
    return [np.array(v[:]) for v in (rec.i, rec.j, dec.i, dec.j)]


def test_synapse_creation_on_cython_compiles_nothing(tmp_path):
    """Creating synapses is one-off code: on a runtime target it runs as Brian2's string
    expressions do (numpy), so the connectivity is numpy's, and no Cython module is built."""
    on_cython = _connected("cython", tmp_path / "cython_cache")
    on_numpy = _connected("numpy", tmp_path / "cython_cache")
    for got, want in zip(on_cython, on_numpy):
        np.testing.assert_array_equal(got, want)
    assert 0 < len(on_cython[0]) < N * N // BLOCKS
    assert not list((tmp_path / "cython_cache").glob("*.so"))


def _drive(dt, duration):
    """The rule on a fixed, deterministic drive (no dynamics): averages and weights after ``duration``."""
    prefs.codegen.target = "numpy"
    pre = NeuronGroup(4, "x = 1 + 0.5*sin(2*pi*5*Hz*t + i) : 1", dt=dt)
    post = NeuronGroup(3, "y = 1 + 0.5*cos(2*pi*3*Hz*t + 2*i) : 1", dt=dt)
    critic = NeuronGroup(1, "alpha = sin(2*pi*2*Hz*t) : 1", dt=dt)
    syn = ThreeFactorSynapses(pre, post, pre="x", post="y", reward=critic.alpha, eta=ETA, tau_bar=TAU_BAR,
                              lam=LAM, connect=True, dt=dt)
    Network(pre, post, critic, syn).run(duration)
    return np.array(syn.w_bar[:]), np.array(syn.w[:]), syn.step_factors()


def test_dt_leaves_the_rule_per_unit_time_unchanged():
    duration = 200 * ms
    runs = [_drive(dt, duration) for dt in (0.2 * ms, 0.1 * ms, 0.05 * ms)]
    # the per-step factors follow the clock exactly
    for (_, _, f), dt in zip(runs, (0.2e-3, 0.1e-3, 0.05e-3)):
        assert f["k_bar"] == pytest.approx(dt / float(TAU_BAR), rel=1e-12)
        assert f["g"] == pytest.approx(float(ETA) * dt, rel=1e-12)
    # the same simulated time gives the same averages and weights, up to the Euler error O(dt)
    (b1, w1, _), (b2, w2, _), (b3, w3, _) = runs
    assert np.max(np.abs(w2)) > 1e-3  # the weights moved
    for x1, x2, x3 in ((b1, b2, b3), (w1, w2, w3)):
        e12, e23 = np.max(np.abs(x1 - x2)), np.max(np.abs(x2 - x3))
        assert e12 < 0.02 * np.max(np.abs(x2))
        assert 1.6 < e12 / e23 < 2.4  # first order: halving dt halves the difference


def _groups():
    prefs.codegen.target = "numpy"
    G = NeuronGroup(6, "r : 1\nv : volt\nrep : integer (constant)\nx : 1", name="pop")
    G.rep = [0, 0, 0, 1, 1, 1]
    critic = NeuronGroup(2, "alpha : 1\nbad_alpha : volt", name="critic")
    return G, critic


BAD = [
    (dict(pre="q"), ValueError, r"'q', which is not a variable of NeuronGroup 'pop'"),
    (dict(post="v"), ValueError, r"post = 'v' has units of volt in NeuronGroup 'pop'"),
    (dict(reward=("critic", "alpha")), TypeError, r"must be a Brian2 group"),
    (dict(reward="alpha"), TypeError, r"give \(group, 'variable'\)"),
    (dict(reward_var="nope"), ValueError, r"reward variable 'nope' is not a variable of NeuronGroup 'critic'"),
    (dict(reward_var="bad_alpha"), ValueError, r"reward variable 'bad_alpha' of NeuronGroup 'critic' has units"),
    (dict(reward_index=None), ValueError, r"'alpha' of NeuronGroup 'critic' has 2 elements: give reward_index"),
    (dict(reward_index="x"), TypeError, r"reward_index 'x' of NeuronGroup 'pop' must be an integer variable"),
    (dict(reward_index="missing"), ValueError, r"reward_index 'missing' is not a variable of NeuronGroup 'pop'"),
    (dict(critic_size=3), ValueError, r"reward group NeuronGroup 'critic3' has 3 elements, but reward_index "
                                      r"'rep' of NeuronGroup 'pop' takes values 0..1"),
    (dict(eta=0.05), DimensionMismatchError, r"eta = .* must have units of"),
    (dict(tau_bar=20), DimensionMismatchError, r"tau_bar = .* must have units of"),
    (dict(tau_bar=0 * ms), ValueError, r"tau_bar = .* must be a finite number > 0"),
    (dict(lam=1 * mV), DimensionMismatchError, r"lam = .* must have units of"),
    (dict(current="I_missing"), ValueError, r"current 'I_missing' is not a variable of NeuronGroup 'pop'"),
    (dict(current="v"), ValueError, r"current 'v' of NeuronGroup 'pop' has units"),
    (dict(accumulate=True), ValueError, r"accumulate=True needs current="),
]


@pytest.mark.parametrize("change, error, message", BAD, ids=[m[:30] for _, _, m in BAD])
def test_bad_synapses_are_clear_errors(change, error, message):
    G, critic = _groups()
    change = dict(change)
    if "critic_size" in change:
        critic = NeuronGroup(change.pop("critic_size"), "alpha : 1", name="critic3")
    reward_var = change.pop("reward_var", "alpha")
    kwds = dict(pre="r", post="r", reward=(critic, reward_var), reward_index="rep", eta=ETA, tau_bar=TAU_BAR,
                lam=LAM)
    kwds.update(change)
    with pytest.raises(error, match=message):
        ThreeFactorSynapses(G, G, name="syn", **kwds)


def test_bad_neuron_rules_and_decoder_are_clear_errors():
    G, critic = _groups()
    base = dict(reward=(critic, "alpha"), reward_index="rep", tau_bar=TAU_BAR, eta_bias=ETA)
    with pytest.raises(ValueError, match=r"bias 'b' is not a variable of NeuronGroup 'pop'"):
        NeuronRules(G, bias="b", **base)
    with pytest.raises(ValueError, match=r"activity = 'rate' uses 'rate', which is not a variable"):
        NeuronRules(G, bias="x", activity="rate", **base)
    with pytest.raises(ValueError, match=r"nothing to learn"):
        NeuronRules(G, **base)
    with pytest.raises(ValueError, match=r"has 2 elements: give reward_index"):
        NeuronRules(G, bias="x", **dict(base, reward_index=None))
    with pytest.raises(DimensionMismatchError, match=r"eta_bias = .* must have units of"):
        NeuronRules(G, bias="x", **dict(base, eta_bias=1e-3))
    with pytest.raises(TypeError, match=r"index 'x' of NeuronGroup 'pop' must be an integer variable"):
        Decoder(G, 2, index="x", replicas=2)
    with pytest.raises(ValueError, match=r"replicas = 2 needs index="):
        Decoder(G, 2, replicas=2)
    with pytest.raises(ValueError, match=r"n_out = 0 is not allowed"):
        Decoder(G, 0)
    dec = Decoder(G, 2, index="rep", replicas=2)
    with pytest.raises(ValueError, match=r"decoder= needs delta="):
        NeuronRules(G, decoder=dec, eta_decoder=ETA, **base)
    with pytest.raises(ValueError, match=r"delta variable 'delta_0' is not a variable of NeuronGroup 'critic'"):
        NeuronRules(G, decoder=dec, delta=(critic, "delta"), eta_decoder=ETA, **base)


# -- a reward from Python ------------------------------------------------------------

def estimation_reward(y, theta, t):
    """The estimation task's reward, written in Python (as its Brian2 code computes it)."""
    target_0, target_1 = np.cos(theta), np.sin(theta)
    delta_0, delta_1 = target_0 - y[:, 0], target_1 - y[:, 1]
    alpha = -(delta_0**2 + delta_1**2)
    return alpha, np.stack([delta_0, delta_1], axis=1)


def _fast(cfg):
    pl = cfg.plasticity
    return cfg.replace(**{f"plasticity.eta_{p}": 200 * getattr(pl, f"eta_{p}") for p in "WCbD"},
                       **{"run.transient": 0.5, "circuit.N": 12})


def test_python_reward_equals_the_builtin_reward_bit_for_bit():
    from helpers import normal_noise
    from brian_effplast import Config, PlasticCircuit
    cfg = _fast(Config.default("estimation"))
    R, steps = 2, 400
    noise = normal_noise(21, steps, R, cfg.circuit.N)
    calls = []

    def reward(y, theta, t):
        calls.append(t)
        return estimation_reward(y, theta, t)

    outs = []
    for fn in (None, reward):
        model = PlasticCircuit(cfg, replicas=R, seed=9, target="numpy", noise=noise, reward=fn)
        out = model.run(steps * cfg.circuit.dt, record=("alpha", "r", "y"))
        outs.append((out, model.state))
    (a, sa), (b, sb) = outs
    assert len(calls) == steps and calls[1] == pytest.approx(cfg.circuit.dt)
    for key in ("alpha", "r", "y", "curve"):
        assert np.array_equal(a[key], b[key]), key
    for key in sa:
        assert np.array_equal(sa[key], sb[key]), key
    assert np.max(np.abs(sa["W"] - PlasticCircuit(cfg, replicas=R, seed=9, target="numpy").state["W"])) > 1e-5


def test_python_reward_every_k_steps_and_bad_returns():
    from brian_effplast import Config, PlasticCircuit
    cfg = _fast(Config.default("estimation"))
    calls = []

    def reward(y, theta, t):
        calls.append(t)
        return estimation_reward(y, theta, t)

    model = PlasticCircuit(cfg, seed=1, target="numpy", reward=reward, reward_every=5)
    model.run(1.0)
    assert len(calls) == 20
    bad = PlasticCircuit(cfg, seed=1, target="numpy", reward=lambda y, theta, t: -np.ones(1))
    with pytest.raises(TypeError, match=r"must return \(alpha, delta\)"):
        bad.run(0.01)


def test_python_reward_is_refused_in_standalone():
    from brian_effplast import PlasticCircuit
    with pytest.raises(ValueError) as err:
        PlasticCircuit(task="estimation", seed=1, target="cpp_standalone", reward=estimation_reward)
    msg = str(err.value)
    assert "cannot run in cpp_standalone" in msg
    assert "Brian2 cannot call Python from the compiled simulation loop" in msg
    assert "a run_regularly on the group that holds it" in msg and "a Task" in msg


# -- your own objects in the model's network ------------------------------------------

def test_user_objects_in_the_model_network():
    from brian2 import NetworkOperation
    from helpers import normal_noise
    from brian_effplast import Config, PlasticCircuit
    cfg = _fast(Config.default("estimation"))
    noise = normal_noise(5, 300, 1, cfg.circuit.N)
    plain = PlasticCircuit(cfg, seed=2, target="numpy", noise=noise)
    mine = PlasticCircuit(cfg, seed=2, target="numpy", noise=noise)
    mon = mine.add(StateMonitor(mine.population, "r", record=[0, 3]))
    seen = []
    mine.add(NetworkOperation(lambda t: seen.append(float(np.asarray(t))), dt=50 * mine.population.clock.dt))
    net = mine.network
    outs = []
    for model in (plain, mine):
        model.run(1.0)
        model.state["b"] = model.state["b"] + 0.01  # changes to the state take effect in the next run
        outs.append(model.run(2.0, record=("r",)))
    assert mine.network is net  # one network, kept
    # its time continues across runs
    assert mon.r.shape == (2, 300) and np.allclose(np.diff(mon.t / (cfg.circuit.tau_ms * ms)), cfg.circuit.dt)
    assert len(seen) == 6 and seen == sorted(seen)
    for key in plain.state:
        assert np.array_equal(plain.state[key], mine.state[key]), key
    if True:
        assert np.array_equal(outs[0]["r"], outs[1]["r"]) and np.array_equal(outs[0]["curve"], outs[1]["curve"])
    # the monitor (at the start of each step) saw what the model recorded (at the end of the one before)
    np.testing.assert_array_equal(mon.r[0, 101:], outs[1]["r"][:-1, 0, 0])


def test_user_objects_are_refused_in_standalone():
    from brian_effplast import PlasticCircuit
    model = PlasticCircuit(task="estimation", seed=1, target="cpp_standalone")
    with pytest.raises(RuntimeError, match=r"compiled once per structure .* Use target 'numpy' or 'cython'"):
        model.add(StateMonitor)
