"""The symmetric-W mode (``init.W_symmetric = true``): W starts symmetric and stays so while it
learns, so that the Gibbs theory of Eqs. 3-4 (``tests/gibbs.py``) holds for the trained circuit.

Why no symmetrisation is needed in the rule: the W update of Eq. 10, as the generated code
runs it for the synapse from ``j`` to ``i`` (``docs/model.md``, steps 5-6),

    coactivity = r_post*r_pre
    W_bar += k_bar*(coactivity - W_bar)
    W += g*(alpha_syn*(coactivity - W_bar) - lam_W*W)

reads ``r_i*r_j`` (``r_j*r_i`` for the mirror synapse: IEEE multiplication is commutative),
the reward and gate of their common replica, shared constants, and the synapse's own
``W_bar`` and ``W``. With ``W`` and ``W_bar`` symmetric (``W_bar`` starts at 0 and is reset
to 0 at trial starts) both entries run the same operations on the same numbers, so they stay
*equal*, not merely close; nothing else writes ``W``. (In C++, compiled with ``-ffast-math``,
this also needs the loop to treat every synapse alike, which the flag does not promise in
principle.) The tests check it on every target over 5000 learning steps in which ``W``
changes by 40-50 %: the asymmetry is exactly 0 (allowed: ``SYM_TOL``).

The Gibbs check mirrors ``tests/test_theory.py``'s ``N = 2`` goodness-of-fit test (chi-square
at ``ALPHA = 0.001``, conditioned on ``r > 0.02``, one sample per replica every 5 time units
after a 10 time-unit burn-in, the default ``dt = 0.01``, which that file's docstring shows
to be fine for this test): a circuit trained in symmetric mode (numpy, 5000 steps), frozen
(plasticity off, stimulus held) and copied into 400 independent chains (cpp_standalone, as
there), samples the quadrature density of its *trained* ``W`` and drive ``h = C s + b``; the same samples reject the density at a wrong noise level, at the paper's
printed temperature and without the coupling. The negative control: the same training from
the usual (asymmetric) initial ``W`` leaves ``W`` asymmetric, and its samples reject the Gibbs
density of the symmetric part ``(W + W^T)/2``.
"""

import numpy as np
import pytest

import gibbs as gb  # noqa: E402
from helpers import TARGETS

from brian_effplast import Config, ConfigError, PlasticCircuit
from brian_effplast.circuit.state import initial_state

#: Relative asymmetry allowed, max |W - W^T| / max |W| (measured: exactly 0 on every target).
SYM_TOL = 1e-12
ETA = 5e-2  # every learning rate, 10^4 times the reference: W moves a lot in a few thousand steps

ALPHA = 0.001  # as tests/test_theory.py
SIGMA = 0.2
THETA = 0.4  # the held stimulus of the Gibbs check
N_S = 12
BURN_IN = 10.0
THIN = 5.0
COND = 0.02
R_GIBBS = 400  # replicas of the frozen circuit (independent chains)
T_GIBBS = 160.0  # 31 thinned samples per replica: 12400 samples


def fast(symmetric, N, **extra):
    """The estimation task at N neurons, learning fast from the first time unit, the
    stimulus drifting quickly (many angles in a short run)."""
    values = {"circuit.N": N, "init.W_symmetric": symmetric, "run.transient": 1.0, "stimulus.sigma_s": 0.5,
              **{f"plasticity.eta_{p}": ETA for p in "WCbD"}}
    values.update(extra)
    return Config.default("estimation").replace(**values)


def asymmetry(W):
    """max |W - W^T| / max |W| per replica."""
    return np.abs(W - W.transpose(0, 2, 1)).max(axis=(1, 2)) / np.abs(W).max(axis=(1, 2))


def inputs(theta, N_s=N_S):
    """``s_k = max(0, cos(theta - theta_k))`` (``docs/model.md``, step 2, written out)."""
    theta_k = -np.pi + 2 * np.pi * np.arange(N_s) / N_s
    return np.maximum(0.0, np.cos(theta - theta_k))


# ---------------------------------------------------------------------------
# The initial state, the configuration
# ---------------------------------------------------------------------------

