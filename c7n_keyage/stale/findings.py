"""Turn flagged keys into the annotations a policy writes: pure, JSON-ready dicts."""

from __future__ import annotations

from datetime import datetime

from c7n_keyage.credential_report.parse import AccessKey
from c7n_keyage.stale.verify import Stale


def _iso(value) -> str | None:
    return value.isoformat() if isinstance(value, datetime) else None


def _days(now: datetime, then) -> int | None:
    # Whole days; a date in the future is 0 days ago, not a negative age.
    return max((now - then).days, 0) if isinstance(then, datetime) else None


def unused_key(key: AccessKey, reasons: list[str], now: datetime) -> dict:
    """One ``c7n:unused-keys`` entry from the report: what a person needs to act on the key."""
    return {
        "slot": key.slot or None,
        "last_rotated": _iso(key.last_rotated),
        "last_used_date": _iso(key.last_used),
        "last_used_service": key.last_used_service,
        "last_used_region": key.last_used_region,
        "reasons": list(reasons),
        "days_since_use": _days(now, key.last_used),
        "days_since_rotation": _days(now, key.last_rotated),
        "verified": False,
    }


def verified_key(stale: Stale, now: datetime) -> dict:
    """One ``c7n:unused-keys`` entry for a key stale by the live API, named by its ID.

    ``slot`` is None when the report cannot tell which slot the key is (twins).
    """
    entry = unused_key(stale.key, stale.reasons, now)
    entry["access_key_id"] = stale.live.key_id
    entry["verified"] = True
    return entry


def credential_entry(key: AccessKey) -> dict:
    """A ``c7n:matched-keys`` entry in the shape of c7n's ``credential`` filter.

    Used when no key was listed: it names the key by creation date, as c7n does, so it
    intersects with c7n's own entries for the same key under an ``and`` block.
    """
    return {
        "active": key.active,
        "last_rotated": _iso(key.last_rotated),
        "last_used_date": _iso(key.last_used),
        "last_used_region": key.last_used_region,
        "last_used_service": key.last_used_service,
        "c7n:match-type": "credential",
    }


def access_entry(listed: dict) -> dict:
    """A ``c7n:matched-keys`` entry for a key identified by ListAccessKeys.

    ``remove-keys`` (``matched: true``) uses any entry whose match-type is not
    ``credential`` as it is and reads only its ``AccessKeyId``, so it acts on exactly
    this key and does not depend on c7n's exact-date join.
    """
    return dict(listed, **{"c7n:match-type": "access"})
