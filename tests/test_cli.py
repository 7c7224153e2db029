"""End-to-end tests of the command line and of run directories (brian_effplast.runs).

Short runs on the numpy target (one cpp_standalone run for the
cross-target check). The whole file takes a few minutes at most.
"""

import json
import signal
import subprocess
import time
import tomllib
from pathlib import Path

import numpy as np
import pytest

from brian_effplast import PlasticCircuit, analysis, cli, runs
from brian_effplast.config import Config
from brian_effplast.circuit.state import SAVED_KEYS
from helpers import CHECK_R, CHECK_RECORD, CHECK_STEPS, assert_same_run, command, load_npz, normal_noise, write_model

REPO = Path(__file__).resolve().parent.parent
PNG = b"\x89PNG\r\n\x1a\n"

# Short runs: learning after 10 time units, 30 time units in 3 chunks.
SMALL = {
    "estimation": """
task = "estimation"
[run]
duration = 30.0
transient = 10.0
target = "numpy"
replicas = 2
checkpoint_every = 10.0
curve_bin = 1.0
[test]
angles = 4
hold = 20.0
record_every = 20
""",
    "classification": """
task = "classification"
[run]
duration = 30.0
transient = 10.0
target = "numpy"
replicas = 2
checkpoint_every = 0.0
curve_bin = 2.0
[test]
angles = 4
hold = 20.0
record_every = 20
""",
}


def run_cli(*argv):
    return cli.main([str(a) for a in argv])


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """One trained and tested run directory per task (numpy target)."""
    out = {}
    for task, text in SMALL.items():
        base = tmp_path_factory.mktemp(task)
        model = write_model(base / "model.toml", text)
        run_dir = base / "run"
        assert run_cli("train", model, "--out", run_dir, "--seed", 11, "--quiet") == 0
        assert run_cli("test", run_dir, "--quiet") == 0
        out[task] = run_dir
    return out


# ---------------------------------------------------------------------------
# Files of a run directory
# ---------------------------------------------------------------------------

