"""Tests of brian_effplast.paper.verdicts on synthetic data (no simulation, a few seconds).

The statistics are checked against hand computations with SciPy and NumPy on
the same numbers; every claim against fake runs of 20 networks whose answer
is built in (fake_runs.effect_data: the effect in the claimed direction ->
"holds", reversed -> "opposite"; a descriptive claim -> "descriptive").
"""

import json
import re

import numpy as np
import pytest
from scipy import stats

from brian_effplast.paper import verdicts as V
from brian_effplast.paper.experiments import EXPERIMENTS
from fake_runs import ANGLES, K, N, R, S, effect_data, fake_data


def by_key(results):
    return {r["key"]: r for r in results}


# --- the statistics --------------------------------------------------------------------

def test_paired_verdicts_and_hand_computed_p():
    rng = np.random.default_rng(1)
    y = rng.normal(0, 1, 12)
    x = y + 1.0 + 0.3 * rng.standard_normal(12)
    r = V.compare(x, y, paired=True, alternative="greater")
    assert r["verdict"] == "holds" and r["test"] == "paired t" and r["n"] == 12
    assert r["p"] == pytest.approx(stats.ttest_rel(x, y, alternative="greater").pvalue, rel=1e-12)
    assert r["p_robust"] == pytest.approx(stats.wilcoxon(x, y, alternative="greater").pvalue, rel=1e-12)
    assert r["effect"] == pytest.approx(np.mean(x) - np.mean(y))
    assert r["ci_low"] < r["effect"] < r["ci_high"]
    # the other direction: significant against the claim
    assert V.compare(x, y, paired=True, alternative="less")["verdict"] == "opposite"
    # no effect at all: differences +-0.5 around 0 -> t = 0, p = 0.5
    d = np.tile([0.5, -0.5], 6)
    r0 = V.compare(y + d, y, paired=True, alternative="greater")
    assert r0["verdict"] == "not significant" and r0["p"] == pytest.approx(0.5)


def test_welch_and_one_sample_against_scipy():
    rng = np.random.default_rng(2)
    x, y = rng.normal(1.0, 2.0, 9), rng.normal(0.0, 0.5, 14)
    r = V.compare(x, y, paired=False, alternative="greater")
    ref = stats.ttest_ind(x, y, equal_var=False, alternative="greater")
    assert r["test"] == "Welch t" and r["n"] == 23 and (r["n_x"], r["n_y"]) == (9, 14)
    assert r["p"] == pytest.approx(ref.pvalue, rel=1e-12) and r["statistic"] == pytest.approx(ref.statistic)
    assert r["p_robust"] == pytest.approx(stats.mannwhitneyu(x, y, alternative="greater").pvalue, rel=1e-12)
    z = rng.normal(0.7, 0.1, 8)
    r1 = V.compare(z, None, alternative="greater", reference=0.5)
    assert r1["test"] == "one-sample t" and r1["effect"] == pytest.approx(z.mean() - 0.5)
    assert r1["p"] == pytest.approx(stats.ttest_1samp(z, 0.5, alternative="greater").pvalue, rel=1e-12)
    assert r1["verdict"] == "holds"
    assert V.compare(z, None, alternative="greater", reference=0.9)["verdict"] == "opposite"


def test_bootstrap_interval_agrees_with_scipy_bootstrap():
    rng = np.random.default_rng(3)
    x, y = rng.normal(1.0, 1.0, 30), rng.normal(0.0, 1.0, 30)
    r = V.compare(x, y, paired=True, alternative="greater", n_boot=20000, seed=5)
    ref = stats.bootstrap((x - y,), np.mean, method="percentile", n_resamples=20000, random_state=7)
    width = ref.confidence_interval.high - ref.confidence_interval.low
    assert abs(r["ci_low"] - ref.confidence_interval.low) < 0.1 * width
    assert abs(r["ci_high"] - ref.confidence_interval.high) < 0.1 * width
    # seeded: the same interval again
    again = V.compare(x, y, paired=True, alternative="greater", n_boot=20000, seed=5)
    assert (again["ci_low"], again["ci_high"]) == (r["ci_low"], r["ci_high"])


def test_nan_networks_are_dropped_and_counted():
    x = np.array([3.0, 4.0, np.nan, 5.0, 6.0])
    y = np.array([1.0, 1.5, 1.0, np.nan, 2.0])
    r = V.compare(x, y, paired=True, alternative="greater")
    assert r["n"] == 3 and r["dropped"] == 4  # pairs 2 and 3 dropped: both their values are left out
    assert r["p"] == pytest.approx(stats.ttest_rel([3, 4, 6], [1, 1.5, 2], alternative="greater").pvalue)
    rw = V.compare(x, y, paired=False, alternative="greater")
    assert (rw["n_x"], rw["n_y"], rw["dropped"]) == (4, 4, 2)
    assert V.compare([1.0, np.nan], [0.0, 0.5], paired=True)["verdict"] == "untestable"
    assert V.compare([1.0, 1.0, 1.0], [1.0, 1.0, 1.0], paired=True)["verdict"] == "untestable"