def test_initial_W_is_symmetric_with_the_usual_entries():
    cfg = Config.default("estimation")
    sym, usual = (initial_state(cfg.replace(**{"init.W_symmetric": s}), 3, seed=7) for s in (True, False))
    assert np.array_equal(sym["W"], sym["W"].transpose(0, 2, 1))
    # the upper triangle (diagonal included) is the usual draw, the lower one its mirror
    assert np.array_equal(np.triu(sym["W"]), np.triu(usual["W"]))
    assert not np.array_equal(sym["W"], usual["W"])
    # the same numbers are drawn: everything else starts as with the usual init
    for key in sym:
        if key not in ("W", "I_rec"):
            assert np.array_equal(sym[key], usual[key]), key
    np.testing.assert_allclose(sym["I_rec"], np.einsum("qij,qj->qi", sym["W"], sym["r"]), rtol=1e-15)
    bound = cfg.init.W_scale / np.sqrt(cfg.circuit.N)
    assert np.abs(sym["W"]).max() <= bound


def test_symmetric_W_with_reinforce_is_refused():
    with pytest.raises(ConfigError) as info:
        Config.from_dict({"init": {"W_symmetric": True}, "plasticity": {"rule": "reinforce"}},
                         source="models/x.toml")
    msg = str(info.value)
    assert len(info.value.errors) == 1, msg
    assert msg.startswith("models/x.toml: init.W_symmetric = true is not allowed: must be false with "
                          'plasticity.rule = "reinforce"'), msg
    # either key given alone is fine
    Config.from_dict({"init": {"W_symmetric": True}})
    Config.from_dict({"plasticity": {"rule": "reinforce"}})
    with pytest.raises(ConfigError, match="init.W_symmetric"):
        Config.default().replace(**{"plasticity.rule": "reinforce", "init.W_symmetric": True})


def test_asymmetric_state_is_refused_in_symmetric_mode():
    W = np.array([[[0.1, 0.2, 0.0], [0.2, 0.0, 0.1], [0.0, 0.1001, 0.3]]])
    with pytest.raises(ValueError, match=r"state\['W'\] is not symmetric .*init.W_symmetric"):
        PlasticCircuit(fast(True, 3), target="numpy", replicas=1, seed=1, state={"W": W})
    PlasticCircuit(fast(False, 3), target="numpy", replicas=1, seed=1, state={"W": W})  # the usual mode
    W[0, 2, 1] = 0.1
    PlasticCircuit(fast(True, 3), target="numpy", replicas=1, seed=1, state={"W": W})


# ---------------------------------------------------------------------------
# (a) symmetric to round-off over a long run, on every target
# ---------------------------------------------------------------------------

@pytest.mark.parametrize("target", TARGETS)
def test_W_stays_symmetric_over_a_long_run(target):
    """N = 8, 2 replicas, 5000 learning steps at 10^4 times the reference rates, with the
    trial protocol (resets of the averages every 25 time units: two Brian2 runs, the state
    passing through NumPy between them)."""
    cfg = fast(True, 8, **{"run.trial": 25.0, "run.curve_bin": 1.0})
    model = PlasticCircuit(cfg, target=target, replicas=2, seed=5)
    W0 = model.state["W"].copy()
    assert np.array_equal(W0, W0.transpose(0, 2, 1))
    out = model.run(50.0)
    W = model.state["W"]
    change = np.linalg.norm(W - W0, axis=(1, 2)) / np.linalg.norm(W0, axis=(1, 2))
    mse = -out["curve"]
    print(f"\n{target}: max |W - W^T| / max |W| = {asymmetry(W)}, relative change of W = {change}, "
          f"MSE first 5 -> last 5 time units {mse[:, :5].mean():.3f} -> {mse[:, -5:].mean():.3f}")
    assert np.all(asymmetry(W) <= SYM_TOL)
    assert np.all(change > 0.2)  # W really learned
    assert np.all(np.isfinite(W)) and np.linalg.eigvalsh(W).max() < 1
    if target != "numpy":
        return
    # the usual init under the same training stays asymmetric (the check can fail)
    other = PlasticCircuit(fast(False, 8, **{"run.trial": 25.0, "run.curve_bin": 1.0}), target=target,
                           replicas=2, seed=5)
    other.run(50.0)
    assert np.all(asymmetry(other.state["W"]) > 0.1)


# ---------------------------------------------------------------------------
# (b) the trained circuit samples the Gibbs density of its trained W
# ---------------------------------------------------------------------------

