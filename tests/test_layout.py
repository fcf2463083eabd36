"""The package's structure as tests: small files, an acyclic layered import
graph, no imports hidden inside functions, every public function annotated.

The layers, bottom to top (each imports only from layers below it):
core (with _tracing, and tree) → dualrev.numpy / dualrev.scipy (the rules) → the
interpreters (forward, tape, reverse) → explicit → the API → testing.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "dualrev"
MAX_LINES = 400


def _modules() -> dict[str, Path]:
    out = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = list(path.relative_to(ROOT).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        out[".".join(parts)] = path
    return out


MODULES = _modules()


def _resolve(module: str, path: Path, node: ast.ImportFrom | ast.Import) -> list[str]:
    """The dualrev modules an import statement names (``from . import x`` included)."""
    if isinstance(node, ast.Import):
        return [a.name for a in node.names if a.name.split(".")[0] == "dualrev"]
    package = module if path.name == "__init__.py" else module.rsplit(".", 1)[0]
    if node.level:
        base = package.split(".")
        base = base[: len(base) - (node.level - 1)]
        target = ".".join(base + ([node.module] if node.module else []))
    else:
        target = node.module or ""
    if target.split(".")[0] != "dualrev":
        return []
    names = []
    for alias in node.names:
        candidate = f"{target}.{alias.name}"
        names.append(candidate if candidate in MODULES else target)
    return names


def _imports(module: str, path: Path) -> tuple[set[str], list[str]]:
    """(dualrev modules imported at module level, function-local dualrev imports)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    top: set[str] = set()
    local: list[str] = []

    def visit(node: ast.AST, in_function: bool) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, (ast.Import, ast.ImportFrom)):
                names = _resolve(module, path, child)
                if in_function and names:
                    local.append(f"{path.relative_to(ROOT)}:{child.lineno} imports {', '.join(names)}")
                elif not in_function:
                    top.update(n for n in names if n != module)
            visit(child, in_function or isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)))

    visit(tree, False)
    return top, local


GRAPH = {m: _imports(m, p) for m, p in MODULES.items()}


def _source_files() -> list[Path]:
    files = []
    for folder in ("dualrev", "experiments", "benchmarks", "timing"):
        if (ROOT / folder).is_dir():
            files += sorted((ROOT / folder).rglob("*.py"))
    return files


def test_no_file_over_400_lines():
    long = {str(p.relative_to(ROOT)): n for p in _source_files() if (n := len(p.read_text().splitlines())) > MAX_LINES}
    assert not long, f"files over {MAX_LINES} lines: {long}"


def test_no_function_local_imports_of_dualrev_modules():
    local = [line for _, hidden in GRAPH.values() for line in hidden]
    assert not local, "imports inside functions (move them to the top; fix the cycle they dodge):\n" + "\n".join(local)


def test_import_graph_is_acyclic():
    state: dict[str, str] = {}
    stack: list[str] = []

    def visit(m: str) -> None:
        state[m] = "open"
        stack.append(m)
        for dep in sorted(GRAPH.get(m, (set(), []))[0]):
            if dep not in MODULES:
                continue
            if state.get(dep) == "open":
                cycle = stack[stack.index(dep) :] + [dep]
                pytest.fail("import cycle: " + " → ".join(cycle))
            if dep not in state:
                visit(dep)
        stack.pop()
        state[m] = "done"

    for m in MODULES:
        if m not in state:
            visit(m)


LAYERS = [
    ("dualrev._tracing", "dualrev.core", "dualrev.define", "dualrev.tree"),
    ("dualrev.numpy", "dualrev.scipy"),
    ("dualrev._outputs", "dualrev.forward", "dualrev.tape", "dualrev.reverse"),
    ("dualrev.explicit",),
    ("dualrev._arguments", "dualrev._jacobians", "dualrev.ledger", "dualrev.replay", "dualrev.api",
     "dualrev.second_order", "dualrev.sparse", "dualrev.checkpointing", "dualrev.scipy.integrate"),
    ("dualrev.draw",),
    ("dualrev.testing", "dualrev._surface", "dualrev._surface_samples", "dualrev"),
]


def _layer(module: str) -> int:
    best = None
    for depth, prefixes in enumerate(LAYERS):
        for prefix in prefixes:
            if module == prefix or module.startswith(prefix + "."):
                if best is None or len(prefix) > best[1]:
                    best = (depth, len(prefix))
    assert best is not None, f"{module} is in no layer of tests/test_layout.py"
    return best[0]


@pytest.mark.parametrize("module", sorted(MODULES))
def test_each_module_imports_only_lower_or_its_own_layer(module):
    mine = _layer(module)
    upward = sorted(dep for dep in GRAPH[module][0] if dep in MODULES and _layer(dep) > mine)
    assert not upward, f"{module} (layer {mine}) imports from a higher layer: {upward}"


def test_rules_import_only_the_core():
    for module, (deps, _) in GRAPH.items():
        if module.startswith(("dualrev.numpy", "dualrev.scipy")) and _layer(module) == 1:  # not scipy.integrate
            allowed = ("dualrev.numpy", "dualrev.scipy", "dualrev.core", "dualrev.define", "dualrev._tracing")
            outside = sorted(d for d in deps if not d.startswith(allowed))
            assert not outside, f"{module} imports {outside}: the rules may use dualrev.core (and dualrev.define) only"


def _public_functions(path: Path):
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in tree.body:
        if isinstance(node, ast.FunctionDef) and not node.name.startswith("_"):
            yield node.name, node
        if isinstance(node, ast.ClassDef) and not node.name.startswith("_"):
            for item in node.body:
                if isinstance(item, ast.FunctionDef) and not item.name.startswith("_"):
                    yield f"{node.name}.{item.name}", item


def _unannotated(fn: ast.FunctionDef) -> list[str]:
    args = fn.args
    every = args.posonlyargs + args.args + args.kwonlyargs + [a for a in (args.vararg, args.kwarg) if a]
    missing = [a.arg for a in every if a.annotation is None and a.arg not in ("self", "cls")]
    if fn.returns is None:
        missing.append("return")
    return missing


def test_every_public_function_is_annotated():
    problems = []
    for path in sorted(PACKAGE.rglob("*.py")):
        for name, fn in _public_functions(path):
            missing = _unannotated(fn)
            if missing:
                problems.append(f"{path.relative_to(ROOT)}:{fn.lineno} {name}: {', '.join(missing)}")
    assert not problems, "public functions without annotations:\n" + "\n".join(problems)
