"""Policy-level tests of ``access-key-unused`` on replayed API responses.

The standard account (``tests/placebo_fixtures.py``) at NOW = 2026-11-01T12:00Z:
alice used yesterday; bob used 200 days ago; carol never used, created 10 days ago; dave
never used, created 200 days ago; erin has two active keys, slot 1 NEWER and fresh, slot 2
used 150 days ago; frank has a stale inactive key beside a fresh active one; gina was used
exactly 90 days ago; hank is not in the report; root used 200 days ago.
"""

from __future__ import annotations

import base64
import json
import zlib

import pytest
from c7n.exceptions import PolicyValidationError

USER_POLICY = {
    "name": "stale-keys",
    "resource": "iam-user",
    "filters": [{"type": "access-key-unused", "days": 90}],
}
REPORT_CALLS = ["ListUsers"] + ["GetUser"] * 8 + ["GetCredentialReport"]


def names(resources):
    return [r["UserName"] for r in resources]


def disable_policy(**action):
    return dict(
        USER_POLICY,
        actions=[dict({"type": "remove-keys", "matched": True}, **action)],
    )


def test_report_only_flags_stale_keys(replay, frozen, run_policy):
    policy = run_policy(USER_POLICY, replay)

    assert names(policy.resources) == ["bob-stale", "dave-abandoned", "erin-two-keys"]
    # A report-only policy makes no per-user call.
    assert replay.operations() == REPORT_CALLS
    by_name = {r["UserName"]: r for r in policy.resources}
    assert by_name["bob-stale"]["c7n:unused-keys"] == [
        {
            "slot": 1,
            "last_rotated": "2025-09-27T12:00:00+00:00",
            "last_used_date": "2026-04-15T12:00:00+00:00",
            "last_used_service": "s3",
            "last_used_region": "us-east-1",
            "reasons": ["unused"],
            "days_since_use": 200,
            "days_since_rotation": 400,
        }
    ]
    assert by_name["dave-abandoned"]["c7n:unused-keys"][0]["reasons"] == ["never-used"]
    assert by_name["dave-abandoned"]["c7n:unused-keys"][0]["days_since_use"] is None
    assert by_name["dave-abandoned"]["c7n:unused-keys"][0]["last_used_service"] is None
    # Only erin's slot 2 (the OLDER key) is flagged, although slot 1 comes first.
    erin = by_name["erin-two-keys"]["c7n:unused-keys"]
    assert [(k["slot"], k["reasons"], k["days_since_use"]) for k in erin] == [(2, ["unused"], 150)]
    # Without listing, matched entries name keys as c7n's credential filter does.
    assert by_name["erin-two-keys"]["c7n:matched-keys"] == [
        {
            "active": True,
            "last_rotated": "2026-01-05T12:00:00+00:00",
            "last_used_date": "2026-06-04T12:00:00+00:00",
            "last_used_region": "us-east-1",
            "last_used_service": "s3",
            "c7n:match-type": "credential",
        }
    ]
    assert all("c7n:AccessKeys" not in r for r in policy.resources)


@pytest.mark.parametrize(
    "days, expected",
    [
        # gina was used exactly 90 days ago: flagged only once the limit is below 90.
        (89, ["bob-stale", "dave-abandoned", "erin-two-keys", "gina-exactly-90"]),
        (149, ["bob-stale", "dave-abandoned", "erin-two-keys"]),
        (150, ["bob-stale", "dave-abandoned"]),
        (199, ["bob-stale", "dave-abandoned"]),
        (200, []),
    ],
)
def test_report_only_flags_stale_keys_days(replay_from, frozen, run_policy, days, expected):
    replay = replay_from("test_report_only_flags_stale_keys")
    policy = dict(USER_POLICY, filters=[{"type": "access-key-unused", "days": days}])
    assert names(run_policy(policy, replay).resources) == expected


def test_report_only_flags_stale_keys_rotation(replay_from, frozen, run_policy):
    replay = replay_from("test_report_only_flags_stale_keys")
    policy = dict(
        USER_POLICY,
        filters=[{"type": "access-key-unused", "days": 90, "rotation-days": 100}],
    )
    resources = run_policy(policy, replay).resources
    reasons = {
        r["UserName"]: [(k["slot"], k["reasons"]) for k in r["c7n:unused-keys"]] for r in resources
    }
    assert reasons == {
        "alice-fresh": [(1, ["unrotated"])],
        "bob-stale": [(1, ["unused", "unrotated"])],
        "dave-abandoned": [(1, ["never-used", "unrotated"])],
        "erin-two-keys": [(2, ["unused", "unrotated"])],
        "gina-exactly-90": [(1, ["unrotated"])],
    }


