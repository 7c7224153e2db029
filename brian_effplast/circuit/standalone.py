"""Compile once, run many: cached ``cpp_standalone`` projects.

A standalone project is compiled for a *structure* (sizes, task, F-I
curve, step, duration, monitors). Everything a study varies between runs,
the whole model state, the learning switch, ``sigma``, ``kappa``, ``mu``,
``sigma_s``, the learning rates and L2 constants, and the noise seed, goes
in through Brian2's ``run_args``, so a series of runs of the same structure
compiles once. Projects live in a cache directory
(``$BRIAN_EFFPLAST_CACHE``, default ``~/.cache/brian-effplast``), one
folder per structure and process slot, so later processes reuse the
compiled code (generated files are rewritten only when they change, and
``make`` skips the rest). A structure that differs from a compiled one only
in its run's duration starts from a copy of it and recompiles ``main.cpp``
alone: seconds instead of a minute. A slot is held with an exclusive lock
while a process uses it: parallel processes get separate slots and never race.
Processes that start the same structure at once compile it once: one
compiles under a per-structure lock, the others copy its compiled slot.

A slot is marked complete (a stamp file) only after its project compiled;
a slot without the stamp (its compilation was killed half-way) is emptied
before it is used again. ``make`` and the binary run under the guard of
:mod:`brian_effplast.circuit.lifetime`, so neither outlives the process that
started it, and an interrupt kills the binary at once: a run that did not
simulate every step raises :class:`Interrupted`, never returns partial
results.
"""

import fcntl
import gc
import glob
import hashlib
import os
import shlex
import shutil
import signal
import subprocess

import brian2
from brian2 import device, get_device, set_device

from .brian2_internals import (RESEED_CODE, compile_faster, last_run, move_clock_read_out_of_loop,
                               run_args_files)
from ..errors import Interrupted
from .lifetime import guarded

__all__ = ["cache_root", "headers_folder", "headers_size", "cached_projects", "clear_cache", "release_device",
           "StandaloneProject"]

_STAMP = ".brian-effplast-compiled"  # in a project folder: its compilation finished

_ACTIVE = None  # the project the (global) standalone device currently holds

def cache_root():
    """Folder of the cached standalone projects."""
    return os.environ.get("BRIAN_EFFPLAST_CACHE",
                          os.path.join(os.path.expanduser("~"), ".cache", "brian-effplast"))


def headers_folder():
    """Folder of the precompiled C++ standard headers (one per compiler and flags, shared by every project)."""
    return os.path.join(cache_root(), "headers")


def _folder_size(path):
    return sum(os.path.getsize(os.path.join(d, f)) for d, _, files in os.walk(path) for f in files
               if not os.path.islink(os.path.join(d, f)))


def headers_size():
    """Bytes of the precompiled headers in the cache."""
    return _folder_size(headers_folder())


def cached_projects():
    """``[(folder, bytes, in_use)]`` of the compiled projects in the cache."""
    base = os.path.join(cache_root(), "standalone")
    out = []
    for name in sorted(os.listdir(base)) if os.path.isdir(base) else []:
        folder = os.path.join(base, name)
        if not os.path.isdir(folder):
            continue
        with open(folder + ".lock", "a") as handle:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                in_use = False
            except OSError:
                in_use = True
        out.append((folder, _folder_size(folder), in_use))
    return out


def clear_cache():
    """Delete every cached project no process is using, and the precompiled
    headers if no project is in use (a process compiling one holds its slot);
    returns ``(deleted projects, bytes freed, projects kept in use)``."""
    deleted = freed = kept = 0
    for folder, size, _ in cached_projects():
        with open(folder + ".lock", "a") as handle:
            try:  # hold the slot's lock while deleting, so no process can claim it meanwhile
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                kept += 1
                continue
            shutil.rmtree(folder, ignore_errors=True)
            deleted, freed = deleted + 1, freed + size
    if not kept:
        freed += headers_size()
        shutil.rmtree(headers_folder(), ignore_errors=True)
    return deleted, freed, kept


