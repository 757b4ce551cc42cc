"""The console in Chromium, on demo-like data: what a support person does in a morning.

Lean on purpose: one story per test, on one served app; the Flask-client tests cover the rest.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from connector.web.app import create_app
from tests.web.console.demo_world import Demo, demo  # noqa: F401 - the fixture
from tests.web.kit import PASSWORD, live_server, screenshot


@pytest.fixture
def demo_app(demo: Demo) -> Flask:  # noqa: F811
    return create_app(demo.rt)


@pytest.fixture
def base(demo_app: Flask) -> Iterator[str]:
    with live_server(demo_app) as url:
        yield url


def log_in(page: Any, base: str) -> None:
    page.goto(f"{base}/login")
    page.get_by_label("Name").fill("sam")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.get_by_role("heading", name="Dashboard", level=1).wait_for()


def sync_now(page: Any, base: str, app: Flask) -> None:
    """Press "Sync now" for every connection and wait for the background run to end."""
    page.goto(f"{base}/runs")
    page.get_by_role("link", name="Sync now…").click()
    page.get_by_role("button", name="Yes, sync now").click()
    page.get_by_text("has started").wait_for()
    for thread in app.extensions.get("console.jobs", []):
        thread.join(timeout=120)


def test_a_support_morning(page, base, demo: Demo, demo_app: Flask, tmp_path: Path):  # noqa: F811
    log_in(page, base)
    assert page.get_by_text("fully processed").count() == 2  # a card per organisation
    screenshot(page, "console-dashboard", tmp_path)

    # Finds INV-0008 by search and reads its retry in the timeline.
    page.get_by_role("link", name="Invoices", exact=True).click()
    page.get_by_label("Search").fill("INV-0008")
    page.get_by_role("button", name="Show invoices").click()
    page.locator("tbody tr").filter(has_text="nz").get_by_role("link", name="INV-0008").click()
    timeline = page.locator("ol.timeline")
    assert "attempt 1 failed; retry on" in timeline.inner_text()
    assert "insufficient funds" in timeline.inner_text()
    assert timeline.get_by_text("Collection started").count() == 2
    assert (
        page.get_by_role("link", name=re.compile("Open in Xero"))
        .get_attribute("href")
        .startswith("https://go.xero.com/AccountsReceivable/View.aspx?InvoiceID=")
    )
    screenshot(page, "console-invoice", tmp_path)

    # Marks a duplicate as Original.
    page.goto(f"{base}/queues/duplicates")
    page.get_by_role("link", name=re.compile(r"Mark .* as Original")).click()
    page.get_by_role("textbox", name="Reason").fill("a second order, confirmed with the customer")
    page.get_by_role("button", name="Yes, mark as Original").click()
    page.get_by_text("is marked Original").wait_for()
    assert demo.row("duplicate").status == "scheduled"

    # Retries a failed push after the sandbox's fault is cleared.
    page.goto(f"{base}/queues/failed")
    assert "503" in page.locator("tbody").inner_text()
    screenshot(page, "console-queue", tmp_path)
    demo.admin("DELETE", "/faults")
    page.get_by_role("link", name=f"Retry write {demo.ids['entry']}").click()
    page.get_by_role("button", name="Yes, retry").click()
    page.get_by_text("queued again by sam").wait_for()
    sync_now(page, base, demo_app)
    page.goto(f"{base}/invoices/{demo.ids['failing']}")
    assert "Done" in page.locator("section", has=page.get_by_role("heading", name="Ledger writes")).inner_text()

    # Resolves a conflict made in Xero: a payment recorded there while our debit is in flight.
    demo.pay_in_xero("submitted")
    sync_now(page, base, demo_app)
    page.goto(f"{base}/queues/conflicts")
    page.get_by_role("link", name=f"Resolve {demo.numbers['submitted']} in nz").click()
    page.get_by_label(re.compile("Keep the platform's view")).check()
    page.get_by_role("textbox", name="Note").fill("the debit is with the bank; refund the customer's transfer")
    page.get_by_role("button", name="Yes, resolve").click()
    page.get_by_text("resolved (keep platform)").wait_for()
    assert not demo.row("submitted").needs_attention

    # Changes a status with a reason, and sees it in the timeline.
    page.goto(f"{base}/invoices/{demo.ids['change']}")
    page.get_by_role("link", name="Change status…").click()
    page.get_by_label("Voided").check()
    page.get_by_role("textbox", name="Reason").fill("the customer cancelled the order")
    page.get_by_role("button", name="Continue…").click()
    page.get_by_text("This will change the status of the invoice. Are you sure?").wait_for()
    assert page.get_by_label("Notify customer").is_checked()
    page.get_by_role("button", name="Yes, change the status").click()
    page.get_by_text("is now voided").wait_for()
    last = page.locator("ol.timeline li").last.inner_text()
    assert "the customer cancelled the order" in last and "by sam" in last and "notify customer: yes" in last

    # Downloads the CSV and checks its rows.
    page.goto(f"{base}/invoices?q=INV-0008")
    with page.expect_download() as download:
        page.get_by_role("link", name="Download CSV").click()
    rows = list(csv.DictReader(io.StringIO(Path(download.value.path()).read_text())))
    assert {r["number"] for r in rows} == {"INV-0008"} and len(rows) == 2  # one per organisation
    ours = next(r for r in rows if r["connection"] == "nz")
    assert (ours["status"], ours["attempts"]) == ("settled", "1")
