"""Replicas spread over processes: both cores for one training.

:class:`ReplicaPool` splits the ``R`` replicas of a configuration into
``workers`` contiguous blocks, each simulated by a
:class:`~brian_effplast.circuit.model.PlasticCircuit` in a process of its own (so
each block keeps its compiled standalone project between runs), and merges
their state and learning curves after every run. Replicas are independent,
so this changes nothing but the noise: block ``b`` draws Brian2's noise
from :func:`block_seed` ``(seed, b)``, so a result depends on the seed *and*
on ``workers`` (``run.workers``, kept in the run's configuration).
"""

import multiprocessing
import multiprocessing.connection
import os
import signal

import numpy as np

from ..circuit.lifetime import exit_with

__all__ = ["ReplicaPool", "WorkerPool", "block_seed", "blocks"]


def _serve(conn, parent):
    """A worker's loop: run ``(function, args)`` jobs until told to stop."""
    exit_with(parent)  # never outlive the parent, however it ends
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent decides what an interrupt does
    while True:
        try:
            job = conn.recv()
        except EOFError:
            return
        if job is None:
            return
        function, args = job
        try:
            result = ("ok", function(*args))
        except Exception as exc:
            result = ("error", exc)
        try:
            conn.send(result)
        except Exception:  # an exception that cannot be pickled
            conn.send(("error", RuntimeError(f"{type(result[1]).__name__}: {result[1]}")))


class WorkerPool:
    """
    WorkerPool(workers)

    ``workers`` spawned worker processes that run functions. Unlike
    `concurrent.futures.ProcessPoolExecutor`, stopping it early (an interrupt,
    an error) *kills* the workers at once instead of waiting for the jobs in
    progress, and a worker whose parent dies, even by SIGKILL, ends too
    (:func:`~brian_effplast.circuit.lifetime.exit_with`), taking its compiler or
    simulation binary with it. Use as a context manager.
    """

    def __init__(self, workers):
        ctx = multiprocessing.get_context("spawn")  # fresh interpreters: no Brian2 device state inherited
        self._workers = []
        for _ in range(workers):
            parent, child = ctx.Pipe()
            process = ctx.Process(target=_serve, args=(child, os.getpid()), daemon=True)
            process.start()
            child.close()
            self._workers.append((process, parent))

    def __len__(self):
        return len(self._workers)

    def run(self, jobs, pinned=False, done=None):
        """Run ``jobs`` (a list of ``(function, args)``) and return their results in order.

        ``pinned``: job ``i`` runs on worker ``i`` (it keeps that worker's
        compiled project); otherwise each job goes to the next free worker.
        ``done(i, result)`` is called as each job finishes. The first error
        is raised once every job sent has come back; jobs not yet sent are not run.
        """
        if pinned and len(jobs) > len(self._workers):
            raise ValueError(f"{len(jobs)} pinned jobs for {len(self._workers)} workers")
        results, pending, failed = [None] * len(jobs), list(enumerate(jobs)), None
        busy = {}  # connection -> (job index, worker index)
        free = list(range(len(self._workers)))
        while pending or busy:
            while pending and free and failed is None:
                i, job = pending.pop(0)
                w = i if pinned else free[0]
                free.remove(w)
                self._workers[w][1].send(job)
                busy[self._workers[w][1]] = (i, w)
            if not busy:
                break
            for conn in multiprocessing.connection.wait(list(busy)):
                i, w = busy.pop(conn)
                try:
                    status, value = conn.recv()
                except (EOFError, OSError):
                    process = self._workers[w][0]
                    process.join(1)
                    status, value = "error", RuntimeError(
                        f"worker process {process.pid} died (exit status {process.exitcode})")
                free.append(w)
                if status == "error":
                    failed = failed or value
                else:
                    results[i] = value
                    if done is not None:
                        done(i, value)
        if failed is not None:
            raise failed
        return results

    def close(self):
        """Stop the workers: politely when idle, by SIGKILL after a second."""
        for process, conn in self._workers:
            try:
                conn.send(None)
            except OSError:
                pass
        for process, conn in self._workers:
            process.join(1)
        self.kill()

    def kill(self):
        """Kill every worker now (their guarded compilers and binaries follow)."""
        for process, conn in self._workers:
            if process.is_alive():
                process.kill()
            process.join()
            conn.close()
        self._workers = []

    def __enter__(self):
        return self

    def __exit__(self, exc_type, *exc):
        if exc_type is None:
            self.close()
        else:
            self.kill()
        return False


