"""A user's Task and F-I curve, named by import path in a model file: train, resume,
test, the run's plots, load and info all bring them back from the run directory."""

import os
import subprocess
from pathlib import Path

import numpy as np
import pytest

from helpers import command
from brian_effplast import Config, ConfigError, runs
from brian_effplast.runs.training import extend

MODEL = """
task = "plugin_tasks:DoubleAngle"

[task_args]
scale = 0.8

[circuit]
N = 12
N_s = 8

[nonlinearity]
kind = "plugin_tasks:SteepSoftplus"

[nonlinearity_args]
steepness = 25.0

[run]
duration = 20.0
transient = 1.0
curve_bin = 1.0
checkpoint_every = 10.0
target = "numpy"
seed = 4

[test]
angles = 4
hold = 12.0
"""


@pytest.mark.slow  # a command-line training, resume and test
def test_user_task_trains_resumes_tests_and_reports(tmp_path):
    path = tmp_path / "double_angle.toml"
    path.write_text(MODEL)
    cfg = Config.from_toml(path)
    task = cfg.make_task()
    assert type(task).__name__ == "DoubleAngle" and task.scale == 0.8 and task.name == "plugin_tasks:DoubleAngle"
    assert cfg.n_out == 2 and repr(cfg.make_fi_curve()) == "SteepSoftplus(steepness=25.0, scale=0.03333333333333333)"

    run = tmp_path / "run"
    summary = runs.train(path, run, duration=10.0, quiet=True)
    assert summary["status"] == "complete" and summary["objective"]["label"] == "MSE of 2θ"
    # the run directory records the task and the curve by import path, with their arguments
    text = (run / "config.toml").read_text()
    assert 'task = "plugin_tasks:DoubleAngle"' in text and "[task_args]" in text and "scale = 0.8" in text
    assert 'kind = "plugin_tasks:SteepSoftplus"' in text and "steepness = 25.0" in text
    assert Config.from_toml(run / "config.toml") == cfg.replace(**{"run.duration": 10.0})

    # resume: a longer copy of the run continues from its checkpoint with the same task
    longer = tmp_path / "longer"
    extend(run, longer, 20.0)
    summary = runs.resume(longer, quiet=True)
    assert summary["status"] == "complete" and summary["t"] == pytest.approx(20.0)

    model = runs.load(longer)
    assert repr(model.task) == "DoubleAngle(scale=0.8)" and type(model.fi_curve).__name__ == "SteepSoftplus"
    assert model.t == pytest.approx(20.0)

    result = runs.run_test(longer, quiet=True)
    assert set(result) >= {"mse", "mse_prior"} and np.isfinite(result["mse"])
    for name in ("learning_curve.png", "tuning.png", "outputs.png", "test.npz"):
        assert (longer / name).stat().st_size > 0, name

    info = runs.info(longer)
    assert "plugin_tasks:DoubleAngle, scale = 0.8" in info
    assert "F-I curve   plugin_tasks:SteepSoftplus, steepness = 25.0" in info
    assert "MSE of 2θ" in info and "test        4 angles" in info

    # the command line too (tests/ on the path, as an installed package would be)
    env = dict(os.environ, PYTHONPATH=str(Path(__file__).parent) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    out = subprocess.run(command() + ["info", str(longer)], capture_output=True, text=True, env=env, timeout=120)
    assert out.returncode == 0, out.stderr
    assert "plugin_tasks:DoubleAngle" in out.stdout


@pytest.mark.parametrize("line, message", [
    ('task = "no_such_package.tasks:DoubleAngle"', "cannot import module 'no_such_package.tasks'"),
    ('task = "plugin_tasks:Missing"', "module 'plugin_tasks' has no 'Missing'"),
    ('task = "plugin_tasks:NotATask"', "NotATask is not a subclass of brian_effplast.blocks.tasks.Task"),
    ('task = "plugin_tasks:DoubleAngle"\n[task_args]\nwidth = 2.0', "cannot build it with the arguments"),
    ('task = "estimation"\n[nonlinearity]\nkind = "plugin_tasks:Nope"', "module 'plugin_tasks' has no 'Nope'"),
])
def test_a_bad_import_path_is_one_config_error(tmp_path, line, message):
    path = tmp_path / "bad.toml"
    path.write_text(line + "\n")
    with pytest.raises(ConfigError) as err:
        Config.from_toml(path)
    assert len(err.value.errors) == 1
    assert str(path.name) in str(err.value) and message in str(err.value)
    assert ":" in str(err.value).split("=")[1]  # the import path is named


def test_reading_a_model_file_builds_its_plugins_once(monkeypatch):
    """One pass: reading a configuration builds its task and F-I curve once, and
    ``make_task``/``make_fi_curve``/``n_out`` hand back those objects (a changed
    ``task_args`` builds anew)."""
    import plugin_tasks
    built = []
    for cls in (plugin_tasks.DoubleAngle, plugin_tasks.SteepSoftplus):
        init = cls.__init__
        monkeypatch.setattr(cls, "__init__", lambda self, *a, _init=init, **k: (built.append(type(self).__name__),
                                                                                _init(self, *a, **k))[1])
    cfg = Config.from_toml_string(MODEL, source="plugin.toml")
    assert sorted(built) == ["DoubleAngle", "SteepSoftplus"]
    assert cfg.make_task() is cfg.make_task() and cfg.n_out == 2 and cfg.make_fi_curve() is cfg.make_fi_curve()
    assert sorted(built) == ["DoubleAngle", "SteepSoftplus"]
    cfg.task_args["scale"] = 0.5
    assert cfg.make_task().scale == 0.5 and built.count("DoubleAngle") == 2
