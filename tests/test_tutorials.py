"""Every notebook in ``tutorials/`` runs from top to bottom without an error.

How a notebook is run
---------------------
The ``.ipynb`` file is read as plain JSON (nbformat 4; nbformat/nbclient are
not needed). Its code cells run in order, in a fresh Python subprocess (so
Brian2's device state and preferences cannot leak into other tests), with
matplotlib's Agg backend, in one shared namespace, as in a Jupyter kernel.
Stored outputs are ignored. A cell that raises fails the test with that
cell's source and traceback. Magics (``%...``, ``!...``) are not supported:
the notebooks are plain Python.

Fast settings
-------------
The defaults of a notebook take minutes (compilation, 20000 time units of
training...). So each notebook keeps every duration, size and path in its
first code cell, a cell of plain constant assignments starting with the line
``# Settings``, for example::

    # Settings (tests/test_tutorials.py overrides these to run the notebook quickly)
    TRAIN_DURATION = 20000     # time units
    TARGET = "cpp_standalone"
    OUT = "runs/01_getting_started"

This test runs that cell as written and then, before any other cell, runs a
replacement cell of assignments built from :data:`OVERRIDES` (e.g.
``TRAIN_DURATION = 60``), together with ``TARGET = "numpy"`` and ``OUT`` set to
a directory under pytest's ``tmp_path`` (:data:`COMMON`, applied to each name
that the settings cell defines). The subprocess also runs in ``tmp_path``, so
every file a notebook writes ends up there. Every name in
:data:`OVERRIDES` must be assigned in the settings cell: a constant renamed in
a notebook without updating this file fails the test instead of silently
running the slow defaults, and a new notebook must get an entry here.

``TARGET = "numpy"`` avoids compiling C++ projects (20-30 s each for
``cpp_standalone``); the notebooks' defaults stay ``cpp_standalone``. Both
notebooks together take about 25-60 s on 2 cores.
"""

import ast
import json
import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

TUTORIALS = Path(__file__).resolve().parent.parent / "tutorials"
NOTEBOOKS = sorted(TUTORIALS.glob("*.ipynb"))

#: Settings-cell marker: the first line of a notebook's first code cell starts with it.
SETTINGS_MARKER = "# Settings"

#: Replacements for each notebook's settings cell (time units, counts).
OVERRIDES = {
    "01_getting_started.ipynb": {
        "TRAIN_DURATION": 60,   # > run.transient (40), so that some learning happens
        "REPLICAS": 2,
        "TEST_ANGLES": 4,
        "TEST_HOLD": 12,        # > runs.SETTLE (10): leaves 9 samples per angle
    },
    "02_extending.ipynb": {
        "TRAIN_DURATION": 60,
        "REPLICAS": 2,
        "FI_DURATION": 10,
        "CONTINUE_DURATION": 5,
        "TEST_DURATION": 5,
    },
}

#: Applied to every notebook whose settings cell defines the name ({tmp} is tmp_path).
COMMON = {"TARGET": "numpy", "CONTINUE_TARGET": "numpy", "OUT": "{tmp}/out"}

#: Whole notebook, seconds (generous: the CPU may be shared).
TIMEOUT = 600

# Runs the cells listed in a JSON file; on an exception writes a JSON report
# (cell label, source, traceback) and exits with status 1.
RUNNER = textwrap.dedent("""
    import json, linecache, sys, time, traceback
    spec = json.load(open(sys.argv[1], encoding="utf-8"))
    import matplotlib
    matplotlib.use("Agg")
    namespace = {"__name__": "__main__"}
    for cell in spec["cells"]:
        label, source = cell["label"], cell["source"]
        filename = "<" + label + ">"
        linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
        start = time.perf_counter()
        try:
            exec(compile(source, filename, "exec"), namespace)
        except BaseException:
            with open(spec["report"], "w", encoding="utf-8") as fh:
                json.dump({"label": label, "source": source, "traceback": traceback.format_exc()}, fh)
            sys.exit(1)
        finally:
            if "matplotlib.pyplot" in sys.modules:
                sys.modules["matplotlib.pyplot"].close("all")
        print(f"{label}: {time.perf_counter() - start:.1f} s", file=sys.stderr, flush=True)
""")


