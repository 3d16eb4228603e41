"""The key lifecycle end to end: the stock ``custodian`` and ``c7n-org`` CLIs, and the Lambda
handler, on an unmodified moto server, running the shipped sample policies.

Retire (disable and record), restore in one step, delete after the grace; keys re-enabled,
deleted or used by hand in between; failures between the two calls of ``retire-keys``;
``--dryrun``; both sources. Every run uses c7n's default cache (a 15-minute file under a
``HOME`` of the test's own, ``tests/support/stock_cli.py``). A run on a later "day" gets a ``HOME``
of its own: a daily run does not find the cache of a run a month before. The records are
backdated by rewriting their tags with ``TagUser`` on the local endpoint, as anyone allowed
``iam:TagUser`` could (``docs/keyage-tag-guard-scp.json`` reserves that to Custodian).

Each test asserts the API calls made and not made (``LocalIAM.calls``), the key states
after, the records on the users, ``resources.json`` (``c7n:retired-keys``) and the
``action-<name>`` files c7n writes from what each action returns.
"""

from __future__ import annotations

import pathlib
import re
import subprocess
from collections import Counter
from datetime import datetime, timedelta, timezone

import pytest
import yaml

from tests.support.lambda_runner import build, invoke, load_lambda
from tests.support.lifecycle_e2e import KEY_CALLS, PREFIX, backdate_record, key_changes
from tests.support.localiam import KeySpec, LocalIAM, UserSpec
from tests.support.paths import REPO
from tests.support.stock_cli import CUSTODIAN, Run, c7n_org, custodian, environment

ROOT = REPO
SOURCES = ["describe", "credential-report"]


def sample(file: str, name: str, source: str = "describe") -> dict:
    """One policy of a shipped sample file, as shipped (on ``source``)."""
    policies = yaml.safe_load((ROOT / "policies" / file).read_text())["policies"]
    (policy,) = [p for p in policies if p["name"] == name]
    return policy if source == "describe" else dict(policy, source=source)


LIFECYCLE = "access-key-lifecycle.yml"
RETIRE_NAME = "iam-access-key-lifecycle-retire-90"
DELETE_NAME = "iam-access-key-lifecycle-delete-30"
RESTORE_FILE = "access-key-lifecycle-restore.yml"
RESTORE_DAY_NAME = "iam-access-key-lifecycle-restore-last-day"
RESTORE_USER_NAME = "iam-access-key-lifecycle-restore-user"
# c7n names an action's results file after its class: action-<class name, lower case>.
RETIRE_RESULTS, RESTORE_RESULTS, DELETE_RESULTS = "retirekeys", "restorekeys", "deleteretiredkeys"

ACCOUNT = (
    UserSpec("fresh", [KeySpec(30, 1)]),
    UserSpec("stale", [KeySpec(400, 200)]),
    UserSpec("never-used", [KeySpec(200, None)]),
    # Slot 1 is the newer, fresh key; only slot 2 is stale.
    UserSpec("one-stale-of-two", [KeySpec(20, 2), KeySpec(300, 150)]),
    # Inactive already: never flagged, never retired.
    UserSpec("inactive-old", [KeySpec(300, 250, active=False)]),
    # Its own tags stay as they are.
    UserSpec("tagged", [KeySpec(400, 120)], {"team": "payments"}),
)
# (user, slot) of the keys the 90-day retirement retires.
STALE = {("stale", 1), ("never-used", 1), ("one-stale-of-two", 2), ("tagged", 1)}


def keys(ids: dict[str, list[str]], slots: set[tuple[str, int]]) -> set[tuple[str, str]]:
    return {(user, ids[user][slot - 1]) for user, slot in slots}


def records(local: LocalIAM, account: str | None = None) -> dict[str, dict[str, str]]:
    """``{user: {key id: record value}}`` of every user with a retirement record."""
    iam = local.client("iam", account)
    found = {}
    for page in iam.get_paginator("list_users").paginate():
        for user in page["Users"]:
            tags = iam.list_user_tags(UserName=user["UserName"])["Tags"]
            mine = {
                t["Key"][len(PREFIX) :]: t["Value"] for t in tags if t["Key"].startswith(PREFIX)
            }
            if mine:
                found[user["UserName"]] = mine
    return found


