"""Sweeps on dask.distributed: the table, the run directories, re-runs and failures (slow: dask
clusters), and which cells a re-run may reuse (quick: cells run in this process, numpy)."""

import csv
import json
import operator
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from brian_effplast import cli
from brian_effplast.config import Config, ConfigError
from brian_effplast.runs.sweep import cluster_client, parse_grid, run_cell, sweep
from brian_effplast.runs.training import train
from helpers import load_npz

MODEL = """
task = "estimation"
[circuit]
N = 6
N_s = 4
[run]
duration = 20.0
transient = 5.0
target = "numpy"
[test]
angles = 2
hold = 15.0
record_every = 50
"""


def table(out):
    with open(Path(out) / "results.csv") as f:
        return list(csv.DictReader(f))


@pytest.fixture(scope="module")
def model(tmp_path_factory):
    path = tmp_path_factory.mktemp("model") / "m.toml"
    path.write_text(MODEL)
    return str(path)


@pytest.fixture(scope="module")
def swept(model, tmp_path_factory):
    out = tmp_path_factory.mktemp("sweep") / "s"
    rows = sweep(model, out, parse_grid(["circuit.sigma=0.1,0.2", "run.seed=1,2"]), workers=2, quiet=True)
    return out, rows


@pytest.mark.slow
def test_a_2x2_sweep_writes_the_table_and_ordinary_run_directories(swept, model, tmp_path):
    out, rows = swept
    assert [r["status"] for r in rows] == ["complete"] * 4
    got = table(out)
    assert [(float(r["circuit.sigma"]), int(r["run.seed"])) for r in got] == [(0.1, 1), (0.1, 2), (0.2, 1), (0.2, 2)]
    for r in got:
        run_dir = Path(r["run_dir"])
        cfg = Config.from_toml(run_dir / "config.toml")
        assert cfg.circuit.sigma == float(r["circuit.sigma"]) and cfg.run.seed == int(r["run.seed"])
        assert r["status"] == "complete" and r["objective"] == "MSE" and r["score"] == "mse"
        assert float(r["objective_initial"]) > 0 and float(r["score_value"]) > 0 and float(r["wall_seconds"]) > 0
        assert (run_dir / "test.npz").is_file() and (run_dir / "learning_curve.png").is_file()
    # a cell is exactly what train writes for that configuration
    alone = tmp_path / "alone"
    train(Config.from_toml(model).replace(**{"circuit.sigma": 0.2, "run.seed": 2}), alone, quiet=True)
    cell = Path(got[3]["run_dir"])
    a, b = load_npz(alone / "parameters.npz"), load_npz(cell / "parameters.npz")
    assert all(np.array_equal(a[k], b[k]) for k in a)


@pytest.mark.slow
def test_running_again_skips_finished_cells_and_redoes_the_others(swept, model):
    out, rows = swept
    stamps = {r["cell"]: (Path(r["run_dir"]) / "checkpoint.npz").stat().st_mtime_ns for r in rows}
    redo = Path(rows[1]["run_dir"])
    summary = json.loads((redo / "summary.json").read_text())
    (redo / "summary.json").write_text(json.dumps(dict(summary, status="failed")))  # a failed cell
    (redo / "test.npz").unlink()
    again = sweep(model, out, parse_grid(["circuit.sigma=0.1,0.2", "run.seed=1,2"]), workers=1, quiet=True)
    assert [r["status"] for r in again] == ["complete"] * 4
    after = {r["cell"]: (Path(r["run_dir"]) / "checkpoint.npz").stat().st_mtime_ns for r in again}
    assert [c for c in stamps if stamps[c] != after[c]] == [rows[1]["cell"]]
    assert (redo / "test.npz").is_file()


@pytest.mark.slow
def test_a_failing_cell_is_recorded_and_the_others_finish(model, tmp_path, capsys):
    out = tmp_path / "s"
    # eta_D = 1000 makes the decoder diverge within the run
    code = cli.main(["sweep", model, "--out", str(out), "--grid", "plasticity.eta_D=5e-6,1000",
                     "--workers", "2", "--quiet"])
    assert code == 1
    rows = {r["plasticity.eta_D"]: r for r in table(out)}
    assert rows["5e-06"]["status"] == "complete"
    assert rows["1000"]["status"] == "failed" and "diverged" in rows["1000"]["error"]


@pytest.mark.slow
def test_bad_grid_is_one_error_before_anything_runs(model, tmp_path, capsys):
    out = tmp_path / "s"
    assert cli.main(["sweep", model, "--out", str(out), "--grid", "circuit.sigma=0.1,-1"]) == 2
    err = capsys.readouterr().err
    assert "circuit.sigma = -1 is not allowed" in err and not out.exists()


