"""End to end: the stock ``custodian run`` CLI against a local IAM endpoint ("nothing lost").

Each run is a real ``custodian`` subprocess (the console script beside this interpreter,
which sees the filter through the installed start-up hook) talking to ``LocalIAM`` on
127.0.0.1. Keys are seeded relative to the real clock: a frozen clock does not reach a
subprocess. ``LocalIAM.calls`` logs every request the server gets, so the tests assert the
exact mutating calls, not only the end state.

The story of each scenario: the report policy runs (the credential report is generated
then), keys change (one deleted, two rotated), then the remediation policy runs on that
older report, as happens on AWS where a report lives up to 4 hours. The filter must join
the report's stale keys to the keys that exist now and leave every changed key alone.
"""

from __future__ import annotations

import json
import pathlib
import subprocess
import sys
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

import pytest
import time_machine
import yaml
from moto.iam.responses import IamResponse

from demo.localiam import Call, KeySpec, LocalIAM, UserSpec

ROOT = pathlib.Path(__file__).resolve().parent.parent
CUSTODIAN = pathlib.Path(sys.executable).parent / "custodian"
MUTATING = {"UpdateAccessKey", "DeleteAccessKey", "CreateAccessKey"}

ACCOUNT = (
    UserSpec("used-yesterday", [KeySpec(30, 1)]),
    UserSpec("used-200-days-ago", [KeySpec(400, 200)]),
    # Never used: 90 days of grace from creation.
    UserSpec("never-used-89-days", [KeySpec(89, None)]),
    UserSpec("never-used-91-days", [KeySpec(91, None)]),
    # Slot 1 is the NEWER key; only slot 2 is stale.
    UserSpec("two-keys-slot-1-newer", [KeySpec(20, 2), KeySpec(300, 150)]),
    UserSpec("two-stale-keys", [KeySpec(500, 300), KeySpec(200, 100)]),
    # A stale key that is inactive is never flagged.
    UserSpec("stale-inactive-fresh-active", [KeySpec(300, 250, active=False), KeySpec(5, 1)]),
    # Stale in the report, then changed before the remediation runs (see mutate()).
    UserSpec("deleted-after-report", [KeySpec(400, 200), KeySpec(20, 2)]),
    UserSpec("rotated-deactivated", [KeySpec(400, 200)]),
    UserSpec("rotated-deleted", [KeySpec(300, 120)]),
)
# (user, slot) of the keys the report flags.
REPORTED = {
    ("used-200-days-ago", 1),
    ("never-used-91-days", 1),
    ("two-keys-slot-1-newer", 2),
    ("two-stale-keys", 1),
    ("two-stale-keys", 2),
    ("deleted-after-report", 1),
    ("rotated-deactivated", 1),
    ("rotated-deleted", 1),
}
CHANGED_AFTER_REPORT = {"deleted-after-report", "rotated-deactivated", "rotated-deleted"}
# What the remediation may touch: the reported keys that still exist, unchanged.
TO_REMOVE = {(user, slot) for user, slot in REPORTED if user not in CHANGED_AFTER_REPORT}
FLAGGED_USERS = {user for user, _ in REPORTED}


def sample_policy(name: str, **action: object) -> dict:
    """A shipped sample policy with report_delay: 0 (nothing to wait for locally)."""
    (policy,) = yaml.safe_load((ROOT / "policies" / name).read_text())["policies"]
    policy["filters"][0]["report_delay"] = 0
    for spec in policy.get("actions", ()):
        spec.update(action)
    return policy


REPORT = sample_policy("access-key-unused-report.yml")
REPORT["filters"][0]["resolve-key-ids"] = True
DISABLE = sample_policy("access-key-unused-disable.yml")
DELETE = dict(sample_policy("access-key-unused-disable.yml", disable=False), name="delete-keys")


