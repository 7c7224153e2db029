"""Which public functions and methods of brian_effplast a test run never entered.

``make coverage-quick`` runs the quick tier (``pytest -m "not slow"``) under
``coverage`` (the processes the tests start included) and then this script,
which lists every public function of the package (a module's ``__all__``,
public classes' public methods and ``__init__``) none of whose statements ran.
Private modules (``_groups``) are left out, and so are methods whose body is
only ``raise NotImplementedError`` (a base class's abstract methods). The
quick tier is meant to enter everything except what needs a compiled
standalone project; the listing says what is left.

Usage: ``python tests/public_coverage.py DATA_FILE PACKAGE_DIR``.
"""

import ast
import importlib
import sys
from pathlib import Path

import coverage


def _is_abstract(node):
    body = [n for n in node.body if not (isinstance(n, ast.Expr) and isinstance(n.value, ast.Constant))]
    return len(body) == 1 and isinstance(body[0], ast.Raise) and "NotImplementedError" in ast.unparse(body[0])


def public_functions(path, module):
    """``[(qualified name, ast node)]`` of the public functions and methods of one module file."""
    tree = ast.parse(Path(path).read_text())
    exported = set(getattr(importlib.import_module(module), "__all__", ()))

    def public(name):
        return name in exported if exported else not name.startswith("_")
    found = []
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and public(node.name):
            found.append((node.name, node))
        elif isinstance(node, ast.ClassDef) and public(node.name):
            found += [(f"{node.name}.{sub.name}", sub) for sub in node.body
                      if isinstance(sub, (ast.FunctionDef, ast.AsyncFunctionDef))
                      and (not sub.name.startswith("_") or sub.name == "__init__")]
    return [(name, node) for name, node in found if not _is_abstract(node)]


def never_entered(data_file, package_dir):
    """``(number of public functions, [names none of whose statements ran])``."""
    data = coverage.CoverageData(basename=data_file)
    data.read()
    measured = {Path(f).resolve(): f for f in data.measured_files()}
    total, missing = 0, []
    package_dir = Path(package_dir).resolve()
    for path in sorted(package_dir.glob("*.py")):
        if path.stem.startswith("_") and path.stem != "__init__":
            continue
        ran = set(data.lines(measured[path]) or ()) if path in measured else set()
        for name, node in public_functions(path, f"{package_dir.name}.{path.stem}"):
            first = node.body[0]
            skip_doc = isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant) and len(node.body) > 1
            body = node.body[1:] if skip_doc else node.body
            lines = {n for stmt in body for n in range(stmt.lineno, stmt.end_lineno + 1)}
            total += 1
            if not lines & ran:
                missing.append(f"{path.stem}.{name}")
    return total, missing


if __name__ == "__main__":
    total, missing = never_entered(sys.argv[1], sys.argv[2])
    print(f"{total} public functions and methods; {len(missing)} never entered"
          + (":" if missing else ""))
    for name in missing:
        print("  " + name)