def outcomes(run: Run, policy: str, action: str, *parts: str) -> dict[tuple[str, str], str]:
    results = run.action_results(policy, action, *parts) or []
    assert all(set(r) == {"UserName", "AccessKeyId", "outcome", "reason"} for r in results)
    return {(r["UserName"], r["AccessKeyId"]): r["outcome"] for r in results}


def retired_entries(run: Run, policy: str, *parts: str) -> dict[tuple[str, str], dict]:
    return {
        (r["UserName"], e["access_key_id"]): e
        for r in run.resources(policy, *parts)
        for e in r.get("c7n:retired-keys", ())
    }


def day(tmp: pathlib.Path, n: int) -> pathlib.Path:
    """The working directory (and so the HOME, and c7n's cache) of the runs of day ``n``."""
    path = tmp / f"day-{n}"
    path.mkdir(exist_ok=True)
    return path


def stamp() -> datetime:
    return datetime.now(timezone.utc).replace(microsecond=0)


TIME = r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ"


def assert_record(value: str, policy: str, start: datetime, end: datetime, seen: str) -> None:
    """``<UTC time to the second>Z <policy> last-used=<seen>``, timed within the run."""
    when, name, last = value.split(" ")
    assert re.fullmatch(TIME, when), value
    assert name == policy and last == f"last-used={seen}", value
    assert start <= datetime.fromisoformat(when) <= end, (value, start, end)


def last_use(local: LocalIAM, key_id: str) -> str:
    """The key's last use as a record writes it: a UTC time to the second, or never."""
    used = local.client().get_access_key_last_used(AccessKeyId=key_id)["AccessKeyLastUsed"]
    when = used.get("LastUsedDate")
    return "never" if when is None else when.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def pairs(changes: list[tuple[str, str, str]]) -> list[tuple[tuple, tuple]]:
    assert len(changes) % 2 == 0, changes
    return list(zip(changes[::2], changes[1::2], strict=True))


# --- retire, then restore in one step ---


@pytest.mark.parametrize("source", SOURCES)
def test_retire_then_restore_in_one_step(tmp_path, source):
    retire = sample(LIFECYCLE, RETIRE_NAME, source)
    restore = sample(RESTORE_FILE, RESTORE_DAY_NAME)
    today = day(tmp_path, 0)
    with LocalIAM(aws_like_report=False) as local:
        ids = local.seed(ACCOUNT)
        before = local.key_states()
        dry = custodian(local, retire, today, "--dryrun")
        after_dry = (local.key_states(), records(local))
        start = stamp()
        retired = custodian(local, retire, today)
        end = stamp()
        after_retire = (local.key_states(), records(local))
        seen = {key: last_use(local, key) for _, key in keys(ids, STALE)}
        again = custodian(local, retire, today)
        dry_restore = custodian(local, restore, today, "--dryrun")
        after_dry_restore = (local.key_states(), records(local))
        restored = custodian(local, restore, today)
        after_restore = (
            local.key_states(),
            records(local),
            local.client().list_user_tags(UserName="tagged")["Tags"],
        )
        restore_again = custodian(local, restore, today)

    expected = keys(ids, STALE)
    check_retire_dry_run(dry, after_dry, before, expected)
    found = check_retired(retired, after_retire, before, expected, (start, end, seen))
    # The retired keys are inactive: a second run finds nothing to retire.
    again.assert_clean()
    assert again.operations(*KEY_CALLS) == []
    assert again.resources(RETIRE_NAME) == []
    check_restore_dry_run(dry_restore, after_dry_restore, after_retire, expected, found)
    check_restored(restored, after_restore, before, expected)
    restore_again.assert_clean()
    assert restore_again.operations(*KEY_CALLS) == []
    assert restore_again.resources(RESTORE_DAY_NAME) == []


def check_retire_dry_run(dry: Run, after: tuple, before: dict, expected: set) -> None:
    """--dryrun: nothing changed, and each key it would retire is named."""
    dry.assert_clean()
    assert dry.operations(*KEY_CALLS) == []
    assert after == (before, {})
    for user, key in expected:
        assert f"dryrun: would retire user {user} key {key}: " in dry.log, dry.log
    assert dry.action_results(RETIRE_NAME, RETIRE_RESULTS) is None


