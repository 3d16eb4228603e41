"""What the lifecycle decides per record, as a table: restore, delete, remove, keep, refuse.

A key is deleted only when Inactive, retired more than the grace ago (strictly), and its
live last use is still what its retirement saw (``test_plan_last_use.py`` has the late
uses); a record whose key is gone or Active again is removed and its key never touched; a
record that cannot be trusted is refused. retire-keys removes the records of keys gone.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from c7n_keyage.lifecycle import plan
from c7n_keyage.lifecycle.plan import (
    ACTIVE,
    ACTIVE_AGAIN,
    DELETE,
    GONE,
    INACTIVE,
    KEEP,
    KEY_GONE,
    REFUSE,
    REMOVE_RECORD,
    RESTORE,
    Decision,
    KeyState,
)
from c7n_keyage.lifecycle.record import Problem, Record, Seen

NOW = datetime(2026, 12, 2, 12, 0, 0, tzinfo=timezone.utc)
KEY = "AKIAEXAMPLE000000001"
TAG = "c7n-keyage:retired:" + KEY
SECOND = timedelta(seconds=1)


def retired(days: float = 0, seconds: float = 0, seen: datetime | None = None) -> Record:
    """Retired that long ago, having seen the key last used at ``seen`` (None: never)."""
    return Record(KEY, NOW - timedelta(days=days, seconds=seconds), "retire-90", Seen(seen))


def inactive(used: datetime | None = None, known: bool = True) -> KeyState:
    return KeyState(INACTIVE, used, known)


R40 = retired(40)
AT_40 = R40.retired_at
# id, record, state, grace days, expected step, start of the reason
DELETE_TABLE = [
    ("due", R40, inactive(), 30, DELETE, "retired 2026-10-23T12:00:00Z by retire-90, inactive"),
    (
        "due-used-before",
        retired(40, seen=AT_40 - SECOND),
        inactive(AT_40 - SECOND),
        30,
        DELETE,
        "retired",
    ),
    ("used-at-retirement", retired(40, seen=AT_40), inactive(AT_40), 30, DELETE, "retired"),
    ("used-after", R40, inactive(R40.retired_at + SECOND), 30, KEEP, "used after its retirement"),
    ("last-use-unknown", R40, inactive(known=False), 30, KEEP, "its last use cannot be read"),
    ("exactly-grace", retired(30), inactive(), 30, KEEP, "within its 30-day grace until"),
    ("grace-and-1s", retired(30, 1), inactive(), 30, DELETE, "retired"),
    ("grace-less-1s", retired(30, -1), inactive(), 30, KEEP, "within its 30-day grace"),
    ("gone", R40, GONE, 30, REMOVE_RECORD, KEY_GONE),
    ("active-again", R40, KeyState(ACTIVE), 30, REMOVE_RECORD, ACTIVE_AGAIN),
    ("active-used", R40, KeyState(ACTIVE, NOW), 30, REMOVE_RECORD, ACTIVE_AGAIN),
    ("active-within-grace", retired(1), KeyState(ACTIVE), 30, REMOVE_RECORD, ACTIVE_AGAIN),
    ("gone-within-grace", retired(1), GONE, 30, REMOVE_RECORD, KEY_GONE),
]


@pytest.mark.parametrize(
    "record, state, grace, step, reason",
    [row[1:] for row in DELETE_TABLE],
    ids=[row[0] for row in DELETE_TABLE],
)
def test_delete_decisions(record, state, grace, step, reason):
    decision = plan.for_delete(record, state, NOW, grace)
    assert (decision.key_id, decision.tag_key, decision.step) == (KEY, TAG, step)
    assert decision.reason.startswith(reason), decision.reason


def test_delete_reasons_name_the_dates():
    assert plan.for_delete(retired(10), inactive(), NOW, 30).reason == (
        "within its 30-day grace until 2026-12-22T12:00:00Z"
    )
    used = R40.retired_at + timedelta(days=2)
    assert plan.for_delete(R40, inactive(used), NOW, 30).reason == (
        "used after its retirement (2026-10-25T12:00:00Z): never deleted"
    )


RESTORE_TABLE = [
    ("inactive", inactive(), RESTORE, "retired 2026-10-23T12:00:00Z by retire-90"),
    ("inactive-used", inactive(NOW), RESTORE, "retired"),
    ("inactive-use-unknown", inactive(known=False), RESTORE, "retired"),
    ("gone", GONE, REMOVE_RECORD, KEY_GONE),
    ("active-again", KeyState(ACTIVE), REMOVE_RECORD, ACTIVE_AGAIN),
]


@pytest.mark.parametrize(
    "state, step, reason", [r[1:] for r in RESTORE_TABLE], ids=[r[0] for r in RESTORE_TABLE]
)
def test_restore_decisions(state, step, reason):
    decision = plan.for_restore(R40, state)
    assert (decision.key_id, decision.tag_key, decision.step) == (KEY, TAG, step)
    assert decision.reason.startswith(reason)


def test_plans_decide_once_per_record_and_refuse_problems():
    other = Record("AKIAEXAMPLE000000002", NOW - timedelta(days=40), "p")
    bad = Problem("c7n-keyage:retired:AKIAEXAMPLE000000003", "2999-01-01T00:00:00Z p", "future")
    states = {KEY: inactive()}  # the other key is not listed: gone
    refused = Decision(
        "AKIAEXAMPLE000000003",
        bad.tag_key,
        REFUSE,
        "record '2999-01-01T00:00:00Z p' not trusted: future",
    )
    assert [(d.key_id, d.step) for d in plan.plan_restore([R40, other], [bad], states)] == [
        (KEY, RESTORE),
        (other.key_id, REMOVE_RECORD),
        (refused.key_id, REFUSE),
    ]
    decisions = plan.plan_delete([R40, other], [bad], states, NOW, 30)
    assert [(d.key_id, d.step) for d in decisions] == [
        (KEY, DELETE),
        (other.key_id, REMOVE_RECORD),
        (refused.key_id, REFUSE),
    ]
    assert decisions[-1] == refused


@pytest.mark.parametrize(
    "age, days, expected",
    [(0, 0, True), (1, 0, True), (30, 30, False), (30 + 1e-6, 30, True), (29, 30, False)],
)
def test_older_than(age, days, expected):
    assert plan.older_than(Record(KEY, NOW - timedelta(days=age), "p"), NOW, days) is expected


@pytest.mark.parametrize(
    "age_hours, hours, expected",
    [(0, 24, True), (23.99, 24, True), (24, 24, False), (30, 24, False)],
)
def test_younger_than(age_hours, hours, expected):
    record = Record(KEY, NOW - timedelta(hours=age_hours), "p")
    assert plan.younger_than(record, NOW, hours) is expected


def test_used_since():
    assert plan.used_since(R40, GONE) is False
    assert plan.used_since(R40, inactive(known=False)) is None
    assert plan.used_since(R40, inactive()) is False
    assert plan.used_since(R40, KeyState(ACTIVE, R40.retired_at + SECOND)) is True


def test_the_records_of_keys_gone_are_removed_and_no_other():
    other = Record("AKIAEXAMPLE000000002", NOW - timedelta(days=1), "p")
    third = Record("AKIAEXAMPLE000000003", NOW - timedelta(days=2), "p")
    found = plan.records_of_gone_keys([R40, other, third], {KEY, "AKIAEXAMPLE000000009"})
    assert found == [
        Decision(other.key_id, other.tag_key, REMOVE_RECORD, KEY_GONE),
        Decision(third.key_id, third.tag_key, REMOVE_RECORD, KEY_GONE),
    ]
    assert plan.records_of_gone_keys([R40], [KEY]) == []
    assert plan.records_of_gone_keys([], []) == []
