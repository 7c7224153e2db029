"""The experiments behind the figures: which model each one trains, running
them at three stages and loading what they wrote.

:data:`EXPERIMENTS` names, for each experiment of Figs. 1-3 and S1, its
model file (under ``models/``), config overrides and seed (data, not
behaviour: what an experiment does comes from its config and its Task).
:func:`run_experiment` trains and tests one experiment at the stages
:data:`STAGES`::

    ROOT/<experiment>/init    untrained model (t = 0), test.npz
    ROOT/<experiment>/mid     snapshot after `mid` time units, test.npz
    ROOT/<experiment>/final   the whole training (mid continued with
                              runs.resume), test.npz, learning curve

:func:`load_all` reads them back for the panels (:mod:`brian_effplast.paper.figures`).
"""

import json
import time
from pathlib import Path

import numpy as np

from ..config.modelfiles import model_path

__all__ = ["EXPERIMENTS", "SIGMAS", "SIGMAS_LAMSCALED", "DEFAULTS", "QUICK", "STAGES", "mid_duration",
           "check_duration", "experiment_config", "TEST_KEYS", "describe_test", "run_experiment", "write_init_dir", "load_all", "check_reuse"]

#: experiment name -> (model file under models/, config overrides, seed)
EXPERIMENTS = {
    "estimation": ("estimation.toml", {}, 101),
    "classification": ("classification.toml", {}, 102),
    "estimation_narrow_prior": ("estimation_narrow_prior.toml", {}, 103),
    "classification_shifted_prior": ("classification_shifted_prior.toml", {}, 104),
    "sigma_0.1": ("noise_levels.toml", {"circuit.sigma": 0.1}, 105),
    # sigma = 0.2 is the "estimation" experiment (noise_levels.toml differs only in sigma)
    "sigma_0.33": ("noise_levels.toml", {"circuit.sigma": 0.33}, 106),
    "sigma_0.5": ("noise_levels.toml", {"circuit.sigma": 0.5}, 107),
    # the same sweep with the paper's lambda_W = sigma^2 lambda: lam_W, lam_C, lam_b as given at
    # sigma = 0.2 (so sigma = 0.2 is the "estimation" experiment again) and scaled by (sigma/0.2)^2
    "sigma_0.1_lamscaled": ("noise_levels.toml", {"circuit.sigma": 0.1, "plasticity.lam_sigma_ref": 0.2}, 108),
    "sigma_0.33_lamscaled": ("noise_levels.toml", {"circuit.sigma": 0.33, "plasticity.lam_sigma_ref": 0.2}, 109),
    "sigma_0.5_lamscaled": ("noise_levels.toml", {"circuit.sigma": 0.5, "plasticity.lam_sigma_ref": 0.2}, 110),
}
#: the noise sweep: sigma -> experiment (L2 constants fixed)
SIGMAS = {0.1: "sigma_0.1", 0.2: "estimation", 0.33: "sigma_0.33", 0.5: "sigma_0.5"}
#: the noise sweep with the L2 constants of W, C and b scaled by sigma^2
SIGMAS_LAMSCALED = {0.1: "sigma_0.1_lamscaled", 0.2: "estimation", 0.33: "sigma_0.33_lamscaled",
                    0.5: "sigma_0.5_lamscaled"}
#: replicas, training duration (time units) and test protocol (keyword arguments of
#: :func:`~brian_effplast.runs.protocol.run_test`) of every experiment: the paper's 20 networks and
#: training length, tested with the authors' protocol (100 trials of 5 stimuli of 200 time units
#: from the 12 input angles, a sample every 2 time units)
DEFAULTS = dict(replicas=20, duration=260000.0, protocol="authors", angles=12, hold=200.0, trials=100,
                record_every=200)
#: the same for ``brian-effplast figures --quick``: a few minutes in all; the authors' protocol shortened
#: to 20 trials of 5 stimuli of 40 time units (a sample every half time unit)
QUICK = dict(replicas=2, duration=3000.0, protocol="authors", angles=12, hold=40.0, trials=20, record_every=50)
#: the keys of :data:`DEFAULTS` that set the test protocol
TEST_KEYS = ("protocol", "angles", "hold", "trials", "record_every")
#: the stages of an experiment, one run directory each: untrained (t = 0), after
#: :func:`mid_duration` time units, and after the whole training
STAGES = ("init", "mid", "final")


