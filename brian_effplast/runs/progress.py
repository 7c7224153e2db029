"""Training progress: a tqdm bar on a terminal, a line per checkpoint in a log."""

import sys
import time

import numpy as np
from tqdm import tqdm

from ..config.messages import duration_text

__all__ = ["Progress"]


class Progress:
    """Training progress on a stream: a tqdm bar on a terminal, a line per checkpoint
    elsewhere (log files). The rate and the time left count the simulation loop only:
    the compilation and network building that a first chunk pays are left out."""

    def __init__(self, enabled, total_steps, start_steps, dt, stream=None):
        self.stream = stream if stream is not None else sys.stderr
        self.enabled = bool(enabled)
        self.tty = self.enabled and hasattr(self.stream, "isatty") and self.stream.isatty()
        self.total, self.start, self.dt = total_steps, start_steps, dt
        self.t0 = time.perf_counter()
        self._last = (self.t0, start_steps)  # (wall time, steps) at the last checkpoint
        self._loop = None  # Brian2's reports: seconds in this chunk's loops (runtime targets)
        self._bar = None

    def _show(self, done_steps, rate):
        done, total = done_steps * self.dt, self.total * self.dt
        left = (total - done) / rate if rate > 0 else float("nan")
        speed = f"{rate:.0f} time units/s, {duration_text(left)} left"
        if not self.tty:
            self.stream.write(f"brian-effplast: {done:.0f}/{total:.0f} time units "
                              f"({100 * done / total:.0f}%), {speed}\n")
            self.stream.flush()
            return
        if self._bar is None:
            self._bar = tqdm(total=total, initial=self.start * self.dt, file=self.stream, dynamic_ncols=True,
                             desc="brian-effplast", postfix=speed, bar_format="{desc}: {percentage:3.0f}%|{bar}| "
                             "{n:.0f}/{total:.0f} time units [{elapsed} so far{postfix}]")
        self._bar.set_postfix_str(speed, refresh=False)
        self._bar.update(done - self._bar.n)
        self._bar.refresh()  # (tqdm skips updates closer than 0.1 s; these are seconds apart)

    def message(self, text):
        if self.enabled:
            self.close()
            self.stream.write(text + "\n")
            self.stream.flush()

    def chunk_done(self, done_steps, loop_seconds=None):
        """At a checkpoint: the rate of the last chunk's simulation loop (Brian2's report of
        it, else ``loop_seconds``, else the wall time since the last checkpoint), and the
        total at the end."""
        if not self.enabled:
            return
        now = time.perf_counter()
        last_t, last_steps = self._last
        self._last = (now, done_steps)
        seconds = next(s for s in (self._loop, loop_seconds, now - last_t) if s is not None)
        self._loop = None
        rate = (done_steps - last_steps) * self.dt / seconds if seconds > 0 else 0.0
        if done_steps < self.total:
            self._show(done_steps, rate)
            return
        if self._bar is not None:
            self._bar.set_postfix_str("done", refresh=False)
            self._bar.update(done_steps * self.dt - self._bar.n)
            self._bar.refresh()
        self.close()
        wall = now - self.t0
        self.stream.write(f"brian-effplast: {(done_steps - self.start) * self.dt:.0f} time units done in "
                          f"{wall:.1f} s ({(done_steps - self.start) * self.dt / wall if wall > 0 else 0:.0f} "
                          "time units/s, compilation included)\n")
        self.stream.flush()

    def close(self):
        if self._bar is not None:
            self._bar.close()
            self._bar = None

    def reporter(self, chunk_start, chunk_steps, target):
        """The ``report`` argument of a run of ``chunk_steps`` steps (runtime
        targets), or None."""
        if not self.enabled:
            return None
        if target != "cpp_standalone":
            def report(elapsed, completed, start, duration):
                elapsed = float(np.asarray(elapsed))  # Brian2's: since the loop started
                completed = float(completed)
                if completed >= 1:  # a Brian2 run ended (a chunk may be several: trials)
                    self._loop = (self._loop or 0.0) + elapsed
                rate = completed * chunk_steps * self.dt / elapsed if elapsed > 0 else 0.0
                if 0 < completed < 0.999:  # the end of a chunk is reported by chunk_done
                    self._show(chunk_start + completed * chunk_steps, rate)
            return report
        # cpp_standalone: the model runs a compiled project (cached across runs and
        # processes, so nothing chunk-specific may be compiled into it); progress
        # is reported at the chunk (checkpoint) boundaries.
        return None
