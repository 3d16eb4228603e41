"""Runs in, numbers out: each rule of docs/fleet-page.md on runs made by hand, then whole
synthetic fleets against a count made from their own keys."""

from __future__ import annotations

import random
from dataclasses import replace
from datetime import datetime, timedelta, timezone

import pytest

from c7n_keyage.dates import parse_iso
from c7n_keyage.overview.aggregate import Options, bucket_of, overview
from c7n_keyage.overview.inputs import read_inputs
from c7n_keyage.overview.runs import Outcome, RetiredKey, Run, StaleKey
from tests.support.fleet import Account, add_keys, as_truth, fold, truth, write_fleet

DAY1 = datetime(2026, 11, 25, 6, tzinfo=timezone.utc)
DAY2 = datetime(2026, 12, 2, 6, tzinfo=timezone.utc)
ID1, ID2 = "AKIAEXAMPLE000000001", "AKIAEXAMPLE000000002"


def key(user="alice", age=200, reasons=("unused",), created="2025-01-01T00:00:00+00:00", **kw):
    fields = dict(
        user=user,
        access_key_id=None,
        slot=1,
        last_rotated=created,
        created=int(parse_iso(created).timestamp()),
        last_used_date="2026-05-01T00:00:00+00:00",
        last_used_service="s3",
        last_used_region="us-east-1",
        reasons=tuple(reasons),
        age_days=age,
    )
    fields |= kw
    fields["verified"] = fields.get("verified", fields["access_key_id"] is not None)
    return StaleKey(**fields)


def run(*keys, account="111111111111", policy="report", at=DAY2, action=None, name=None, **kw):
    return Run(
        where=kw.pop("where", f"out/{account}/{policy}/{at.isoformat()}"),
        account_id=account,
        account_name=name,
        policy=policy,
        started=at,
        action=action,
        keys=tuple(keys),
        **kw,
    )


def aggregate(runs, **options) -> dict:
    return overview(fold(runs), Options(**options))


def account(found, account_id="111111111111"):
    return next(a for a in found["accounts"] if a["account_id"] == account_id)


def test_nothing_read_gives_zeros_and_no_date():
    found = aggregate([])
    assert found["totals"] == {
        "retired_keys": 0,
        "accounts": 0,
        "accounts_with_stale": 0,
        "accounts_not_reporting": 0,
        "stale_users": 0,
        "stale_keys": 0,
        "by_reason": {"unused": 0, "never-used": 0, "unrotated": 0},
        "oldest_days": 0,
        "next_steps": {"notify": 0, "retire": 0, "delete": 0, "restore": 0},
    }
    assert (found["as_of"], found["accounts"], found["runs"]) == (None, [], [])
    assert sum(found["age_buckets"].values()) == 0


def test_an_account_whose_run_found_nothing_is_listed_with_zeros():
    found = aggregate([run(account="222222222222", name="quiet"), run(key())])
    quiet = account(found, "222222222222")
    assert (quiet["account_name"], quiet["stale_keys"], quiet["stale_users"]) == ("quiet", 0, 0)
    assert quiet["by_reason"] == {"unused": 0, "never-used": 0, "unrotated": 0}
    assert (quiet["oldest_days"], quiet["keys"], quiet["reporting"]) == (0, [], True)
    assert found["totals"]["accounts"] == 2 and found["totals"]["accounts_with_stale"] == 1


def test_one_run_per_account_policy_and_date_the_latest_of_that_date():
    morning = run(key(user="gone"), at=DAY2)
    evening = run(key(user="kept"), at=DAY2 + timedelta(hours=12))
    other_policy = run(key(user="other"), policy="cis", at=DAY2 - timedelta(hours=5))
    read_twice = run(key(user="kept"), at=DAY2 + timedelta(hours=12), where="copy/of/evening")
    found = aggregate([evening, morning, other_policy, read_twice])
    assert [k["user"] for k in found["keys"]] == ["kept", "other"]
    assert (found["superseded_runs"], found["not_newer_runs"]) == (2, 0)


