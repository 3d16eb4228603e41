"""End to end: the stock ``custodian run`` CLI against a local IAM endpoint ("nothing lost").

Each run is a real ``custodian`` subprocess (the console script beside this interpreter,
which sees the filter through the installed start-up hook) talking to ``LocalIAM`` on
127.0.0.1. Keys are seeded relative to the real clock: a frozen clock does not reach a
subprocess. ``LocalIAM.calls`` logs every request the server gets, so the tests assert the
exact mutating calls, not only the end state.

The story of each scenario: the report policy runs (the credential report is generated
then), keys change (one deleted, two rotated, one used again), then the remediation policy
runs. Every scenario runs against two endpoints:

- ``aws-like``: the report is a snapshot kept up to 4 hours, as on AWS, so the remediation
  judges an older report and the live API must overrule it for every changed key;
- ``unmodified-moto``: moto's own report, as LocalStack serves it: dated 2015-02-02 and
  rebuilt on every read. The plugin must use it as served, without polling for a younger
  one.
"""

from __future__ import annotations

import csv
import io
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

from tests.support.localiam import Call, KeySpec, LocalIAM, UserSpec
from tests.support.paths import REPO
from tests.support.stock_cli import environment

ROOT = REPO
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
    # Stale in the report; used again before the remediation runs.
    UserSpec("used-after-report", [KeySpec(400, 200)]),
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
    ("used-after-report", 1),
}
# Why the live API overrules the report for each key changed after it.
CHANGED_AFTER_REPORT = {
    "deleted-after-report": "deleted or replaced since the report",
    "rotated-deactivated": "disabled since the report",
    "rotated-deleted": "deleted or replaced since the report",
    "used-after-report": "used since the report",
}
# What the remediation may touch: the reported keys that still exist, unchanged.
TO_REMOVE = {(user, slot) for user, slot in REPORTED if user not in CHANGED_AFTER_REPORT}
FLAGGED_USERS = {user for user, _ in REPORTED}
SEEDED = {spec.name: spec for spec in ACCOUNT}


def sample_policy(name: str, **action: object) -> dict:
    """A shipped sample policy, as shipped (the default report_delay included)."""
    (policy,) = yaml.safe_load((ROOT / "policies" / name).read_text())["policies"]
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
        env=environment(local, tmp),
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
    """Change keys after the report: one deleted, two rotated, one used. Returns new IDs."""
    iam = local.client()
    local.use_key("used-after-report", ids["used-after-report"][0])
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
    aws_like: bool  # the report is a snapshot (else: moto's own, always current)
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


@pytest.fixture(scope="module", params=[True, False], ids=["aws-like-report", "unmodified-moto"])
def disable_story(request, tmp_path_factory) -> Story:
    """Report; change keys; remediation with --dryrun; remediation; remediation again."""
    tmp = tmp_path_factory.mktemp("disable")
    # --cache-period 0: every run lists users afresh and gets the report from the server.
    no_cache = ("--cache-period", "0")
    with LocalIAM(aws_like_report=request.param) as local:
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
            aws_like=request.param,
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
    # resolve-key-ids reads the keys of flagged users only, and each active key's last use.
    listed = story.report.operations("ListAccessKeys")
    assert sorted(c.params["UserName"] for c in listed) == sorted(FLAGGED_USERS)
    read = story.report.operations("GetAccessKeyLastUsed")
    assert sorted(c.params["AccessKeyId"] for c in read) == sorted(
        key
        for user in FLAGGED_USERS
        for key, spec in zip(story.ids[user], SEEDED[user].keys, strict=True)
        if spec.active
    )
    # Each key is marked as checked against the live API.
    verified = [k["verified"] for r in story.report.resources for k in r["c7n:unused-keys"]]
    assert verified == [True] * len(REPORTED)
    # The report was made at the first run's request: once, and used as served.
    assert [c.action for c in story.report.calls if "CredentialReport" in c.action] == [
        "GetCredentialReport",
        "GenerateCredentialReport",
        "GetCredentialReport",
    ]


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


def test_remediation_reads_live_only_the_users_the_report_flags(disable_story):
    story = disable_story
    reports = [c.action for c in story.remediation.calls if "CredentialReport" in c.action]
    listed = sorted(c.params["UserName"] for c in story.remediation.operations("ListAccessKeys"))
    if story.aws_like:
        # The snapshot was fresh, so it was read, not regenerated: it predates the changes,
        # and still flags the users whose keys changed since.
        assert reports == ["GetCredentialReport"]
        assert listed == sorted(FLAGGED_USERS)
    else:
        # moto's report is dated 2015: asked for again, and used as served (current).
        assert reports == ["GetCredentialReport", "GenerateCredentialReport", "GetCredentialReport"]
        assert listed == sorted(FLAGGED_USERS - CHANGED_AFTER_REPORT.keys())
    # Users whose stale keys changed since the report do not match.
    assert story.remediation.users.keys() == FLAGGED_USERS - CHANGED_AFTER_REPORT.keys()


