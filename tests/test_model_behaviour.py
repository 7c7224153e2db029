"""Behaviour of `PlasticCircuit` as a whole: replicas, the learning switch and gate,
reproducibility, the noise-free fixed point and continuing a saved model.

On cpp_standalone every new structure (replicas, recorded variables...) is a
compilation of tens of seconds: `test_replicas_are_independent` runs the
structure of test_oracle_match.py (helpers.CHECK_*), and
`test_learning_off_freezes_parameters` and `test_same_seed_same_result` share
one more (through the cached `_frozen_run`).
"""

import os
import re
import subprocess

import numpy as np
import pytest

from helpers import CHECK_R, CHECK_RECORD, CHECK_STEPS, TARGETS, fast_learning, normal_noise
from brian_effplast import Config, PlasticCircuit, STATE_KEYS

RTOL, ATOL = 1e-9, 1e-12
PARAMS = ("W", "C", "b", "D")


def copy_state(state):
    return {k: np.array(v, copy=True) for k, v in state.items()}


def assert_states_equal(a, b, keys=STATE_KEYS):
    for key in keys:
        assert np.array_equal(a[key], b[key]), f"{key} differs"


# ----------------------------------------------------------------------------------------
# 1. Replicas are independent
# ----------------------------------------------------------------------------------------

@pytest.mark.parametrize("target", TARGETS)
def test_replicas_are_independent(target):
    R, steps, record = CHECK_R, CHECK_STEPS, CHECK_RECORD  # (the structure of test_oracle_match.py)
    cfg = fast_learning()
    N, dt = cfg.circuit.N, cfg.circuit.dt
    noise = normal_noise(21, steps, R, N)
    many = PlasticCircuit(cfg, replicas=R, seed=4, target=target, noise=noise)
    init = copy_state(many.state)
    # the replicas really differ (else swapping them would go unnoticed)
    assert not np.array_equal(init["W"][0], init["W"][1])
    out_many = many.run(steps * dt, record=record)
    # learning on: every parameter of every replica moved
    for key in PARAMS:
        moved = np.abs(many.state[key] - init[key]).reshape(R, -1).max(axis=1)
        assert np.all(moved > 1e-6), (key, moved)

    def assert_same_replica(k, model, out, q):
        """Replica ``q`` of ``model`` went exactly as replica ``k`` of ``many``."""
        for key in STATE_KEYS:
            np.testing.assert_allclose(model.state[key][q], many.state[key][k], rtol=RTOL, atol=ATOL,
                                       err_msg=f"replica {k}: {key}")
        for var in record:
            np.testing.assert_allclose(out[var][:, q], out_many[var][:, k], rtol=RTOL, atol=ATOL,
                                       err_msg=f"replica {k}: recorded {var}")
        np.testing.assert_allclose(out["curve"][q], out_many["curve"][k], rtol=RTOL, atol=ATOL)

    # every other replica given another state and other noise: replica k does not move
    # (the same compiled structure: no new compilation in standalone)
    other = copy_state(PlasticCircuit(cfg, replicas=R, seed=99, target=target).state)
    other_noise = normal_noise(22, steps, R, N)
    for k in range(R):
        state = {key: np.array(other[key], copy=True) for key in init}
        for key in init:
            state[key][k] = init[key][k]
        mixed = {"stimulus": other_noise["stimulus"].copy(), "rates": other_noise["rates"].copy()}
        mixed["stimulus"][:, k] = noise["stimulus"][:, k]
        mixed["rates"][:, k * N:(k + 1) * N] = noise["rates"][:, k * N:(k + 1) * N]
        model = PlasticCircuit(cfg, replicas=R, seed=4, target=target, noise=mixed, state=state)
        assert_same_replica(k, model, model.run(steps * dt, record=record), k)
    # and a replica alone is the same replica (standalone: the oracle tests check one and two
    # replicas against the NumPy reference, so a second compilation is not needed here)
    if target != "cpp_standalone":
        for k in range(R):
            one_noise = {"stimulus": noise["stimulus"][:, k:k + 1],
                         "rates": noise["rates"][:, k * N:(k + 1) * N]}
            one = PlasticCircuit(cfg, replicas=1, seed=4, target=target, noise=one_noise,
                                 state={key: v[k:k + 1] for key, v in init.items()})
            assert_same_replica(k, one, one.run(steps * dt, record=record), 0)


# ----------------------------------------------------------------------------------------
# 2./3. Learning switch and reproducibility (the runs with learning off are shared)
# ----------------------------------------------------------------------------------------

_FROZEN = {}
FROZEN_SEED, FROZEN_DURATION = 7, 1.0


def _frozen_model(target, seed=FROZEN_SEED):
    # learning would be on from t = 0 (no transient, fast rates) but for plastic=False
    return PlasticCircuit(fast_learning(), replicas=2, seed=seed, target=target)


