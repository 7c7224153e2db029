"""One writer per run directory, no code run by reading one, every damaged file named,
a full disk named and recorded, odd values refused: with real processes and real files."""

import ast
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import brian_effplast
from brian_effplast import cli, runs
from brian_effplast.errors import RunError
from brian_effplast.runs.rundir import LOCK, config_record, read_config, writing
from helpers import command, load_npz

MODEL = """task = "estimation"
[circuit]
N = 12
N_s = 8
[run]
duration = 20.0
transient = 1.0
curve_bin = 1.0
checkpoint_every = 10.0
target = "numpy"
replicas = 1
[test]
angles = 4
hold = 12.0
"""
ROOT = Path(brian_effplast.__file__).resolve().parent.parent
#: What the processes started here import: this tree's package, whatever is installed.
ENV = dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))


def run(args, cwd=None, env=None, timeout=300):
    return subprocess.run([str(a) for a in args], capture_output=True, text=True, cwd=cwd, env=env or ENV,
                          timeout=timeout)


def errors(stderr):
    return [line for line in stderr.splitlines() if line.startswith("brian-effplast: error:")]


@pytest.fixture(scope="module")
def model(tmp_path_factory):
    path = tmp_path_factory.mktemp("model") / "m.toml"
    path.write_text(MODEL)
    return path


@pytest.fixture(scope="module")
def complete(model, tmp_path_factory):
    """A complete, tested run (seed 5)."""
    out = tmp_path_factory.mktemp("complete") / "run"
    assert cli.main(["train", str(model), "--out", str(out), "--seed", "5", "--quiet"]) == 0
    assert cli.main(["test", str(out), "--quiet"]) == 0
    return out


@pytest.fixture
def copy(complete, tmp_path):
    dst = tmp_path / "run"
    shutil.copytree(complete, dst)
    return dst


def test_the_processes_started_here_import_this_tree():
    p = run([sys.executable, "-c", "import brian_effplast; print(brian_effplast.__file__)"], cwd="/")
    assert Path(p.stdout.strip()).resolve() == Path(brian_effplast.__file__).resolve()


# ---------------------------------------------------------------- one writer

@pytest.mark.slow  # processes that import Brian2 and train
def test_two_trains_started_at_once_one_is_refused_naming_the_other(model, tmp_path):
    out = tmp_path / "run"
    procs = [subprocess.Popen(command() + ["train", str(model), "--out", str(out), "--seed", str(seed),
                                           "--duration", "60", "--quiet"],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=ENV)
             for seed in (1, 2)]  # back to back: they race for the new directory
    results = [(p.pid, *p.communicate(timeout=600), p.returncode) for p in procs]
    codes = sorted(r[3] for r in results)
    assert codes == [0, 2], results
    (winner, *_), = [r for r in results if r[3] == 0]
    (_, _, err, _), = [r for r in results if r[3] == 2]
    assert errors(err) == [line for line in err.splitlines() if line.strip()], err  # one line, nothing else
    assert len(errors(err)) == 1 and f"{out} is being written by process {winner} (" in err, err
    seed = 1 if winner == procs[0].pid else 2
    cfg = read_config(out)
    assert cfg.run.seed == seed and int(load_npz(out / "checkpoint.npz")["seed"]) == seed
    assert json.loads((out / "summary.json").read_text())["status"] == "complete"
    assert not (out / LOCK).exists()
    assert run(command() + ["info", out]).returncode == 0


@pytest.mark.slow  # processes that import Brian2 and train
def test_two_resumes_at_once_one_is_refused_and_the_run_is_trained_once(model, tmp_path):
    from brian_effplast.runs.training import extend
    short = tmp_path / "short"
    assert cli.main(["train", str(model), "--out", str(short), "--seed", "3", "--quiet"]) == 0
    longer = tmp_path / "longer"
    extend(short, longer, 80.0)  # a run to continue from t = 20 to 80, in chunks of 10
    procs = [subprocess.Popen(command() + ["resume", str(longer), "--quiet"], stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True, env=ENV) for _ in range(2)]
    results = [(p.pid, *p.communicate(timeout=600), p.returncode) for p in procs]
    assert sorted(r[3] for r in results) == [0, 2], results
    (winner, *_), = [r for r in results if r[3] == 0]
    (_, _, err, _), = [r for r in results if r[3] == 2]
    assert len(errors(err)) == 1 and f"{longer} is being written by process {winner}" in err, err
    summary = json.loads((longer / "summary.json").read_text())
    assert summary["status"] == "complete" and summary["sessions"] == 2
    newest, prev = load_npz(longer / "checkpoint.npz"), load_npz(longer / "checkpoint.prev.npz")
    assert int(newest["steps"]) == 8000 and int(prev["steps"]) == 7000  # each chunk trained once


