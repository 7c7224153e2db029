"""Every notebook in ``tutorials/`` runs from top to bottom in a Jupyter kernel.

How a notebook is run
---------------------
As papermill does, but with ``nbclient`` alone: the notebook is read with
``nbformat``, a cell tagged ``injected-parameters`` holding the short
settings of :data:`PARAMETERS` is inserted right after the notebook's cell
tagged ``parameters``, and ``nbclient`` executes every cell in a fresh
IPython kernel (``ipykernel``, the ``python3`` kernel of this environment),
with the kernel's working directory in pytest's ``tmp_path``. Magics and
rich display work as in Jupyter; a cell that raises fails the test with
that cell's source and traceback (nbclient's ``CellExecutionError``). The
notebook file itself is not changed: a person opening it runs the defaults
of its ``parameters`` cell.

Short settings
--------------
The defaults of a notebook take minutes (compilations, 20000 time units of
training...). :data:`PARAMETERS` gives each notebook tiny durations, and
``TARGET = "numpy"`` where a notebook has a target (no C++ compilation:
numpy is the fastest at these sizes). ``OUT`` goes under ``tmp_path``, and
the compiled-project cache of ``cpp_standalone`` (``BRIAN_EFFPLAST_CACHE``)
too, so each run of ``03_standalone.ipynb`` compiles from scratch, as on a
new machine. Every name in :data:`PARAMETERS` must be assigned in the
notebook's parameters cell: a constant renamed in a notebook without
updating this file fails the test instead of silently running the slow
defaults, and a new notebook must get an entry here (or, if a test file of
its own runs it, in :data:`ELSEWHERE`).

Measured on 2 shared cores (other jobs running): 01 29 s and 02 35 s on
numpy (kernel start and imports included); 03 (cpp_standalone, three
compilations from an empty cache) 100 s; 2-3 times as long when the machine
is busier. 05 (3 seeds on numpy, on a local dask cluster of two worker
processes, each importing Brian2 and generating its code) 61 s with a load
average of 3-4 (65 s of CPU in all), 272 s at 7-10. A Jupyter kernel each:
all in the slow tier.
"""

import ast
import sys
import time
from pathlib import Path

import pytest

import ipykernel  # noqa: F401  (the kernel; the test extra installs nbformat, nbclient and ipykernel)
import nbclient
import nbclient.exceptions
import nbformat

pytestmark = pytest.mark.slow  # a Jupyter kernel per notebook

TUTORIALS = Path(__file__).resolve().parent.parent / "tutorials"
NOTEBOOKS = sorted(TUTORIALS.glob("*.ipynb"))

#: Short settings injected after each notebook's ``parameters`` cell ({tmp} is tmp_path).
PARAMETERS = {
    "01_getting_started.ipynb": {
        "TRAIN_DURATION": 60,   # > run.transient (40), so that some learning happens
        "REPLICAS": 2,
        "TARGET": "numpy",
        "TEST_ANGLES": 4,
        "TEST_HOLD": 12,        # > runs.SETTLE (10): leaves 9 samples per angle
        "OUT": "{tmp}/out",
    },
    "02_extending.ipynb": {
        "TRAIN_DURATION": 60,
        "REPLICAS": 2,
        "TARGET": "numpy",
        "CONTINUE_TARGET": "numpy",
        "FI_DURATION": 10,
        "CONTINUE_DURATION": 5,
        "TEST_DURATION": 5,
        "OUT": "{tmp}/out",
    },
    "03_standalone.ipynb": {  # about standalone: stays on cpp_standalone
        "DURATION": 60,
        "REPLICAS": 2,
        "SIGMAS": (0.1, 0.3),
        "WORKERS": 2,
        "OUT": "{tmp}/out",
    },
    "05_paper_panel_sweep.ipynb": {
        "SEEDS": 3,             # a few networks: an s.e.m. and a paired test
        "DURATION": 60,         # > run.transient (40)
        "TEST_HOLD": 12,        # > runs.SETTLE (10)
        "TARGET": "numpy",
        "WORKERS": 2,           # the local dask cluster's worker processes
        "OUT": "{tmp}/out",
    },
}

#: Notebooks executed by another test file, with its own short settings (name -> that file in tests/).
ELSEWHERE = {"04_rule_in_your_network.ipynb": "test_rule_notebook.py"}


#: Seconds per cell (generous: the CPU may be shared, and a compilation takes 20-60 s).
CELL_TIMEOUT = 600


