"""Lifecycle policies refused at validation, saying why; and the ones kept.

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

LONG = "iam-retire-" + "-".join(["stale"] * 38) + "-z"  # 240 characters, valid for c7n
AKU = {"type": "access-key-unused", "days": 90}
R30 = {"type": "retired-keys", "days": 30}
RETIRE, RESTORE, DELETE = ({"type": a} for a in composition.LIFECYCLE_ACTIONS)
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
    found = composition.problems(data)
    assert len(found) == len(refusals), found
    for problem, start in zip(found, refusals, strict=True):
        assert problem.startswith(start), problem


def test_refusals_say_why_and_what_instead():
    (long,) = composition.problems(policy(LONG, [AKU], RETIRE))
    assert (
        "at most 204 characters" in long and "restore-keys finds records by the exact name" in long
    )
    (negated,) = composition.problems(
        policy("d", [R30, {"not": [{"type": "retired-keys", "policy": "A"}]}], DELETE)
    )
    assert "silently skipped" in negated and "days, policy and within-hours" in negated
    (caret,) = composition.problems(policy("n", [{"type": "retired-keys", "policy": "a^b"}]))
    assert caret.endswith("; a retirement by that name recorded it as 'a_b'")