def train_and_sample(symmetric, seed=3):
    """Train one N = 2 circuit for 50 time units (numpy), then run ``R_GIBBS`` copies of it
    frozen at ``THETA`` (cpp_standalone, as tests/test_theory.py: 16,000 steps of 400
    replicas); returns the trained ``W``, the drive, the thinned samples and how much ``W``
    changed."""
    cfg = fast(symmetric, 2)
    model = PlasticCircuit(cfg, target="numpy", replicas=1, seed=seed)
    W0 = model.state["W"][0].copy()
    model.run(50.0)
    trained = model.state
    frozen = {k: np.repeat(v, R_GIBBS, axis=0) for k, v in trained.items()}
    frozen["theta"] = np.full(R_GIBBS, THETA)
    copies = PlasticCircuit(cfg.replace(**{"stimulus.sigma_s": 0.0}), target="cpp_standalone", replicas=R_GIBBS,
                            seed=seed + 1, state=frozen)
    out = copies.run(T_GIBBS, plastic=False, record=("r",), record_every=cfg.steps(THIN))
    for key in ("W", "C", "b", "D", "theta"):  # frozen: nothing moved
        assert np.array_equal(copies.state[key], frozen[key]), key
    r = out["r"]  # (records, R, 2), record m at time (m + 1)*THIN
    x = r[int(round(BURN_IN / THIN)) - 1:].reshape(-1, 2)
    W = trained["W"][0]
    h = trained["C"][0] @ inputs(THETA) + trained["b"][0]
    change = np.linalg.norm(W - W0) / np.linalg.norm(W0)
    return W, h, x, change


@pytest.fixture(scope="module")
def trained_symmetric():
    return train_and_sample(True)


@pytest.fixture(scope="module")
def trained_asymmetric():
    return train_and_sample(False)


@pytest.mark.standalone
def test_trained_symmetric_circuit_samples_its_gibbs_density(trained_symmetric):
    W, h, x, change = trained_symmetric
    assert np.array_equal(W, W.T)
    assert change > 0.5  # a trained W, not the initial one
    # the slowest relaxation rate is at least 1 - lambda_max(W) (f^-1 has slope >= 1): at most
    # 0.5 keeps the burn-in (10) and thinning (5 time units) as long as in tests/test_theory.py
    # in units of the relaxation time (a seed whose training ends at lambda_max = 0.68 needed a
    # burn-in of 60 and a thinning of 20, docs/beyond.md)
    assert np.linalg.eigvalsh(W).max() < 0.5
    assert x.shape == ((round((T_GIBBS - BURN_IN) / THIN) + 1) * R_GIBBS, 2)
    good = gb.sample_gof_2d(x, W, h, SIGMA, alpha=ALPHA, condition_above=COND)
    print(f"\ntrained W = {W.tolist()}, h = {h.tolist()} (relative change of W {change:.2f})\n"
          f"Gibbs density of the trained W: {good!r}")
    assert good.passed and good.dof >= 30, good
    for sigma_bad in (1.2 * SIGMA, np.sqrt(2) * SIGMA):
        bad = gb.sample_gof_2d(x, W, h, sigma_bad, alpha=ALPHA, condition_above=COND)
        print(f"density at sigma = {sigma_bad:.3g}: {bad!r}")
        assert not bad.passed and bad.pvalue < 1e-6, bad
    bad = gb.sample_gof_2d(x, np.diag(np.diag(W)), h, SIGMA, alpha=ALPHA, condition_above=COND)
    print(f"uncoupled W: {bad!r}")
    assert not bad.passed, bad


@pytest.mark.standalone
def test_trained_asymmetric_circuit_misses_the_gibbs_density(trained_asymmetric):
    W, h, x, change = trained_asymmetric
    assert abs(W[0, 1] - W[1, 0]) > 0.1  # clearly asymmetric after training
    W_sym = (W + W.T) / 2
    bad = gb.sample_gof_2d(x, W_sym, h, SIGMA, alpha=ALPHA, condition_above=COND)
    print(f"\ntrained asymmetric W = {W.tolist()}, h = {h.tolist()}\n"
          f"Gibbs density of (W + W^T)/2: {bad!r}")
    assert not bad.passed and bad.pvalue < 1e-6, bad
