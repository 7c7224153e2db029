"""Every Brian2 name this package uses that is not Brian2's public API, in one place.

Each is wrapped here, checked against the installed Brian2 by
``tests/test_brian2_internals.py``, and fails loudly (or falls back with a
warning that says what is lost) when a Brian2 release changes it:

- ``CPPStandaloneDevice._last_run_time`` and
  ``._last_run_completed_fraction``: what the binary reports of its last run
  (:func:`last_run`);
- ``CPPStandaloneDevice.run_args_arrays``: the files a run's ``run_args``
  wrote into the project (:func:`run_args_files`);
- ``CPPStandaloneDevice.generate_network_source(writer, compiler)`` and the
  text of the ``network.cpp`` template: the per-step clock read moved out of
  the loop (:func:`move_clock_read_out_of_loop`);
- ``CPPStandaloneDevice.generate_makefile(writer, ...)`` and the makefile
  template's ``OPTIMISATIONS``, ``CXXFLAGS`` and ``OBJS`` variables and its
  ``%.o : %.cpp`` rule: the generated files that hold no per-step code
  compiled without optimisation, the step files with the C++ standard
  headers precompiled (:func:`compile_faster`);
- ``brian::_random_generators``, the generated code's random number
  generators: reseeded at the start of every run (:data:`RESEED_CODE`);
- the order in which ``CPPStandaloneDevice.network_run`` writes the clocks'
  resets into ``main.cpp`` (that of a set of clocks), and ``Group.__setattr__``
  letting through the attributes the object's own class defines: the clocks
  of the model, all of them, are :class:`OrderedClock` (checked by
  ``tests/test_standalone_cache.py``: a second process compiles nothing, and
  every object of a compiled structure is on one).
"""

import hashlib
import os
import re
import subprocess
import types
import warnings
from functools import lru_cache

import brian2

__all__ = ["last_run", "run_args_files", "move_clock_read_out_of_loop", "compile_faster",
           "OrderedClock", "RESEED_CODE", "check", "Brian2Changed"]

#: C++ run at the start of ``main``: reseeds Brian2's generator from a
#: ``(shared, constant)`` integer variable (format with its array name).
RESEED_CODE = "brian::_random_generators[0].seed(brian::{seed_array}[0]);"

# Brian2's network loop reads the process CPU clock after every time step, to
# measure the run time. That is a system call costing about 1 us, a fifth of the
# whole step: read it once, after the loop (these runs set no maximum run time).
_CLOCK_IN_LOOP = re.compile(
    r"\n([ \t]*current = std::clock\(\);\n[ \t]*elapsed_realtime = [^\n]*\n)"
    r"(\s*\}\n[ \t]*Network::_globally_running = false;)")
_ANY_CLOCK_IN_LOOP = re.compile(r"while\s*\([^)]*\)\s*\{(?:(?!\n\}).)*std::clock\(\)", re.S)


class Brian2Changed(RuntimeError):
    """The installed Brian2 no longer has an internal name this package relies on."""


def _changed(what):
    return Brian2Changed(f"brian-effplast relies on {what}, which Brian2 {brian2.__version__} does not have; "
                         "use Brian2 2.9 (the version this package supports: pip install 'brian2>=2.9,<2.10')")


def last_run(device):
    """``(seconds in the simulation loop, fraction of the steps completed)`` of the last standalone run."""
    try:
        return float(device._last_run_time), float(device._last_run_completed_fraction)
    except AttributeError:
        raise _changed("CPPStandaloneDevice._last_run_time and ._last_run_completed_fraction") from None


def run_args_files(device):
    """Names of the files (in the project's static_arrays folder) the last ``run_args`` wrote."""
    try:
        return list(device.run_args_arrays)
    except AttributeError:
        raise _changed("CPPStandaloneDevice.run_args_arrays") from None


def clock_read_moved(cpp):
    """``(new network.cpp text, what happened)``: "moved", "absent" (nothing to
    move: this Brian2 reads no clock per step) or "unchanged" (the template
    changed: the clock is still read every step)."""
    new, n = _CLOCK_IN_LOOP.subn(lambda m: m.group(2) + "\n" + m.group(1), cpp, count=1)
    if n:
        return new, "moved"
    return cpp, "unchanged" if _ANY_CLOCK_IN_LOOP.search(cpp) else "absent"


