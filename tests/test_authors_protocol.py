"""The authors' test protocol (test.protocol = "authors") against a NumPy statement of its trials,
and the authors' training trials (run.trial_angle = "authors"); numpy target, tiny circuits."""

import numpy as np
import pytest
from scipy import stats

from brian_effplast import Config, PlasticCircuit, cli
from brian_effplast.config import ConfigError
from brian_effplast.runs import protocol
from brian_effplast.runs.training import train
from helpers import load_npz

N, N_S, R, TRIALS, STEPS = 6, 4, 2, 6, 10  # STEPS: steps per stimulus
SMALL = {"circuit.N": N, "circuit.N_s": N_S, "run.target": "numpy", "run.duration": 2.0, "run.transient": 1.0,
         "run.replicas": R, "run.seed": 5, "test.protocol": "authors", "test.angles": N_S,
         "test.hold": STEPS * 0.01, "test.record_every": 1, "test.trials": TRIALS}


def small_config(**changes):
    return Config.default("estimation").replace(**{**SMALL, **changes})


def test_trials_follow_the_numpy_schedule_with_resets_only_at_trial_starts():
    """sigma = 0: every recorded rate is the NumPy Euler step of docs/model.md run on the authors'
    schedule, written out here: TRIALS trials per replica, each from r = 0.1, of 5 stimuli of STEPS
    steps drawn by numpy.random.default_rng(2020).integers(0, N_s), the state carried over at a
    switch; then pooled per angle over the first n_min presentations in trial order."""
    cfg = small_config(**{"circuit.sigma": 0.0})
    m = PlasticCircuit(cfg)
    m.run(0.5)  # away from the reset: rates and averages not at their reset values
    assert not np.allclose(m.state["r"], 0.1)
    data = protocol.authors_test(m)
    draws = np.random.default_rng(2020).integers(0, N_S, size=(TRIALS, 5))
    np.testing.assert_array_equal(data["presented"], draws)
    prefs = -np.pi + 2 * np.pi * np.arange(N_S) / N_S
    st, dt = m.state, cfg.circuit.dt
    finv = lambda r: np.log(np.expm1(30.0 * r)) / 30.0  # the softplus' inverse (a = 0, beta = 1/30, g = 30)
    r = np.full((R, TRIALS, N), 0.1)  # every trial from the reset
    expected = np.empty((R, TRIALS, 5, STEPS, N))
    for i in range(5):
        s = np.maximum(0, np.cos(prefs[draws[:, i]][:, None] - prefs[None, :]))  # (TRIALS, N_s)
        for n in range(STEPS):
            drive = np.einsum("qij,qtj->qti", st["W"], r) + np.einsum("qij,tj->qti", st["C"], s) + st["b"][:, None]
            r = np.clip(r + dt * (-finv(r) + drive), cfg.circuit.r_min, cfg.circuit.r_max)
            expected[:, :, i, n] = r
    counts = np.bincount(draws.ravel(), minlength=N_S)
    n_min = counts.min()
    assert n_min >= 2 and int(data["n_min"]) == n_min
    np.testing.assert_array_equal(data["presentations"], counts)
    for k in range(N_S):
        trial, stim = np.nonzero(draws == k)
        want = expected[:, trial[:n_min], stim[:n_min]].reshape(R, n_min * STEPS, N)
        np.testing.assert_allclose(data["rates"][:, k], want, rtol=2e-6, atol=1e-7)
        np.testing.assert_allclose(data["outputs"][:, k], np.einsum("qoi,qsi->qso", st["D"], want),
                                   rtol=1e-5, atol=1e-6)
    assert data["rates"].shape == (R, N_S, n_min * STEPS, N) and data["rates"].dtype == np.float32
    # the carried state matters: a stimulus restarted from the reset would be elsewhere
    trial, stim = np.nonzero(draws[:, 1:] != draws[:, :-1])
    j, i = trial[0], stim[0] + 1
    fresh = np.full((R, N), 0.1)
    s = np.maximum(0, np.cos(prefs[draws[j, i]] - prefs))
    fresh = fresh + dt * (-finv(fresh) + np.einsum("qij,qj->qi", st["W"], fresh) + st["C"] @ s + st["b"])
    assert np.all(np.abs(expected[:, j, i, 0] - fresh) > 1e-3)


