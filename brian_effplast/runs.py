"""Run directories: train, checkpoint, resume, test and load a model.

A *run directory* holds one training run (``R`` replicas of one
configuration) in open formats (TOML, JSON, NumPy ``.npz``, PNG)::

    config.toml          the resolved configuration, including run.seed
    summary.json         status ("running", "interrupted", "failed",
                         "diverged" or "complete"), seed, target,
                         replicas, duration, steps, wall time, objective
                         before/after learning, versions, the config's
                         SHA-256 (config_sha256) and values (config)
    checkpoint.npz       the whole model state at the last checkpoint
                         (theta, r, W, C, b, D, W_bar, C_bar, r_bar,
                         replica first) + t (time units), seed, steps,
                         the learning curve so far and the SHA-256 of
                         all of these (sha256)
    checkpoint.prev.npz  the checkpoint before it (the fallback when the
                         newest is damaged)
    parameters.npz       final W (R, N, N), C (R, N, N_s), b (R, N),
                         D (R, n_out, N)  [written when complete]
    learning_curve.npz   curve (R, bins): mean reward per bin of
                         run.curve_bin time units; time (bins,): bin
                         centres, time units; curve_bin, transient, task
    learning_curve.png
    test.npz, tuning.png, outputs.png   [written by test()]

Every file is written atomically (temporary file in the same directory,
``fsync``, ``os.replace``), so a run killed at any moment leaves the
previous version of each file intact. A checkpoint that fails its checksum
(or cannot be read) is named, and :func:`resume` falls back to the
previous one. A run stopped by a signal records status "interrupted" and
keeps its last checkpoint; a chunk that did not simulate every step is
never saved (:class:`~brian_effplast.errors.Interrupted`). The
configuration may not change under a run: :func:`resume` refuses an
edited ``config.toml`` unless told to record the change.

Training is split into chunks at multiples of ``run.checkpoint_every``
(one chunk if 0); the model state is saved after every chunk. Because
:class:`~brian_effplast.model.PlasticCircuit` reseeds Brian2 at the start
of every run from ``(seed, step)``, a run resumed from a checkpoint gives
the same result as an uninterrupted run with the same chunking (same
target).
"""

import datetime
import hashlib
import json
import math
import os
import shutil
import signal
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np

from .config import Config, ConfigError, SEED_MAX, check_resources
from .errors import Diverged, Interrupted, RunError

__all__ = ["train", "resume", "test", "test_model", "test_angles", "test_scores", "objectives", "load", "info",
           "read_run", "resolve_config",
           "read_checkpoint", "RunError", "Diverged", "Interrupted", "SETTLE", "DIVERGENCE_LIMITS", "FILES",
           "STATUSES"]

#: Time units dropped at the start of each test angle (the circuit settles).
SETTLE = 10.0
#: A run has diverged when any parameter exceeds these magnitudes.
DIVERGENCE_LIMITS = {"W": 1e3, "C": 1e3, "b": 1e3, "D": 1e3}
#: Files of a run directory.
FILES = {
    "config": "config.toml",
    "summary": "summary.json",
    "checkpoint": "checkpoint.npz",
    "previous_checkpoint": "checkpoint.prev.npz",
    "parameters": "parameters.npz",
    "curve": "learning_curve.npz",
    "curve_png": "learning_curve.png",
    "test": "test.npz",
    "tuning_png": "tuning.png",
    "outputs_png": "outputs.png",
}
STATE_KEYS = ("theta", "r", "W", "C", "b", "D", "W_bar", "C_bar", "r_bar")
CHECKPOINT_KEYS = STATE_KEYS + ("t", "seed", "steps", "curve")
#: summary.json's status: a run that is not "complete" or "diverged" can be resumed.
STATUSES = ("running", "interrupted", "failed", "diverged", "complete")


# ---------------------------------------------------------------------------
# Files
# ---------------------------------------------------------------------------

def _get_umask():
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


_UMASK = _get_umask()


