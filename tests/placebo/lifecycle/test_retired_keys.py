"""The retired-keys filter in a policy that only reports: c7n's per-user meaning.

Each filter writes the records its options select on ``c7n:retired-keys``, merged with
what the user carries as c7n merges annotations: under ``or:`` their union, otherwise
their intersection (a user left with none is not matched). The tags it cannot trust are the
user's, listed once. Records chosen one by one are for the policies that act on them
(``test_actions.py``). Scenarios: ``tests/support/placebo_lifecycle.py``'s account.
"""

from __future__ import annotations

import pytest
from c7n.exceptions import PolicyValidationError

from c7n_keyage import policy_run
from c7n_keyage.lifecycle.reads import UserRecords
from c7n_keyage.lifecycle.record import Record
from c7n_keyage.lifecycle.retired_keys import choose
from c7n_keyage.testing import load_policy
from tests.support.placebo_lifecycle import POLICY

R = "retired-keys"
# What the filter reads of each user: the restore scenario's reads, and no action.
READS = (
    ["ListUsers"]
    + ["GetUser"] * 8
    + ["ListUserTags", "ListAccessKeys", "GetAccessKeyLastUsed"] * 3
    + ["ListUserTags", "ListAccessKeys"]
    + ["ListUserTags", "ListAccessKeys", "GetAccessKeyLastUsed"]
    + ["ListUserTags"] * 2
    + ["ListUserTags", "ListAccessKeys"]
    + ["GetAccessKeyLastUsed"] * 2
)
REFUSED = [
    {
        "tag": "c7n-keyage:retired:AKIALIFEFUTURE000001",
        "value": "2999-01-01T00:00:00Z x",
        "reason": "it is dated 2999-01-01T00:00:00Z, after now (2026-11-01T12:00:00Z)",
    },
    {
        "tag": "c7n-keyage:retired:AKIALIFEGARBAGE00001",
        "value": "yesterday x",
        "reason": "its time 'yesterday' is not an ISO 8601 date and time",
    },
]


def report(*filters: dict) -> dict:
    return {"name": "retired-keys-report", "resource": "iam-user", "filters": list(filters)}


def found(policy) -> dict[str, list[str]]:
    return {
        r["UserName"]: [e["access_key_id"] for e in r["c7n:retired-keys"]] for r in policy.resources
    }


def test_an_or_unites_each_users_records(replay_from, frozen, run_policy):
    """The records of POLICY, and of another policy or retired more than 5 days ago:
    ret-today carries both its records (one of each policy), everyone else their one."""
    replay = replay_from("test_restore_keys")
    policy = run_policy(
        report(
            {"type": R, "policy": POLICY},
            {"or": [{"type": R, "policy": "another-policy"}, {"type": R, "days": 5}]},
        ),
        replay,
    )

    assert replay.operations() == READS
    assert found(policy) == {
        "ret-due": ["AKIALIFEDUE000000001"],
        "ret-recent": ["AKIALIFERECENT000001"],
        "ret-reenabled": ["AKIALIFEREENABLED001"],
        "ret-gone": ["AKIALIFEGONE00000001"],
        "ret-used": ["AKIALIFEUSED00000001"],
        "ret-untrusted": [],
        "ret-today": ["AKIALIFETODAY0000001", "AKIALIFETODAY0000002"],
    }
    by_user = {r["UserName"]: r for r in policy.resources}
    assert by_user["ret-due"]["c7n:retired-keys"] == [
        {
            "access_key_id": "AKIALIFEDUE000000001",
            "retired_at": "2026-09-22T12:00:00Z",
            "policy": POLICY,
            "status": "Inactive",
            "used_since_retired": False,
        }
    ]
    statuses = {u: [e["status"] for e in r["c7n:retired-keys"]] for u, r in by_user.items()}
    assert statuses["ret-reenabled"] == ["Active"] and statuses["ret-gone"] == ["missing"]
    assert by_user["ret-untrusted"]["c7n:retired-keys-refused"] == REFUSED
    assert all(
        r["c7n:retired-keys-refused"] == [] for u, r in by_user.items() if u != "ret-untrusted"
    )


