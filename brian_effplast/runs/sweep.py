"""Sweeps: a grid over configuration keys, one train-then-test run per cell, on dask.distributed.

::

    brian-effplast sweep estimation --out runs/noise --grid circuit.sigma=0.1,0.2 --grid run.seed=1,2,3

Each cell of the grid (the product of every ``--grid``) is an ordinary run
directory under ``OUT/cells/``, exactly what ``train`` and ``test`` write.
The cells run on a dask.distributed cluster: an embedded ``LocalCluster``
(one single-threaded worker process per core by default) or the user's own
(``scheduler="tcp://host:8786"``, e.g. ``dask scheduler`` and ``dask worker``
processes, or a ``dask_jobqueue.SLURMCluster``).

- ``OUT/results.csv`` has one row per cell (its parameters, seed, status,
  wall time, the training objective and the test scores), rewritten
  atomically as each cell ends, so it is current while the sweep runs.
- Running the same sweep again skips the finished cells and redoes the
  failed or unfinished ones (an interrupted cell resumes from its last
  checkpoint). A cell whose saved ``config.toml`` differs from the one the
  sweep now asks for (another ``--duration``, model file or grid value) is
  neither reused nor resumed: it is recorded as failed, with the keys that
  differ. A failing cell is recorded with its error and does not stop
  the others; a worker that dies costs its cell's rerun (dask reschedules
  it), nothing else.
- A worker keeps its compiled standalone projects between cells, and
  processes that compile the same structure at once compile it once
  (:mod:`brian_effplast.circuit.standalone`).
"""

import contextlib
import csv
import io
import itertools
import json
import logging
import os
import sys
import time
from pathlib import Path

from ..config import Config, ConfigError
from ..errors import RunError
from .rundir import FILES, config_diff, describe_edits, write_text

__all__ = ["sweep", "cells", "parse_grid", "run_cell", "cluster_client", "COLUMNS"]

#: Columns of results.csv after the grid's keys.
COLUMNS = ("cell", "seed", "status", "wall_seconds", "objective", "objective_initial", "objective_final",
           "score", "score_value", "score_prior", "run_dir", "error")


def parse_grid(items, source="--grid"):
    """``["section.key=v1,v2", ...]`` -> ``{"section.key": [v1, v2]}`` (values as TOML, else strings)."""
    import tomllib
    grid = {}
    for item in items:
        key, sep, values = item.partition("=")
        key = key.strip()
        if not sep or "." not in key or not values.strip():
            raise ConfigError(f"{source}: {item!r} is not allowed: must be section.key=value1,value2,...")
        parsed = []
        for text in values.split(","):
            text = text.strip()
            try:
                parsed.append(tomllib.loads(f"v = {text}")["v"])
            except (tomllib.TOMLDecodeError, ValueError, RecursionError):
                parsed.append(text)
        if key in grid:
            raise ConfigError(f"{source}: {key} is given twice: give all its values in one --grid")
        grid[key] = parsed
    return grid


def _slug(value):
    return str(value).replace("/", "_").replace(" ", "")


def cells(config, grid):
    """``[(name, overrides, Config)]``: every cell of ``grid`` over ``config``, validated (a bad
    value is one :class:`ConfigError` before anything runs)."""
    keys = list(grid)
    out = []
    for values in itertools.product(*(grid[k] for k in keys)):
        overrides = dict(zip(keys, values))
        name = "__".join(f"{k}={_slug(v)}" for k, v in overrides.items()) or "cell"
        out.append((name, overrides, config.override(overrides, source=f"--grid cell {name}")))
    if len({name for name, _, _ in out}) != len(out):
        raise ConfigError("--grid: two cells would get the same directory name: use distinct values")
    return out


def _row(name, overrides, run_dir, status, wall, error=""):
    """A results.csv row from a cell's run directory (whatever it holds)."""
    row = dict(overrides, cell=name, status=status, wall_seconds=round(wall, 3), run_dir=str(run_dir),
               error=error)
    try:
        summary = json.loads((run_dir / FILES["summary"]).read_text())
    except (OSError, ValueError):
        return row
    shown = summary.get("objective") or {}
    row.update(seed=summary.get("seed"), objective=shown.get("label"), objective_initial=shown.get("initial"),
               objective_final=shown.get("final"))
    scores = summary.get("test_scores") or {}
    for key, value in scores.items():
        if key.endswith("_prior"):
            row["score_prior"] = value
        else:
            row["score"], row["score_value"] = key, value
    return row


def _finished(run_dir):
    try:
        summary = json.loads((run_dir / FILES["summary"]).read_text())
    except (OSError, ValueError):
        return False
    return summary.get("status") == "complete" and "test_scores" in summary and (run_dir / FILES["test"]).is_file()


