"""``custodian report`` prints the flagged keys from a run's output directory.

The report formatter reads ``resources.json`` and evaluates each ``--field HEADER=EXPR``
with JMESPath; ``list:`` joins a list with ", " and ``count:`` counts it. The annotation's
name must be quoted (``"c7n:unused-keys"``), and ``to_string(...)`` keeps a key whose
value is null (a never-used key has no last use) in its place in the list.
"""

from __future__ import annotations

import csv
import io
import pathlib
import subprocess
import sys
from datetime import datetime, timedelta, timezone

import yaml

from tests.support.localiam import DEMO_ACCOUNT, KeySpec, LocalIAM, UserSpec
from tests.support.paths import POLICIES
from tests.support.stock_cli import custodian, environment

CUSTODIAN = pathlib.Path(sys.executable).parent / "custodian"
KEYS = '"c7n:unused-keys"'
# The options docs/ecosystem.md documents, in its order.
FIELDS = [
    f"KeyIds=list:{KEYS}[].to_string(access_key_id)",
    f"Slots=list:{KEYS}[].slot",
    f'Reasons=list:{KEYS}[].join(`"+"`, reasons)',
    f"LastUsed=list:{KEYS}[].to_string(last_used_date)",
    f"DaysUnused=list:{KEYS}[].to_string(days_since_use)",
    f"AgeDays=list:{KEYS}[].days_since_rotation",
    f"StaleKeys=count:{KEYS}",
]
# From the demo account: fresh, stale, never used, two keys with slot 1 the newer.
DEMO_USERS = {"alice-fresh", "bob-stale", "dave-abandoned", "erin-two-keys"}
USERS = [
    *(user for user in DEMO_ACCOUNT if user.name in DEMO_USERS),
    # both keys stale, one never used: the lists stay aligned key by key
    UserSpec(
        "ivan-both-stale",
        [
            KeySpec(created_days_ago=500, last_used_days_ago=None),
            KeySpec(created_days_ago=250, last_used_days_ago=120),
        ],
    ),
]


STALE_KEYS = {
    "name": "stale-keys",
    "resource": "iam-user",
    "filters": [
        {
            "type": "access-key-unused",
            "days": 90,
            "rotation-days": 365,
            "resolve-key-ids": True,
            "report_delay": 0,
        }
    ],
}


def custodian_report(local: LocalIAM, run_dir: pathlib.Path, fields: list[str]):
    """``custodian report --format csv`` with ``fields`` on the policy file and the output
    of the run made in ``run_dir`` (``stock_cli.custodian``); the process and its calls."""
    local.clear_calls()
    field_options = [arg for field in fields for arg in ("--field", field)]
    report = subprocess.run(
        [str(CUSTODIAN), "report", "-s", str(run_dir / "out"), "--format", "csv"]
        + [*field_options, str(run_dir / "policies.yml")],
        env=environment(local, run_dir),
        capture_output=True,
        text=True,
        timeout=120,
    )
    return report, local.calls


def test_report_prints_flagged_keys(tmp_path):
    with LocalIAM() as local:
        ids = local.seed(USERS)
        run = custodian(local, STALE_KEYS, tmp_path)  # c7n's default cache, private to it
        assert run.returncode == 0, run.log
        report, report_calls = custodian_report(local, tmp_path, FIELDS)

    assert report.returncode == 0, report.stderr
    # The report reads the output directory; its only call looks up the account ID.
    assert [c.action for c in report_calls] == ["GetCallerIdentity"]
    rows = list(csv.DictReader(io.StringIO(report.stdout)))
    headers = ["UserName", "CreateDate"] + [f.split("=", 1)[0] for f in FIELDS]
    assert list(rows[0]) == headers
    by_user = {row["UserName"]: row for row in rows}
    assert sorted(by_user) == ["bob-stale", "dave-abandoned", "erin-two-keys", "ivan-both-stale"]
    check_flagged_columns(by_user, ids)
    # The last use as recorded: 200 days before the run, to the second.
    last_used = datetime.fromisoformat(by_user["bob-stale"]["LastUsed"])
    now = datetime.now(timezone.utc)
    assert abs(now - timedelta(days=200) - last_used) < timedelta(minutes=5)


