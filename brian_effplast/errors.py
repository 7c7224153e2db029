"""The exceptions of brian-effplast's runs (configuration errors are
:class:`~brian_effplast.config.ConfigError`)."""

import contextlib
import signal
from pathlib import Path

__all__ = ["RunError", "Diverged", "Interrupted", "interrupts_unmasked"]


class RunError(ValueError):
    """A request that cannot be carried out (bad directory, bad argument, damaged file)."""


class Diverged(RuntimeError):
    """Training diverged; the run directory keeps the last good checkpoint.

    Attributes: ``run_dir`` (Path), ``summary`` (dict, as in summary.json).
    """

    def __init__(self, message, run_dir, summary):
        super().__init__(message)
        self.run_dir = Path(run_dir)
        self.summary = summary


class Interrupted(KeyboardInterrupt):
    """A run stopped by a signal (SIGINT, SIGTERM) before it finished.

    A ``KeyboardInterrupt``, so code that handles Ctrl-C handles it too.
    Nothing the interrupted run simulated is kept; a training keeps its last
    checkpoint.

    Attributes: ``signum``; ``run_dir`` and ``t`` (time units at the kept
    checkpoint) once a training has recorded the interruption, else None.
    """

    def __init__(self, signum=signal.SIGINT, message="", run_dir=None, t=None):
        super().__init__(message or f"interrupted by {signal.Signals(signum).name}")
        self.signum = int(signum)
        self.run_dir = None if run_dir is None else Path(run_dir)
        self.t = t

    @property
    def exit_status(self):
        """The shell's convention: 128 + signal number (130 for SIGINT, 143 for SIGTERM)."""
        return 128 + self.signum


@contextlib.contextmanager
def interrupts_unmasked():
    """Re-raise as itself an interrupt that CPython turned into a ``SystemError``.

    A signal handler that raises (SIGINT's default, :class:`Interrupted` of
    the command) can fire while a C function is calling back into Python
    (``os.fspath`` calling a path's ``__fspath__``); CPython then raises
    ``SystemError("... returned a result with an exception set")`` with the
    interrupt as its cause. Seen here under load, with Ctrl-C at a checkpoint:
    without this, the run was recorded as failed instead of interrupted.
    """
    try:
        yield
    except SystemError as exc:
        if isinstance(exc.__cause__, KeyboardInterrupt):
            raise exc.__cause__ from None
        raise
