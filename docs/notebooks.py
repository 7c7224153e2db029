"""The tutorials' stored outputs: ``make notebooks`` writes them, ``make docs`` and the tests check them.

Each notebook of ``tutorials/`` is kept in git with the outputs of one run at its
defaults, so that the documentation site shows them without executing the
notebooks again (at their defaults they take 2-6 minutes each; the slow tier of
the tests already runs each of them with short settings, ``tests/test_tutorials.py``).
The run is recorded in the notebook's metadata, under ``brian_effplast``: the
SHA-256 of its code cells' sources, the package version and git commit, the date
and the seconds it took. A notebook whose code cells changed since (or that was
never run to the end) is *stale*: the docs build and ``tests/test_notebook_outputs.py``
refuse it and say to run ``make notebooks``, so a page never shows outputs of
other code.

Usage: ``python docs/notebooks.py [NOTEBOOK ...]`` executes the named notebooks (default:
every stale one; ``--all``: every one) in a fresh ``python3`` kernel, in a temporary
working directory (their ``runs/`` folders do not land in ``tutorials/``) with an empty
compiled-project cache (as on a new machine), and writes
each back in place with its outputs and record.
"""

import argparse
import datetime
import hashlib
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parent.parent
TUTORIALS = ROOT / "tutorials"
KEY = "brian_effplast"
CELL_TIMEOUT = 1800  # seconds per cell (a compilation takes 20-60 s, training at the defaults minutes)


def code_digest(nb):
    """SHA-256 of the notebook's code cells' sources (markdown edits do not make outputs stale)."""
    sha = hashlib.sha256()
    for cell in nb.cells:
        if cell.cell_type == "code":
            sha.update(cell.source.encode() + b"\0")
    return sha.hexdigest()


def staleness(path):
    """Why the stored outputs of notebook ``path`` cannot be shown, or None if they can."""
    nb = nbformat.read(path, as_version=4)
    record = nb.metadata.get(KEY)
    if not record:
        return f"{path.name} has no stored outputs"
    if record.get("code_sha256") != code_digest(nb):
        return f"{path.name}: its code cells changed after its outputs were stored ({record.get('executed')})"
    code = [c for c in nb.cells if c.cell_type == "code"]
    if not all(c.get("execution_count") for c in code):
        return f"{path.name}: not every code cell has run"
    if any(o.output_type == "error" for c in code for o in c.outputs):
        return f"{path.name}: a stored output is an error"
    return None


def check(paths=None):
    """Raise RuntimeError naming every notebook whose stored outputs are stale."""
    problems = [p for p in map(staleness, paths or sorted(TUTORIALS.glob("*.ipynb"))) if p]
    if problems:
        raise RuntimeError("stale notebook outputs: " + "; ".join(problems)
                           + ". Run `make notebooks` and commit the notebooks.")


def git_commit():
    """The commit of the package that ran the notebook (``+local changes`` if brian_effplast/ differs from it)."""
    def git(*args):
        return subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True)
    try:
        head = git("rev-parse", "--short", "HEAD")
        changed = git("diff", "--quiet", "HEAD", "--", "brian_effplast").returncode != 0
    except OSError:
        return "unknown"
    return head.stdout.strip() + (" +local changes" if changed else "") if head.returncode == 0 else "unknown"


def execute(path):
    """Run notebook ``path`` at its defaults and write it back with its outputs and their record."""
    import nbclient
    import brian_effplast

    nb = nbformat.read(path, as_version=4)
    start = time.perf_counter()
    saved = os.environ.get("BRIAN_EFFPLAST_CACHE")
    with tempfile.TemporaryDirectory(prefix="notebook-") as cwd:
        # an empty compiled-project cache, as on a new machine (the kernel inherits the environment)
        os.environ["BRIAN_EFFPLAST_CACHE"] = os.path.join(cwd, "standalone_cache")
        try:
            nbclient.NotebookClient(nb, timeout=CELL_TIMEOUT, kernel_name="python3", allow_errors=False,
                                    resources={"metadata": {"path": cwd}}).execute()
        finally:
            if saved is None:
                del os.environ["BRIAN_EFFPLAST_CACHE"]
            else:
                os.environ["BRIAN_EFFPLAST_CACHE"] = saved
    nb.metadata[KEY] = {
        "code_sha256": code_digest(nb),
        "version": brian_effplast.__version__,
        "commit": git_commit(),
        "executed": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "seconds": round(time.perf_counter() - start, 1),
    }
    tmp = path.with_suffix(".ipynb.tmp")
    nbformat.write(nb, tmp)
    os.replace(tmp, path)  # a notebook is never left half-written
    return nb.metadata[KEY]["seconds"]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("notebooks", nargs="*", type=Path, help="notebooks to run (default: the stale ones)")
    parser.add_argument("--all", action="store_true", help="run every notebook of tutorials/")
    args = parser.parse_args(argv)
    everything = sorted(TUTORIALS.glob("*.ipynb"))
    paths = [p.resolve() for p in args.notebooks] or [p for p in everything if args.all or staleness(p)]
    for path in paths:
        print(f"{path.name}: running ...", flush=True)
        print(f"{path.name}: stored, {execute(path):.0f} s", flush=True)
    if not paths:
        print("every notebook's stored outputs match its code")


if __name__ == "__main__":
    sys.exit(main())
