"""The package's layout holds: no import circle (lazy imports included), the core imports no renderer, small modules.

Read from the source with :mod:`ast`, not by importing: every ``import`` statement
counts, at module level, inside a function or under ``TYPE_CHECKING``. An import
of ``a.b.c`` is an edge to the module ``a.b.c``; ``from a.b import c`` is an edge
to ``a.b.c`` when that is a module, else to ``a.b``.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "unet_explain"
MAX_LINES = 600
OUTER_LAYERS = ("unet_explain.render", "unet_explain.docs", "unet_explain.cli")


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {_module_name(path): path for path in sorted(PACKAGE.rglob("*.py"))}


def _imports(name: str, path: Path) -> set[str]:
    """The package's modules that module ``name`` imports anywhere in its source."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                base = ".".join([*anchor, *([base] if base else [])])
            for alias in node.names:
                found.add(f"{base}.{alias.name}" if f"{base}.{alias.name}" in MODULES else base)
    return {target for target in found if target in MODULES and target != name}


GRAPH = {name: _imports(name, path) for name, path in MODULES.items()}


def _find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import circle as a path (first module repeated at the end), or None."""
    state: dict[str, int] = {}  # 1 = on the current path, 2 = done
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for target in sorted(graph[node]):
            if state.get(target) == 1:
                return [*path[path.index(target) :], target]
            if target not in state and (cycle := visit(target)) is not None:
                return cycle
        path.pop()
        state[node] = 2
        return None

    for start in sorted(graph):
        if start not in state and (cycle := visit(start)) is not None:
            return cycle
    return None


def test_the_graph_is_read_from_every_module():
    # A sanity check of the reader itself: known edges, lazy and module-level, are seen.
    assert "unet_explain.core.receptive_field" in GRAPH["unet_explain.core.spec"]  # at module level
    assert "unet_explain.core.spec" in GRAPH["unet_explain.render.figures.drawing"]  # under TYPE_CHECKING
    assert "unet_explain.docs.site" in GRAPH["unet_explain.cli.commands.docs"]  # imported inside the command
    assert "unet_explain.cli.options" in GRAPH["unet_explain.docs.site_config"]


def test_the_cycle_finder_finds_a_circle():
    assert _find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert _find_cycle({"a": {"b"}, "b": set(), "c": {"a"}}) is None


def test_no_import_circle_lazy_imports_included():
    cycle = _find_cycle(GRAPH)
    assert cycle is None, "import circle: " + " -> ".join(cycle or [])


def test_the_core_imports_no_renderer_docs_or_cli():
    bad = sorted(
        (name, target)
        for name, targets in GRAPH.items()
        if name.startswith("unet_explain.core")
        for target in targets
        if target.startswith(OUTER_LAYERS)
    )
    assert bad == []


@pytest.mark.parametrize("name", sorted(MODULES))
def test_no_module_is_over_600_lines(name):
    lines = len(MODULES[name].read_text(encoding="utf-8").splitlines())
    assert lines <= MAX_LINES, f"{MODULES[name].relative_to(PACKAGE.parent)} has {lines} lines"
