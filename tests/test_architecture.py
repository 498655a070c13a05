"""The package's shape, checked from its source with ``ast`` (no import of tabsynth).

* Layers: every module has a layer (:data:`LAYERS`, lowest first); a module
  imports only modules of its own layer or lower ones, at the top of a file
  or inside a function, and the import graph has no cycle.
* Imports at the top of each file: a function imports no tabsynth module,
  and nothing a file already imports at its top.
* Public seams: no private attribute (``obj._x``) of another object is read,
  set or called outside the class that defines it, and no private name is
  imported from another tabsynth module.

The ``KNOWN_*`` lists are what remains in files other work owns
(``tabsynth/evaluate``, ``tabsynth/backends``, ``tabsynth/rules.py``,
``tabsynth/sequences.py``); they may only shrink.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1] / "tabsynth"

#: lowest first; a module may import its own layer and the layers before it
LAYERS: list[tuple[str, set[str]]] = [
    ("foundations", {"tabsynth.errors", "tabsynth._version", "tabsynth._rng", "tabsynth._threads",
                     "tabsynth._outputs", "tabsynth._params", "tabsynth._spread"}),
    ("tables, files and scores (DataFrames only)", {"tabsynth.schema", "tabsynth.io", "tabsynth.dataset",
                                                   "tabsynth.datasets", "tabsynth.evaluate*"}),
    ("cells and rules", {"tabsynth._cells", "tabsynth.rules", "tabsynth._refine"}),
    ("encoding", {"tabsynth.encoding"}),
    ("privacy (a private fit: accounting, domains, model)", {"tabsynth.privacy*"}),
    ("backends", {"tabsynth.backends*"}),
    ("model", {"tabsynth.synthesizer"}),
    ("estimators", {"tabsynth.impute", "tabsynth.augmentation", "tabsynth.database", "tabsynth.sequences"}),
    ("runners", {"tabsynth._large", "tabsynth._related", "tabsynth.dask"}),
    ("entry points", {"tabsynth.cli", "tabsynth.__main__", "tabsynth"}),
]

#: (file, module it imports inside a function): files of other work, to move to the top there
KNOWN_LATE = {
    ("tabsynth/evaluate/__init__.py", "tabsynth.evaluate.report"),
}

#: (file, private name imported from another module): files of other work
KNOWN_PRIVATE_IMPORTS: set[tuple[str, str]] = set()

#: third-party packages imported inside functions: heavy and optional (torch: neural backends only; dask:
#: the dask extra), or not on every platform (resource)
LATE_OK = {"torch", "dask", "distributed", "resource"}
#: files of other work, whose late third-party imports are theirs to move
OTHER_WORK = ("tabsynth/evaluate/", "tabsynth/backends/", "tabsynth/rules.py", "tabsynth/sequences.py")

#: private attributes of third-party objects that have no public spelling
THIRD_PARTY_PRIVATE = {"_meta",  # torch.cpu: the CPU's bf16 / AMX support has no public spelling yet
                       "_is_avx512_bf16_supported", "_is_amx_tile_supported",
                       "_foreach_lerp_"}  # torch: the fused in-place lerp of a parameter list  # dask.dataframe: the empty frame of a collection's columns and dtypes


def _modules() -> dict[str, Path]:
    out = {}
    for p in sorted(ROOT.rglob("*.py")):
        parts = p.relative_to(ROOT.parent).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        out[name] = p
    return out


MODULES = _modules()
TREES = {name: ast.parse(p.read_text(), filename=str(p)) for name, p in MODULES.items()}


def _rel(name: str) -> str:
    return str(MODULES[name].relative_to(ROOT.parent))


def _layer(name: str) -> int:
    for i, (_, members) in enumerate(LAYERS):
        for m in members:
            if name == m or (m.endswith("*") and (name == m[:-1] or name.startswith(m[:-1] + "."))):
                return i
    raise AssertionError(f"module {name} has no layer: add it to LAYERS in tests/test_architecture.py")


def _targets(name: str, node: ast.Import | ast.ImportFrom) -> list[tuple[str, str | None]]:
    """(tabsynth module imported, name taken from it or None) for each alias of an import statement."""
    if isinstance(node, ast.Import):
        return [(a.name, None) for a in node.names if a.name.split(".")[0] == "tabsynth"]
    if node.level:
        package = name if MODULES[name].name == "__init__.py" else name.rsplit(".", 1)[0]
        parts = package.split(".")
        base = ".".join(parts[: len(parts) - node.level + 1])
        module = base + ("." + node.module if node.module else "")
    else:
        module = node.module or ""
    if module.split(".")[0] != "tabsynth":
        return []
    out = []
    for a in node.names:
        sub = f"{module}.{a.name}"
        out.append((sub, None) if sub in MODULES else (module, a.name))
    return out


def _imports(name: str) -> list[tuple[str, str | None, int, bool]]:
    """(module, name or None, line, at top) of every tabsynth import of module ``name``."""
    tree = TREES[name]
    top = set()
    for node in tree.body:  # the top level, and blocks at the top level (try/except ImportError, if ...)
        if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            top.update(id(n) for n in ast.walk(node))
    out = []
    for node in ast.walk(tree):
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            for module, attr in _targets(name, node):
                while module not in MODULES and "." in module:
                    module = module.rsplit(".", 1)[0]
                if module != name:
                    out.append((module, attr, node.lineno, id(node) in top))
    return out


def test_every_module_has_a_layer_and_imports_point_down():
    wrong = []
    for name in MODULES:
        for module, _, line, _ in _imports(name):
            if _layer(module) > _layer(name):
                wrong.append(f"{_rel(name)}:{line}: {name} ({LAYERS[_layer(name)][0]}) imports {module} "
                             f"({LAYERS[_layer(module)][0]}), a higher layer")
    assert not wrong, "\n".join(wrong)


def test_no_import_cycle():
    graph = {name: sorted({m for m, _, _, _ in _imports(name)}) for name in MODULES}
    state: dict[str, int] = {}
    stack: list[str] = []
    cycles = []

    def visit(n: str) -> None:
        state[n] = 1
        stack.append(n)
        for m in graph[n]:
            if state.get(m) == 1:
                cycles.append(" -> ".join(stack[stack.index(m):] + [m]))
            elif m not in state:
                visit(m)
        stack.pop()
        state[n] = 2

    for n in graph:
        if n not in state:
            visit(n)
    assert not cycles, "import cycles (imports inside functions count):\n" + "\n".join(cycles)


def test_tabsynth_modules_are_imported_at_the_top():
    late = set()
    for name in MODULES:
        for module, _, line, at_top in _imports(name):
            if not at_top:
                late.add((_rel(name), module, line))
    new = sorted(f"{f}:{line}: imports {m} inside a function; import it at the top of the file"
                 for f, m, line in late if (f, m) not in KNOWN_LATE)
    assert not new, "\n".join(new)
    gone = KNOWN_LATE - {(f, m) for f, m, _ in late}
    assert not gone, f"fixed, remove from KNOWN_LATE: {sorted(gone)}"


def test_third_party_imported_at_the_top():
    """Inside functions only heavy optional packages (:data:`LATE_OK`)."""
    late = []
    for name, tree in TREES.items():
        if _rel(name).startswith(OTHER_WORK):
            continue
        for fn in ast.walk(tree):
            if isinstance(fn, (ast.FunctionDef, ast.AsyncFunctionDef)):
                for node in ast.walk(fn):
                    if isinstance(node, ast.Import):
                        mods = [a.name for a in node.names]
                    elif isinstance(node, ast.ImportFrom) and not node.level:
                        mods = [node.module or ""]
                    else:
                        continue
                    late += [f"{_rel(name)}:{node.lineno}: import {m} at the top of the file" for m in mods
                             if m.split(".")[0] not in LATE_OK]
    assert not late, "\n".join(sorted(set(late)))


def test_nothing_imported_again_inside_a_function():
    """A function does not import what its file already imports at the top (third-party modules included)."""
    again = []
    for name, tree in TREES.items():
        top_names = set()
        for node in tree.body:
            if isinstance(node, ast.Import):
                top_names.update(a.asname or a.name for a in node.names)
            elif isinstance(node, ast.ImportFrom):
                top_names.update(a.asname or a.name for a in node.names)
        for fn in ast.walk(tree):
            if not isinstance(fn, (ast.FunctionDef, ast.AsyncFunctionDef)):
                continue
            for node in ast.walk(fn):
                if isinstance(node, (ast.Import, ast.ImportFrom)):
                    for a in node.names:
                        if (a.asname or a.name) in top_names:
                            again.append(f"{_rel(name)}:{node.lineno}: {a.asname or a.name} is imported at the top")
    assert not sorted(set(again)), "\n".join(sorted(set(again)))


def _class_names(cls: ast.ClassDef) -> set[str]:
    """Names a class defines: methods, class attributes, and attributes its methods set on self/cls."""
    names = set()
    for n in ast.walk(cls):
        if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef)):
            names.add(n.name)
        elif isinstance(n, ast.Attribute) and isinstance(n.ctx, ast.Store) and isinstance(n.value, ast.Name) \
                and n.value.id in ("self", "cls"):
            names.add(n.attr)
        elif isinstance(n, ast.Assign):
            names.update(t.id for t in n.targets if isinstance(t, ast.Name))
        elif isinstance(n, ast.AnnAssign) and isinstance(n.target, ast.Name):
            names.add(n.target.id)
    return names


def _private_uses(tree: ast.AST) -> list[tuple[int, str]]:
    out = []

    def visit(node: ast.AST, own: set[str]) -> None:
        for child in ast.iter_child_nodes(node):
            names = own | _class_names(child) if isinstance(child, ast.ClassDef) else own
            if isinstance(child, ast.Attribute) and child.attr.startswith("_") and not child.attr.startswith("__"):
                on_self = isinstance(child.value, ast.Name) and child.value.id in ("self", "cls")
                if not on_self and child.attr not in names and child.attr not in THIRD_PARTY_PRIVATE:
                    out.append((child.lineno, ast.unparse(child)))
            visit(child, names)

    visit(tree, set())
    return out


def test_no_private_attribute_of_another_object():
    """``obj._x`` only inside the class that defines ``_x`` (self, cls, or another instance of that class)."""
    found = [f"{_rel(name)}:{line}: {text}" for name, tree in TREES.items() for line, text in _private_uses(tree)]
    assert not found, "private attributes used from outside their class:\n" + "\n".join(found)


def test_no_private_name_imported_from_another_module():
    found = set()
    for name in MODULES:
        for module, attr, _, _ in _imports(name):
            if attr is not None and attr.startswith("_") and not attr.startswith("__"):
                found.add((_rel(name), f"{module}.{attr}"))
    new = sorted(f"{f}: imports {what}; give it a public name in its module" for f, what in
                 found - KNOWN_PRIVATE_IMPORTS)
    assert not new, "\n".join(new)
    gone = KNOWN_PRIVATE_IMPORTS - found
    assert not gone, f"fixed, remove from KNOWN_PRIVATE_IMPORTS: {sorted(gone)}"


@pytest.mark.parametrize("bad, expect", [
    ("class A:\n    pass\ndef f(b):\n    b._x = 1\n", "b._x"),
    ("def f(syn):\n    return syn._conditional()\n", "syn._conditional"),
])
def test_private_check_can_fail(bad, expect):
    assert [t for _, t in _private_uses(ast.parse(bad))] == [expect]


def test_private_check_allows_own_class():
    ok = "class A:\n    def __init__(self):\n        self._x = 1\n    def same(self, other):\n        return other._x\n"
    assert _private_uses(ast.parse(ok)) == []


#: longest function (lines from ``def`` to its last line, docstring included)
MAX_FUNCTION_LINES = 80


def _long_functions(tree: ast.AST) -> list[tuple[str, int, int]]:
    return [(fn.name, fn.lineno, fn.end_lineno - fn.lineno + 1) for fn in ast.walk(tree)
            if isinstance(fn, (ast.FunctionDef, ast.AsyncFunctionDef))
            and fn.end_lineno - fn.lineno + 1 > MAX_FUNCTION_LINES]


def test_no_function_over_80_lines():
    """Thin entry points: a long function becomes named steps (check, plan, compute, report)."""
    found = [f"{_rel(name)}:{line}: {fn} has {n} lines; split it into named steps"
             for name, tree in TREES.items() for fn, line, n in _long_functions(tree)]
    assert not found, "\n".join(found)


def test_long_function_check_can_fail():
    body = "\n".join(f"    x{i} = {i}" for i in range(MAX_FUNCTION_LINES))
    assert [(f, n) for f, _, n in _long_functions(ast.parse(f"def f():\n{body}\n"))] == [("f", 81)]
    assert _long_functions(ast.parse("def g():\n    return 1\n")) == []
