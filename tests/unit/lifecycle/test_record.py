"""The retirement record as a table: what is written, and what is read back or refused.

A record is trusted only when its tag value is an ISO 8601 time with a zone, not after
``now``, followed by a policy name (and, in the form written now, what the retirement saw
of the key's last use: ``test_record_last_use.py``); anything else is a problem with its
reason.
"""

from __future__ import annotations

import time
from datetime import datetime, timedelta, timezone

import pytest

from c7n_keyage.lifecycle.record import (
    TAG_PREFIX,
    Problem,
    Record,
    Seen,
    format_record,
    format_time,
    parse_records,
)

NOW = datetime(2026, 12, 2, 12, 0, 0, 500000, tzinfo=timezone.utc)
KEY = "AKIAEXAMPLE000000001"
TAG = TAG_PREFIX + KEY


def test_format_matches_the_issue_example():
    when = datetime(2026, 12, 2, 12, 0, 0, 999999, timezone.utc)
    assert format_record(KEY, when, "p", Seen(None)) == (
        "c7n-keyage:retired:AKIAEXAMPLE000000001",
        "2026-12-02T12:00:00Z p last-used=never",
    )


def test_format_converts_to_utc():
    plus_two = timezone(timedelta(hours=2))
    assert format_time(datetime(2026, 12, 2, 14, 0, 5, tzinfo=plus_two)) == "2026-12-02T12:00:05Z"


@pytest.fixture
def tokyo(monkeypatch):
    """The machine's local time zone nine hours ahead of UTC: no UTC by accident."""
    monkeypatch.setenv("TZ", "Asia/Tokyo")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


def test_written_and_read_in_utc_whatever_the_local_zone(tokyo):
    plus_two = timezone(timedelta(hours=2))
    assert format_time(datetime(2026, 12, 2, 14, 0, 5, tzinfo=plus_two)) == "2026-12-02T12:00:05Z"
    (record,), _ = parse_records([{"Key": TAG, "Value": "2026-12-01T14:00:00+02:00 p"}], NOW)
    assert record.retired_at.utcoffset() == timedelta(0)
    assert record.retired_at == datetime(2026, 12, 1, 12, tzinfo=timezone.utc)


def test_format_refuses_a_naive_time_and_a_bad_key_id():
    with pytest.raises(ValueError, match="^a retirement time must carry its time zone$"):
        format_time(datetime(2026, 12, 2))
    with pytest.raises(ValueError, match="not an access key ID"):
        format_record("AKIA SHORT", NOW, "p", Seen(None))


def test_written_records_read_back():
    used = datetime(2026, 8, 1, 10, 0, 0, 250000, tzinfo=timezone.utc)
    key, value = format_record(KEY, NOW - timedelta(days=3), "retire-90", Seen(used))
    records, problems = parse_records([{"Key": key, "Value": value}], NOW)
    assert problems == []
    assert records == [
        Record(
            KEY,
            datetime(2026, 11, 29, 12, 0, 0, tzinfo=timezone.utc),
            "retire-90",
            Seen(used.replace(microsecond=0)),
        )
    ]
    assert records[0].tag_key == TAG and records[0].retired_at_text == "2026-11-29T12:00:00Z"


# id, tag value, expected: a (retired_at, policy) pair, or the start of the problem's reason
VALUES = [
    ("canonical", "2026-12-01T00:00:00Z p", (datetime(2026, 12, 1, tzinfo=timezone.utc), "p")),
    ("offset", "2026-12-01T02:00:00+02:00 p", (datetime(2026, 12, 1, tzinfo=timezone.utc), "p")),
    ("exactly-now", "2026-12-02T12:00:00.500000Z p", (NOW, "p")),
    (
        "policy-with-spaces",
        "2026-12-01T00:00:00Z a b",
        (datetime(2026, 12, 1, tzinfo=timezone.utc), "a b"),
    ),
    ("future-by-a-second", "2026-12-02T12:00:01Z p", "it is dated 2026-12-02T12:00:01Z, after now"),
    ("far-future", "2999-01-01T00:00:00Z p", "it is dated 2999-01-01T00:00:00Z"),
    ("no-zone", "2026-12-01T00:00:00 p", "its time '2026-12-01T00:00:00' has no time zone"),
    ("date-only", "2026-12-01 p", "its time '2026-12-01' has no time zone"),
    ("garbage", "yesterday p", "its time 'yesterday' is not an ISO 8601"),
    ("empty", "", "its time '' is not an ISO 8601"),
    ("no-policy", "2026-12-01T00:00:00Z", "it names no policy"),
    ("blank-policy", "2026-12-01T00:00:00Z  ", "it names no policy"),
    ("bad-month", "2026-13-01T00:00:00Z p", "its time '2026-13-01T00:00:00Z' is not"),
]


@pytest.mark.parametrize("value, expected", [v[1:] for v in VALUES], ids=[v[0] for v in VALUES])
def test_values_parse_or_are_refused_with_a_reason(value, expected):
    records, problems = parse_records([{"Key": TAG, "Value": value}], NOW)
    if isinstance(expected, tuple):
        assert problems == [] and records == [Record(KEY, *expected)]
    else:
        assert records == []
        (problem,) = problems
        assert (problem.tag_key, problem.value, problem.key_id) == (TAG, value, KEY)
        assert problem.reason.startswith(expected), problem.reason


def test_other_tags_are_ignored_and_bad_key_ids_refused():
    tags = [
        {"Key": "team", "Value": "2026-12-01T00:00:00Z p"},
        {"Key": "c7n-keyage:other", "Value": "x"},
        {"Key": "c7n-keyage:retired:", "Value": "2026-12-01T00:00:00Z p"},
        {"Key": "c7n-keyage:retired:AKIA-BAD-0000000001", "Value": "2026-12-01T00:00:00Z p"},
        {"Key": TAG, "Value": "2026-12-01T00:00:00Z p"},
    ]
    records, problems = parse_records(tags, NOW)
    assert [r.key_id for r in records] == [KEY]
    assert problems == [
        Problem("c7n-keyage:retired:", "2026-12-01T00:00:00Z p", "'' is not an access key ID"),
        Problem(
            "c7n-keyage:retired:AKIA-BAD-0000000001",
            "2026-12-01T00:00:00Z p",
            "'AKIA-BAD-0000000001' is not an access key ID",
        ),
    ]