def _frozen_run(target):
    """One run with learning switched off, cached per target: (initial, final, output)."""
    if target not in _FROZEN:
        model = _frozen_model(target)
        init = copy_state(model.state)
        out = model.run(FROZEN_DURATION, plastic=False, record=("theta", "r", "alpha"))
        assert model.plastic is False
        _FROZEN[target] = (init, copy_state(model.state), out)
    return _FROZEN[target]


@pytest.mark.parametrize("target", TARGETS)
def test_learning_off_freezes_parameters(target):
    init, final, out = _frozen_run(target)
    for key in PARAMS:
        assert np.array_equal(init[key], final[key]), f"{key} changed with learning off"
    # ... while the dynamics ran
    assert not np.array_equal(init["r"], final["r"])
    assert not np.array_equal(init["theta"], final["theta"])
    assert not np.array_equal(out["r"][0], out["r"][-1])
    # the low-pass averages are not gated (docs/model.md, step 5)
    for key in ("W_bar", "C_bar", "r_bar"):
        assert not np.array_equal(init[key], final[key]), f"{key} did not move"


UPDATES = {"W_synapses_rule", "C_synapses_rule", "neuron_rules"}  # the code objects that update parameters
AVERAGES = {"W_synapses_rule_off", "C_synapses_rule_off", "neuron_rules_off"}  # their learning-off siblings
CURRENT = {"W_synapses_rule_current"}  # learning off without the averages: the recurrent current alone


def _stepped(model, plastic, averages=True):
    """Names of the rule objects a run with learning ``plastic`` steps: Brian2's profile on the
    runtime targets, the calls in the compiled project's main.cpp on cpp_standalone."""
    from brian_effplast.circuit import standalone
    cfg = model.config
    out = model.run(CHECK_STEPS * cfg.circuit.dt, plastic=plastic, record=CHECK_RECORD,
                    profile=model.target != "cpp_standalone", averages=averages)
    if model.target != "cpp_standalone":
        names = {name.split("_codeobject")[0] for name, _ in out["profile"]}
    else:
        with open(f"{standalone._ACTIVE.directory}/main.cpp") as f:
            names = set(re.findall(r"network\.add\([^,]+, _run_(\w+)_codeobject\)", f.read()))
    return names & (UPDATES | AVERAGES | CURRENT)


@pytest.mark.parametrize("target", TARGETS)
def test_learning_off_runs_no_update(target):
    """With learning off the updates are not run at all (not gated to zero): only the
    averages' siblings (set_learning), or without the averages the recurrent current alone;
    learning on again runs the updates alone."""
    cfg = fast_learning()  # (the structure of helpers.CHECK_*, learning on and off)
    model = PlasticCircuit(cfg, replicas=CHECK_R, seed=2, target=target,
                           noise=normal_noise(2, 3 * CHECK_STEPS, CHECK_R, cfg.circuit.N))
    assert _stepped(model, False) == AVERAGES
    assert _stepped(model, False, averages=False) == CURRENT
    assert _stepped(model, True) == UPDATES


@pytest.mark.parametrize("target", TARGETS)
def test_same_seed_same_result(target):
    _, final, out = _frozen_run(target)
    again = _frozen_model(target)
    out_again = again.run(FROZEN_DURATION, plastic=False, record=("theta", "r", "alpha"))
    assert_states_equal(final, again.state)
    for var in ("curve", "theta", "r", "alpha"):
        assert np.array_equal(out[var], out_again[var]), var


def test_same_seed_same_result_with_learning():
    cfg = fast_learning()
    runs = []
    for seed in (3, 3):
        model = PlasticCircuit(cfg, replicas=2, seed=seed, target="numpy")
        out = model.run(2.0, record=("r",))
        runs.append((copy_state(model.state), out))
    assert_states_equal(runs[0][0], runs[1][0])
    assert np.array_equal(runs[0][1]["curve"], runs[1][1]["curve"])
    assert np.array_equal(runs[0][1]["r"], runs[1][1]["r"])


def test_different_seed_different_result():
    cfg = fast_learning()
    first = PlasticCircuit(cfg, replicas=2, seed=3, target="numpy")
    init = copy_state(first.state)
    out_first = first.run(1.0)
    # same initial state, other seed: only Brian2's noise differs
    other = PlasticCircuit(cfg, replicas=2, seed=4, target="numpy", state=init)
    out_other = other.run(1.0)
    for key in ("theta", "r") + PARAMS:
        assert not np.array_equal(first.state[key], other.state[key]), key
    assert not np.array_equal(out_first["curve"], out_other["curve"])
    # and another seed draws another initial state
    assert not np.array_equal(PlasticCircuit(cfg, seed=4, target="numpy").state["W"],
                              PlasticCircuit(cfg, seed=3, target="numpy").state["W"])


