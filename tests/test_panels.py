"""The figures' parts without the figures pipeline (quick tier): every panel
function on fake runs (tests/fake_runs.py), with known answers where the fake
data has them built in, and one experiment's three stages trained, tested,
loaded and checked for reuse on numpy at a tiny size. tests/test_figures.py
runs the whole pipeline on real runs (slow tier)."""

import json
from pathlib import Path

import numpy as np
import pytest

from brian_effplast.paper import figures
from brian_effplast.errors import RunError
from brian_effplast.paper.experiments import STAGES, check_reuse, describe_test, load_all, run_experiment
from fake_runs import ANGLES, R, S, fake_data

OFFSET = np.array([0.1, -0.2])  # the trained estimates' error, the same at every angle and sample


def test_every_panel_draws_and_panel_data_holds_its_numbers(tmp_path):
    data = fake_data()
    expected = {}
    for name, panel in figures.PANELS.items():
        numbers, fig = panel(data, draw=True)
        fig.savefig(tmp_path / f"{name}.png", dpi=50)
        assert (tmp_path / f"{name}.png").stat().st_size > 1000, name
        if numbers is not None:
            expected[name] = json.loads(json.dumps(numbers))  # JSON-ready, as figures.json stores them
    assert set(expected) == set(figures.PANELS) - {"figS1a", "figS1b"}  # the tuning maps carry no numbers
    assert json.loads(json.dumps(figures.panel_data(data))) == expected


def test_bias_variance_and_test_error_panels_give_the_built_in_answer():
    """Trained estimates off by OFFSET everywhere, with no noise: squared bias
    |OFFSET|^2 = 0.05 at every angle, variance 0, test MSE 0.05."""
    data = fake_data(("estimation", "classification"), seed=1)
    target = np.stack([np.cos(ANGLES), np.sin(ANGLES)], -1)
    data["estimation"]["final"]["outputs"] = np.broadcast_to(target[None, :, None, :] + OFFSET,
                                                             (R, len(ANGLES), S, 2)).copy()
    b2 = float(OFFSET @ OFFSET)
    fig2b, _ = figures.PANELS["fig2b"](data, draw=False)
    np.testing.assert_allclose(fig2b["bias2_mean"], b2, atol=1e-12)
    np.testing.assert_allclose(fig2b["variance_mean"], 0.0, atol=1e-12)
    assert figures.PANELS["fig2a"](data, draw=False)[0]["bias2_far_over_near"] == 1.0
    fig1b, _ = figures.PANELS["fig1b"](data, draw=False)
    assert fig1b["estimation"]["test_error_final"] == pytest.approx([b2, 0.0], abs=1e-6)
    init_mse = fig1b["estimation"]["test_error_init"][0]  # outputs = target + N(0, 0.3^2) per component
    assert 0.13 < init_mse < 0.23  # 2 x 0.09 = 0.18, from R x K x S = 1200 samples


def test_one_experiment_runs_its_stages_loads_and_refuses_other_settings(tmp_path):
    test = dict(protocol="held", angles=2, hold=12.0)
    name, timings = run_experiment("estimation", tmp_path, 1, 60.0, 50.0, test, target="numpy")
    assert name == "estimation" and set(timings) >= {"train_mid", "train_final", "total"}
    loaded = load_all(tmp_path, complete_only=True)
    assert list(loaded) == ["estimation"]  # the other experiments have no runs here
    run = loaded["estimation"]
    assert [float(run[s]["t"]) for s in STAGES] == [0.0, 50.0, 60.0]
    assert run["summary"]["status"] == "complete" and run["curve"]["curve"].shape == (1, 6)
    # a second call reuses every stage
    saved = {p: p.stat().st_mtime_ns for p in tmp_path.rglob("*.npz")}
    run_experiment("estimation", tmp_path, 1, 60.0, 50.0, test, target="numpy")
    assert {p: p.stat().st_mtime_ns for p in tmp_path.rglob("*.npz")} == saved
    check_reuse(tmp_path, 1, 60.0, describe_test(test))
    with pytest.raises(RunError, match=r"1 replica\(s\) x 60 time units, not 2 x 60"):
        check_reuse(tmp_path, 2, 60.0, describe_test(test))
    authors = describe_test(dict(protocol="authors", angles=12, hold=200.0, trials=100))
    with pytest.raises(RunError) as err:  # a test.npz of another protocol: both named
        check_reuse(tmp_path, 1, 60.0, authors)
    assert "tested with \"2 angles x 12 time units, from the model's state\", not \"the authors' protocol: 100 " \
           "trials of 1000 time units" in str(err.value)


@pytest.mark.slow
def test_a_report_draws_and_judges_only_the_complete_experiments(tmp_path):
    """``figures --report`` on a run in progress: nothing is simulated, the panels of the
    complete experiment are drawn, the others and their claims are listed as pending."""
    from brian_effplast.paper.figures import PANELS, make_figures
    test = dict(protocol="held", angles=4, hold=12.0, trials=1, record_every=20)
    run_experiment("estimation", tmp_path / "runs", 2, 250.0, 50.0, test, target="numpy")
    saved = {p: p.stat().st_mtime_ns for p in (tmp_path / "runs").rglob("*")}
    result = make_figures(tmp_path, replicas=2, duration=250.0, target="numpy", report=True, log=lambda *_: None,
                          **test)
    assert {p: p.stat().st_mtime_ns for p in (tmp_path / "runs").rglob("*")} == saved  # nothing ran
    partial = result["partial"]
    assert partial["complete_experiments"] == ["estimation"]
    assert "classification" in partial["pending_experiments"] and "fig1b" in partial["pending_panels"]
    drawn = {Path(p).stem for p in result["files"]["panels"]}
    assert drawn and "fig2b" in drawn and "fig1b" not in drawn  # fig1b needs classification too
    assert drawn | set(partial["pending_panels"]) == set(PANELS)
    assert all((tmp_path / "figures" / f"{name}.png").is_file() for name in drawn)
    assert result["verdicts"] and all(set(v.get("needs", ["estimation"])) <= {"estimation"}
                                      for v in result["verdicts"])
    table = (tmp_path / "verdicts.md").read_text()
    assert table.startswith("Partial: the experiments complete so far (estimation)")