@dataclass
class Run:
    returncode: int
    log: str
    resources: list[dict]
    calls: list[Call]

    def operations(self, *names: str) -> list[Call]:
        return [call for call in self.calls if call.action in names]

    @property
    def users(self) -> dict[str, dict]:
        return {r["UserName"]: r for r in self.resources}


def custodian(local: LocalIAM, policy: dict, tmp: pathlib.Path, *options: str) -> Run:
    """Run the stock CLI on one policy; log the server's calls made by this run only."""
    path = tmp / f"{policy['name']}.yml"
    path.write_text(yaml.safe_dump({"policies": [policy]}))
    out = tmp / "out"
    resources = out / policy["name"] / "resources.json"
    resources.unlink(missing_ok=True)  # never read an earlier run's output
    local.clear_calls()
    result = subprocess.run(
        [str(CUSTODIAN), "run", "-s", str(out), *options, str(path)],
        env=local.env(),
        capture_output=True,
        text=True,
        timeout=120,
    )
    return Run(
        result.returncode,
        result.stderr,
        json.loads(resources.read_text()) if resources.exists() else [],
        local.calls,
    )


def mutate(local: LocalIAM, ids: dict[str, list[str]]) -> dict[str, str]:
    """Change keys after the report: one deleted, two rotated. Returns the new key IDs."""
    iam = local.client()
    # Deleted: the stale key is gone; the user's fresh slot 2 key stays.
    user = "deleted-after-report"
    iam.delete_access_key(UserName=user, AccessKeyId=ids[user][0])
    new = {}
    # Rotated: a new key is created, then the old one is deactivated or deleted.
    for user in ("rotated-deactivated", "rotated-deleted"):
        new[user] = iam.create_access_key(UserName=user)["AccessKey"]["AccessKeyId"]
    iam.update_access_key(
        UserName="rotated-deactivated", AccessKeyId=ids["rotated-deactivated"][0], Status="Inactive"
    )
    # With its old key deleted, the new key sits in slot 1, where the report's stale key was.
    iam.delete_access_key(UserName="rotated-deleted", AccessKeyId=ids["rotated-deleted"][0])
    return new


def key_ids(ids: dict[str, list[str]], keys: set[tuple[str, int]]) -> set[str]:
    return {ids[user][slot - 1] for user, slot in keys}


def assert_clean(run: Run) -> None:
    """Exit 0 and nothing logged at ERROR: no fault aborted any part of the run."""
    assert run.returncode == 0, run.log
    assert ":ERROR " not in run.log and "Traceback" not in run.log, run.log


@dataclass
class Story:
    ids: dict[str, list[str]]  # seeded key IDs, in slot order
    new_ids: dict[str, str]  # keys created by the rotations
    before: dict  # key states as seeded
    after_changes: dict  # ... once keys were deleted and rotated after the report
    report: Run
    dryrun: Run
    after_dryrun: dict
    remediation: Run
    after_remediation: dict
    again: Run
    after_again: dict


@pytest.fixture(scope="module")
def disable_story(tmp_path_factory) -> Story:
    """Report; change keys; remediation with --dryrun; remediation; remediation again."""
    tmp = tmp_path_factory.mktemp("disable")
    # --cache-period 0: every run lists users afresh and gets the report from the server.
    no_cache = ("--cache-period", "0")
    with LocalIAM() as local:
        ids = local.seed(ACCOUNT)
        before = local.key_states()
        report = custodian(local, REPORT, tmp, *no_cache)
        new_ids = mutate(local, ids)
        after_changes = local.key_states()
        dryrun = custodian(local, DISABLE, tmp, *no_cache, "--dryrun")
        after_dryrun = local.key_states()
        remediation = custodian(local, DISABLE, tmp, *no_cache)
        after_remediation = local.key_states()
        again = custodian(local, DISABLE, tmp, *no_cache)
        return Story(
            ids=ids,
            new_ids=new_ids,
            before=before,
            after_changes=after_changes,
            report=report,
            dryrun=dryrun,
            after_dryrun=after_dryrun,
            remediation=remediation,
            after_remediation=after_remediation,
            again=again,
            after_again=local.key_states(),
        )


