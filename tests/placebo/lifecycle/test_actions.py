"""The key lifecycle on replayed API responses: the calls made, in order, and not made.

Scenarios in ``tests/support/placebo_lifecycle.py``: the standard account's stale keys retired,
failures between retire-keys' two calls (refused, or taking effect with the answer lost),
and an account with records in every state (due, within the grace, re-enabled by hand,
deleted by hand, used while retired, not trusted, none, made today by two policies),
restored, deleted, chosen record by record, or previewed by a dry run.
"""

from __future__ import annotations

import json
import logging

import boto3
import pytest
from botocore.exceptions import ClientError
from botocore.stub import Stubber
from c7n.exceptions import PolicyExecutionError, PolicyValidationError

from c7n_keyage import aws, policy_run
from c7n_keyage.testing import load_policy
from tests.support.placebo_fixtures import FLAGGED_USERS
from tests.support.placebo_lifecycle import GONE_KEY, LIFECYCLE, POLICY
from tests.support.policies import DELETE, LIVE_CALLS, REPORT_CALLS, RESTORE, RETIRE

STAMP = "2026-11-01T12:00:00Z " + POLICY
STALE = {
    "bob-stale": "AKIAEXAMPLEBOB000001",
    "dave-abandoned": "AKIAEXAMPLEDAVE00001",
    "erin-two-keys": "AKIAEXAMPLEERIN00002",
}
# What the live read saw of each stale key's last use: 200 days ago, never, 150 days ago.
SAW = {
    "bob-stale": "last-used=2026-04-15T12:00:00Z",
    "dave-abandoned": "last-used=never",
    "erin-two-keys": "last-used=2026-06-04T12:00:00Z",
}
USERS = list(LIFECYCLE)
# The retired-keys filter's reads: ListUsers and GetUser (describe), then per user its
# tags, and for users with well-formed records their keys and each recorded key's last use.
READS = (
    ["ListUsers"]
    + ["GetUser"] * len(USERS)
    + ["ListUserTags", "ListAccessKeys", "GetAccessKeyLastUsed"] * 2  # ret-due, ret-recent
    + ["ListUserTags", "ListAccessKeys", "GetAccessKeyLastUsed"]  # ret-reenabled
    + ["ListUserTags", "ListAccessKeys"]  # ret-gone: its recorded key is not listed
    + ["ListUserTags", "ListAccessKeys", "GetAccessKeyLastUsed"]  # ret-used
    + ["ListUserTags"] * 2  # ret-untrusted, ret-none: no record to check
    + ["ListUserTags", "ListAccessKeys"]
    + ["GetAccessKeyLastUsed"] * 2  # ret-today
)


def outcomes(results):
    return [(r["UserName"], r["AccessKeyId"], r["outcome"]) for r in results]


def results_of(tmp_path, data: dict) -> list[dict]:
    """The per-key results c7n wrote for the policy's one action (``action-<name>``)."""
    (action,) = data["actions"]
    name = action["type"].replace("-", "")
    return json.loads((tmp_path / "out" / data["name"] / f"action-{name}").read_text())


def test_retire_keys_records_then_disables(replay, frozen, run_policy, tmp_path):
    policy = run_policy(RETIRE, replay)

    each = ["TagUser", "UpdateAccessKey", "ListUserTags"]
    assert replay.operations() == REPORT_CALLS + LIVE_CALLS + each * 3
    assert replay.params("TagUser") == [
        {"UserName": u, "Tags": [{"Key": f"c7n-keyage:retired:{k}", "Value": f"{STAMP} {SAW[u]}"}]}
        for u, k in STALE.items()
    ]
    assert replay.params("UpdateAccessKey") == [
        {"UserName": u, "AccessKeyId": k, "Status": "Inactive"} for u, k in STALE.items()
    ]
    # One look per user acted on, for records of keys gone: none here.
    assert replay.params("ListUserTags") == [{"UserName": u} for u in STALE]
    assert not {"UntagUser", "DeleteAccessKey"} & set(replay.operations())
    # c7n writes the action's per-key results beside the resources.
    results = results_of(tmp_path, RETIRE)
    assert outcomes(results) == [(u, k, "retired") for u, k in STALE.items()]
    assert results[0]["reason"] == (
        f"stale (unused); recorded as c7n-keyage:retired:{STALE['bob-stale']}={STAMP} "
        f"{SAW['bob-stale']}"
    )
    assert [r["UserName"] for r in policy.resources] == FLAGGED_USERS