def test_the_samples_hold_the_noise_of_each_copy():
    """With noise, every (replica, trial) copy has its own: no two presentations of one angle
    are the same, and the same seed gives the same test."""
    m = PlasticCircuit(small_config())
    a, b = protocol.authors_test(m), protocol.authors_test(m)
    np.testing.assert_array_equal(a["rates"], b["rates"])
    blocks = a["rates"].reshape(R, N_S, int(a["n_min"]), STEPS, N)
    assert np.all(np.abs(blocks[:, :, 0] - blocks[:, :, 1]).max(axis=(-1, -2)) > 0)


@pytest.mark.parametrize("changes, message", [
    ({"test.protocol": "fixed"}, 'test.protocol = "fixed" is not allowed: must be one of "held", "authors"'),
    ({"test.angles": 12}, "test.angles = 12 is not allowed: must be circuit.N_s (4) with test.protocol = "
                          '"authors"'),
    ({"test.trials": 0}, "test.trials = 0 is not allowed: must be an integer >= 1, or omitted"),
    ({"test.record_every": 0}, "test.record_every = 0 is not allowed: must be an integer >= 1 (steps), or omitted"),
    ({"run.trial_angle": "authors", "run.trial": 0.0, "run.transient": 0.0},
     'run.trial_angle = "authors" is not allowed: must be one of "continue", "prior", "authors" ("prior" and '
     '"authors" draw an angle at each trial start: they need run.trial > 0)'),
])
def test_configuration_rules(changes, message):
    with pytest.raises(ConfigError) as err:
        small_config(**changes)
    assert message in str(err.value)


def test_a_stimulus_must_be_whole_samples_and_every_angle_shown():
    m = PlasticCircuit(small_config(**{"test.record_every": 3}))
    with pytest.raises(ConfigError, match="whole number of test.record_every = 3 steps"):
        protocol.authors_test(m)
    with pytest.raises(ConfigError, match="is never shown"):
        protocol.authors_test(m, trials=1, hold=0.03)


def test_the_command_line_runs_the_authors_protocol(tmp_path, capsys):
    d = tmp_path / "run"
    train(small_config(**{"test.protocol": "held", "test.angles": 3, "test.hold": 11.0, "test.record_every": 50}),
          d, quiet=True)
    assert cli.main(["test", str(d), "--protocol", "authors", "--hold", "0.1", "--trials", str(TRIALS),
                     "--record-every", "5"]) == 0
    z = load_npz(d / "test.npz")
    assert str(z["protocol"]) == ("the authors' protocol: 6 trials of 0.5 time units, 5 stimuli of 0.1 from the "
                                  "4 input angles, from r = 0.1")
    assert z["presented"].shape == (TRIALS, 5) and int(z["samples_per_presentation"]) == 2
    assert z["rates"].shape == (R, N_S, 2 * int(z["n_min"]), N)
    assert "the authors' protocol" in capsys.readouterr().err


@pytest.mark.parametrize("trial_angle, kappa", [("authors", 0.75), ("prior", 1.5)])
def test_training_trials_draw_their_start_angle(trial_angle, kappa):
    """run.trial_angle = "authors": each trial's start angle from von Mises(mu, kappa) (the
    authors' draw), "prior" from the stationary von Mises(mu, 2 kappa); KS tests over 3000
    replicas, and each law is rejected for the other's draws."""
    cfg = Config.default("estimation").replace(**{
        "circuit.N": 2, "circuit.N_s": 2, "run.target": "numpy", "run.replicas": 3000, "run.seed": 3,
        "run.duration": 1.0, "run.transient": 0.0, "run.trial": 0.02, "run.curve_bin": 0.01, "run.trial_angle": trial_angle, "stimulus.sigma_s": 0.0,
        "stimulus.mu": 0.5})
    m = PlasticCircuit(cfg)
    theta = m.run(0.04, plastic=False, record=("theta",))["theta"]  # (4 steps, R): trials from steps 0 and 2
    np.testing.assert_array_equal(theta[0], theta[1])  # held within a trial (sigma_s = 0)
    for draws in (theta[0], theta[2]):
        centred = np.angle(np.exp(1j * (draws - 0.5)))  # about mu, in (-pi, pi]: scipy's support at loc 0
        assert stats.kstest(centred, stats.vonmises(kappa).cdf).pvalue > 1e-3
        other = 2.25 - kappa  # 0.75 <-> 1.5
        assert stats.kstest(centred, stats.vonmises(other).cdf).pvalue < 1e-6
    assert not np.array_equal(theta[0], theta[2])  # a new draw per trial