def _config_conflict(run_dir, config_dict):
    """Why the cell in ``run_dir`` may not be reused or resumed for the configuration
    ``config_dict``: its ``config.toml`` differs or cannot be read (None when it may)."""
    from .rundir import read_config
    try:
        saved = read_config(run_dir).to_dict()  # (imports nothing)
    except (ConfigError, RunError) as exc:
        return f"{run_dir}: cannot check its configuration: {str(exc).splitlines()[0]}"
    wanted = Config.from_dict(config_dict, source="the sweep").to_dict()
    if wanted["run"]["seed"] is None:  # no seed asked for: the one the cell drew
        wanted["run"]["seed"] = saved["run"]["seed"]
    diff = config_diff(saved, wanted)
    if not diff:
        return None
    # the advice first: the row keeps only the first 500 characters
    return (f"{run_dir} holds this cell run with another configuration, so it is not reused: use a new --out, "
            f"or delete that directory to run the cell again (the cell's value -> the sweep's: {describe_edits(diff)})")


def run_cell(name, overrides, config_dict, run_dir):
    """Train and test one cell into ``run_dir`` (on a worker); returns its results row.

    A finished cell is returned as it is; an interrupted one is resumed; a
    failed or unreadable one is trained again from the start. A finished or
    resumable cell whose ``config.toml`` differs from ``config_dict`` is
    left as it is and recorded as failed, with the keys that differ.
    """
    import warnings
    warnings.filterwarnings("ignore", category=DeprecationWarning)
    import brian2
    brian2.BrianLogger.log_level_error()
    from .rundir import writing
    run_dir = Path(run_dir)
    start = time.perf_counter()
    try:
        # the cell is one writer from its check to its last file (train, test, the scores)
        with writing(run_dir, create=True):
            return _run_cell(name, overrides, config_dict, run_dir, start)
    except RunError as exc:  # another process is writing it
        return _row(name, overrides, run_dir, "failed", time.perf_counter() - start,
                    error=f"{type(exc).__name__}: {exc}".splitlines()[0][:500])


def _run_cell(name, overrides, config_dict, run_dir, start):
    from .protocol import run_test
    from .rundir import clear_dir, read_run, write_json
    from .training import resume, train
    if _finished(run_dir):
        conflict = _config_conflict(run_dir, config_dict)
        return _row(name, overrides, run_dir, "failed" if conflict else "complete", 0.0, error=conflict or "")
    try:
        resumable = False
        if run_dir.is_dir():
            try:
                _, summary, _ = read_run(run_dir)
                resumable = summary["status"] in ("running", "interrupted", "complete")
            except (RunError, ConfigError):
                resumable = False
            if not resumable:
                clear_dir(run_dir)
        conflict = _config_conflict(run_dir, config_dict) if resumable else None
        if conflict:  # resuming would finish the cell with a configuration the sweep did not ask for
            return _row(name, overrides, run_dir, "failed", 0.0, error=conflict)
        if resumable:
            resume(run_dir, quiet=True)
        else:
            train(Config.from_dict(config_dict, source=f"cell {name}"), run_dir, quiet=True)
        scores = run_test(run_dir, quiet=True)
        summary = json.loads((run_dir / FILES["summary"]).read_text())
        summary["test_scores"] = {k: v for k, v in scores.items() if isinstance(v, float)}
        write_json(run_dir / FILES["summary"], summary)
        return _row(name, overrides, run_dir, "complete", time.perf_counter() - start)
    except Exception as exc:  # recorded in the table; the other cells go on
        return _row(name, overrides, run_dir, "failed", time.perf_counter() - start,
                    error=f"{type(exc).__name__}: {exc}".splitlines()[0][:500])


def _import_brian2_plugin():
    from distributed import WorkerPlugin

    class ImportBrian2(WorkerPlugin):
        """A dask worker plugin: import Brian2 in the worker's main thread (its import
    installs a signal handler, which Python allows only there; tasks run in
        another thread)."""

        name = "brian-effplast-import-brian2"

        def setup(self, worker):
            import warnings
            warnings.filterwarnings("ignore", category=DeprecationWarning)
            import brian2
            brian2.BrianLogger.log_level_error()

        def teardown(self, worker):
            # the worker is closing (the sweep ended or was interrupted): a heartbeat that races
            # the scheduler's shutdown is no error of the sweep's, and its traceback on the
            # sweep's stderr (seen under load after Ctrl-C) buried the one line that is
            for name in ["distributed"] + [n for n in logging.root.manager.loggerDict
                                           if n.startswith("distributed.")]:
                logging.getLogger(name).setLevel(logging.CRITICAL)

    return ImportBrian2()


@contextlib.contextmanager
def cluster_client(workers=None, scheduler=None):
    """A dask ``Client`` ready for this package's jobs: on the running scheduler at
    ``scheduler`` (an address), or on an embedded ``LocalCluster`` of ``workers``
    single-threaded processes (default: the cores), closed on exit."""
    from dask.distributed import Client, LocalCluster
    cluster = None
    if scheduler is None:
        cluster = LocalCluster(n_workers=workers or os.cpu_count() or 1, threads_per_worker=1, processes=True,
                               dashboard_address=None, silence_logs=logging.ERROR)
    client = Client(scheduler or cluster)
    try:
        client.register_plugin(_import_brian2_plugin())
        yield client
    finally:
        client.close()
        if cluster is not None:
            cluster.close()