def test_retire_keys_failures_leave_no_half_state(replay, frozen, run_policy, caplog, tmp_path):
    caplog.set_level(logging.INFO, logger="custodian.keyage")
    run_policy(RETIRE, replay)
    results = results_of(tmp_path, RETIRE)

    ops = replay.operations()[len(REPORT_CALLS + LIVE_CALLS) :]
    # bob: recording denied, the record taken back all the same, key left alone; dave:
    # record, disable fails, the key reads Active, record taken back; erin: the same, and
    # taking the record back fails: an ERROR names the stray tag.
    looked = ["TagUser", "UpdateAccessKey", "ListAccessKeys", "UntagUser", "ListUserTags"]
    assert ops == ["TagUser", "UntagUser", "ListUserTags"] + looked * 2
    assert [p["UserName"] for p in replay.params("UntagUser")] == list(STALE)
    assert replay.params("ListAccessKeys")[-2:] == [
        {"UserName": "dave-abandoned"},
        {"UserName": "erin-two-keys"},
    ]
    assert outcomes(results) == [(u, k, "failed") for u, k in STALE.items()]
    reasons = [r["reason"] for r in results]
    assert reasons[0] == (
        "access denied to iam:TagUser (AccessDenied): the role needs iam:TagUser; key left "
        "active; record taken back"
    )
    assert reasons[1] == (
        "UpdateAccessKey failed (EntityTemporarilyUnmodifiable); key left active; record taken back"
    )
    assert reasons[2].endswith(f"stray record c7n-keyage:retired:{STALE['erin-two-keys']} left")
    errors = [r.getMessage() for r in caplog.records if r.levelno == logging.ERROR]
    assert any(
        "user erin-two-keys key AKIAEXAMPLEERIN00002: UpdateAccessKey failed "
        "(EntityTemporarilyUnmodifiable); key left active, and its record could not be taken "
        "back (access denied to iam:UntagUser"
        in e
        and "the tag c7n-keyage:retired:AKIAEXAMPLEERIN00002 may be left" in e
        for e in errors
    ), errors


def test_retire_keys_looks_before_taking_a_record_back(replay, frozen, run_policy, tmp_path):
    """A disabling whose answer is lost: the key reads Inactive, so it keeps its record (and
    is retired); a key that cannot be read keeps its record too; a TagUser whose answer is
    lost is taken back. A record of a key gone since is removed."""
    run_policy(RETIRE, replay)
    results = results_of(tmp_path, RETIRE)

    assert replay.operations()[len(REPORT_CALLS + LIVE_CALLS) :] == [
        *["TagUser", "UpdateAccessKey", "ListAccessKeys", "ListUserTags", "UntagUser"],
        *["TagUser", "UpdateAccessKey", "ListAccessKeys", "ListUserTags"],
        *["TagUser", "UntagUser", "ListUserTags"],
    ]
    assert [(p["UserName"], p["TagKeys"]) for p in replay.params("UntagUser")] == [
        ("bob-stale", [f"c7n-keyage:retired:{GONE_KEY}"]),
        ("erin-two-keys", [f"c7n-keyage:retired:{STALE['erin-two-keys']}"]),
    ]
    assert outcomes(results) == [
        ("bob-stale", STALE["bob-stale"], "retired"),
        ("bob-stale", GONE_KEY, "record-removed"),
        ("dave-abandoned", STALE["dave-abandoned"], "failed"),
        ("erin-two-keys", STALE["erin-two-keys"], "failed"),
    ]
    bob, gone, dave, erin = (r["reason"] for r in results)
    assert bob.startswith(
        "stale (unused); UpdateAccessKey failed (ServiceFailure), but the key reads Inactive: "
        "the change took effect and its answer was lost; recorded as "
    )
    assert gone == "key gone"
    assert dave == (
        "UpdateAccessKey failed (ServiceFailure); the key's state cannot be read "
        "(ListAccessKeys failed (ServiceFailure)), so its record "
        f"c7n-keyage:retired:{STALE['dave-abandoned']}={STAMP} {SAW['dave-abandoned']} is kept"
    )
    assert erin == "TagUser failed (ServiceFailure); key left active; record taken back"


