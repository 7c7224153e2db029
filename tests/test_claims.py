"""The paper's claims that are cheap enough to check in CI.

Bredenberg, Simoncelli & Savin (NeurIPS 2020); see docs/reproduction.md for
every panel and for the claims checked only by ``brian-effplast figures``
(which trains 4 replicas for 260000 time units).

Everything here uses cpp_standalone and a few compiled structures: one
estimation training (2 replicas x 4000 time units) and one test protocol
(6 angles x 40 time units, 12 parallel circuits) reused for the untrained
model, the trained model and three noise levels; plus one short
classification run. Each test compares numbers that a broken learning rule
or a broken measure would put on the wrong side.

The longer classification check is marked slow (about 2-3 minutes).
"""

import shutil
from pathlib import Path

import numpy as np
import pytest

from brian_effplast import analysis, runs
from brian_effplast.config import Config
from brian_effplast.blocks.nonlinearity import Softplus

MODELS = Path(__file__).resolve().parent.parent / "models"
TARGET = "cpp_standalone"
R, T_TRAIN = 2, 4000.0
K, HOLD = 6, 40.0
pytestmark = pytest.mark.standalone


def _copy_run(src, dst, **updates):
    """A copy of a run directory (config, summary, checkpoint) with config values changed."""
    dst = Path(dst)
    dst.mkdir(parents=True)
    for name in ("config.toml", "summary.json", "checkpoint.npz"):
        shutil.copy2(Path(src) / name, dst / name)
    if updates:
        cfg = Config.from_toml(dst / "config.toml").replace(**updates)
        (dst / "config.toml").write_text(cfg.to_toml_string())
    return dst


def _load(path):
    with np.load(path, allow_pickle=False) as z:
        return {k: z[k] for k in z.files}


@pytest.fixture(scope="module")
def estimation(tmp_path_factory):
    """An estimation run (trained), its untrained twin, both tested."""
    from brian_effplast.paper.experiments import write_init_dir
    base = tmp_path_factory.mktemp("claims")
    cfg = Config.from_toml(MODELS / "estimation.toml").replace(
        **{"run.checkpoint_every": 0.0, "run.seed": 7})
    summary = runs.train(cfg, base / "trained", duration=T_TRAIN, replicas=R, target=TARGET, quiet=True)
    init_cfg = runs.resolve_config(cfg, duration=T_TRAIN, replicas=R, target=TARGET)
    write_init_dir(init_cfg, base / "init")
    tests = {}
    for name in ("init", "trained"):
        runs.run_test(base / name, angles=K, hold=HOLD, target=TARGET, quiet=True)
        tests[name] = _load(base / name / "test.npz")
    return {"base": base, "summary": summary, "tests": tests, "cfg": cfg}


