"""No import circles among the sandbox's own modules (issue 9).

Every ``import`` counts wherever it stands: at module level, inside a function (a deferred
import that only hides a circle), or under ``if TYPE_CHECKING:`` (a circle for the type
checker and for any reader). ``from package import name`` is an edge to the submodule when
``name`` is one. The implicit import of a parent package's ``__init__`` is not an edge:
Python runs it for every submodule, so counting it would make every package one circle.
"""

from __future__ import annotations

from tests import import_graph as imports
from tests.import_graph import cycles

PACKAGES = ("connector.sandbox.xero", "connector.sandbox.common")


def import_graph() -> dict[str, set[str]]:
    """Module -> the modules of these packages it imports (every import statement)."""
    return imports.import_graph(*PACKAGES).edges


def test_the_cycle_finder_sees_a_hidden_circle() -> None:
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert cycles(graph) == [["a", "b", "c"]]
    assert cycles({"a": {"b"}, "b": set()}) == []


def test_the_graph_counts_function_level_and_type_checking_imports() -> None:
    graph = import_graph()
    assert "connector.sandbox.xero.web" in graph["connector.sandbox.xero.routes_money"]
    assert "connector.sandbox.xero.wire" in graph["connector.sandbox.xero.routes_accounting"]
    assert len(graph) > 30  # both packages were read


def test_no_import_cycles_in_the_sandbox() -> None:
    found = cycles(import_graph())
    assert found == [], "import circles:\n" + "\n".join(" <-> ".join(c) for c in found)
