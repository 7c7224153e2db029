"""Child processes that never outlive the run that started them.

A training run starts other processes: worker interpreters (replicas spread
over cores, parallel experiments), ``make`` and the compiler, and the
compiled simulation binary. Whatever ends the run (Ctrl-C, SIGTERM, or a
SIGKILL that gives it no chance to clean up), none of them may go on
running, holding a cache slot or writing into it.

- :func:`guarded` wraps a command (``make``, the binary) in this module run
  as a script, the *guard*: the command runs in a process group of its own,
  and the guard kills that whole group when the watched process ends
  (however it ends), when the guard gets SIGINT, SIGTERM or SIGHUP, or (on
  Linux, by ``PR_SET_PDEATHSIG``) when the guard itself is killed. The
  command is then out of reach of the terminal's Ctrl-C, which the guard
  (in the terminal's process group) turns into an immediate kill: a
  simulation stopped by an interrupt never writes partial results.
- :func:`exit_with` ends a worker process as soon as its parent ends.

Standard library only, no imports from the package: the guard starts with
``python -I -S`` in about 10 ms.
"""

import os
import select
import signal
import subprocess
import sys
import threading
import time

__all__ = ["guarded", "exit_with"]

_PR_SET_PDEATHSIG = 1


def guarded(command, watched=None):
    """``command`` (a list) wrapped in the guard, watching ``watched`` (default: this process)."""
    watched = os.getpid() if watched is None else watched
    return [sys.executable, "-I", "-S", os.path.abspath(__file__), str(watched), *command]


def _wait_for_exit(pid, also=None):
    """Block until process ``pid`` has ended (or ``also``, a Popen, has; returns which)."""
    fds = []
    try:
        fds.append(os.pidfd_open(pid))
        if also is not None:
            fds.append(os.pidfd_open(also.pid))
    except (AttributeError, OSError):  # no pidfd (not Linux >= 5.3): poll
        for fd in fds:
            os.close(fd)
        while True:
            if also is not None and also.poll() is not None:
                return "child"
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                return "watched"
            except PermissionError:
                pass
            time.sleep(0.1)
    try:
        ready, _, _ = select.select(fds, [], [])
        return "watched" if fds[0] in ready else "child"
    finally:
        for fd in fds:
            os.close(fd)


def exit_with(pid):
    """End this process (``os._exit(1)``) as soon as process ``pid`` ends.

    For worker processes: a daemon thread waits for the parent; the worker's
    own guarded commands then see the worker end and are killed in turn.
    """
    def watch():
        _wait_for_exit(pid)
        os._exit(1)
    threading.Thread(target=watch, name=f"exit-with-{pid}", daemon=True).start()


def _die_with_parent():
    """In the command's process, before exec: SIGKILL when the guard dies (Linux)."""
    try:
        import ctypes
        libc = ctypes.CDLL(None, use_errno=True)
    except (OSError, ImportError):  # pragma: no cover (not Linux)
        return None
    guard = os.getpid()

    def preexec():
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
        if os.getppid() != guard:  # the guard died before prctl took effect
            os._exit(1)
    return preexec


def _main(argv):
    watched, command = int(argv[1]), argv[2:]
    child = None

    def kill_group():
        if child is not None:
            try:
                os.killpg(child.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass

    def on_signal(signum, frame):
        kill_group()
        os._exit(128 + signum)

    for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, on_signal)
    try:
        os.kill(watched, 0)
    except ProcessLookupError:
        return 1
    child = subprocess.Popen(command, start_new_session=True, preexec_fn=_die_with_parent())
    if _wait_for_exit(watched, also=child) == "watched":
        kill_group()
        return 1
    code = child.wait()
    return code if code >= 0 else 128 - code


if __name__ == "__main__":
    sys.exit(_main(sys.argv))
