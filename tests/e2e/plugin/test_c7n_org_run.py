"""The stock ``c7n-org run`` finds each account's stale keys, and only that account's.

One local IAM server holds several accounts: c7n-org's workers assume each account's
``role`` through the server's STS, and the server answers with that account's isolated
state. The run uses c7n-org's process pool (no ``--debug``). Its workers get the filter
from the ``.pth`` start-up hook: inherited from the parent where they are forked (Linux),
run again where they are spawned (macOS). The endpoint and fake credentials reach them
through the environment, which the pool's workers inherit.
"""

from __future__ import annotations

import csv
import io
import json
import pathlib
import subprocess
import sys
from collections import Counter

import pytest
import yaml

from tests.support.localiam import KeySpec, LocalIAM, UserSpec

C7N_ORG = pathlib.Path(sys.executable).parent / "c7n-org"
POLICY = "stale-keys"

# Different users, and different stale keys, in each account.
ACCOUNTS = {
    "dev": (
        "111111111111",
        [
            UserSpec("dev-stale", [KeySpec(created_days_ago=400, last_used_days_ago=200)]),
            UserSpec("dev-fresh", [KeySpec(created_days_ago=30, last_used_days_ago=1)]),
            # slot 1 fresh, slot 2 stale
            UserSpec(
                "dev-two-keys",
                [
                    KeySpec(created_days_ago=20, last_used_days_ago=2),
                    KeySpec(created_days_ago=300, last_used_days_ago=150),
                ],
            ),
        ],
    ),
    "prod": (
        "222222222222",
        [
            UserSpec("prod-abandoned", [KeySpec(created_days_ago=200, last_used_days_ago=None)]),
            UserSpec("prod-new", [KeySpec(created_days_ago=10, last_used_days_ago=None)]),
            UserSpec(
                "prod-disabled",
                [KeySpec(created_days_ago=300, last_used_days_ago=250, active=False)],
            ),
        ],
    ),
}
# (user, slot, reasons) expected per account.
EXPECTED = {
    "dev": [("dev-stale", 1, ["unused"]), ("dev-two-keys", 2, ["unused"])],
    "prod": [("prod-abandoned", 1, ["never-used"])],
}


def role(account_id: str) -> str:
    return f"arn:aws:iam::{account_id}:role/x"


def write_config(tmp_path: pathlib.Path, source: str | None) -> list:
    """The accounts file (each account reached through its own role) and the policy file;
    returns the options c7n-org run and report share."""
    accounts = {
        "accounts": [
            {"name": name, "account_id": account_id, "role": role(account_id)}
            for name, (account_id, _) in ACCOUNTS.items()
        ]
    }
    policy = {
        "policies": [
            {
                "name": POLICY,
                "resource": "iam-user",
                # The default report_delay: no wait, the report is served once made.
                "filters": [{"type": "access-key-unused", "days": 90}],
            }
        ]
    }
    if source:
        policy["policies"][0]["source"] = source
    (tmp_path / "accounts.yml").write_text(yaml.safe_dump(accounts))
    (tmp_path / "policy.yml").write_text(yaml.safe_dump(policy))
    (tmp_path / "cache").mkdir()
    # iam-user is global: one region, or each account repeats the same work per region.
    common = ["-c", tmp_path / "accounts.yml", "-u", tmp_path / "policy.yml"]
    return common + ["-s", tmp_path / "out", "-r", "us-east-1", "--cache-path", tmp_path / "cache"]


@pytest.mark.parametrize("source", [None, "credential-report"], ids=["describe", "from-report"])
@pytest.mark.parametrize("aws_like", [True, False], ids=["aws-like-report", "unmodified-moto"])
def test_c7n_org_run_per_account(tmp_path, aws_like, source):
    common = write_config(tmp_path, source)
    with LocalIAM(aws_like_report=aws_like) as local:
        for account_id, users in ACCOUNTS.values():
            local.seed(users, account_id=account_id)
        local.clear_calls()  # seeding assumes the roles too
        env = local.env()
        env["C7N_ORG_PARALLEL"] = "2"  # a pool of two worker processes
        # c7n-org's default 15-minute cache, in the test's own --cache-path.
        run = [C7N_ORG, "run", *common]
        result = subprocess.run(run, env=env, capture_output=True, text=True, timeout=120)
        calls = local.calls
        # The cross-account report reads the output directory only.
        fields = ["--field", 'Slots=list:"c7n:unused-keys"[].slot', "--no-default-fields"]
        report = [C7N_ORG, "report", *common, "--field", "UserName=UserName", *fields]
        printed = subprocess.run(report, env=env, capture_output=True, text=True, timeout=120)

    assert result.returncode == 0, result.stderr
    # A worker without the filter logs "Error running policy ... Invalid filter" and
    # c7n-org still exits 0: check the log and the counts.
    assert "Error running policy" not in result.stderr, result.stderr
    assert "Exception running policy" not in result.stderr, result.stderr
    assert "Policy resource counts Counter({'stale-keys': 3})" in result.stderr
    check_outputs(tmp_path / "out")
    check_calls(calls, source)

    assert printed.returncode == 0, printed.stderr
    rows = sorted(csv.reader(io.StringIO(printed.stdout)))
    assert rows == [
        ["Account", "Region", "Policy", "UserName", "Slots"],
        ["dev", "us-east-1", POLICY, "dev-stale", "1"],
        ["dev", "us-east-1", POLICY, "dev-two-keys", "2"],
        ["prod", "us-east-1", POLICY, "prod-abandoned", "1"],
    ]


def check_outputs(out: pathlib.Path) -> None:
    """One folder per account and region, one region only; each account's own stale keys."""
    assert sorted(p.relative_to(out).parts[:2] for p in out.glob("*/*")) == [
        ("dev", "us-east-1"),
        ("prod", "us-east-1"),
    ]
    for name, (account_id, _) in ACCOUNTS.items():
        resources = json.loads((out / name / "us-east-1" / POLICY / "resources.json").read_text())
        found = [
            (r["UserName"], key["slot"], key["reasons"])
            for r in resources
            for key in r["c7n:unused-keys"]
        ]
        assert found == EXPECTED[name], name
        assert {r["Arn"].split(":")[4] for r in resources} == {account_id}


def check_calls(calls: list, source: str | None) -> None:
    """Each account was reached through its own role; each made its own report (Get: none
    yet; Generate: STARTED; Get: the report, whatever its date) and, report only, read no
    keys."""
    assumed = sorted(c.params["RoleArn"] for c in calls if c.action == "AssumeRole")
    assert assumed == sorted(role(account_id) for account_id, _ in ACCOUNTS.values())
    # (The two workers' calls interleave: count them.)
    report_calls = Counter(
        c.action for c in calls if c.action.endswith("CredentialReport") or "AccessKey" in c.action
    )
    assert report_calls == {"GetCredentialReport": 2 * 2, "GenerateCredentialReport": 2}
    # On the report source, nothing per user: the report is the listing.
    per_user = [c.action for c in calls if c.action in ("ListUsers", "GetUser")]
    assert len(per_user) == (0 if source else 2 + sum(len(u) for _, u in ACCOUNTS.values()))
