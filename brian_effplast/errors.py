"""The exceptions of brian-effplast's runs (configuration errors are
:class:`~brian_effplast.config.ConfigError`)."""

import signal
from pathlib import Path

__all__ = ["RunError", "Diverged", "Interrupted"]


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