@pytest.mark.slow  # processes that import Brian2 and train
def test_a_held_lock_refuses_writers_not_readers_and_dies_with_its_holder(copy):
    holder = subprocess.Popen(
        [sys.executable, "-c", "import sys, time\nfrom brian_effplast.runs.rundir import writing\n"
         f"with writing({str(copy)!r}):\n    print('held', flush=True)\n    time.sleep(600)\n"],
        stdout=subprocess.PIPE, text=True, env=ENV)
    try:
        assert holder.stdout.readline().strip() == "held"
        with pytest.raises(RunError, match=f"is being written by process {holder.pid} "):
            with writing(copy):
                pass
        for args in (["resume", copy], ["test", copy], ["train", "estimation", "--out", copy]):
            p = run(command() + args)
            assert p.returncode == 2 and len(errors(p.stderr)) == 1, (args, p.stderr)
            assert f"{copy} is being written by process {holder.pid} (" in p.stderr, (args, p.stderr)
        p = run(command() + ["info", copy])  # reading needs no lock
        assert p.returncode == 0 and f"writer      process {holder.pid}" in p.stdout, p.stdout
        assert "resume with" not in p.stdout
    finally:
        holder.kill()
        holder.wait()
    assert (copy / LOCK).exists()  # left by the killed holder: no obstacle
    with writing(copy):
        assert (copy / LOCK).read_text().split()[0] == str(os.getpid())
    assert not (copy / LOCK).exists()


# ---------------------------------------------------------------- no code run by reading

SIDE_EFFECT = """from pathlib import Path
Path({marker!r}).write_text("imported from " + __file__)
from brian_effplast.blocks.tasks import Estimation as Evil
"""


@pytest.fixture
def booby_trapped(copy, tmp_path):
    """A run directory whose config.toml names ``effplast_sidefx:Evil``, a module that sits in the
    directory and beside it and writes a marker file when imported."""
    marker = tmp_path / "IMPORTED"
    for folder in (copy, copy.parent):
        (folder / "effplast_sidefx.py").write_text(SIDE_EFFECT.format(marker=str(marker)))
    path = copy / "config.toml"
    text = path.read_text().replace('task = "estimation"', 'task = "effplast_sidefx:Evil"')
    path.write_text(text)
    summary = json.loads((copy / "summary.json").read_text())
    summary.update(config_record(read_config(copy), text), status="interrupted")  # not "edited": resumable
    (copy / "summary.json").write_text(json.dumps(summary))
    return copy, marker


@pytest.mark.slow  # processes that import Brian2 and train
def test_reading_a_run_directory_imports_nothing_from_it_or_the_current_directory(booby_trapped):
    d, marker = booby_trapped
    py = "from brian_effplast import runs; print(runs.info('.')); runs.read_run('.')"
    cases = [
        ("python -c, in the directory", [sys.executable, "-c", py], d, ENV),
        ("python -m, in the directory", [sys.executable, "-m", "brian_effplast.cli", "info", "."], d, ENV),
        ("python -m, beside it", [sys.executable, "-m", "brian_effplast.cli", "info", d.name], d.parent, ENV),
        ("PYTHONPATH with an empty entry", command() + ["info", d.name], d.parent,
         dict(os.environ, PYTHONPATH=os.pathsep + str(ROOT))),
    ]
    for what, args, cwd, env in cases:
        p = run(args, cwd=cwd, env=env)
        assert p.returncode == 0, (what, p.stderr)
        assert "task        effplast_sidefx:Evil" in p.stdout, (what, p.stdout)
        assert not marker.exists(), f"{what}: {marker.read_text()}"


@pytest.mark.slow  # processes that import Brian2
@pytest.mark.parametrize("command_args", [["resume", "."], ["test", "."]])
def test_commands_that_need_the_task_refuse_a_module_of_the_current_or_run_directory(booby_trapped,
                                                                                    command_args):
    d, marker = booby_trapped
    for cwd in (d, d.parent):
        target = "." if cwd == d else d.name
        args = [a if a != "." else target for a in command_args]
        p = run([sys.executable, "-m", "brian_effplast.cli"] + args, cwd=cwd,
                env=dict(os.environ, PYTHONPATH=os.pathsep + str(ROOT)))
        assert p.returncode == 2, p.stderr
        assert len(errors(p.stderr)) == 1 and "effplast_sidefx" in p.stderr and "not searched" in p.stderr, \
            p.stderr
        assert not marker.exists()
    p = run([sys.executable, "-c", "from brian_effplast import runs; runs.load('.')"], cwd=d)
    assert p.returncode == 1 and "not searched" in p.stderr and not marker.exists()