def _digest(obj):
    return hashlib.sha1(repr(obj).encode()).hexdigest()[:12]


def _claim_slot(key, family):
    """Lock and return a project folder for ``key`` that no other process holds
    (named ``<family>_<key>-<slot>``: see :func:`_copy_compiled`)."""
    digest = f"{_digest(family)}_{_digest(key)}"
    base = os.path.join(cache_root(), "standalone")
    os.makedirs(base, exist_ok=True)
    for slot in range(64):
        directory = os.path.join(base, f"{digest}-{slot}")
        handle = open(directory + ".lock", "w")
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            handle.close()
            continue
        if os.path.isdir(directory) and not os.path.isfile(os.path.join(directory, _STAMP)):
            # a compilation killed half-way (its lock died with it): its object
            # files may be truncated but newer than their sources; start over
            shutil.rmtree(directory, ignore_errors=True)
        return directory, handle
    raise RuntimeError(f"no free standalone project slot under {base}")


def _compile_lock(directory):
    """An exclusive lock for compiling the structure of slot ``directory``
    (held while a process compiles it, so that processes starting the same
    structure at once compile it once: the others copy the result)."""
    handle = open(directory.rsplit("-", 1)[0] + ".compile.lock", "w")
    fcntl.flock(handle, fcntl.LOCK_EX)
    return handle


def _copy_compiled(directory):
    """Fill the empty slot ``directory`` from another slot that finished
    compiling: of the same structure (``make`` then finds nothing to do), else of
    the same family (the same structure but for the run's duration, which only
    ``main.cpp`` holds: Brian2 rewrites only the generated files that changed,
    and ``make`` recompiles only those and what includes them). False if none."""
    if os.path.isdir(directory):
        return False
    prefix = directory.rsplit("-", 1)[0] + "-"
    family = directory.rsplit("_", 1)[0] + "_"
    same = sorted(glob.glob(glob.escape(prefix) + "[0-9]*"))
    for other in same + sorted(set(glob.glob(glob.escape(family) + "*-[0-9]*")) - set(same)):
        if other != directory and os.path.isfile(os.path.join(other, _STAMP)):
            try:  # (not the other slot's results, nor the state files of its runs)
                shutil.copytree(other, directory, symlinks=True,
                                ignore=shutil.ignore_patterns("results_*", "init_*", _STAMP))
            except OSError:  # the other slot is being cleared meanwhile: compile instead
                shutil.rmtree(directory, ignore_errors=True)
                continue
            return True
    return False