def block_seed(seed, block):
    """The noise seed of replica block ``block`` (block 0 keeps ``seed``)."""
    if block == 0:
        return seed
    return int(np.random.SeedSequence([seed, block]).generate_state(1)[0])


def blocks(replicas, workers):
    """Replica indices of each block: ``workers`` contiguous, near-equal blocks."""
    return [b for b in np.array_split(np.arange(replicas), workers) if len(b)]


def _run_block(cfg, task, state, t, seed, duration, plastic, record=(), record_every=1):
    # in a worker process: the standalone project of the previous call is reused
    # (same structure), so only the first run of a block compiles
    from ..circuit.model import PlasticCircuit
    model = PlasticCircuit(cfg, task=task, state=state, t=t, seed=seed)
    out = model.run(duration, plastic=plastic, record=record, record_every=record_every)
    return model.state, out["curve"], out["loop_seconds"], {k: out[k] for k in record}


class ReplicaPool:
    """
    ReplicaPool(config, workers, *, state=None, t=0.0, seed=None, task=None)

    The replicas of ``config`` spread over ``workers`` processes, with the
    part of the :class:`~brian_effplast.circuit.model.PlasticCircuit` interface a
    training needs: ``run``, ``state``, ``t``, ``seed`` and ``R``. The
    state (drawn from ``seed`` as for a single process, or given) lives in
    the parent between runs. Call :meth:`close` (or use it as a context
    manager) to stop the processes.
    """

    def __init__(self, config, workers, *, state=None, t=0.0, seed=None, task=None):
        from ..circuit.model import PlasticCircuit
        whole = PlasticCircuit(config, state=state, t=t, seed=seed, task=task)  # draws/checks the state
        self.config, self.task, self.R = config, whole.task, whole.R
        self.state, self.t, self.seed = whole.state, whole.t, whole.seed
        self.blocks = blocks(self.R, workers)
        self.plastic = True
        self._pool = WorkerPool(len(self.blocks))

    def run(self, duration, plastic=None, record=(), record_every=1, **kwds):
        """Run every block for ``duration`` time units in parallel (see `PlasticCircuit.run`;
        other keyword arguments are ignored). Returns ``{"curve", "loop_seconds"}`` and the
        recorded traces (``record``: time first, then replica)."""
        if plastic is not None:
            self.plastic = bool(plastic)
        jobs = []
        for b, idx in enumerate(self.blocks):
            cfg = self.config.replace(**{"run.replicas": len(idx), "run.workers": 1})
            state = {k: v[idx] for k, v in self.state.items()}
            jobs.append((_run_block, (cfg, self.task, state, self.t, block_seed(self.seed, b), duration,
                                      self.plastic, tuple(record), record_every)))
        try:
            results = self._pool.run(jobs, pinned=True)  # a worker's error (e.g. divergence) is raised here
        except BaseException:
            self._pool.kill()  # an interrupt or a failed block: no block goes on running
            raise
        self.state = {k: np.concatenate([r[0][k] for r in results]) for k in self.state}
        self.t += self.config.steps(duration, "duration") * self.config.circuit.dt
        return {"curve": np.concatenate([r[1] for r in results]),
                "loop_seconds": max(r[2] for r in results),
                **{k: np.concatenate([r[3][k] for r in results], axis=1) for k in record}}

    def close(self):
        """Stop the processes."""
        self._pool.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        return False
