"""The house has no import circles, and the shells reach state only through the actions layer.

The graph is built from the source with ``ast`` (every import, function-level ones included,
so a circle cannot hide inside a function), over the whole project: ``connector`` and ``jobs``.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("connector", "jobs")


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def project_modules() -> dict[str, Path]:
    return {module_name(p): p for pkg in PACKAGES for p in (ROOT / pkg).rglob("*.py")}


def graph() -> dict[str, set[str]]:
    modules = project_modules()
    edges: dict[str, set[str]] = {}
    for name, path in modules.items():
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        targets: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                targets.update(a.name for a in node.names)
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                    base = ".".join([*anchor, base] if base else anchor)
                for alias in node.names:
                    sub = f"{base}.{alias.name}"
                    targets.add(sub if sub in modules else base)
        edges[name] = {t for t in targets if t in modules and t != name}
    return edges


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in edges.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in sorted(edges):
        if v not in index:
            visit(v)
    return found


def test_the_whole_project_has_no_import_circle():
    assert cycles(graph()) == []


def test_a_circle_is_found_when_there_is_one():
    """The check itself can fail."""
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


SHELLS = ("connector.cli", "connector.demo", "jobs")
STATE_WRITERS = ("connector.sync.apply", "connector.domain.transitions")


def test_the_shells_change_state_only_through_the_actions_layer():
    for name, targets in graph().items():
        if name.startswith(SHELLS):
            bad = sorted(t for t in targets if t.startswith(STATE_WRITERS))
            assert not bad, f"{name} changes state around the actions layer: {bad}"


def test_the_actions_layer_imports_no_shell():
    for name, targets in graph().items():
        if name.startswith("connector.actions"):
            bad = sorted(t for t in targets if t.startswith((*SHELLS, "connector.render", "connector.web")))
            assert not bad, f"{name} imports a shell: {bad}"
