"""The numbers real fleets produce, each scenario written as c7n and the plugin write runs,
reported by ``c7n-keyage report`` and checked against a count the test makes its own way
from the scenario's definition (never by calling the aggregation)."""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta, timezone

from c7n_keyage.overview.cli import main
from tests.support.fleet import entry, write_hand_run

DAY = datetime(2026, 11, 2, 6, tzinfo=timezone.utc)
CREATED = "2025-01-01T00:00:00+00:00"
USED = "2026-03-01T00:00:00+00:00"
RETIRE = [{"type": "retire-keys"}]
RESTORE_FILTERS = [{"type": "retired-keys"}]


def report(tmp_path, *options: str) -> dict:
    out = tmp_path / "overview.json"
    assert main(["report", str(tmp_path / "runs"), "--json", str(out), *options]) == 0
    return json.loads(out.read_text())


def stale_users(prefix: str, count: int) -> dict[str, list[dict]]:
    return {f"{prefix}-{n:02d}": [entry(1, CREATED, used=USED)] for n in range(count)}


def test_day_shards_count_every_account_as_of_each_date(tmp_path):
    """Two runners, each covering its own accounts on alternate days: as of a date, an
    account counts with its latest run on or before that date."""
    shards = {"111111111111": 10, "222222222222": 10}
    ran: dict[date, set[str]] = {}
    for day in range(6):
        account = sorted(shards)[day % 2]
        started = DAY + timedelta(days=day)
        write_hand_run(tmp_path / "runs", account, "stale-keys", started, stale_users("u", 10))
        ran.setdefault(started.date(), set()).add(account)
    overview = report(tmp_path)
    seen: set[str] = set()
    expected = {}
    for day in sorted(ran):
        seen |= ran[day]
        expected[day.isoformat()] = sum(shards[a] for a in seen)
    assert {p["date"]: p["stale_keys"] for p in overview["runs"]} == expected
    assert overview["runs"][-1]["stale_keys"] == overview["totals"]["stale_keys"] == 20


def test_the_latest_run_is_per_account_and_policy_either_side_of_midnight(tmp_path):
    """A daily policy at 23:50 and a rotation policy at 00:10 the next day, in one account:
    both policies' keys are the account's."""
    runs = tmp_path / "runs"
    late = DAY.replace(hour=23, minute=50)
    write_hand_run(runs, "111111111111", "unused", late, stale_users("idle", 2))
    rotation = {"old": [entry(1, CREATED, used=USED, reasons=("unrotated",))]}
    write_hand_run(runs, "111111111111", "rotation", late + timedelta(minutes=20), rotation)
    overview = report(tmp_path)
    assert overview["totals"]["stale_keys"] == 2 + 1
    assert overview["totals"]["by_reason"] == {"unused": 2, "never-used": 0, "unrotated": 1}


def test_two_keys_created_in_the_same_second_are_two_keys(tmp_path):
    """One Terraform apply made both keys: their IDs tell them apart, their creation time
    does not. A report-only entry (no ID) of each, by slot, is one of them, not a third."""
    runs = tmp_path / "runs"
    twins = [
        entry(None, CREATED, used=USED, key_id="AKIAEXAMPLETWIN00001"),
        entry(None, CREATED, used=USED, key_id="AKIAEXAMPLETWIN00002"),
    ]
    write_hand_run(runs, "111111111111", "verified", DAY, {"deploy": twins})
    by_slot = {"deploy": [entry(1, CREATED, used=USED), entry(2, CREATED, used=USED)]}
    write_hand_run(runs, "111111111111", "report-only", DAY + timedelta(minutes=1), by_slot)
    overview = report(tmp_path)
    assert overview["totals"]["stale_keys"] == 2


def lifecycle_record(key_id: str, status: str, retired: datetime) -> dict:
    return {
        "access_key_id": key_id,
        "retired_at": retired.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "policy": "retire",
        "status": status,
        "used_since_retired": False,
    }


def test_a_retire_then_a_restore_shows_the_key_restored(tmp_path):
    runs = tmp_path / "runs"
    key = entry(1, CREATED, used=USED, key_id="AKIAEXAMPLERETIRED01")
    retired = [{"UserName": "app", "AccessKeyId": key["access_key_id"], "outcome": "retired"}]
    write_hand_run(
        runs, "111111111111", "retire", DAY, {"app": [key]}, actions=RETIRE,
        results={"action-retirekeys": retired},
    )  # fmt: skip
    # The restore's filter reads the record as it is before the action: Inactive.
    restored = [dict(retired[0], outcome="restored")]
    write_hand_run(
        runs, "111111111111", "restore", DAY + timedelta(hours=2), {},
        filters=RESTORE_FILTERS, actions=[{"type": "restore-keys"}],
        records={"app": [lifecycle_record(key["access_key_id"], "Inactive", DAY)]},
        results={"action-restorekeys": restored},
    )  # fmt: skip
    lifecycle = report(tmp_path)["remediation"]["lifecycle"]
    assert (lifecycle["retired"], lifecycle["restored"]) == (0, 1)


def test_a_report_read_before_a_retire_does_not_bring_its_keys_back(tmp_path):
    """A retire at 06:00, then a report-only policy whose credential report was made before
    it (c7n's cache, or AWS's four hours): the keys the retire disabled are not stale."""
    runs = tmp_path / "runs"
    ids = ("AKIAEXAMPLERETIRED01", "AKIAEXAMPLERETIRED02")
    verified = [entry(s, CREATED, used=USED, key_id=k) for s, k in zip((1, 2), ids, strict=True)]
    outcomes = [{"UserName": "app", "AccessKeyId": k, "outcome": "retired"} for k in ids]
    write_hand_run(
        runs, "111111111111", "retire", DAY, {"app": verified}, actions=RETIRE,
        results={"action-retirekeys": outcomes},
    )  # fmt: skip
    from_the_old_report = {"app": [entry(1, CREATED, used=USED), entry(2, CREATED, used=USED)]}
    later = DAY + timedelta(minutes=5)
    write_hand_run(runs, "111111111111", "report-only", later, from_the_old_report)
    overview = report(tmp_path)
    assert overview["totals"]["stale_keys"] == 0
    assert overview["remediation"]["actions"]["retired"] == 2


def test_an_account_that_stopped_reporting_is_marked_and_counted_everywhere(tmp_path):
    runs = tmp_path / "runs"
    days = [DAY + timedelta(days=d) for d in range(3)]
    for started in days:
        write_hand_run(runs, "111111111111", "stale-keys", started, stale_users("a", 3))
    for started in days[:1]:  # its runner failed after the first date
        write_hand_run(runs, "222222222222", "stale-keys", started, stale_users("b", 5))
    overview = report(tmp_path)
    accounts = {a["account_id"]: a for a in overview["accounts"]}
    silent = accounts["222222222222"]
    assert (silent["reporting"], silent["last_run"], silent["days_since_last_run"]) == (
        False,
        days[0].date().isoformat(),
        2,
    )
    assert accounts["111111111111"]["reporting"] is True
    assert overview["totals"]["accounts_not_reporting"] == 1
    table = sum(a["stale_keys"] for a in overview["accounts"])
    assert overview["totals"]["stale_keys"] == table == overview["runs"][-1]["stale_keys"] == 8
