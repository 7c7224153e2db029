"""Run directories: their files, atomic writes, checkpoints, and reading them back.

A *run directory* holds one training run (``R`` replicas of one
configuration) in open formats (TOML, JSON, NumPy ``.npz``, PNG)::

    config.toml          the resolved configuration, including run.seed
    summary.json         status (one of STATUSES), seed, target, replicas,
                         duration, steps, wall time, objective before/after
                         learning, versions, the config's SHA-256
                         (config_sha256) and values (config)
    checkpoint.npz       the whole model state at the last checkpoint
                         (saved_keys of its rule, replica first) + t (time units),
                         seed, steps, the learning curve so far and the
                         SHA-256 of all of these (sha256)
    checkpoint.prev.npz  the checkpoint before it (the fallback when the
                         newest is damaged)
    parameters.npz       final W (R, N, N), C (R, N, N_s), b (R, N),
                         D (R, n_out, N)  [written when complete]
    learning_curve.npz   [written with every checkpoint] curve (R, bins): mean reward per bin of
                         run.curve_bin time units; time (bins,): bin
                         centres, time units; theta (R, bins): the
                         stimulus angle after the first step of each
                         bin; curve_bin, transient, task
    learning_curve.png
    test.npz, tuning.png, outputs.png   [written by the test protocol]

Every file is written atomically (temporary file in the same directory,
``fsync``, ``os.replace``), so a run killed at any moment leaves the
previous version of each file intact. A checkpoint that fails its checksum
(or cannot be read) is named, and readers fall back to the previous one.

One process at a time writes a run directory: every writer holds
:func:`writing` (an exclusive ``flock`` on ``DIR/.lock``, which names the
holder) for as long as it writes, and a second writer is refused at once.
Readers take no lock. Reading a run directory imports nothing: its
``config.toml`` is read with :func:`read_config`, which checks a task or F-I
curve named by import path as text only (see :mod:`brian_effplast.blocks.tasks`
for what is imported later, and from where).
"""

import datetime
import hashlib
import json
import os
import tempfile
import tomllib
from pathlib import Path

import numpy as np

from ..config import Config, ConfigError
from ..config.configuration import no_plugin_imports
from ..errors import RunError
from ..circuit.state import RULE_STATE, SAVED_KEYS, saved_keys
from ..version import __version__
from .lock import LOCK, clear_dir, entries, lock_holder, writing

__all__ = ["FILES", "STATUSES", "CHECKPOINT_KEYS", "checkpoint_keys", "Checkpoint", "atomic_write", "write_text",
           "write_json", "write_npz", "write_figure", "write_checkpoint", "read_checkpoint", "read_checkpoints",
           "checkpoint_steps", "config_record", "config_edits", "config_diff", "describe_edits", "check_new_dir",
           "read_run", "read_config", "read_summary", "check_npz", "versions", "now", "writing", "lock_holder",
           "LOCK", "clear_dir"]


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
#: Arrays of a checkpoint file (besides its checksum), with the default rule (Eq. 10): a
#: checkpoint of ``plasticity.rule = "reinforce"`` has that rule's state instead (:func:`checkpoint_keys`).
CHECKPOINT_KEYS = SAVED_KEYS + ("t", "seed", "steps", "curve")


def checkpoint_keys(rule="eq10"):
    """Arrays of a checkpoint file of ``plasticity.rule = rule`` (besides its checksum)."""
    return saved_keys(rule) + ("t", "seed", "steps", "curve")
#: summary.json's status: a run that is not "complete" or "diverged" can be resumed.
STATUSES = ("running", "interrupted", "failed", "diverged", "complete")


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
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    except OSError as exc:
        raise _named(exc, path) from None
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
    except BaseException as exc:
        try:
            os.unlink(tmp)  # (on a full disk this also gives back what the attempt took)
        except OSError:
            pass
        if isinstance(exc, OSError) and (not exc.filename or os.fspath(exc.filename) == tmp):
            raise _named(exc, path) from None  # (the file being written, not its temporary name)
        raise
    _fsync_dir(path.parent)


def _named(exc, path):
    """``exc`` (an OSError) naming ``path``: "[Errno 28] No space left on device" alone does
    not say which file could not be written."""
    return type(exc)(exc.errno, exc.strerror or str(exc), str(path))


