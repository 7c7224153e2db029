"""Damaged checkpoints, edited configurations and failures before training:
each is detected and named, and nothing partial passes for complete."""

import json

import numpy as np
import pytest

from brian_effplast import cli, runs
from brian_effplast.circuit.model import PlasticCircuit
from helpers import assert_same_run, load_npz as load

MODEL = """
task = "estimation"
[run]
duration = 30.0
transient = 10.0
target = "numpy"
replicas = 2
checkpoint_every = 10.0
"""


@pytest.fixture(scope="module")
def model(tmp_path_factory):
    path = tmp_path_factory.mktemp("model") / "m.toml"
    path.write_text(MODEL)
    return str(path)


@pytest.fixture(scope="module")
def reference(model, tmp_path_factory):
    out = tmp_path_factory.mktemp("ref") / "run"
    assert cli.main(["train", model, "--out", str(out), "--seed", "3", "--quiet"]) == 0
    return out


@pytest.fixture
def interrupted(model, tmp_path, monkeypatch):
    """A run stopped during its third chunk: checkpoints at t = 20 (newest) and t = 10 (previous)."""
    real_run, calls = PlasticCircuit.run, []

    def run(self, *args, **kwargs):
        calls.append(1)
        if len(calls) == 3:
            raise KeyboardInterrupt
        return real_run(self, *args, **kwargs)
    monkeypatch.setattr(PlasticCircuit, "run", run)
    out = tmp_path / "run"
    assert cli.main(["train", model, "--out", str(out), "--seed", "3", "--quiet"]) == 130
    monkeypatch.setattr(PlasticCircuit, "run", real_run)
    assert float(load(out / "checkpoint.npz")["t"]) == 20.0
    assert float(load(out / "checkpoint.prev.npz")["t"]) == 10.0
    return out


def truncate(path):
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])


def flip_bit(path):
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x10
    path.write_bytes(bytes(data))


def rewrite_array(path):
    """A well-formed npz whose W was changed after the checksum was taken."""
    arrays = load(path)
    arrays["W"] = arrays["W"] + 1e-12
    np.savez(path, **arrays)


@pytest.mark.parametrize("damage", [truncate, flip_bit, rewrite_array])
def test_damaged_checkpoint_is_named_and_resume_falls_back(interrupted, reference, damage, capsys):
    run_dir = interrupted
    damage(run_dir / "checkpoint.npz")
    with pytest.raises(runs.RunError, match="checkpoint.npz: damaged checkpoint"):
        runs.read_checkpoint(run_dir / "checkpoint.npz")
    info = runs.info(run_dir)
    assert "checkpoint.npz: damaged checkpoint" in info and "checkpoint.prev.npz (t = 10)" in info
    assert cli.main(["resume", str(run_dir)]) == 0
    err = capsys.readouterr().err
    assert "warning" in err and "damaged checkpoint" in err and "checkpoint.prev.npz (t = 10)" in err
    summary = json.loads((run_dir / "summary.json").read_text())
    assert summary["status"] == "complete" and "damaged" in summary["checkpoint_fallbacks"][0]["reason"]
    assert (run_dir / "checkpoint.damaged.npz").is_file()
    assert_same_run(reference, run_dir)


def test_no_usable_checkpoint_is_an_error_naming_both(interrupted, capsys):
    truncate(interrupted / "checkpoint.npz")
    flip_bit(interrupted / "checkpoint.prev.npz")
    assert cli.main(["resume", str(interrupted)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "checkpoint.npz: damaged" in err[0] and "checkpoint.prev.npz" in err[0]
    assert cli.main(["info", str(interrupted)]) == 0  # info still says what is there
    assert "NONE USABLE" in capsys.readouterr().out


def test_edited_config_is_refused_with_what_changed(interrupted, reference, capsys):
    path = interrupted / "config.toml"
    path.write_text(path.read_text().replace("sigma = 0.2", "sigma = 0.3"))
    assert cli.main(["resume", str(interrupted)]) == 2
    err = capsys.readouterr().err
    assert "config.toml was edited after the run started (circuit.sigma: 0.2 -> 0.3)" in err
    assert "--accept-config-change" in err
    assert "EDITED since the run started: circuit.sigma: 0.2 -> 0.3" in runs.info(interrupted)
    path.write_text(path.read_text().replace("sigma = 0.3", "sigma = 0.2"))  # undone: accepted as it was
    assert cli.main(["resume", str(interrupted), "--quiet"]) == 0
    assert_same_run(reference, interrupted)


def test_failure_before_training_removes_the_run_directory(model, tmp_path, monkeypatch, capsys):
    """A cache that cannot be created (here: below a file) fails the compilation
    step; the half-made run directory goes, so the same command can be re-run."""
    blocker = tmp_path / "file"
    blocker.write_text("")
    monkeypatch.setenv("BRIAN_EFFPLAST_CACHE", str(blocker / "cache"))
    out = tmp_path / "run"
    assert cli.main(["train", model, "--out", str(out), "--seed", "3", "--target", "cpp_standalone",
                     "--quiet"]) in (1, 2)
    assert "error" in capsys.readouterr().err
    assert not out.exists()


@pytest.mark.parametrize("setting, key", [("circuit.N=100000", "circuit.N"),
                                          ("circuit.sigma=1e308", "circuit.sigma")])
def test_absurd_values_are_refused_before_anything_is_written(model, tmp_path, capsys, setting, key):
    out = tmp_path / "run"
    assert cli.main(["train", model, "--out", str(out), "--set", setting, "--quiet"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and key in err[0] and "is not allowed" in err[0]
    assert not out.exists()


def test_undecodable_model_file_is_named(tmp_path, capsys):
    path = tmp_path / "utf16.toml"
    path.write_text(MODEL, encoding="utf-16")
    assert cli.main(["train", str(path), "--out", str(tmp_path / "run")]) == 2
    err = capsys.readouterr().err
    assert str(path) in err and "not UTF-8" in err


def test_an_interrupted_run_keeps_its_learning_curve_up_to_its_checkpoint(interrupted):
    """learning_curve.npz is written with every checkpoint, not only at the end."""
    curve = load(interrupted / "learning_curve.npz")
    saved = runs.read_checkpoint(interrupted / "checkpoint.npz")
    np.testing.assert_array_equal(curve["curve"], saved["curve"])
    assert curve["curve"].shape == (2, 20) and curve["time"].tolist() == (np.arange(20) + 0.5).tolist()
    assert not (interrupted / "learning_curve.png").exists()  # (the plot: at the end)