# ----------------------------------------------------------------------------------------
# 4. Noise-free fixed point
# ----------------------------------------------------------------------------------------

@pytest.mark.parametrize("task", ["estimation", "classification"])
@pytest.mark.parametrize("target", ["numpy", "cython"])
def test_noise_free_fixed_point(target, task):
    cfg = Config.default(task).replace(**{"circuit.sigma": 0.0, "stimulus.sigma_s": 0.0,
                                          "init.b": 0.3, "run.transient": 0.0})
    model = PlasticCircuit(cfg, replicas=2, seed=12, target=target)
    theta0 = model.state["theta"].copy()
    model.run(35.0, plastic=False)  # converged to ~1e-12 (contraction rate ~0.8/unit)
    st = model.state
    # no stimulus noise: theta stays where it was
    np.testing.assert_allclose(st["theta"], theta0, rtol=0, atol=1e-12)
    N_s = cfg.circuit.N_s
    theta_k = -np.pi + 2 * np.pi * np.arange(N_s) / N_s
    s = np.maximum(0.0, np.cos(st["theta"][:, None] - theta_k[None, :]))
    u = (np.einsum("qij,qj->qi", st["W"], st["r"]) + np.einsum("qik,qk->qi", st["C"], s) + st["b"])
    r = st["r"]
    # an interior fixed point (not held at the rate bounds)
    assert np.all(r > cfg.circuit.r_min) and np.all(r < cfg.circuit.r_max)
    np.testing.assert_allclose(r, model.fi_curve.f(u), rtol=1e-8, atol=1e-10)
    # and it stays there
    before = r.copy()
    model.run(1.0)
    np.testing.assert_allclose(model.state["r"], before, rtol=1e-8, atol=1e-10)


# ----------------------------------------------------------------------------------------
# 5. Learning gate
# ----------------------------------------------------------------------------------------

@pytest.mark.parametrize("target", ["numpy", "cython"])
def test_learning_gate_holds_until_transient(target):
    cfg = fast_learning(**{"run.transient": 10.0})
    model = PlasticCircuit(cfg, seed=2, target=target)
    assert model.plastic
    init = copy_state(model.state)
    model.run(4.0)
    model.run(6.0)  # t = 10: the whole transient, split over two runs
    assert model.t == pytest.approx(10.0)
    for key in PARAMS:
        assert np.array_equal(model.state[key], init[key]), f"{key} moved during the transient"
    assert not np.array_equal(model.state["r"], init["r"])
    # the first step starting at t = transient learns
    gated = copy_state(model.state)
    model.run(cfg.circuit.dt)
    for key in PARAMS:
        assert not np.array_equal(model.state[key], gated[key]), f"{key} did not move at t = transient"
    model.run(1.0)
    for key in PARAMS:
        assert np.max(np.abs(model.state[key] - gated[key])) > 1e-6, key


def test_learning_gate_counts_time_of_a_continued_model():
    # a model continued at t = 10 with transient = 10 learns from its first step
    cfg = fast_learning(**{"run.transient": 10.0})
    model = PlasticCircuit(cfg, seed=2, target="numpy", t=10.0)
    init = copy_state(model.state)
    model.run(cfg.circuit.dt)
    for key in PARAMS:
        assert not np.array_equal(model.state[key], init[key]), key
    # ... and at t = 9.99 it does not (only the step starting at 9.99 is gated off)
    model = PlasticCircuit(cfg, seed=2, target="numpy", t=9.99)
    model.run(cfg.circuit.dt)
    for key in PARAMS:
        assert np.array_equal(model.state[key], init[key]), key


# ----------------------------------------------------------------------------------------
# 6. Continuing a model
# ----------------------------------------------------------------------------------------

def test_continuing_equals_split_run():
    half = 2.0
    # learning switches on in the second half (t = 3): the gate must continue too
    cfg = fast_learning(**{"run.transient": 3.0})
    record = ("theta", "r", "alpha", "y")

    def split(model):
        out1 = model.run(half, record=record)
        mid = copy_state(model.state)
        out2 = model.run(half, record=record)
        return mid, copy_state(model.state), out1, out2

    A = PlasticCircuit(cfg, replicas=2, seed=9, target="numpy")
    B = PlasticCircuit(cfg, replicas=2, seed=9, target="numpy")
    mid_a, end_a, a1, a2 = split(A)
    mid_b, end_b, b1, b2 = split(B)
    assert_states_equal(mid_a, mid_b)
    assert_states_equal(end_a, end_b)
    for var in ("curve",) + record:
        assert np.array_equal(a1[var], b1[var]) and np.array_equal(a2[var], b2[var]), var
    # learning happened in the second half only
    for key in PARAMS:
        assert not np.array_equal(mid_a[key], end_a[key]), key

    C = PlasticCircuit(cfg, replicas=2, seed=9, target="numpy", state=mid_a, t=half)
    c2 = C.run(half, record=record)
    assert C.t == pytest.approx(2 * half)
    assert_states_equal(end_a, C.state)
    for var in ("curve",) + record:
        assert np.array_equal(a2[var], c2[var]), var


