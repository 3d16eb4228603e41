"""lifecycle/rules.py: lifecycle policies refused at validation, saying why; and the ones kept.

- ``retire-keys`` only in a policy whose name a record carries unchanged (the runbook's
  restore looks for exactly that name);
- ``retired-keys policy:`` only with a name some record can carry (in any policy: another
  matches nothing);
- in a policy that restores or deletes, records are chosen one by one: no ``retired-keys``
  inside ``not:`` (c7n negates it user by user) and no filter on the ``c7n:retired-keys``
  annotation (it sees a user's records as one list). Filters on the user, negated or not,
  and ``or:`` blocks of ``retired-keys`` are kept.
"""

from __future__ import annotations

import pytest

from c7n_keyage import composition
from c7n_keyage.lifecycle import rules
from c7n_keyage.names import LIFECYCLE_ACTIONS

LONG = "iam-retire-" + "-".join(["stale"] * 38) + "-z"  # 240 characters, valid for c7n
AKU = {"type": "access-key-unused", "days": 90}
R30 = {"type": "retired-keys", "days": 30}
RETIRE, RESTORE, DELETE = ({"type": a} for a in LIFECYCLE_ACTIONS)
ON_RECORDS = '"c7n:retired-keys"[].status'


def policy(name: str, filters: list, *actions: dict) -> dict:
    return {"name": name, "resource": "iam-user", "filters": filters, "actions": list(actions)}


# id, policy, the start of each refusal (empty: accepted)
TABLE = [
    ("retire", policy("retire-90", [AKU], RETIRE), []),
    ("retire-204", policy("r" * 204, [AKU], RETIRE), []),
    (
        "retire-long",
        policy(LONG, [AKU], RETIRE),
        ["retire-keys writes the policy's name in each record, but the policy name is 240"],
    ),
    (
        "retire-caret",
        policy("retire^90", [AKU], RETIRE),
        ["retire-keys writes the policy's name in each record, but the policy name 'retire^90'"],
    ),
    # A name too long for a record is only a problem where records are written.
    ("report-long", policy(LONG, [AKU]), []),
    ("restore-by-name", policy("r", [dict(R30, policy="retire-90")], RESTORE), []),
    (
        "restore-by-long-name",
        policy("r", [dict(R30, policy=LONG)], RESTORE),
        [f"retired-keys policy {LONG!r} matches no record: "],
    ),
    (
        "notice-by-caret",
        policy("n", [{"type": "retired-keys", "policy": "retire^90"}]),
        ["retired-keys policy 'retire^90' matches no record: "],
    ),
    (
        "issue-or",
        policy(
            "d",
            [R30, {"or": [{"type": "retired-keys", "policy": p} for p in ("A", "B")]}],
            DELETE,
        ),
        [],
    ),
    ("not-user", policy("d", [R30, {"not": [{"tag:keep": "present"}]}], DELETE), []),
    (
        "not-records",
        policy("d", [R30, {"not": [{"type": "retired-keys", "policy": "A"}]}], DELETE),
        ["a retired-keys filter inside not: cannot choose records for delete-retired-keys"],
    ),
    (
        "not-records-deep",
        policy("r", [R30, {"or": [{"not": [{"and": [R30]}]}, {"tag:x": "y"}]}], RESTORE),
        ["a retired-keys filter inside not: cannot choose records for restore-keys"],
    ),
    # In a report or a notice, c7n's own meaning: nothing is acted on.
    ("not-records-report", policy("n", [R30, {"not": [{"type": "retired-keys"}]}]), []),
    (
        "value-on-records",
        policy("r", [R30, {"type": "value", "key": ON_RECORDS, "value": "Inactive"}], RESTORE),
        [f"a filter on {ON_RECORDS} cannot choose records for restore-keys"],
    ),
    (
        "shorthand-on-records",
        policy("d", [R30, {'"c7n:retired-keys"[0].policy': "A"}], DELETE),
        ['a filter on "c7n:retired-keys"[0].policy cannot choose records'],
    ),
    (
        "refused-tags",
        policy(
            "r",
            [R30, {"type": "value", "key": "c7n:retired-keys-refused", "value": "absent"}],
            RESTORE,
        ),
        [],
    ),
    ("value-on-records-report", policy("n", [R30, {"type": "value", "key": ON_RECORDS}]), []),
]


@pytest.mark.parametrize("data, refusals", [t[1:] for t in TABLE], ids=[t[0] for t in TABLE])
def test_lifecycle_compositions(data, refusals):
    assert composition.problems(data) == []
    found = rules.problems(data)
    assert len(found) == len(refusals), found
    for problem, start in zip(found, refusals, strict=True):
        assert problem.startswith(start), problem


def test_refusals_say_why_and_what_instead():
    (long,) = rules.problems(policy(LONG, [AKU], RETIRE))
    assert (
        "at most 204 characters" in long and "restore-keys finds records by the exact name" in long
    )
    (negated,) = rules.problems(
        policy("d", [R30, {"not": [{"type": "retired-keys", "policy": "A"}]}], DELETE)
    )
    assert negated == (
        "a retired-keys filter inside not: cannot choose records for delete-retired-keys: c7n "
        "negates it user by user (a user holding any record it selects is left out), so the "
        "records it does not select on such a user would be silently skipped; choose records "
        "with retired-keys' own days, policy and within-hours, and negate only filters on the "
        "user"
    )
    (on_records,) = rules.problems(
        policy("r", [R30, {"type": "value", "key": ON_RECORDS}], RESTORE)
    )
    assert on_records == (
        f"a filter on {ON_RECORDS} cannot choose records for restore-keys: it sees a user's "
        "records as one list, and restore-keys acts on each record the retired-keys filters "
        "choose; choose them with retired-keys' own days, policy and within-hours"
    )
    (caret,) = rules.problems(policy("n", [{"type": "retired-keys", "policy": "a^b"}]))
    assert caret.endswith("; a retirement by that name recorded it as 'a_b'")