def mid_duration(duration, curve_bin=10.0):
    """The mid-training snapshot: 10000 time units, or duration/5 when the
    training is shorter than 50000, rounded to whole learning-curve bins."""
    mid = 10000.0 if duration >= 50000.0 else duration / 5.0
    return max(curve_bin, round(mid / curve_bin) * curve_bin)


def check_duration(duration, replicas, target):
    """Refuse, before anything runs, a ``duration`` whose mid-training snapshot
    (:func:`mid_duration`) would not come after every experiment's learning transient."""
    from ..config import ConfigError
    mid = mid_duration(duration)
    for name in EXPERIMENTS:
        transient = experiment_config(name, replicas, target).run.transient
        if mid <= transient:
            shortest = 5 * (transient + 10.0)  # (mid_duration: a fifth, in whole 10-unit bins)
            raise ConfigError(f"figures: --duration {duration:g} puts the mid-training snapshot at {mid:g} "
                              f"time units, within the learning transient of {name} ({transient:g}): "
                              f"the duration must be at least {shortest:g}")


def _complete(run_dir, need_test=True):
    p = Path(run_dir)
    try:
        s = json.loads((p / "summary.json").read_text())
    except (OSError, ValueError):
        return False
    return s.get("status") == "complete" and (not need_test or (p / "test.npz").is_file())


def experiment_config(name, replicas, target):
    """The configuration of experiment ``name`` (:data:`EXPERIMENTS`) with ``replicas`` and ``target``."""
    from ..config import Config
    model_file, overrides, seed = EXPERIMENTS[name]
    cfg = Config.from_toml(model_path(model_file))
    upd = dict(overrides)
    upd.update({"run.replicas": int(replicas), "run.seed": int(seed), "run.target": target})
    return cfg.replace(**upd)


def write_init_dir(cfg, init_dir):
    """A run directory holding the initial (untrained) state at t = 0."""
    from ..runs import rundir
    init_dir = Path(init_dir)
    with rundir.writing(init_dir, create=True):
        _write_init_dir(cfg, init_dir)


def _write_init_dir(cfg, init_dir):
    from ..runs import rundir
    from ..circuit.model import PlasticCircuit
    model = PlasticCircuit(cfg)  # the same initial state runs.train draws for this seed
    rundir.write_text(init_dir / rundir.FILES["config"], cfg.to_toml_string())
    rundir.write_checkpoint(init_dir, model, 0, np.zeros((cfg.run.replicas, 0)))
    rundir.write_json(init_dir / rundir.FILES["summary"], {
        "status": "complete", "task": cfg.task, "target": cfg.run.target, "seed": cfg.run.seed,
        "replicas": cfg.run.replicas, "duration": 0.0, "t": 0.0, "steps_done": 0,
        "wall_seconds": 0.0, "note": "untrained initial state (written by brian_effplast.paper.figures)"})


def describe_test(test, r_init=0.1):
    """The test protocol of ``test`` (the :data:`TEST_KEYS` of :data:`DEFAULTS`) in words
    (:func:`~brian_effplast.runs.protocol.describe_protocol`), as every test.npz of the figures records it."""
    from ..runs.protocol import describe_protocol
    return describe_protocol(test["angles"], test["hold"], test.get("trials") or 1, "current", r_init,
                             test.get("protocol", "held"))