def test_each_account_counts_with_its_latest_runs_on_every_point():
    old = run(key(user="a"), key(user="b"), key(user="c"), at=DAY1)
    new = run(key(user="a"), at=DAY2)
    elsewhere = run(key(user="z"), account="222222222222", at=DAY1)
    found = aggregate([old, new, elsewhere])
    mine = account(found)
    assert (mine["stale_keys"], mine["previous_stale_keys"], mine["previous_run"]) == (
        1,
        3,
        "2026-11-25",
    )
    # It did not run on the latest date: it keeps its figures, marked as not reporting.
    silent = account(found, "222222222222")
    assert (silent["stale_keys"], silent["reporting"], silent["days_since_last_run"]) == (
        1,
        False,
        7,
    )
    assert found["totals"]["stale_keys"] == 2 == found["runs"][-1]["stale_keys"]
    assert found["runs"] == [
        {"date": "2026-11-25", "stale_keys": 4, "ran": 2, "remediated": 0,
         "accounts": {"111111111111": 3, "222222222222": 1}},
        {"date": "2026-12-02", "stale_keys": 2, "ran": 1, "remediated": 0,
         "accounts": {"111111111111": 1, "222222222222": 1}},
    ]  # fmt: skip
    assert (found["first_run"], found["as_of"]) == ("2026-11-25", "2026-12-02")


def test_grace_days_let_an_account_miss_runs_before_it_is_not_reporting():
    runs = [run(key(), at=DAY1), run(key(), account="222222222222", at=DAY2)]
    assert aggregate(runs, grace_days=6)["totals"]["accounts_not_reporting"] == 1
    assert aggregate(runs, grace_days=7)["totals"]["accounts_not_reporting"] == 0


def test_the_same_key_in_two_policies_counts_once_with_both_reasons():
    # A report-only entry (creation time to the second, no ID) and a verified one (live
    # creation time with a fraction, and the ID) of one key.
    plain = key(reasons=("unused",))
    verified = key(
        reasons=("unrotated",),
        last_rotated="2025-01-01T00:00:00.250000+00:00",
        access_key_id=ID1,
        slot=None,
    )
    found = aggregate([run(plain), run(verified, policy="rotation", at=DAY2 + timedelta(1e-3))])
    (row,) = found["keys"]
    assert (row["reasons"], row["access_key_id"], row["slot"]) == (["unused", "unrotated"], ID1, 1)
    assert account(found)["by_reason"] == {"unused": 1, "never-used": 0, "unrotated": 1}
    assert found["totals"]["stale_keys"] == 1


def test_keys_a_run_disabled_are_remediated_and_a_report_made_before_cannot_bring_them_back():
    k1, k2 = key(user="a"), key(user="b")
    report = run(k1, k2, at=DAY2)
    disable = run(k1, policy="disable", at=DAY2 + timedelta(minutes=1), action="disabled")
    found = aggregate([report, disable])
    assert [k["user"] for k in found["keys"]] == ["b"]
    assert found["remediation"]["actions"] == {"disabled": 1, "deleted": 0, "retired": 0}
    assert found["runs"][-1]["remediated"] == 1
    # A report-only run within four hours may have read a report made before the disable.
    soon = run(k1, k2, at=DAY2 + timedelta(hours=3, minutes=59))
    assert [k["user"] for k in aggregate([disable, soon])["keys"]] == ["b"]
    # Four hours on, its report is newer than the disable: the key is active again.
    later = run(k1, k2, at=DAY2 + timedelta(hours=4, minutes=1))
    assert sorted(k["user"] for k in aggregate([disable, later])["keys"]) == ["a", "b"]


def test_a_verified_flag_after_an_action_is_stale_at_once():
    retired = key(user="a", access_key_id=ID1)
    retire = run(retired, policy="retire", at=DAY2, action="retired")
    again = run(retired, policy="verify", at=DAY2 + timedelta(minutes=5))
    assert [k["user"] for k in aggregate([retire, again])["keys"]] == ["a"]


def test_a_restore_result_lets_a_report_flag_the_key_again():
    retired = key(user="a", access_key_id=ID1, verified=True)
    from_report = key(user="a")
    retire = run(retired, policy="retire", at=DAY2, action="retired")
    restore = run(
        policy="restore",
        at=DAY2 + timedelta(minutes=10),
        step="restore-keys",
        outcomes=(Outcome("a", ID1, "restored"),),
    )
    report = run(from_report, at=DAY2 + timedelta(minutes=20))
    assert aggregate([retire, report])["totals"]["stale_keys"] == 0
    assert aggregate([retire, restore, report])["totals"]["stale_keys"] == 1


