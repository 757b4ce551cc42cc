"""The import rules of docs/architecture.md, checked on the source: the domain is pure, the sandbox stands apart."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "connector"


def imports_of(folder: Path) -> dict[str, set[str]]:
    found: dict[str, set[str]] = {}
    for path in folder.rglob("*.py"):
        names: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                names.update(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names.add(node.module)
        found[str(path.relative_to(PACKAGE.parent))] = names
    return found


def test_the_domain_is_pure():
    forbidden = (
        "sqlalchemy",
        "xero_python",
        "quickbooks",
        "intuitlib",
        "requests",
        "urllib3",
        "flask",
        "connector.store",
        "connector.ledgers",
        "connector.sync",
        "connector.sandbox",
        "connector.cli",
    )
    for path, names in imports_of(PACKAGE / "domain").items():
        bad = sorted(n for n in names if n.startswith(forbidden))
        assert not bad, f"{path} imports {bad}"


def test_the_sandbox_imports_nothing_from_the_connector():
    for path, names in imports_of(PACKAGE / "sandbox").items():
        bad = sorted(n for n in names if n.startswith("connector.") and not n.startswith("connector.sandbox"))
        assert not bad, f"{path} imports {bad}"


@pytest.mark.parametrize("layer", ["ledgers", "domain", "store"])
def test_lower_layers_do_not_import_the_entry_points(layer):
    for path, names in imports_of(PACKAGE / layer).items():
        bad = sorted(n for n in names if n.startswith(("connector.cli", "connector.demo", "jobs", "connector.sync")))
        assert not bad, f"{path} imports {bad}"
