"""End to end: the stock c7n-org over three accounts on an unmodified moto server, on two
dates, then ``c7n-keyage report`` (the console script) on what c7n-org wrote.

- Dates: each c7n-org process runs with its clock moved by time-machine (its forked workers
  inherit it), so metadata.json's execution start and c7n's dated S3 paths carry the date a
  daily runner would give them; the seeded keys age with it.
- The first date runs report-only policies; on the second, a remove-keys policy (added after
  the report-only one) disables one account's abandoned key.
- The same outputs: as written (``-s DIR``, one directory per date), uploaded to moto's S3
  as files (as ``aws s3 sync`` would), written by c7n-org itself to S3 (c7n's dated layout,
  gzip; a second server with the same seeds, since the second date changes a key), and the
  first date sharded by account tags over two directories: every report says the same.
- Expected figures come from the seeded ages and the rule's text, not from any output.
"""

from __future__ import annotations

import csv
import io
import json
import pathlib
import subprocess
import sys
from datetime import datetime, timedelta, timezone

import pytest
import yaml

from tests.support.fleet import as_truth
from tests.support.localiam import KeySpec, LocalIAM, UserSpec
from tests.support.page import numbers_in_json, numbers_on_page

pytestmark = pytest.mark.slow

BIN = pathlib.Path(sys.executable).parent
REGION = "us-east-1"
EARLIER = 10  # days between the two run dates
# name, account id, shard tag, users (ages in days before the seeding).
ACCOUNTS = [
    (
        "dev",
        "111111111111",
        "shard:a",
        [
            UserSpec("dev-stale", [KeySpec(created_days_ago=400, last_used_days_ago=200)]),
            UserSpec("dev-fresh", [KeySpec(created_days_ago=30, last_used_days_ago=1)]),
            UserSpec(
                "dev-two-keys",
                [KeySpec(20, last_used_days_ago=2), KeySpec(800, last_used_days_ago=760)],
            ),
            # Never used, 95 days old now: 85 days old on the earlier date, not stale then.
            UserSpec("dev-crossing", [KeySpec(created_days_ago=95, last_used_days_ago=None)]),
        ],
    ),
    (
        "stage",
        "333333333333",
        "shard:a",
        [UserSpec("stage-fresh", [KeySpec(created_days_ago=50, last_used_days_ago=5)])],
    ),
    (
        "prod",
        "222222222222",
        "shard:b",
        [
            UserSpec("prod-abandoned", [KeySpec(created_days_ago=200, last_used_days_ago=None)]),
            UserSpec("prod-old", [KeySpec(created_days_ago=500, last_used_days_ago=300)]),
            UserSpec("prod-disabled", [KeySpec(300, last_used_days_ago=250, active=False)]),
        ],
    ),
]
KEYAGE = [{"type": "access-key-unused", "days": 90}]
POLICIES = [
    {
        "name": "stale-keys",
        "resource": "iam-user",
        "filters": KEYAGE,
    },
    {"name": "root-keys", "resource": "account", "filters": KEYAGE},
    {
        "name": "user-named-nobody",
        "resource": "iam-user",
        "filters": [{"type": "value", "key": "UserName", "value": "nobody"}],
    },
]
DISABLE = {
    "name": "disable-abandoned",
    "resource": "iam-user",
    "filters": KEYAGE + [{"type": "value", "key": "UserName", "value": "prod-abandoned"}],
    "actions": [{"type": "remove-keys", "matched": True, "disable": True}],
}
# c7n-org's own console script, its clock moved to argv[1] for the process and its workers.
AT = """
import sys, datetime, time_machine
from c7n_org.cli import cli
when = datetime.datetime.fromisoformat(sys.argv.pop(1))
with time_machine.travel(when, tick=True):
    sys.argv[0] = "c7n-org"
    cli()
"""


def stale_seeded(offset: int) -> dict[str, list[tuple[str, str, int]]]:
    """Each account's stale keys ``offset`` days before the seeding, from the seeds and the
    rule's text: active and last used more than 90 days before (never used: created more than
    90 days before); the age is the days since that date. On the second date (offset 0) the
    remove-keys run disables prod-abandoned's key, which the report-only run flagged."""
    found: dict[str, list[tuple[str, str, int]]] = {}
    for _, account_id, _, users in ACCOUNTS:
        found[account_id] = []
        for user in users:
            for spec in user.keys:
                never = spec.last_used_days_ago is None
                age = (spec.created_days_ago if never else spec.last_used_days_ago) - offset
                disabled = user.name == "prod-abandoned" and offset == 0
                if spec.active and age > 90 and not disabled:
                    found[account_id].append((user.name, "never-used" if never else "unused", age))
    return found


