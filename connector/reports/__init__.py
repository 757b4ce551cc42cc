"""What support reads: status counts, what needs attention, one invoice's timeline.

Plain data out (dicts and lists), so the CLI can print a table or JSON and the web
status page can render the same facts. Read-only: nothing here changes state.

**The modules**: ``status`` (counts, attention, the open lists) and ``timeline`` for the CLI and
the API; for the console, ``dashboard``, ``invoices`` (list, search, CSV), ``invoice_detail``,
``queues``, ``runs`` and ``reconciliation``, each page through one function running a fixed
number of queries; ``common`` what they share (keyset pages, connection names). Import the
names from here.
"""

from __future__ import annotations

from connector.reports.common import (
    FAILED_PUSH,
    LEDGER_LINKS,
    PAGE_SIZE,
    PLATFORM_CHANNEL,
    Page,
    connection_list,
    ledger_link,
)
from connector.reports.dashboard import CHART_DAYS, DAILY_CALL_LIMITS, PROCESSED, dashboard, status_history
from connector.reports.invoice_detail import invoice_brief, invoice_detail
from connector.reports.invoices import (
    CSV_COLUMNS,
    DETAILED_CSV_COLUMNS,
    InvoiceQuery,
    invoice_event_rows,
    invoice_list,
    invoice_rows,
    parse_invoice_query,
)
from connector.reports.queues import (
    QUEUES,
    RAW_SHOWN,
    conflict_queue,
    duplicate_queue,
    failed_push_queue,
    outbox_entry,
    quarantine_queue,
    quarantined_record,
    queue_overview,
)
from connector.reports.reconciliation import finding, reconciliation
from connector.reports.runs import sync_runs
from connector.reports.status import (
    attention_items,
    failed_pushes,
    last_reconcile,
    open_findings,
    open_quarantine,
    status_report,
)
from connector.reports.timeline import timeline

__all__ = [
    "CHART_DAYS",
    "CSV_COLUMNS",
    "DAILY_CALL_LIMITS",
    "DETAILED_CSV_COLUMNS",
    "FAILED_PUSH",
    "LEDGER_LINKS",
    "PAGE_SIZE",
    "PLATFORM_CHANNEL",
    "PROCESSED",
    "QUEUES",
    "RAW_SHOWN",
    "InvoiceQuery",
    "Page",
    "attention_items",
    "conflict_queue",
    "connection_list",
    "dashboard",
    "duplicate_queue",
    "failed_push_queue",
    "failed_pushes",
    "finding",
    "invoice_brief",
    "invoice_detail",
    "invoice_event_rows",
    "invoice_list",
    "invoice_rows",
    "last_reconcile",
    "ledger_link",
    "open_findings",
    "open_quarantine",
    "outbox_entry",
    "parse_invoice_query",
    "quarantine_queue",
    "quarantined_record",
    "queue_overview",
    "reconciliation",
    "status_history",
    "status_report",
    "sync_runs",
    "timeline",
]
