"""Each policy acts on its own verdict, when c7n hands several policies the same records.

``custodian run --cache memory`` with several policies in one file: c7n lists the users
once and gives every policy the same dicts, with what earlier policies wrote still on
them. Each case runs the stock CLI against a local IAM endpoint and checks exactly which
keys end up disabled or deleted.
"""

from __future__ import annotations

import json
import pathlib
import subprocess
import sys

import pytest
import yaml

from tests.support.localiam import KeySpec, LocalIAM, UserSpec

CUSTODIAN = pathlib.Path(sys.executable).parent / "custodian"

ACCOUNT = (
    UserSpec("used-yesterday", [KeySpec(300, 1)]),
    UserSpec("used-60-days-ago", [KeySpec(300, 60), KeySpec(250, 60)]),
    UserSpec("used-100-days-ago", [KeySpec(300, 100), KeySpec(250, 100)]),
    UserSpec("used-200-days-ago", [KeySpec(400, 200)]),
    UserSpec("never-used-200-days", [KeySpec(200, None)]),
    # One key stale at 90 days, one only at 45: the user matches both policies.
    UserSpec("mixed-100-and-60", [KeySpec(300, 100), KeySpec(250, 60)]),
)
# (user, slot) of the keys stale at 90 and at 180 days.
STALE_90 = [
    ("used-100-days-ago", 1),
    ("used-100-days-ago", 2),
    ("used-200-days-ago", 1),
    ("never-used-200-days", 1),
    ("mixed-100-and-60", 1),
]
STALE_180 = [("used-200-days-ago", 1), ("never-used-200-days", 1)]


def unused(days: int, **options) -> dict:
    return {"type": "access-key-unused", "days": days, **options}


def remove(disable: bool = True) -> dict:
    return {"type": "remove-keys", "matched": True, "disable": disable}


REPORT_45 = {"name": "report-45", "resource": "iam-user", "filters": [unused(45)]}
DISABLE_90 = {
    "name": "disable-90",
    "resource": "iam-user",
    "filters": [unused(90)],
    "actions": [remove()],
}
DISABLE_90_OR = dict(DISABLE_90, name="disable-90-or", filters=[{"or": [unused(90)]}])
DELETE_180 = {
    "name": "delete-180",
    "resource": "iam-user",
    "filters": [unused(180)],
    "actions": [remove(disable=False)],
}


def run_file(
    local: LocalIAM, policies: list[dict], tmp: pathlib.Path
) -> subprocess.CompletedProcess:
    path = tmp / "policies.yml"
    path.write_text(yaml.safe_dump({"policies": policies}))
    return subprocess.run(
        [str(CUSTODIAN), "run", "--cache", "memory", "-s", str(tmp / "out"), str(path)],
        env=local.env(),
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.parametrize(
    "policies, disabled, deleted",
    [
        # The 45-day report's keys (60 days unused too) must not narrow the 90-day verdict.
        ([REPORT_45, DISABLE_90], STALE_90, []),
        # Under or:, c7n unions matched keys: the 45-day report's must not join them.
        ([REPORT_45, DISABLE_90_OR], STALE_90, []),
        # The deletion's key listing is stale for the next policy: it must list again.
        (
            [DELETE_180, DISABLE_90],
            [key for key in STALE_90 if key not in STALE_180],
            STALE_180,
        ),
    ],
    ids=["report-45-then-disable-90", "report-45-then-disable-90-under-or", "delete-then-disable"],
)
def test_each_policy_acts_on_its_own_verdict(tmp_path, policies, disabled, deleted):
    with LocalIAM() as local:
        ids = local.seed(ACCOUNT)
        local.clear_calls()
        result = run_file(local, policies, tmp_path)
        calls = local.calls
        after = local.key_states()

    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr and ":ERROR " not in result.stderr, result.stderr
    # The users were listed once: the policies did share the records.
    assert [c.action for c in calls].count("ListUsers") == 1
    updates = sorted(c.params["AccessKeyId"] for c in calls if c.action == "UpdateAccessKey")
    deletes = sorted(c.params["AccessKeyId"] for c in calls if c.action == "DeleteAccessKey")
    assert updates == sorted(ids[user][slot - 1] for user, slot in disabled)
    assert deletes == sorted(ids[user][slot - 1] for user, slot in deleted)
    for user, keys in ids.items():
        for slot, key in enumerate(keys, 1):
            state = after[user].get(key, "deleted")
            expected = (
                "Inactive"
                if (user, slot) in disabled
                else "deleted"
                if (user, slot) in deleted
                else "Active"
            )
            assert state == expected, (user, slot)
    # Each policy wrote its own findings, judged on its own days.
    for policy in policies:
        found = json.loads((tmp_path / "out" / policy["name"] / "resources.json").read_text())
        days = (policy["filters"][0].get("or") or policy["filters"])[0]["days"]
        assert found, policy["name"]
        for resource in found:
            assert all(
                k["days_since_use"] is None or k["days_since_use"] > days
                for k in resource["c7n:unused-keys"]
            ), resource
