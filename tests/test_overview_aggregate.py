"""Runs in, numbers out: each rule of the README's "The organisation on one page" on runs
made by hand, then whole synthetic fleets against a count made from their own keys."""

from __future__ import annotations

import random
from dataclasses import replace
from datetime import datetime, timedelta, timezone

import pytest

from c7n_keyage.overview.aggregate import aggregate, bucket_of
from c7n_keyage.overview.read import read_inputs
from c7n_keyage.overview.records import RetiredKey, Run, StaleKey
from tests.support.fleet import Account, add_keys, as_truth, truth, write_fleet

DAY1 = datetime(2026, 11, 25, 6, tzinfo=timezone.utc)
DAY2 = datetime(2026, 12, 2, 6, tzinfo=timezone.utc)


def key(user="alice", age=200, reasons=("unused",), created="2025-01-01T00:00:00+00:00", **kw):
    fields = dict(
        user=user,
        access_key_id=None,
        slot=1,
        last_rotated=created,
        last_used_date="2026-05-01T00:00:00+00:00",
        last_used_service="s3",
        last_used_region="us-east-1",
        reasons=tuple(reasons),
        age_days=age,
    )
    return StaleKey(**{**fields, **kw})


def run(*keys, account="111111111111", policy="report", at=DAY2, action=None, name=None, **kw):
    return Run(
        where=kw.pop("where", f"out/{account}/{policy}/{at.isoformat()}"),
        account_id=account,
        account_name=name,
        policy=policy,
        started=at,
        action=action,
        keys=tuple(keys),
        retired=tuple(kw.pop("retired", ())),
    )


def account(overview, account_id="111111111111"):
    return next(a for a in overview["accounts"] if a["account_id"] == account_id)


def test_nothing_read_gives_zeros_and_no_date():
    overview = aggregate([])
    assert overview["totals"] == {
        "accounts": 0,
        "accounts_with_stale": 0,
        "stale_users": 0,
        "stale_keys": 0,
        "by_reason": {"unused": 0, "never-used": 0, "unrotated": 0},
        "oldest_days": 0,
    }
    assert (overview["as_of"], overview["accounts"], overview["runs"]) == (None, [], [])
    assert sum(overview["age_buckets"].values()) == 0


def test_an_account_whose_run_found_nothing_is_listed_with_zeros():
    overview = aggregate([run(account="222222222222", name="quiet"), run(key())])
    quiet = account(overview, "222222222222")
    assert (quiet["account_name"], quiet["stale_keys"], quiet["stale_users"]) == ("quiet", 0, 0)
    assert quiet["by_reason"] == {"unused": 0, "never-used": 0, "unrotated": 0}
    assert quiet["oldest_days"] == 0
    assert overview["totals"]["accounts"] == 2 and overview["totals"]["accounts_with_stale"] == 1


def test_one_run_per_account_policy_and_date_the_latest_of_that_date():
    morning = run(key(user="gone"), at=DAY2)
    evening = run(key(user="kept"), at=DAY2 + timedelta(hours=12))
    other_policy = run(key(user="other"), policy="cis", at=DAY2 - timedelta(hours=5))
    read_twice = run(key(user="kept"), at=DAY2 + timedelta(hours=12), where="copy/of/evening")
    overview = aggregate([evening, morning, other_policy, read_twice])
    assert [k["user"] for k in overview["keys"]] == ["kept", "other"]
    assert overview["superseded_runs"] == 2


def test_an_accounts_figures_are_its_latest_dates_and_the_trend_has_every_date():
    old = run(key(user="a"), key(user="b"), key(user="c"), at=DAY1)
    new = run(key(user="a"), at=DAY2)
    elsewhere = run(key(user="z"), account="222222222222", at=DAY1)
    overview = aggregate([old, new, elsewhere])
    mine = account(overview)
    assert (mine["stale_keys"], mine["previous_stale_keys"], mine["previous_run"]) == (
        1,
        3,
        "2026-11-25",
    )
    # An account keeps its latest figures though it did not run on the latest date.
    assert account(overview, "222222222222")["stale_keys"] == 1
    assert overview["totals"]["stale_keys"] == 2
    assert overview["runs"] == [
        {
            "date": "2026-11-25",
            "stale_keys": 4,
            "remediated": 0,
            "accounts": {"111111111111": 3, "222222222222": 1},
        },
        {"date": "2026-12-02", "stale_keys": 1, "remediated": 0, "accounts": {"111111111111": 1}},
    ]
    assert (overview["first_run"], overview["as_of"]) == ("2026-11-25", "2026-12-02")