class OrderedClock(brian2.Clock):
    """A `~brian2.core.clocks.Clock` whose sets iterate in the same order in every process.

    Brian2 writes the clocks' resets into ``main.cpp`` in the order of a set
    of the network's clocks. With the default hash (the object's address)
    that order, hence ``main.cpp``, changed from one process to the next, and
    every process recompiled and relinked a cached project (about 3 s). With
    one hash for all, a set's order follows the order of insertion, which
    Brian2 takes from the network's sorted objects. That holds only if every
    clock of the network is one: a single Brian2 clock (``defaultclock``, the
    clock of any object not given one) lands where its address puts it and
    moves the others. (Brian2 hashes a clock before its ``__init__`` runs, so
    the hash cannot come from its name.)
    """

    # (Brian2 lets an attribute past its variables only if the object's own class defines it)
    dt, dt_ = brian2.Clock.dt, brian2.Clock.dt_

    def __hash__(self):
        return 0


class _Editing:
    """A proxy of Brian2's code writer that passes the file ``name`` through ``edit`` on its way to disk."""

    def __init__(self, writer, name, edit):
        self._writer, self._name, self._edit = writer, name, edit

    def write(self, filename, contents):
        self._writer.write(filename, self._edit(contents) if filename == self._name else contents)

    def __getattr__(self, attr):  # (the generators also read the writer's lists of files)
        return getattr(self._writer, attr)


def _patch(device, method, name, edit):
    """Make ``device``'s ``method`` (a Brian2 generator of ``name``) write ``edit(contents)``."""
    generate = getattr(type(device), method, None)
    if generate is None:
        raise _changed(f"CPPStandaloneDevice.{method}")

    def patched(self, writer, *args, **kwargs):
        generate(self, _Editing(writer, name, edit), *args, **kwargs)
    setattr(device, method, types.MethodType(patched, device))


def move_clock_read_out_of_loop(device):
    """Make ``device`` write a ``network.cpp`` that reads the CPU clock once, after the loop.

    Warns (once per build) when the template no longer matches and the
    clock is still read every step: the runs are then correct but slower.
    """
    def edit(contents):
        cpp, what = clock_read_moved(contents.cpp_file)
        if what == "unchanged":
            warnings.warn(f"brian-effplast could not move the per-step CPU clock read out of Brian2 "
                          f"{brian2.__version__}'s network loop (its network.cpp template changed): "
                          f"standalone steps will be about 1 us slower", RuntimeWarning)
        return types.SimpleNamespace(cpp_file=cpp, h_file=contents.h_file)
    _patch(device, "generate_network_source", "network.*", edit)


# Three generated files hold no per-step code: objects.cpp (the arrays: allocation, loading and writing
# them), main.cpp (the run's arguments, the call of the run) and run.cpp (start and end). Brian2 compiles
# them at -O3 like the step code, and objects.cpp is the longest compilation of a project. The step code
# (network.cpp, the code objects, brianlib's headers) keeps Brian2's flags; gcc and clang take the last -O.
UNOPTIMISED_RULE = "\n# brian-effplast: files without per-step code\nobjects.o main.o run.o: CXXFLAGS += -O0\n"

# Parsing the C++ standard headers is nine tenths of compiling a code object (about 1 s each, at any -O).
# They are precompiled once per compiler and flags, into a folder of the cache shared by every project;
# each code object and network.cpp then include the precompiled file first (-include). A precompiled
# header that does not fit a compilation (other flags, an upgraded compiler), or that could not be built,
# is not used: the compiler reads the headers as before. Never wrong, at worst not faster.
STD_HEADERS = ("algorithm", "climits", "cmath", "cstdlib", "ctime", "fstream", "iostream", "map", "random",
               "set", "string", "utility", "vector")