def test_retire_keys_refuses_a_key_whose_last_use_this_run_did_not_read(replay_from, frozen):
    """A matched key without this run's live read of its last use: its record could not say
    what its retirement saw, so it is refused, and nothing is called."""
    replay = replay_from("test_retire_keys_records_then_disables")
    policy = load_policy(RETIRE, replay.session_factory)
    (action,) = policy.resource_manager.actions
    resource = {
        "UserName": "bob-stale",
        "c7n:matched-keys": [{"AccessKeyId": STALE["bob-stale"], "c7n:match-type": "x"}],
    }
    assert action.process([resource]) == [
        {
            "UserName": "bob-stale",
            "AccessKeyId": STALE["bob-stale"],
            "outcome": "refused",
            "reason": "its last use was not read live in this run, and its record must say "
            "what its retirement saw; key left active",
        }
    ]
    assert replay.operations() == []


def test_retire_keys_acts_on_the_matched_keys_only(replay_from, frozen):
    """``c7n:matched-keys`` holds what every filter of the policy matched; a finding in
    ``c7n:unused-keys`` beyond it (a key another filter excluded) is never retired. Each
    result says why its key is stale: the finding's reasons, or that the live check
    confirmed it when no finding names it."""
    replay = replay_from("test_retire_keys_records_then_disables")
    policy = load_policy(RETIRE, replay.session_factory)
    (action,) = policy.resource_manager.actions
    bob, confirmed, excluded = STALE["bob-stale"], "AKIAEXAMPLEBOB000008", "AKIAEXAMPLEBOB000009"
    keys = (bob, confirmed, excluded)
    listed = [{"AccessKeyId": k, "Status": "Active"} for k in keys]
    policy_run.live_reads(policy.resource_manager)["bob-stale"] = aws.UserKeys(
        listed, {k: {} for k in keys}
    )
    resource = {
        "UserName": "bob-stale",
        "c7n:matched-keys": [
            {"AccessKeyId": k, "c7n:match-type": "access-key-unused"} for k in (bob, confirmed)
        ],
        "c7n:unused-keys": [
            {"access_key_id": bob, "reasons": ["unused", "unrotated"]},
            {"access_key_id": excluded, "reasons": ["never-used"]},
        ],
    }
    results = action.process([resource])
    assert [(r["AccessKeyId"], r["outcome"], r["reason"].split(";")[0]) for r in results] == [
        (bob, "retired", "stale (unused+unrotated)"),
        (confirmed, "retired", "stale (confirmed live)"),
    ]
    assert replay.operations() == ["TagUser", "UpdateAccessKey"] * 2 + ["ListUserTags"]
    assert [p["AccessKeyId"] for p in replay.params("UpdateAccessKey")] == [bob, confirmed]


def test_a_disable_that_failed_on_a_key_gone_takes_the_record_back(replay_from, frozen):
    """UpdateAccessKey failed and the key is gone by the time it is looked at: its record
    is taken back, saying so."""
    replay = replay_from("test_retire_keys_records_then_disables")
    (action,) = load_policy(RETIRE, replay.session_factory).resource_manager.actions
    client = boto3.client(
        "iam", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x"
    )
    tag = "c7n-keyage:retired:AKIAEXAMPLE000000001"
    error = ClientError({"Error": {"Code": "ServiceFailure"}}, "UpdateAccessKey")
    results: list[dict] = []
    with Stubber(client) as stub:
        stub.add_response("list_access_keys", {"AccessKeyMetadata": []}, {"UserName": "u"})
        stub.add_response("untag_user", {}, {"UserName": "u", "TagKeys": [tag]})
        action.disable_failed(client, "u", tag[-20:], f"{tag}=v", "stale", error, results)
        stub.assert_no_pending_responses()
    assert results == [
        {
            "UserName": "u",
            "AccessKeyId": "AKIAEXAMPLE000000001",
            "outcome": "failed",
            "reason": "UpdateAccessKey failed (ServiceFailure); key gone; record taken back",
        }
    ]


def test_retire_keys_dry_run_changes_nothing(replay_from, frozen, run_policy, caplog):
    caplog.set_level(logging.INFO, logger="custodian.keyage")
    replay = replay_from("test_retire_keys_records_then_disables")
    policy = run_policy(RETIRE, replay, dryrun=True)

    assert replay.operations() == REPORT_CALLS + LIVE_CALLS
    assert [r["UserName"] for r in policy.resources] == FLAGGED_USERS
    would = [r.getMessage() for r in caplog.records if "would" in r.getMessage()]
    assert would == [
        f"policy:{POLICY} dryrun: would retire user {u} key {k}: stale "
        f"({'never-used' if u == 'dave-abandoned' else 'unused'})"
        for u, k in STALE.items()
    ]


