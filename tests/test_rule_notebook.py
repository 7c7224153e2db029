"""The README's section "The rule in your own network" and its notebook
(tutorials/04_rule_in_your_network.ipynb) run as written.

The README's example is taken from README.md by its heading (the first
``python`` block under it) and run in a fresh interpreter; what it prints must
be what the README shows (its learning curve, to round-off) and must show
learning, with every object of its network on one clock. The notebook runs in a real Jupyter kernel (nbclient, ipykernel) with
short settings in a cell inserted after its ``parameters`` cell, as papermill
does; it must end with a figure.
"""

import ast
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

pytestmark = pytest.mark.slow  # a Jupyter kernel and a training: tens of seconds each

ROOT = Path(__file__).resolve().parent.parent
HEADING = "## The rule in your own network"
NOTEBOOK = ROOT / "tutorials" / "04_rule_in_your_network.ipynb"


def readme_blocks():
    """The example code and the output it shows, from the README section under HEADING."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    assert HEADING in text, f"README.md has no section {HEADING!r}"
    section = text.split(HEADING, 1)[1].split("\n## ", 1)[0]
    code = re.search(r"```python\n(.*?)```", section, re.S)
    shown = re.search(r"It prints[^\n]*\n\n```\n(.*?)```", section, re.S)
    assert code and shown, "the section needs a ```python block and, after 'It prints', its output"
    return code.group(1), shown.group(1)


def curve(text):
    """The squared errors per second printed by the example."""
    match = re.search(r"squared error per second: \[(.*?)\]", text, re.S)
    assert match, text
    return np.array(match.group(1).split(), dtype=float)


def test_readme_example_runs_as_written(tmp_path):
    code, shown = readme_blocks()
    script = tmp_path / "example.py"
    # every object of the example's network, the rule's blocks and what they contain included, on one clock
    script.write_text(code + "\nprint('clocks:', len({obj.clock for obj in net.sorted_objects}))\n")
    out = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, cwd=tmp_path,
                         timeout=900)
    assert out.returncode == 0, out.stderr[-3000:]
    got, expected = curve(out.stdout), curve(shown)
    np.testing.assert_allclose(got, expected, atol=0.002)  # the README shows the real output
    assert "first second" in out.stdout and got[-1] < 0.5 * got[0]  # it learns
    assert "clocks: 1\n" in out.stdout


def test_notebook_runs(tmp_path, monkeypatch):
    import nbclient
    import nbclient.exceptions
    import nbformat

    nb = nbformat.read(NOTEBOOK, as_version=4)
    nbformat.validate(nb)
    tagged = [i for i, c in enumerate(nb.cells) if "parameters" in c.get("metadata", {}).get("tags", [])]
    assert len(tagged) == 1 and nb.cells[tagged[0]].cell_type == "code"
    assigned = {t.id for node in ast.parse(nb.cells[tagged[0]].source).body for t in node.targets}
    short = {"DURATION": 3, "TARGET": "numpy", "N": 40}
    assert set(short) <= assigned
    lines = ["# Parameters injected by tests/test_rule_notebook.py"] + [f"{k} = {v!r}" for k, v in short.items()]
    lines += ["import sys as _sys, brian_effplast as _be",
              f"assert _sys.prefix == {sys.prefix!r}, _sys.executable",
              f"assert _be.__file__.startswith({str(ROOT)!r}), _be.__file__",
              "del _sys, _be"]
    nb.cells.insert(tagged[0] + 1, nbformat.v4.new_code_cell("\n".join(lines),
                                                             metadata={"tags": ["injected-parameters"]}))
    monkeypatch.delenv("MPLBACKEND", raising=False)
    client = nbclient.NotebookClient(nb, timeout=600, kernel_name="python3", allow_errors=False,
                                     resources={"metadata": {"path": str(tmp_path)}})
    try:
        client.execute()
    except nbclient.exceptions.CellExecutionError as exc:
        pytest.fail(f"a notebook cell raised an exception in the kernel\n{exc}", pytrace=False)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert all(c.get("execution_count") for c in code)
    text = "".join(o.get("text", "") for c in code for o in c.outputs)
    assert "squared error: first second" in text
    # the bad constructions are shown as clear errors naming the variable and the group
    assert "'rate', which is not a variable of NeuronGroup 'neurons'" in text
    assert "reward variable 'reward' is not a variable of NeuronGroup 'critic'" in text
    assert any("image/png" in o.get("data", {}) for o in code[-1].outputs), "the notebook should end with a figure"
