"""The seed rule's 8 test cases, with their exact data, through whole policies.

Each Panther resource's ``CredentialReport`` becomes a row of a real-format credential
report (Go's zero time -> ``N/A``); root cases run through ``account``, user cases through
``iam-user``; the policy must match exactly when Panther's rule says non-compliant.
"""

from __future__ import annotations

import json
import pathlib

import pytest

from tests.placebo_fixtures import HEADER, FixtureDir, add_users, credential_report, ok

CASES = json.loads((pathlib.Path(__file__).parent / "data" / "panther_cases.json").read_text())
ZERO_TIME = "0001-01-01T00:00:00Z"
# Report column -> Panther's CredentialReport field.
PANTHER_FIELDS = {
    "user": "UserName",
    "arn": "ARN",
    "user_creation_time": "UserCreationTime",
    "password_enabled": "PasswordEnabled",
    "password_last_used": "PasswordLastUsed",
    "password_last_changed": "PasswordLastChanged",
    "password_next_rotation": "PasswordNextRotation",
    "mfa_active": "MfaActive",
    **{
        f"access_key_{n}_{column}": f"AccessKey{n}{field}"
        for n in (1, 2)
        for column, field in (
            ("active", "Active"),
            ("last_rotated", "LastRotated"),
            ("last_used_date", "LastUsedDate"),
            ("last_used_region", "LastUsedRegion"),
            ("last_used_service", "LastUsedService"),
        )
    },
    **{
        f"cert_{n}_{column}": f"Cert{n}{field}"
        for n in (1, 2)
        for column, field in (("active", "Active"), ("last_rotated", "LastRotated"))
    },
}


def report_row(panther: dict) -> str:
    def column(name: str) -> str:
        value = panther[PANTHER_FIELDS[name]]
        if isinstance(value, bool):
            return "true" if value else "false"
        return "N/A" if value == ZERO_TIME else value

    return ",".join(column(name) for name in HEADER.split(","))


def fixtures_for(case: dict, root: pathlib.Path) -> pathlib.Path:
    report = credential_report(HEADER + "\n" + report_row(case["credential_report"]))
    user = case["credential_report"]["UserName"]
    if user == "<root_account>":
        fixtures = FixtureDir("case", root).add(
            "iam", "ListAccountAliases", ok({"AccountAliases": []})
        )
    else:
        fixtures = add_users(FixtureDir("case", root), [user])
    fixtures.add("iam", "GetCredentialReport", report).write()
    return fixtures.path


def test_the_data_is_the_seeds():
    assert len(CASES["cases"]) == 8
    assert sum(not case["panther_compliant"] for case in CASES["cases"]) == 3


@pytest.mark.parametrize("case", CASES["cases"], ids=lambda case: case["name"])
def test_same_verdict_as_panther(case, tmp_path, replay_from, frozen, run_policy):
    root = case["credential_report"]["UserName"] == "<root_account>"
    replay = replay_from(fixtures_for(case, tmp_path / "placebo"))
    policy = run_policy(
        {
            "name": "panther-conformance",
            "resource": "account" if root else "iam-user",
            "filters": [{"type": "access-key-unused"}],
        },
        replay,
    )

    assert bool(policy.resources) is not case["panther_compliant"]
    assert replay.operations() == (
        ["ListAccountAliases", "GetCredentialReport"]
        if root
        else ["ListUsers", "GetUser", "GetCredentialReport"]
    )
    if policy.resources:
        # Every non-compliant seed case is one active key used in 2000, 90+ days ago.
        (flagged,) = policy.resources[0]["c7n:unused-keys"]
        assert flagged["reasons"] == ["unused"]
        assert flagged["last_used_date"] == "2000-01-01T00:00:00+00:00"
