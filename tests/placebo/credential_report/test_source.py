"""``source: credential-report``: users from the report, one IAM call per account.

Placebo replays of whole policies; the exact calls are asserted. The standard account
(``tests/support/placebo_fixtures.py``): bob, dave and erin have stale keys; hank was created after
the report was generated, so the report, hence this source, does not name him.
"""

from __future__ import annotations

import json
import logging
from datetime import datetime

import pytest
from c7n.exceptions import PolicyValidationError
from c7n.utils import reset_session_cache
from dateutil.tz import tzutc

from c7n_keyage.credential_report.parse import UserRow
from c7n_keyage.credential_report.source import path
from tests.support.placebo_fixtures import ACCOUNT_ID, FLAGGED_USERS, IN_REPORT, days_ago, ok

SOURCE = {
    "name": "stale-keys-large",
    "resource": "iam-user",
    "source": "credential-report",
    "filters": [{"type": "access-key-unused"}],
}
EXEMPTION = dict(SOURCE, filters=[*SOURCE["filters"], {"tag:keyage-exempt": "absent"}])
DISABLE = dict(SOURCE, actions=[{"type": "remove-keys", "matched": True, "disable": True}])


def names(resources: list[dict]) -> list[str]:
    return [r["UserName"] for r in resources]


def test_source_report_only(replay, frozen, run_policy):
    policy = run_policy(SOURCE, replay)

    # The report is the listing: no ListUsers, no GetUser, nothing per user.
    assert replay.operations() == ["GetCredentialReport"]
    assert names(policy.resources) == FLAGGED_USERS
    bob = policy.resources[0]
    assert bob == {
        "UserName": "bob-stale",
        "Arn": f"arn:aws:iam::{ACCOUNT_ID}:user/bob-stale",
        "Path": "/",
        "CreateDate": days_ago(1000),
        "c7n:unused-keys": bob["c7n:unused-keys"],
        "c7n:matched-keys": bob["c7n:matched-keys"],
    }
    # Typed as c7n's describe source types it: what botocore returns.
    assert isinstance(bob["CreateDate"], datetime) and bob["CreateDate"].tzinfo == tzutc()
    assert [k["reasons"] for k in bob["c7n:unused-keys"]] == [["unused"]]


def test_source_lists_every_user_row_but_root(replay_from, frozen, run_policy):
    replay = replay_from("test_source_report_only")
    policy = dict(SOURCE, filters=[{"type": "access-key-unused", "days": 1}])
    resources = run_policy(policy, replay).resources
    # days: 1 flags every user with a key older than a day; carol's is 10 days old.
    assert sorted(names(resources)) == sorted(set(IN_REPORT) - {"frank-rotated", "alice-fresh"})
    assert "<root_account>" not in names(resources)
    # c7n keeps one session per thread: drop it, or the second run would reuse the first's.
    reset_session_cache()
    manager = run_policy(SOURCE, replay_from("test_source_report_only")).resource_manager
    assert names(manager.source.resources()) == IN_REPORT


def test_source_tag_exemption(replay, frozen, run_policy):
    """A later filter needs tags: GetUser for the flagged users only."""
    policy = run_policy(EXEMPTION, replay)

    assert replay.operations() == ["GetCredentialReport"] + ["GetUser"] * 3
    assert [p["UserName"] for p in replay.params("GetUser")] == FLAGGED_USERS
    # bob is tagged as a break-glass user: exempt.
    assert names(policy.resources) == ["dave-abandoned", "erin-two-keys"]
    assert policy.resources[0]["UserId"].startswith("AIDA")
    assert policy.resources[0]["Tags"] == []


def test_source_remove_keys(replay, frozen, run_policy, caplog):
    """Acting: live reads, then GetUser, for the flagged users only; a user deleted since
    the report is skipped with a warning and gets no further call."""
    caplog.set_level(logging.WARNING, logger="custodian.keyage")
    policy = run_policy(DISABLE, replay)

    assert replay.operations() == (
        ["GetCredentialReport"]
        + ["ListAccessKeys"]  # bob: gone
        + ["ListAccessKeys", "GetAccessKeyLastUsed"]  # dave
        + ["ListAccessKeys", "GetAccessKeyLastUsed", "GetAccessKeyLastUsed"]  # erin
        + ["GetUser"] * 2
        + ["UpdateAccessKey"] * 2
    )
    assert names(policy.resources) == ["dave-abandoned", "erin-two-keys"]
    assert [p["AccessKeyId"] for p in replay.params("UpdateAccessKey")] == [
        "AKIAEXAMPLEDAVE00001",
        "AKIAEXAMPLEERIN00002",
    ]
    assert "policy:stale-keys-large user bob-stale no longer exists; skipped" in caplog.messages


