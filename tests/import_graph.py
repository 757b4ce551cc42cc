"""Import graphs read from the source with ``ast`` (nothing is imported), and the circles in them.

Shared by the house's import test (``tests/test_import_graph.py``) and the sandboxes' own
(``tests/sandbox/*/test_import_graph.py``). Every ``import``/``from ... import`` between the
modules read is an edge, at module level or inside a function (an import moved into a function
only hides a circle, so those are also listed apart). ``from package import name`` is an edge to
the submodule when ``name`` is one, else to the package. The implicit import of a parent
package's ``__init__`` is not an edge: Python runs it for every submodule, so counting it would
make every package one circle.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


@dataclass(frozen=True)
class ImportGraph:
    #: module -> the modules read that it imports
    edges: dict[str, set[str]]
    #: "module:line imports a, b inside a function", for every such import
    in_functions: list[str]


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def modules(*packages: str) -> dict[str, Path]:
    """Module name -> file, for every ``.py`` under the packages (dotted names, e.g. ``connector``)."""
    return {
        module_name(path): path
        for package in packages
        for path in sorted((ROOT / package.replace(".", "/")).rglob("*.py"))
    }


def _type_checking_only(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _imports(tree: ast.AST, type_checking: bool) -> list[tuple[ast.Import | ast.ImportFrom, bool]]:
    """(import node, inside a function) for every import; those under ``if TYPE_CHECKING:``
    only when ``type_checking`` (they never run, but they are a circle for a reader)."""
    out: list[tuple[ast.Import | ast.ImportFrom, bool]] = []

    def walk(children: list[ast.AST], in_function: bool) -> None:
        for child in children:
            if not type_checking and isinstance(child, ast.If) and _type_checking_only(child):
                walk(list(child.orelse), in_function)
                continue
            if isinstance(child, ast.Import | ast.ImportFrom):
                out.append((child, in_function))
            inner = in_function or isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda)
            walk(list(ast.iter_child_nodes(child)), inner)

    walk(list(ast.iter_child_nodes(tree)), False)
    return out


def _targets(node: ast.Import | ast.ImportFrom, known: dict[str, Path], here: str) -> set[str]:
    if isinstance(node, ast.Import):
        return {alias.name for alias in node.names if alias.name in known}
    base = node.module or ""
    if node.level:  # relative import
        package = here.split(".") if known[here].name == "__init__.py" else here.split(".")[:-1]
        anchor = package[: len(package) - node.level + 1]
        base = ".".join([*anchor, base] if base else anchor)
    targets = set()
    for alias in node.names:
        sub = f"{base}.{alias.name}"
        if sub in known:
            targets.add(sub)
        elif base in known:
            targets.add(base)
    return targets


def import_graph(*packages: str, type_checking: bool = True) -> ImportGraph:
    """The import edges between the modules of ``packages``, and the function-level imports."""
    known = modules(*packages)
    edges: dict[str, set[str]] = {name: set() for name in known}
    in_functions: list[str] = []
    for name, path in known.items():
        for node, in_function in _imports(ast.parse(path.read_text(), str(path)), type_checking):
            targets = _targets(node, known, name) - {name}
            edges[name] |= targets
            if in_function and targets:
                in_functions.append(f"{name}:{node.lineno} imports {', '.join(sorted(targets))} inside a function")
    return ImportGraph(edges, in_functions)


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in sorted(edges.get(node, ())):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(edges):
        if node not in index:
            visit(node)
    return found
