"""`brian-effplast demo`: runs again into its own directory, refuses anyone else's, explains its numbers.

Short runs of 2 networks on numpy (60 time units; the test protocol held 12 time units per
angle instead of the demo's 100, which only sets how many samples are averaged).
The refusals need no training: they are checked before anything runs.
"""

import json
import math
from pathlib import Path

import numpy as np
import pytest

from brian_effplast import cli

SHORT = ["--duration", "60", "--target", "numpy", "--replicas", "2"]  # > run.transient (40)
ROWS = ("untrained circuit", "trained (W, C, b and D learn)", "decoder alone (W, C, b frozen)",
        "best constant output")


@pytest.fixture
def short_hold(monkeypatch):
    monkeypatch.setattr(cli, "DEMO_HOLD", 12.0)


def _summary(d):
    return json.loads((d / "summary.json").read_text(encoding="utf-8"))


def _contents(d):
    return {p.name: p.read_bytes() for p in sorted(d.iterdir())}


@pytest.mark.slow  # three short trainings and five tests on numpy
def test_demo_twice_into_the_same_directory(tmp_path, capsys, short_hold):
    d = tmp_path / "demo"
    assert cli.main(["demo", "--out", str(d), *SHORT]) == 0
    out = capsys.readouterr().out
    first = _summary(d)
    demo = first["demo"]
    assert demo["complete"] is True and demo["test_hold"] == 12.0
    assert first["model_file"].endswith("estimation.toml") and first["status"] == "complete"
    # every row, as mean +- s.e.m. over the 2 networks of the numbers kept in summary.json
    lines = {row: next(line for line in out.splitlines() if line.strip().startswith(row)) for row in ROWS}
    for key, row in (("untrained", ROWS[0]), ("trained", ROWS[1]), ("decoder_only", ROWS[2])):
        for name in ("test_mse", "test_mse_prior") + (("training_mse_first", "training_mse_last")
                                                       if key != "untrained" else ()):
            x = demo[key][name]
            assert len(x) == 2
            mean, sem = sum(x) / 2, abs(x[0] - x[1]) / 2  # (s.e.m. of two values: half their distance)
            assert f"{mean:.3f} +- {sem:.3f}" in lines[row], (key, name, lines[row])
    # the best constant output: the prior's mean of (cos, sin), prior-weighted MSE 1 - (I1/I0)^2
    kappa = 1.5  # the stationary concentration of the reference process (2 * 0.75)
    theta = np.linspace(-np.pi, np.pi, 100001)[:-1]
    A = np.mean(np.cos(theta) * np.exp(kappa * np.cos(theta))) / np.mean(np.exp(kappa * np.cos(theta)))  # I1/I0
    assert demo["constant_output"]["output"] == pytest.approx([A, 0.0], abs=1e-6)
    assert demo["constant_output"]["mse_prior"] == pytest.approx(1 - A**2, rel=1e-6)
    assert f"{1 - A**2:.3f}" in lines[ROWS[3]]
    # the demo's test settings are in its config.toml: `test` on it gives its numbers again
    assert "hold = 12.0" in (d / "config.toml").read_text(encoding="utf-8")
    assert cli.main(["test", str(d), "--target", "numpy", "--quiet"]) == 0
    from brian_effplast.runs.demo import replica_scores
    with np.load(d / "test.npz") as z:
        assert replica_scores(z)["mse"] == pytest.approx(demo["trained"]["test_mse"], rel=1e-12)

    # mark the first run's files: the second demo must replace them, not add to them
    (d / "summary.json").write_text(json.dumps({**first, "created": "2000-01-01T00:00:00+00:00"}))
    old_test = (d / "test.npz").stat()
    assert cli.main(["demo", "--out", str(d), *SHORT, "--quiet"]) == 0
    quiet = capsys.readouterr().out  # the results, without the list of files
    assert all(row in quiet for row in ROWS) and "demo files" not in quiet
    second = _summary(d)
    assert second["created"] != "2000-01-01T00:00:00+00:00" and second["demo"]["complete"] is True
    new_test = (d / "test.npz").stat()
    assert (new_test.st_ino, new_test.st_mtime_ns) != (old_test.st_ino, old_test.st_mtime_ns)
    # same seed, same target: the same numbers
    for key in ("untrained", "trained", "decoder_only"):
        for name, values in demo[key].items():
            assert second["demo"][key][name] == pytest.approx(values, rel=1e-12)


