"""``stale_reasons`` as a table: one key, one clock, the reasons expected.

Strictly more than N days flags; exactly N days passes. Dates in the future count as
recent; an unknown creation date or an unreadable last use is never a reason to flag.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from c7n_keyage.credential_report.parse import UNREADABLE, AccessKey
from c7n_keyage.names import NEVER_USED, UNROTATED, UNUSED
from c7n_keyage.stale.rule import stale_reasons

NOW = datetime(2026, 11, 1, 12, 0, 0, tzinfo=timezone.utc)
SECOND = timedelta(seconds=1)


def ago(days: float = 0, seconds: float = 0) -> datetime:
    return NOW - timedelta(days=days, seconds=seconds)


CREATED, USED = ago(400), ago(1)


def key(rotated=CREATED, used=USED, active=True) -> AccessKey:
    return AccessKey(1, active, rotated, used)


# id, key, days, rotation_days, expected reasons
TABLE = [
    ("used-yesterday", key(), 90, None, []),
    ("used-exactly-90-days", key(used=ago(90)), 90, None, []),
    ("used-90-days-and-1s", key(used=ago(90, 1)), 90, None, [UNUSED]),
    ("used-90-days-and-1us", key(used=ago(90, 1e-6)), 90, None, [UNUSED]),
    ("used-90-days-less-1s", key(used=ago(90, -1)), 90, None, []),
    ("used-200-days", key(used=ago(200)), 90, None, [UNUSED]),
    ("used-in-the-future", key(used=ago(-3650)), 90, None, []),
    ("used-1-day-and-1s-days-1", key(used=ago(1, 1)), 1, None, [UNUSED]),
    ("used-exactly-1-day-days-1", key(used=ago(1)), 1, None, []),
    ("cis-45-used-46-days", key(used=ago(46)), 45, None, [UNUSED]),
    ("never-used-created-10-days", key(ago(10), None), 90, None, []),
    ("never-used-created-exactly-90", key(ago(90), None), 90, None, []),
    ("never-used-created-90-and-1s", key(ago(90, 1), None), 90, None, [NEVER_USED]),
    ("never-used-created-in-future", key(ago(-1), None), 90, None, []),
    ("never-used-creation-unknown", key(None, None), 90, None, []),
    ("unreadable-use-old-creation", key(ago(400), UNREADABLE), 90, None, []),
    ("unreadable-use-creation-unknown", key(None, UNREADABLE), 90, None, []),
    ("unreadable-use-rotation", key(ago(400), UNREADABLE), 90, 365, [UNROTATED]),
    ("creation-unknown-used-long-ago", key(None, ago(200)), 90, None, [UNUSED]),
    ("creation-unknown-rotation", key(None, ago(200)), 90, 365, [UNUSED]),
    ("creation-unknown-used-recently", key(None, ago(1)), 90, 365, []),
    ("rotation-exactly-365", key(ago(365)), 90, 365, []),
    ("rotation-365-and-1s", key(ago(365, 1)), 90, 365, [UNROTATED]),
    ("rotation-future-creation", key(ago(-5)), 90, 1, []),
    ("rotation-and-unused", key(ago(400), ago(200)), 90, 365, [UNUSED, UNROTATED]),
    ("rotation-and-never-used", key(ago(400), None), 90, 365, [NEVER_USED, UNROTATED]),
    ("rotation-shorter-than-days", key(ago(100), ago(10)), 90, 30, [UNROTATED]),
    ("rotation-none-old-key", key(ago(4000), ago(1)), 90, None, []),
    ("inactive-unused", key(used=ago(200), active=False), 90, None, []),
    ("inactive-never-used", key(ago(400), None, active=False), 90, None, []),
    ("inactive-rotation", key(ago(4000), ago(200), active=False), 1, 1, []),
    ("inactive-unreadable", key(None, UNREADABLE, active=False), 90, 1, []),
]


@pytest.mark.parametrize(
    "key, days, rotation_days, expected",
    [pytest.param(*row[1:], id=row[0]) for row in TABLE],
)
def test_stale_reasons(key, days, rotation_days, expected):
    assert stale_reasons(key, NOW, days, rotation_days) == expected


def test_clock_offset_does_not_matter():
    # The same instant written in another offset gives the same verdicts.
    elsewhere = NOW.astimezone(timezone(timedelta(hours=-5)))
    for _, k, days, rotation_days, expected in TABLE:
        assert stale_reasons(k, elsewhere, days, rotation_days) == expected


def test_slot_does_not_matter():
    for _, k, days, rotation_days, expected in TABLE:
        other = AccessKey(2, k.active, k.last_rotated, k.last_used)
        assert stale_reasons(other, NOW, days, rotation_days) == expected


def test_reasons_are_a_fresh_list():
    # Callers keep the list in annotations: two calls must not share it.
    first = stale_reasons(key(used=ago(200)), NOW, 90)
    first.append("mutated")
    assert stale_reasons(key(used=ago(200)), NOW, 90) == [UNUSED]
