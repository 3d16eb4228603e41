"""The seed rule's 8 test cases, with their exact data, through whole policies.

Each Panther resource's ``CredentialReport`` becomes a row of a real-format credential
report (Go's zero time -> ``N/A``); root cases run through ``account``, user cases through
``iam-user``; the policy must match exactly when Panther's rule says non-compliant, and
flag exactly the key the case is about, for the reason it is about. The seed's dates are
2000 and 3000, far from the limit: the same rows with dates at 90 days, 90 days and a
second, and 90 days less a second, at the frozen NOW, test the limit itself.
"""

from __future__ import annotations

import json
import pathlib
from datetime import datetime, timedelta

import pytest

from tests.support.paths import DATA
from tests.support.placebo_fixtures import HEADER, NOW, FixtureDir, add_users, credential_report, ok

CASES = json.loads((DATA / "panther_cases.json").read_text())
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


# What each seed case flags: (slot, reasons) of each flagged key; the others flag nothing.
OLD = "2000-01-01T00:00:00+00:00"
EXPECTED = {
    "Root User Access Key 1 Used And Rotated Over 90 Days Ago": [(1, ["unused"])],
    "User Access Key 1 Used And Rotated Over 90 Days Ago": [(1, ["unused"])],
    "User Access Key 2 Used And Rotated Over 90 Days Ago": [(2, ["unused"])],
}
DAYS_SINCE_2000 = 9801  # 2000-01-01 to 2026-11-01, whole days


def run_case(panther: dict, tmp_path, replay_from, run_policy):
    """Run the default policy (no ``days``: Panther's 90) on one Panther resource's row."""
    root = panther["UserName"] == "<root_account>"
    replay = replay_from(fixtures_for({"credential_report": panther}, tmp_path / "placebo"))
    policy = run_policy(
        {
            "name": "panther-conformance",
            "resource": "account" if root else "iam-user",
            "filters": [{"type": "access-key-unused"}],
        },
        replay,
    )
    assert replay.operations() == (
        ["ListAccountAliases", "GetCredentialReport"]
        if root
        else ["ListUsers", "GetUser", "GetCredentialReport"]
    )
    return policy.resources


def test_the_data_is_the_seeds():
    assert len(CASES["cases"]) == 8
    assert sum(not case["panther_compliant"] for case in CASES["cases"]) == 3


def test_every_non_compliant_case_is_expected():
    assert {c["name"] for c in CASES["cases"] if not c["panther_compliant"]} == set(EXPECTED)


@pytest.mark.parametrize("case", CASES["cases"], ids=lambda case: case["name"])
def test_same_verdict_as_panther(case, tmp_path, replay_from, frozen, run_policy):
    resources = run_case(case["credential_report"], tmp_path, replay_from, run_policy)

    assert bool(resources) is not case["panther_compliant"]
    flagged = [(k["slot"], k["reasons"]) for r in resources for k in r["c7n:unused-keys"]]
    assert flagged == EXPECTED.get(case["name"], [])
    if flagged:
        # Each non-compliant case is one active key created and last used in 2000.
        (resource,) = resources
        (key,) = resource["c7n:unused-keys"]
        assert key == {
            "slot": flagged[0][0],
            "last_rotated": OLD,
            "last_used_date": OLD,
            "last_used_service": None,
            "last_used_region": None,
            "reasons": ["unused"],
            "days_since_use": DAYS_SINCE_2000,
            "days_since_rotation": DAYS_SINCE_2000,
            "verified": False,
        }


# --- the limit itself: 90 days exactly, a second more, a second less (NOW is frozen) ---

LIMIT = {
    # NOW is 2026-11-01T12:00:00Z; 90 days before it is 2026-08-03T12:00:00Z.
    "90-days-less-1s": ("2026-08-03T12:00:01Z", False),
    "exactly-90-days": ("2026-08-03T12:00:00Z", False),
    "90-days-and-1s": ("2026-08-03T11:59:59Z", True),
}
SEED = {case["name"]: case["credential_report"] for case in CASES["cases"]}
BASES = {
    "user": SEED["User Access Key 1 Used And Rotated Over 90 Days Ago"],
    "root": SEED["Root User Access Key 1 Used And Rotated Over 90 Days Ago"],
}


def test_the_limit_dates_are_90_days_before_now():
    assert NOW.isoformat() == "2026-11-01T12:00:00+00:00"
    assert {name: NOW - datetime.fromisoformat(d) for name, (d, _) in LIMIT.items()} == {
        "90-days-less-1s": timedelta(days=90) - timedelta(seconds=1),
        "exactly-90-days": timedelta(days=90),
        "90-days-and-1s": timedelta(days=90, seconds=1),
    }


@pytest.mark.parametrize("who", list(BASES))
@pytest.mark.parametrize("limit", list(LIMIT))
def test_last_use_at_the_limit(who, limit, tmp_path, replay_from, frozen, run_policy):
    used, stale = LIMIT[limit]
    panther = dict(BASES[who], AccessKey1LastUsedDate=used)
    resources = run_case(panther, tmp_path, replay_from, run_policy)

    flagged = [
        (k["slot"], k["reasons"], k["last_used_date"], k["days_since_use"])
        for r in resources
        for k in r["c7n:unused-keys"]
    ]
    last_used = used.replace("Z", "+00:00")
    assert flagged == ([(1, ["unused"], last_used, 90)] if stale else [])


@pytest.mark.parametrize("who", list(BASES))
@pytest.mark.parametrize("limit", list(LIMIT))
def test_never_used_key_created_at_the_limit(who, limit, tmp_path, replay_from, frozen, run_policy):
    created, stale = LIMIT[limit]
    panther = dict(BASES[who], AccessKey1LastRotated=created, AccessKey1LastUsedDate=ZERO_TIME)
    resources = run_case(panther, tmp_path, replay_from, run_policy)

    flagged = [
        (k["slot"], k["reasons"], k["last_rotated"], k["last_used_date"], k["days_since_use"])
        for r in resources
        for k in r["c7n:unused-keys"]
    ]
    created_at = created.replace("Z", "+00:00")
    assert flagged == ([(1, ["never-used"], created_at, None, None)] if stale else [])