def test_a_module_named_explicitly_is_imported_and_announced(tmp_path, monkeypatch, booby_trapped):
    from brian_effplast.blocks import tasks
    d, marker = booby_trapped
    plugins = tmp_path / "plugins"
    plugins.mkdir()
    (plugins / "effplast_named_task.py").write_text("from brian_effplast.blocks.tasks import Estimation as Named\n")
    monkeypatch.syspath_prepend(str(plugins))
    said = []
    monkeypatch.setattr(tasks, "on_import", said.append)
    assert tasks.load_object("effplast_named_task:Named", tasks.Task) is tasks.Estimation
    assert len(said) == 1 and "importing module 'effplast_named_task'" in said[0] and str(plugins) in said[0]
    # a run directory that was read is never searched, even when it is on the path
    runs.read_run(d)
    monkeypatch.syspath_prepend(str(d))
    with pytest.raises(ValueError, match="not searched"):
        tasks.load_object("effplast_sidefx:Evil", tasks.Task)
    assert not marker.exists()


def test_no_npz_is_ever_unpickled(copy):
    """Every np.load of the package passes allow_pickle=False; an object array is refused, named."""
    calls = []
    for path in Path(brian_effplast.__file__).parent.rglob("*.py"):  # every layer
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Call) and getattr(node.func, "attr", None) == "load" and \
                    getattr(node.func.value, "id", None) == "np":
                kw = {k.arg: k.value for k in node.keywords}
                calls.append(path.name)
                assert "allow_pickle" in kw and kw["allow_pickle"].value is False, f"{path.name}:{node.lineno}"
    assert len(calls) >= 4
    np.savez(copy / "test.npz", angles=np.array([object()], dtype=object), rates=np.zeros(1), outputs=np.zeros(1))
    text = runs.info(copy)
    assert f"DAMAGED     {copy / 'test.npz'} is damaged: cannot read it (ValueError: Object arrays" in text


# ---------------------------------------------------------------- damaged files

def truncate(path):
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])


@pytest.mark.parametrize("name", ["parameters.npz", "learning_curve.npz"])
def test_a_damaged_final_file_is_named_by_info_and_rewritten_by_resume(copy, complete, name, capsys):
    truncate(copy / name)
    assert cli.main(["info", str(copy)]) == 0
    out = capsys.readouterr().out
    assert f"DAMAGED     {copy / name} is damaged: cannot read it (BadZipFile" in out
    assert f"'brian-effplast resume {copy}' writes it again from the verified checkpoint" in out
    assert cli.main(["resume", str(copy)]) == 0
    io = capsys.readouterr()
    assert f"warning: {copy / name} is damaged" in io.err and f"rewrote {name} from the verified checkpoint" in io.err
    assert f"is complete; rewrote {name} from its verified checkpoint" in io.out
    for key, value in load_npz(complete / name).items():
        np.testing.assert_array_equal(load_npz(copy / name)[key], value, err_msg=key)
    assert "DAMAGED" not in runs.info(copy)
    assert cli.main(["resume", str(copy)]) == 0 and "nothing to do" in capsys.readouterr().out


def test_a_damaged_test_file_is_named_by_info(copy, capsys):
    truncate(copy / "test.npz")
    assert cli.main(["info", str(copy)]) == 0
    out = capsys.readouterr().out
    assert f"DAMAGED     {copy / 'test.npz'} is damaged: cannot read it (BadZipFile" in out
    assert f"run 'brian-effplast test {copy}' again" in out