def run_experiment(name, root, replicas, duration, mid, test, target="cpp_standalone"):
    """Train and test one experiment at the three stages; returns (name, timings in s).

    ``test``: the test protocol, keyword arguments of :func:`~brian_effplast.runs.protocol.run_test`
    (the :data:`TEST_KEYS` of :data:`DEFAULTS`). Stages already complete (summary "complete" and
    test.npz present) are reused.
    """
    import warnings
    warnings.filterwarnings("ignore", category=DeprecationWarning)
    import brian2
    brian2.BrianLogger.log_level_error()
    from .. import runs
    root = Path(root) / name
    cfg = experiment_config(name, replicas, target)
    cfg = runs.resolve_config(cfg, duration=mid)
    timings = {}
    t0 = time.perf_counter()
    d_init, d_mid, d_final = (root / s for s in STAGES)
    if not _complete(d_init, need_test=False):
        write_init_dir(cfg, d_init)
    if not _complete(d_mid, need_test=False):
        from ..runs.rundir import clear_dir, writing
        with writing(d_mid, create=True):  # one writer per stage, from this check to its end
            if (d_mid / "checkpoint.npz").is_file() and \
                    json.loads((d_mid / "summary.json").read_text()).get("status") == "running":
                runs.resume(d_mid, quiet=True)
            else:
                clear_dir(d_mid)
                runs.train(cfg, d_mid, quiet=True)
    timings["train_mid"] = time.perf_counter() - t0
    t1 = time.perf_counter()
    if not _complete(d_final, need_test=False):
        from ..runs.rundir import writing
        with writing(d_final, create=True):
            _final_stage(d_mid, d_final, duration)
    timings["train_final"] = time.perf_counter() - t1
    for stage, d in zip(STAGES, (d_init, d_mid, d_final)):
        t2 = time.perf_counter()
        if not (d / "test.npz").is_file():
            runs.run_test(d, target=target, quiet=True, **test)
        timings[f"test_{stage}"] = time.perf_counter() - t2
    timings["total"] = time.perf_counter() - t0
    return name, timings


def _final_stage(d_mid, d_final, duration):
    """The whole training: mid continued (held under the caller's lock of ``d_final``)."""
    from .. import runs
    from ..runs.training import extend
    ok = False
    if (d_final / "summary.json").is_file():
        try:
            s = json.loads((d_final / "summary.json").read_text())
            ok = s.get("status") == "running" and float(s.get("duration", -1)) == float(duration)
        except (OSError, ValueError):
            ok = False
    if not ok:
        extend(d_mid, d_final, duration)
    runs.resume(d_final, quiet=True)


def _load_npz(path):
    with np.load(path, allow_pickle=False) as z:
        return {k: z[k] for k in z.files}


def load_all(root, complete_only=False):
    """``{experiment: {stage: test data, "curve", "config", "summary"}}``, what the panels read.

    ``complete_only=True`` leaves out the experiments whose stages are not all tested yet
    (e.g. to judge the claims of a run still in progress with
    :func:`brian_effplast.paper.verdicts.judge`, which skips the claims they are needed for).
    """
    from ..config import Config
    data = {}
    for name in EXPERIMENTS:
        if complete_only and not all((Path(root) / name / s / "test.npz").is_file() for s in STAGES):
            continue
        d = {}
        for stage in STAGES:
            d[stage] = _load_npz(Path(root) / name / stage / "test.npz")
        d["curve"] = _load_npz(Path(root) / name / "final" / "learning_curve.npz")
        d["config"] = Config.from_toml(Path(root) / name / "final" / "config.toml")
        d["summary"] = json.loads((Path(root) / name / "final" / "summary.json").read_text())
        data[name] = d
    return data


def check_reuse(root, R, T, protocol):
    """Refuse to mix runs of other settings found in ``root``: other replicas or duration
    (``R``, ``T``), or a test.npz of another protocol than ``protocol`` (:func:`describe_test`)."""
    from ..config import Config
    from ..errors import RunError
    for name in EXPERIMENTS:
        f = Path(root) / name / "final" / "config.toml"
        if f.is_file():
            cfg = Config.from_toml(f)
            if cfg.run.replicas != R or float(cfg.run.duration) != T:
                raise RunError(f"{f.parent} holds a run with {cfg.run.replicas} replica(s) x "
                               f"{cfg.run.duration:g} time units, not {R} x {T:g}: use another --out "
                               "(or the same settings)")
        for stage in STAGES:
            t = Path(root) / name / stage / "test.npz"
            if t.is_file():
                with np.load(t, allow_pickle=False) as z:
                    found = str(z["protocol"]) if "protocol" in z.files else f"{z['angles'].size} angles (unrecorded)"
                if found != protocol:
                    raise RunError(f"{t} was tested with \"{found}\", not \"{protocol}\": use another --out")