def parameters_cell(nb, name):
    """Index of the notebook's one cell tagged ``parameters``, checked to hold only assignments."""
    tagged = [i for i, cell in enumerate(nb.cells) if "parameters" in cell.get("metadata", {}).get("tags", [])]
    assert len(tagged) == 1, f"{name}: needs exactly one cell tagged 'parameters' (papermill convention), has {len(tagged)}"
    cell = nb.cells[tagged[0]]
    assert cell.cell_type == "code", f"{name}: the cell tagged 'parameters' is not a code cell"
    for node in ast.parse(cell.source).body:
        assert isinstance(node, ast.Assign) and all(isinstance(t, ast.Name) for t in node.targets), (
            f"{name}: the parameters cell must hold only assignments NAME = value; found line {node.lineno}: "
            f"{ast.get_source_segment(cell.source, node)!r}")
    return tagged[0]


def assigned_names(source):
    return {t.id for node in ast.parse(source).body for t in node.targets}


def inject(nb, name, values):
    """Insert the ``injected-parameters`` cell after the ``parameters`` cell, as papermill does."""
    index = parameters_cell(nb, name)
    missing = set(values) - assigned_names(nb.cells[index].source)
    assert not missing, f"{name}: the parameters cell does not assign {sorted(missing)} (see PARAMETERS)"
    lines = ["# Parameters injected by tests/test_tutorials.py"]
    lines += [f"{key} = {value!r}" for key, value in values.items()]
    # the kernel must be this environment's Python, with this checkout of brian_effplast
    lines += ["import sys as _sys, brian_effplast as _be",
              f"assert _sys.prefix == {sys.prefix!r}, f'kernel runs {{_sys.executable}}, not {sys.executable}'",
              f"assert _be.__file__.startswith({str(TUTORIALS.parent)!r}), _be.__file__",
              "del _sys, _be"]
    cell = nbformat.v4.new_code_cell("\n".join(lines), metadata={"tags": ["injected-parameters"]})
    nb.cells.insert(index + 1, cell)


def test_every_notebook_is_tested():
    """A notebook in tutorials/ has short settings here, or a test file of its own."""
    for notebook in NOTEBOOKS:
        name = notebook.name
        if name in ELSEWHERE:
            assert (Path(__file__).parent / ELSEWHERE[name]).is_file(), f"{name}: tests/{ELSEWHERE[name]} is missing"
        else:
            assert name in PARAMETERS, f"{name}: add its short settings to PARAMETERS in {Path(__file__).name}"
    assert set(PARAMETERS) <= {p.name for p in NOTEBOOKS}, "PARAMETERS names a notebook that does not exist"


@pytest.mark.parametrize("notebook", [pytest.param(p, id=p.name) for p in NOTEBOOKS if p.name not in ELSEWHERE])
def test_notebook_runs(notebook, tmp_path, monkeypatch):
    name = notebook.name
    assert name in PARAMETERS, f"{name}: add its short settings to PARAMETERS in {Path(__file__).name}"
    nb = nbformat.read(notebook, as_version=4)
    nbformat.validate(nb)
    values = {k: v.format(tmp=tmp_path) if isinstance(v, str) else v for k, v in PARAMETERS[name].items()}
    inject(nb, name, values)

    # the kernel inherits this environment: compiled projects stay in tmp_path
    monkeypatch.setenv("BRIAN_EFFPLAST_CACHE", str(tmp_path / "standalone_cache"))
    monkeypatch.setenv("PYTHONHASHSEED", "0")
    monkeypatch.delenv("MPLBACKEND", raising=False)  # the kernel's own inline backend, as in Jupyter
    client = nbclient.NotebookClient(nb, timeout=CELL_TIMEOUT, kernel_name="python3", allow_errors=False,
                                     resources={"metadata": {"path": str(tmp_path)}})
    start = time.perf_counter()
    try:
        client.execute()
    except nbclient.exceptions.CellExecutionError as exc:
        pytest.fail(f"{name}: a cell raised an exception in the kernel\n{exc}", pytrace=False)
    except nbclient.exceptions.CellTimeoutError as exc:
        pytest.fail(f"{name}: a cell took more than {CELL_TIMEOUT} s\n{exc}", pytrace=False)
    elapsed = time.perf_counter() - start

    code = [c for c in nb.cells if c.cell_type == "code"]
    assert all(c.get("execution_count") for c in code), f"{name}: not every code cell ran"
    errors = [o for c in code for o in c.outputs if o.output_type == "error"]
    assert not errors, f"{name}: error outputs {errors}"
    images = sum("image/png" in o.get("data", {}) for c in code for o in c.outputs)
    assert images, f"{name}: no figure was displayed"
    last_code = code[-1]
    assert any("image/png" in o.get("data", {}) for o in last_code.outputs), (
        f"{name}: the last code cell should end in a figure")
    print(f"{name}: {len(code)} code cells, {images} figures, {elapsed:.1f} s")