STD_HEADER_RULE = """
# brian-effplast: the C++ standard headers of the step files, precompiled once for these flags
STD_HEADER = {header}
STEP_OBJS = $(filter code_objects/%.o network.o,$(OBJS))
$(STEP_OBJS): CXXFLAGS += -include $(STD_HEADER)
$(STEP_OBJS): | $(STD_HEADER).gch
$(STD_HEADER).gch:
\t$(CXX) $(filter-out -include $(STD_HEADER),$(CXXFLAGS)) -x c++-header $(STD_HEADER) -o $@.$$$$ && mv -f $@.$$$$ $@ \\
\t  || rm -f $@.$$$$
"""


def _fits(makefile):
    """Whether ``makefile`` has the variables and the rule the edits rely on."""
    return all(re.search(pattern, makefile, re.M) for pattern in
               (r"^OPTIMISATIONS\s*=", r"^CXXFLAGS\s*=", r"^OBJS\s*:?=", r"^%\.o\s*:\s*%\.cpp.*\n\t.*\$\(CXXFLAGS\)"))


def setup_code_unoptimised(makefile):
    """``(new makefile text, whether the rule could be added)``."""
    if not _fits(makefile):
        return makefile, False
    return makefile + UNOPTIMISED_RULE, True


@lru_cache(maxsize=None)
def _compiler_version(cxx):
    try:
        return subprocess.run([cxx, "--version"], capture_output=True, text=True, timeout=60).stdout
    except (OSError, subprocess.SubprocessError):
        return ""


def std_header_precompiled(makefile, header_root):
    """``(new makefile text, whether the rule could be added)``: the step files
    include ``<header_root>/<key>/std.h`` (written here if missing), whose
    ``.gch`` make builds once; ``key`` is a digest of the compiler and the
    makefile's flags, so a change of either gets a header of its own."""
    if not _fits(makefile) or " " in str(header_root):
        return makefile, False  # (make cannot name a file whose path holds a space)
    flags = re.findall(r"^(?:OPTIMISATIONS|CXXFLAGS)\s*=.*$", makefile, re.M)
    cxx = os.environ.get("CXX", "g++")
    key = hashlib.sha1(repr((cxx, _compiler_version(cxx), flags, STD_HEADERS)).encode()).hexdigest()[:12]
    header = os.path.join(os.path.abspath(header_root), key, "std.h")
    if not os.path.isfile(header):
        os.makedirs(os.path.dirname(header), exist_ok=True)
        tmp = f"{header}.{os.getpid()}"
        with open(tmp, "w") as f:
            f.write("".join(f"#include <{h}>\n" for h in STD_HEADERS))
        os.replace(tmp, header)
    return makefile + STD_HEADER_RULE.format(header=header), True


def compile_faster(device, header_root):
    """Make ``device`` write a makefile that compiles ``objects.cpp``, ``main.cpp``
    and ``run.cpp`` at ``-O0`` and the step files with the C++ standard headers
    precompiled (kept under ``header_root``): a new project compiles in about
    half the time, and no step is slower.

    Warns when the makefile template no longer has the variables and rule the
    edits rely on: those files are then compiled as Brian2 compiles them.
    """
    def edit(makefile):
        if not _fits(makefile):
            warnings.warn(f"brian-effplast could not edit Brian2 {brian2.__version__}'s makefile (its template "
                          f"changed): files are compiled as Brian2 compiles them, a compilation takes longer",
                          RuntimeWarning)
            return makefile
        return std_header_precompiled(setup_code_unoptimised(makefile)[0], header_root)[0]
    _patch(device, "generate_makefile", "makefile", edit)


def check():
    """Raise :class:`Brian2Changed` if any name above is missing from the installed Brian2."""
    import inspect
    from brian2.devices.cpp_standalone.device import CPPStandaloneDevice
    run = inspect.getsource(CPPStandaloneDevice.run)  # where the binary's report is read
    for name in ("_last_run_time", "_last_run_completed_fraction"):
        if f"self.{name} =" not in run:
            raise _changed(f"CPPStandaloneDevice.{name}")
    if not hasattr(CPPStandaloneDevice(), "run_args_arrays"):
        raise _changed("CPPStandaloneDevice.run_args_arrays")
    for method in ("generate_network_source", "generate_makefile"):
        if not hasattr(CPPStandaloneDevice, method):
            raise _changed(f"CPPStandaloneDevice.{method}")
    return True