def test_keys_changed_after_the_report_are_left_alone(disable_story):
    story = disable_story
    for user, why in CHANGED_AFTER_REPORT.items():
        assert user not in story.remediation.users
        assert story.after_remediation[user] == story.after_changes[user]
        if story.aws_like:
            # Stale in the report, cleared by the live API: no action, no notice; logged.
            (first,) = story.report.users[user]["c7n:unused-keys"]
            assert (
                f"user {user}: key slot 1 (created {first['last_rotated']}), stale by the "
                f"report, is not stale by the live API: {why}"
            ) in story.remediation.log
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
    # The disabled keys are still active in the AWS-like (older) report, not in the API.
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


# --- source: credential-report, and the tag-based exemption, with the stock CLIs ---

LARGE = sample_policy("access-key-unused-large-accounts.yml")
EXEMPT = sample_policy("access-key-unused-exemptions.yml")
EXEMPT_USER = "break-glass"
ACCOUNT_WITH_EXEMPTION = (*ACCOUNT, UserSpec(EXEMPT_USER, [KeySpec(400, 200)]))


@pytest.mark.parametrize("aws_like", [True, False], ids=["aws-like-report", "unmodified-moto"])
def test_report_source_makes_the_report_calls_only(tmp_path, aws_like):
    with LocalIAM(aws_like_report=aws_like) as local:
        ids = local.seed(ACCOUNT)
        run = custodian(local, LARGE, tmp_path)
        printed = subprocess.run(
            [str(CUSTODIAN.parent / "custodian"), "report", "-s", str(tmp_path / "out")]
            + ["--format", "csv", "--field", 'Slots=list:"c7n:unused-keys"[].slot']
            + [str(tmp_path / f"{LARGE['name']}.yml")],
            env=environment(local, tmp_path),
            capture_output=True,
            text=True,
            timeout=120,
        )

    assert_clean(run)
    # The report is the listing: no ListUsers, no GetUser, no key call; the report was made
    # at this run's request and used as served.
    assert [c.action for c in run.calls if c.service == "iam"] == [
        "GetCredentialReport",
        "GenerateCredentialReport",
        "GetCredentialReport",
    ]
    found = {(user, k["slot"]) for user, r in run.users.items() for k in r["c7n:unused-keys"]}
    assert found == REPORTED
    some = run.users["used-200-days-ago"]
    assert some["Arn"].endswith(":user/used-200-days-ago") and some["Path"] == "/"
    # The user's creation time (seeded as its oldest key's), from user_creation_time.
    created = datetime.fromisoformat(some["CreateDate"])
    assert abs(created - (datetime.now(timezone.utc) - timedelta(days=400))) < timedelta(hours=1)
    assert ids["used-200-days-ago"]
    # custodian report reads the findings the same way as with the default source.
    assert printed.returncode == 0, printed.stderr
    rows = list(csv.DictReader(io.StringIO(printed.stdout)))
    assert {(row["UserName"], row["Slots"]) for row in rows} == {
        (user, ", ".join(str(s) for u, s in sorted(REPORTED) if u == user))
        for user in FLAGGED_USERS
    }


@pytest.mark.parametrize("source", ["describe", "credential-report"])
def test_tagged_users_are_exempt_on_either_source(tmp_path, source):
    policy = dict(EXEMPT, source=source)
    with LocalIAM() as local:
        ids = local.seed(ACCOUNT_WITH_EXEMPTION)
        local.client().tag_user(
            UserName=EXEMPT_USER, Tags=[{"Key": "keyage-exempt", "Value": "break-glass"}]
        )
        before = local.key_states()
        # Cache off: each run's GetUser calls are compared with a fresh listing's.
        dryrun = custodian(local, policy, tmp_path, "--cache-period", "0", "--dryrun")
        after_dryrun = local.key_states()
        run = custodian(local, policy, tmp_path, "--cache-period", "0")
        after = local.key_states()

    assert_clean(dryrun)
    assert_clean(run)
    assert dryrun.operations(*MUTATING) == [] and after_dryrun == before
    assert EXEMPT_USER not in run.users
    disabled = key_ids(ids, REPORTED)
    assert sorted(c.params["AccessKeyId"] for c in run.operations("UpdateAccessKey")) == sorted(
        disabled
    )
    assert after[EXEMPT_USER] == before[EXEMPT_USER]
    details = sorted(c.params["UserName"] for c in run.operations("GetUser"))
    if source == "credential-report":
        # Tags only for the users flagged (the exempt one among them), none for the others.
        assert details == sorted(FLAGGED_USERS | {EXEMPT_USER})
        assert run.operations("ListUsers") == []
    else:
        assert details == sorted(user.name for user in ACCOUNT_WITH_EXEMPTION)