def test_remove_keys_disables_only_flagged(replay, frozen, run_policy):
    policy = run_policy(disable_policy(disable=True), replay)

    assert names(policy.resources) == ["bob-stale", "dave-abandoned", "erin-two-keys"]
    # One ListAccessKeys per flagged user, none by remove-keys, then one update per key.
    assert replay.operations() == REPORT_CALLS + ["ListAccessKeys"] * 3 + ["UpdateAccessKey"] * 3
    assert [p["UserName"] for p in replay.params("ListAccessKeys")] == [
        "bob-stale",
        "dave-abandoned",
        "erin-two-keys",
    ]
    # CreateDate carries microseconds: the key IDs still resolve, to the flagged keys only.
    assert replay.params("UpdateAccessKey") == [
        {"UserName": "bob-stale", "AccessKeyId": "AKIAEXAMPLEBOB000001", "Status": "Inactive"},
        {"UserName": "dave-abandoned", "AccessKeyId": "AKIAEXAMPLEDAVE00001", "Status": "Inactive"},
        {"UserName": "erin-two-keys", "AccessKeyId": "AKIAEXAMPLEERIN00002", "Status": "Inactive"},
    ]
    erin = {r["UserName"]: r for r in policy.resources}["erin-two-keys"]
    assert [k["AccessKeyId"] for k in erin["c7n:matched-keys"]] == ["AKIAEXAMPLEERIN00002"]
    assert erin["c7n:unused-keys"][0]["access_key_id"] == "AKIAEXAMPLEERIN00002"
    assert len(erin["c7n:AccessKeys"]) == 2


def test_remove_keys_deletes_only_flagged(replay, frozen, run_policy):
    run_policy(disable_policy(), replay)

    assert "UpdateAccessKey" not in replay.operations()
    assert replay.params("DeleteAccessKey") == [
        {"UserName": "bob-stale", "AccessKeyId": "AKIAEXAMPLEBOB000001"},
        {"UserName": "dave-abandoned", "AccessKeyId": "AKIAEXAMPLEDAVE00001"},
        {"UserName": "erin-two-keys", "AccessKeyId": "AKIAEXAMPLEERIN00002"},
    ]


def test_remove_keys_disables_only_flagged_dryrun(replay_from, frozen, run_policy):
    replay = replay_from("test_remove_keys_disables_only_flagged")
    policy = run_policy(disable_policy(disable=True), replay, dryrun=True)
    assert names(policy.resources) == ["bob-stale", "dave-abandoned", "erin-two-keys"]
    assert "UpdateAccessKey" not in replay.operations()
    assert "DeleteAccessKey" not in replay.operations()


def test_keys_changed_since_the_report_are_not_flagged(replay, frozen, run_policy):
    policy = run_policy(disable_policy(disable=True), replay)

    # The listing is newer than the report: keys no longer active are not stale.
    assert names(policy.resources) == ["erin-two-keys"]
    assert replay.operations() == REPORT_CALLS + ["ListAccessKeys"] * 3 + ["UpdateAccessKey"]
    assert replay.params("UpdateAccessKey") == [
        {"UserName": "erin-two-keys", "AccessKeyId": "AKIAEXAMPLEERIN00002", "Status": "Inactive"}
    ]


def test_unidentifiable_key_is_reported_not_touched(
    replay, frozen, run_policy, caplog, filter_calls_are_declared
):
    (ivy,) = run_policy(disable_policy(disable=True), replay).resources

    assert [(k["slot"], k["reasons"], k["last_rotated"]) for k in ivy["c7n:unused-keys"]] == [
        (1, ["unused"], None)
    ]
    assert ivy["c7n:matched-keys"] == []
    # The filter does not list (nothing to join on); remove-keys lists, then acts on nothing.
    ((_, filter_calls),) = filter_calls_are_declared
    assert [operation for _, operation, _ in filter_calls] == ["GetCredentialReport"]
    assert replay.operations() == ["ListUsers", "GetUser", "GetCredentialReport", "ListAccessKeys"]
    assert "user ivy: stale key slot 1 cannot be identified" in caplog.text