def _fake_demo(d, **changes):
    """A directory that looks like a finished demo run (no training needed to test refusals)."""
    d.mkdir()
    summary = {"status": "complete", "task": "estimation", "model_file": "/x/models/estimation.toml",
               "created": "2000-01-01T00:00:00+00:00", "demo": {"complete": True}, **changes}
    (d / "summary.json").write_text(json.dumps({k: v for k, v in summary.items() if v is not None}))
    (d / "config.toml").write_text('task = "estimation"\n')
    return d


@pytest.mark.parametrize("case", ["not a run", "a run without the demo mark", "another model's run",
                                  "a demo run with a user's file", "a demo run, bad duration"])
def test_demo_refuses_other_directories(tmp_path, capsys, case):
    if case == "not a run":
        d = tmp_path / "d"
        d.mkdir()
        (d / "notes.txt").write_text("mine")
    elif case == "a run without the demo mark":
        d = _fake_demo(tmp_path / "d", demo=None)
    elif case == "another model's run":
        d = _fake_demo(tmp_path / "d", model_file="/x/models/noise_levels.toml")
    elif case == "a demo run with a user's file":
        d = _fake_demo(tmp_path / "d")
        (d / "notes.txt").write_text("mine")
    else:
        d = _fake_demo(tmp_path / "d")
    before = _contents(d)
    duration = "-5" if case == "a demo run, bad duration" else "200"
    assert cli.main(["demo", "--out", str(d), "--duration", duration, "--target", "numpy", "--quiet"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("brian-effplast: error: ") and len(err.splitlines()) == 1
    if case != "a demo run, bad duration":
        assert "exists and is not empty" in err
    assert _contents(d) == before


#: What each model file of models/ changes in Config.default(task) (as Config.default's docstring says).
MODEL_FILES = {
    "estimation": {"run.duration": 20000.0, "run.checkpoint_every": 5000.0, "run.curve_bin": 10.0},
    "estimation_narrow_prior": {"run.duration": 20000.0, "run.checkpoint_every": 5000.0, "run.curve_bin": 10.0,
                                "stimulus.kappa": 2.0},
    "noise_levels": {"run.duration": 20000.0, "run.checkpoint_every": 5000.0, "run.curve_bin": 10.0,
                     "circuit.sigma": 0.33},
    "estimation_full": {"run.duration": 260000.0, "run.checkpoint_every": 10000.0, "run.curve_bin": 10.0},
    "estimation_symmetric": {"run.duration": 20000.0, "run.checkpoint_every": 5000.0, "run.curve_bin": 10.0,
                             "init.W_symmetric": True},
    "estimation_spiking": {"run.duration": 20000.0, "run.checkpoint_every": 5000.0, "run.curve_bin": 10.0,
                           "circuit.neuron": "poisson", "circuit.sigma": 0.0, "circuit.tau_ms": 100.0},
    "classification": {"run.duration": 50000.0, "run.checkpoint_every": 5000.0, "run.curve_bin": 10.0},
    "classification_shifted_prior": {"run.duration": 50000.0, "run.checkpoint_every": 5000.0,
                                     "run.curve_bin": 10.0, "stimulus.mu": math.pi / 4},
}


@pytest.mark.parametrize("name", sorted(MODEL_FILES))
def test_model_files_differ_from_the_defaults_as_documented(name):
    from brian_effplast import Config
    cfg = Config.from_toml(Path(__file__).resolve().parent.parent / "models" / f"{name}.toml")
    got, default = cfg.to_dict(), Config.default(cfg.task).to_dict()
    changed = {f"{section}.{key}": value for section, values in got.items() if isinstance(values, dict)
               for key, value in values.items() if value != default[section].get(key)}
    assert changed == pytest.approx(MODEL_FILES[name])
    assert "run.curve_bin = 10" in Config.default.__doc__ and f"{name}.toml" in Config.default.__doc__