def check_retired(retired: Run, after: tuple, before: dict, expected: set, when: tuple) -> dict:
    """Retire: per key, the record first, then the key disabled; exactly the stale keys.
    ``when`` is ``(start, end, {key: its last use})``. Returns the records written."""
    start, end, seen = when
    retired.assert_clean()
    steps = pairs(key_changes(retired))
    assert {(tag[1], tag[2]) for tag, _ in steps} == expected
    assert all(
        tag[0] == "TagUser" and update == ("UpdateAccessKey:Inactive", tag[1], tag[2])
        for tag, update in steps
    ), steps
    states, found = after
    assert states == {
        user: {k: "Inactive" if (user, k) in expected else s for k, s in ks.items()}
        for user, ks in before.items()
    }
    assert {(u, k) for u, ks in found.items() for k in ks} == expected
    for ks in found.values():
        for key, value in ks.items():
            assert_record(value, RETIRE_NAME, start, end, seen[key])
    assert {seen[k] == "never" for _, k in expected} == {True, False}
    assert outcomes(retired, RETIRE_NAME, RETIRE_RESULTS) == {k: "retired" for k in expected}
    # Two writes per key; the live check reads only the flagged users' keys; each user acted
    # on has its tags read once (for records of keys gone: none here).
    count, n, users = retired.count(), len(expected), len({u for u, _ in expected})
    assert (count["TagUser"], count["UpdateAccessKey"], count["ListUserTags"]) == (n, n, users)
    assert count["UntagUser"] == 0
    assert sorted(c.params["UserName"] for c in retired.operations("ListAccessKeys")) == sorted(
        {user for user, _ in expected}
    )
    return found


def check_restore_dry_run(dry: Run, after: tuple, retired: tuple, expected: set, found: dict):
    """The restore's dry run lists every record with the key's live state; changes nothing."""
    dry.assert_clean()
    assert dry.operations(*KEY_CALLS) == []
    assert after == retired
    entries = retired_entries(dry, RESTORE_DAY_NAME)
    assert set(entries) == expected
    for (user, key), entry in entries.items():
        assert entry["access_key_id"] == key
        assert entry["status"] == "Inactive" and entry["used_since_retired"] is False
        assert entry["policy"] == RETIRE_NAME
        assert entry["retired_at"] == found[user][key].split(" ")[0]


def check_restored(restored: Run, after: tuple, before: dict, expected: set) -> None:
    """Restore: per key, re-enabled, then its record removed; every key as seeded again."""
    restored.assert_clean()
    steps = pairs(key_changes(restored))
    assert {(update[1], update[2]) for update, _ in steps} == expected
    assert all(
        update[0] == "UpdateAccessKey:Active" and untag == ("UntagUser", update[1], update[2])
        for update, untag in steps
    ), steps
    states, found, tagged_tags = after
    assert states == before and found == {}
    assert tagged_tags == [{"Key": "team", "Value": "payments"}]
    assert outcomes(restored, RESTORE_DAY_NAME, RESTORE_RESULTS) == {
        k: "restored" for k in expected
    }
    # Every user's tags read once (users from c7n's cache, filled by the retirement run an
    # instant before); keys listed only for users with records, each recorded key's last
    # use read once; then two writes per key.
    assert restored.count() == Counter(
        ListUserTags=len(ACCOUNT),
        ListAccessKeys=len({user for user, _ in expected}),
        GetAccessKeyLastUsed=len(expected),
        UpdateAccessKey=len(expected),
        UntagUser=len(expected),
    )


def test_restore_one_users_keys_as_the_runbook_says(tmp_path):
    """docs/incident-runbook.md: edit the user name in the sample, run it with -p. Only
    that user's retired keys come back; every other record and key stays as it is."""
    path = ROOT / "policies" / RESTORE_FILE
    edited = path.read_text().replace("- UserName: ci-deployer", "- UserName: stale")
    assert edited != path.read_text()
    (tmp_path / "restore.yml").write_text(edited)
    with LocalIAM(aws_like_report=False) as local:
        ids = local.seed(ACCOUNT)
        custodian(local, sample(LIFECYCLE, RETIRE_NAME), tmp_path).assert_clean()
        retired = (local.key_states(), records(local))
        local.clear_calls()
        run = subprocess.run(
            [str(CUSTODIAN), "run", "-s", str(tmp_path / "out"), "-p", RESTORE_USER_NAME]
            + [str(tmp_path / "restore.yml")],
            env=environment(local, tmp_path),
            capture_output=True,
            text=True,
            timeout=300,
        )
        calls, after = local.calls, (local.key_states(), records(local))

    assert run.returncode == 0 and ":ERROR " not in run.stderr, run.stderr
    key = ids["stale"][0]
    changes = [(c.action, c.params["UserName"]) for c in calls if c.action in KEY_CALLS]
    assert changes == [("UpdateAccessKey", "stale"), ("UntagUser", "stale")]
    states, found = after
    assert states == {**retired[0], "stale": {key: "Active"}}
    assert found == {user: ks for user, ks in retired[1].items() if user != "stale"}
    # The other policy of the file did not run.
    assert not (tmp_path / "out" / RESTORE_DAY_NAME).exists()


