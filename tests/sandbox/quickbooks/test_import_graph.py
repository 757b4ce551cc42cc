"""The QuickBooks sandbox's modules import each other without a circle (issue 9).

Read with ``ast``, not by importing: every ``import``/``from ... import`` of a module of
``connector.sandbox.quickbooks``, at module level or inside a function (an import moved into a
function only hides a circle), is an edge. Imports under ``if TYPE_CHECKING:`` are left out: they
never run. ``from connector.sandbox.quickbooks import wire`` is an edge to ``wire``, not to the
package's ``__init__``.
"""

from __future__ import annotations

from tests.import_graph import cycles, import_graph

PACKAGE = "connector.sandbox.quickbooks"


def graph() -> tuple[dict[str, set[str]], list[str]]:
    """The import edges between the package's modules, and the function-level imports found."""
    found = import_graph(PACKAGE, type_checking=False)
    return found.edges, found.in_functions


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
