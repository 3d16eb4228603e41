"""What a retirement record says of the key's last use, and which policy names it carries.

A record is ``<time> <policy> last-used=<UTC time to the second | never>``: at most 256
characters, only characters IAM takes in a tag value (letters, digits, spaces and
``_ . : / = + - @``). The last use parses strictly; a record without it still reads, and
says nothing of the last use (``seen`` None). A retirement's policy name is written
unchanged or refused; a name no record can carry matches nothing.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone

import pytest

from c7n_keyage.lifecycle.record import (
    OLD_POLICY_LIMIT,
    POLICY_LIMIT,
    TAG_PREFIX,
    VALUE_LIMIT,
    Record,
    Seen,
    format_record,
    format_time,
    name_problem,
    parse_records,
    selectable_problem,
)

NOW = datetime(2026, 12, 2, 12, 0, 0, tzinfo=timezone.utc)
KEY = "AKIAEXAMPLE000000001"
TAG = TAG_PREFIX + KEY
RETIRED = datetime(2026, 12, 1, tzinfo=timezone.utc)
USED = datetime(2026, 8, 1, 10, 0, 0, tzinfo=timezone.utc)
# What IAM takes in a tag value (its documented pattern, ASCII).
IAM_VALUE = re.compile(r"[A-Za-z0-9 _.:/=+\-@]*")


@pytest.mark.parametrize(
    "seen, value",
    [
        (Seen(None), "2026-12-01T00:00:00Z retire-90 last-used=never"),
        (Seen(USED), "2026-12-01T00:00:00Z retire-90 last-used=2026-08-01T10:00:00Z"),
        # To the second, in UTC, whatever the zone and fraction given.
        (
            Seen(datetime(2026, 8, 1, 12, 0, 0, 999999, timezone(timedelta(hours=2)))),
            "2026-12-01T00:00:00Z retire-90 last-used=2026-08-01T10:00:00Z",
        ),
    ],
    ids=["never-used", "used", "zone-and-fraction"],
)
def test_a_record_says_what_its_retirement_saw(seen, value):
    assert format_record(KEY, RETIRED, "retire-90", seen) == (TAG, value)
    records, problems = parse_records([{"Key": TAG, "Value": value}], NOW)
    assert problems == [] and records == [Record(KEY, RETIRED, "retire-90", seen)]


def test_the_longest_name_and_the_widest_last_use_fill_a_tag_value_exactly():
    name = "p" * POLICY_LIMIT
    latest = datetime(9999, 12, 31, 23, 59, 59, tzinfo=timezone.utc)
    _, value = format_record(KEY, latest, name, Seen(latest))
    assert len(value) == VALUE_LIMIT and IAM_VALUE.fullmatch(value)
    assert name_problem(name) is None and name_problem(name + "p") is not None
    # Old records carried the first characters of a name up to the value's limit.
    assert OLD_POLICY_LIMIT == VALUE_LIMIT - len("2026-12-01T00:00:00Z ")


def test_times_before_the_year_1000_keep_four_digits():
    early = datetime(1, 1, 1, tzinfo=timezone.utc)
    assert format_time(early) == "0001-01-01T00:00:00Z"
    assert Seen(early).text == "0001-01-01T00:00:00Z"


def test_a_last_use_needs_its_time_zone():
    with pytest.raises(ValueError, match="time zone"):
        Seen(datetime(2026, 8, 1))


# id, tag value, expected: (policy, seen) or the start of the problem's reason
VALUES = [
    ("never", "2026-12-01T00:00:00Z p last-used=never", ("p", Seen(None))),
    ("used", "2026-12-01T00:00:00Z p last-used=2026-08-01T10:00:00Z", ("p", Seen(USED))),
    # A use later than the retirement's own clock: an unrotated key used a moment before,
    # on an AWS clock ahead of the runner's. Read as written.
    (
        "after",
        "2026-12-01T00:00:00Z p last-used=2026-12-01T00:00:05Z",
        ("p", Seen(RETIRED + timedelta(seconds=5))),
    ),
    ("old-form", "2026-12-01T00:00:00Z retire-90", ("retire-90", None)),
    ("old-form-spaces", "2026-12-01T00:00:00Z a b", ("a b", None)),
    ("old-form-equals", "2026-12-01T00:00:00Z a=b", ("a=b", None)),
    ("spaces-and-use", "2026-12-01T00:00:00Z a b last-used=never", ("a b", Seen(None))),
    ("no-policy", "2026-12-01T00:00:00Z last-used=never", "it names no policy"),
    ("blank", "2026-12-01T00:00:00Z   last-used=never", "it names no policy"),
    ("empty-use", "2026-12-01T00:00:00Z p last-used=", "its last use 'last-used=' is neither"),
    ("word", "2026-12-01T00:00:00Z p last-used=yesterday", "its last use 'last-used=yesterday'"),
    ("upper-never", "2026-12-01T00:00:00Z p last-used=NEVER", "its last use"),
    ("no-z", "2026-12-01T00:00:00Z p last-used=2026-08-01T10:00:00", "its last use"),
    ("offset", "2026-12-01T00:00:00Z p last-used=2026-08-01T10:00:00+00:00", "its last use"),
    ("fraction", "2026-12-01T00:00:00Z p last-used=2026-08-01T10:00:00.5Z", "its last use"),
    ("date-only", "2026-12-01T00:00:00Z p last-used=2026-08-01", "its last use"),
    ("bad-month", "2026-12-01T00:00:00Z p last-used=2026-13-01T10:00:00Z", "its last use"),
    ("trailing", "2026-12-01T00:00:00Z p last-used=never x", ("p last-used=never x", None)),
    ("future", "2026-12-03T00:00:00Z p last-used=never", "it is dated 2026-12-03T00:00:00Z"),
    ("no-zone", "2026-12-01T00:00:00 p last-used=never", "its time '2026-12-01T00:00:00' has no"),
]


@pytest.mark.parametrize("value, expected", [v[1:] for v in VALUES], ids=[v[0] for v in VALUES])
def test_values_parse_strictly(value, expected):
    records, problems = parse_records([{"Key": TAG, "Value": value}], NOW)
    if isinstance(expected, tuple):
        policy, seen = expected
        assert problems == []
        assert [(r.policy, r.seen) for r in records] == [(policy, seen)]
    else:
        assert records == []
        (problem,) = problems
        assert problem.reason.startswith(expected), problem.reason


# --- policy names: what a retirement writes, what a restore can find ---

WRITABLE = [
    ("c7n-style", "iam-access-key-lifecycle-retire-90", None),
    ("iam-symbols", "team_a.retire:90/keys=1+x@y", None),
    ("at-the-limit", "r" * POLICY_LIMIT, None),
    ("one-over", "r" * (POLICY_LIMIT + 1), f"the policy name is {POLICY_LIMIT + 1} characters"),
    ("caret", "iam-retire^stale", "the policy name 'iam-retire^stale' has characters"),
    ("brackets", "retire[90]", "the policy name 'retire[90]' has characters"),
    ("backslash-backtick", "a\\b`c", "the policy name"),
    ("space", "retire 90", "the policy name 'retire 90' has characters"),
    ("non-ascii", "retiré", "the policy name 'retiré' has characters"),
    ("empty", "", "the policy has no name"),
]


@pytest.mark.parametrize("name, problem", [w[1:] for w in WRITABLE], ids=[w[0] for w in WRITABLE])
def test_a_retirement_writes_its_name_unchanged_or_is_refused(name, problem):
    found = name_problem(name)
    if problem is None:
        assert found is None
        key, value = format_record(KEY, RETIRED, name, Seen(None))
        (record,), _ = parse_records([{"Key": key, "Value": value}], NOW)
        assert record.policy == name
        return
    assert found is not None and found.startswith(problem), found
    with pytest.raises(ValueError, match=re.escape(found)):
        format_record(KEY, RETIRED, name, Seen(None))


def test_refusals_say_the_limit_and_the_characters():
    assert f"at most {POLICY_LIMIT} characters" in name_problem("r" * 300)
    assert "'^'" in name_problem("iam-retire^stale")
    assert "_ . : / = + - @" in name_problem("retire[90]")


SELECTABLE = [
    ("plain", "iam-access-key-lifecycle-retire-90", None),
    # Carried whole by a record without the last use (the old form): still found.
    ("old-length", "r" * OLD_POLICY_LIMIT, None),
    ("inner-space", "retire 90", None),
    ("too-long", "r" * (OLD_POLICY_LIMIT + 1), f"at most {OLD_POLICY_LIMIT} characters"),
    ("caret", "iam-retire^stale", "a record cannot carry '^'"),
    ("leading-space", " retire", "a record's policy name neither starts nor ends"),
    ("empty", "", "a record's policy name neither starts nor ends"),
    ("last-use-word", "retire last-used=never", "a record's last word last-used="),
]


@pytest.mark.parametrize("name, why", [s[1:] for s in SELECTABLE], ids=[s[0] for s in SELECTABLE])
def test_a_restore_by_a_name_no_record_can_carry_is_refused(name, why):
    found = selectable_problem(name)
    if why is None:
        assert found is None
        return
    assert found.startswith(f"policy {name!r} matches no record: "), found
    assert why in found, found


def test_a_refused_restore_names_what_old_records_wrote():
    assert selectable_problem("iam-retire^stale").endswith(
        "; a retirement by that name recorded it as 'iam-retire_stale'"
    )
    long = "r" * (OLD_POLICY_LIMIT + 5)
    assert selectable_problem(long).endswith(f"recorded it as {'r' * OLD_POLICY_LIMIT!r}")
    # The hint is itself a name a restore can use.
    assert selectable_problem("r" * OLD_POLICY_LIMIT) is None
    assert selectable_problem("iam-retire_stale") is None