def test_ratio_claim_is_descriptive():
    x, y = np.array([1.0, 1.2, 0.9, 1.1]), np.array([1.0, 1.0, 1.0, 1.0])
    r = V.compare(x, y, paired=True, alternative="two-sided", kind="ratio")
    assert r["verdict"] == "descriptive" and r["effect_kind"] == "ratio"
    assert r["effect"] == pytest.approx(x.mean() / y.mean())
    assert r["ci_low"] <= r["effect"] <= r["ci_high"]
    assert r["p"] == pytest.approx(stats.ttest_rel(x, y).pvalue)


# --- the claims on fake runs ----------------------------------------------------------

def test_claims_table():
    keys = [c.key for c in V.CLAIMS]
    assert len(keys) == len(set(keys))
    panels = {c.panel for c in V.CLAIMS}
    assert {"1b", "1c", "1d", "1e", "1f", "2a, 2b", "2c", "2d", "3a", "3b", "3c", "3d, S1g", "S1c", "S1d",
            "S1e, S1f", "3a (λ∝σ²)", "3c (λ∝σ²)"} <= panels
    assert all(set(c.needs) <= set(EXPERIMENTS) for c in V.CLAIMS)


def test_every_claim_runs_on_fake_runs_and_is_json_ready():
    data = fake_data()
    results = V.judge(data, n_boot=500)
    assert [r["key"] for r in results] == [c.key for c in V.CLAIMS]
    for r in results:
        assert r["verdict"] in V.VERDICTS, r
        assert r["alternative"] in ("greater", "less", "two-sided")
        assert r["n_x"] == R and r["verdict"] != "untestable", r
    json.dumps(results, allow_nan=False)
    table = V.verdict_table(results)
    rows = [line for line in table.splitlines() if line.startswith("| ") and not line.startswith("| panel")]
    assert len(rows) == len(results)
    assert all(len(re.split(r"(?<!\\)\|", row)) == 10 for row in rows)  # 8 cells; "\|" in a cell is escaped


def test_missing_experiments_skip_their_claims():
    names = ("estimation", "classification")
    results = V.judge(fake_data(names), n_boot=200)
    expected = [c.key for c in V.CLAIMS if set(c.needs) <= set(names)]
    assert [r["key"] for r in results] == expected
    assert "1b_estimation_test_error" in expected and not any(k.startswith(("3", "S1")) for k in expected)
    assert V.judge({}, n_boot=10) == []


def test_test_error_claim_known_answer_and_hand_p():
    """1b: outputs close to the target after training and far before -> holds;
    swapped -> opposite; the p-value from a hand-computed MSE."""
    data = fake_data(("estimation",), seed=4)
    rng = np.random.default_rng(9)
    target = np.stack([np.cos(ANGLES), np.sin(ANGLES)], -1)[None, :, None, :]
    noise_init = rng.uniform(0.8, 1.2, (R, 1, 1, 1))  # a different noise level per network
    data["estimation"]["init"]["outputs"] = target + noise_init * rng.standard_normal((R, K, S, 2))
    data["estimation"]["final"]["outputs"] = target + 0.1 * rng.standard_normal((R, K, S, 2))
    claim = [c for c in V.CLAIMS if c.key == "1b_estimation_test_error"]
    r = V.judge(data, claims=claim, n_boot=500)[0]
    assert r["verdict"] == "holds" and r["test"] == "paired t"

    def mse(stage):
        y = data["estimation"][stage]["outputs"]
        return ((y - target) ** 2).sum(-1).mean(axis=(1, 2))
    assert r["p"] == pytest.approx(stats.ttest_rel(mse("final"), mse("init"), alternative="less").pvalue, rel=1e-10)
    assert r["mean_x"] == pytest.approx(mse("final").mean())
    d = data["estimation"]
    d["init"]["outputs"], d["final"]["outputs"] = d["final"]["outputs"], d["init"]["outputs"]
    assert V.judge(data, claims=claim, n_boot=500)[0]["verdict"] == "opposite"


