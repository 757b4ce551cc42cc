"""The organisation's own calendar: due dates are its dates, so "today" and "overdue" must be too."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from connector.store.models import Connection


def local_today(connection: Connection | None, now: datetime | None = None) -> date:
    """Today in the organisation's time zone (Xero tells it, DST included), else at its learned UTC
    offset (QuickBooks), else on this server's clock."""
    now = now or datetime.now(UTC)
    settings = (connection.settings or {}) if connection else {}
    zone = settings.get("timezone")
    if zone:
        try:
            return now.astimezone(ZoneInfo(zone)).date()
        except (ZoneInfoNotFoundError, ValueError):
            pass  # an unknown name falls back to the offset or the server's date
    minutes = settings.get("utc_offset_minutes")
    if minutes is None:
        return now.astimezone().date()
    return (now.astimezone(UTC) + timedelta(minutes=int(minutes))).date()