def test_filters_side_by_side_intersect_each_users_records(replay_from, frozen, run_policy):
    """Records of POLICY and records of another policy: no record is both, so ret-today,
    which holds one of each, is not matched; ret-untrusted shows its refused tags."""
    replay = replay_from("test_restore_keys")
    policy = run_policy(
        report({"type": R, "policy": POLICY}, {"type": R, "policy": "another-policy"}), replay
    )

    assert found(policy) == {"ret-untrusted": []}
    (untrusted,) = policy.resources
    assert untrusted["c7n:retired-keys-refused"] == REFUSED


def test_filters_side_by_side_on_the_same_records_keep_them_whatever_each_adds(
    replay_from, frozen, run_policy
):
    """One filter chooses POLICY's records, the other every record with its deletion date:
    their entries for one key differ, and the key is still one, kept."""
    alone = run_policy(report({"type": R, "policy": POLICY}), replay_from("test_restore_keys"))
    both = run_policy(
        report({"type": R, "policy": POLICY}, {"type": R, "delete-after-days": 30}),
        replay_from("test_restore_keys"),
    )
    assert found(both) == found(alone) and any(found(alone).values())


def test_a_user_whose_records_this_run_did_not_read_is_not_chosen(replay_from, frozen):
    """choose() acts only on users whose records the run read (the filter every matched
    user passed reads them): one that was not is left out, the others kept."""
    data = {
        "name": "restore",
        "resource": "iam-user",
        "filters": [{"type": R}],
        "actions": [{"type": "restore-keys"}],
    }
    manager = load_policy(data, replay_from("test_restore_keys").session_factory).resource_manager
    record = Record("AKIAEXAMPLE000000001", frozen.replace(day=1, month=10), "p")
    policy_run.lifecycle_reads(manager)["read"] = UserRecords([record])
    policy_run.moment(manager, lambda: frozen)
    kept = choose(manager, [{"UserName": "unread"}, {"UserName": "read"}])
    assert [(r["UserName"], [e["access_key_id"] for e in r["c7n:retired-keys"]]) for r in kept] == [
        ("read", ["AKIAEXAMPLE000000001"])
    ]


def test_a_restore_whose_other_filter_leaves_no_one_ends_quietly(replay_from, frozen, run_policy):
    """c7n stops at a filter that leaves no user: retired-keys never runs, nothing is read,
    and the records' choice, which runs as filtering ends, has no one to choose."""
    replay = replay_from("test_restore_keys")
    nobody = {"type": "value", "key": "UserName", "value": "nobody"}
    data = dict(report(nobody, {"type": R}), actions=[{"type": "restore-keys"}])
    assert run_policy(data, replay).resources == []
    assert replay.operations() == ["ListUsers"] + ["GetUser"] * 8


@pytest.mark.parametrize("action", ["restore-keys", "delete-retired-keys"])
def test_a_policy_acting_on_records_needs_a_retired_keys_filter(replay_from, action):
    """Only the action can say so: no retired-keys filter validates the policy."""
    data = {
        "name": "no-records-filter",
        "resource": "iam-user",
        "filters": [{"tag:team": "data"}],
        "actions": [{"type": action}],
    }
    with pytest.raises(PolicyValidationError) as refused:
        load_policy(data, replay_from("test_restore_keys").session_factory)
    assert str(refused.value) == (
        f"policy:no-records-filter action {action}: {action} needs a retired-keys filter in "
        "the policy, not inside not: or or: (it acts on the records that filter matched, and "
        "on nothing else)"
    )


def test_each_refusal_of_the_filter_is_given(replay_from):
    data = {
        "name": "two-refusals",
        "resource": "iam-user",
        "filters": [{"type": R, "delete-after-days": 3}, {"not": [{"type": R}]}],
        "actions": [{"type": "restore-keys"}],
    }
    with pytest.raises(PolicyValidationError) as refused:
        load_policy(data, replay_from("test_restore_keys").session_factory)
    message = str(refused.value)
    assert message.startswith(
        "policy:two-refusals filter retired-keys: a retired-keys filter inside not: cannot "
        "choose records for restore-keys: "
    )
    assert message.endswith(
        "negate only filters on the user; delete-after-days is for policies that report or "
        "notify, not restore-keys"
    )
