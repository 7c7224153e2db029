"""Worker processes and guarded commands, with real processes and signals
(quick tier: no Brian2 in the workers, except one ReplicaPool on numpy):
results come back in order, an error or a dead worker is reported, and
nothing outlives the process that started it, even a SIGKILLed one."""

import operator
import os
import subprocess
import sys
import time

import numpy as np
import pytest

from brian_effplast.circuit.lifetime import guarded
from brian_effplast.runs.parallel import ReplicaPool, WorkerPool, block_seed, blocks
from helpers import fast_learning, proc_stat


def alive(pid):
    stat = proc_stat(pid)
    return stat is not None and stat[0] != "Z"


def wait_gone(pid, within=5.0):
    deadline = time.monotonic() + within
    while alive(pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    return not alive(pid)


def test_blocks_and_their_seeds():
    assert [b.tolist() for b in blocks(5, 2)] == [[0, 1, 2], [3, 4]]
    assert [b.tolist() for b in blocks(1, 4)] == [[0]]  # no empty block
    assert block_seed(7, 0) == 7  # one block: the seed a single process would use
    seeds = [block_seed(7, b) for b in range(1, 4)]
    assert len(set(seeds + [7])) == 4 and seeds == [block_seed(7, b) for b in range(1, 4)]


def test_worker_pool_returns_results_in_order_and_reports_errors_and_deaths():
    with WorkerPool(2) as pool:
        pids = pool.run([(os.getpid, ()), (os.getpid, ())], pinned=True)
        assert len(set(pids)) == 2 and os.getpid() not in pids
        done = []
        jobs = [(operator.add, (i, 10)) for i in range(5)]
        assert pool.run(jobs, done=lambda i, r: done.append((i, r))) == [10, 11, 12, 13, 14]
        assert sorted(done) == [(i, 10 + i) for i in range(5)]
        with pytest.raises(ZeroDivisionError):
            pool.run([(operator.add, (1, 2)), (operator.truediv, (1, 0))])
        with pytest.raises(ValueError, match="3 pinned jobs for 2 workers"):
            pool.run([(os.getpid, ())] * 3, pinned=True)
        with pytest.raises(RuntimeError, match=r"worker process \d+ died \(exit status 3\)"):
            pool.run([(os._exit, (3,))])
    assert not any(alive(pid) for pid in pids)


def test_a_worker_ends_when_its_parent_is_killed(tmp_path):
    """SIGKILL to the parent of a WorkerPool: its worker follows (lifetime.exit_with)."""
    script = ("import os, sys, time\nfrom brian_effplast.runs.parallel import WorkerPool\n"
              "if __name__ == '__main__':\n"
              "    pool = WorkerPool(1)\n"
              "    print(pool.run([(os.getpid, ())])[0], flush=True)\n"
              "    time.sleep(60)\n")
    (tmp_path / "parent.py").write_text(script)
    parent = subprocess.Popen([sys.executable, str(tmp_path / "parent.py")], stdout=subprocess.PIPE, text=True)
    worker = int(parent.stdout.readline())
    assert alive(worker)
    parent.kill()
    parent.wait()
    assert wait_gone(worker), "the worker outlived its SIGKILLed parent"


def test_a_guarded_command_ends_with_the_process_it_watches(tmp_path):
    """The guard kills its command when the watched process ends, even by SIGKILL."""
    script = ("import subprocess, sys, time\nfrom brian_effplast.circuit.lifetime import guarded\n"
              "p = subprocess.Popen(guarded(['sleep', '60']))\n"
              "print(p.pid, flush=True)\n"
              "time.sleep(60)\n")
    watched = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    guard = int(watched.stdout.readline())
    deadline = time.monotonic() + 5
    while not (sleeper := _child_of(guard)) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert sleeper and alive(sleeper)
    watched.kill()
    watched.wait()
    assert wait_gone(sleeper) and wait_gone(guard)
    # the command's own exit status comes back through the guard
    assert subprocess.run(guarded(["sh", "-c", "exit 5"])).returncode == 5


def _child_of(pid):
    """A child process of ``pid`` (from /proc/*/stat), or None."""
    for entry in os.listdir("/proc"):
        if entry.isdigit() and (proc_stat(entry) or ("", None))[1] == pid:
            return int(entry)
    return None


def test_replica_pool_block_is_the_single_process_run():
    """Two blocks of a 3-replica numpy run in worker processes: block 0 (seed kept)
    is the same as those replicas run in this process, bit for bit."""
    cfg = fast_learning().replace(**{"run.target": "numpy", "run.replicas": 3})
    with ReplicaPool(cfg, 2, seed=5) as pool:
        start = {k: v.copy() for k, v in pool.state.items()}
        out = pool.run(0.5)
        assert pool.t == pytest.approx(0.5) and out["curve"].shape[0] == 3
        state = pool.state
    from brian_effplast import PlasticCircuit
    first = blocks(3, 2)[0]
    alone = PlasticCircuit(cfg.replace(**{"run.replicas": len(first)}), seed=5,
                           state={k: v[first] for k, v in start.items()})
    alone.run(0.5)
    for key, value in alone.state.items():
        np.testing.assert_array_equal(state[key][first], value, err_msg=key)
    assert not np.array_equal(state["W"], start["W"])  # learning happened in the workers