def test_source_user_deleted_since_the_report(replay, frozen, run_policy, caplog):
    policy = run_policy(EXEMPTION, replay)
    assert names(policy.resources) == ["dave-abandoned", "erin-two-keys"]
    assert replay.operations() == ["GetCredentialReport"] + ["GetUser"] * 3
    assert any("user bob-stale no longer exists" in m for m in caplog.messages)


def test_source_dryrun_makes_no_change(replay_from, frozen, run_policy):
    replay = replay_from("test_source_remove_keys")
    policy = run_policy(DISABLE, replay, dryrun=True)
    assert names(policy.resources) == ["dave-abandoned", "erin-two-keys"]
    assert "UpdateAccessKey" not in replay.operations()


FIRST = "needs access-key-unused or retired-keys as the policy's first filter"


@pytest.mark.parametrize("schema", [True, False], ids=["validated", "schema-skipped"])
@pytest.mark.parametrize(
    "policy, message",
    [
        (
            dict(SOURCE, resource="iam-role", filters=[{"RoleName": "x"}]),
            "^policy:stale-keys-large source credential-report serves the iam-user resource "
            "only, not iam-role$",
        ),
        (
            dict(SOURCE, filters=[{"tag:keyage-exempt": "absent"}, *SOURCE["filters"]]),
            "^policy:stale-keys-large source credential-report needs access-key-unused or "
            "retired-keys as the policy's first filter: the users it yields carry no tags or "
            "other per-user detail until that filter adds them to the users it flags, so an "
            "earlier filter would see users without them$",
        ),
        (
            dict(SOURCE, filters=[{"or": SOURCE["filters"]}]),
            FIRST,
        ),
        (
            dict(SOURCE, filters=[]),
            FIRST,
        ),
    ],
    ids=["other-resource", "filter-before", "nested", "no-filter"],
)
def test_source_refuses_what_it_cannot_serve(replay_from, run_policy, policy, message, schema):
    replay = replay_from("test_source_report_only")
    with pytest.raises(PolicyValidationError, match=message):
        run_policy(policy, replay, validate=schema)
    assert replay.calls == []


def test_filter_on_the_config_source(tmp_path, replay_from, frozen, run_policy):
    """AWS Config's recorded users, then the report: no per-user IAM call either."""
    from tests.support.placebo_fixtures import STANDARD_REPORT, FixtureDir, credential_report
    from tests.support.placebo_replay import Replay

    items = [
        json.dumps(
            {
                "resourceId": f"AIDA{name.upper()[:8]}",
                "resourceType": "AWS::IAM::User",
                "configuration": {
                    "userName": name,
                    "userId": f"AIDA{name.upper()[:8]}",
                    "arn": f"arn:aws:iam::{ACCOUNT_ID}:user/{name}",
                    "path": "/",
                    "createDate": "2024-02-05T12:00:00.000Z",
                },
                "supplementaryConfiguration": {},
                "tags": {"team": "payments"} if name == "erin-two-keys" else {},
            }
        )
        for name in IN_REPORT
    ]
    fixtures = (
        FixtureDir("config_source", root=tmp_path)
        .add("config", "SelectResourceConfig", ok({"Results": items}))
        .add("iam", "GetCredentialReport", credential_report(STANDARD_REPORT))
    )
    fixtures.write()
    replay = Replay(fixtures.path)
    policy = dict(SOURCE, source="config")
    resources = run_policy(policy, replay).resources

    assert replay.operations() == ["SelectResourceConfig", "GetCredentialReport"]
    assert "AWS::IAM::User" in replay.params("SelectResourceConfig")[0]["Expression"]
    assert names(resources) == FLAGGED_USERS
    erin = resources[-1]
    assert erin["Tags"] == [{"Key": "team", "Value": "payments"}]
    assert [(k["slot"], k["reasons"]) for k in erin["c7n:unused-keys"]] == [(2, ["unused"])]


@pytest.mark.parametrize(
    "arn, expected",
    [
        ("arn:aws:iam::123456789012:user/ops", "/"),
        ("arn:aws:iam::123456789012:user/division/team/ops", "/division/team/"),
        ("arn:aws-cn:iam::123456789012:user/ops", "/"),
        ("arn:aws:iam::123456789012:user/someone-else", None),
        (None, None),
    ],
)
def test_path_from_the_arn(arn, expected):
    assert path(UserRow("ops", (), arn=arn)) == expected


def test_event_modes_judge_only_the_users_they_name(replay_from, frozen, run_policy):
    """c7n's event modes (CloudTrail, config rules) resolve the event's ids through the
    source: only those users are read from the report, then filtered."""
    policy = run_policy(SOURCE, replay_from("test_source_report_only"))
    manager = policy.resource_manager
    users = manager.get_resources(["dave-abandoned", "alice-fresh", "nobody"], cache=False)

    assert names(users) == ["alice-fresh", "dave-abandoned"]
    assert names(manager.filter_resources(users)) == ["dave-abandoned"]