def test_a_damaged_summary_is_named_and_rebuilt_by_resume(copy, complete, capsys):
    truncate(copy / "summary.json")
    assert cli.main(["info", str(copy)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and f"{copy / 'summary.json'} is damaged" in err[0]
    assert f"'brian-effplast resume {copy}' rebuilds it from the verified checkpoint" in err[0]
    assert cli.main(["resume", str(copy), "--quiet"]) == 0
    summary = json.loads((copy / "summary.json").read_text())
    assert summary["status"] == "complete" and summary["t"] == 20.0 and "rebuilt" in summary
    reference = json.loads((complete / "summary.json").read_text())
    assert summary["objective"] == reference["objective"] and summary["config_sha256"] == reference["config_sha256"]
    assert (copy / "summary.damaged.json").is_file()
    assert cli.main(["info", str(copy)]) == 0


def test_a_truncated_config_is_named_as_damaged(copy, capsys):
    text = (copy / "config.toml").read_text()
    # cut inside a string, before a section, and anywhere
    for cut in (text[: text.index('target = "nu') + 12], text[: text.index("[run]")], text[: len(text) // 2]):
        (copy / "config.toml").write_text(cut)
        for args in (["info", str(copy)], ["resume", str(copy)], ["test", str(copy)]):
            assert cli.main(args) == 2
            err = capsys.readouterr().err.strip().splitlines()
            assert len(err) == 1 and f"{copy / 'config.toml'} is damaged or truncated" in err[0], err
            assert "not valid TOML" in err[0] or "is missing" in err[0] or "are missing" in err[0], err


# ---------------------------------------------------------------- odd values

@pytest.mark.parametrize("setting", ["circuit.dt=1e-320", "circuit.dt=1e-300", "circuit.dt=1e-9"])
def test_a_tiny_dt_is_one_line_naming_circuit_dt(model, tmp_path, capsys, setting):
    assert cli.main(["train", str(model), "--out", str(tmp_path / "r"), "--set", setting]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "circuit.dt = 1e-" in err[0] and "run.duration" not in err[0], err
    assert not (tmp_path / "r").exists()


@pytest.mark.parametrize("item", ["circuit.{long}=1", "{long}.x=1", "circuit.sigma={long}", "{long}"])
def test_a_long_key_or_value_is_cut_in_the_message(model, tmp_path, capsys, item):
    long = "k" * 100000
    assert cli.main(["train", str(model), "--out", str(tmp_path / "r"), "--set", item.format(long=long)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and len(err[0]) < 1000 and "(100000 characters)" in err[0] or \
        "(100002 characters)" in err[0], err


# ---------------------------------------------------------------- a full disk

@pytest.fixture
def small_disk(tmp_path):
    """A tmpfs with few inodes (root only; skipped where mounting is not allowed)."""
    mnt = tmp_path / "disk"
    mnt.mkdir()
    if os.geteuid() != 0:
        pytest.skip("mounting a small tmpfs needs root")
    # 8 inodes: the root, the run directory, .lock, config.toml, summary.json, checkpoint.npz,
    # checkpoint.prev.npz and learning_curve.npz; one more (parameters.npz's temporary file) fails
    p = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64m,nr_inodes=8", "tmpfs", str(mnt)],
                       capture_output=True, text=True)
    if p.returncode:
        pytest.skip(f"cannot mount a tmpfs here: {p.stderr.strip()}")
    try:
        yield mnt
    finally:
        subprocess.run(["umount", "-l", str(mnt)])


@pytest.mark.slow  # processes that import Brian2 and train
def test_a_full_disk_is_named_and_leaves_a_failed_resumable_run(model, small_disk, tmp_path):
    out = small_disk / "run"
    p = run(command() + ["train", model, "--out", out, "--seed", "5", "--checkpoint-every", "0", "--quiet"],
            cwd=tmp_path)
    assert p.returncode == 2, p.stderr
    assert errors(p.stderr) == [f"brian-effplast: error: {out / 'parameters.npz'}: No space left on device"], p.stderr
    summary = json.loads((out / "summary.json").read_text())
    assert summary["status"] == "failed" and "No space left on device" in summary["failed"]["error"]
    assert str(out / "parameters.npz") in summary["failed"]["error"]
    assert int(load_npz(out / "checkpoint.npz")["steps"]) == 2000 and not (out / "parameters.npz").exists()
    info = run(command() + ["info", out]).stdout
    assert "failed" in info and f"resume with: brian-effplast resume {out}" in info
    subprocess.run(["mount", "-o", "remount,nr_inodes=100", str(small_disk)], check=True)
    p = run(command() + ["resume", out, "--quiet"])
    assert p.returncode == 0, p.stderr
    assert json.loads((out / "summary.json").read_text())["status"] == "complete"
    assert (out / "parameters.npz").is_file() and (out / "learning_curve.png").is_file()


def test_a_running_summary_with_no_writer_says_so(copy):
    summary = json.loads((copy / "summary.json").read_text())
    (copy / "summary.json").write_text(json.dumps(dict(summary, status="running")))
    text = runs.info(copy)
    assert "writer      none: no process is writing this run" in text and "resume with" in text