def write_in_place(path, text):
    """Overwrite ``path`` without a temporary file (no new inode or block beyond the text's):
    the last resort for recording a status when :func:`write_text` fails for want of space."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT, 0o666)
    try:
        data = text.encode("utf-8")
        os.write(fd, data)
        os.ftruncate(fd, len(data))
        os.fsync(fd)
    finally:
        os.close(fd)


def write_text(path, text):
    atomic_write(path, lambda fh: fh.write(text.encode("utf-8")))


def write_json(path, data):
    write_text(path, json.dumps(data, indent=2, sort_keys=False) + "\n")


def write_npz(path, **arrays):
    atomic_write(path, lambda fh: np.savez(fh, **arrays))


def write_figure(path, fig):
    atomic_write(path, lambda fh: fig.savefig(fh, format="png", dpi=120))


def versions():
    import platform
    import brian2
    return {"brian_effplast": __version__, "brian2": brian2.__version__, "numpy": np.__version__,
            "python": platform.python_version()}


def now():
    return datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")


def checksum(arrays):
    """SHA-256 of named arrays: names, dtypes, shapes and bytes, in name order."""
    h = hashlib.sha256()
    for key in sorted(arrays):
        a = np.ascontiguousarray(arrays[key])
        h.update(f"{key}|{a.dtype.str}|{a.shape}|".encode())
        h.update(a.tobytes())
    return h.hexdigest()


def write_checkpoint(run_dir, model, steps, curve, curve_theta=None):
    """The newest checkpoint; the one it replaces becomes checkpoint.prev.npz.
    ``curve_theta`` (R, bins): the stimulus at each learning-curve bin, kept beside the curve."""
    arrays = {k: np.asarray(model.state[k]) for k in saved_keys(model.config.plasticity.rule)}
    arrays.update(t=np.float64(model.t), steps=np.int64(steps), seed=np.int64(model.seed),
                  curve=np.asarray(curve, dtype=float))
    if curve_theta is not None:
        arrays["curve_theta"] = np.asarray(curve_theta, dtype=float)
    arrays["sha256"] = np.str_(checksum(arrays))
    path, prev = Path(run_dir) / FILES["checkpoint"], Path(run_dir) / FILES["previous_checkpoint"]

    def keep_previous():
        if path.is_file():
            os.replace(path, prev)
    atomic_write(path, lambda fh: np.savez(fh, **arrays), before_replace=keep_previous)


class Checkpoint(dict):
    """The arrays of a checkpoint file (:func:`checkpoint_keys` of its rule), with
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
    # (the file does not say its rule: complete for one of them; else what the closest one misses)
    missing = min(([k for k in checkpoint_keys(rule) if k not in ckpt] for rule in RULE_STATE), key=len)
    if missing:
        raise RunError(f"{path}: damaged checkpoint: arrays {', '.join(missing)} are missing")
    stored = str(ckpt.pop("sha256", ""))
    if stored and stored != checksum(ckpt):  # (checkpoints of version 0.1.0 have no checksum)
        raise RunError(f"{path}: damaged checkpoint: its contents do not match its SHA-256 checksum")
    ckpt.path = path
    return ckpt


def read_checkpoints(run_dir):
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


def checkpoint_steps(run_dir):
    """Steps saved in the run directory's checkpoints (0 if none can be read)."""
    try:
        return int(read_checkpoints(Path(run_dir))["steps"])
    except RunError:
        return 0


def config_record(cfg, text):
    """What summary.json keeps of the configuration, to detect edits."""
    return {"config_sha256": hashlib.sha256(text.encode("utf-8")).hexdigest(), "config": cfg.to_dict()}


def config_edits(run_dir, cfg, summary):
    """``{"section.key": [value at the start, value now]}`` when config.toml
    was edited since the summary recorded it (None if not)."""
    text = (run_dir / FILES["config"]).read_text(encoding="utf-8")
    recorded = summary.get("config_sha256")
    if recorded is None or recorded == config_record(cfg, text)["config_sha256"]:
        return None
    changes = config_diff(summary.get("config") or {}, cfg.to_dict())
    return changes or {"config.toml": ["(as recorded)", "(edited: same values, different text)"]}


def config_diff(old, new):
    """``{"section.key": [old value, new value]}`` for every value that differs between two
    configurations as :meth:`Config.to_dict` gives them (None where one has no such key)."""
    changes = {}
    for section in list(new) + [s for s in old if s not in new]:
        before, after = old.get(section), new.get(section)
        if not isinstance(before, dict) and not isinstance(after, dict):
            if before != after:
                changes[section] = [before, after]
            continue
        before, after = before if isinstance(before, dict) else {}, after if isinstance(after, dict) else {}
        for key in list(after) + [k for k in before if k not in after]:
            if before.get(key) != after.get(key):
                changes[f"{section}.{key}"] = [before.get(key), after.get(key)]
    return changes


def show_value(value):
    return "(none)" if value is None else json.dumps(value)


def describe_edits(edits):
    """``"key: old -> new; ..."`` for :func:`config_edits`' result."""
    return "; ".join(f"{k}: {show_value(v[0])} -> {show_value(v[1])}" for k, v in edits.items())


def check_new_dir(out):
    out = Path(out)
    if out.exists():
        if not out.is_dir():
            raise RunError(f"output directory {out} exists and is not a directory")
        busy = lock_holder(out)
        if busy:
            raise RunError(busy)
        if entries(out):
            raise RunError(f"output directory {out} exists and is not empty: "
                           "choose a new directory (or remove this one)")
    else:
        parent = out.resolve().parent
        while not parent.exists():
            parent = parent.parent
        if not os.access(parent, os.W_OK | os.X_OK):
            raise RunError(f"cannot create output directory {out}: {parent} is not writable")


