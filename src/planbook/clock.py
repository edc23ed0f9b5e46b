"""The time of day in Jiande (UTC+08:00), for every timestamp planbook stores or prints.

The machine running planbook may keep UTC (a server, a container): a stamp taken from its
local zone would mix +00:00 with the +08:00 of sample rows and back-filled receipts, and
"today" would change at 08:00 in Jiande rather than at midnight.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

JIANDE = timezone(timedelta(hours=8), "Asia/Shanghai")  # China keeps no summer time


def now() -> datetime:
    return datetime.now(JIANDE)


def stamp(moment: datetime | None = None) -> str:
    """2026-12-06T14:03:00+08:00: seconds, Jiande's offset."""
    return (moment or now()).astimezone(JIANDE).isoformat(timespec="seconds")


def today() -> date:
    return now().date()
