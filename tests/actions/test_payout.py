"""Action: a payout settles paid invoices and queues one transfer + fee; the same from the CLI."""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import select

from connector.actions import Actor, RefusedAction
from connector.actions import platform as actions
from connector.store.models import OutboxEntry
from tests.actions.conftest import add_invoice, same_story


def paid(runtime, *numbers: str) -> None:
    for number in numbers:
        actions.record_event(runtime, "collection_started", [number], actor=Actor.platform())
        actions.record_event(runtime, "collection_confirmed", [number], actor=Actor.platform())


def payouts(runtime) -> list[dict]:
    with runtime.sessions() as session:
        return [e.payload for e in session.scalars(select(OutboxEntry).where(OutboxEntry.kind == "payout"))]


def test_direct_and_cli_settle_alike(runtime, cli, twins):
    direct, via_cli = twins
    paid(runtime, *twins)
    result = actions.record_payout(runtime, [direct], actor=Actor.platform(), fee="1.50", reference="PO-1")
    assert result.accepted and (result.gross, result.fee, result.net) == ("120.00", "1.50", "118.50")
    code, out, _ = cli("platform", "payout", via_cli, "--fee", "1.50", "--reference", "PO-1")
    assert code == 0 and "120.00 paid − 1.50 fee = 118.50 GBP" in out
    same_story(runtime, direct, via_cli)
    assert [(p["gross"], p["fee"], p["net"]) for p in payouts(runtime)] == [("120.00", "1.50", "118.50")] * 2


def test_a_fee_above_the_collections_is_accepted_and_said(runtime, twins):
    paid(runtime, "INV-D")
    result = actions.record_payout(runtime, ["INV-D"], actor=Actor.platform(), fee="130", reference="PO-2")
    assert result.net == "-10.00" and "bank → clearing" in result.notes[0]


def test_mixed_currencies_and_bad_sums_are_refused_the_same_way(runtime, cli, twins):
    add_invoice(runtime, "INV-U", amount="50")
    from connector.store.models import Invoice

    with runtime.transaction() as session:
        session.scalars(select(Invoice).where(Invoice.number == "INV-U")).one().currency = "USD"
    paid(runtime, "INV-D", "INV-U")
    before = payouts(runtime)
    with pytest.raises(RefusedAction, match="one payout per currency"):
        actions.record_payout(runtime, ["INV-D", "INV-U"], actor=Actor.platform(), fee="1")
    code, _, err = cli("platform", "payout", "INV-D", "INV-U", "--fee", "1")
    assert code == 2 and "one payout per currency" in err
    with pytest.raises(RefusedAction, match="net 100"):
        actions.record_payout(runtime, ["INV-D"], actor=Actor.platform(), fee="1", net=Decimal(100))
    assert payouts(runtime) == before