def test_delete_retired_keys_after_grace(replay, frozen, run_policy, caplog, tmp_path):
    caplog.set_level(logging.INFO, logger="custodian.keyage")
    policy = run_policy(DELETE, replay)

    check_delete_calls(replay)
    check_delete_results(results_of(tmp_path, DELETE))
    check_retired_keys_annotation({r["UserName"]: r for r in policy.resources})
    messages = [r.getMessage() for r in caplog.records]
    assert (
        "policy:iam-delete-retired-keys delete-retired-keys: user ret-gone key "
        "AKIALIFEGONE00000001: record-removed: key gone" in messages
    )


def check_delete_calls(replay) -> None:
    """The reads, then one delete (the key past its grace) and the records taken off: its
    own, and those of a key re-enabled and of a key gone."""
    assert replay.operations() == READS + [
        "DeleteAccessKey",
        "UntagUser",
        "UntagUser",
        "UntagUser",
    ]
    assert replay.params("DeleteAccessKey") == [
        {"UserName": "ret-due", "AccessKeyId": "AKIALIFEDUE000000001"}
    ]
    assert [(p["UserName"], p["TagKeys"]) for p in replay.params("UntagUser")] == [
        ("ret-due", ["c7n-keyage:retired:AKIALIFEDUE000000001"]),
        ("ret-reenabled", ["c7n-keyage:retired:AKIALIFEREENABLED001"]),
        ("ret-gone", ["c7n-keyage:retired:AKIALIFEGONE00000001"]),
    ]


def check_delete_results(results: list[dict]) -> None:
    """One result per record matched, each with its outcome and why."""
    assert [(r["UserName"], r["AccessKeyId"]) for r in results] == [
        ("ret-due", "AKIALIFEDUE000000001"),
        ("ret-reenabled", "AKIALIFEREENABLED001"),
        ("ret-gone", "AKIALIFEGONE00000001"),
        ("ret-used", "AKIALIFEUSED00000001"),
        ("ret-untrusted", "AKIALIFEFUTURE000001"),
        ("ret-untrusted", "AKIALIFEGARBAGE00001"),
    ]
    assert [(r["UserName"], r["outcome"], r["reason"]) for r in results] == [
        (
            "ret-due",
            "deleted",
            f"retired 2026-09-22T12:00:00Z by {POLICY}, inactive and unused since (last use "
            "2026-04-15T12:00:00Z, as its retirement saw it), grace of 30 days over",
        ),
        ("ret-reenabled", "record-removed", "key active again"),
        ("ret-gone", "record-removed", "key gone"),
        ("ret-used", "kept", "used after its retirement (2026-10-12T12:00:00Z): never deleted"),
        (
            "ret-untrusted",
            "refused",
            "record '2999-01-01T00:00:00Z x' not trusted: it is dated 2999-01-01T00:00:00Z, "
            "after now (2026-11-01T12:00:00Z)",
        ),
        (
            "ret-untrusted",
            "refused",
            "record 'yesterday x' not trusted: its time 'yesterday' is not an ISO 8601 date "
            "and time",
        ),
    ]


def check_retired_keys_annotation(by_user: dict[str, dict]) -> None:
    """The annotation: one entry per record matched, with its key's live state."""
    assert sorted(by_user) == ["ret-due", "ret-gone", "ret-reenabled", "ret-untrusted", "ret-used"]
    assert by_user["ret-due"]["c7n:retired-keys"] == [
        {
            "access_key_id": "AKIALIFEDUE000000001",
            "retired_at": "2026-09-22T12:00:00Z",
            "policy": POLICY,
            "status": "Inactive",
            "used_since_retired": False,
            "delete_after": "2026-10-22T12:00:00Z",
        }
    ]
    assert by_user["ret-gone"]["c7n:retired-keys"][0]["status"] == "missing"
    assert by_user["ret-reenabled"]["c7n:retired-keys"][0]["status"] == "Active"
    assert by_user["ret-used"]["c7n:retired-keys"][0]["used_since_retired"] is True
    assert by_user["ret-untrusted"]["c7n:retired-keys"] == []
    assert [e["tag"] for e in by_user["ret-untrusted"]["c7n:retired-keys-refused"]] == [
        "c7n-keyage:retired:AKIALIFEFUTURE000001",
        "c7n-keyage:retired:AKIALIFEGARBAGE00001",
    ]


