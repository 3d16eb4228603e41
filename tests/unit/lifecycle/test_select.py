"""Records are chosen one by one: a policy's filters, evaluated for each record.

A ``retired-keys`` filter is true for a record that passes its options (``days``: retired
more than that many days ago, 0 any; ``policy``: by the policy of that name;
``within-hours``: less than that many hours ago); a filter on the user is true for every
record of a user who passed it; ``and`` (and the policy's list) is all of, ``or`` any of,
``not`` the negation of the ``and`` of its filters. First as a table, then against a
reference that works on sets of records, then the argument that makes it exact after c7n
has filtered: with no ``retired-keys`` under ``not:``, a chosen record's user was matched.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from c7n_keyage.lifecycle.record import Record
from c7n_keyage.lifecycle.select import passes, selected, selects, user_nodes

NOW = datetime(2026, 12, 2, 12, 0, 0, tzinfo=timezone.utc)


def retired(key: str, policy: str, age: timedelta) -> Record:
    return Record(f"AKIAEXAMPLE{key:0>9}", NOW - age, policy)


DAY, HOUR = timedelta(days=1), timedelta(hours=1)
A_OLD, C_OLD, A_NEW = (
    retired("1", "A", 40 * DAY),
    retired("2", "C", 40 * DAY),
    retired("3", "A", HOUR),
)


@pytest.mark.parametrize(
    "options, record, expected",
    [
        ({}, A_NEW, True),
        ({"days": 0}, A_NEW, True),
        ({"days": 30}, A_OLD, True),
        ({"days": 30}, A_NEW, False),
        ({"days": 40}, A_OLD, False),  # exactly 40 days: not more than
        ({"policy": "A"}, A_NEW, True),
        ({"policy": "A"}, C_OLD, False),
        ({"policy": "a"}, A_NEW, False),  # names compare exactly
        ({"within-hours": 24}, A_NEW, True),
        ({"within-hours": 24}, A_OLD, False),
        ({"within-hours": 1}, A_NEW, False),  # exactly an hour: not less than
        ({"policy": "A", "days": 30, "within-hours": 24 * 41}, A_OLD, True),
        ({"policy": "A", "days": 30, "within-hours": 24 * 41}, A_NEW, False),
        ({"type": "retired-keys", "delete-after-days": 30}, A_NEW, True),
    ],
)
def test_a_record_passes_a_filter_by_its_options(options, record, expected):
    assert passes(options, record, NOW) is expected


R = {"type": "retired-keys"}
ISSUE = [dict(R, days=30), {"or": [dict(R, policy="A"), dict(R, policy="B")]}]


def answers(**passed: bool):
    """``user_passed`` from ``{path as "0.1": passed}``; a path not given is a failure."""
    return lambda path: passed.get("p" + "_".join(map(str, path)), False)


# id, the policy's filters, the user's answers, the records chosen of (A_OLD, C_OLD, A_NEW)
TABLE = [
    ("issue-or", ISSUE, answers(), [A_OLD]),
    ("or-with-user", [R, {"or": [dict(R, policy="C"), {"UserName": "x"}]}], answers(), [C_OLD]),
    (
        "or-with-user-passed",
        [R, {"or": [dict(R, policy="C"), {"UserName": "x"}]}],
        answers(p1_1=True),
        [A_OLD, C_OLD, A_NEW],
    ),
    ("user-beside", [dict(R, days=30), {"tag:team": "x"}], answers(p1=True), [A_OLD, C_OLD]),
    ("user-beside-failed", [dict(R, days=30), {"tag:team": "x"}], answers(), []),
    ("not-user", [R, {"not": [{"tag:keep": "present"}]}], answers(p1=True), [A_OLD, C_OLD, A_NEW]),
    ("not-records", [R, {"not": [dict(R, policy="A")]}], answers(), [C_OLD]),
    ("and-block", [{"and": [dict(R, policy="A"), dict(R, days=30)]}], answers(), [A_OLD]),
    ("bare-name", ["retired-keys", dict(R, days=30)], answers(), [A_OLD, C_OLD]),
    ("no-filter", [], answers(), [A_OLD, C_OLD, A_NEW]),
]


@pytest.mark.parametrize(
    "filters, user_passed, expected", [t[1:] for t in TABLE], ids=[t[0] for t in TABLE]
)
def test_records_are_chosen_by_the_policys_filters_each(filters, user_passed, expected):
    assert selected(filters, [A_OLD, C_OLD, A_NEW], NOW, user_passed) == expected


def test_the_user_filters_asked_about_are_the_largest_that_hold_no_records_filter():
    filters = [
        R,
        {"UserName": "x"},
        {"or": [dict(R, policy="A"), {"and": [{"tag:a": "b"}, {"not": [{"tag:c": "d"}]}]}]},
        {"not": [{"tag:e": "f"}]},
        "retired-keys",
    ]
    assert [path for path, _ in user_nodes(filters)] == [(1,), (2, 1), (3,)]
    asked = []
    selects(filters, A_OLD, NOW, lambda path: asked.append(path) or True)
    assert sorted(set(asked)) == [(1,), (2, 1), (3,)]


# --- against a reference on sets of records ---

RECORDS = [A_OLD, C_OLD, A_NEW, retired("4", "B", 10 * DAY), retired("5", "C", 2 * HOUR)]
USER_FILTERS = [{"UserName": "u0"}, {"tag:team": "red"}, {"type": "value", "key": "Path"}]
LEAVES = st.one_of(
    st.builds(
        lambda days, policy, within: {
            "type": "retired-keys",
            **({"days": days} if days is not None else {}),
            **({"policy": policy} if policy else {}),
            **({"within-hours": within} if within else {}),
        },
        st.sampled_from([None, 0, 1, 30]),
        st.sampled_from([None, "A", "B", "C"]),
        st.sampled_from([None, 24, 24 * 20]),
    ),
    st.sampled_from(USER_FILTERS),
)
TREES = st.recursive(
    LEAVES,
    lambda children: st.one_of(
        *(
            st.lists(children, min_size=1, max_size=3).map(lambda c, k=k: {k: c})
            for k in ("and", "or", "not")
        )
    ),
    max_leaves=6,
)
USERS = st.lists(st.booleans(), min_size=3, max_size=3).map(
    lambda bits: dict(zip(map(repr, USER_FILTERS), bits, strict=True))
)


def block(data) -> tuple[str, list] | None:
    if isinstance(data, dict) and len(data) == 1 and next(iter(data)) in ("and", "or", "not"):
        return next(iter(data.items()))
    return None


def accepts(options: dict, record: Record) -> bool:
    age = NOW - record.retired_at
    return (
        options.get("policy", record.policy) == record.policy
        and age < timedelta(hours=options.get("within-hours", 10**6))
        and (options.get("days", 0) == 0 or age > timedelta(days=options["days"]))
    )


def chosen(data, user: dict[str, bool]) -> set[Record]:
    """The records ``data`` chooses, as sets: a records filter, those its options accept; a
    user filter, all of them or none; and/or/not as intersection, union, complement."""
    everything = set(RECORDS)
    if found := block(data):
        kind, parts = found
        sets = [chosen(part, user) for part in parts]
        if kind == "or":
            return set().union(*sets)
        both = set.intersection(*sets)
        return everything - both if kind == "not" else both
    if data.get("type") == "retired-keys":
        return {r for r in RECORDS if accepts(data, r)}
    return everything if user[repr(data)] else set()


def at(filters: list, path: tuple[int, ...]):
    node = {"and": filters}
    for index in path:
        node = block(node)[1][index]
    return node


def shell(filters: list, user: dict[str, bool]):
    """What the shell answers for a subtree on the user alone: its truth for that user."""
    return lambda path: bool(chosen(at(filters, path), user))


@given(st.lists(TREES, min_size=1, max_size=3), USERS)
def test_choices_agree_with_set_algebra(filters, user):
    expected = chosen({"and": filters}, user)
    assert set(selected(filters, RECORDS, NOW, shell(filters, user))) == expected


def holds_records(data) -> bool:
    if found := block(data):
        return any(holds_records(part) for part in found[1])
    return data.get("type") == "retired-keys"


def records_under_not(data) -> bool:
    if not (found := block(data)):
        return False
    kind, parts = found
    return any(holds_records(p) if kind == "not" else records_under_not(p) for p in parts)


def matched_by_c7n(data, user: dict[str, bool]) -> bool:
    """c7n's verdict on the user: a records filter passes when any record passes it."""
    if found := block(data):
        kind, parts = found
        verdicts = [matched_by_c7n(part, user) for part in parts]
        if kind == "or":
            return any(verdicts)
        return not all(verdicts) if kind == "not" else all(verdicts)
    if data.get("type") == "retired-keys":
        return any(accepts(data, r) for r in RECORDS)
    return user[repr(data)]


@given(st.lists(TREES, min_size=1, max_size=3), USERS)
def test_without_records_under_not_a_chosen_record_has_a_matched_user(filters, user):
    """Why choosing records after c7n has filtered users is exact: every record the tree
    chooses belongs to a user c7n matched, so looking only at those misses none."""
    if any(records_under_not(f) for f in filters):
        return
    if selected(filters, RECORDS, NOW, shell(filters, user)):
        assert matched_by_c7n({"and": filters}, user)