# --- delete after the grace; keys changed by hand in between ---

GRACE_ACCOUNT = (
    *ACCOUNT,
    # Retired too, but its record is only 10 days old on the day of the deletion.
    UserSpec("retired-recently", [KeySpec(300, 120)]),
)


@pytest.mark.parametrize("source", SOURCES)
def test_delete_after_the_grace_and_only_what_stayed_retired(tmp_path, source):
    """Retired on day 0; the records rewritten as 31 days old (one as 10); meanwhile one key
    re-enabled by hand, one deleted by hand, one used. On day 31 only the key that stayed
    inactive and unused past the grace is deleted."""
    retire = sample(LIFECYCLE, RETIRE_NAME, source)
    delete = sample(LIFECYCLE, DELETE_NAME, source)
    with LocalIAM(aws_like_report=False) as local:
        ids = local.seed(GRACE_ACCOUNT)
        retired = custodian(local, retire, day(tmp_path, 0))
        hand = change_by_hand(local, ids)
        before = (local.key_states(), records(local))
        dry = custodian(local, delete, day(tmp_path, 31), "--dryrun")
        after_dry = (local.key_states(), records(local))
        deleted = custodian(local, delete, day(tmp_path, 31))
        after = (local.key_states(), records(local))
        again = custodian(local, delete, day(tmp_path, 32))
        after_again = (local.key_states(), records(local))

    retired.assert_clean()
    assert {(u, k) for _, u, k in key_changes(retired)} == keys(
        ids, STALE | {("retired-recently", 1)}
    )

    dry.assert_clean()
    assert dry.operations(*KEY_CALLS) == [] and after_dry == before

    if source == "describe":
        # Every user's records are read: the records of the keys changed by hand go.
        cleaned = {hand["reenabled"], hand["gone"]}
    else:
        # On the credential report, only users with an inactive key have their records
        # read: the re-enabled and the deleted keys left none, so their records stay.
        cleaned = set()
    check_deleted(deleted, hand, cleaned, source, before, after)
    # Nothing older than 30 days but the used key: kept again, nothing changed.
    again.assert_clean()
    assert again.operations(*KEY_CALLS) == []
    assert after_again == after
    assert outcomes(again, DELETE_NAME, DELETE_RESULTS) == {hand["used"]: "kept"}


def change_by_hand(local: LocalIAM, ids: dict) -> dict[str, tuple[str, str]]:
    """After the retirement, by hand: one key re-enabled, one deleted, one used; the
    records rewritten as 31 days old, one as 10. Returns the keys by their part."""
    hand = {
        "reenabled": ("never-used", ids["never-used"][0]),
        "gone": ("one-stale-of-two", ids["one-stale-of-two"][1]),
        "used": ("tagged", ids["tagged"][0]),
        "untouched": ("stale", ids["stale"][0]),
        "recent": ("retired-recently", ids["retired-recently"][0]),
    }
    iam = local.client()
    iam.update_access_key(
        UserName=hand["reenabled"][0], AccessKeyId=hand["reenabled"][1], Status="Active"
    )
    iam.delete_access_key(UserName=hand["gone"][0], AccessKeyId=hand["gone"][1])
    for part in ("reenabled", "gone", "used", "untouched"):
        backdate_record(local, *hand[part], 31)
    backdate_record(local, *hand["recent"], 10)
    local.use_key(*hand["used"], when=datetime.now(timezone.utc) - timedelta(days=5))
    return hand


