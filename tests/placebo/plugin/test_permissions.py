"""``get_permissions()`` is exactly what the filter can call.

conftest's ``filter_calls_are_declared`` checks, in every test of the suite, that each
IAM call a filter made is declared; this module checks the other way: every declared
permission is called in some configuration, and nothing is declared that is not.
"""

from __future__ import annotations

import pytest

from tests.support import policies
from tests.support.placebo_fixtures import USERS
from tests.support.policies import DELETE, LIVE_CALLS, USER_POLICY, disable_policy


def declared(run_policy, replay, policy) -> set[str]:
    loaded = run_policy(policy, replay)
    (flt,) = loaded.resource_manager.filters
    return set(flt.get_permissions())


REPORT = {"iam:GenerateCredentialReport", "iam:GetCredentialReport"}
# Only where keys are confirmed live: to act on them or to name them.
LIVE = {"iam:ListAccessKeys", "iam:GetAccessKeyLastUsed"}
REPORT_CALLS = ["ListUsers"] + ["GetUser"] * len(USERS) + ["GetCredentialReport"]


@pytest.mark.parametrize(
    "policy, expected",
    [
        (USER_POLICY, REPORT),
        (
            dict(USER_POLICY, filters=[{"type": "access-key-unused", "resolve-key-ids": True}]),
            REPORT | LIVE,
        ),
        (
            {
                "name": "root",
                "resource": "account",
                "filters": [{"type": "access-key-unused"}],
            },
            REPORT,
        ),
    ],
    ids=["report-only", "resolve-key-ids", "account"],
)
def test_declared_permissions_by_configuration(replay_from, frozen, run_policy, policy, expected):
    if policy["resource"] == "account":
        replay = replay_from("test_root_keys_on_account")
        calls = ["ListAccountAliases", "GetCredentialReport"]
    else:
        replay = replay_from("test_resolve_key_ids")
        listed = "iam:ListAccessKeys" in expected
        calls = REPORT_CALLS + (LIVE_CALLS if listed else [])
    assert declared(run_policy, replay, policy) == expected
    assert replay.operations() == calls


def test_remove_keys_declares_listing(replay_from, frozen, run_policy):
    replay = replay_from("test_remove_keys_disables_only_flagged")
    loaded = run_policy(disable_policy(disable=True), replay)
    (flt,) = loaded.resource_manager.filters
    assert set(flt.get_permissions()) == REPORT | LIVE


def test_declared_permissions_are_all_used(replay, frozen, run_policy, filter_calls_are_declared):
    policy = dict(USER_POLICY, filters=[{"type": "access-key-unused", "resolve-key-ids": True}])
    run_policy(policy, replay)
    ((declared_perms, calls),) = filter_calls_are_declared
    made = {f"{service}:{operation}" for service, operation, _ in calls}
    assert made == declared_perms == REPORT | LIVE


def test_the_report_source_declares_the_reports_calls(replay_from, frozen, run_policy):
    policy = {
        "name": "from-report",
        "resource": "iam-user",
        "source": "credential-report",
        "filters": [{"type": "access-key-unused"}],
    }
    manager = run_policy(policy, replay_from("test_source_report_only")).resource_manager
    assert set(manager.source.get_permissions()) == REPORT
    assert set(manager.get_permissions()) >= REPORT


LIFECYCLE_READS = {"iam:ListUserTags", "iam:ListAccessKeys", "iam:GetAccessKeyLastUsed"}
# retire-keys: record, disable, take a record back; ListUserTags for records of keys gone;
# ListAccessKeys to look at a key whose disabling gave no answer.
RETIRING = {
    "iam:TagUser",
    "iam:UpdateAccessKey",
    "iam:UntagUser",
    "iam:ListUserTags",
    "iam:ListAccessKeys",
}


@pytest.mark.parametrize(
    "fixture, policy, actions",
    [
        (
            "test_retire_keys_looks_before_taking_a_record_back",
            "RETIRE",
            RETIRING,
        ),
        (
            "test_retire_keys_records_then_disables",
            "RETIRE",
            RETIRING,
        ),
        ("test_restore_keys", "RESTORE", {"iam:UpdateAccessKey", "iam:UntagUser"}),
        (
            "test_delete_retired_keys_after_grace",
            "DELETE",
            {"iam:DeleteAccessKey", "iam:UntagUser"},
        ),
    ],
    ids=["retire-looking", "retire", "restore", "delete"],
)
def test_lifecycle_declares_every_call_it_makes(
    replay_from, frozen, run_policy, fixture, policy, actions
):
    replay = replay_from(fixture)
    loaded = run_policy(getattr(policies, policy), replay)
    (action,) = loaded.resource_manager.actions
    assert set(action.get_permissions()) == actions
    made = {f"{service}:{operation}" for service, operation, _ in replay.calls}
    assert made <= set(loaded.get_permissions())
    if policy != "RETIRE":
        (flt,) = loaded.resource_manager.filters
        assert set(flt.get_permissions()) == LIFECYCLE_READS


def test_retired_keys_on_the_report_source_declares_the_reports_calls(
    replay_from, frozen, run_policy
):
    policy = dict(DELETE, source="credential-report")
    loaded = run_policy(policy, replay_from("test_delete_on_the_report_source"))
    (flt,) = loaded.resource_manager.filters
    assert set(flt.get_permissions()) == LIFECYCLE_READS | REPORT