def test_remediation_counts_each_key_once_by_policy_over_all_dates():
    k1 = key(user="a", access_key_id=ID1)
    k2 = key(user="b", access_key_id=ID2)
    runs = [
        run(k1, policy="disable", at=DAY1, action="disabled"),
        run(k1, k2, policy="disable", at=DAY2, action="disabled"),
        run(k2, policy="delete", at=DAY2 + timedelta(hours=1), action="deleted"),
        run(k1, policy="disable", account="222222222222", at=DAY1, action="disabled"),
    ]
    remediation = aggregate(runs)["remediation"]
    assert remediation["actions"] == {"disabled": 3, "deleted": 1, "retired": 0}
    assert [(p["policy"], p["action"], p["keys"], p["accounts"], p["last_acted"])
            for p in remediation["by_policy"]] == [
        ("delete", "deleted", 1, 1, "2026-12-02"),
        ("disable", "disabled", 3, 2, "2026-12-02"),
    ]  # fmt: skip


def record(key_id, status, used=False, policy="retire", after=None):
    return RetiredKey("alice", key_id, "2026-11-01T00:00:00Z", policy, status, used, after)


def test_the_lifecycle_counts_the_latest_record_of_each_key():
    runs = [
        run(at=DAY1, retired=(record("K1", "Inactive"), record("K2", "Inactive"))),
        run(at=DAY2, retired=(record("K1", "Active", used=True), record("K3", "missing"))),
        run(account="222222222222", retired=(record("K1", "Inactive", policy="retire-90"),)),
    ]
    remediation = aggregate(runs)["remediation"]
    assert remediation["lifecycle"] == {
        "retired": 2,
        "restored": 1,
        "deleted": 1,
        "used_since_retired": 1,
    }
    assert remediation["lifecycle_by_policy"] == [
        {"policy": "retire", "retired": 1, "restored": 1, "deleted": 1, "used_since_retired": 1},
        {"policy": "retire-90", "retired": 1, "restored": 0, "deleted": 0, "used_since_retired": 0},
    ]


def test_a_lifecycle_result_after_its_record_is_the_keys_state():
    """c7n writes the records a run read before its action: the action's result is later."""
    read = (record("K1", "Inactive", after="2026-12-30T00:00:00Z"),)
    restore = run(
        at=DAY2, retired=read, step="restore-keys", outcomes=(Outcome("alice", "K1", "restored"),)
    )
    delete = run(
        at=DAY2,
        retired=(record("K2", "Inactive"),),
        step="delete-retired-keys",
        outcomes=(Outcome("alice", "K2", "deleted"),),
    )
    failed = run(
        at=DAY2,
        retired=(record("K3", "Inactive"),),
        step="delete-retired-keys",
        outcomes=(Outcome("alice", "K3", "failed"),),
        policy="delete-2",
    )
    kept = aggregate([restore, delete, failed])
    assert kept["remediation"]["lifecycle"] == {
        "retired": 1,
        "restored": 1,
        "deleted": 1,
        "used_since_retired": 0,
    }
    # A retire result with no record yet: retired now, by that policy.
    retire = run(
        key(user="bob", access_key_id=ID2),
        policy="retire-90",
        at=DAY2,
        action="retired",
        step="retire-keys",
        outcomes=(Outcome("bob", ID2, "retired"),),
    )
    (row,) = aggregate([retire])["accounts"][0]["retired_keys"]
    assert (row["status"], row["policy"], row["retired_at"]) == (
        "retired",
        "retire-90",
        "2026-12-02T06:00:00Z",
    )
    assert (row["next_step"], row["due"]) == ("delete", None)
    # A later record of the same key (its delete date now known) is its state.
    seen = run(
        at=DAY2 + timedelta(days=1),
        policy="report-retired",
        retired=(replace(record(ID2, "Inactive", after="2027-01-01T00:00:00Z"), user="bob"),),
    )
    (row,) = aggregate([retire, seen])["accounts"][0]["retired_keys"]
    assert (row["next_step"], row["due"], row["policy"]) == ("delete", "2027-01-01", "retire")
    # fmt: skip


