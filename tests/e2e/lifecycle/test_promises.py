"""The key lifecycle's three promises, tried at their edges with the stock CLIs on moto.

Never delete what should stay; every disabled key has its record; a restore restores. Each
test is one way a valid policy (or a run the lifecycle must survive) can break one of
them: an ``or:`` of ``retired-keys`` filters that deletes a record none of its branches
selects; a policy name too long (or too odd) for a record, so the runbook's restore finds
nothing; a disabled key whose record is taken back because a response was lost; a use AWS
reports late, after the key was retired; misspelt options where the JSON schema is not
checked (``--skip-validation``, c7n-org, Lambda); what the documents say of keys re-enabled
by hand; records of keys that are gone, left behind by ``retire-keys``.

Every run is the stock ``custodian`` or ``c7n-org`` (or the plugin's Lambda handler) on an
unmodified moto server under c7n's default cache: a ``HOME`` of the test's own, one per
simulated day (``tests/support/lifecycle_e2e.py``), behind a layer that enforces IAM's tag
limits as AWS does. Records are backdated by rewriting their time with ``TagUser``.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from tests.support.lifecycle_e2e import (
    DELETE_NAME,
    DELETE_RESULTS,
    KEY_CALLS,
    LIFECYCLE,
    PREFIX,
    RESTORE_DAY_NAME,
    RESTORE_FILE,
    RETIRE_NAME,
    RETIRE_RESULTS,
    TIME,
    IamEdges,
    add_key,
    backdate_record,
    day,
    key_changes,
    lambda_handler,
    outcomes,
    records,
    retired_entries,
    sample,
)
from tests.support.localiam import KeySpec, LocalIAM, UserSpec
from tests.support.stock_cli import c7n_org, custodian

pytestmark = pytest.mark.slow


def retire_policy(name: str, days: int) -> dict:
    return {
        "name": name,
        "resource": "iam-user",
        "filters": [{"type": "access-key-unused", "days": days}],
        "actions": [{"type": "retire-keys"}],
    }


def inactive(states: dict[str, dict[str, str]]) -> set[tuple[str, str]]:
    return {(u, k) for u, ks in states.items() for k, s in ks.items() if s == "Inactive"}


# --- 1. per record, not per user: an or: of retired-keys filters ---


def test_an_or_of_policies_deletes_only_the_records_it_selects(tmp_path):
    """``days: 30`` and ``or: [policy: retire-a, policy: retire-b]``: the key retired by
    retire-c is not selected by any branch of the or:, even though its user also holds a
    retire-a record. Only the retire-a key may be deleted."""
    delete = {
        "name": "delete-a-or-b",
        "resource": "iam-user",
        "filters": [
            {"type": "retired-keys", "days": 30},
            {
                "or": [
                    {"type": "retired-keys", "policy": "retire-a"},
                    {"type": "retired-keys", "policy": "retire-b"},
                ]
            },
        ],
        "actions": [{"type": "delete-retired-keys"}],
    }
    with LocalIAM(aws_like_report=False) as local:
        IamEdges.install(local)
        # Key 1 unused for 350 days (retire-a, 300 days), key 2 for 150 (retire-c, 90 days).
        (by_a, by_c) = local.seed([UserSpec("both", [KeySpec(400, 350), KeySpec(400, 150)])])[
            "both"
        ]
        custodian(local, retire_policy("retire-a", 300), day(tmp_path, 0)).assert_clean()
        custodian(local, retire_policy("retire-c", 90), day(tmp_path, 1)).assert_clean()
        retired = records(local)["both"]
        for key in (by_a, by_c):
            backdate_record(local, "both", key, 31)
        run = custodian(local, delete, day(tmp_path, 31))
        states, found = local.key_states(), records(local)

    assert set(retired) == {by_a, by_c}
    assert " retire-a last-used=" in retired[by_a] and " retire-c last-used=" in retired[by_c]
    run.assert_clean()
    assert key_changes(run) == [("DeleteAccessKey", "both", by_a), ("UntagUser", "both", by_a)], (
        "deleted a key retired by retire-c, which no branch of the or: selects"
    )
    assert states["both"] == {by_c: "Inactive"} and set(found["both"]) == {by_c}
    assert outcomes(run, "delete-a-or-b", DELETE_RESULTS) == {("both", by_a): "deleted"}
    assert set(retired_entries(run, "delete-a-or-b")) == {("both", by_a)}


# --- 2. a policy name no record can carry ---

# Valid for c7n's schema (^[A-z][A-z0-9]*(-[A-z0-9]+)*$, no length limit), but longer than
# a tag value, or with a character IAM refuses in one ([A-z] includes [ \\ ] ^ _ `).
LONG = "iam-retire-" + "-".join(["stale"] * 38) + "-z"
ODD = "iam-retire^stale"
NAMES = [pytest.param(LONG, id="240-characters"), pytest.param(ODD, id="caret")]


@pytest.mark.parametrize("name", NAMES)
def test_the_runbook_restores_what_a_policy_of_any_valid_name_retired(tmp_path, name):
    """The runbook restores by ``retired-keys policy: <name>``. Either the retirement is
    refused at validation (nothing disabled), or that restore re-enables every key it
    disabled: never a restore that matches nothing and exits 0 while the keys stay off."""
    assert len(LONG) == 240
    restore = sample(RESTORE_FILE, RESTORE_DAY_NAME)
    restore["filters"] = [dict(restore["filters"][0], policy=name)]
    with LocalIAM(aws_like_report=False) as local:
        IamEdges.install(local)
        ids = local.seed([UserSpec("stale", [KeySpec(400, 200)])])
        retired = custodian(local, retire_policy(name, 90), tmp_path)
        disabled = inactive(local.key_states())
        restored = custodian(local, restore, tmp_path)
        states = local.key_states()

    key = ("stale", ids["stale"][0])
    if retired.returncode != 0:
        assert disabled == set() and retired.operations(*KEY_CALLS) == []
        assert "policy name" in retired.log and name in retired.log, retired.log
        return
    assert disabled == {key}
    assert restored.returncode == 0, restored.log
    assert inactive(states) == set(), (
        f"the runbook's restore (policy: {name[:30]}...) left {key} disabled; it logged:\n"
        + restored.log
    )


@pytest.mark.parametrize("name", NAMES)
def test_a_restore_by_a_name_no_record_can_carry_is_refused(tmp_path, name):
    """``retired-keys policy: <name>`` matches nothing when no record can carry ``name``:
    refused by the stock ``custodian validate`` and ``custodian run``, saying why."""
    restore = sample(RESTORE_FILE, RESTORE_DAY_NAME)
    restore["filters"] = [dict(restore["filters"][0], policy=name)]
    with LocalIAM(aws_like_report=False) as local:
        validated = custodian(local, restore, tmp_path, command="validate")
        run = custodian(local, restore, tmp_path)

    for refused in (validated, run):
        assert refused.returncode != 0, refused.log
        assert "retired-keys" in refused.log and "policy" in refused.log
        assert "no record" in refused.log, refused.log
    assert run.operations("ListUserTags", *KEY_CALLS) == []


# --- 3. a disabled key without its record ---


def test_a_disable_whose_response_is_lost_keeps_its_record(tmp_path):
    """``UpdateAccessKey`` takes effect, and its response is lost on every attempt: the key
    is Inactive. Its record must stay (and the runbook's restore bring the key back)."""
    retire = sample(LIFECYCLE, RETIRE_NAME)
    restore = sample(RESTORE_FILE, RESTORE_DAY_NAME)
    with LocalIAM(aws_like_report=False) as local:
        edges = IamEdges.install(local)
        ids = local.seed(
            [UserSpec("stale", [KeySpec(400, 200)]), UserSpec("other", [KeySpec(300, 100)])]
        )
        lost = edges.lose("UpdateAccessKey", UserName="stale")
        run = custodian(local, retire, day(tmp_path, 0))
        edges.clear()
        after_retire = (local.key_states(), records(local))
        restored = custodian(local, restore, day(tmp_path, 1))
        states = local.key_states()

    key = ("stale", ids["stale"][0])
    assert lost.seen >= 1 and run.returncode == 0, run.log
    disabled, found = after_retire
    assert key in inactive(disabled), "the lost change took effect: the key is Inactive"
    recorded = {(u, k) for u, ks in found.items() for k in ks}
    assert inactive(disabled) <= recorded, (
        f"Inactive keys without their record: {inactive(disabled) - recorded}; the run said:\n"
        + "\n".join(line for line in run.log.splitlines() if "stale" in line)
    )
    assert restored.returncode == 0 and inactive(states) == set(), restored.log


# --- 4. a use AWS reports late ---


def test_a_key_whose_use_arrives_after_its_retirement_is_never_deleted(tmp_path):
    """A use just before the retirement that AWS reports only later: the retirement saw the
    key unused for 200 days; the live last use is now a moment before the retirement. The
    key is kept, saying why; a key whose last use is still what its retirement saw goes."""
    retire = sample(LIFECYCLE, RETIRE_NAME)
    delete = sample(LIFECYCLE, DELETE_NAME)
    users = [UserSpec("late", [KeySpec(400, 200)]), UserSpec("quiet", [KeySpec(400, 200)])]
    with LocalIAM(aws_like_report=False) as local:
        IamEdges.install(local)
        ids = local.seed(users)
        custodian(local, retire, day(tmp_path, 0)).assert_clean()
        late, quiet = ("late", ids["late"][0]), ("quiet", ids["quiet"][0])
        backdate_record(local, *quiet, 31)
        value = backdate_record(local, *late, 31)
        retired_at = datetime.strptime(value.split(" ")[0], TIME).replace(tzinfo=timezone.utc)
        local.use_key(*late, when=retired_at - timedelta(minutes=5))
        run = custodian(local, delete, day(tmp_path, 31))
        states = local.key_states()

    run.assert_clean()
    assert states["late"] == {late[1]: "Inactive"}, "deleted a key used before its retirement"
    assert states["quiet"] == {}, "the key whose last use did not change is deleted"
    assert outcomes(run, DELETE_NAME, DELETE_RESULTS) == {late: "kept", quiet: "deleted"}
    reasons = [r["reason"] for r in run.action_results(DELETE_NAME, DELETE_RESULTS)]
    assert any("last use" in reason for reason in reasons), reasons


# --- 5. misspelt options where the JSON schema is not checked ---

TYPOS = {
    # (policy, the option, the nearest valid one or None)
    "filter": (
        {
            "name": "typo-filter",
            "resource": "iam-user",
            "filters": [{"type": "access-key-unused", "days": 90, "rotation_days": 30}],
            "actions": [{"type": "retire-keys"}],
        },
        "rotation_days",
        "rotation-days",
    ),
    "lifecycle-filter": (
        {
            "name": "typo-lifecycle-filter",
            "resource": "iam-user",
            "filters": [{"type": "retired-keys", "within_hours": 24}],
            "actions": [{"type": "restore-keys"}],
        },
        "within_hours",
        "within-hours",
    ),
    # The filter's option put on the action: it would restore every retired key.
    "action": (
        {
            "name": "typo-action",
            "resource": "iam-user",
            "filters": [{"type": "retired-keys", "within-hours": 24}],
            "actions": [{"type": "restore-keys", "policy": "someone-elses"}],
        },
        "policy",
        None,
    ),
}
AFTER = {"name": "after", "resource": "iam-user", "filters": [{"type": "access-key-unused"}]}
ORG = {"dev": "111111111111"}


def retired_account(local: LocalIAM, account: str | None = None) -> dict[str, list[str]]:
    """One stale active key, and one retired an hour ago (Inactive, with its record)."""
    users = [UserSpec("stale", [KeySpec(400, 200)]), UserSpec("retired", [KeySpec(400, 200)])]
    ids = local.seed(users, **({"account_id": account} if account else {}))
    iam = local.client("iam", account)
    key = ids["retired"][0]
    when = (datetime.now(timezone.utc) - timedelta(hours=1)).strftime(TIME)
    iam.tag_user(UserName="retired", Tags=[{"Key": PREFIX + key, "Value": f"{when} a-policy"}])
    iam.update_access_key(UserName="retired", AccessKeyId=key, Status="Inactive")
    return ids


def refusal(log: str, option: str, nearest: str | None) -> None:
    assert f"{option!r} was unexpected" in log, log
    if nearest:
        assert f"did you mean {nearest!r}" in log, log


@pytest.mark.parametrize("typo", sorted(TYPOS))
def test_custodian_run_skip_validation_refuses_a_misspelt_option(tmp_path, typo):
    policy, option, nearest = TYPOS[typo]
    with LocalIAM(aws_like_report=False) as local:
        retired_account(local)
        before = (local.key_states(), records(local))
        run = custodian(local, [policy, AFTER], tmp_path, "--skip-validation")
        after = (local.key_states(), records(local))

    assert run.returncode != 0, "ran a policy with a misspelt option:\n" + run.log
    refusal(run.log, option, nearest)
    assert after == before and run.operations(*KEY_CALLS) == []


@pytest.mark.parametrize("typo", sorted(TYPOS))
def test_c7n_org_refuses_a_misspelt_option(tmp_path, typo):
    """c7n-org logs a refusal from ``validate()`` as one WARNING, skips the account's later
    policies and exits 0 (``c7n_org/cli.py``: ``validate()`` runs outside the policy's
    error handling; the worker's exception is logged, not counted as a failure)."""
    policy, option, nearest = TYPOS[typo]
    with LocalIAM(aws_like_report=False) as local:
        retired_account(local, ORG["dev"])
        before = (local.key_states(ORG["dev"]), records(local, ORG["dev"]))
        run = c7n_org(local, ORG, [policy, AFTER], tmp_path)
        after = (local.key_states(ORG["dev"]), records(local, ORG["dev"]))

    assert after == before and run.operations(*KEY_CALLS) == [], run.log
    (warning,) = [line for line in run.log.splitlines() if "Error running policy" in line]
    refusal(warning, option, nearest)
    assert run.returncode == 0 and run.outputs == {}, run.log


@pytest.mark.parametrize("typo", sorted(TYPOS))
def test_the_lambda_handler_refuses_a_misspelt_option(tmp_path, typo):
    policy, option, nearest = TYPOS[typo]
    with LocalIAM(aws_like_report=False) as local:
        retired_account(local)
        before = (local.key_states(), records(local))
        result, calls = lambda_handler(local, policy, tmp_path)
        after = (local.key_states(), records(local))

    assert result.returncode != 0, "ran a policy with a misspelt option:\n" + result.stderr
    refusal(result.stderr.strip().splitlines()[-1], option, nearest)
    assert after == before and [c for c in calls if c.action in KEY_CALLS] == []


# --- also: keys re-enabled by hand ---


def test_what_holds_for_a_key_re_enabled_by_hand(tmp_path):
    """Re-enabled and disabled again between two lifecycle runs, unused: no IAM call can
    tell it from a key that stayed retired, so it is deleted on the original schedule.
    Re-enabled, used and disabled again: kept. What the documents say of it:
    ``tests/repo/test_lifecycle_docs.py``."""
    retire, delete = sample(LIFECYCLE, RETIRE_NAME), sample(LIFECYCLE, DELETE_NAME)
    with LocalIAM(aws_like_report=False) as local:
        IamEdges.install(local)
        ids = local.seed(
            [UserSpec("flipped", [KeySpec(400, 200)]), UserSpec("used", [KeySpec(400, 200)])]
        )
        custodian(local, retire, day(tmp_path, 0)).assert_clean()
        iam = local.client()
        for user in ("flipped", "used"):
            key = ids[user][0]
            iam.update_access_key(UserName=user, AccessKeyId=key, Status="Active")
            if user == "used":
                local.use_key(user, key)
            iam.update_access_key(UserName=user, AccessKeyId=key, Status="Inactive")
            backdate_record(local, user, key, 31)
        run = custodian(local, delete, day(tmp_path, 31))
        states = local.key_states()

    run.assert_clean()
    assert states == {"flipped": {}, "used": {ids["used"][0]: "Inactive"}}


# --- also: retire-keys cleans records of keys that are gone ---


def test_retire_keys_removes_the_records_of_keys_that_are_gone(tmp_path):
    """A retired key deleted by hand, then the user's new key goes stale and is retired: that
    run removes the gone key's record, as restore and delete do, saying why."""
    retire = sample(LIFECYCLE, RETIRE_NAME)
    with LocalIAM(aws_like_report=False) as local:
        IamEdges.install(local)
        (old,) = local.seed([UserSpec("rotated", [KeySpec(400, 200)])])["rotated"]
        custodian(local, retire, day(tmp_path, 0)).assert_clean()
        local.client().delete_access_key(UserName="rotated", AccessKeyId=old)
        new = add_key(local, "rotated", KeySpec(200, 120))
        run = custodian(local, retire, day(tmp_path, 1))
        found = records(local)

    run.assert_clean()
    assert set(found["rotated"]) == {new}, f"the record of the gone key {old} stayed"
    assert ("UntagUser", "rotated", old) in key_changes(run)
    assert outcomes(run, RETIRE_NAME, RETIRE_RESULTS) == {
        ("rotated", new): "retired",
        ("rotated", old): "record-removed",
    }