def test_learning_lowers_training_mse(estimation):
    """Fig. 1b (estimation): the squared error falls during learning, in every replica."""
    s = estimation["summary"]
    assert s["status"] == "complete"
    curve = -np.asarray(_load(estimation["base"] / "trained" / "learning_curve.npz")["curve"])
    n = curve.shape[1]
    first = curve[:, 4:n // 10].mean(axis=1)  # skip the 40-time-unit transient
    last = curve[:, -n // 5:].mean(axis=1)
    assert np.all(last < first), (first, last)
    assert last.mean() < 0.8 * first.mean(), (first, last)
    assert s["objective"]["final"] < s["objective"]["initial"]


def test_trained_beats_untrained_on_held_stimuli(estimation):
    """Test protocol (plasticity off): averaged over the stimulus prior, the
    trained network's squared error at the held test angles is lower than
    the untrained one's, per replica. (Uniformly over angles it need not be
    after a short training: improbable angles get worse, Fig. 2b.)"""
    err = {name: _prior_weighted_error(t) for name, t in estimation["tests"].items()}
    assert np.all(err["trained"] < 0.8 * err["init"]), err


@pytest.fixture(scope="module")
def control(estimation):
    """The estimation run's plasticity-off control: the same seed, configuration and training
    with eta_W = eta_C = eta_b = 0 (only the decoder learns), tested with the same protocol."""
    cfg = estimation["cfg"].replace(**{"plasticity.eta_W": 0.0, "plasticity.eta_C": 0.0, "plasticity.eta_b": 0.0})
    d = estimation["base"] / "control"
    summary = runs.train(cfg, d, duration=T_TRAIN, replicas=R, target=TARGET, quiet=True)
    runs.run_test(d, angles=K, hold=HOLD, target=TARGET, quiet=True)
    return {"summary": summary, "test": _load(d / "test.npz")}


def _prior_weighted_error(t):
    y, a = t["outputs"], t["angles"]
    tgt = np.stack([np.cos(a), np.sin(a)], -1)[None, :, None, :]
    per_angle = np.mean(np.sum((y - tgt) ** 2, -1), axis=2)  # (R, K)
    w = np.exp(float(t["prior_kappa"]) * np.cos(a - float(t["prior_mu"])))
    return per_angle @ (w / w.sum())  # (R,)


def test_the_rule_beats_its_plasticity_off_control(estimation, control):
    """The decoder alone lowers the error too (the tests above would pass with W, C and b
    frozen): Eq. 10 on W, C and b must do better than the same networks with only the decoder
    learning. Paired networks (same seed, same test noise), so the difference is the learned
    W, C, b: the prior-weighted test error at least 0.5% lower in every replica (after 4000 time
    units it is 0.8% and 1.5% lower; the paper's effect builds over 260000)."""
    full, off = _prior_weighted_error(estimation["tests"]["trained"]), _prior_weighted_error(control["test"])
    assert np.all(full < 0.995 * off), (full, off)
    # and the control did learn (its decoder): the comparison is not with a broken run
    assert np.all(off < 0.8 * _prior_weighted_error(estimation["tests"]["init"])), off


def test_prior_weighted_error_below_uniform(estimation):
    """Figs. 2a-b / S1d: errors are smaller for probable stimuli, so the
    prior-weighted test MSE is below the uniformly weighted one."""
    from brian_effplast.runs import scores as test_scores
    sc = test_scores(estimation["tests"]["trained"], "estimation")
    assert sc["mse_prior"] < sc["mse"], sc


def test_volume_fraction_is_a_fraction(estimation):
    """Eq. 13 / Fig. 3c: the noise volume fraction lies in [0, 1] for every
    replica and angle, before and after learning, and is not degenerate."""
    for t in estimation["tests"].values():
        vf = analysis.volume_fraction_per_angle(t["rates"], t["D"])
        assert vf.shape == (R, K)
        assert np.all(np.isfinite(vf))
        assert np.all(vf >= -1e-12) and np.all(vf <= 1 + 1e-9), vf
        assert vf.max() < 0.999  # noise is not entirely in the readout manifold


def test_energy_grows_with_noise_at_fixed_weights(estimation):
    """Fig. 3d / S1g (the temperature reading of sigma^2): with the trained
    weights fixed, sampling at larger sigma gives a larger mean energy.
    (That the *trained* networks' energy grows with sigma^2 is checked only
    by the figures run.) Reuses the compiled test structure: sigma is a run
    argument."""
    base = estimation["base"]
    nl = estimation["cfg"].nonlinearity
    fi = Softplus(nl.a, nl.beta, nl.g).finv_integral
    means = []
    for sigma in (0.1, 0.3, 0.5):
        d = _copy_run(base / "trained", base / f"sigma_{sigma}", **{"circuit.sigma": sigma})
        runs.run_test(d, angles=K, hold=HOLD, target=TARGET, quiet=True)
        t = _load(d / "test.npz")
        e = analysis.mean_energy_per_angle(t["rates"], t["angles"], t["W"], t["C"], t["b"], fi)
        means.append(e.mean(axis=1))  # (R,)
    means = np.array(means)  # (3, R)
    assert np.all(np.diff(means, axis=0) > 0), means


def test_classification_loglik_rises():
    """Fig. 1b (classification): the log-likelihood reward rises during a
    short training (2 replicas x 3000 time units)."""
    from brian_effplast.circuit.model import PlasticCircuit
    cfg = Config.from_toml(MODELS / "classification.toml")
    model = PlasticCircuit(cfg, seed=11, replicas=2, target=TARGET)
    curve = model.run(3000.0, plastic=True, record=())["curve"]
    n = curve.shape[1]
    first = curve[:, 4:n // 10].mean(axis=1)
    last = curve[:, -n // 5:].mean(axis=1)
    assert np.all(last > first), (first, last)


@pytest.mark.slow
def test_classification_dprime_grows(tmp_path):
    """Fig. 2d: the prior-averaged d' between the classes grows with
    training (4 replicas x 20000 time units vs the untrained state)."""
    from brian_effplast.paper.experiments import write_init_dir
    cfg = Config.from_toml(MODELS / "classification.toml").replace(**{"run.seed": 5})
    runs.train(cfg, tmp_path / "trained", duration=20000.0, replicas=4, target=TARGET, quiet=True)
    write_init_dir(runs.resolve_config(cfg, duration=20000.0, replicas=4, target=TARGET), tmp_path / "init")
    dp = {}
    for name in ("init", "trained"):
        runs.run_test(tmp_path / name, angles=12, hold=100.0, target=TARGET, quiet=True)
        t = _load(tmp_path / name / "test.npz")
        dp[name] = analysis.prior_averaged_dprime(t["outputs"], t["angles"], float(t["prior_mu"]),
                                                  float(t["prior_kappa"]))
    assert dp["trained"].mean() > dp["init"].mean(), dp