def check_deleted(deleted: Run, hand: dict, cleaned: set, source: str, before, after) -> None:
    """Only the key that stayed inactive and unused past the grace is deleted; the records
    of keys changed by hand are removed where they are read (``cleaned``)."""
    reenabled, gone, used, untouched, recent = (
        hand[part] for part in ("reenabled", "gone", "used", "untouched", "recent")
    )
    deleted.assert_clean()
    states, found = after
    assert key_changes(deleted)[:2] == [("DeleteAccessKey", *untouched), ("UntagUser", *untouched)]
    assert sorted(key_changes(deleted)[2:]) == sorted(("UntagUser", u, k) for u, k in cleaned)
    read = sorted(c.params["UserName"] for c in deleted.operations("ListUserTags"))
    if source == "describe":
        assert read == sorted(u.name for u in GRACE_ACCOUNT)
    else:
        # Only the users with an inactive key in the (current) report have tags read.
        assert read == sorted([untouched[0], used[0], recent[0], "inactive-old"])
    recorded = {k for ks in before[1].values() for k in ks}
    assert {c.params["AccessKeyId"] for c in deleted.operations("GetAccessKeyLastUsed")} <= recorded
    assert states[untouched[0]] == {}
    assert states[reenabled[0]] == {reenabled[1]: "Active"}  # never deleted
    assert states[used[0]] == {used[1]: "Inactive"}  # used since retired: never deleted
    assert states[recent[0]] == {recent[1]: "Inactive"}  # within its grace
    kept = {used, recent} | ({reenabled, gone} - cleaned)
    assert {(u, k) for u, ks in found.items() for k in ks} == kept
    expected = {untouched: "deleted", used: "kept"} | {k: "record-removed" for k in cleaned}
    assert outcomes(deleted, DELETE_NAME, DELETE_RESULTS) == expected
    entries = retired_entries(deleted, DELETE_NAME)
    assert set(entries) == {untouched, used} | cleaned
    assert entries[untouched]["status"] == "Inactive"
    assert entries[untouched]["used_since_retired"] is False
    assert entries[used]["status"] == "Inactive" and entries[used]["used_since_retired"] is True
    if cleaned:
        assert entries[reenabled]["status"] == "Active"
        assert entries[gone]["status"] == "missing"


# --- failures between the two calls of retire-keys ---


def test_a_failed_disable_leaves_no_record(tmp_path):
    """TagUser succeeds, UpdateAccessKey fails: the record is removed again (UntagUser), the
    key stays active, the run says so; every other user is retired."""
    retire = sample(LIFECYCLE, RETIRE_NAME)
    with LocalIAM(aws_like_report=False) as local:
        ids = local.seed(ACCOUNT)
        local.fail("UpdateAccessKey", code="ServiceFailure", status=500, UserName="stale")
        run = custodian(local, retire, tmp_path)
        local.clear_faults()
        states, found = local.key_states(), records(local)

    failed = ("stale", ids["stale"][0])
    assert run.returncode == 0, run.log
    errors = [line for line in run.log.splitlines() if ":ERROR " in line]
    assert errors and all("stale" in line for line in errors), run.log
    changes = key_changes(run)
    mine = [c for c in changes if c[1:] == failed]
    # botocore retries a 5xx: every attempt answered the same.
    assert mine[0] == ("TagUser", *failed) and mine[-1] == ("UntagUser", *failed)
    assert set(mine[1:-1]) == {("UpdateAccessKey:Inactive", *failed)}
    assert states["stale"] == {failed[1]: "Active"}
    others = keys(ids, STALE) - {failed}
    assert {(u, k) for u, ks in found.items() for k in ks} == others
    assert all(states[u][k] == "Inactive" for u, k in others)
    assert outcomes(run, RETIRE_NAME, RETIRE_RESULTS) == {failed: "failed"} | {
        k: "retired" for k in others
    }