def check_flagged_columns(by_user: dict[str, dict], ids: dict[str, list[str]]) -> None:
    def columns(user, *names):
        return tuple(by_user[user][name] for name in names)

    assert columns("bob-stale", "KeyIds", "Slots", "Reasons", "DaysUnused", "AgeDays") == (
        ids["bob-stale"][0],
        "1",
        "unused+unrotated",
        "200",
        "400",
    )
    assert columns("dave-abandoned", "KeyIds", "Reasons", "LastUsed", "DaysUnused") == (
        ids["dave-abandoned"][0],
        "never-used",
        "null",
        "null",
    )
    # erin: only slot 2, the older key.
    assert columns("erin-two-keys", "KeyIds", "Slots", "Reasons", "StaleKeys") == (
        ids["erin-two-keys"][1],
        "2",
        "unused",
        "1",
    )
    assert columns("ivan-both-stale", "KeyIds", "Slots", "Reasons", "DaysUnused", "StaleKeys") == (
        ", ".join(ids["ivan-both-stale"]),
        "1, 2",
        "never-used+unrotated, unused",
        "null, 120",
        "2",
    )


# --- the key lifecycle's records (docs/ecosystem.md, "custodian report") ---

RETIRED = '"c7n:retired-keys"'
# The options docs/ecosystem.md documents for c7n:retired-keys, in its order.
RETIRED_FIELDS = [
    f"RetiredKeys=list:{RETIRED}[].access_key_id",
    f"RetiredAt=list:{RETIRED}[].retired_at",
    f"RetiredBy=list:{RETIRED}[].policy",
    f"Status=list:{RETIRED}[].status",
    f"UsedSince=list:{RETIRED}[].used_since_retired",
    f"DeleteAfter=list:{RETIRED}[].to_string(delete_after)",
    f"Records=count:{RETIRED}",
]
LIFECYCLE = POLICIES / "access-key-lifecycle.yml"


def test_report_prints_retired_keys_and_when_they_are_deleted(tmp_path):
    """The lifecycle's deletion policy, as a dry run a month after the retirement: the
    report shows each record, the key's state, and the date its key is due for deletion."""
    policies = yaml.safe_load(LIFECYCLE.read_text())["policies"]
    retire, delete = (p for p in policies if p["name"].endswith(("-retire-90", "-delete-30")))
    users = [
        UserSpec("bob-stale", [KeySpec(400, 200)]),
        UserSpec("ivan-both-stale", [KeySpec(500, None), KeySpec(250, 120)]),
        UserSpec("alice-fresh", [KeySpec(30, 1)]),
    ]
    retired_at = datetime.now(timezone.utc).replace(microsecond=0) - timedelta(days=40)
    when = retired_at.strftime("%Y-%m-%dT%H:%M:%SZ")
    with LocalIAM(aws_like_report=False) as local:
        ids = local.seed(users)
        custodian(local, retire, tmp_path / "day-0").assert_clean()
        for user in ("bob-stale", "ivan-both-stale"):
            for key in ids[user]:
                record = {"Key": f"c7n-keyage:retired:{key}", "Value": f"{when} {retire['name']}"}
                local.client().tag_user(UserName=user, Tags=[record])
        # One of ivan's keys was used since it was retired: it is kept.
        local.use_key("ivan-both-stale", ids["ivan-both-stale"][1], when=retired_at + timedelta(1))
        day = tmp_path / "day-40"
        dry = custodian(local, delete, day, "--dryrun")
        dry.assert_clean()
        report, report_calls = custodian_report(local, day, RETIRED_FIELDS)

    assert report.returncode == 0, report.stderr
    assert [c.action for c in report_calls] == ["GetCallerIdentity"]
    rows = {row["UserName"]: row for row in csv.DictReader(io.StringIO(report.stdout))}
    assert sorted(rows) == ["bob-stale", "ivan-both-stale"]
    due = (retired_at + timedelta(days=30)).strftime("%Y-%m-%dT%H:%M:%SZ")
    names = [f.split("=", 1)[0] for f in RETIRED_FIELDS]
    assert [rows["bob-stale"][n] for n in names] == [
        ids["bob-stale"][0],
        when,
        retire["name"],
        "Inactive",
        "False",
        due,
        "1",
    ]
    ivan = rows["ivan-both-stale"]
    assert ivan["RetiredKeys"] == ", ".join(ids["ivan-both-stale"])
    assert ivan["Status"] == "Inactive, Inactive"
    assert ivan["UsedSince"] == "False, True"
    assert ivan["DeleteAfter"] == f"{due}, {due}"
    assert ivan["Records"] == "2"
