"""The package as a user installs it: a wheel in a fresh virtual environment,
used from outside the checkout (the model files ship inside the wheel): demo,
train by a shipped model's name, test, info and sweep. (``figures --quick``
works the same way but takes minutes: tests/test_figures.py runs it.)"""

import json
import os
import subprocess
import sys
import venv
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent

pytestmark = [pytest.mark.slow, pytest.mark.standalone]


# only what the wheel installed; and Python writes the bytecode of what the commands import (pip is told
# not to compile all of it: two thirds of an installation's minute went to that)
CLEAN_ENV = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONDONTWRITEBYTECODE")}


def run(cmd, **kwargs):
    kwargs.setdefault("env", CLEAN_ENV)
    p = subprocess.run([str(c) for c in cmd], capture_output=True, text=True, timeout=900, **kwargs)
    assert p.returncode == 0, f"{cmd}\n{p.stdout}\n{p.stderr}"
    return p


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    """``brian-effplast`` of a fresh virtual environment holding only the wheel and its dependencies."""
    base = tmp_path_factory.mktemp("wheel")
    run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-w", base / "dist", REPO],
        cwd=base)
    wheel, = (base / "dist").glob("brian_effplast-*.whl")
    venv.create(base / "env", with_pip=True)
    python = base / "env" / "bin" / "python"
    run([python, "-m", "pip", "install", "--quiet", "--no-compile", wheel], cwd=base)
    return base, python, base / "env" / "bin" / "brian-effplast"


def test_wheel_runs_demo_train_by_name_and_info_outside_the_checkout(installed):
    base, python, exe = installed
    work = base / "work"  # no checkout here: nothing to find by relative paths
    work.mkdir()
    env = dict(CLEAN_ENV, BRIAN_EFFPLAST_CACHE=str(base / "cache"))
    p = run([python, "-c", "import brian_effplast, sys; print(brian_effplast.__file__); "
             "import brian_effplast.config, brian_effplast.analysis; assert 'brian2' not in sys.modules"],
            cwd=work, env=env)
    assert str(REPO) not in p.stdout and "site-packages" in p.stdout
    # one compiled train and test structure serves every command (same task, replicas and duration):
    # the prior's parameters are run arguments, not compiled
    run([exe, "demo", "--out", work / "demo", "--duration", "100", "--quiet"], cwd=work, env=env)
    assert json.loads((work / "demo" / "summary.json").read_text())["status"] == "complete"
    assert (work / "demo" / "test.npz").is_file()
    run([exe, "train", "estimation_narrow_prior", "--out", work / "narrow", "--duration", "100", "--seed", "1",
         "--quiet"], cwd=work, env=env)
    summary = json.loads((work / "narrow" / "summary.json").read_text())
    assert summary["status"] == "complete" and summary["model_file"].endswith("estimation_narrow_prior.toml")
    info = run([exe, "info", work / "narrow"], cwd=work, env=env).stdout
    assert "estimation" in info and "complete" in info
    # the trained model, loaded back in another target
    run([exe, "test", work / "narrow", "--hold", "12", "--target", "numpy", "--quiet"], cwd=work, env=env)
    assert (work / "narrow" / "test.npz").is_file()
    run([exe, "sweep", "estimation", "--out", work / "sweep", "--grid", "run.seed=1,2", "--duration", "100",
         "--workers", "2", "--quiet"], cwd=work, env=env)
    table = (work / "sweep" / "results.csv").read_text().splitlines()
    assert len(table) == 3 and all(",complete," in line for line in table[1:])
    help_ = run([exe, "train", "--help"], cwd=work, env=env).stdout
    assert "estimation_narrow_prior" in help_  # the shipped models, listed