def expected(day1: str, day2: str) -> dict:
    per_day = {day1: stale_seeded(EARLIER), day2: stale_seeded(0)}
    reasons = ("unused", "never-used", "unrotated")
    figures = {
        account_id: {
            "stale_users": len({u for u, _, _ in found}),
            "stale_keys": len(found),
            "by_reason": {r: sum(reason == r for _, reason, _ in found) for r in reasons},
            "oldest_days": max((age for _, _, age in found), default=0),
        }
        for account_id, found in per_day[day2].items()
    }
    return {
        "accounts": figures,
        "totals": {
            "stale_users": 4,
            "stale_keys": 4,
            "by_reason": {"unused": 3, "never-used": 1, "unrotated": 0},
            "oldest_days": 760,
        },
        "age_buckets": {"0-90": 0, "91-180": 1, "181-365": 2, "366-730": 0, "731+": 1},
        "runs": {day: {a: len(f) for a, f in found.items()} for day, found in per_day.items()},
        "disabled": 1,
        "lifecycle": {"retired": 0, "restored": 0, "deleted": 0, "used_since_retired": 0},
        "outcomes": {},
    }


def seed_and_pick_dates(local: LocalIAM) -> tuple[datetime, datetime]:
    for _, account_id, _, users in ACCOUNTS:
        local.seed(users, account_id=account_id)
    seeded = datetime.now(timezone.utc)
    # A minute on, so every whole-day age is the seeded one; never the last minutes of a
    # day, so a run cannot straddle midnight.
    later = seeded + timedelta(minutes=1)
    if later.hour == 23 and later.minute >= 50:
        later += timedelta(minutes=15)
    return later - timedelta(days=EARLIER), later


def c7n_org(local: LocalIAM, tmp: pathlib.Path, when: datetime, output: str, policies, *tags):
    run_dir = tmp / f"run-{len(list(tmp.glob('run-*')))}"
    run_dir.mkdir()
    (run_dir / "cache").mkdir()
    (run_dir / "policies.yml").write_text(yaml.safe_dump({"policies": policies}))
    accounts = [
        {"name": name, "account_id": number, "role": f"arn:aws:iam::{number}:role/x", "tags": [tag]}
        for name, number, tag, _ in ACCOUNTS
    ]
    (run_dir / "accounts.yml").write_text(yaml.safe_dump({"accounts": accounts}))
    command = [sys.executable, "-c", AT, when.isoformat(), "run", "-c", run_dir / "accounts.yml"]
    command += ["-u", run_dir / "policies.yml", "-s", output, "-r", REGION]
    # A private cache per run, at c7n's default period: what users run.
    command += ["--cache-path", run_dir / "cache"]
    for tag in tags:
        command += ["-t", tag]
    env = local.env()
    env["C7N_ORG_PARALLEL"] = "2"
    done = subprocess.run(
        [str(c) for c in command], env=env, capture_output=True, text=True, timeout=240
    )
    assert done.returncode == 0, done.stderr
    assert "Error running policy" not in done.stderr, done.stderr
    assert "Exception running policy" not in done.stderr, done.stderr


