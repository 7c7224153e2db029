"""The package's layers: no import circle, even through imports inside functions,
and no module importing another's private names (an AST pass over every module)."""

import ast
from pathlib import Path

import brian_effplast

PACKAGE = Path(brian_effplast.__file__).parent
#: the layers, lowest first; a module may import its own layer and those below it
LAYERS = ["version", "errors", "blocks", "config", "circuit", "analysis", "plotting", "runs", "paper", "cli"]


def _module_name(path):
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path):
    """Every brian_effplast module ``path`` imports, at any depth of the file."""
    name = _module_name(path)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[:len(base) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            if not target.startswith("brian_effplast"):
                continue
            for alias in node.names:  # `from . import x` imports the module x
                sub = f"{target}.{alias.name}"
                found.add(sub if (PACKAGE.parent / sub.replace(".", "/")).with_suffix(".py").is_file()
                          or (PACKAGE.parent / sub.replace(".", "/")).is_dir() else target)
        elif isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name.startswith("brian_effplast"))
    found.discard(name)
    return name, found


def _graph():
    return dict(_imports(p) for p in PACKAGE.rglob("*.py"))


def _layer(module):
    parts = module.split(".")
    return LAYERS.index(parts[1]) if len(parts) > 1 else len(LAYERS)  # the package's __init__: top


def test_no_import_circle():
    graph = _graph()
    # a package's __init__ re-exporting its own modules is not a circle through them
    edges = {m: {t for t in ts if t in graph and not m.startswith(t + ".") } for m, ts in graph.items()}
    state, stack, circles = {}, [], []

    def visit(m):
        state[m] = 1
        stack.append(m)
        for t in sorted(edges[m]):
            if state.get(t) == 1:
                circles.append(stack[stack.index(t):] + [t])
            elif t not in state:
                visit(t)
        stack.pop()
        state[m] = 2

    for m in sorted(edges):
        if m not in state:
            visit(m)
    assert not circles, "import circles:\n" + "\n".join(" -> ".join(c) for c in circles)


def test_layers_import_only_downwards():
    wrong = [f"{m} (layer {LAYERS[_layer(m)] if _layer(m) < len(LAYERS) else 'top'}) imports {t}"
             for m, ts in _graph().items() for t in ts
             if _layer(m) < len(LAYERS) and _layer(t) > _layer(m)]
    assert not wrong, "\n".join(wrong)


def test_every_module_in_a_layer_package():
    entry_points = {"brian_effplast", "brian_effplast.cli", "brian_effplast.version", "brian_effplast.errors",
                    "brian_effplast.plotting"}
    loose = [m for m in _graph() if m.count(".") < 2 and m not in entry_points
             and not (PACKAGE.parent / m.replace(".", "/")).is_dir()]
    assert not loose, loose


def test_no_private_names_of_other_modules():
    wrong = []
    for path in PACKAGE.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and (node.level or (node.module or "").startswith("brian_effplast")):
                wrong += [f"{path.relative_to(PACKAGE)}: {a.name} from {'.' * node.level}{node.module or ''}"
                          for a in node.names if a.name.startswith("_") and a.name != "__version__"]
    assert not wrong, "\n".join(wrong)


def test_the_layer_check_sees_a_circle(tmp_path, monkeypatch):
    """The checker itself: a deferred import that closes a circle is found."""
    pkg = tmp_path / "brian_effplast"
    (pkg / "runs").mkdir(parents=True)
    (pkg / "__init__.py").write_text("")
    (pkg / "runs" / "__init__.py").write_text("")
    (pkg / "runs" / "a.py").write_text("from .b import x\n")
    (pkg / "runs" / "b.py").write_text("def f():\n    from . import a\n")
    monkeypatch.setattr(__import__(__name__), "PACKAGE", pkg)
    try:
        test_no_import_circle()
    except AssertionError as e:
        assert "brian_effplast.runs.a -> brian_effplast.runs.b -> brian_effplast.runs.a" in str(e)
    else:
        raise AssertionError("the circle a -> b -> a was not found")
