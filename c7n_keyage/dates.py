"""``utc()``: the one way a moment becomes an aware UTC datetime. Standard library only.

IAM answers with aware datetimes (botocore's ``tzutc``), placebo replays them aware,
reports write ISO strings with an offset, and hand-made inputs may have none. Every
comparison of two moments in the plugin goes through here, so they all agree: a naive
moment is read as UTC (AWS writes UTC), an aware one is converted, never relabelled.
"""

from __future__ import annotations

from datetime import datetime, timezone


def utc(moment: datetime) -> datetime:
    """``moment`` as an aware datetime in UTC; a naive one is taken to be UTC already."""
    if moment.tzinfo is None:
        return moment.replace(tzinfo=timezone.utc)
    if moment.tzinfo is timezone.utc:
        return moment
    return moment.astimezone(timezone.utc)


def utcnow() -> datetime:
    """The runner's clock, in UTC: the default ``clock`` of the plugin's filters and actions."""
    return datetime.now(timezone.utc)


def parse_iso(text: str) -> datetime | None:
    """An ISO 8601 string as ``utc()`` gives it; None when it is not one."""
    try:
        return utc(datetime.fromisoformat(text))
    except (TypeError, ValueError, OverflowError):  # year 1 with an offset overflows
        return None