def _fsync_dir(path):
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def atomic_write(path, write, before_replace=None):
    """Write ``path`` atomically: ``write(fh)`` fills a binary temporary file
    in the same directory, which is fsynced and renamed over ``path``
    (``before_replace()``, if given, runs just before the rename)."""
    path = Path(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        try:
            os.fchmod(fd, 0o666 & ~_UMASK)  # mkstemp makes 0600; use the usual permissions
        except OSError:  # pragma: no cover
            pass
        with os.fdopen(fd, "wb") as fh:
            write(fh)
            fh.flush()
            os.fsync(fh.fileno())
        if before_replace is not None:
            before_replace()
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
    _fsync_dir(path.parent)


def _write_text(path, text):
    atomic_write(path, lambda fh: fh.write(text.encode("utf-8")))


def _write_json(path, data):
    _write_text(path, json.dumps(data, indent=2, sort_keys=False) + "\n")


def _write_npz(path, **arrays):
    atomic_write(path, lambda fh: np.savez(fh, **arrays))


def _write_figure(path, fig):
    atomic_write(path, lambda fh: fig.savefig(fh, format="png", dpi=120))


def _versions():
    import platform
    import brian2
    from . import __version__
    return {"brian_effplast": __version__, "brian2": brian2.__version__, "numpy": np.__version__,
            "python": platform.python_version()}


def _now():
    return datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")


# ---------------------------------------------------------------------------
# Configuration of a run
# ---------------------------------------------------------------------------

def _as_config(config):
    if isinstance(config, Config):
        return config
    if isinstance(config, (str, os.PathLike)):
        return Config.from_toml(config)
    raise TypeError(f"config = {config!r} is not allowed: must be a Config or the path of a TOML file")


def draw_seed():
    """A fresh random seed in [0, 2**32 - 1]."""
    return int(np.random.SeedSequence().entropy % (SEED_MAX + 1))


def resolve_config(config, *, duration=None, seed=None, target=None, replicas=None,
                   checkpoint_every=None, workers=None, source="arguments"):
    """The configuration of a training run, validated, with a seed.

    ``config`` is a :class:`Config` or a TOML path; the keyword arguments
    override ``run.*`` (``None`` keeps the file's value). A missing seed is
    drawn. Checks that the duration, checkpoint interval and learning-curve
    bin are whole numbers of steps and that the duration and checkpoint
    interval are whole numbers of curve bins.
    """
    cfg = _as_config(config)
    overrides = {k: v for k, v in (("duration", duration), ("seed", seed), ("target", target),
                                   ("replicas", replicas), ("checkpoint_every", checkpoint_every),
                                   ("workers", workers))
                 if v is not None}
    if overrides:
        d = cfg.to_dict()
        d["run"].update(overrides)
        cfg = Config.from_dict(d, source=source)
    if cfg.run.seed is None:
        cfg = cfg.replace(**{"run.seed": draw_seed()})
    _check_chunking(cfg)
    check_resources(cfg)  # refuses a model that cannot fit in memory
    return cfg


def _check_chunking(cfg):
    run = cfg.run
    src = getattr(cfg, "_source", "<Config>")
    n_total = cfg.steps(run.duration, "run.duration")
    n_bin = cfg.steps(run.curve_bin, "run.curve_bin")
    n_ce = cfg.steps(run.checkpoint_every, "run.checkpoint_every")
    if n_total % n_bin:
        raise ConfigError(f"{src}: run.duration = {run.duration!r} is not allowed: must be a whole "
                          f"number of learning-curve bins (run.curve_bin = {run.curve_bin!r})")
    if n_ce % n_bin:
        raise ConfigError(f"{src}: run.checkpoint_every = {run.checkpoint_every!r} is not allowed: "
                          f"must be 0 or a whole number of learning-curve bins "
                          f"(run.curve_bin = {run.curve_bin!r})")
    if cfg.steps(run.trial, "run.trial") % n_bin:
        raise ConfigError(f"{src}: run.trial = {run.trial!r} is not allowed: must be 0 or a whole number "
                          f"of learning-curve bins (run.curve_bin = {run.curve_bin!r})")
    return n_total, n_bin, n_ce


def _check_new_dir(out):
    out = Path(out)
    if out.exists():
        if not out.is_dir():
            raise RunError(f"output directory {out} exists and is not a directory")
        if any(out.iterdir()):
            raise RunError(f"output directory {out} exists and is not empty: "
                           "choose a new directory (or remove this one)")
    else:
        parent = out.resolve().parent
        while not parent.exists():
            parent = parent.parent
        if not os.access(parent, os.W_OK | os.X_OK):
            raise RunError(f"cannot create output directory {out}: {parent} is not writable")


# ---------------------------------------------------------------------------
# Progress
# ---------------------------------------------------------------------------

def _fmt_secs(s):
    if not math.isfinite(s):
        return "?"
    if s < 100:
        return f"{s:.0f} s"
    if s < 6000:
        return f"{s / 60:.0f} min"
    return f"{s / 3600:.1f} h"


class _Progress:
    """Progress lines on a stream: time units done, rate, time left."""

    def __init__(self, enabled, total_steps, start_steps, dt, stream=None):
        self.stream = stream if stream is not None else sys.stderr
        self.enabled = bool(enabled)
        self.tty = self.enabled and hasattr(self.stream, "isatty") and self.stream.isatty()
        self.total, self.start, self.dt = total_steps, start_steps, dt
        self.t0 = time.perf_counter()
        self._open = False

    def _line(self, done_steps, rate):
        done, total = done_steps * self.dt, self.total * self.dt
        left = (total - done) / rate if rate > 0 else float("nan")
        return (f"brian-effplast: {done:.0f}/{total:.0f} time units ({100 * done / total:.0f}%), "
                f"{rate:.0f} time units/s, {_fmt_secs(left)} left")

    def _print(self, text):
        if self.tty:
            self.stream.write("\r\x1b[K" + text)
            self._open = True
        else:
            self.stream.write(text + "\n")
        self.stream.flush()

    def message(self, text):
        if self.enabled:
            self.close()
            self.stream.write(text + "\n")
            self.stream.flush()

    def chunk_done(self, done_steps):
        """At a checkpoint: the rate of the last chunk (the first one includes
        compilation), and the total at the end."""
        if not self.enabled:
            return
        now = time.perf_counter()
        last_t, last_steps = getattr(self, "_last", (self.t0, self.start))
        self._last = (now, done_steps)
        wall = now - self.t0
        if done_steps >= self.total:
            rate = (done_steps - self.start) * self.dt / wall if wall > 0 else 0.0
            self._print(f"brian-effplast: {(done_steps - self.start) * self.dt:.0f} time units done in "
                        f"{wall:.1f} s ({rate:.0f} time units/s)")
        else:
            rate = (done_steps - last_steps) * self.dt / (now - last_t) if now > last_t else 0.0
            self._print(self._line(done_steps, rate))

    def close(self):
        if self._open:
            self.stream.write("\n")
            self.stream.flush()
            self._open = False

    def reporter(self, chunk_start, chunk_steps, target):
        """The ``report`` argument of a run of ``chunk_steps`` steps (runtime
        targets), or None."""
        if not self.enabled:
            return None
        if target != "cpp_standalone":
            def report(elapsed, completed, start, duration):
                elapsed = float(np.asarray(elapsed))
                completed = float(completed)
                rate = completed * chunk_steps * self.dt / elapsed if elapsed > 0 else 0.0
                if 0 < completed < 0.999:  # the end of a chunk is reported by chunk_done
                    self._print(self._line(chunk_start + completed * chunk_steps, rate))
            return report
        # cpp_standalone: the model runs a compiled project (cached across runs and
        # processes, so nothing chunk-specific may be compiled into it); progress
        # is reported at the chunk (checkpoint) boundaries.
        return None


# ---------------------------------------------------------------------------
# Training
# ---------------------------------------------------------------------------

def objectives(curve, cfg):
    """Mean reward over the first and last 10% of the training after the
    transient, averaged over replicas: ``(initial, final)`` (None if empty)."""
    curve = np.asarray(curve, dtype=float)
    if curve.ndim != 2 or curve.shape[1] == 0:
        return None, None
    starts = np.arange(curve.shape[1]) * cfg.run.curve_bin
    after = curve[:, starts >= cfg.run.transient - 1e-9 * cfg.run.curve_bin]
    n = after.shape[1]
    if n == 0:
        return None, None
    m = max(1, int(round(0.1 * n)))
    return float(np.mean(after[:, :m])), float(np.mean(after[:, -m:]))


def _summary_objectives(summary, curve, cfg):
    ini, fin = objectives(curve, cfg)
    summary["objective_initial"], summary["objective_final"] = ini, fin
    if cfg.task == "estimation":
        summary["mse_initial"] = None if ini is None else -ini
        summary["mse_final"] = None if fin is None else -fin


def _check_divergence(state):
    for key, limit in DIVERGENCE_LIMITS.items():
        x = np.asarray(state[key])
        if not np.all(np.isfinite(x)):
            return f"{key} is not finite"
        m = float(np.max(np.abs(x))) if x.size else 0.0
        if m > limit:
            return f"max |{key}| = {m:.3g} exceeds {limit:g}"
    return None


def _checksum(arrays):
    """SHA-256 of named arrays: names, dtypes, shapes and bytes, in name order."""
    h = hashlib.sha256()
    for key in sorted(arrays):
        a = np.ascontiguousarray(arrays[key])
        h.update(f"{key}|{a.dtype.str}|{a.shape}|".encode())
        h.update(a.tobytes())
    return h.hexdigest()


def _write_checkpoint(run_dir, model, steps, curve):
    """The newest checkpoint; the one it replaces becomes checkpoint.prev.npz."""
    arrays = {k: np.asarray(model.state[k]) for k in STATE_KEYS}
    arrays.update(t=np.float64(model.t), steps=np.int64(steps), seed=np.int64(model.seed),
                  curve=np.asarray(curve, dtype=float))
    arrays["sha256"] = np.str_(_checksum(arrays))
    path, prev = Path(run_dir) / FILES["checkpoint"], Path(run_dir) / FILES["previous_checkpoint"]

    def keep_previous():
        if path.is_file():
            os.replace(path, prev)
    atomic_write(path, lambda fh: np.savez(fh, **arrays), before_replace=keep_previous)


class Checkpoint(dict):
    """The arrays of a checkpoint file (:data:`CHECKPOINT_KEYS`), with
    ``path`` (the file read) and ``fallback`` (why the newest checkpoint was
    not used, or None)."""

    path = None
    fallback = None


def read_checkpoint(path):
    """The arrays of checkpoint file ``path``, checked against its checksum.

    Raises :class:`RunError` naming the file and what is wrong with it
    (missing, unreadable, truncated, missing arrays, checksum mismatch).
    """
    path = Path(path)
    try:
        with np.load(path, allow_pickle=False) as z:
            ckpt = Checkpoint({k: z[k] for k in z.files})
    except FileNotFoundError:
        raise RunError(f"{path}: no such checkpoint") from None
    except Exception as exc:  # truncated or corrupted zip, bad header, bad CRC...
        raise RunError(f"{path}: damaged checkpoint: cannot read it ({type(exc).__name__}: {exc})") from None
    missing = [k for k in CHECKPOINT_KEYS if k not in ckpt]
    if missing:
        raise RunError(f"{path}: damaged checkpoint: arrays {', '.join(missing)} are missing")
    stored = str(ckpt.pop("sha256", ""))
    if stored and stored != _checksum(ckpt):  # (checkpoints of version 0.1.0 have no checksum)
        raise RunError(f"{path}: damaged checkpoint: its contents do not match its SHA-256 checksum")
    ckpt.path = path
    return ckpt


def _read_checkpoints(run_dir):
    """The newest readable checkpoint of a run directory (see :func:`read_run`)."""
    newest, prev = run_dir / FILES["checkpoint"], run_dir / FILES["previous_checkpoint"]
    try:
        return read_checkpoint(newest)
    except RunError as exc:
        problem = str(exc)
    if not prev.is_file():
        raise RunError(problem + " (and there is no previous checkpoint to fall back to)")
    try:
        ckpt = read_checkpoint(prev)
    except RunError as exc:
        raise RunError(f"{problem}; the previous checkpoint is no better: {exc}") from None
    ckpt.fallback = f"{problem}; using the previous checkpoint {prev.name} (t = {float(ckpt['t']):g})"
    return ckpt


def _config_record(cfg, text):
    """What summary.json keeps of the configuration, to detect edits."""
    return {"config_sha256": hashlib.sha256(text.encode("utf-8")).hexdigest(), "config": cfg.to_dict()}


def _config_edits(run_dir, cfg, summary):
    """``{"section.key": [value at the start, value now]}`` when config.toml
    was edited since the summary recorded it (None if not)."""
    text = (run_dir / FILES["config"]).read_text(encoding="utf-8")
    recorded = summary.get("config_sha256")
    if recorded is None or recorded == _config_record(cfg, text)["config_sha256"]:
        return None
    old, new = summary.get("config") or {}, cfg.to_dict()
    changes = {}
    for section, values in new.items():
        if not isinstance(values, dict):
            if old.get(section) != values:
                changes[section] = [old.get(section), values]
            continue
        for key, value in values.items():
            before = (old.get(section) or {}).get(key)
            if before != value:
                changes[f"{section}.{key}"] = [before, value]
    return changes or {"config.toml": ["(as recorded)", "(edited: same values, different text)"]}


def _write_curve(run_dir, cfg, curve):
    from . import plotting
    curve = np.asarray(curve, dtype=float)
    time_ = (np.arange(curve.shape[1]) + 0.5) * cfg.run.curve_bin
    _write_npz(Path(run_dir) / FILES["curve"], curve=curve, time=time_,
               curve_bin=np.float64(cfg.run.curve_bin), transient=np.float64(cfg.run.transient),
               task=np.str_(cfg.task))
    if curve.shape[1]:
        fig = plotting.learning_curve(curve, cfg.run.curve_bin, cfg.task, transient=cfg.run.transient)
        _write_figure(Path(run_dir) / FILES["curve_png"], fig)


def train(config, out_dir, *, duration=None, seed=None, target=None, replicas=None,
          checkpoint_every=None, workers=None, quiet=False, source="arguments", stream=None, model_file=None):
    """Train a model and write a run directory.

    Parameters
    ----------
    config : Config or path
        The model (a :class:`Config` or a TOML file).
    out_dir : path
        The run directory: created; must not exist or be empty.
    duration, seed, target, replicas, checkpoint_every, workers : optional
        Override ``run.*`` of the configuration (time units for durations).
        With ``workers > 1`` the replicas are spread over that many
        processes (:class:`~brian_effplast.parallel.ReplicaPool`).
    quiet : bool
        No progress output.

    Returns
    -------
    dict
        The summary (as written to ``summary.json``).

    Raises
    ------
    ConfigError, RunError
        Bad configuration or output directory (nothing is created).
    Diverged
        A parameter became non-finite or too large; the run directory keeps
        the last good checkpoint and ``summary.json`` says when and what.
    """
    if model_file is None and isinstance(config, (str, os.PathLike)):
        model_file = os.fspath(config)
    cfg = resolve_config(config, duration=duration, seed=seed, target=target, replicas=replicas,
                         checkpoint_every=checkpoint_every, workers=workers, source=source)
    out = Path(out_dir)
    _check_new_dir(out)
    model = _trainer(cfg)  # draws the initial state; nothing is built yet
    created = not out.exists()
    out.mkdir(parents=True, exist_ok=True)
    text = cfg.to_toml_string()
    _write_text(out / FILES["config"], text)
    summary = {
        "status": "running",
        "task": cfg.task,
        "target": cfg.run.target,
        "seed": cfg.run.seed,
        "replicas": cfg.run.replicas,
        "workers": cfg.run.workers,
        "duration": cfg.run.duration,
        "steps": cfg.steps(cfg.run.duration, "run.duration"),
        "dt": cfg.circuit.dt,
        "transient": cfg.run.transient,
        "checkpoint_every": cfg.run.checkpoint_every,
        "curve_bin": cfg.run.curve_bin,
        "t": 0.0,
        "steps_done": 0,
        "wall_seconds": 0.0,
        "objective_initial": None,
        "objective_final": None,
        "model_file": None if model_file is None else os.path.abspath(model_file),
        "created": _now(),
        "updated": _now(),
        "sessions": 1,
        "versions": _versions(),
        **_config_record(cfg, text),
    }
    if cfg.task == "estimation":
        summary["mse_initial"] = summary["mse_final"] = None
    curve = np.zeros((cfg.run.replicas, 0))
    try:
        _write_checkpoint(out, model, 0, curve)
        _write_json(out / FILES["summary"], summary)
        return _continue(out, cfg, model, curve, summary, quiet=quiet, stream=stream)
    except (Exception, KeyboardInterrupt) as exc:
        if isinstance(exc, (Diverged, KeyboardInterrupt)) or _checkpoint_steps(out) > 0:
            raise  # the run directory holds something to resume or to look at
        # failed before the first chunk was saved (e.g. the compiler or the disk):
        # nothing to keep, and the same command can simply be run again
        if created:
            shutil.rmtree(out, ignore_errors=True)
        else:
            for child in out.iterdir():
                shutil.rmtree(child) if child.is_dir() else child.unlink()
        raise


def _checkpoint_steps(run_dir):
    """Steps saved in the run directory's checkpoints (0 if none can be read)."""
    try:
        return int(_read_checkpoints(Path(run_dir))["steps"])
    except RunError:
        return 0


def _continue(run_dir, cfg, model, curve, summary, quiet=False, stream=None):
    dt = cfg.circuit.dt
    total, n_bin, n_ce = _check_chunking(cfg)
    n_ce = n_ce or total
    done = int(round(model.t / dt))
    wall_before = float(summary.get("wall_seconds", 0.0))
    t_start = time.perf_counter()
    progress = _Progress(not quiet, total, done, dt, stream)
    for warning in check_resources(cfg):  # a run that would take days
        (sys.stderr if stream is None else stream).write(f"brian-effplast: warning: {warning}\n")
    what = "resuming" if done else "training"
    spread = f" in {cfg.run.workers} processes" if cfg.run.workers > 1 else ""
    progress.message(f"brian-effplast: {what} {cfg.task} ({cfg.run.replicas} replica(s){spread}, seed {model.seed}, "
                     f"target {cfg.run.target}) from t = {done * dt:g} to {total * dt:g} time units "
                     f"-> {run_dir}")
    try:
        while done < total:
            end = min(total, (done // n_ce + 1) * n_ce)
            n = end - done
            reason = None
            try:
                with np.errstate(over="ignore", invalid="ignore", divide="ignore"):  # checked below
                    out = model.run(n * dt, plastic=True, record=(),
                                    report=progress.reporter(done, n, cfg.run.target))
            except FloatingPointError as exc:
                reason = str(exc)
            else:
                reason = _check_divergence(model.state)
            if reason is not None:
                progress.close()
                summary.update(status="diverged", wall_seconds=wall_before + time.perf_counter() - t_start,
                               updated=_now(),
                               diverged={"what": reason, "during": [done * dt, end * dt],
                                         "last_good_checkpoint": done * dt})
                _summary_objectives(summary, curve, cfg)
                _write_json(Path(run_dir) / FILES["summary"], summary)
                _write_curve(run_dir, cfg, curve)
                raise Diverged(f"training diverged between t = {done * dt:g} and {end * dt:g} time units "
                               f"({reason}); the last good checkpoint (t = {done * dt:g}) is kept in "
                               f"{run_dir}", run_dir, summary)
            curve = np.concatenate([curve, out["curve"]], axis=1)
            _write_checkpoint(run_dir, model, end, curve)
            done = end
            summary.update(t=done * dt, steps_done=done, updated=_now(),
                           wall_seconds=wall_before + time.perf_counter() - t_start)
            if done < total:
                _write_json(Path(run_dir) / FILES["summary"], summary)
            progress.chunk_done(done)
    except KeyboardInterrupt as exc:
        signum = getattr(exc, "signum", signal.SIGINT)
        progress.close()
        kept = _checkpoint_steps(run_dir) * dt
        summary.update(status="interrupted", t=kept, steps_done=int(round(kept / dt)), updated=_now(),
                       wall_seconds=wall_before + time.perf_counter() - t_start,
                       interrupted={"signal": signal.Signals(signum).name, "at_checkpoint": kept})
        _write_json(Path(run_dir) / FILES["summary"], summary)
        raise Interrupted(signum, f"training interrupted by {signal.Signals(signum).name}; the last checkpoint "
                          f"(t = {kept:g} of {total * dt:g} time units) is kept in {run_dir}",
                          run_dir=run_dir, t=kept) from None
    except Diverged:
        raise
    except Exception as exc:
        summary.update(status="failed", updated=_now(), wall_seconds=wall_before + time.perf_counter() - t_start,
                       failed={"error": f"{type(exc).__name__}: {exc}"[:2000],
                               "at_checkpoint": _checkpoint_steps(run_dir) * dt})
        _write_json(Path(run_dir) / FILES["summary"], summary)
        raise
    finally:
        progress.close()
        if hasattr(model, "close"):  # a ReplicaPool's processes
            model.close()
    # complete (also reached when a run was killed after its last checkpoint)
    W, C, b, D = (np.asarray(model.state[k]) for k in ("W", "C", "b", "D"))
    _write_npz(Path(run_dir) / FILES["parameters"], W=W, C=C, b=b, D=D)
    _write_curve(run_dir, cfg, curve)
    _summary_objectives(summary, curve, cfg)
    summary.update(status="complete", t=done * dt, steps_done=done, updated=_now(),
                   wall_seconds=wall_before + time.perf_counter() - t_start)
    _write_json(Path(run_dir) / FILES["summary"], summary)
    return summary


# ---------------------------------------------------------------------------
# Reading a run directory
# ---------------------------------------------------------------------------

def read_run(run_dir, need_checkpoint=True):
    """``(config, summary, checkpoint)`` of a run directory.

    ``checkpoint`` is a :class:`Checkpoint` (a dict of arrays): the newest
    one that passes its checksum, falling back to ``checkpoint.prev.npz``
    when the newest is damaged (``checkpoint.fallback`` says so). Raises
    :class:`RunError` if it is not a valid run or no checkpoint can be read;
    with ``need_checkpoint=False`` the checkpoint is None then.
    """
    run_dir = Path(run_dir)
    if not run_dir.is_dir():
        raise RunError(f"{run_dir} is not a directory (expected a run directory written by "
                       "'brian-effplast train')")
    for key in ("config", "summary"):
        if not (run_dir / FILES[key]).is_file():
            raise RunError(f"{run_dir} is not a brian-effplast run directory: {FILES[key]} is missing")
    cfg = Config.from_toml(run_dir / FILES["config"])
    try:
        summary = json.loads((run_dir / FILES["summary"]).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise RunError(f"{run_dir / FILES['summary']}: cannot read: {exc}") from exc
    if not isinstance(summary, dict) or summary.get("status") not in STATUSES:
        raise RunError(f"{run_dir / FILES['summary']}: not a run summary (no valid 'status')")
    if cfg.run.seed is None:
        raise RunError(f"{run_dir / FILES['config']}: run.seed is missing (not a resolved run configuration)")
    try:
        ckpt = _read_checkpoints(run_dir)
    except RunError:
        if need_checkpoint:
            raise
        ckpt = None
    if ckpt is not None:
        path = ckpt.path
        if int(ckpt["seed"]) != cfg.run.seed:
            raise RunError(f"{path}: seed {int(ckpt['seed'])} does not match run.seed = {cfg.run.seed} "
                           f"in {FILES['config']}")
    return cfg, summary, ckpt


def _trainer(cfg, ckpt=None):
    """What trains: a PlasticCircuit, or a ReplicaPool when run.workers > 1."""
    kwargs = {} if ckpt is None else dict(state={k: ckpt[k] for k in STATE_KEYS}, t=float(ckpt["t"]),
                                          seed=int(ckpt["seed"]))
    if cfg.run.workers > 1:
        from .parallel import ReplicaPool
        return ReplicaPool(cfg, cfg.run.workers, **kwargs)
    from .model import PlasticCircuit
    return PlasticCircuit(cfg, **kwargs)


def _model_from(cfg, ckpt, **kwargs):
    from .model import PlasticCircuit
    state = {k: ckpt[k] for k in STATE_KEYS}
    return PlasticCircuit(cfg, state=state, t=float(ckpt["t"]), seed=int(ckpt["seed"]), **kwargs)


def resume(out_dir, *, accept_config_change=False, quiet=False, stream=None):
    """Continue an interrupted, killed or failed run from its last good checkpoint.

    Returns the summary; a complete run is returned unchanged (its summary
    gets ``"already_complete": True`` in the returned dict only). A damaged
    newest checkpoint is set aside as ``checkpoint.damaged.npz`` and the run
    continues from the previous one (said on ``stream``). A ``config.toml``
    edited since the run started is refused with what changed, unless
    ``accept_config_change``: then the change is recorded in the summary
    (``config_changes``) and the run continues with the new values.
    """
    run_dir = Path(out_dir)
    cfg, summary, ckpt = read_run(run_dir)
    if summary["status"] == "complete":
        return dict(summary, already_complete=True)
    edits = _config_edits(run_dir, cfg, summary)
    if edits and not accept_config_change:
        listed = "; ".join(f"{k}: {_show(v[0])} -> {_show(v[1])}" for k, v in edits.items())
        raise RunError(f"{run_dir / FILES['config']} was edited after the run started ({listed}): resuming "
                       "would mix two configurations in one run. Undo the edit, train a new run, or resume "
                       "with --accept-config-change (Python: accept_config_change=True) to record the change")
    if summary["status"] == "diverged":
        d = summary.get("diverged", {})
        raise RunError(f"{run_dir} diverged ({d.get('what', '?')}); resuming would diverge again: "
                       "change the configuration and train a new run")
    total = cfg.steps(cfg.run.duration, "run.duration")
    steps = int(ckpt["steps"])
    if not 0 <= steps <= total or abs(steps * cfg.circuit.dt - float(ckpt["t"])) > 1e-6 * max(1.0, steps):
        raise RunError(f"{run_dir / FILES['checkpoint']}: t = {float(ckpt['t'])} is not a step count "
                       f"in [0, {total}] steps")
    curve = np.asarray(ckpt["curve"], dtype=float)
    bins = steps // cfg.steps(cfg.run.curve_bin, "run.curve_bin")
    if curve.shape != (cfg.run.replicas, bins):
        raise RunError(f"{run_dir / FILES['checkpoint']}: learning curve has shape {curve.shape}, "
                       f"expected {(cfg.run.replicas, bins)}")
    try:
        model = _trainer(cfg, ckpt)
    except ValueError as exc:
        raise RunError(f"{ckpt.path}: {exc}") from exc
    if ckpt.fallback:
        if (run_dir / FILES["checkpoint"]).exists():
            os.replace(run_dir / FILES["checkpoint"], run_dir / "checkpoint.damaged.npz")
        os.replace(ckpt.path, run_dir / FILES["checkpoint"])
        summary.setdefault("checkpoint_fallbacks", []).append({"at": _now(), "reason": ckpt.fallback})
        if not quiet:
            (sys.stderr if stream is None else stream).write(
                f"brian-effplast: warning: {ckpt.fallback}; the damaged file is kept as checkpoint.damaged.npz\n")
    if edits:
        text = (run_dir / FILES["config"]).read_text(encoding="utf-8")
        summary.setdefault("config_changes", []).append({"at": _now(), "t": float(ckpt["t"]), "changes": edits})
        summary.update(_config_record(cfg, text), duration=cfg.run.duration, steps=total)
    summary.pop("failed", None)
    summary.pop("interrupted", None)
    summary.update(status="running", t=float(ckpt["t"]), steps_done=steps,
                   sessions=int(summary.get("sessions", 1)) + 1, updated=_now(), versions=_versions())
    _write_json(run_dir / FILES["summary"], summary)
    return _continue(run_dir, cfg, model, curve, summary, quiet=quiet, stream=stream)


def _show(value):
    return "(none)" if value is None else json.dumps(value)


def load(run_dir, target=None, **kwargs):
    """A :class:`PlasticCircuit` continuing from a run's last checkpoint.

    ``target`` chooses the code-generation target (default: the run's);
    other keyword arguments go to :class:`PlasticCircuit` (e.g. ``noise``).
    """
    cfg, summary, ckpt = read_run(run_dir)
    if ckpt.fallback:
        warnings.warn(ckpt.fallback, stacklevel=2)
    if target is not None:
        cfg = cfg.replace(**{"run.target": target})
    return _model_from(cfg, ckpt, **kwargs)


# ---------------------------------------------------------------------------
# Test protocol
# ---------------------------------------------------------------------------

def test_angles(K):
    """``-pi + 2 pi k / K``, ``k = 0 .. K-1``."""
    return -np.pi + 2 * np.pi * np.arange(K) / K


def _test_samples(cfg, hold):
    """Steps of a held stimulus, sample times and which samples are kept (after SETTLE)."""
    every = cfg.test.record_every
    n_hold = cfg.steps(hold, "test.hold")
    # sample i is recorded at the end of step i*every: the state at (i*every + 1)*dt
    times = (np.arange(-(-n_hold // every)) * every + 1) * cfg.circuit.dt
    keep = times > SETTLE + 1e-9
    if keep.sum() < 2:
        raise ConfigError(f"arguments: test.hold = {hold!r} is not allowed: must leave at least 2 "
                          f"samples (every test.record_every = {every} steps) after the first {SETTLE:g} "
                          f"time units (settling)")
    return n_hold, times, keep


def test_model(model, angles=None, hold=None, target=None):
    """The test protocol on a model in memory (:class:`~brian_effplast.model.PlasticCircuit`).

    Every replica is presented each of ``angles`` test angles (default
    ``config.test.angles``, at ``-pi + 2 pi k / K``) for ``hold`` time units
    (default ``config.test.hold``), with plasticity off and the stimulus held
    (``sigma_s = 0``); rates and outputs are recorded every
    ``config.test.record_every`` steps and the first :data:`SETTLE` time units
    dropped. All ``R * K`` (replica, angle) pairs run in parallel as
    independent copies of the model, from its current state; ``model`` itself
    is not changed.

    Returns the test data: ``angles (K,)``, ``rates (R, K, S, N)``,
    ``outputs (R, K, S, n_out)``, ``W, C, b, D`` and the prior (the layout
    of ``test.npz`` and of :mod:`brian_effplast.analysis`).
    """
    from .model import PlasticCircuit
    from .stimulus import stationary_kappa
    cfg = model.config
    K = cfg.test.angles if angles is None else angles
    hold = cfg.test.hold if hold is None else hold
    if isinstance(K, bool) or int(K) != K or K < 1:
        raise ValueError(f"angles = {K!r} is not allowed: must be an integer >= 1")
    dt, R, every = cfg.circuit.dt, model.R, cfg.test.record_every
    n_hold, times, keep = _test_samples(cfg, hold)
    theta = test_angles(int(K))
    state = {k: np.repeat(np.asarray(model.state[k]), K, axis=0) for k in STATE_KEYS}
    state["theta"] = np.tile(theta, R)  # replica r, angle k -> r*K + k
    # no trial resets in the test: it starts from the model's current state
    tcfg = cfg.replace(**{"stimulus.sigma_s": 0.0, "run.replicas": R * int(K), "run.trial": 0.0, "run.workers": 1})
    tester = PlasticCircuit(tcfg, task=model.task, fi_curve=model.fi_curve, state=state, t=model.t,
                            seed=model.seed, target=target or model.target)
    rec = tester.run(n_hold * dt, plastic=False, record=("r", "y"), record_every=every)
    N, n_out = model.N, model.n_out
    r = rec["r"][:len(times)][keep]  # (S, R*K, N)
    y = rec["y"][:len(times)][keep]  # (S, R*K, n_out)
    S = r.shape[0]
    return dict(angles=theta, rates=r.reshape(S, R, int(K), N).transpose(1, 2, 0, 3),
                outputs=y.reshape(S, R, int(K), n_out).transpose(1, 2, 0, 3),
                **{k: np.asarray(model.state[k]).copy() for k in ("W", "C", "b", "D")},
                task=np.str_(model.task.name), t=np.float64(model.t), hold=np.float64(hold),
                settle=np.float64(SETTLE), sample_dt=np.float64(every * dt),
                prior_mu=np.float64(cfg.stimulus.mu),
                prior_kappa=np.float64(stationary_kappa(cfg.stimulus.kappa)),
                seed=np.int64(model.seed))


def test(run_dir, out=None, angles=None, hold=None, target=None, *, quiet=False, stream=None):
    """The test protocol (:func:`test_model`) on the last checkpoint of a run directory.

    Writes ``test.npz`` (the data :func:`test_model` returns), ``tuning.png``
    and ``outputs.png`` to ``out`` (default: the run directory). ``angles``,
    ``hold`` and ``target`` override the run's ``test.angles``,
    ``test.hold`` and ``run.target``. Returns a dict with the file paths and
    a few test numbers.
    """
    run_dir = Path(run_dir)
    cfg, summary, ckpt = read_run(run_dir)
    overrides = {k: v for k, v in (("test.angles", angles), ("test.hold", hold), ("run.target", target))
                 if v is not None}
    if overrides:
        d = cfg.to_dict()
        for key, value in overrides.items():
            sec, name = key.split(".")
            d[sec][name] = value
        cfg = Config.from_dict(d, source="arguments")
    out_dir = Path(out) if out is not None else run_dir
    if out_dir.exists() and not out_dir.is_dir():
        raise RunError(f"output directory {out_dir} exists and is not a directory")
    model = _model_from(cfg, ckpt)
    _test_samples(cfg, cfg.test.hold)  # a bad hold is reported before anything is written
    if not quiet:
        s = sys.stderr if stream is None else stream
        if ckpt.fallback:
            s.write(f"brian-effplast: warning: {ckpt.fallback}\n")
        s.write(f"brian-effplast: testing {run_dir} (t = {float(ckpt['t']):g}, status {summary['status']}): "
                f"{cfg.test.angles} angles x {cfg.test.hold:g} time units, {cfg.run.replicas} replica(s), "
                f"target {cfg.run.target}\n")
        s.flush()
    data = test_model(model)
    out_dir.mkdir(parents=True, exist_ok=True)
    _write_npz(out_dir / FILES["test"], **data)
    from . import plotting
    _write_figure(out_dir / FILES["tuning_png"], plotting.population_tuning(data))
    _write_figure(out_dir / FILES["outputs_png"], plotting.output_distributions(data, cfg.task))
    result = {"test": str(out_dir / FILES["test"]), "tuning": str(out_dir / FILES["tuning_png"]),
              "outputs": str(out_dir / FILES["outputs_png"]), "angles": cfg.test.angles,
              "samples": data["rates"].shape[2]}
    result.update(test_scores(data, cfg.task))
    return result


def test_scores(data, task):
    """Simple test numbers, averaged over replicas, samples and test angles
    (uniformly, and weighted by the stimulus prior when ``data`` has
    ``prior_mu`` / ``prior_kappa``): estimation ``mse`` / ``mse_prior`` (of
    ``||y - (cos, sin)||^2``), classification ``accuracy`` /
    ``accuracy_prior`` (fraction of samples with ``(y >= 0) == (theta >= 0)``)."""
    angles, y = np.asarray(data["angles"]), np.asarray(data["outputs"])
    if task == "estimation":
        name = "mse"
        target = np.stack([np.cos(angles), np.sin(angles)], axis=-1)[None, :, None, :]
        per_angle = np.mean(np.sum((y - target) ** 2, axis=-1), axis=(0, 2))
    else:
        name = "accuracy"
        cls = (angles >= 0)[None, :, None]
        per_angle = np.mean((y[..., 0] >= 0) == cls, axis=(0, 2))
    out = {name: float(np.mean(per_angle))}
    if "prior_mu" in data and "prior_kappa" in data:
        w = np.exp(float(data["prior_kappa"]) * (np.cos(angles - float(data["prior_mu"])) - 1.0))
        out[name + "_prior"] = float(np.sum(w * per_angle) / np.sum(w))
    return out


# keep pytest from collecting these functions when the module is imported in tests
test.__test__ = False
test_angles.__test__ = False
test_scores.__test__ = False


# ---------------------------------------------------------------------------
# Info
# ---------------------------------------------------------------------------

def info(run_dir):
    """A human-readable description of a run directory."""
    run_dir = Path(run_dir)
    cfg, s, ckpt = read_run(run_dir, need_checkpoint=False)
    lines = [f"{run_dir}: {s['status']}"]
    lines.append(f"  task        {cfg.task} (N = {cfg.circuit.N}, sigma = {cfg.circuit.sigma:g}, "
                 f"prior mu = {cfg.stimulus.mu:g}, kappa = {cfg.stimulus.kappa:g})")
    t_done = float(ckpt["t"]) if ckpt is not None else float(s.get("t", 0.0))
    steps_done = int(ckpt["steps"]) if ckpt is not None else s.get("steps_done", 0)
    lines.append(f"  progress    {t_done:g} / {cfg.run.duration:g} time units "
                 f"({steps_done} / {s.get('steps', '?')} steps)"
                 + (" at the last checkpoint" if s["status"] != "complete" else ""))
    if ckpt is None:
        try:
            _read_checkpoints(run_dir)
        except RunError as exc:
            lines.append(f"  checkpoint  NONE USABLE: {exc}")
    elif ckpt.fallback:
        lines.append(f"  checkpoint  {ckpt.fallback}")
    else:
        lines.append(f"  checkpoint  {ckpt.path.name} verified (SHA-256)"
                     + (f"; previous one kept in {FILES['previous_checkpoint']}"
                        if (run_dir / FILES["previous_checkpoint"]).is_file() else ""))
    edits = _config_edits(run_dir, cfg, s)
    if edits:
        lines.append("  config      EDITED since the run started: "
                     + "; ".join(f"{k}: {_show(v[0])} -> {_show(v[1])}" for k, v in edits.items()))
    for change in s.get("config_changes", []):
        lines.append(f"  config      changed at t = {change['t']:g}: "
                     + "; ".join(f"{k}: {_show(v[0])} -> {_show(v[1])}" for k, v in change["changes"].items()))
    lines.append(f"  seed        {cfg.run.seed}")
    ce = cfg.run.checkpoint_every
    lines.append(f"  target      {cfg.run.target}, {cfg.run.replicas} replica(s), "
                 + (f"checkpoint every {ce:g} time units" if ce else "checkpoint only at the end"))
    wall = float(s.get("wall_seconds", 0.0))
    rate = f" ({s.get('t', 0) / wall:.0f} time units/s)" if wall > 0 else ""
    lines.append(f"  wall time   {wall:.1f} s{rate} in {s.get('sessions', 1)} session(s)")
    if s.get("objective_initial") is not None:
        if cfg.task == "estimation":
            lines.append(f"  MSE         {s['mse_initial']:.4g} -> {s['mse_final']:.4g} "
                         "(first -> last 10% of training after the transient)")
        else:
            lines.append(f"  log-lik.    {s['objective_initial']:.4g} -> {s['objective_final']:.4g} "
                         "(first -> last 10% of training after the transient)")
    if s["status"] == "diverged":
        d = s.get("diverged", {})
        lines.append(f"  diverged    {d.get('what', '?')} during t in {d.get('during', '?')}")
    if s["status"] == "interrupted":
        i = s.get("interrupted", {})
        lines.append(f"  interrupted by {i.get('signal', '?')}; kept the checkpoint at t = {i.get('at_checkpoint', '?')}")
    if s["status"] == "failed":
        lines.append(f"  failed      {s.get('failed', {}).get('error', '?')}")
    if s["status"] in ("running", "interrupted", "failed"):
        lines.append(f"  resume with: brian-effplast resume {run_dir}")
    v = s.get("versions", {})
    if v:
        lines.append("  versions    " + ", ".join(f"{k} {val}" for k, val in v.items()))
    present = [name for name in FILES.values() if (run_dir / name).is_file()]
    lines.append("  files       " + ", ".join(present))
    if (run_dir / FILES["test"]).is_file():
        try:
            with np.load(run_dir / FILES["test"], allow_pickle=False) as z:
                scores = test_scores({k: z[k] for k in ("angles", "outputs", "prior_mu", "prior_kappa")
                                      if k in z.files}, cfg.task)
                lines.append(f"  test        {z['angles'].size} angles, {z['rates'].shape[2]} samples each: "
                             + ", ".join(f"{k} {v:.4g}" for k, v in scores.items()))
        except (OSError, ValueError, KeyError):
            lines.append("  test        test.npz unreadable")
    return "\n".join(lines)