def test_next_steps_from_what_the_runs_say():
    told = key(user="told", access_key_id=ID1)
    untold = key(user="untold")
    notify = run(told, policy="notify", notifies=True)
    report = run(untold, told, at=DAY2 + timedelta(minutes=1))
    lifecycle = run(policy="lifecycle", at=DAY2 + timedelta(minutes=2), retired=(
        record("K1", "Inactive", after="2026-12-20T06:00:00Z"),
        record("K2", "Inactive", used=True),
        record("K3", "Active"),
    ))  # fmt: skip
    found = aggregate([notify, report, lifecycle])
    steps = {k["user"]: (k["next_step"], k["due"]) for k in found["keys"]}
    assert steps == {"told": ("retire", None), "untold": ("notify", None)}
    retired = {
        r["access_key_id"]: (r["next_step"], r["due"]) for r in account(found)["retired_keys"]
    }
    assert retired == {"K1": ("delete", "2026-12-20"), "K2": ("restore", None)}
    assert found["totals"]["next_steps"] == {"notify": 1, "retire": 1, "delete": 1, "restore": 1}
    assert found["totals"]["retired_keys"] == 2


def test_a_keys_row_has_every_field_the_json_documents():
    stale = key(owner="ana@example.com", team="payments", access_key_id=ID1)
    (row,) = aggregate([run(stale, name="prod", policy="stale-keys")])["keys"]
    assert row == {
        "account_id": "111111111111",
        "account_name": "prod",
        "user": "alice",
        "owner": "ana@example.com",
        "team": "payments",
        "access_key_id": ID1,
        "slot": 1,
        "age_days": 200,
        "reasons": ["unused"],
        "last_used_date": "2026-05-01T00:00:00+00:00",
        "last_used_service": "s3",
        "last_used_region": "us-east-1",
        "last_rotated": "2025-01-01T00:00:00+00:00",
        "policy": "stale-keys",
        "run_date": "2026-12-02",
        "next_step": "notify",
        "due": None,
    }


def test_owner_and_team_come_with_the_key():
    found = aggregate([run(key(owner="ana@example.com", team="payments"))])
    (row,) = found["keys"]
    assert (row["owner"], row["team"]) == ("ana@example.com", "payments")


def test_each_account_lists_its_oldest_keys_up_to_the_option():
    keys = [key(user=f"u{i:02d}", age=100 + i) for i in range(30)]
    found = aggregate([run(*keys)], per_account=5)
    mine = account(found)
    assert [k["age_days"] for k in mine["keys"]] == [129, 128, 127, 126, 125]
    assert (mine["keys_listed"], mine["stale_keys"], found["keys_per_account"]) == (5, 30, 5)
    assert len(account(aggregate([run(*keys)], per_account=0))["keys"]) == 30
    assert [k["age_days"] for k in account(aggregate([run(*keys)], per_account=1))["keys"]] == [129]


def test_an_accounts_file_names_accounts_and_lists_those_with_no_run():
    names = {"111111111111": "payments-prod", "999999999999": "never-ran"}
    found = aggregate([run(key(), name="from-path")], names=names)
    assert account(found)["account_name"] == "payments-prod"
    assert found["keys"][0]["account_name"] == "payments-prod"
    assert account(found)["keys"][0]["account_name"] == "payments-prod"
    assert found["accounts_without_runs"] == [
        {"account_id": "999999999999", "account_name": "never-ran"}
    ]
    assert found["totals"]["accounts_not_reporting"] == 1


def test_policies_read_say_their_latest_run():
    runs = [run(key(), at=DAY1, policy="old"), run(key(), policy="new")]
    runs.append(run(key(), account="222222222222", policy="new"))
    assert account(aggregate(runs))["policies"] == {"new": "2026-12-02", "old": "2026-11-25"}
    assert aggregate(runs)["policies"] == [
        {"policy": "new", "last_run": "2026-12-02", "accounts": 2},
        {"policy": "old", "last_run": "2026-11-25", "accounts": 1},
    ]


def test_a_late_run_updates_its_accounts_figures_and_the_latest_point_only():
    fleet = fold([run(key(user="a"), at=DAY1), run(key(user="x"), account="2", at=DAY2)])
    overview(fleet)
    late = run(key(user="a"), key(user="b"), at=DAY1 + timedelta(days=1))
    fleet.add(late)
    found = overview(fleet)
    assert [p["stale_keys"] for p in found["runs"]] == [1, 3]
    assert account(found)["last_run"] == "2026-11-26"
    fleet.add(run(key(user="a"), at=DAY1 - timedelta(days=1)))  # older than the one held
    assert overview(fleet)["not_newer_runs"] == 1


@pytest.mark.parametrize(
    "age, bucket",
    [(0, "0-90"), (90, "0-90"), (91, "91-180"), (180, "91-180"), (181, "181-365"),
     (365, "181-365"), (366, "366-730"), (730, "366-730"), (731, "731+"), (20000, "731+")],
)  # fmt: skip
def test_age_buckets_have_the_contracts_edges(age, bucket):
    assert bucket_of(age) == bucket
    assert aggregate([run(key(age=age))])["age_buckets"][bucket] == 1