def test_a_failed_recovery_is_named_and_cleaned_up_later_without_touching_the_key(tmp_path):
    """UpdateAccessKey and the recovering UntagUser both fail: one ERROR line names the user,
    the key and the stray record; the next lifecycle run removes that record as "active
    again" and never touches the key."""
    retire = sample(LIFECYCLE, RETIRE_NAME)
    restore = sample(RESTORE_FILE, RESTORE_DAY_NAME)
    with LocalIAM(aws_like_report=False) as local:
        ids = local.seed(ACCOUNT)
        failed = ("stale", ids["stale"][0])
        local.fail("UpdateAccessKey", code="AccessDenied", status=403, UserName="stale")
        local.fail("UntagUser", code="AccessDenied", status=403, UserName="stale")
        run = custodian(local, retire, day(tmp_path, 0))
        local.clear_faults()
        stray = records(local)["stale"]
        later = custodian(local, restore, day(tmp_path, 1))
        states, found = local.key_states(), records(local)

    assert run.returncode == 0, run.log
    errors = [line for line in run.log.splitlines() if ":ERROR " in line]
    tag = PREFIX + failed[1]
    assert any("stale" in line and failed[1] in line and tag in line for line in errors), run.log
    assert stray == {failed[1]: stray[failed[1]]}
    assert outcomes(run, RETIRE_NAME, RETIRE_RESULTS)[failed] == "failed"

    later.assert_clean()
    # The stray record goes; the key, active all along, is not touched.
    assert ("UntagUser", *failed) in key_changes(later)
    assert [c for c in key_changes(later) if c[1:] == failed] == [("UntagUser", *failed)]
    assert outcomes(later, RESTORE_DAY_NAME, RESTORE_RESULTS)[failed] == "record-removed"
    assert states["stale"] == {failed[1]: "Active"}
    assert "stale" not in found


def test_a_failed_record_disables_nothing(tmp_path):
    """TagUser fails: the key is never disabled (a disabled key without its record could
    not be restored in one step), and the record is taken back (UntagUser), as a TagUser
    whose answer is lost may have written it."""
    retire = sample(LIFECYCLE, RETIRE_NAME)
    with LocalIAM(aws_like_report=False) as local:
        ids = local.seed(ACCOUNT)
        local.fail("TagUser", code="AccessDenied", status=403, UserName="stale")
        run = custodian(local, retire, tmp_path)
        local.clear_faults()
        states, found = local.key_states(), records(local)

    failed = ("stale", ids["stale"][0])
    assert run.returncode == 0, run.log
    assert "iam:TagUser" in run.log
    assert [c for c in key_changes(run) if c[1:] == failed] == [
        ("TagUser", *failed),
        ("UntagUser", *failed),
    ]
    assert states["stale"] == {failed[1]: "Active"} and "stale" not in found
    others = keys(ids, STALE) - {failed}
    assert {(u, k) for u, ks in found.items() for k in ks} == others
    assert outcomes(run, RETIRE_NAME, RETIRE_RESULTS)[failed] == "failed"


# --- c7n-org over two accounts ---

ORG = {"dev": "111111111111", "prod": "222222222222"}
ORG_USERS = {
    "dev": (
        UserSpec("dev-stale", [KeySpec(400, 200)]),
        UserSpec("dev-fresh", [KeySpec(30, 1)]),
        UserSpec("dev-two-keys", [KeySpec(20, 2), KeySpec(300, 150)]),
    ),
    "prod": (
        UserSpec("prod-abandoned", [KeySpec(200, None)]),
        UserSpec("prod-new", [KeySpec(10, None)]),
    ),
}
ORG_STALE = {"dev": {("dev-stale", 1), ("dev-two-keys", 2)}, "prod": {("prod-abandoned", 1)}}


def test_c7n_org_retires_and_restores_each_account_on_its_own(tmp_path):
    retire = sample(LIFECYCLE, RETIRE_NAME)
    restore = sample(RESTORE_FILE, RESTORE_DAY_NAME)
    with LocalIAM(aws_like_report=False) as local:
        ids = {name: local.seed(ORG_USERS[name], account_id=ORG[name]) for name in ORG}
        before = {name: local.key_states(ORG[name]) for name in ORG}
        retired = c7n_org(local, ORG, retire, tmp_path)
        after_retire = {
            name: (local.key_states(ORG[name]), records(local, ORG[name])) for name in ORG
        }
        restored = c7n_org(local, ORG, restore, tmp_path)
        after_restore = {
            name: (local.key_states(ORG[name]), records(local, ORG[name])) for name in ORG
        }

    retired.assert_clean()
    restored.assert_clean()
    for name in ORG:
        expected = keys(ids[name], ORG_STALE[name])
        states, found = after_retire[name]
        assert {(u, k) for u, ks in found.items() for k in ks} == expected
        assert {
            (u, k) for u, ks in states.items() for k, s in ks.items() if s == "Inactive"
        } == expected
        assert outcomes(retired, RETIRE_NAME, RETIRE_RESULTS, name, "us-east-1") == {
            k: "retired" for k in expected
        }
        assert set(retired_entries(restored, RESTORE_DAY_NAME, name, "us-east-1")) == expected
        assert outcomes(restored, RESTORE_DAY_NAME, RESTORE_RESULTS, name, "us-east-1") == {
            k: "restored" for k in expected
        }
        assert after_restore[name] == (before[name], {})
    # Two calls per key each way, whichever account: no key changed twice, none elsewhere.
    assert Counter(c[0] for c in key_changes(retired)) == {
        "TagUser": 3,
        "UpdateAccessKey:Inactive": 3,
    }
    assert Counter(c[0] for c in key_changes(restored)) == {
        "UpdateAccessKey:Active": 3,
        "UntagUser": 3,
    }


