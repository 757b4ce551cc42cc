"""The house has no import circles, and the shells reach state only through the actions layer.

The graph is built from the source with ``ast`` (every import, function-level ones included,
so a circle cannot hide inside a function), over the whole project: ``connector`` and ``jobs``.
"""

from __future__ import annotations

from tests.import_graph import cycles, import_graph

PACKAGES = ("connector", "jobs")


def graph() -> dict[str, set[str]]:
    return import_graph(*PACKAGES).edges


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
