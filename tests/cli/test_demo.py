"""The README's main job: the demo runs end to end against each ledger's sandbox."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from connector.cli import app


@pytest.mark.parametrize("ledger", ["xero", "quickbooks"])
def test_the_demo_runs_end_to_end(ledger, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("CONNECTOR_DATABASE_URL", raising=False)
    result = CliRunner().invoke(app, ["demo", "--ledger", ledger, "--folder", str(tmp_path / "demo")])
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert "Done in" in out
    assert "succeeded" in out and "PO-DEMO-1" in out
    assert "settled" in out and "collection failed" in out
    assert (tmp_path / "demo" / "connector.sqlite").exists()
    # it ends with a reconciliation of what it pushed: no difference, the payout nets to zero
    assert "0 findings (no differences)" in out
    assert "Payouts through clearing" in out and "PO-DEMO-1" in out
