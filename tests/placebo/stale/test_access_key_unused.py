"""Policy-level tests of ``access-key-unused`` on replayed API responses.

The standard account (``tests/support/placebo_fixtures.py``) at NOW = 2026-11-01T12:00Z:
alice used yesterday; bob used 200 days ago; carol never used, created 10 days ago; dave
never used, created 200 days ago; erin has two active keys, slot 1 NEWER and fresh, slot 2
used 150 days ago; frank has a stale inactive key beside a fresh active one; gina was used
exactly 90 days ago; hank is not in the report; root used 200 days ago.
"""

from __future__ import annotations

import base64
import json
import logging
import zlib

import pytest
from c7n.exceptions import PolicyValidationError

from tests.support.placebo_fixtures import DRIFT, DRIFT_STALE
from tests.support.policies import LIVE_CALLS, REPORT_CALLS, USER_POLICY, disable_policy, names


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
            # From the report alone: a report-only policy reads nothing live.
            "verified": False,
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
    # Per flagged user one ListAccessKeys and one GetAccessKeyLastUsed per active key
    # (erin has two), none by remove-keys, then one update per stale key.
    assert replay.operations() == REPORT_CALLS + LIVE_CALLS + ["UpdateAccessKey"] * 3
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


def test_report_disagrees_with_live_data(replay, frozen, run_policy, caplog):
    """The report screens, the live API confirms: exactly the keys stale by live data.

    Per user, what changed between the report and the run: nothing (still stale), used
    since, first used since, disabled since, deleted since, rotated since, the user
    deleted since; and twin keys made in the same second, one used yesterday and one never
    used, of which the never-used one was deleted, deactivated, or left as it was.
    """
    caplog.set_level(logging.INFO, logger="custodian.keyage")
    policy = run_policy(disable_policy(disable=True), replay)

    assert [(p["UserName"], p["AccessKeyId"]) for p in replay.params("UpdateAccessKey")] == (
        DRIFT_STALE
    )
    assert names(policy.resources) == [user for user, _ in DRIFT_STALE]
    # The report flags every user, so each is read live: one listing per user, one
    # last-use read per active listed key, and nothing else.
    listed = [p["UserName"] for p in replay.params("ListAccessKeys")]
    assert listed == list(DRIFT)
    read = [p["AccessKeyId"] for p in replay.params("GetAccessKeyLastUsed")]
    assert read == [
        key["id"] for _, live in DRIFT.values() for key in live or [] if key.get("active", True)
    ]
    assert replay.operations() == (
        ["ListUsers"]
        + ["GetUser"] * len(DRIFT)
        + ["GetCredentialReport"]
        + [op for user in DRIFT for op in live_calls(user)]
        + ["UpdateAccessKey"] * len(DRIFT_STALE)
    )
    by_name = {r["UserName"]: r for r in policy.resources}
    (twin,) = by_name["twins-unchanged"]["c7n:unused-keys"]
    # Same second as its twin: the report cannot say which slot it is, the ID can.
    assert (twin["slot"], twin["access_key_id"], twin["reasons"], twin["verified"]) == (
        None,
        "AKIADRIFTTWINSNEVR01",
        ["never-used"],
        True,
    )
    (still,) = by_name["still-stale"]["c7n:unused-keys"]
    assert (still["slot"], still["access_key_id"], still["days_since_use"]) == (
        1,
        "AKIADRIFTSTILL000001",
        200,
    )
    check_why_each_key_was_left(caplog.records)


def check_why_each_key_was_left(records: list[logging.LogRecord]) -> None:
    """Each key the live API cleared is named with the reason, at INFO; a user deleted
    since the report at WARNING."""
    why = {
        record.getMessage().split(": ")[0].removeprefix("policy:stale-keys user "): record
        for record in records
        if record.name == "custodian.keyage"
    }
    expected = {
        "used-since": (logging.INFO, "used since the report (last used 2026-11-01T11:31:12"),
        "first-used-since": (logging.INFO, "first used since the report"),
        "disabled-since": (logging.INFO, "disabled since the report"),
        "deleted-since": (logging.INFO, "deleted or replaced since the report"),
        "rotated-since": (logging.INFO, "deleted or replaced since the report"),
        "twin-deleted": (logging.INFO, "it has a twin created in the same second"),
        "twin-deactivated": (logging.INFO, "it has a twin created in the same second"),
        "user-deleted-since no longer exists; skipped": (
            logging.WARNING,
            "",
        ),
    }
    for user, (level, text) in expected.items():
        assert why[user].levelno == level, user
        assert text in why[user].getMessage(), why[user].getMessage()