class StandaloneProject:
    """One compiled standalone binary and the Brian2 objects it was built from.

    Parameters
    ----------
    key : tuple
        Everything compiled into the binary (its structure); one project
        folder per key.
    build : callable
        ``build() -> (objects, run_duration)``: creates the Brian2 objects
        (with fixed names, so the generated code is the same every time)
        and returns them with the duration of the single ``run``.
        The build also returns the ``(shared, constant)`` integer variable
        used to reseed Brian2's generator at the start of every run.
    profile : bool
        Compile with Brian2's per-code-object profiling.
    family : tuple, optional
        The key without the run's duration (default: ``key``): a new
        structure starts from a compiled project of its family, if there is
        one, and recompiles only what differs (``main.cpp``).
    """

    def __init__(self, key, build, profile=False, family=None):
        global _ACTIVE
        if _ACTIVE is not None:
            _ACTIVE.close()
        self.key, self.profile = key, profile
        self.directory, self._lock = _claim_slot(key, key if family is None else family)
        self.runs = 0
        set_device("cpp_standalone", build_on_run=False)
        self.device = get_device()
        move_clock_read_out_of_loop(self.device)
        compile_faster(self.device, headers_folder())
        if brian2.prefs.devices.cpp_standalone.extra_make_args_unix == ["-j"]:
            # Brian2's default starts every compile job at once; one per core is as fast
            brian2.prefs.devices.cpp_standalone.extra_make_args_unix = [f"-j{os.cpu_count() or 1}"]
        try:
            self.objects, duration, seed_view = build()
            # run_args are applied before the reseed, which reads the seed they set
            device.apply_run_args()
            seed_array = device.get_array_name(seed_view.variable)
            device.insert_code("main", RESEED_CODE.format(seed_array=seed_array))
            self.network = brian2.Network([o for o in self.objects.values() if isinstance(o, brian2.BrianObject)])
            self.network.run(duration, namespace={}, profile=profile)
            stamp = os.path.join(self.directory, _STAMP)
            if os.path.exists(stamp):
                os.remove(stamp)
            with _compile_lock(self.directory):
                _copy_compiled(self.directory)
                device.build(directory=self.directory, compile=False, run=False, with_output=False)
                _compile(self.directory)
                open(stamp, "w").close()
        except BaseException:
            self.close()
            raise
        finally:
            # Runtime code elsewhere in the process keeps working; this project's
            # variables remember their device.
            set_device("runtime")
        _ACTIVE = self

    def run(self, run_args):
        """Run the binary once with ``run_args`` ({VariableView: value}).

        Returns the time spent in the simulation loop (seconds, as the
        binary measured it) and, when profiled, ``[(code object, seconds)]``.
        """
        self.runs += 1
        prefs = brian2.prefs.devices.cpp_standalone
        run_cmd = prefs.run_cmd_unix
        prefs.run_cmd_unix = guarded(shlex.split(run_cmd) if isinstance(run_cmd, str) else list(run_cmd))
        try:
            self.device.run(directory=self.directory, results_directory=f"results_{os.getpid()}",
                            with_output=False, run_args=run_args)
        finally:
            prefs.run_cmd_unix = run_cmd
        loop_seconds, completed = last_run(self.device)
        if completed < 1.0:  # the binary's own SIGINT handler stopped it
            raise Interrupted(signal.SIGINT, f"the simulation stopped after {100 * completed:.1f}% of its steps")
        for name in run_args_files(self.device):  # state files of this run: not needed again
            try:
                os.remove(os.path.join(self.directory, "static_arrays", name))
            except OSError:
                pass
        profile = None
        if self.profile:
            with open(os.path.join(self.device.results_dir, "profiling_info.txt")) as f:
                profile = [(name, float(value)) for name, value in (line.split() for line in f)]
        return loop_seconds, profile

    def close(self):
        """Give the device back and release the slot."""
        global _ACTIVE
        if _ACTIVE is self:
            _ACTIVE = None
        # drop the objects (the device refers to them until it is reset) so that
        # the next project can reuse their names: same names, same generated code
        self.objects = self.network = None
        self.device.reinit()
        gc.collect()
        set_device("runtime")
        if self._lock is not None:
            self._lock.close()
            self._lock = None


def _compile(directory):
    """``make`` in ``directory``, under the guard; output in ``make.log`` there."""
    prefs = brian2.prefs.devices.cpp_standalone
    command = guarded(shlex.split(prefs.make_cmd_unix) + list(prefs.extra_make_args_unix))
    log = os.path.join(directory, "make.log")
    with open(log, "w") as out:
        process = subprocess.Popen(command, cwd=directory, stdout=out, stderr=subprocess.STDOUT)
        try:
            code = process.wait()
        except BaseException:  # an interrupt: the guard kills make and every compiler
            process.send_signal(signal.SIGTERM)
            process.wait()
            raise
    if code:
        raise RuntimeError(f"compiling the standalone project in {directory} failed (exit status {code}); "
                           f"the compiler's output is in {log}")


def release_device():
    """Close the project that Brian2's standalone device holds in this process, if any.

    A model run on ``cpp_standalone`` keeps its compiled project on Brian2's
    (global) standalone device, so that the next run of the same structure
    starts at once. Call this before building networks of your own on that
    device in the same process (``set_device("cpp_standalone", ...)``):
    otherwise Brian2 refuses to run them, as a device that has already run.
    """
    if _ACTIVE is not None:
        _ACTIVE.close()


def active_project(key):
    """The current project if it was compiled for ``key``."""
    return _ACTIVE if _ACTIVE is not None and _ACTIVE.key == key else None
