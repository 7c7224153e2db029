"""One writer at a time: the write lock of a run directory.

Every command that writes a run directory (train, resume, test, a sweep's
cells, the figures' stages) holds :func:`writing` for as long as it writes:
an exclusive ``flock`` on ``DIR/.lock``, which names its holder. A second
writer is refused at once with that name; a lock left by a killed process
is free again (an OS lock dies with its holder). Readers take no lock.
"""

import contextlib
import datetime
import fcntl
import os
import sys
import time
from pathlib import Path

from ..errors import RunError

__all__ = ["LOCK", "writing", "lock_holder", "clear_dir", "entries"]

#: The lock file of a run directory (see :func:`writing`); it exists only while a writer holds it
#: (or after a writer was killed, when it is free again: an OS lock dies with its holder).
LOCK = ".lock"


def entries(path):
    """What a directory holds besides its lock file."""
    return [p for p in Path(path).iterdir() if p.name != LOCK]


def _now():
    return datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")


#: Run directories this process holds (real path -> [lock fd, depth]): a writer that calls
#: another (a sweep cell: train, then test) holds the lock once; an flock taken twice by one
#: process through two open files would refuse the process itself.
_HELD = {}


def _holder_text(fd_or_path, path):
    """Who holds the lock (from what the holder wrote into the lock file)."""
    text = ""
    for _ in range(20):  # the holder writes its pid just after taking the lock
        try:
            if isinstance(fd_or_path, int):
                text = os.pread(fd_or_path, 4096, 0).decode("utf-8", "replace")
            else:
                text = Path(fd_or_path).read_text(encoding="utf-8", errors="replace")[:4096]
        except OSError:
            text = ""
        if text.strip():
            break
        time.sleep(0.05)
    lines = text.splitlines()
    pid = lines[0].strip() if lines and lines[0].strip().isdigit() else None
    what = ", ".join(x.strip() for x in lines[1:3] if x.strip())
    who = f"process {pid}" if pid else "another process"
    return (f"{path} is being written by {who}" + (f" ({what})" if what else "")
            + ": wait until it ends (or stop it); reading the directory (info) needs no lock")


def lock_holder(run_dir):
    """What holds the write lock of ``run_dir`` (a message naming the process), or None when no
    process does. Takes no lock (a shared probe, released at once)."""
    path = Path(run_dir) / LOCK
    key = os.path.realpath(run_dir)
    if key in _HELD:
        return None  # this process
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return None
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            return _holder_text(fd, Path(run_dir))
        except OSError:
            return None
        fcntl.flock(fd, fcntl.LOCK_UN)
        return None
    finally:
        os.close(fd)


def _command_line():
    argv = [os.path.basename(sys.argv[0]) if sys.argv and sys.argv[0] else "python"] + sys.argv[1:]
    text = " ".join(argv)
    return text if len(text) <= 200 else text[:180] + "..."


def _acquire(run_dir, create):
    lock = run_dir / LOCK
    for _ in range(100):
        if create:
            try:
                run_dir.mkdir(parents=True, exist_ok=True)
            except FileExistsError:
                raise RunError(f"output directory {run_dir} exists and is not a directory") from None
            except OSError as exc:
                raise RunError(f"cannot create output directory {run_dir}: {exc.strerror or exc}") from None
        elif not run_dir.is_dir():
            raise RunError(f"{run_dir} is not a directory (expected a run directory written by "
                           "'brian-effplast train')")
        try:
            fd = os.open(lock, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
        except FileNotFoundError:  # the directory went (a failed train removing its own): again
            continue
        except OSError as exc:
            raise RunError(f"{run_dir}: cannot take the write lock {lock}: {exc.strerror or exc}") from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            message = _holder_text(fd, run_dir)
            os.close(fd)
            raise RunError(message) from None
        except OSError as exc:
            os.close(fd)
            raise RunError(f"{run_dir}: cannot lock {lock}: {exc.strerror or exc}") from None
        # a holder unlinks the lock file as it lets go: the file locked must still be the lock file
        try:
            same = os.stat(lock).st_ino == os.fstat(fd).st_ino
        except OSError:
            same = False
        if not same:
            os.close(fd)
            continue
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n{_command_line()}\nsince {_now()}\n".encode("utf-8"), 0)
        return fd
    raise RunError(f"{run_dir}: cannot take the write lock {lock}: it keeps changing")  # pragma: no cover


def _release(run_dir, fd):
    try:
        if os.stat(run_dir / LOCK).st_ino == os.fstat(fd).st_ino:
            os.unlink(run_dir / LOCK)  # (before letting go: see _acquire)
    except OSError:
        pass
    os.close(fd)


@contextlib.contextmanager
def writing(run_dir, *, create=False, empty=False):
    """Hold the write lock of run directory ``run_dir`` while the block writes it.

    The lock is an exclusive ``flock`` on ``run_dir/.lock``, which holds the
    holder's pid and command line (for the message another writer gets); it
    dies with its process, so the lock of a killed run is no obstacle. Only
    the process that takes it holds it (worker processes do not inherit it).

    Parameters
    ----------
    run_dir : path
        The directory.
    create : bool
        Create it (and its parents) if it does not exist.
    empty : bool
        Refuse it unless it holds nothing else (checked once the lock is
        held, so two writers racing on a new directory cannot both pass).

    Raises
    ------
    RunError
        Another process holds the lock (the message names it), or the
        directory is not a directory, not empty (with ``empty``) or cannot
        be locked.
    """
    run_dir = Path(run_dir)
    made = create and not run_dir.exists()
    key = os.path.realpath(run_dir) if run_dir.exists() else None
    nested = key in _HELD
    if not nested:
        fd = _acquire(run_dir, create)
        key = os.path.realpath(run_dir)
        _HELD[key] = [fd, 0]
    _HELD[key][1] += 1
    failed = True
    try:
        if empty and entries(run_dir):
            raise RunError(f"output directory {run_dir} exists and is not empty: "
                           "choose a new directory (or remove this one)")
        yield run_dir
        failed = False
    finally:
        _HELD[key][1] -= 1
        if not _HELD[key][1]:
            fd = _HELD.pop(key)[0]
            _release(run_dir, fd)
            if failed and made:
                try:
                    run_dir.rmdir()  # a directory made for nothing (only if empty)
                except OSError:
                    pass


def clear_dir(run_dir):
    """Remove everything in ``run_dir`` but its lock file (held by the caller)."""
    import shutil
    for child in entries(run_dir):
        if child.is_dir() and not child.is_symlink():
            shutil.rmtree(child)
        else:
            child.unlink()