def test_restore_keys(replay, frozen, run_policy, tmp_path):
    run_policy(RESTORE, replay)

    made = replay.operations()[len(READS) :]
    assert (
        made
        == ["UpdateAccessKey", "UntagUser"] * 2
        + ["UntagUser"] * 2
        + [
            "UpdateAccessKey",
            "UntagUser",
        ]
        * 3
    )
    assert "DeleteAccessKey" not in replay.operations()
    assert [
        (p["UserName"], p["AccessKeyId"], p["Status"]) for p in replay.params("UpdateAccessKey")
    ] == [
        ("ret-due", "AKIALIFEDUE000000001", "Active"),
        ("ret-recent", "AKIALIFERECENT000001", "Active"),
        ("ret-used", "AKIALIFEUSED00000001", "Active"),
        ("ret-today", "AKIALIFETODAY0000001", "Active"),
        ("ret-today", "AKIALIFETODAY0000002", "Active"),
    ]
    assert [r["outcome"] for r in results_of(tmp_path, RESTORE)] == [
        "restored",
        "restored",
        "record-removed",
        "record-removed",
        "restored",
        "refused",
        "refused",
        "restored",
        "restored",
    ]


def test_incident_restore_one_policy_last_day(replay, frozen, run_policy):
    data = dict(RESTORE, filters=[{"type": "retired-keys", "policy": POLICY, "within-hours": 24}])
    policy = run_policy(data, replay)

    assert replay.operations()[len(READS) :] == ["UpdateAccessKey", "UntagUser"]
    assert replay.params("UpdateAccessKey") == [
        {"UserName": "ret-today", "AccessKeyId": "AKIALIFETODAY0000001", "Status": "Active"}
    ]
    by_user = {r["UserName"]: r for r in policy.resources}
    # The untrusted records are shown (refused) whatever the options; nothing else matched.
    assert sorted(by_user) == ["ret-today", "ret-untrusted"]
    assert [e["access_key_id"] for e in by_user["ret-today"]["c7n:retired-keys"]] == [
        "AKIALIFETODAY0000001"
    ]


PER_RECORD = dict(
    RESTORE,
    filters=[
        {"type": "retired-keys"},
        {"or": [{"type": "retired-keys", "policy": "another-policy"}, {"tag:team": "data"}]},
    ],
)


def test_restore_chooses_each_record_by_its_own_filters(replay, frozen, run_policy, tmp_path):
    """Every record, and an or: of another policy's records and a user tagged team=data:
    c7n matches users by any record, but a key is restored only when its own record
    satisfies the filters: ret-recent's (its user is tagged) and ret-today's second
    (another-policy's), not ret-today's first nor any other user's."""
    policy = run_policy(PER_RECORD, replay)

    # c7n's or: gives its users in no set order.
    assert replay.operations()[len(READS) :] == ["UpdateAccessKey", "UntagUser"] * 2
    assert sorted(
        (p["UserName"], p["AccessKeyId"], p["Status"]) for p in replay.params("UpdateAccessKey")
    ) == [
        ("ret-recent", "AKIALIFERECENT000001", "Active"),
        ("ret-today", "AKIALIFETODAY0000002", "Active"),
    ]
    assert sorted(outcomes(results_of(tmp_path, PER_RECORD))) == [
        ("ret-recent", "AKIALIFERECENT000001", "restored"),
        ("ret-today", "AKIALIFETODAY0000002", "restored"),
        ("ret-untrusted", "AKIALIFEFUTURE000001", "refused"),
        ("ret-untrusted", "AKIALIFEGARBAGE00001", "refused"),
    ]
    # The output lists exactly the records acted on (a restore says nothing of deletion).
    assert {r["UserName"]: r["c7n:retired-keys"] for r in policy.resources} == {
        "ret-recent": [
            {
                "access_key_id": "AKIALIFERECENT000001",
                "retired_at": "2026-10-22T12:00:00Z",
                "policy": POLICY,
                "status": "Inactive",
                "used_since_retired": False,
            }
        ],
        "ret-untrusted": [],
        "ret-today": [
            {
                "access_key_id": "AKIALIFETODAY0000002",
                "retired_at": "2026-11-01T09:00:00Z",
                "policy": "another-policy",
                "status": "Inactive",
                "used_since_retired": False,
            }
        ],
    }