def test_resolve_key_ids(replay, frozen, run_policy):
    policy = dict(
        USER_POLICY,
        filters=[{"type": "access-key-unused", "resolve-key-ids": True}],
    )
    resources = run_policy(policy, replay).resources

    assert replay.operations() == REPORT_CALLS + ["ListAccessKeys"] * 3
    assert {
        r["UserName"]: [k["access_key_id"] for k in r["c7n:unused-keys"]] for r in resources
    } == {
        "bob-stale": ["AKIAEXAMPLEBOB000001"],
        "dave-abandoned": ["AKIAEXAMPLEDAVE00001"],
        "erin-two-keys": ["AKIAEXAMPLEERIN00002"],
    }


def test_notify_sqs_lists_flagged_keys(replay, frozen, run_policy):
    policy = dict(
        USER_POLICY,
        actions=[
            {
                "type": "notify",
                "to": ["security@example.com"],
                "transport": {
                    "type": "sqs",
                    "queue": "https://sqs.us-east-1.amazonaws.com/123456789012/mailer",
                },
            }
        ],
    )
    run_policy(policy, replay)

    assert replay.operations() == REPORT_CALLS + ["ListAccountAliases", "SendMessage"]
    (send,) = replay.params("SendMessage")
    message = json.loads(zlib.decompress(base64.b64decode(send["MessageBody"])))
    sent = {r["UserName"]: r["c7n:unused-keys"] for r in message["resources"]}
    assert list(sent) == ["bob-stale", "dave-abandoned", "erin-two-keys"]
    assert [(k["slot"], k["reasons"], k["last_used_date"]) for k in sent["erin-two-keys"]] == [
        (2, ["unused"], "2026-06-04T12:00:00+00:00")
    ]
    assert sent["dave-abandoned"][0]["reasons"] == ["never-used"]


def test_root_keys_on_account(replay, frozen, run_policy):
    policy = {
        "name": "root-keys",
        "resource": "account",
        "filters": [{"type": "access-key-unused", "days": 90}],
    }
    (account,) = run_policy(policy, replay).resources

    assert replay.operations() == ["ListAccountAliases", "GetCredentialReport"]
    assert account["account_id"] == "123456789012"
    assert [(k["slot"], k["reasons"], k["days_since_use"]) for k in account["c7n:unused-keys"]] == [
        (1, ["unused"], 200)
    ]


def test_root_keys_on_account_fresh(replay_from, frozen, run_policy):
    replay = replay_from("test_root_keys_on_account")
    policy = {
        "name": "root-keys",
        "resource": "account",
        "filters": [{"type": "access-key-unused", "days": 200}],
    }
    assert run_policy(policy, replay).resources == []


@pytest.mark.parametrize(
    "action", [{"type": "remove-keys", "disable": True}, "remove-keys"], ids=["dict", "bare-name"]
)
def test_remove_keys_without_matched_is_refused(replay_from, frozen, run_policy, action):
    replay = replay_from("test_remove_keys_disables_only_flagged")
    policy = dict(USER_POLICY, actions=[action])
    with pytest.raises(PolicyValidationError, match="matched: true"):
        run_policy(policy, replay, validate=False)
    with pytest.raises(PolicyValidationError, match="matched: true"):
        run_policy(policy, replay)
    assert replay.calls == []


def test_report_fetched_once_for_several_policies(replay_from, frozen, run_policy, memory_cache):
    replay = replay_from("test_report_only_flags_stale_keys")
    first = run_policy(USER_POLICY, replay, cache=memory_cache)
    second = run_policy(
        dict(USER_POLICY, name="cis-45", filters=[{"type": "access-key-unused", "days": 45}]),
        replay,
        cache=memory_cache,
    )
    assert names(first.resources) == ["bob-stale", "dave-abandoned", "erin-two-keys"]
    assert names(second.resources) == [
        "bob-stale",
        "dave-abandoned",
        "erin-two-keys",
        "gina-exactly-90",
    ]
    # The second policy reuses the cached report (and c7n caches the users).
    assert replay.operations().count("GetCredentialReport") == 1