def report(local: LocalIAM, out: pathlib.Path, *inputs) -> tuple[dict, str]:
    """The console script, as a user runs it (the endpoint's environment for S3)."""
    json_file, html_file = out.with_suffix(".json"), out.with_suffix(".html")
    command = [BIN / "c7n-keyage", "report", *inputs, "--json", json_file, "--html", html_file]
    done = subprocess.run(
        [str(c) for c in command], env=local.env(), capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert done.stderr == "", done.stderr
    return json.loads(json_file.read_text()), html_file.read_text()


@pytest.fixture(scope="module")
def reports(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("overview-e2e")
    found: dict[str, tuple[dict, str]] = {}
    with LocalIAM(aws_like_report=False) as local:
        day1, day2 = seed_and_pick_dates(local)
        out = tmp / "out"
        c7n_org(local, tmp, day1, str(out / day1.date().isoformat()), POLICIES)
        for shard in ("a", "b"):
            c7n_org(local, tmp, day1, str(tmp / f"shard-{shard}"), POLICIES, f"shard:{shard}")
        c7n_org(local, tmp, day2, str(out / day2.date().isoformat()), [*POLICIES, DISABLE])
        s3 = local.client("s3")
        s3.create_bucket(Bucket="reports")
        for path in sorted(p for p in out.rglob("*") if p.is_file()):
            s3.upload_file(str(path), "reports", f"synced/{path.relative_to(out)}")
        found["local"] = report(local, tmp / "local", out)
        found["synced"] = report(local, tmp / "synced", "s3://reports/synced")
        found["shards"] = report(
            local, tmp / "shards", tmp / "shard-a", tmp / "shard-b", out / day2.date().isoformat()
        )
        # Day by day, into a history file, with c7n-org's accounts file and the CSV.
        history, accounts = ("--history", tmp / "history.json"), ("-c", tmp / "run-0/accounts.yml")
        report(local, tmp / "day-1", out / day1.date().isoformat(), *history)
        found["history"] = report(
            local, tmp / "day-2", out / day2.date().isoformat(), *history, *accounts,
            "--csv", tmp / "keys.csv",
        )  # fmt: skip
        found["csv"] = (tmp / "keys.csv").read_text()
    with LocalIAM(aws_like_report=False) as local:
        again1, again2 = seed_and_pick_dates(local)
        assert (again1.date(), again2.date()) == (day1.date(), day2.date())
        local.client("s3").create_bucket(Bucket="reports")
        org = f"s3://reports/org?region={REGION}"
        c7n_org(local, tmp, again1, org, POLICIES)
        c7n_org(local, tmp, again2, org, [*POLICIES, DISABLE])
        found["c7n-s3"] = report(local, tmp / "c7n-s3", "s3://reports/org")
        listed = local.client("s3").list_objects_v2(Bucket="reports", Prefix="org/")
        found["s3-keys"] = [o["Key"] for o in listed["Contents"]]
    found["dates"] = (day1.date().isoformat(), day2.date().isoformat())
    return found


def test_the_report_equals_the_count_from_the_seeds(reports):
    overview, _ = reports["local"]
    assert as_truth(overview) == expected(*reports["dates"])
    assert overview["as_of"] == reports["dates"][1]
    names = {a["account_id"]: a["account_name"] for a in overview["accounts"]}
    assert names == {"111111111111": "dev", "222222222222": "prod", "333333333333": "stage"}
    assert overview["remediation"]["by_policy"] == [
        {
            "policy": "disable-abandoned",
            "action": "disabled",
            "keys": 1,
            "accounts": 1,
            "last_acted": reports["dates"][1],
        }
    ]
    # 3 accounts x (3 policies, then 4): the other policy is skipped, nothing unreadable.
    assert overview["inputs"]["runs_found"] == 21
    assert overview["inputs"]["skipped"] == {"other-policy": 6, "unreadable": 0, "failed": 0}


def test_the_oldest_keys_name_account_user_and_what_is_known(reports):
    overview, _ = reports["local"]
    rows = [(k["account_name"], k["user"], k["slot"], k["age_days"]) for k in overview["keys"]]
    assert rows == [
        ("dev", "dev-two-keys", 2, 760),
        ("prod", "prod-old", 1, 300),
        ("dev", "dev-stale", 1, 200),
        ("dev", "dev-crossing", 1, 95),
    ]
    # Report-only on moto: no key ID, and moto's report says not_supported for the service.
    assert {k["access_key_id"] for k in overview["keys"]} == {None}


def test_the_page_shows_the_jsons_figures(reports):
    overview, html = reports["local"]
    assert numbers_on_page(html) == numbers_in_json(overview)


def _key(k: dict) -> tuple:
    return (k["account_id"], k["user"], k["slot"], k["age_days"], k["reasons"], k["run_date"])


def comparable(overview: dict) -> dict:
    """All but where the runs were read and the key dates (the second server seeds seconds
    later): the figures."""
    same = {k: v for k, v in overview.items() if k not in ("inputs", "superseded_runs", "keys")}
    same["keys"] = [_key(k) for k in overview["keys"]]
    same["accounts"] = [{**a, "keys": [_key(k) for k in a["keys"]]} for a in overview["accounts"]]
    return same


@pytest.mark.parametrize("source", ["synced", "shards", "c7n-s3", "history"])
def test_the_same_runs_from_s3_or_in_shards_give_the_same_figures(reports, source):
    assert comparable(reports[source][0]) == comparable(reports["local"][0])
    assert reports[source][0]["inputs"]["skipped"]["unreadable"] == 0


def test_c7n_org_wrote_s3_in_its_dated_gzip_layout(reports):
    day1, day2 = (d.replace("-", "/") for d in reports["dates"])
    keys = reports["s3-keys"]
    assert all(k.endswith(".gz") for k in keys)
    assert any(k.startswith("org/prod/us-east-1/disable-abandoned/" + day2) for k in keys)
    assert any(k.startswith("org/dev/us-east-1/stale-keys/" + day1) for k in keys)
    assert len([k for k in keys if k.endswith("/resources.json.gz")]) == 21


def test_the_csv_has_every_stale_key_with_its_next_step(reports):
    overview, _ = reports["local"]
    rows = list(csv.DictReader(io.StringIO(reports["csv"])))
    assert sorted(
        (r["account_name"], r["user"], int(r["age_days"]), r["next_step"]) for r in rows
    ) == sorted((k["account_name"], k["user"], k["age_days"], "notify") for k in overview["keys"])
