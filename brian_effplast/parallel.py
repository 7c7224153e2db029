"""Replicas spread over processes: both cores for one training.

:class:`ReplicaPool` splits the ``R`` replicas of a configuration into
``workers`` contiguous blocks, each simulated by a
:class:`~brian_effplast.model.PlasticCircuit` in a process of its own (so
each block keeps its compiled standalone project between runs), and merges
their state and learning curves after every run. Replicas are independent,
so this changes nothing but the noise: block ``b`` draws Brian2's noise
from :func:`block_seed` ``(seed, b)``, so a result depends on the seed *and*
on ``workers`` (``run.workers``, kept in the run's configuration).
"""

import multiprocessing
from concurrent.futures import ProcessPoolExecutor

import numpy as np

__all__ = ["ReplicaPool", "block_seed", "blocks"]


def block_seed(seed, block):
    """The noise seed of replica block ``block`` (block 0 keeps ``seed``)."""
    if block == 0:
        return seed
    return int(np.random.SeedSequence([seed, block]).generate_state(1)[0])


def blocks(replicas, workers):
    """Replica indices of each block: ``workers`` contiguous, near-equal blocks."""
    return [b for b in np.array_split(np.arange(replicas), workers) if len(b)]


def _run_block(cfg, task, state, t, seed, duration, plastic):
    # in a worker process: the standalone project of the previous call is reused
    # (same structure), so only the first run of a block compiles
    from .model import PlasticCircuit
    model = PlasticCircuit(cfg, task=task, state=state, t=t, seed=seed)
    out = model.run(duration, plastic=plastic)
    return model.state, out["curve"], out["loop_seconds"]


class ReplicaPool:
    """
    ReplicaPool(config, workers, *, state=None, t=0.0, seed=None, task=None)

    The replicas of ``config`` spread over ``workers`` processes, with the
    part of the :class:`~brian_effplast.model.PlasticCircuit` interface a
    training needs: :meth:`run`, :attr:`state`, :attr:`t`, :attr:`seed`,
    :attr:`R`. The state (drawn from ``seed`` as for a single process, or
    given) lives in the parent between runs. Call :meth:`close` (or use it
    as a context manager) to stop the processes.
    """

    def __init__(self, config, workers, *, state=None, t=0.0, seed=None, task=None):
        from .model import PlasticCircuit
        whole = PlasticCircuit(config, state=state, t=t, seed=seed, task=task)  # draws/checks the state
        self.config, self.task, self.R = config, whole.task, whole.R
        self.state, self.t, self.seed = whole.state, whole.t, whole.seed
        self.blocks = blocks(self.R, workers)
        self.plastic = True
        # "spawn": fresh interpreters, so no Brian2 device state is inherited
        ctx = multiprocessing.get_context("spawn")
        self._executors = [ProcessPoolExecutor(1, mp_context=ctx) for _ in self.blocks]

    def run(self, duration, plastic=None, **kwds):
        """Run every block for ``duration`` time units in parallel (see `PlasticCircuit.run`;
        other keyword arguments are ignored). Returns ``{"curve", "loop_seconds"}``."""
        if plastic is not None:
            self.plastic = bool(plastic)
        jobs = []
        for b, (idx, executor) in enumerate(zip(self.blocks, self._executors)):
            cfg = self.config.replace(**{"run.replicas": len(idx), "run.workers": 1})
            state = {k: v[idx] for k, v in self.state.items()}
            jobs.append(executor.submit(_run_block, cfg, self.task, state, self.t, block_seed(self.seed, b),
                                        duration, self.plastic))
        results = [job.result() for job in jobs]  # a worker's error (e.g. divergence) is raised here
        self.state = {k: np.concatenate([r[0][k] for r in results]) for k in self.state}
        self.t += self.config.steps(duration, "duration") * self.config.circuit.dt
        return {"curve": np.concatenate([r[1] for r in results]),
                "loop_seconds": max(r[2] for r in results)}

    def close(self):
        for executor in self._executors:
            executor.shutdown(cancel_futures=True)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        return False