def live_calls(user: str) -> list[str]:
    _, live = DRIFT[user]
    if live is None:
        return ["ListAccessKeys"]
    return ["ListAccessKeys"] + ["GetAccessKeyLastUsed"] * sum(
        1 for key in live if key.get("active", True)
    )


def test_undated_report_key_is_confirmed_live(replay, frozen, run_policy):
    (ivy,) = run_policy(disable_policy(disable=True), replay).resources

    # The report gives no creation date; the live API names the key and its dates.
    assert [(k["slot"], k["reasons"], k["access_key_id"]) for k in ivy["c7n:unused-keys"]] == [
        (None, ["unused"], "AKIAEXAMPLEIVY000001")
    ]
    assert replay.operations() == [
        "ListUsers",
        "GetUser",
        "GetCredentialReport",
        "ListAccessKeys",
        "GetAccessKeyLastUsed",
        "UpdateAccessKey",
    ]
    assert replay.params("UpdateAccessKey") == [
        {"UserName": "ivy", "AccessKeyId": "AKIAEXAMPLEIVY000001", "Status": "Inactive"}
    ]


def test_resolve_key_ids(replay, frozen, run_policy):
    policy = dict(
        USER_POLICY,
        filters=[{"type": "access-key-unused", "resolve-key-ids": True}],
    )
    resources = run_policy(policy, replay).resources

    assert replay.operations() == REPORT_CALLS + LIVE_CALLS
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


NEGATED = [
    [{"not": [{"type": "access-key-unused"}]}],
    [
        {"type": "credential", "key": "access_keys.active", "value": True},
        {"not": [{"type": "access-key-unused"}]},
    ],
    [
        {"or": [{"type": "value", "key": "Path", "value": "/"}, {"not": [unused]}]}
        for unused in [{"type": "access-key-unused", "days": 45}]
    ],
]


@pytest.mark.parametrize("filters", NEGATED, ids=["alone", "beside-credential", "nested"])
@pytest.mark.parametrize("schema", [True, False], ids=["validated", "schema-skipped"])
def test_negated_filter_is_refused_when_removing_keys(replay_from, run_policy, filters, schema):
    replay = replay_from("test_report_only_flags_stale_keys")
    policy = dict(disable_policy(disable=True), filters=filters)
    with pytest.raises(PolicyValidationError, match="matched keys have no meaning under negation"):
        run_policy(policy, replay, validate=schema)
    assert replay.calls == []


def test_negated_filter_reports_the_other_users(replay_from, frozen, run_policy):
    # Report only: "users with no stale key" is a fair question.
    replay = replay_from("test_report_only_flags_stale_keys")
    policy = dict(USER_POLICY, filters=[{"not": [{"type": "access-key-unused"}]}])
    assert sorted(names(run_policy(policy, replay).resources)) == [
        "alice-fresh",
        "carol-new",
        "frank-rotated",
        "gina-exactly-90",
        "hank-after-report",
    ]


def test_matched_keys_of_an_earlier_filter_are_kept(replay, frozen, run_policy, memory_cache):
    """A c7n filter of this policy that runs first writes matched keys: they are this
    policy's own, and stay (here united under or:), while another policy's would go."""
    used_lately = {
        "type": "credential",
        "key": "access_keys.last_used_date",
        "value_type": "age",
        "op": "lt",
        "value": 10,
    }
    policy = dict(USER_POLICY, filters=[{"or": [used_lately, {"type": "access-key-unused"}]}])
    resources = run_policy(policy, replay, cache=memory_cache).resources
    erin = {r["UserName"]: r for r in resources}["erin-two-keys"]
    # Slot 1 used two days ago (c7n's entry), slot 2 unused for 150 (this filter's).
    assert sorted(k["last_used_date"] for k in erin["c7n:matched-keys"]) == [
        "2026-06-04T12:00:00+00:00",
        "2026-10-30T12:00:00+00:00",
    ]
    assert replay.operations().count("GetCredentialReport") == 2