def read_config(run_dir):
    """The configuration of a run directory, read without importing anything.

    A task or F-I curve named by import path is checked as text (it is
    imported only when a command builds the model, see
    :func:`brian_effplast.blocks.tasks.load_object`); the run directory is marked so
    that no module inside it is ever imported by this process. A
    ``config.toml`` that does not parse, or lacks a section or ``run.seed``
    (every run's has all of them), is reported as damaged.
    """
    from ..blocks.tasks import distrust
    run_dir = Path(run_dir)
    distrust(run_dir)
    path = run_dir / FILES["config"]
    from ..config.messages import decode_toml, read_model_file
    text = decode_toml(read_model_file(path, str(path)), str(path))
    fix = ("restore it from a copy, or train the run again (summary.json keeps its values under "
           "'config')")
    try:
        data = tomllib.loads(text)
    except (tomllib.TOMLDecodeError, ValueError, RecursionError) as exc:
        raise RunError(f"{path} is damaged or truncated: it is not valid TOML ({' '.join(str(exc).split())}): "
                       + fix) from None
    from ..config.schema import SECTIONS
    missing = (["task"] if "task" not in data else []) + [f"[{name}]" for name in SECTIONS if name not in data]
    if not missing and not (isinstance(data["run"], dict) and "seed" in data["run"]):
        missing = ["run.seed"]
    if missing:
        raise RunError(f"{path} is damaged or truncated: {', '.join(missing)} "
                       f"{'is' if len(missing) == 1 else 'are'} missing (a run's config.toml has every "
                       "section and run.seed): " + fix)
    with no_plugin_imports():
        return Config.from_dict(data, source=str(path))


def read_summary(run_dir):
    """summary.json of a run directory (a dict with a valid ``status``); a damaged one is a
    :class:`RunError` naming it and what to do."""
    path = Path(run_dir) / FILES["summary"]
    try:
        summary = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise RunError(f"{run_dir} is not a brian-effplast run directory: {FILES['summary']} is missing") from None
    except (OSError, ValueError) as exc:
        raise RunError(f"{path} is damaged (cannot read it: {' '.join(str(exc).split())}): "
                       f"'brian-effplast resume {run_dir}' rebuilds it from the verified checkpoint") from None
    if not isinstance(summary, dict) or summary.get("status") not in STATUSES:
        raise RunError(f"{path} is damaged: not a run summary (no valid 'status'): "
                       f"'brian-effplast resume {run_dir}' rebuilds it from the verified checkpoint")
    return summary


def check_npz(path, keys=()):
    """The arrays of ``path`` (every one read, so a damaged member fails its CRC here), or
    raise :class:`RunError` naming the file and what is wrong. Nothing is unpickled."""
    path = Path(path)
    try:
        with np.load(path, allow_pickle=False) as z:
            arrays = {k: z[k] for k in z.files}
    except FileNotFoundError:
        raise RunError(f"{path} is missing") from None
    except Exception as exc:  # BadZipFile, a bad CRC, a bad header, an object array...
        raise RunError(f"{path} is damaged: cannot read it ({type(exc).__name__}: "
                       f"{' '.join(str(exc).split())[:300]})") from None
    missing = [k for k in keys if k not in arrays]
    if missing:
        raise RunError(f"{path} is damaged: arrays {', '.join(missing)} are missing")
    return arrays


def read_run(run_dir, need_checkpoint=True, need_summary=True):
    """``(config, summary, checkpoint)`` of a run directory.

    ``checkpoint`` is a :class:`Checkpoint` (a dict of arrays): the newest
    one that passes its checksum, falling back to ``checkpoint.prev.npz``
    when the newest is damaged (``checkpoint.fallback`` says so). Raises
    :class:`RunError` if it is not a valid run, a file is damaged (named),
    or no checkpoint can be read; with ``need_checkpoint=False`` the
    checkpoint is None then, with ``need_summary=False`` the summary is the
    :class:`RunError` that says what is wrong with it. Imports nothing
    (:func:`read_config`).
    """
    run_dir = Path(run_dir)
    if not run_dir.is_dir():
        raise RunError(f"{run_dir} is not a directory (expected a run directory written by "
                       "'brian-effplast train')")
    for key in ("config", "summary"):
        if not (run_dir / FILES[key]).is_file():
            raise RunError(f"{run_dir} is not a brian-effplast run directory: {FILES[key]} is missing")
    try:
        cfg = read_config(run_dir)
    except ConfigError as exc:
        raise RunError(str(exc)) from None
    try:
        summary = read_summary(run_dir)
    except RunError as exc:
        if need_summary:
            raise
        summary = exc
    try:
        ckpt = read_checkpoints(run_dir)
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
