"""The library's layout: stage packages in pipeline order, no import cycles.

A stage imports only the stages before it; the top-level recipe (build) and the command
line (cli, and __main__ for `python -m planbook`) import the stages, never the reverse. The shared modules (paths, errors, hashing,
files, escape, clock) import no stage.
"""

from __future__ import annotations

import ast
from pathlib import Path

import planbook

PACKAGE = Path(planbook.__file__).resolve().parent
STAGES = ("plan", "store", "assess", "chapters", "run", "book", "audit")
TOP = ("build", "cli", "__main__")
SHARED = ("paths", "errors", "hashing", "files", "escape", "clock")


def _modules() -> dict[str, Path]:
    out = {}
    for path in PACKAGE.rglob("*.py"):
        parts = ["planbook", *path.relative_to(PACKAGE).with_suffix("").parts]
        if parts[-1] == "__init__":
            parts.pop()
        out[".".join(parts)] = path
    return out


def _imports(path: Path, modules: dict[str, Path]) -> set[str]:
    """planbook modules `path` imports, at module level or inside functions."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("planbook"):
            for alias in node.names:
                full = f"{node.module}.{alias.name}"
                found.add(full if full in modules else node.module)
        elif isinstance(node, ast.Import):
            found |= {a.name for a in node.names if a.name.startswith("planbook")}
    return {m for m in found if m in modules}


def _stage(module: str) -> str | None:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 and parts[1] in STAGES else None


def _graph() -> dict[str, set[str]]:
    modules = _modules()
    return {m: _imports(p, modules) - {m} for m, p in modules.items()}


def test_every_stage_package_exists_and_the_top_is_small():
    top = sorted(p.stem for p in PACKAGE.glob("*.py") if p.stem != "__init__")
    assert top == sorted(TOP + SHARED)
    for stage in STAGES:
        assert (PACKAGE / stage / "__init__.py").is_file(), stage


def test_a_stage_imports_only_the_stages_before_it():
    wrong = []
    for module, imported in _graph().items():
        here = _stage(module)
        for other in imported:
            there = _stage(other)
            if other.split(".")[-1] in TOP and module.split(".")[-1] not in TOP:
                wrong.append(f"{module} -> {other}")
            elif here and there and STAGES.index(there) > STAGES.index(here):
                wrong.append(f"{module} -> {other}")
            elif module.split(".")[-1] in SHARED and len(module.split(".")) == 2 and there:
                wrong.append(f"{module} -> {other}")
    assert wrong == []


def test_no_module_reaches_itself_through_imports():
    graph = _graph()
    state: dict[str, int] = {}
    cycles: list[list[str]] = []

    def visit(node: str, path: list[str]) -> None:
        state[node] = 1
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                cycles.append(path[path.index(nxt):] + [nxt])
            elif nxt not in state:
                visit(nxt, [*path, nxt])
        state[node] = 2

    for module in sorted(graph):
        if module not in state:
            visit(module, [module])
    assert cycles == []
