"""The live API failing while flagged users' keys are read: never an action on a key whose
state is unknown, and a missing permission stops the policy with a message that names it."""

from __future__ import annotations

import logging

import pytest
from c7n.exceptions import PolicyExecutionError

from tests.support.placebo_fixtures import FLAGGED_USERS
from tests.support.policies import REPORT_CALLS, disable_policy, names


def test_live_errors_leave_keys_alone(replay, frozen, run_policy, caplog):
    caplog.set_level(logging.WARNING, logger="custodian.keyage")
    policy = run_policy(disable_policy(disable=True), replay)

    assert replay.operations() == REPORT_CALLS + [
        "ListAccessKeys",  # bob: ServiceFailure
        "ListAccessKeys",  # dave
        "GetAccessKeyLastUsed",  # dave's key: gone between list and read
        "ListAccessKeys",  # erin
        "GetAccessKeyLastUsed",
        "GetAccessKeyLastUsed",
        "UpdateAccessKey",
    ]
    assert names(policy.resources) == ["erin-two-keys"]
    assert replay.params("UpdateAccessKey") == [
        {"UserName": "erin-two-keys", "AccessKeyId": "AKIAEXAMPLEERIN00002", "Status": "Inactive"}
    ]
    warnings = [m for m in caplog.messages if m.startswith("policy:stale-keys user ")]
    assert len(warnings) == 2
    assert warnings[0].startswith("policy:stale-keys user bob-stale: keys could not be read (")
    assert "ServiceFailure" in warnings[0]
    assert warnings[0].endswith("their state is unknown, so nothing will act on them")
    assert warnings[1].startswith(
        "policy:stale-keys user dave-abandoned: last use of key AKIAEXAMPLEDAVE00001 could not "
        "be read ("
    )
    assert warnings[1].endswith("its state is unknown, so nothing will act on it")


@pytest.mark.parametrize(
    "fixture, calls",
    [
        ("test_live_list_denied", ["ListAccessKeys"]),
        ("test_live_last_used_denied", ["ListAccessKeys", "GetAccessKeyLastUsed"]),
    ],
    ids=["ListAccessKeys", "GetAccessKeyLastUsed"],
)
def test_access_denied_for_every_user_stops_the_policy(
    replay_from, frozen, run_policy, fixture, calls
):
    replay = replay_from(fixture)
    with pytest.raises(PolicyExecutionError) as raised:
        run_policy(disable_policy(disable=True), replay)
    assert str(raised.value).startswith(
        "policy:stale-keys access denied reading user bob-stale's keys: the role running this "
        "policy needs iam:ListAccessKeys and iam:GetAccessKeyLastUsed ("
    )
    # The message ends with the last error AWS gave, for the record.
    assert "(An error occurred (AccessDenied) when calling the " in str(raised.value)
    # Every flagged user was tried (an SCP may deny one user only), and no key was touched.
    assert replay.operations() == REPORT_CALLS + calls * 3


def test_denied_users_leave_the_others_judged(replay, frozen, run_policy, caplog):
    caplog.set_level(logging.INFO, logger="custodian.keyage")
    policy = run_policy(disable_policy(disable=True), replay)

    assert names(policy.resources) == ["erin-two-keys"]
    assert replay.params("UpdateAccessKey") == [
        {"UserName": "erin-two-keys", "AccessKeyId": "AKIAEXAMPLEERIN00002", "Status": "Inactive"}
    ]
    assert [p["UserName"] for p in replay.params("ListAccessKeys")] == FLAGGED_USERS
    (error,) = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert error.getMessage() == (
        "policy:stale-keys access denied reading the keys of 2 user(s): bob-stale, "
        "dave-abandoned; the role running this policy needs iam:ListAccessKeys and "
        "iam:GetAccessKeyLastUsed on them (an SCP or a permissions boundary may deny it): "
        "their keys are unknown and left alone; the other users' were judged"
    )


def test_a_key_whose_last_use_fails_leaves_the_other_judged(replay, frozen, run_policy, caplog):
    caplog.set_level(logging.WARNING, logger="custodian.keyage")
    policy = run_policy(disable_policy(disable=True), replay)

    assert [p["AccessKeyId"] for p in replay.params("UpdateAccessKey")] == [
        "AKIAEXAMPLEBOB000001",
        "AKIAEXAMPLEDAVE00001",
        "AKIAEXAMPLEERIN00002",
    ]
    (erin,) = [r for r in policy.resources if r["UserName"] == "erin-two-keys"]
    assert [k["access_key_id"] for k in erin["c7n:unused-keys"]] == ["AKIAEXAMPLEERIN00002"]
    assert [m for m in caplog.messages if "could not be read" in m] == [
        "policy:stale-keys user erin-two-keys: last use of key AKIAEXAMPLEERIN00001 could not "
        "be read (An error occurred (NoSuchEntity) when calling the GetAccessKeyLastUsed "
        "operation: no such key); its state is unknown, so nothing will act on it"
    ]