def test_a_user_none_of_whose_records_is_chosen_is_left_alone(
    replay_from, frozen, run_policy, caplog, tmp_path
):
    """Records of another-policy, and an or: of POLICY's records and nobody's: c7n matches
    ret-today (it holds one record of each), but no record of it is chosen: nothing is
    restored, and the run says why."""
    caplog.set_level(logging.INFO, logger="custodian.keyage")
    data = dict(
        RESTORE,
        filters=[
            {"type": "retired-keys", "policy": "another-policy"},
            {"or": [{"type": "retired-keys", "policy": p} for p in (POLICY, "nobody")]},
        ],
    )
    replay = replay_from("test_restore_keys")
    policy = run_policy(data, replay)

    assert replay.operations() == READS
    assert [r["UserName"] for r in policy.resources] == ["ret-untrusted"]
    assert outcomes(results_of(tmp_path, data)) == [
        ("ret-untrusted", "AKIALIFEFUTURE000001", "refused"),
        ("ret-untrusted", "AKIALIFEGARBAGE00001", "refused"),
    ]
    assert (
        "policy:iam-restore-retired-keys user ret-today: the policy's filters, evaluated for "
        "each of its records, choose none; nothing to act on"
    ) in [r.getMessage() for r in caplog.records]


def test_a_dry_run_previews_the_records_chosen(replay_from, frozen, run_policy, caplog):
    caplog.set_level(logging.INFO, logger="custodian.keyage")
    replay = replay_from("test_restore_chooses_each_record_by_its_own_filters")
    run_policy(PER_RECORD, replay, dryrun=True)

    assert replay.operations() == READS
    would = [r.getMessage() for r in caplog.records if " would restore " in r.getMessage()]
    assert sorted(w.split(": ")[1] for w in would) == [
        "would restore user ret-recent key AKIALIFERECENT000001",
        "would restore user ret-today key AKIALIFETODAY0000002",
    ]


@pytest.mark.parametrize("data", [RESTORE, DELETE], ids=["restore", "delete"])
def test_lifecycle_dry_run_changes_nothing(data, replay_from, frozen, run_policy, caplog):
    caplog.set_level(logging.INFO, logger="custodian.keyage")
    replay = replay_from("test_restore_keys")
    run_policy(data, replay, dryrun=True)

    assert replay.operations() == READS
    would = [r.getMessage() for r in caplog.records if " would " in r.getMessage()]
    name = data["name"]
    if data is RESTORE:
        assert would[0] == (
            f"policy:{name} dryrun: would restore user ret-due key AKIALIFEDUE000000001: "
            f"retired 2026-09-22T12:00:00Z by {POLICY}"
        )
        assert len(would) == 9
    else:
        assert would[0].startswith(
            f"policy:{name} dryrun: would delete user ret-due key AKIALIFEDUE000000001: "
        )
        assert (
            f"policy:{name} dryrun: would keep user ret-used key AKIALIFEUSED00000001: "
            + ("used after its retirement (2026-10-12T12:00:00Z): never deleted")
            in would
        )
        assert len(would) == 6


def test_denied_tags_of_some_users(replay, frozen, run_policy, caplog):
    policy = run_policy(DELETE, replay)

    listed = [p["UserName"] for p in replay.params("ListUserTags")]
    assert listed == USERS
    assert replay.params("DeleteAccessKey") == [
        {"UserName": "ret-due", "AccessKeyId": "AKIALIFEDUE000000001"}
    ]
    assert "ret-recent" not in [r["UserName"] for r in policy.resources]
    (error,) = [r.getMessage() for r in caplog.records if r.levelno == logging.ERROR]
    assert error == (
        "policy:iam-delete-retired-keys access denied reading the retirement records of 2 "
        "user(s): ret-none, ret-recent; the role running this policy needs iam:ListUserTags "
        "and iam:ListAccessKeys and iam:GetAccessKeyLastUsed on them (an SCP or a permissions "
        "boundary may deny it): their records are left alone; the other users' were read"
    )


def test_denied_tags_of_every_user(replay, frozen, run_policy):
    with pytest.raises(PolicyExecutionError, match="needs iam:ListUserTags and iam:ListAccess"):
        run_policy(DELETE, replay)
    assert "DeleteAccessKey" not in replay.operations()
    assert "UntagUser" not in replay.operations()