def test_the_oldest_keys_come_first_and_the_list_is_capped():
    keys = [key(user=f"u{i:02d}", age=100 + (i * 37) % 50) for i in range(30)]
    found = aggregate([run(*keys)], top=10)
    ages = [k["age_days"] for k in found["keys"]]
    assert len(ages) == 10 and found["keys_listed"] == 10
    assert ages == sorted((k.age_days for k in keys), reverse=True)[:10]
    assert found["totals"]["stale_keys"] == 30


def test_keys_of_one_age_and_user_come_by_slot_unknown_first_then_by_id():
    later, earlier = "AKIAEXAMPLE00000000B", "AKIAEXAMPLE00000000A"
    keys = [
        key(slot=None, access_key_id=later, created="2025-01-01T00:00:00+00:00"),
        key(slot=1, created="2025-02-01T00:00:00+00:00"),
        key(slot=None, access_key_id=earlier, created="2025-03-01T00:00:00+00:00"),
        key(slot=1, access_key_id="AKIAEXAMPLE00000000C", created="2025-04-01T00:00:00+00:00"),
    ]
    found = aggregate([run(*keys)])
    assert [(k["slot"], k["access_key_id"]) for k in found["keys"]] == [
        (None, earlier),
        (None, later),
        (1, None),
        (1, "AKIAEXAMPLE00000000C"),
    ]


def test_a_negative_age_counts_as_fresh():
    """No run gives one (ages are counted from 0), but a history edited by hand could."""
    assert bucket_of(-1) == "0-90"
    assert aggregate([run(key(age=-1))])["age_buckets"]["0-90"] == 1


def test_accounts_are_sorted_by_stale_keys_then_age():
    runs = [
        run(key(age=100), account="1"),
        run(key(age=900), account="2"),
        run(key(user="a"), key(user="b"), account="3"),
        run(account="4"),
    ]
    assert [a["account_id"] for a in aggregate(runs)["accounts"]] == ["3", "2", "1", "4"]


@pytest.mark.parametrize("seed", [1, 2, 3, 4, 5])
def test_whole_fleets_match_a_count_made_from_their_own_keys(tmp_path, seed):
    """Random fleets over random dates, some accounts disabling keys from a random date:
    written as c7n-org writes, read back and aggregated, equal to ``truth``."""
    rng = random.Random(seed)
    start = datetime(2026, 9, 1, 5, tzinfo=timezone.utc)
    dates = sorted(
        start + timedelta(days=d, minutes=rng.randint(0, 600))
        for d in rng.sample(range(90), rng.randint(1, 6))
    )
    fleet = []
    for i in range(rng.randint(1, 12)):
        acct = Account(f"{300000000000 + i}", f"acct-{i}")
        add_keys(acct, rng, rng.randint(0, 25), start)
        # Young keys that cross 90 days somewhere in the window, or never.
        add_keys(
            acct,
            rng,
            rng.randint(0, 10),
            start,
            lambda: (rng.randint(1, 400), rng.choice((None, rng.randint(0, 120)))),
        )
        for k in acct.keys:  # the rule never uses a date after creation
            if k.used and k.used < k.created:
                k.used = k.created
        if rng.random() < 0.3:
            acct.disable_from = rng.choice(dates)
        fleet.append(acct)
    write_fleet(tmp_path, fleet, dates, other_policy=True)
    runs, stats = read_inputs([str(tmp_path)], warn=pytest.fail)
    found = overview(fold(runs))
    assert stats.other_policy == len(fleet) * len(dates)
    assert as_truth(found) == truth(fleet, dates)


def test_a_retirement_time_is_written_in_utc_whatever_the_machines_zone(monkeypatch):
    import time

    monkeypatch.setenv("TZ", "America/New_York")
    time.tzset()
    try:
        retire = run(key(user="bob", access_key_id=ID2), policy="retire", at=DAY2,
                     action="retired", step="retire-keys",
                     outcomes=(Outcome("bob", ID2, "retired"),))  # fmt: skip
        (row,) = aggregate([retire])["accounts"][0]["retired_keys"]
    finally:
        monkeypatch.delenv("TZ")
        time.tzset()
    assert row["retired_at"] == "2026-12-02T06:00:00Z"
