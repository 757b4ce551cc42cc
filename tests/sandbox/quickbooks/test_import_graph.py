"""The QuickBooks sandbox's modules import each other without a circle (issue 9).

Read with ``ast``, not by importing: every ``import``/``from ... import`` of a module of
``connector.sandbox.quickbooks``, at module level or inside a function (an import moved into a
function only hides a circle), is an edge. Imports under ``if TYPE_CHECKING:`` are left out: they
never run. ``from connector.sandbox.quickbooks import wire`` is an edge to ``wire``, not to the
package's ``__init__``.
"""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = "connector.sandbox.quickbooks"
ROOT = Path(__file__).resolve().parents[3] / "connector" / "sandbox" / "quickbooks"


def _modules() -> dict[str, Path]:
    found = {}
    for path in sorted(ROOT.rglob("*.py")):
        parts = path.relative_to(ROOT).with_suffix("").parts
        name = ".".join((PACKAGE, *parts))
        found[name.removesuffix(".__init__")] = path
    return found


def _type_checking_only(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _imports(tree: ast.AST) -> list[tuple[ast.Import | ast.ImportFrom, bool]]:
    """(import node, inside a function) for every import that can run."""
    out: list[tuple[ast.Import | ast.ImportFrom, bool]] = []

    def walk(node: ast.AST, in_function: bool) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.If) and _type_checking_only(child):
                for other in child.orelse:
                    walk(other, in_function)
                continue
            if isinstance(child, ast.Import | ast.ImportFrom):
                out.append((child, in_function))
            walk(child, in_function or isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda))

    walk(tree, False)
    return out


def _targets(node: ast.Import | ast.ImportFrom, modules: dict[str, Path], here: str) -> set[str]:
    if isinstance(node, ast.Import):
        return {alias.name for alias in node.names if alias.name in modules}
    base = node.module or ""
    if node.level:  # relative import
        package = here.split(".") if modules[here].name == "__init__.py" else here.split(".")[:-1]
        anchor = package[: len(package) - node.level + 1]
        base = ".".join([*anchor, base] if base else anchor)
    targets = set()
    for alias in node.names:
        if f"{base}.{alias.name}" in modules:
            targets.add(f"{base}.{alias.name}")
        elif base in modules:
            targets.add(base)
    return targets


def graph() -> tuple[dict[str, set[str]], list[str]]:
    """The import edges between the package's modules, and the function-level imports found."""
    modules = _modules()
    edges: dict[str, set[str]] = {name: set() for name in modules}
    hidden: list[str] = []
    for name, path in modules.items():
        for node, in_function in _imports(ast.parse(path.read_text(), str(path))):
            targets = _targets(node, modules, name) - {name}
            edges[name] |= targets
            if in_function and targets:
                hidden.append(f"{name}:{node.lineno} imports {', '.join(sorted(targets))} inside a function")
    return edges, hidden


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in sorted(edges[node]):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                item = stack.pop()
                on_stack.discard(item)
                component.append(item)
                if item == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(edges):
        if node not in index:
            visit(node)
    return found


def test_the_sandbox_has_no_import_cycles() -> None:
    edges, _hidden = graph()
    assert f"{PACKAGE}.app" in edges and f"{PACKAGE}.routes_api" in edges
    assert cycles(edges) == []


def test_route_modules_do_not_import_the_app_and_nothing_hides_an_import_in_a_function() -> None:
    edges, hidden = graph()
    for route in ("routes_api", "routes_admin", "routes_oauth"):
        assert f"{PACKAGE}.app" not in edges[f"{PACKAGE}.{route}"], route
        assert f"{PACKAGE}.sandbox" not in edges[f"{PACKAGE}.{route}"], route
    assert hidden == []


def test_the_checker_sees_a_cycle() -> None:
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