def test_restore_when_untagging_is_denied(replay, frozen, run_policy, caplog, tmp_path):
    run_policy(RESTORE, replay)
    results = results_of(tmp_path, RESTORE)
    first, second = results[:2]
    assert (first["AccessKeyId"], first["outcome"]) == ("AKIALIFEDUE000000001", "restored")
    assert first["reason"] == (
        f"retired 2026-09-22T12:00:00Z by {POLICY}; its record "
        "c7n-keyage:retired:AKIALIFEDUE000000001 could not be removed (access denied to "
        "iam:UntagUser (AccessDenied): the role needs iam:UntagUser)"
    )
    assert (second["UserName"], second["AccessKeyId"], second["outcome"], second["reason"]) == (
        "ret-recent",
        "AKIALIFERECENT000001",
        "failed",
        f"UpdateAccessKey failed (EntityTemporarilyUnmodifiable); retired "
        f"2026-10-22T12:00:00Z by {POLICY}",
    )
    # The others went on.
    assert [r["outcome"] for r in results[2:]] == [
        "record-removed",
        "record-removed",
        "restored",
        "refused",
        "refused",
        "restored",
        "restored",
    ]
    errors = [r.getMessage() for r in caplog.records if r.levelno == logging.ERROR]
    assert any("iam:UntagUser" in e and "ret-due" in e for e in errors)


def test_delete_on_the_report_source(replay, frozen, run_policy):
    data = dict(DELETE, source="credential-report")
    policy = run_policy(data, replay)

    # Only ret-due has an inactive key in the report: only its tags are read.
    assert replay.operations() == [
        "GetCredentialReport",
        "ListUserTags",
        "ListAccessKeys",
        "GetAccessKeyLastUsed",
        "DeleteAccessKey",
        "UntagUser",
    ]
    assert [r["UserName"] for r in policy.resources] == ["ret-due"]
    assert {"GetUser", "ListUsers"}.isdisjoint(replay.operations())


def test_a_notify_policy_says_when_keys_will_be_deleted(replay_from, frozen, run_policy):
    """A policy that only reports (what a mailer digest or ``custodian report`` runs on)
    names the deleting policy's grace: each record says when its key will be deleted,
    here within the grace (ret-recent) as well as already due (ret-due)."""
    data = {
        "name": "iam-retired-keys-digest",
        "resource": "iam-user",
        "filters": [{"type": "retired-keys", "delete-after-days": 30}],
    }
    replay = replay_from("test_restore_keys")
    policy = run_policy(data, replay)

    assert replay.operations() == READS
    after = {
        (r["UserName"], e["retired_at"], e["delete_after"])
        for r in policy.resources
        for e in r["c7n:retired-keys"]
    }
    assert ("ret-due", "2026-09-22T12:00:00Z", "2026-10-22T12:00:00Z") in after
    assert ("ret-recent", "2026-10-22T12:00:00Z", "2026-11-21T12:00:00Z") in after
    # Without the option, a report says nothing of deletion.
    plain = run_policy(
        dict(data, filters=[{"type": "retired-keys"}]), replay_from("test_restore_keys")
    )
    assert all("delete_after" not in e for r in plain.resources for e in r["c7n:retired-keys"])


def test_delete_after_days_is_refused_where_the_grace_is_days(replay_from, run_policy):
    data = dict(DELETE, filters=[{"type": "retired-keys", "days": 30, "delete-after-days": 60}])
    with pytest.raises(PolicyValidationError) as refused:
        run_policy(data, replay_from("test_restore_keys"), validate=False)
    assert str(refused.value) == (
        "policy:iam-delete-retired-keys filter retired-keys: delete-after-days is for policies "
        "that report or notify; in a policy with delete-retired-keys the grace is days, and "
        "delete_after follows from it"
    )


@pytest.mark.parametrize(
    "action, message",
    [
        (
            {"type": "restore-keys", "policy": "someone-elses"},
            "policy:iam-restore-retired-keys action restore-keys: policy: 'policy' was "
            "unexpected; it takes no options",
        ),
        (
            {"type": "delete-retired-keys", "tpye": "x"},
            "policy:iam-restore-retired-keys action delete-retired-keys: tpye: 'tpye' was "
            "unexpected; did you mean 'type'?",
        ),
        (
            {"type": "restore-keys", "policy": "x", "days": 3},
            "policy:iam-restore-retired-keys action restore-keys: policy: 'policy' was "
            "unexpected; it takes no options; days: 'days' was unexpected; it takes no options",
        ),
    ],
    ids=["restore-policy", "delete-typo", "two-options"],
)
def test_an_action_refuses_an_unknown_option_where_the_schema_is_skipped(
    replay_from, action, message
):
    """c7n-org, Lambda and --skip-validation do not check the JSON schema: the action's own
    validate() names the option (a restore that ignored ``policy:`` would restore every
    record its filter chose)."""
    replay = replay_from("test_restore_keys")
    data = dict(RESTORE, filters=[{"type": "retired-keys", "days": 1}], actions=[action])
    with pytest.raises(PolicyValidationError) as refused:
        load_policy(data, replay.session_factory, validate=False)
    assert str(refused.value) == message
    assert replay.operations() == []


