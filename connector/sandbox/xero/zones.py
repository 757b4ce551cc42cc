"""Xero's TimeZone names as real time zones, so an organisation's "today" follows its clocks
(Pacific/Auckland is +13:00 in summer and +12:00 in winter), as it does in Xero.

Xero's names are Windows zone ids upper-cased without spaces, dots or hyphens; tzlocal ships
CLDR's Windows -> IANA table. (The connector's adapter maps them the same way, on its side.)
"""

from __future__ import annotations

import re
from functools import cache
from zoneinfo import ZoneInfo

from tzlocal.windows_tz import win_tz

_RETIRED = {"KAMCHATKASTANDARDTIME": "Asia/Kamchatka", "MIDATLANTICSTANDARDTIME": "Etc/GMT+2"}


@cache
def _table() -> dict[str, str]:
    return {**_RETIRED, **{re.sub(r"[\s.\-]", "", name).upper(): zone for name, zone in win_tz.items()}}


@cache
def zone_of(xero_name: str) -> ZoneInfo | None:
    """The zone for a Xero TimeZone value, None for a name Xero does not have."""
    iana = _table().get(xero_name.upper())
    return ZoneInfo(iana) if iana else None
