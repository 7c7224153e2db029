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
- ``brian::_random_generators``, the generated code's random number
  generators: reseeded at the start of every run (:data:`RESEED_CODE`).
"""

import re
import types
import warnings

import brian2

__all__ = ["last_run", "run_args_files", "move_clock_read_out_of_loop", "RESEED_CODE", "check", "Brian2Changed"]

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


def move_clock_read_out_of_loop(device):
    """Make ``device`` write a ``network.cpp`` that reads the CPU clock once, after the loop.

    Warns (once per build) when the template no longer matches and the
    clock is still read every step: the runs are then correct but slower.
    """
    generate = getattr(type(device), "generate_network_source", None)
    if generate is None:
        raise _changed("CPPStandaloneDevice.generate_network_source")

    def generate_network_source(self, writer, compiler):
        class Patching:  # writer proxy: edits network.cpp on its way to disk
            def write(self, filename, contents):
                if filename == "network.*":
                    cpp, what = clock_read_moved(contents.cpp_file)
                    if what == "unchanged":
                        warnings.warn(f"brian-effplast could not move the per-step CPU clock read out of "
                                      f"Brian2 {brian2.__version__}'s network loop (its network.cpp template "
                                      f"changed): standalone steps will be about 1 us slower", RuntimeWarning)
                    contents = types.SimpleNamespace(cpp_file=cpp, h_file=contents.h_file)
                writer.write(filename, contents)
        generate(self, Patching(), compiler)
    device.generate_network_source = types.MethodType(generate_network_source, device)


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
    if not hasattr(CPPStandaloneDevice, "generate_network_source"):
        raise _changed("CPPStandaloneDevice.generate_network_source")
    return True
