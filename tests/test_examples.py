"""examples/bredenberg_2020_estimation.py runs as a script, at a shortened length, and learns."""

import re
import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "bredenberg_2020_estimation.py"


@pytest.mark.slow  # a Brian2 process training 3 s of model time on numpy (about 20-40 s)
def test_estimation_example_learns_and_draws(tmp_path):
    out = subprocess.run([sys.executable, str(EXAMPLE), "--duration", "3", "--target", "numpy",
                          "--out", str(tmp_path / "fig.png")], capture_output=True, text=True, cwd=tmp_path,
                         timeout=900)
    assert out.returncode == 0, out.stderr[-3000:]
    first, last = map(float, re.search(r"first 10% of training ([\d.]+) -> last 10% ([\d.]+)", out.stdout).groups())
    assert 0.9 < first <= 1.1 and last < first - 0.03, out.stdout  # the decoder starts near y = 0 and learns
    assert (tmp_path / "fig.png").stat().st_size > 10_000
