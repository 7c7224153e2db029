"""The outputs stored in the notebooks of ``tutorials/`` are those of their current code.

The docs site shows them without executing the notebooks (``docs/notebooks.py``
says why); this quick test catches a stale notebook before the docs build does.
``tests/test_tutorials.py`` (slow tier) runs every notebook with short settings.
"""

import importlib.util
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parent.parent
spec = importlib.util.spec_from_file_location("notebooks", ROOT / "docs" / "notebooks.py")
notebooks = importlib.util.module_from_spec(spec)
spec.loader.exec_module(notebooks)


# ids by number: a test id with "standalone" in it is put in the slow tier (conftest.py)
@pytest.mark.parametrize("path", sorted((ROOT / "tutorials").glob("*.ipynb")), ids=lambda p: "tutorial-" + p.name[:2])
def test_stored_outputs_match_the_code(path):
    assert notebooks.staleness(path) is None, f"{notebooks.staleness(path)}: run `make notebooks`"
    nb = nbformat.read(path, as_version=4)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert any("image/png" in o.get("data", {}) for c in code for o in c.outputs), f"{path.name}: no stored figure"


def test_a_changed_code_cell_makes_the_outputs_stale(tmp_path):
    source = sorted((ROOT / "tutorials").glob("*.ipynb"))[0]
    nb = nbformat.read(source, as_version=4)
    copy = tmp_path / source.name
    nbformat.write(nb, copy)
    assert notebooks.staleness(copy) is None

    markdown = next(c for c in nb.cells if c.cell_type == "markdown")
    markdown.source += "\nA sentence more."
    nbformat.write(nb, copy)
    assert notebooks.staleness(copy) is None, "a markdown edit needs no new outputs"

    code = next(c for c in nb.cells if c.cell_type == "code")
    code.source += "\nx = 1"
    nbformat.write(nb, copy)
    assert "code cells changed" in notebooks.staleness(copy)
    with pytest.raises(RuntimeError, match=f"{source.name}.*make notebooks"):
        notebooks.check([copy])

    del nb.metadata[notebooks.KEY]
    nbformat.write(nb, copy)
    assert "no stored outputs" in notebooks.staleness(copy)