@pytest.mark.parametrize("task", ["estimation", "classification"])
def test_run_directory_is_complete_and_consistent(trained, task):
    d = trained[task]
    for name in runs.FILES.values():
        assert (d / name).is_file(), name
    cfg = Config.from_toml(d / "config.toml")
    ref = Config.from_toml_string(SMALL[task])
    assert cfg.task == task and cfg.run.seed == 11 and cfg.run.target == "numpy"
    R, N, N_s, n_out = ref.run.replicas, ref.circuit.N, ref.circuit.N_s, ref.n_out
    steps = round(ref.run.duration / ref.circuit.dt)
    bins = round(ref.run.duration / ref.run.curve_bin)

    s = json.loads((d / "summary.json").read_text())
    assert s["status"] == "complete"
    assert s["task"] == task and s["seed"] == 11 and s["replicas"] == R and s["target"] == "numpy"
    assert s["duration"] == ref.run.duration and s["t"] == ref.run.duration
    assert s["steps"] == steps == s["steps_done"] == cfg.steps(cfg.run.duration)
    assert s["wall_seconds"] > 0
    assert set(s["versions"]) >= {"brian2", "brian_effplast"}
    ini, fin = runs.objectives(load_npz(d / "learning_curve.npz")["curve"], cfg)
    assert s["objective_initial"] == pytest.approx(ini) and s["objective_final"] == pytest.approx(fin)
    assert np.isfinite([ini, fin]).all()
    if task == "estimation":  # the summary shows the MSE, -reward
        assert s["objective"] == {"label": "MSE", "initial": pytest.approx(-ini), "final": pytest.approx(-fin)}
        assert ini < 0
    else:
        assert s["objective"] == {"label": "log-likelihood", "initial": pytest.approx(ini),
                                  "final": pytest.approx(fin)}
        assert ini <= 0

    lc = load_npz(d / "learning_curve.npz")
    assert lc["curve"].shape == (R, bins)
    assert lc["time"].shape == (bins,)
    assert np.allclose(np.diff(lc["time"]), ref.run.curve_bin)
    assert np.isfinite(lc["curve"]).all()
    assert str(lc["task"]) == task

    ck = load_npz(d / "checkpoint.npz")
    assert float(ck["t"]) == pytest.approx(ref.run.duration) and int(ck["steps"]) == steps
    assert int(ck["seed"]) == 11
    assert np.array_equal(ck["curve"], lc["curve"])
    par = load_npz(d / "parameters.npz")
    shapes = {"W": (R, N, N), "C": (R, N, N_s), "b": (R, N), "D": (R, n_out, N)}
    assert set(par) == set(shapes)
    for key, shape in shapes.items():
        assert par[key].shape == shape
        assert np.array_equal(par[key], ck[key])
    for name in ("learning_curve.png", "tuning.png", "outputs.png"):
        assert (d / name).read_bytes()[:8] == PNG

    t = load_npz(d / "test.npz")
    K = ref.test.angles
    n_hold, every = round(ref.test.hold / ref.circuit.dt), ref.test.record_every
    # sample i is the state after step i*every + 1; the first SETTLE time units are dropped
    S = sum(1 for i in range(-(-n_hold // every)) if (i * every + 1) * ref.circuit.dt > runs.SETTLE)
    assert np.allclose(t["angles"], -np.pi + 2 * np.pi * np.arange(K) / K)
    assert t["rates"].shape == (R, K, S, N)
    assert t["outputs"].shape == (R, K, S, n_out)
    for key in shapes:
        assert np.array_equal(t[key], par[key])
    # the rates are those of a frozen network: outputs are D r
    assert np.allclose(t["outputs"], np.einsum("roi,rksi->rkso", t["D"], t["rates"]))
    # the analysis module accepts the layout
    analysis.population_rate(t["rates"])
    if task == "estimation":
        b2, var = analysis.bias_variance(t["outputs"], t["angles"])
        assert b2.shape == var.shape == (R, K)
    else:
        assert analysis.prior_averaged_dprime(t["outputs"], t["angles"], 0.0, 1.5).shape == (R,)

    # info describes it
    text = runs.info(d)
    assert "complete" in text and "seed        11" in text and "test" in text


@pytest.mark.parametrize("task", ["estimation", "classification"])
def test_learning_curve_keeps_the_training_stimulus(trained, task):
    """learning_curve.npz's theta (R, bins) is the stimulus after the first step of each bin: the same
    network run again in the same chunks (the noise is seeded per run), recording theta every step."""
    d = trained[task]
    cfg = Config.from_toml(d / "config.toml")
    chunk = cfg.run.checkpoint_every or cfg.run.duration
    model = PlasticCircuit(cfg)
    every_step = np.concatenate([model.run(chunk, plastic=True, record=("theta",))["theta"]
                                 for _ in range(round(cfg.run.duration / chunk))])  # (steps, R)
    n_bin = cfg.steps(cfg.run.curve_bin)
    saved = load_npz(d / "learning_curve.npz")["theta"]
    assert saved.shape == (cfg.run.replicas, round(cfg.run.duration / cfg.run.curve_bin))
    np.testing.assert_array_equal(saved, every_step[::n_bin].T)


def test_test_writes_elsewhere_with_overrides(trained, tmp_path, capsys):
    d = trained["estimation"]
    before = (d / "test.npz").read_bytes()
    out = tmp_path / "t2"
    assert run_cli("test", d, "--out", out, "--angles", 3, "--hold", 15) == 0
    t = load_npz(out / "test.npz")
    assert t["rates"].shape[:2] == (2, 3)
    assert (out / "tuning.png").is_file() and (out / "outputs.png").is_file()
    assert (d / "test.npz").read_bytes() == before  # the run's own test is untouched
    assert "MSE" in capsys.readouterr().out


def test_test_model_in_memory_equals_the_run_directory_test(trained):
    d = trained["classification"]
    model = runs.load(d)
    data = runs.held_stimulus_test(model)
    saved = load_npz(d / "test.npz")
    # test.npz also keeps the scores as numbers (info reads them without building the task)
    kept = dict(zip(saved.pop("score_names").tolist(), saved.pop("score_values").tolist()))
    assert kept == runs.scores(data, model.task) and set(kept) == {"accuracy", "accuracy_prior"}
    assert sorted(data) == sorted(saved)
    for key in data:
        np.testing.assert_array_equal(data[key], saved[key], err_msg=key)
    np.testing.assert_array_equal(model.state["r"], runs.load(d).state["r"])  # the model is not changed


def test_test_model_starts_from_the_current_state_even_with_trials(trained):
    from brian_effplast import PlasticCircuit
    model = runs.load(trained["estimation"])  # t = 30: a trial start for run.trial = 15
    with_trials = PlasticCircuit(model.config.replace(**{"run.trial": 15.0}), state=model.state, t=model.t,
                                 seed=model.seed)
    a, b = runs.held_stimulus_test(model, angles=2, hold=15.0), runs.held_stimulus_test(with_trials, angles=2, hold=15.0)
    np.testing.assert_array_equal(a["rates"], b["rates"])  # no reset of the rates to r_init


def test_info_command(trained, capsys):
    assert run_cli("info", trained["classification"]) == 0
    out = capsys.readouterr().out
    assert "classification" in out and "log-likelihood" in out and "accuracy" in out
    assert "checkpoint  checkpoint.npz verified (SHA-256)" in out
    # both concentrations, named: the process's kappa (0.75, the default) and the prior's 2 kappa
    assert "stimulus process kappa = 0.75: prior von Mises of mean mu = 0 and concentration 2 kappa = 1.5" in out


# ---------------------------------------------------------------------------
# Checkpoints and resume
# ---------------------------------------------------------------------------

class _Crash(Exception):
    pass


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    """An uninterrupted run (estimation, seed 4, checkpoints every 10 time units)."""
    base = tmp_path_factory.mktemp("reference")
    model = write_model(base / "m.toml", SMALL["estimation"])
    assert run_cli("train", model, "--out", base / "a", "--seed", 4, "--quiet") == 0
    return model, base / "a"


def test_resume_after_crash_is_bit_identical(reference, tmp_path, monkeypatch, capsys):
    model, a = reference
    b = tmp_path / "b"

    # run b crashes (like a kill) during its second chunk, after the checkpoint at t = 10
    from brian_effplast.circuit.model import PlasticCircuit
    real_run = PlasticCircuit.run
    calls = []

    def crashing_run(self, *args, **kwargs):
        calls.append(1)
        if len(calls) == 2:
            raise KeyboardInterrupt
        return real_run(self, *args, **kwargs)

    monkeypatch.setattr(PlasticCircuit, "run", crashing_run)
    assert run_cli("train", model, "--out", b, "--seed", 4, "--quiet") == 130
    assert "resume" in capsys.readouterr().err
    monkeypatch.setattr(PlasticCircuit, "run", real_run)
    s = json.loads((b / "summary.json").read_text())
    assert s["status"] == "interrupted" and s["t"] == 10.0
    assert not (b / "parameters.npz").exists()
    assert float(load_npz(b / "checkpoint.npz")["t"]) == 10.0
    assert "interrupted" in runs.info(b) and "resume" in runs.info(b)

    # resume, with progress output (not quiet, stderr is not a TTY)
    assert run_cli("resume", b) == 0
    cap = capsys.readouterr()
    assert "seed 4" in cap.out and "time units" in cap.err
    s = json.loads((b / "summary.json").read_text())
    assert s["status"] == "complete" and s["sessions"] == 2
    assert_same_run(a, b)

    # resuming a complete run does nothing
    stamp = (b / "checkpoint.npz").stat().st_mtime_ns
    assert run_cli("resume", b) == 0
    assert "already complete" in capsys.readouterr().out
    assert (b / "checkpoint.npz").stat().st_mtime_ns == stamp


def test_resume_after_kill_at_the_last_checkpoint(reference, tmp_path):
    """Killed after writing the final checkpoint but before the final files."""
    model, a = reference
    c = tmp_path / "c"
    c.mkdir()
    for name in ("config.toml", "checkpoint.npz", "summary.json"):
        (c / name).write_bytes((a / name).read_bytes())
    s = json.loads((c / "summary.json").read_text())
    s.update(status="running", objective_final=None)
    (c / "summary.json").write_text(json.dumps(s))
    assert run_cli("resume", c, "--quiet") == 0
    assert json.loads((c / "summary.json").read_text())["status"] == "complete"
    assert_same_run(a, c)
    assert (c / "learning_curve.png").is_file()


@pytest.mark.slow  # two trainings of 90 time units
def test_resume_after_sigkill(reference, tmp_path):
    """A real kill, always mid-run: the command is SIGKILLed once its first checkpoint of nine is
    saved (it is asserted to be running then), then resumed; the result is the uninterrupted run's."""
    model, _ = reference
    a, b = tmp_path / "a", tmp_path / "b"
    longer = ["--seed", "4", "--duration", "90", "--quiet"]  # nine chunks of 10 time units
    assert run_cli("train", model, "--out", a, *longer) == 0
    proc = subprocess.Popen(command() + ["train", model, "--out", str(b), *longer],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline and proc.poll() is None:
            try:
                if int(load_npz(b / "checkpoint.npz")["steps"]) > 0:
                    break
            except (OSError, ValueError, KeyError):
                pass
            time.sleep(0.01)
        assert proc.poll() is None, f"the run ended before the kill: {proc.stderr.read()}"
        proc.kill()
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == -signal.SIGKILL
    s = json.loads((b / "summary.json").read_text())
    assert s["status"] == "running" and s["t"] < 90.0
    assert int(load_npz(b / "checkpoint.npz")["steps"]) < 9000
    assert "none: no process is writing this run" in runs.info(b)
    assert run_cli("resume", b, "--quiet") == 0
    assert_same_run(a, b)


@pytest.mark.standalone
def test_load_in_another_target_continues_identically(trained):
    """A numpy-trained model continued on cpp_standalone matches its continuation
    on numpy when both get the same external noise."""
    d = trained["estimation"]
    cfg = Config.from_toml(d / "config.toml")
    assert cfg.run.replicas == CHECK_R  # (the structure of the step-by-step checks: no compilation of its own)
    noise = normal_noise(2, CHECK_STEPS, CHECK_R, cfg.circuit.N)
    ends = {}
    for target in ("numpy", "cpp_standalone"):
        model = runs.load(d, target=target, noise=noise)
        assert model.target == target and model.t == cfg.run.duration
        out = model.run(CHECK_STEPS * cfg.circuit.dt, record=CHECK_RECORD)
        ends[target] = (model.state, out["y"])
    (s_np, y_np), (s_cpp, y_cpp) = ends["numpy"], ends["cpp_standalone"]
    start = load_npz(d / "checkpoint.npz")
    assert not np.allclose(s_np["W"], start["W"], rtol=0, atol=1e-12)  # it did learn
    for key in SAVED_KEYS:
        np.testing.assert_allclose(s_cpp[key], s_np[key], rtol=1e-9, atol=1e-12, err_msg=key)
    np.testing.assert_allclose(y_cpp, y_np, rtol=1e-9, atol=1e-12)


# ---------------------------------------------------------------------------
# Divergence
# ---------------------------------------------------------------------------

def test_divergence_keeps_last_good_checkpoint(tmp_path, capsys):
    model = write_model(tmp_path / "div.toml", """
task = "estimation"
[plasticity]
eta_D = 1000.0
[run]
duration = 20.0
transient = 5.0
target = "numpy"
checkpoint_every = 5.0
""")
    d = tmp_path / "run"
    assert run_cli("train", model, "--out", d, "--seed", 1, "--quiet") == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("brian-effplast: error: training diverged")
    s = json.loads((d / "summary.json").read_text())
    assert s["status"] == "diverged"
    assert set(s["diverged"]) == {"what", "during", "last_good_checkpoint"}
    ck = load_npz(d / "checkpoint.npz")
    # learning starts at t = 5: the checkpoint at 5 is the last good one
    assert float(ck["t"]) == s["diverged"]["last_good_checkpoint"] == 5.0
    assert s["diverged"]["during"] == [5.0, 10.0]
    for key in ("W", "C", "b", "D"):
        assert np.isfinite(ck[key]).all() and np.abs(ck[key]).max() <= runs.DIVERGENCE_LIMITS[key]
    assert not (d / "parameters.npz").exists()
    assert "diverged" in runs.info(d)
    assert run_cli("resume", d) == 2
    assert "diverged" in capsys.readouterr().err


# ---------------------------------------------------------------------------
# Bad input: exit 2, one clear line per problem, nothing left behind
# ---------------------------------------------------------------------------

GOOD = SMALL["estimation"]


def _bad_models():
    return {
        "unknown_key": (GOOD.replace("[run]", "[run]\nduraton = 30.0"), "did you mean run.duration"),
        "unknown_section": ("[circuitt]\nN = 4\n" + GOOD.replace('task = "estimation"', ""), "circuitt"),
        "wrong_type": (GOOD + '\n[circuit]\nN = "forty"\n', "circuit.N"),
        "out_of_range": (GOOD + "\n[circuit]\nsigma = -0.1\n", "circuit.sigma = -0.1"),
        "bad_task": (GOOD.replace('"estimation"', '"estimaton"'), 'did you mean "estimation"'),
        "bad_toml": (GOOD + "\n[circuit\n", "invalid TOML"),
        "bad_bin": (GOOD.replace("checkpoint_every = 10.0", "checkpoint_every = 10.5"),
                    "run.checkpoint_every = 10.5"),
        "bad_trial": (GOOD.replace("curve_bin = 1.0", "curve_bin = 1.0\ntrial = 20.5"),
                      "run.trial = 20.5 is not allowed: must be 0 or a whole number of learning-curve bins"),
    }


BAD_ARGS = [
    # (extra train arguments, expected text)
    (["--target", "gpu"], "invalid choice: 'gpu'"),
    (["--duration", "-5"], "run.duration = -5.0"),
    (["--duration", "10.005"], "whole number of steps"),
    (["--duration", "5"], "run.transient"),  # not longer than the transient
    (["--duration", "abc"], "is not a duration: give time units (e.g. 200) or a number with a unit"),
    (["--replicas", "0"], "run.replicas = 0"),
    (["--seed", "-1"], "run.seed = -1"),
    (["--seed", str(2**32)], "run.seed"),
    (["--checkpoint-every", "-10"], "run.checkpoint_every"),
    (["--set", "circuit.sigma"], "expected section.key=value"),
    (["--set", "circuit.sigmaa=0.3"], "did you mean circuit.sigma"),
    (["--set", "circuit.N=4.5"], "circuit.N = 4.5"),
]


def _check_error(capsys, rc, expected):
    cap = capsys.readouterr()
    assert rc == 2
    lines = cap.err.strip().splitlines()
    assert lines and all(line.startswith("brian-effplast: error: ") for line in lines), cap.err
    assert "Traceback" not in cap.err
    assert expected in cap.err, cap.err


@pytest.mark.parametrize("name", sorted(_bad_models()))
def test_bad_model_file(tmp_path, capsys, name):
    text, expected = _bad_models()[name]
    model = write_model(tmp_path / "bad.toml", text)
    out = tmp_path / "run"
    _check_error(capsys, run_cli("train", model, "--out", out), expected)
    assert not out.exists()


@pytest.mark.parametrize("extra,expected", BAD_ARGS, ids=[" ".join(a) for a, _ in BAD_ARGS])
def test_bad_train_arguments(tmp_path, capsys, extra, expected):
    model = write_model(tmp_path / "m.toml", GOOD)
    out = tmp_path / "run"
    _check_error(capsys, run_cli("train", model, "--out", out, *extra), expected)
    assert not out.exists()


def test_bad_paths_and_commands(tmp_path, capsys, trained):
    model = write_model(tmp_path / "m.toml", GOOD)
    # missing model file
    _check_error(capsys, run_cli("train", tmp_path / "nope.toml", "--out", tmp_path / "r"), "nope.toml")
    assert not (tmp_path / "r").exists()
    # non-empty output directory: refused and untouched
    full = tmp_path / "full"
    full.mkdir()
    (full / "keep.txt").write_text("x")
    _check_error(capsys, run_cli("train", model, "--out", full), "not empty")
    assert [p.name for p in full.iterdir()] == ["keep.txt"]
    # output path is a file
    _check_error(capsys, run_cli("train", model, "--out", full / "keep.txt"), "not a directory")
    # missing --out, unknown command, no command
    _check_error(capsys, run_cli("train", model), "--out")
    _check_error(capsys, run_cli("fly"), "invalid choice")
    _check_error(capsys, run_cli(), "required")
    # resume / test / info of something that is not a run directory
    empty = tmp_path / "empty"
    empty.mkdir()
    _check_error(capsys, run_cli("resume", empty), "not a brian-effplast run directory")
    _check_error(capsys, run_cli("resume", tmp_path / "missing"), "not a directory")
    _check_error(capsys, run_cli("test", empty), "not a brian-effplast run directory")
    _check_error(capsys, run_cli("info", tmp_path / "missing"), "not a directory")
    assert list(empty.iterdir()) == []
    # bad test arguments on a good run: nothing written
    d = trained["estimation"]
    stamp = (d / "test.npz").stat().st_mtime_ns
    _check_error(capsys, run_cli("test", d, "--hold", 5), "test.hold = 5.0")
    _check_error(capsys, run_cli("test", d, "--angles", 0), "test.angles = 0")
    _check_error(capsys, run_cli("test", d, "--hold", 20.005), "whole number of steps")
    _check_error(capsys, run_cli("test", d, "--target", "gpu"), "invalid choice")
    _check_error(capsys, run_cli("test", d, "--out", tmp_path / "t3", "--hold", 5), "test.hold")
    assert not (tmp_path / "t3").exists()
    assert (d / "test.npz").stat().st_mtime_ns == stamp
    # a corrupted run directory
    broken = tmp_path / "broken"
    broken.mkdir()
    for name in ("config.toml", "summary.json"):
        (broken / name).write_bytes((d / name).read_bytes())
    (broken / "checkpoint.npz").write_bytes(b"not a zip")
    _check_error(capsys, run_cli("resume", broken), "checkpoint")


def test_console_script_errors_without_traceback(tmp_path):
    """The installed command: exit status 2 and one line on stderr."""
    cmd = command()
    p = subprocess.run(cmd + ["train", str(tmp_path / "missing.toml"), "--out", str(tmp_path / "r")],
                       capture_output=True, text=True, timeout=120)
    assert p.returncode == 2
    assert p.stderr.count("\n") == 1 and p.stderr.startswith("brian-effplast: error: ")
    assert "missing.toml" in p.stderr and not (tmp_path / "r").exists()
    p = subprocess.run(cmd + ["--help"], capture_output=True, text=True, timeout=120)
    assert p.returncode == 0 and "demo" in p.stdout and "resume" in p.stdout


# ---------------------------------------------------------------------------
# Model files, --set, quiet mode, demo
# ---------------------------------------------------------------------------

MODEL_FILES = ["estimation", "estimation_full", "classification", "estimation_narrow_prior",
               "classification_shifted_prior", "noise_levels"]


@pytest.mark.parametrize("name", MODEL_FILES)
def test_model_files(name):
    path = REPO / "models" / f"{name}.toml"
    text = path.read_text()
    cfg = Config.from_toml(path)
    assert "Fig." in text and "reference sheet" in text
    default = Config.default(cfg.task)
    # everything not said to be chosen here is the reference value
    expected = {"estimation_narrow_prior": {"stimulus.kappa": 2.0},
                "classification_shifted_prior": {"stimulus.mu": np.pi / 4},
                "noise_levels": {"circuit.sigma": 0.33}}.get(name, {})
    for section in ("circuit", "nonlinearity", "stimulus", "plasticity", "init", "test"):
        for key, value in vars(getattr(default, section)).items():
            if key.startswith("_"):
                continue
            want = expected.get(f"{section}.{key}", value)
            assert getattr(getattr(cfg, section), key) == pytest.approx(want), f"{section}.{key}"
    if name == "estimation_full":
        assert cfg.run.duration == 260000.0 and cfg.run.replicas == 1
    runs.resolve_config(cfg)  # a valid run (whole steps and curve bins)
    if expected:
        assert "chosen here" in text


def test_set_overrides_and_quiet(tmp_path, capsys):
    model = write_model(tmp_path / "m.toml", SMALL["estimation"])
    d = tmp_path / "run"
    rc = run_cli("train", model, "--out", d, "--quiet", "--duration", 12, "--replicas", 1,
                 "--checkpoint-every", 0, "--set", "circuit.sigma=0.33", "--set", "run.seed=9",
                 "--set", "run.target=numpy", "--set", "run.curve_bin=2.0")
    assert rc == 0
    cap = capsys.readouterr()
    assert cap.out == "" and cap.err == ""  # quiet: nothing at all
    cfg = tomllib.loads((d / "config.toml").read_text())
    assert cfg["circuit"]["sigma"] == 0.33 and cfg["run"]["seed"] == 9
    assert cfg["run"]["duration"] == 12.0 and cfg["run"]["replicas"] == 1
    assert load_npz(d / "learning_curve.npz")["curve"].shape == (1, 6)


def test_demo_command(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(cli, "DEMO_HOLD", 15.0)
    d = tmp_path / "demo"
    assert run_cli("demo", "--out", d, "--duration", 50, "--target", "numpy", "--seed", 3) == 0
    out = capsys.readouterr().out
    assert "seed 3" in out and str(d / "learning_curve.png") in out
    for name in ("learning_curve.png", "tuning.png", "outputs.png", "summary.json", "test.npz"):
        assert (d / name).is_file()
    assert load_npz(d / "test.npz")["angles"].shape == (12,)


def test_cache_command_lists_and_clears_unused_projects(tmp_path, monkeypatch, capsys):
    import fcntl
    monkeypatch.setenv("BRIAN_EFFPLAST_CACHE", str(tmp_path))
    base = tmp_path / "standalone"
    for name in ("aaaa-0", "bbbb-0"):
        (base / name).mkdir(parents=True)
        (base / name / "main").write_bytes(b"x" * 1000)
    (tmp_path / "headers" / "key").mkdir(parents=True)
    (tmp_path / "headers" / "key" / "std.h.gch").write_bytes(b"x" * 3_000_000)
    with open(base / "bbbb-0.lock", "w") as held:  # another process's project, in use
        fcntl.flock(held, fcntl.LOCK_EX)
        assert run_cli("cache") == 0
        out = capsys.readouterr().out
        assert "2 compiled project(s)" in out and "aaaa-0" in out and "precompiled headers 3.0 MB" in out
        assert [line for line in out.splitlines() if "(in use)" in line] == [next(
            line for line in out.splitlines() if "bbbb-0" in line)]
        assert run_cli("cache", "--clear") == 0
        out = capsys.readouterr().out
        assert "deleted 1 project(s), 0.0 MB" in out and "kept 1 in use" in out
        assert not (base / "aaaa-0").exists() and (base / "bbbb-0" / "main").is_file()
        assert (tmp_path / "headers").exists()  # a project in use may be compiling with them
    assert run_cli("cache", "--clear") == 0
    assert "deleted 1 project(s), 3.0 MB" in capsys.readouterr().out and not (tmp_path / "headers").exists()


@pytest.mark.slow  # two worker processes, each importing Brian2
def test_workers_spread_replicas_over_processes(tmp_path):
    """run.workers = 2: each block of replicas equals a single-process run of those replicas with
    the block's noise seed, and a resumed run continues exactly."""
    from brian_effplast import PlasticCircuit
    from brian_effplast.runs.parallel import block_seed, blocks
    model = write_model(tmp_path / "m.toml", SMALL["estimation"])  # numpy, 30 time units, checkpoints of 10
    a, b = tmp_path / "a", tmp_path / "b"
    assert run_cli("train", model, "--out", a, "--seed", 5, "--replicas", 3, "--workers", 2, "--quiet") == 0
    cfg = Config.from_toml(a / "config.toml")
    assert cfg.run.workers == 2 and json.loads((a / "summary.json").read_text())["workers"] == 2
    got = load_npz(a / "checkpoint.npz")
    initial = PlasticCircuit(cfg.replace(**{"run.workers": 1})).state
    idx_blocks = blocks(3, 2)
    assert [list(i) for i in idx_blocks] == [[0, 1], [2]]
    for k, idx in enumerate(idx_blocks):
        alone = PlasticCircuit(cfg.replace(**{"run.replicas": len(idx), "run.workers": 1}),
                               state={key: v[idx] for key, v in initial.items()}, seed=block_seed(5, k))
        curve = np.concatenate([alone.run(10.0)["curve"] for _ in range(3)], axis=1)
        for key in ("W", "C", "b", "D", "r", "W_bar"):
            np.testing.assert_array_equal(got[key][idx], alone.state[key], err_msg=f"{key}, block {k}")
        np.testing.assert_array_equal(got["curve"][idx], curve)
    assert block_seed(5, 1) != 5
    # stopped after 20 of 30 time units, then resumed: the same as the uninterrupted run
    assert run_cli("train", model, "--out", b, "--seed", 5, "--replicas", 3, "--workers", 2,
                   "--duration", 20, "--quiet") == 0
    (b / "config.toml").write_text((b / "config.toml").read_text().replace("duration = 20.0", "duration = 30.0"))
    summary = json.loads((b / "summary.json").read_text())
    (b / "summary.json").write_text(json.dumps(dict(summary, status="running", duration=30.0)))
    assert run_cli("resume", b, "--quiet") == 2  # an edited config is refused...
    assert run_cli("resume", b, "--quiet", "--accept-config-change") == 0  # ...unless accepted, and recorded
    change = json.loads((b / "summary.json").read_text())["config_changes"][0]
    assert change["t"] == 20.0 and change["changes"] == {"run.duration": [20.0, 30.0]}
    resumed = load_npz(b / "checkpoint.npz")
    for key in ("W", "C", "b", "D", "r", "curve"):
        np.testing.assert_array_equal(resumed[key], got[key], err_msg=key)


def test_figures_refuses_a_duration_whose_snapshot_falls_in_the_transient(tmp_path, capsys):
    """The mid-training snapshot is a fifth of the duration: at 100 it would be at 20, inside the
    40-time-unit transient. One clear error before anything runs, and nothing written."""
    out = tmp_path / "fig"
    assert cli.main(["figures", "--out", str(out), "--duration", "100", "--replicas", "1", "--target", "numpy"]) == 2
    err = capsys.readouterr().err
    assert "--duration 100 puts the mid-training snapshot at 20" in err and "at least 250" in err, err
    assert not out.exists()


def test_an_interrupt_cpython_masked_as_a_system_error_is_an_interrupt(monkeypatch, capsys):
    """A signal handler that raises while a C function calls back into Python (os.fspath calling
    __fspath__) makes CPython raise SystemError with the interrupt as its cause (seen with Ctrl-C
    at a checkpoint on a loaded machine): the command still reports the interrupt, status 128+n."""
    import signal

    from brian_effplast.errors import Interrupted, interrupts_unmasked

    def masked(args):
        try:
            raise Interrupted(signal.SIGTERM)
        except Interrupted as exc:
            raise SystemError("<built-in function fspath> returned a result with an exception set") from exc
    with pytest.raises(Interrupted):
        with interrupts_unmasked():
            masked(None)
    with pytest.raises(SystemError, match="other"):  # any other SystemError goes through
        with interrupts_unmasked():
            raise SystemError("other")
    monkeypatch.setitem(cli.COMMANDS, "info", masked)
    assert cli.main(["info", "somewhere"]) == 143
    err = capsys.readouterr().err
    assert "interrupted (SIGTERM)" in err and "SystemError" not in err

    def plain(args):  # Python's own KeyboardInterrupt (SIGINT's default handler)
        raise KeyboardInterrupt
    monkeypatch.setitem(cli.COMMANDS, "test", plain)
    assert cli.main(["test", "somewhere"]) == 130
    assert "interrupted (SIGINT); no test file was written" in capsys.readouterr().err