# --- the actions and the filter they act on, reasons whole ---

TAG = {"tag:team": "present"}
RETIRED = {"type": "retired-keys", "days": 30}
PURGE = DELETE
REMOVE = {"type": "remove-keys", "matched": True, "disable": True}
NEEDS_AKU = (
    "retire-keys needs an access-key-unused filter in the policy: it retires exactly the keys "
    "that filter confirmed stale on the live API (c7n:matched-keys)"
)
WITH_REMOVE = (
    "retire-keys and remove-keys cannot share a policy: both act on the same keys, and a key "
    "removed without its record could not be restored"
)
GRACE = (
    "delete-retired-keys needs a grace period: set days (1 or more) on the retired-keys "
    "filter, e.g. days: 30 deletes keys retired more than 30 days ago and unused since"
)
AFTER_IN_DELETE = (
    "delete-after-days is for policies that report or notify; in a policy with "
    "delete-retired-keys the grace is days, and delete_after follows from it"
)


def ONE_OF(names: str) -> str:  # noqa: N802 - reads as the constants beside it
    return (
        f"one lifecycle action per policy, not {names}: each acts on the keys as its filters "
        "saw them, so a second one would act on keys the first changed"
    )


def NEEDS_RETIRED(name: str) -> str:  # noqa: N802
    return (
        f"{name} needs a retired-keys filter in the policy, not inside not: or or: (it acts on "
        "the records that filter matched, and on nothing else)"
    )


CASES = [
    # (filters, actions, the reasons, in order)
    ([AKU], [RETIRE], []),
    ([AKU, TAG], [RETIRE, {"type": "notify"}], []),
    ([RETIRED], [RESTORE], []),
    ([RETIRED], [PURGE], []),
    ([TAG, {"and": [RETIRED]}], [PURGE], []),
    ([TAG], [RETIRE], [NEEDS_AKU]),
    ([AKU], [RETIRE, REMOVE], [WITH_REMOVE]),
    ([AKU, RETIRED], [RETIRE, PURGE], [ONE_OF("retire-keys, delete-retired-keys")]),
    ([RETIRED], [RESTORE, PURGE], [ONE_OF("restore-keys, delete-retired-keys")]),
    ([TAG], [RESTORE], [NEEDS_RETIRED("restore-keys")]),
    ([{"not": [RETIRED]}], [PURGE], [NEEDS_RETIRED("delete-retired-keys")]),
    ([{"or": [RETIRED, TAG]}], [RESTORE], [NEEDS_RETIRED("restore-keys")]),
    (
        [TAG],
        [RESTORE, PURGE],
        [
            ONE_OF("restore-keys, delete-retired-keys"),
            NEEDS_RETIRED("restore-keys and delete-retired-keys"),
        ],
    ),
    ([{"type": "retired-keys", "days": 1}], [PURGE], []),
    ([{"type": "retired-keys"}], [PURGE], [GRACE]),
    ([{"type": "retired-keys", "days": 0}], [PURGE], [GRACE]),
    ([{"type": "retired-keys"}], [RESTORE], []),
    # delete-after-days says when another policy deletes: only where nothing is acted on.
    ([dict(RETIRED, **{"delete-after-days": 60})], [PURGE], [AFTER_IN_DELETE]),
    (
        [{"type": "retired-keys", "delete-after-days": 30}],
        [RESTORE],
        ["delete-after-days is for policies that report or notify, not restore-keys"],
    ),
    ([{"type": "retired-keys", "delete-after-days": 30}], [{"type": "notify"}], []),
    # Both actions: each refusal names both.
    (
        [RETIRED, {"not": [{"type": "retired-keys"}]}],
        [RESTORE, PURGE],
        [
            ONE_OF("restore-keys, delete-retired-keys"),
            "a retired-keys filter inside not: cannot choose records for restore-keys and "
            "delete-retired-keys: c7n negates it user by user (a user holding any record it "
            "selects is left out), so the records it does not select on such a user would be "
            "silently skipped; choose records with retired-keys' own days, policy and "
            "within-hours, and negate only filters on the user",
        ],
    ),
    ([{"type": "retired-keys", "delete-after-days": 30}], [], []),
]


def test_a_retirement_without_a_name_is_refused():
    data = {"resource": "iam-user", "filters": [AKU], "actions": [RETIRE]}
    assert rules.problems(data) == [
        "retire-keys writes the policy's name in each record, but the policy has no name for "
        "its records to carry"
    ]


@pytest.mark.parametrize("filters, actions, reasons", CASES)
def test_lifecycle_actions_and_their_filters(filters, actions, reasons):
    data = {"name": "p", "resource": "iam-user", "filters": filters, "actions": actions}
    assert rules.problems(data) == reasons


def test_grace_is_the_largest_days_of_the_retired_keys_filters_every_user_passed():
    filters = [RETIRED, {"and": [{"type": "retired-keys", "days": 45}]}]
    assert rules.grace_days({"filters": filters}) == 45
    assert rules.grace_days({"filters": [{"or": [{"type": "retired-keys", "days": 90}]}]}) == 0
    assert rules.grace_days({"filters": [{"type": "retired-keys"}]}) == 0


@pytest.mark.parametrize(
    "actions, expected",
    [
        ([RETIRE], False),
        ([RESTORE], True),
        ([{"type": "notify"}, PURGE], True),
        (["delete-retired-keys"], True),
        ([], False),
    ],
)
def test_which_policies_act_on_records(actions, expected):
    assert rules.acts_on_records({"actions": actions}) is expected
