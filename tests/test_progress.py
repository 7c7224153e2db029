"""Training progress: the rate and the time left count the simulation loop, not the compilation.

The reference is plain arithmetic: a chunk of n steps of dt time units whose loop took L seconds
runs at n*dt/L time units per second, whatever the wall time around it (compilation, building).
"""

import io
import time

from brian_effplast.runs.progress import Progress


class Terminal(io.StringIO):
    def isatty(self):
        return True


def test_first_estimate_leaves_out_the_compilation():
    stream = io.StringIO()  # not a terminal: one line per checkpoint
    progress = Progress(True, total_steps=4000, start_steps=0, dt=0.01, stream=stream)
    time.sleep(0.3)  # stands for a compilation: 0.3 s of wall time outside the loop
    progress.chunk_done(1000, loop_seconds=0.1)  # 10 time units in 0.1 s of loop: 100 time units/s
    line = stream.getvalue()
    assert "10/40 time units (25%), 100 time units/s, 0 s left" in line, line  # not 10/0.3 = 33 /s
    progress.chunk_done(4000, loop_seconds=0.3)
    assert "40 time units done in" in stream.getvalue()


def test_brian2_reports_give_the_loop_time_of_runtime_targets():
    stream = io.StringIO()
    progress = Progress(True, total_steps=2000, start_steps=0, dt=0.01, stream=stream)
    report = progress.reporter(0, 1000, "numpy")
    report(0.0, 0.0, 0.0, 10.0)   # Brian2 at the start of a run: nothing to estimate yet
    report(0.05, 0.5, 0.0, 10.0)  # half of 10 time units in 0.05 s of loop
    report(0.2, 1.0, 0.0, 10.0)   # the end: 10 time units in 0.2 s of loop
    time.sleep(0.2)               # after the loop: the model collects its monitors
    progress.chunk_done(1000, loop_seconds=5.0)  # Brian2's report wins over the wall time around it
    lines = stream.getvalue().splitlines()
    assert lines == ["brian-effplast: 5/20 time units (25%), 100 time units/s, 0 s left",
                     "brian-effplast: 10/20 time units (50%), 50 time units/s, 0 s left"], lines


def test_a_terminal_gets_a_progress_bar():
    stream = Terminal()
    progress = Progress(True, total_steps=2000, start_steps=500, dt=0.01, stream=stream)
    progress.chunk_done(1000, loop_seconds=0.25)  # 5 time units in 0.25 s: 20 time units/s
    shown = stream.getvalue()
    assert "10/20 time units" in shown and "20 time units/s, 0 s left]" in shown and "|" in shown, shown
    progress.chunk_done(2000, loop_seconds=0.5)
    shown = stream.getvalue()
    assert "100%" in shown and "15 time units done in" in shown, shown


def test_quiet_shows_nothing():
    stream = Terminal()
    progress = Progress(False, total_steps=100, start_steps=0, dt=0.01, stream=stream)
    progress.chunk_done(100, loop_seconds=0.1)
    progress.message("hello")
    assert progress.reporter(0, 100, "numpy") is None and stream.getvalue() == ""