def _write_table(path, keys, rows):
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=list(keys) + list(COLUMNS), extrasaction="ignore")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: ("" if v is None else v) for k, v in row.items()})
    write_text(path, buf.getvalue())


def sweep(model, out_dir, grid, *, duration=None, workers=None, scheduler=None, quiet=False, stream=None):
    """Train and test every cell of ``grid`` over ``model`` on dask.distributed.

    Parameters
    ----------
    model : Config or path
        The model (a :class:`Config`, a TOML file or a shipped model's name).
    out_dir : path
        The sweep's folder: ``cells/<cell>/`` run directories and ``results.csv``.
    grid : dict
        ``{"section.key": [values]}``; the cells are the product. ``run.seed``
        is a key like any other (a cell without a seed gets a fixed one drawn
        from its name, so a re-run redoes the same cell).
    duration : float, optional
        ``run.duration`` of every cell (time units).
    workers : int, optional
        Worker processes of the embedded cluster (default: the cores).
    scheduler : str, optional
        Address of a running dask scheduler; then ``workers`` is not used.

    Returns
    -------
    list of dict
        The rows of ``results.csv``, in grid order.
    """
    from ..config.modelfiles import model_path
    cfg = model if isinstance(model, Config) else Config.from_toml(model_path(model))
    if duration is not None:
        cfg = cfg.override({"run.duration": duration}, source="--duration")
    all_cells = cells(cfg, grid)
    out = Path(out_dir)
    from .rundir import writing
    with writing(out, create=True):  # one sweep at a time writes results.csv
        (out / "cells").mkdir(parents=True, exist_ok=True)
        return _sweep(cfg, out, grid, all_cells, workers, scheduler, quiet, stream)


def _sweep(cfg, out, grid, all_cells, workers, scheduler, quiet, stream):
    from dask.distributed import as_completed
    log = (sys.stderr if stream is None else stream) if not quiet else None
    rows = {}
    jobs = []
    for name, overrides, cell_cfg in all_cells:
        if cell_cfg.run.seed is None:  # fixed per cell, so a re-run is the same cell
            import zlib
            cell_cfg = cell_cfg.replace(**{"run.seed": zlib.crc32(name.encode())})
        run_dir = out / "cells" / name
        if _finished(run_dir):
            conflict = _config_conflict(run_dir, cell_cfg.to_dict())
            rows[name] = _row(name, overrides, run_dir, "failed" if conflict else "complete", 0.0,
                              error=conflict or "")
        else:
            jobs.append((name, overrides, cell_cfg.to_dict(), str(run_dir)))
    table = out / "results.csv"
    order = [name for name, _, _ in all_cells]
    _write_table(table, grid, [rows[n] for n in order if n in rows])
    if log:
        refused = sum(row["status"] == "failed" for row in rows.values())
        log.write(f"brian-effplast sweep: {len(all_cells)} cells, {len(rows) - refused} already finished, "
                  + (f"{refused} finished with another configuration (not reused), " if refused else "")
                  + f"{len(jobs)} to run -> {out}\n")
        log.flush()
    if jobs:
        with _deferred_interrupts() as check, cluster_client(workers, scheduler) as client:
            check()
            futures = [client.submit(run_cell, *job, key=f"brian-effplast-cell-{job[0]}-{time.time_ns()}",
                                     pure=False) for job in jobs]
            t0 = time.perf_counter()
            pending, done = as_completed(futures), 0
            while not pending.is_empty():
                check()  # an interrupt is raised here, never inside dask's own code
                batch = pending.next_batch(block=False)
                if not batch:
                    time.sleep(0.05)
                    continue
                for future in batch:
                    done += 1
                    row = future.result()
                    rows[row["cell"]] = row
                    _write_table(table, grid, [rows[n] for n in order if n in rows])
                    if log:
                        log.write(f"brian-effplast sweep: {done}/{len(jobs)} cells ({row['cell']}: "
                                  f"{row['status']}), {time.perf_counter() - t0:.0f} s\n")
                        log.flush()
    return [rows[n] for n in order]


@contextlib.contextmanager
def _deferred_interrupts():
    """SIGINT and SIGTERM recorded while a sweep drives its cluster, and raised as
    :class:`~brian_effplast.errors.Interrupted` by ``check()``, which the sweep calls between
    its waits; a second signal changes nothing. A handler that raises wherever the signal
    lands could raise inside dask's client (a lock held, a half-sent message), and the
    cluster's shutdown then hung or failed; here it is shut down from a known state. The
    previous handlers come back once the cluster is closed."""
    import signal
    import threading
    from ..errors import Interrupted
    if threading.current_thread() is not threading.main_thread():  # (handlers: main thread only)
        yield lambda: None
        return
    got = []
    kinds = (signal.SIGINT, signal.SIGTERM)
    previous = {s: signal.getsignal(s) for s in kinds}

    def record(signum, frame):
        got.append(signum)
        for s in kinds:
            signal.signal(s, signal.SIG_IGN)

    def check():
        if got:
            raise Interrupted(got[0])

    for s in kinds:
        signal.signal(s, record)
    try:
        yield check
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)