def code_cells(path):
    """``[(index in the notebook, source)]`` of the code cells of an .ipynb file."""
    nb = json.loads(Path(path).read_text(encoding="utf-8"))
    assert nb.get("nbformat") == 4, f"{path.name}: not an nbformat 4 notebook"
    cells = []
    for i, cell in enumerate(nb["cells"]):
        if cell["cell_type"] != "code":
            continue
        source = cell["source"]
        cells.append((i, "".join(source) if isinstance(source, list) else source))
    return cells


def settings_names(source, name):
    """Names assigned by a settings cell (which must hold only constant assignments)."""
    tree = ast.parse(source)
    names = set()
    for node in tree.body:
        if not (isinstance(node, ast.Assign) and all(isinstance(t, ast.Name) for t in node.targets)):
            pytest.fail(f"{name}: the settings cell (first code cell) must hold only assignments "
                        f"NAME = value; found line {node.lineno}: {ast.get_source_segment(source, node)!r}")
        names.update(t.id for t in node.targets)
    return names


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def test_notebook_runs(notebook, tmp_path):
    name = notebook.name
    cells = code_cells(notebook)
    assert cells, f"{name} has no code cells"
    first_index, settings = cells[0]
    assert settings.lstrip().startswith(SETTINGS_MARKER), (
        f"{name}: the first code cell must be the settings cell, starting with {SETTINGS_MARKER!r}")
    defined = settings_names(settings, name)
    assert name in OVERRIDES, (
        f"{name}: add its fast settings to OVERRIDES in {Path(__file__).name} (names of its settings cell: "
        f"{sorted(defined)})")
    missing = set(OVERRIDES[name]) - defined
    assert not missing, f"{name}: the settings cell does not define {sorted(missing)} (see OVERRIDES)"
    assert "OUT" in defined, f"{name}: the settings cell must define OUT (where the notebook writes)"

    values = dict(OVERRIDES[name])
    values.update({k: v.format(tmp=tmp_path) if isinstance(v, str) else v
                   for k, v in COMMON.items() if k in defined})
    override = "".join(f"{k} = {v!r}\n" for k, v in values.items())
    where = lambda n, i: f"{name}, code cell {n} of {len(cells)} (cell {i + 1} of the notebook)"
    run = [{"label": where(1, first_index) + ", settings", "source": settings},
           {"label": f"{name}, settings override (tests/test_tutorials.py)", "source": override}]
    run += [{"label": where(n, i), "source": src} for n, (i, src) in enumerate(cells[1:], start=2)]
    report = tmp_path / "failure.json"
    spec = tmp_path / "cells.json"
    spec.write_text(json.dumps({"cells": run, "report": str(report)}), encoding="utf-8")

    env = dict(os.environ, MPLBACKEND="Agg", PYTHONHASHSEED="0",
               # compiled cpp_standalone projects (if a notebook still builds one) stay in tmp_path
               BRIAN_EFFPLAST_CACHE=str(tmp_path / "standalone_cache"))
    start = time.perf_counter()
    try:
        proc = subprocess.run([sys.executable, "-c", RUNNER, str(spec)], cwd=tmp_path, env=env,
                              capture_output=True, text=True, timeout=TIMEOUT, check=False)
    except subprocess.TimeoutExpired as exc:
        done = exc.stderr.decode(errors="replace") if isinstance(exc.stderr, bytes) else exc.stderr or ""
        pytest.fail(f"{name} did not finish within {TIMEOUT} s; cells done:\n{done}")
    elapsed = time.perf_counter() - start
    if report.exists():
        failure = json.loads(report.read_text(encoding="utf-8"))
        pytest.fail(f"{failure['label']} raised an exception.\n\n"
                    f"----- source -----\n{failure['source']}\n"
                    f"----- traceback -----\n{failure['traceback']}\n"
                    f"----- stderr (last 3000 characters) -----\n{proc.stderr[-3000:]}",
                    pytrace=False)
    assert proc.returncode == 0, (f"{name}: the notebook process exited with status {proc.returncode} "
                                  f"(no cell reported an exception)\n--- stdout ---\n{proc.stdout[-3000:]}\n"
                                  f"--- stderr ---\n{proc.stderr[-3000:]}")
    print(f"{name}: {len(cells)} code cells in {elapsed:.1f} s\n{proc.stderr}")
