"""The acting path on replayed responses: what reaches remove-keys, key by key.

The standard account (``tests/support/placebo_fixtures.py``) at NOW: bob used 200 days ago; dave
never used, created 200 days ago; erin's slot 2 used 150 days ago beside a fresh slot 1;
gina used exactly 90 days ago, her key created 120 days ago; alice used yesterday, her key
created 150 days ago.
"""

from __future__ import annotations

import logging

from tests.support.placebo_fixtures import FLAGGED_USERS, ROTATED_100, USERS, live_operations
from tests.support.policies import REPORT_CALLS, disable_policy, names


def test_an_earlier_access_key_filter_narrows_the_keys(replay, frozen, run_policy, caplog):
    """c7n's access-key filter before this one keeps every key but erin's stale one: bob's
    and dave's keys are disabled; erin's stale key is not, and erin, with no key both
    filters keep, is not matched."""
    caplog.set_level(logging.INFO, logger="custodian.keyage")
    policy = disable_policy(disable=True)
    not_erins_stale_key = {
        "type": "access-key",
        "key": "AccessKeyId",
        "op": "ne",
        "value": "AKIAEXAMPLEERIN00002",
    }
    policy["filters"] = [not_erins_stale_key, *policy["filters"]]
    resources = run_policy(policy, replay).resources

    assert replay.operations() == (
        REPORT_CALLS[:-1]
        + ["ListAccessKeys"] * len(USERS)
        + ["GetCredentialReport"]
        + live_operations(FLAGGED_USERS)
        + ["UpdateAccessKey"] * 2
    )
    assert [p["AccessKeyId"] for p in replay.params("UpdateAccessKey")] == [
        "AKIAEXAMPLEBOB000001",
        "AKIAEXAMPLEDAVE00001",
    ]
    assert names(resources) == ["bob-stale", "dave-abandoned"]
    assert {k["access_key_id"] for r in resources for k in r["c7n:unused-keys"]} == {
        "AKIAEXAMPLEBOB000001",
        "AKIAEXAMPLEDAVE00001",
    }
    assert (
        "policy:stale-keys user erin-two-keys: no key is both confirmed stale and matched by "
        "the other filters; nothing to act on"
    ) in caplog.messages


def test_rotation_days_on_the_acting_path(replay, frozen, run_policy):
    policy = disable_policy(disable=True)
    policy["filters"] = [dict(policy["filters"][0], **{"rotation-days": 100})]
    resources = run_policy(policy, replay).resources

    assert replay.operations() == (
        REPORT_CALLS + live_operations(ROTATED_100) + ["UpdateAccessKey"] * 5
    )
    assert [p["AccessKeyId"] for p in replay.params("UpdateAccessKey")] == [
        "AKIAEXAMPLEALICE0001",
        "AKIAEXAMPLEBOB000001",
        "AKIAEXAMPLEDAVE00001",
        "AKIAEXAMPLEERIN00002",
        "AKIAEXAMPLEGINA00001",
    ]
    reasons = {k["access_key_id"]: k["reasons"] for r in resources for k in r["c7n:unused-keys"]}
    # alice's and gina's keys were used yesterday and exactly 90 days ago: unrotated only.
    assert reasons == {
        "AKIAEXAMPLEALICE0001": ["unrotated"],
        "AKIAEXAMPLEBOB000001": ["unused", "unrotated"],
        "AKIAEXAMPLEDAVE00001": ["never-used", "unrotated"],
        "AKIAEXAMPLEERIN00002": ["unused", "unrotated"],
        "AKIAEXAMPLEGINA00001": ["unrotated"],
    }


def test_an_or_of_filters_after_another_intersects(replay, frozen, run_policy, caplog):
    """Created more than 100 days ago, and (unused for 90 days, or created more than 350
    days ago): alice's and gina's keys pass the first filter only and stay active. Each
    flagged user's keys are read once for all three filters."""
    policy = disable_policy(disable=True)
    policy["filters"] = [
        {"type": "access-key-unused", "days": 36500, "rotation-days": 100},
        {
            "or": [
                {"type": "access-key-unused", "days": 90},
                {"type": "access-key-unused", "days": 36500, "rotation-days": 350},
            ]
        },
    ]
    resources = run_policy(policy, replay).resources

    assert replay.operations() == (
        REPORT_CALLS + live_operations(ROTATED_100) + ["UpdateAccessKey"] * 3
    )
    # c7n's or: returns its users from a set: in no particular order.
    assert sorted(p["AccessKeyId"] for p in replay.params("UpdateAccessKey")) == [
        "AKIAEXAMPLEBOB000001",
        "AKIAEXAMPLEDAVE00001",
        "AKIAEXAMPLEERIN00002",
    ]
    found = {k["access_key_id"]: k["reasons"] for r in resources for k in r["c7n:unused-keys"]}
    assert found == {
        "AKIAEXAMPLEBOB000001": ["unused", "unrotated"],
        "AKIAEXAMPLEDAVE00001": ["never-used", "unrotated"],
        "AKIAEXAMPLEERIN00002": ["unused", "unrotated"],
    }
    assert sorted(names(resources)) == ["bob-stale", "dave-abandoned", "erin-two-keys"]


def test_an_or_of_filters_narrows_to_the_first(replay, frozen, run_policy):
    """uma's keys: one unused for 110 days, one for 260. Unused for 200 days, and (for 90
    or for 30): only the 260-day key. c7n's own merge would unite the or:'s keys with the
    first filter's and disable both."""
    policy = disable_policy(disable=True)
    policy["filters"] = [
        {"type": "access-key-unused", "days": 200},
        {
            "or": [
                {"type": "access-key-unused", "days": 90},
                {"type": "access-key-unused", "days": 30},
            ]
        },
    ]
    (uma,) = run_policy(policy, replay).resources

    assert replay.params("UpdateAccessKey") == [
        {"UserName": "uma", "AccessKeyId": "AKIAEXAMPLEUMA000002", "Status": "Inactive"}
    ]
    assert [m["AccessKeyId"] for m in uma["c7n:matched-keys"]] == ["AKIAEXAMPLEUMA000002"]
    assert [(k["access_key_id"], k["reasons"]) for k in uma["c7n:unused-keys"]] == [
        ("AKIAEXAMPLEUMA000002", ["unused"])
    ]


def test_an_or_of_filters_unites_what_each_branch_flagged(replay, frozen, run_policy):
    """uma's keys: one unused for 110 days, one for 260. Unused for 100 days, or for 200:
    the first branch flags both keys, the second only the 260-day one; both are disabled
    and listed, whatever the later branch found."""
    policy = disable_policy(disable=True)
    policy["filters"] = [
        {
            "or": [
                {"type": "access-key-unused", "days": 100},
                {"type": "access-key-unused", "days": 200},
            ]
        },
    ]
    (uma,) = run_policy(policy, replay).resources

    both = ["AKIAEXAMPLEUMA000001", "AKIAEXAMPLEUMA000002"]
    assert [p["AccessKeyId"] for p in replay.params("UpdateAccessKey")] == both
    assert [m["AccessKeyId"] for m in uma["c7n:matched-keys"]] == both
    assert [(k["access_key_id"], k["reasons"]) for k in uma["c7n:unused-keys"]] == [
        (key, ["unused"]) for key in both
    ]