@pytest.mark.slow
def test_a_worker_killed_mid_sweep_costs_only_its_cell(model, tmp_path):
    """A scheduler and two workers as separate processes on loopback; one worker is
    SIGKILLed while it runs a cell; the sweep completes every cell, each once."""
    port = 20000 + os.getpid() % 20000
    address = f"tcp://127.0.0.1:{port}"
    dask = [sys.executable, "-m", "distributed.cli.dask_scheduler"]
    procs = [subprocess.Popen(dask + ["--host", "127.0.0.1", "--port", str(port), "--dashboard-address", ":0"],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)]
    try:
        worker = [sys.executable, "-m", "distributed.cli.dask_worker", address, "--nthreads", "1",
                  "--no-nanny", "--dashboard-address", ":0"]
        for _ in range(2):
            procs.append(subprocess.Popen(worker, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                          start_new_session=True))
        out = tmp_path / "s"
        model_long = tmp_path / "m.toml"
        model_long.write_text(MODEL.replace("duration = 20.0", "duration = 60.0"))
        job = subprocess.Popen([sys.executable, "-m", "brian_effplast.cli", "sweep", str(model_long), "--out",
                                str(out), "--grid", "run.seed=1,2,3,4", "--scheduler", address],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        deadline = time.monotonic() + 300
        while not list((out / "cells").glob("*/checkpoint.npz")) and time.monotonic() < deadline:
            time.sleep(0.2)
        time.sleep(1.0)
        os.killpg(procs[1].pid, signal.SIGKILL)  # one worker dies mid-cell
        stdout, stderr = job.communicate(timeout=600)
        assert job.returncode == 0, stderr
        rows = table(out)
        assert [r["status"] for r in rows] == ["complete"] * 4
        for r in rows:  # each cell trained once to the end: one session, complete
            summary = json.loads((Path(r["run_dir"]) / "summary.json").read_text())
            assert summary["status"] == "complete" and summary["t"] == 60.0
    finally:
        for p in procs:
            try:
                os.killpg(p.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            p.wait()


def finished_cell(cfg, run_dir):
    """A cell run to the end in this process (no cluster), as a sweep's worker runs it."""
    row = run_cell(run_dir.name, {}, cfg.to_dict(), run_dir)
    assert row["status"] == "complete", row["error"]
    return (run_dir / "checkpoint.npz").stat().st_mtime_ns


def test_a_finished_cell_is_reused_only_with_the_same_configuration(tmp_path):
    """A finished cell whose config.toml differs from what the sweep now asks for (another
    duration, here) is not silently reused: failed, with the keys that differ and what to do."""
    cfg = Config.from_toml_string(MODEL).replace(**{"run.seed": 1})
    out = tmp_path / "s"
    cell = out / "cells" / "run.seed=1"
    stamp = finished_cell(cfg, cell)
    row = run_cell(cell.name, {}, cfg.replace(**{"circuit.sigma": 0.3}).to_dict(), cell)
    assert row["status"] == "failed"
    assert "circuit.sigma: 0.2 -> 0.3" in row["error"] and "new --out" in row["error"] and "delete" in row["error"]
    # the sweep itself checks the finished cells it skips (here with no cluster: nothing to run)
    rows = sweep(cfg, out, {"run.seed": [1]}, duration=30.0, quiet=True)
    assert rows[0]["status"] == "failed" and "run.duration: 20.0 -> 30.0" in rows[0]["error"]
    assert table(out)[0]["status"] == "failed"
    assert (cell / "checkpoint.npz").stat().st_mtime_ns == stamp  # left as it was
    assert json.loads((cell / "summary.json").read_text())["t"] == 20.0
    # the same configuration: reused as it is
    assert sweep(cfg, out, {"run.seed": [1]}, quiet=True)[0]["status"] == "complete"
    assert run_cell(cell.name, {}, cfg.to_dict(), cell)["status"] == "complete"
    assert (cell / "checkpoint.npz").stat().st_mtime_ns == stamp


def test_an_unfinished_cell_is_resumed_only_with_the_same_configuration(tmp_path):
    cfg = Config.from_toml_string(MODEL).replace(**{"run.seed": 2})
    cell = tmp_path / "cell"
    train(cfg, cell, quiet=True)
    summary = json.loads((cell / "summary.json").read_text())
    (cell / "summary.json").write_text(json.dumps(dict(summary, status="interrupted")))  # stopped, resumable
    row = run_cell(cell.name, {}, cfg.replace(**{"run.transient": 6.0}).to_dict(), cell)
    assert row["status"] == "failed" and "run.transient: 5.0 -> 6.0" in row["error"]
    assert json.loads((cell / "summary.json").read_text())["status"] == "interrupted"  # not resumed
    assert not (cell / "test.npz").exists()
    row = run_cell(cell.name, {}, cfg.to_dict(), cell)  # the same configuration: resumed and tested
    assert row["status"] == "complete" and (cell / "test.npz").is_file()


def test_grid_values_are_read_as_toml_and_a_bad_item_is_named():
    grid = parse_grid(["circuit.sigma=0.1, 0.2", "run.target=numpy,cython", "run.seed=3", "test.start=\"r_init\""])
    assert grid == {"circuit.sigma": [0.1, 0.2], "run.target": ["numpy", "cython"], "run.seed": [3],
                    "test.start": ["r_init"]}
    for item in ("sigma=0.1", "circuit.sigma=", "circuit.sigma"):
        with pytest.raises(ConfigError, match=f"--grid: {item!r} is not allowed: must be section.key=value1"):
            parse_grid([item])
    with pytest.raises(ConfigError, match="model.toml: run.seed is given twice"):
        parse_grid(["run.seed=1", "run.seed=2"], source="model.toml")


def test_cluster_client_uses_a_running_scheduler_and_imports_brian2_on_its_workers():
    from dask.distributed import LocalCluster
    with LocalCluster(n_workers=1, processes=False, dashboard_address=None) as running:
        with cluster_client(scheduler=running.scheduler_address) as client:
            assert client.submit(operator.add, 1, 2).result() == 3
            plugins = client.run(lambda dask_worker: sorted(dask_worker.plugins))
            assert all("brian-effplast-import-brian2" in p for p in plugins.values()), plugins
        assert client.status == "closed" and running.status.name == "running"  # the cluster is not ours to close