def test_future_dates_in_rows_warn(replay, frozen, run_policy, caplog):
    caplog.set_level(logging.WARNING, logger="custodian.keyage")
    # Counted as recent: neither key is stale (slot 1 is 400 days old, its use "ahead").
    assert run_policy(USER_POLICY, replay).resources == []
    assert [m for m in caplog.messages if "in the future" in m] == [
        "policy:stale-keys access-key-unused: user ahead: key slot 1: access_key_1_last_used_date "
        "is 2026-11-04T12:00:00+00:00, more than a day in the future; counted as recent",
        "policy:stale-keys access-key-unused: user ahead: key slot 2: access_key_2_last_rotated is "
        "3000-01-01T00:00:00+00:00, more than a day in the future; counted as recent",
    ]


def test_several_refusals_are_given_together(replay_from, run_policy):
    policy = dict(
        USER_POLICY,
        filters=[{"not": [{"type": "access-key-unused"}]}],
        actions=[{"type": "remove-keys", "matched": True}, {"type": "delete"}],
    )
    with pytest.raises(PolicyValidationError) as refused:
        run_policy(policy, replay_from("test_report_only_flags_stale_keys"), validate=False)
    message = str(refused.value)
    assert message.startswith("policy:stale-keys filter access-key-unused: c7n's delete action ")
    assert (
        "(and leave access-keys out of delete's options); access-key-unused cannot be " in message
    )


def test_a_filter_without_a_manager_is_report_only():
    """c7n's schema tools build filters without a resource manager."""
    from c7n_keyage.stale.access_key_unused import UserAccessKeyUnused

    flt = UserAccessKeyUnused({"type": "access-key-unused"})
    assert flt.validate() is flt
    assert not flt.acts_on_keys() and not flt.verifies() and not flt.details_users()
    assert flt.get_permissions() == ["iam:GenerateCredentialReport", "iam:GetCredentialReport"]
    assert flt.policy_name() == "?"


def test_root_keys_under_an_or_of_filters(replay_from, frozen, run_policy):
    policy = {
        "name": "root-keys",
        "resource": "account",
        "filters": [
            {
                "or": [
                    {"type": "access-key-unused", "days": 90},
                    {"type": "access-key-unused", "days": 36500, "rotation-days": 365},
                ]
            }
        ],
    }
    (account,) = run_policy(policy, replay_from("test_root_keys_on_account")).resources
    assert [(k["slot"], k["reasons"]) for k in account["c7n:unused-keys"]] == [
        (1, ["unused", "unrotated"])
    ]


ROTATION_100 = {"type": "access-key-unused", "days": 36500, "rotation-days": 100}


@pytest.mark.parametrize(
    "filters",
    [
        [{"type": "access-key-unused", "days": 90}, ROTATION_100],
        [{"or": [{"type": "access-key-unused", "days": 90}, ROTATION_100, {"tag:team": "red"}]}],
    ],
    ids=["and", "or-beside-a-tag"],
)
def test_two_filters_list_each_key_once_with_both_reasons(replay_from, frozen, run_policy, filters):
    """Report only: bob's key is unused and unrotated; each filter found one reason."""
    replay = replay_from("test_report_only_flags_stale_keys")
    resources = run_policy(dict(USER_POLICY, filters=filters), replay).resources
    bob = {r["UserName"]: r for r in resources}["bob-stale"]
    assert [(k["slot"], k["reasons"]) for k in bob["c7n:unused-keys"]] == [
        (1, ["unused", "unrotated"])
    ]


def test_several_bad_options_are_named_together(replay_from, run_policy):
    policy = dict(
        USER_POLICY, filters=[{"type": "access-key-unused", "days": 0, "report_delay": -1}]
    )
    with pytest.raises(PolicyValidationError) as refused:
        run_policy(policy, replay_from("test_report_only_flags_stale_keys"), validate=False)
    assert str(refused.value) == (
        "policy:stale-keys filter access-key-unused: days: 0 is less than the minimum of 1; "
        "report_delay: -1 is less than the minimum of 0"
    )