def test_report_flags_the_stale_keys_and_changes_nothing(disable_story):
    story = disable_story
    assert_clean(story.report)
    found = {
        (user, key["slot"]): key.get("access_key_id")
        for user, resource in story.report.users.items()
        for key in resource["c7n:unused-keys"]
    }
    # Each flagged key, resolved to its own ID (slot 2 of a user whose slot 1 is newer too).
    assert found == {key: story.ids[key[0]][key[1] - 1] for key in REPORTED}
    assert story.report.operations(*MUTATING) == []
    # resolve-key-ids lists the keys of flagged users only.
    listed = story.report.operations("ListAccessKeys")
    assert sorted(c.params["UserName"] for c in listed) == sorted(FLAGGED_USERS)


def test_dryrun_makes_no_mutating_call(disable_story):
    story = disable_story
    assert_clean(story.dryrun)
    assert story.dryrun.operations(*MUTATING) == []
    assert story.after_dryrun == story.after_changes
    # It still judges: the same users match as in the real run.
    assert story.dryrun.users.keys() == story.remediation.users.keys()


def test_remediation_disables_exactly_the_flagged_keys(disable_story):
    story = disable_story
    assert_clean(story.remediation)
    disabled = key_ids(story.ids, TO_REMOVE)
    updates = story.remediation.operations("UpdateAccessKey")
    assert sorted(c.params["AccessKeyId"] for c in updates) == sorted(disabled)
    assert {c.params["Status"] for c in updates} == {"Inactive"}
    assert story.remediation.operations("DeleteAccessKey", "CreateAccessKey") == []
    expected = {
        user: {key: "Inactive" if key in disabled else status for key, status in keys.items()}
        for user, keys in story.after_changes.items()
    }
    assert story.after_remediation == expected


def test_remediation_uses_the_report_made_before_the_changes(disable_story):
    story = disable_story
    # The report was fresh, so it was read, not regenerated: it predates the changes.
    assert len(story.remediation.operations("GetCredentialReport")) == 1
    assert story.remediation.operations("GenerateCredentialReport") == []
    # Users whose stale keys changed since the report no longer match (see below).
    assert story.remediation.users.keys() == FLAGGED_USERS - CHANGED_AFTER_REPORT
    listed = story.remediation.operations("ListAccessKeys")
    assert sorted(c.params["UserName"] for c in listed) == sorted(FLAGGED_USERS)


def test_keys_changed_after_the_report_are_left_alone(disable_story):
    story = disable_story
    for user in CHANGED_AFTER_REPORT:
        # Stale in the report, but the listing (newer) shows no such active key: not
        # flagged, no action, no notice; logged.
        assert user not in story.remediation.users
        assert story.after_remediation[user] == story.after_changes[user]
        assert (
            f"user {user}: key slot(s) [1] deleted, disabled or replaced since the report"
            in story.remediation.log
        )
    # The rotations' new keys (the deleted one's successor sits in slot 1) stay active.
    assert sorted(story.new_ids) == ["rotated-deactivated", "rotated-deleted"]
    for user, key in story.new_ids.items():
        assert story.after_remediation[user][key] == "Active"


def test_every_key_not_flagged_is_exactly_as_before(disable_story):
    story = disable_story
    untouched = {
        (user, key): status
        for user, keys in story.before.items()
        for key, status in keys.items()
        if user not in CHANGED_AFTER_REPORT and key not in key_ids(story.ids, TO_REMOVE)
    }
    assert untouched == {(user, key): story.after_remediation[user][key] for user, key in untouched}
    # Users with no flagged key do not match at all.
    assert "stale-inactive-fresh-active" not in story.remediation.users
    assert "never-used-89-days" not in story.remediation.users