# --- the Lambda handler ---


def test_lambda_handler_retires_then_restores(tmp_path):
    output = tmp_path / "lambda-output"
    retire = build(load_lambda(sample(LIFECYCLE, RETIRE_NAME), output), tmp_path)
    restore_dir = tmp_path / "restore"
    restore_dir.mkdir()
    restore = build(load_lambda(sample(RESTORE_FILE, RESTORE_DAY_NAME), output), restore_dir)
    with LocalIAM(aws_like_report=False) as local:
        ids = local.seed(ACCOUNT)
        before = local.key_states()
        retired, retire_calls = invoke(retire, tmp_path, local)
        after_retire = (local.key_states(), records(local))
        restored, restore_calls = invoke(restore, restore_dir, local)
        after_restore = (local.key_states(), records(local))

    expected = keys(ids, STALE)
    assert retired.returncode == 0, retired.stderr
    states, found = after_retire
    assert {(u, k) for u, ks in found.items() for k in ks} == expected
    assert {(u, k) for u, ks in states.items() for k, s in ks.items() if s == "Inactive"} == (
        expected | keys(ids, {("inactive-old", 1)})
    )
    # Two invocations, as a warm container: the second finds the keys retired already.
    retire_changes = [c.action for c in retire_calls if c.action in KEY_CALLS]
    assert Counter(retire_changes) == {"TagUser": len(expected), "UpdateAccessKey": len(expected)}
    results = output / RETIRE_NAME / f"action-{RETIRE_RESULTS}"
    assert {
        (r["UserName"], r["AccessKeyId"]) for r in yaml.safe_load(results.read_text())
    } <= expected

    assert restored.returncode == 0, restored.stderr
    assert after_restore == (before, {})
    restore_changes = [c.action for c in restore_calls if c.action in KEY_CALLS]
    assert Counter(restore_changes) == {
        "UpdateAccessKey": len(expected),
        "UntagUser": len(expected),
    }


# --- exemptions that expire: c7n's own value filter ---


@pytest.mark.parametrize("source", SOURCES)
def test_exemptions_expire(tmp_path, source):
    policy = sample(
        "access-key-lifecycle-exemptions.yml",
        "iam-access-key-lifecycle-retire-unless-exempt",
        source,
    )
    today = datetime.now(timezone.utc).date()
    tags = {
        "exempt-next-week": (today + timedelta(days=7)).isoformat(),
        "exempt-until-yesterday": (today - timedelta(days=1)).isoformat(),
        "exempt-until-someday": "someday",  # not a date: exempts nobody
        "exempt-empty": "",
    }
    users = [*ACCOUNT] + [
        UserSpec(name, [KeySpec(400, 200)], {"keyage-exempt-until": value})
        for name, value in tags.items()
    ]
    with LocalIAM(aws_like_report=False) as local:
        ids = local.seed(users)
        run = custodian(local, policy, tmp_path)
        found = records(local)

    run.assert_clean()
    name = policy["name"]
    retired = keys(ids, STALE | {(u, 1) for u in tags if u != "exempt-next-week"})
    assert {(u, k) for u, ks in found.items() for k in ks} == retired
    assert outcomes(run, name, RETIRE_RESULTS) == {k: "retired" for k in retired}
    assert "exempt-next-week" not in run.users(name)