def test_curve_bins_start_with_the_run():
    """The learning curve bins the rewards of *this* run from its first step, even when
    the model's time is not a multiple of ``curve_bin`` (here a continued runtime model)."""
    model = PlasticCircuit(fast_learning(), seed=1, target="numpy")
    model.run(0.5)
    out = model.run(2.0, record=("alpha",))
    alpha = out["alpha"]  # (200 steps, R)
    expected = alpha.reshape(2, 100, -1).mean(axis=1).T  # two bins of 100 steps
    assert out["curve"].shape == expected.shape
    np.testing.assert_allclose(out["curve"], expected, rtol=1e-12, atol=1e-14)


def test_standalone_loop_reads_no_clock_per_step():
    """The standalone binary's step loop does not read the CPU clock every step (a system call,
    about 1 us here; Brian2 does it to compute elapsed_realtime): the patch of Brian2's
    network.cpp must still apply to the installed Brian2. (The clock read for progress reports
    stays: it runs only when a report function is set, which this package never does.) And the
    makefile's edits apply: the files without per-step code are compiled unoptimised, and the
    step files read the C++ standard headers precompiled."""
    from brian_effplast.circuit import standalone
    cfg = fast_learning()  # the structure of helpers.CHECK_*: compiled once for the other tests
    model = PlasticCircuit(cfg, replicas=CHECK_R, seed=1, target="cpp_standalone",
                           noise=normal_noise(1, CHECK_STEPS, CHECK_R, cfg.circuit.N))
    model.run(CHECK_STEPS * cfg.circuit.dt, record=CHECK_RECORD)
    with open(f"{standalone._ACTIVE.directory}/network.cpp") as f:
        source = f.read()
    loop = source[source.index("void Network::run("):]
    loop = loop[loop.index("while(clock"):loop.index("Network::_globally_running = false;")]
    assert "elapsed_realtime" not in loop and "elapsed_realtime" in source
    # the files without per-step code compile at -O0, the step code with Brian2's flags (-O3)
    dry = subprocess.run(["make", "-n", "-B", "objects.o", "main.o", "network.o"], capture_output=True, text=True,
                         cwd=standalone._ACTIVE.directory, check=True).stdout
    compiles = {line.split()[-1]: line for line in dry.splitlines() if " -c " in line and line.endswith(".o")}
    last_O = {name: re.findall(r" -O\d", line)[-1].strip() for name, line in compiles.items()}
    assert last_O == {"objects.o": "-O0", "main.o": "-O0", "network.o": "-O3"}, dry
    # the compiler takes the precompiled header ("! <file>.gch"; "x" if it found but rejected it)
    used = subprocess.run(compiles["network.o"].replace(" -o network.o", " -H -o /dev/null"), shell=True,
                          capture_output=True, text=True, cwd=standalone._ACTIVE.directory, check=True).stderr
    header = os.path.join(standalone.headers_folder(), "")
    assert re.search(rf"^! {re.escape(header)}\w+/std\.h\.gch$", used, re.M), used[:2000]
    assert model.t == CHECK_STEPS * cfg.circuit.dt and np.all(np.isfinite(model.state["r"]))


def test_a_second_model_in_one_process_generates_the_same_code():
    """Brian2 names the arrays in generated code after their owners (and a monitor's clock after
    the monitor), and picks ``name_1`` when a name is taken. With a first model and its monitors
    still alive, a second model of the same structure must get the same names and so the same
    code: otherwise Cython compiles every module again (and standalone projects do not match)."""
    RECORD = ("theta", "r", "y", "alpha")
    first, second = (PlasticCircuit(task="estimation", seed=s, target="numpy") for s in (1, 2))
    first.run(0.02)
    first_monitors = first._monitors(RECORD, 1, 100)  # kept alive: their names (and clocks') are taken
    second.run(0.02)

    def names_and_code(model, monitors):
        objs = list(model.network.sorted_objects) + list(monitors.values())
        code = [str(c.code) for o in model.network.sorted_objects for c in o._code_objects]
        return sorted(o.name for o in objs), sorted(m.clock.name for m in monitors.values()), code

    assert names_and_code(second, second._monitors(RECORD, 1, 100)) == names_and_code(first, first_monitors)