def test_welch_claim_hand_p():
    """S1d, error far from the mode: narrow vs standard prior, Welch's t on a hand-computed error."""
    data = fake_data(("estimation", "estimation_narrow_prior"), seed=5)
    target = np.stack([np.cos(ANGLES), np.sin(ANGLES)], -1)[None, :, None, :]
    far = np.abs(ANGLES) >= 3 * np.pi / 4 - 1e-9
    assert far.sum() == 3  # -180, -150, 150 degrees

    def err(name):
        y = data[name]["final"]["outputs"]
        return ((y - target) ** 2).sum(-1).mean(2)[:, far].mean(1)
    r = V.judge(data, claims=[c for c in V.CLAIMS if c.key == "S1d_error_far"], n_boot=500)[0]
    ref = stats.ttest_ind(err("estimation_narrow_prior"), err("estimation"), equal_var=False, alternative="greater")
    assert r["test"] == "Welch t" and r["p"] == pytest.approx(ref.pvalue, rel=1e-10)
    # fake data without an effect: the claim is not supported
    assert r["verdict"] == "not significant"


def tuned_rates(prefs, rng):
    """Rates (R, K, S, N) of neurons tuned to ``prefs`` (R, N) (von Mises bumps, plus noise)."""
    bump = np.exp(2.0 * np.cos(ANGLES[None, :, None] - prefs[:, None, :]))  # (R, K, N)
    return 0.1 + bump[:, :, None, :] + 0.05 * rng.uniform(size=(R, K, S, N))


@pytest.mark.parametrize("probable_share, verdict", [(0.8, "holds"), (0.2, "opposite"), (0.5, "not significant")])
def test_preferences_of_the_probable_class(probable_share, verdict):
    """S1e: a known share of each network's neurons tuned to the probable class (prior at +45°: class 1)."""
    name = "classification_shifted_prior"
    data = fake_data((name,), seed=6)
    rng = np.random.default_rng(11)
    n1 = int(round(probable_share * N))
    prefs = np.empty((R, N))
    for r in range(R):
        k = n1 + (r % 3 - 1 if verdict != "not significant" else (1 if r % 2 else -1) * (r < 4))
        prefs[r] = np.where(np.arange(N) < k, np.pi / 2, -np.pi / 2)  # class 1 at +90°, class 0 at -90°
    data[name]["final"]["rates"] = tuned_rates(prefs, rng)
    share = (prefs > 0).mean(1)
    r = V.judge(data, claims=[c for c in V.CLAIMS if c.key == "S1e_prefer_probable_class"], n_boot=500)[0]
    assert r["mean_x"] == pytest.approx(share.mean())
    assert r["p"] == pytest.approx(stats.ttest_1samp(share, 0.5, alternative="greater").pvalue, rel=1e-10)
    assert r["verdict"] == verdict


CLAIM_SIGNS = [pytest.param(c, sign, id=f"{c.key}-{'claimed' if sign > 0 else 'reversed'}")
               for c in V.CLAIMS for sign in ((1, -1) if c.kind == "test" else (1,))]


@pytest.mark.parametrize("claim, sign", CLAIM_SIGNS)
def test_every_claim_finds_a_built_in_effect(claim, sign):
    """Fake runs with the claim's measure moved in the claimed direction give "holds", moved
    the other way "opposite"; a descriptive claim gives "descriptive" whatever the data."""
    r = V.judge(effect_data(claim, sign), claims=[claim], n_boot=200)[0]
    expected = "descriptive" if claim.kind != "test" else ("holds" if sign > 0 else "opposite")
    assert r["verdict"] == expected, r
    assert r["dropped"] == 0 and r["n_x"] == 20, r


def test_class_masks_leave_out_boundary_angles_and_s1f_by_hand():
    """S1f: the NLL of the true class per angle, averaged over each class's test angles
    except 0 and -180° (the boundaries), then a paired t-test; all by hand."""
    from brian_effplast.blocks.tasks import Classification
    from brian_effplast.paper.panels import class_masks
    pos, neg = class_masks(ANGLES, Classification())
    np.testing.assert_array_equal(pos, ANGLES > 1e-9)
    np.testing.assert_array_equal(neg, (ANGLES < -1e-9) & (ANGLES > -np.pi + 1e-9))
    claim = next(c for c in V.CLAIMS if c.key == "S1f_error_by_class")
    data = effect_data(claim, 1, seed=3)
    y = data["classification_shifted_prior"]["final"]["outputs"][..., 0]
    psi = np.clip(1 / (1 + np.exp(-100 * y)), 1e-4, 1 - 1e-4)
    cls1 = (ANGLES >= 0) | np.isclose(ANGLES, -np.pi)
    nll = np.where(cls1[None, :, None], -np.log(psi), -np.log(1 - psi)).mean(2)  # (R, K)
    r = V.judge(data, claims=[claim], n_boot=200)[0]
    ref = stats.ttest_rel(nll[:, neg].mean(1), nll[:, pos].mean(1), alternative="greater")
    assert r["p"] == pytest.approx(ref.pvalue, rel=1e-10) and r["verdict"] == "holds"