def test_the_same_key_in_two_policies_counts_once_with_both_reasons():
    # A report-only entry (creation time to the second, no ID) and a verified one (live
    # creation time with a fraction, and the ID) of one key.
    plain = key(reasons=("unused",))
    verified = key(
        reasons=("unrotated",),
        created="2025-01-01T00:00:00.250000+00:00",
        access_key_id="AKIAEXAMPLE000000001",
        slot=None,
    )
    overview = aggregate([run(plain), run(verified, policy="rotation", at=DAY2 + timedelta(1e-3))])
    (row,) = overview["keys"]
    assert row["reasons"] == ["unused", "unrotated"]
    assert row["access_key_id"] == "AKIAEXAMPLE000000001"
    assert account(overview)["by_reason"] == {"unused": 1, "never-used": 0, "unrotated": 1}
    assert overview["totals"]["stale_keys"] == 1


def test_keys_a_run_disabled_are_remediated_not_stale_unless_flagged_again_later():
    k1, k2 = key(user="a"), key(user="b")
    report = run(k1, k2, at=DAY2)
    disable = run(k1, policy="disable", at=DAY2 + timedelta(minutes=1), action="disabled")
    overview = aggregate([report, disable])
    assert [k["user"] for k in overview["keys"]] == ["b"]
    assert overview["remediation"]["actions"] == {"disabled": 1, "deleted": 0, "retired": 0}
    assert overview["runs"][-1]["remediated"] == 1
    # The report ran after the disable run and still flags a: its disabling did not hold.
    late_report = run(k1, k2, at=DAY2 + timedelta(minutes=2))
    again = aggregate([disable, late_report])
    assert sorted(k["user"] for k in again["keys"]) == ["a", "b"]


def test_remediation_counts_each_key_once_by_policy_over_all_dates():
    k1 = key(user="a", access_key_id="AKIAEXAMPLE000000001")
    k2 = key(user="b", access_key_id="AKIAEXAMPLE000000002")
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


def test_the_lifecycle_counts_the_latest_record_of_each_key():
    def record(key_id, status, used=False, policy="retire"):
        return RetiredKey("alice", key_id, "2026-11-01T00:00:00Z", policy, status, used)

    runs = [
        run(at=DAY1, retired=[record("K1", "Inactive"), record("K2", "Inactive")]),
        run(at=DAY2, retired=[record("K1", "Active", used=True), record("K3", "missing")]),
        run(account="222222222222", retired=[record("K1", "Inactive", policy="retire-90")]),
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
    overview = aggregate([run(*keys)], top=10)
    ages = [k["age_days"] for k in overview["keys"]]
    assert len(ages) == 10 and overview["keys_listed"] == 10
    assert ages == sorted((k.age_days for k in keys), reverse=True)[:10]
    assert overview["totals"]["stale_keys"] == 30


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
    assert stats.other_policy == len(fleet) * len(dates)
    assert as_truth(aggregate(runs)) == truth(fleet, dates)


def test_a_lifecycle_runs_results_decide_which_keys_leave_the_stale_count():
    from c7n_keyage.overview.records import Outcome

    retired = key(user="a", access_key_id="AKIAEXAMPLE000000001")
    failed = key(user="b", access_key_id="AKIAEXAMPLE000000002")
    report = run(retired, failed, at=DAY2)
    retire = run(
        retired,
        failed,
        policy="retire",
        at=DAY2 + timedelta(minutes=1),
        action="retired",
    )
    retire = replace(
        retire,
        step="retire-keys",
        outcomes=(
            Outcome("a", "AKIAEXAMPLE000000001", "retired"),
            Outcome("b", "AKIAEXAMPLE000000002", "failed"),
        ),
    )
    overview = aggregate([report, retire])
    assert [k["user"] for k in overview["keys"]] == ["b"]
    remediation = overview["remediation"]
    assert remediation["actions"]["retired"] == 1
    assert remediation["outcomes"]["retire-keys"]["retired"] == 1
    assert remediation["outcomes"]["retire-keys"]["failed"] == 1
    # A later run's result for the same key replaces the earlier one.
    again = replace(
        retire,
        started=DAY2 + timedelta(days=1),
        where="next-day",
        outcomes=(Outcome("b", "AKIAEXAMPLE000000002", "retired"),),
    )
    outcomes = aggregate([report, retire, again])["remediation"]["outcomes"]["retire-keys"]
    assert (outcomes["retired"], outcomes["failed"]) == (2, 0)