# --- what cannot be read, or removed ---

TWO_READS = (
    ["ListUsers", "GetUser", "GetUser"]
    + ["ListUserTags", "ListAccessKeys", "GetAccessKeyLastUsed"] * 2  # ret-due, ret-reenabled
)


def test_a_key_whose_last_use_cannot_be_read_is_never_deleted(
    replay, frozen, run_policy, caplog, tmp_path
):
    """ret-due is due, but its last use cannot be read (an error other than a denial): its
    state is unknown, so it is kept; never read as "never used"."""
    policy = run_policy(DELETE, replay)

    assert replay.operations() == TWO_READS + ["UntagUser"]
    assert replay.params("UntagUser") == [
        {"UserName": "ret-reenabled", "TagKeys": ["c7n-keyage:retired:AKIALIFEREENABLED001"]}
    ]
    assert [(r["UserName"], r["outcome"], r["reason"]) for r in results_of(tmp_path, DELETE)] == [
        ("ret-due", "kept", "its last use cannot be read: never deleted"),
        ("ret-reenabled", "record-removed", "key active again"),
    ]
    (entry,) = {r["UserName"]: r for r in policy.resources}["ret-due"]["c7n:retired-keys"]
    assert entry["last_use_unknown"] is True and entry["used_since_retired"] is True
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert any(
        w.startswith(
            "policy:iam-delete-retired-keys user ret-due: last use of retired key "
            "AKIALIFEDUE000000001 could not be read ("
        )
        and "ServiceFailure" in w
        for w in warnings
    ), warnings


def test_denied_last_use_of_some_users(replay, frozen, run_policy, caplog, tmp_path):
    """The last use of ret-due's key is denied: ret-due is named in one ERROR and left
    alone; the other user is acted on."""
    policy = run_policy(DELETE, replay)

    assert replay.operations() == TWO_READS + ["UntagUser"]
    assert [r["UserName"] for r in policy.resources] == ["ret-reenabled"]
    assert outcomes(results_of(tmp_path, DELETE)) == [
        ("ret-reenabled", "AKIALIFEREENABLED001", "record-removed")
    ]
    (error,) = [r.getMessage() for r in caplog.records if r.levelno == logging.ERROR]
    assert error.startswith(
        "policy:iam-delete-retired-keys access denied reading the retirement records of 1 "
        "user(s): ret-due; the role running this policy needs iam:ListUserTags and "
        "iam:ListAccessKeys and iam:GetAccessKeyLastUsed on them"
    )


def test_denied_last_use_of_every_user(replay, frozen, run_policy):
    """Every user's read denied: the role lacks the permission, and the policy fails (it
    would otherwise run green and never delete)."""
    with pytest.raises(PolicyExecutionError, match="needs iam:ListUserTags and iam:ListAccess"):
        run_policy(DELETE, replay)
    assert replay.operations() == [
        "ListUsers",
        "GetUser",
        "ListUserTags",
        "ListAccessKeys",
        "GetAccessKeyLastUsed",
    ]


def test_a_record_that_cannot_be_removed_is_failed(replay, frozen, run_policy, caplog, tmp_path):
    """ret-gone's key is gone and its record cannot be removed: the result says failed, not
    record-removed."""
    run_policy(DELETE, replay)

    assert replay.operations()[-3:] == ["ListUserTags", "ListAccessKeys", "UntagUser"]
    assert [(r["outcome"], r["reason"]) for r in results_of(tmp_path, DELETE)] == [
        (
            "failed",
            "access denied to iam:UntagUser (AccessDenied): the role needs iam:UntagUser; key gone",
        )
    ]
    errors = [r.getMessage() for r in caplog.records if r.levelno == logging.ERROR]
    assert errors == [
        "policy:iam-delete-retired-keys delete-retired-keys: user ret-gone key "
        "AKIALIFEGONE00000001: failed: access denied to iam:UntagUser (AccessDenied): the "
        "role needs iam:UntagUser; key gone"
    ]
