"""`brian-effplast figures` end to end, at a toy size on the cython target.

The real run is documented in docs/reproduction.md; this checks that the whole
pipeline (every experiment on an embedded dask cluster of 2 workers, 3 test
stages each, every panel, figures.json, verdicts, reuse of complete runs) works
with the current library.
"""

import json

import pytest

from brian_effplast import cli
from brian_effplast.paper.figures import EXPERIMENTS, STAGES

# the whole figures pipeline at toy size; on cython, whose compiled modules the other tests of the
# same models share (numpy runs these models at about 1 ms per step). Cython needs the C++ compiler
# too: skipped where there is none, with the standalone tests.
pytestmark = [pytest.mark.slow, pytest.mark.standalone]

PANELS = ["fig1b", "fig1c", "fig1d", "fig1e", "fig1f", "fig2a", "fig2b", "fig2c", "fig2d", "fig3a", "fig3b",
          "fig3c", "fig3d", "figS1a", "figS1b", "figS1c", "figS1d", "figS1e", "figS1f", "figS1g",
          "fig3a_lamscaled", "fig3b_lamscaled", "fig3c_lamscaled", "fig3d_lamscaled", "figS1g_lamscaled"]
# snapshot at 50 (> the transient of 40); the authors' test, 12 trials of 5 stimuli of 4 time units
TOY = dict(replicas=2, duration=250.0, protocol="authors", angles=12, hold=4.0, trials=12, record_every=50)


@pytest.fixture(scope="module")
def toy_figures(tmp_path_factory):
    from brian_effplast.paper.figures import make_figures
    out = tmp_path_factory.mktemp("figures")
    numbers = make_figures(out, target="cython", workers=2, log=lambda *a: None, **TOY)
    return out, numbers


def test_every_panel_and_stage_is_written(toy_figures):
    out, numbers = toy_figures
    for panel in PANELS:
        for ext in ("png", "pdf"):
            assert (out / "figures" / f"{panel}.{ext}").stat().st_size > 1000, (panel, ext)
    assert (out / "figures" / "overview.png").is_file()
    saved = json.loads((out / "figures.json").read_text())
    described = set(PANELS) - {"figS1a", "figS1b"}  # the tuning-curve maps carry no numbers
    assert described <= set(saved["panels"]) and saved["settings"]["duration"] == TOY["duration"]
    assert saved["settings"]["test_protocol"] == ("the authors' protocol: 12 trials of 20 time units, 5 stimuli "
                                                  "of 4 from the 12 input angles, from r = 0.1")
    for name in EXPERIMENTS:
        for stage in STAGES:
            summary = json.loads((out / "runs" / name / stage / "summary.json").read_text())
            assert summary["status"] == "complete" and (out / "runs" / name / stage / "test.npz").is_file()
        assert summary["t"] == TOY["duration"] and summary["replicas"] == TOY["replicas"]
    d = numbers["panels"]["fig2d"]
    assert [d[s]["t"] for s in STAGES] == [0.0, 50.0, TOY["duration"]]


def test_panel_data_is_the_numbers_of_the_panel_functions(toy_figures):
    """panel_data is the loop over the panel functions: the same numbers as figures.json."""
    from brian_effplast.paper import figures
    from brian_effplast.paper.experiments import load_all
    out, _ = toy_figures
    assert list(figures.PANELS) == PANELS
    numbers = json.loads(json.dumps(figures.panel_data(load_all(out / "runs"))))
    assert numbers == json.loads((out / "figures.json").read_text())["panels"]


def test_a_second_run_reuses_the_experiments(toy_figures, capsys):
    from brian_effplast.paper.figures import make_figures
    out, first = toy_figures
    before = {p: p.stat().st_mtime_ns for p in (out / "runs").rglob("checkpoint.npz")}
    again = make_figures(out, target="cython", workers=1, log=lambda *a: None, **TOY)
    assert {p: p.stat().st_mtime_ns for p in (out / "runs").rglob("checkpoint.npz")} == before
    assert again["panels"]["fig2d"] == first["panels"]["fig2d"]
    # other settings in the same folder: refused, nothing touched
    assert cli.main(["figures", "--out", str(out), "--replicas", "3", "--duration", "250", "--target", "cython"]) == 2
    assert "2 replica(s) x 250 time units, not 3 x 250" in capsys.readouterr().err