def test_second_run_changes_nothing(disable_story):
    story = disable_story
    assert_clean(story.again)
    assert story.again.operations(*MUTATING) == []
    assert story.after_again == story.after_remediation
    # The disabled keys are still active in the (older) report, but not in the listing.
    assert story.again.resources == []


def test_delete_with_a_cached_report_removes_exactly_the_flagged_keys(tmp_path):
    """``disable: false``, with users and report from a private ``--cache`` file.

    The report policy fills the cache; the remediation then takes both the user list and
    the report from it (as two policies in one ``custodian run`` within the cache period
    would), and only lists the flagged users' keys afresh.
    """
    cache = ["--cache", str(tmp_path / "custodian.cache")]
    with LocalIAM() as local:
        ids = local.seed(ACCOUNT)
        report = custodian(local, REPORT, tmp_path, *cache)
        new_ids = mutate(local, ids)
        after_changes = local.key_states()
        deletion = custodian(local, DELETE, tmp_path, *cache)
        after = local.key_states()

    assert_clean(report)
    assert_clean(deletion)
    assert deletion.operations("ListUsers", "GetUser", "GetCredentialReport") == []
    listed = deletion.operations("ListAccessKeys")
    assert sorted(c.params["UserName"] for c in listed) == sorted(FLAGGED_USERS)
    deleted = key_ids(ids, TO_REMOVE)
    deletes = deletion.operations("DeleteAccessKey")
    assert sorted(c.params["AccessKeyId"] for c in deletes) == sorted(deleted)
    assert deletion.operations("UpdateAccessKey", "CreateAccessKey") == []
    expected = {
        user: {key: status for key, status in keys.items() if key not in deleted}
        for user, keys in after_changes.items()
    }
    assert after == expected
    assert sorted(new_ids) == ["rotated-deactivated", "rotated-deleted"]
    for user, key in new_ids.items():
        assert after[user][key] == "Active"


def test_local_report_behaves_as_on_aws():
    """The endpoint's credential report is a snapshot stamped with its generation time.

    The scenarios above rely on it: moto itself stamps every report 2015-02-02 (too old for
    any report_max_age) and rebuilds it on each read, so no report could predate a change.
    """
    moto_get = IamResponse.get_credential_report
    start = datetime(2026, 3, 1, 12, 0, tzinfo=timezone.utc)
    with time_machine.travel(start, tick=False) as clock, LocalIAM() as local:
        ids = local.seed([UserSpec("someone", [KeySpec(100, 100)])])
        iam = local.client()
        local.clear_calls()
        assert iam.generate_credential_report()["State"] == "STARTED"
        first = iam.get_credential_report()
        assert first["GeneratedTime"] == start
        assert b"someone" in first["Content"]
        iam.delete_access_key(UserName="someone", AccessKeyId=ids["someone"][0])
        clock.shift(timedelta(hours=3))
        # Within 4 hours AWS keeps the report it has: the deleted key is still in it.
        assert iam.generate_credential_report()["State"] == "COMPLETE"
        kept = iam.get_credential_report()
        assert (kept["GeneratedTime"], kept["Content"]) == (start, first["Content"])
        clock.shift(timedelta(hours=2))
        iam.generate_credential_report()
        later = iam.get_credential_report()
        assert later["GeneratedTime"] == start + timedelta(hours=5)
        assert later["Content"] != first["Content"]
        assert [(c.service, c.action) for c in local.calls] == [
            ("iam", "GenerateCredentialReport"),
            ("iam", "GetCredentialReport"),
            ("iam", "DeleteAccessKey"),
            ("iam", "GenerateCredentialReport"),
            ("iam", "GetCredentialReport"),
            ("iam", "GenerateCredentialReport"),
            ("iam", "GetCredentialReport"),
        ]
        assert local.calls[2].params == {"UserName": "someone", "AccessKeyId": ids["someone"][0]}
    # moto's own behaviour is back once the endpoint stops.
    assert IamResponse.get_credential_report is moto_get
