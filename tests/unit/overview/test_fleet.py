"""The fleet as runs are added: each date's point counts the keys acted on that date, and
an account is named as its latest run names it, whatever order the runs come in."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from c7n_keyage.overview.aggregate import overview
from c7n_keyage.overview.fleet import Fleet
from c7n_keyage.overview.runs import Run, StaleKey

DAY = datetime(2026, 11, 2, 6, tzinfo=timezone.utc)


def flagged(user: str, key_id: str) -> StaleKey:
    return StaleKey(user, key_id, 1, "2025-01-01T00:00:00+00:00", 1735689600, None, None,
                    None, ("never-used",), 300, verified=True)  # fmt: skip


def run(account: str, at: datetime, *keys: StaleKey, action=None, name=None) -> Run:
    return Run(f"out/{account}/{at:%H%M}", account, name, "p", at, action, keys)


def test_a_dates_point_counts_every_key_acted_on_that_date():
    fleet = Fleet()
    fleet.add(run("111111111111", DAY, flagged("a", "AKIAEXAMPLE000000001"), action="disabled"))
    later = DAY + timedelta(hours=1)
    fleet.add(run("222222222222", later, flagged("b", "AKIAEXAMPLE000000002"), action="disabled"))
    (point,) = overview(fleet)["runs"]
    assert (point["date"], point["ran"], point["remediated"]) == ("2026-11-02", 2, 2)


def test_an_account_is_named_by_its_latest_run_even_one_read_first():
    fleet = Fleet()
    fleet.add(run("111111111111", DAY + timedelta(days=1), name="payments-prod"))
    fleet.add(run("111111111111", DAY, name="payments-old"))  # a late upload
    (account,) = overview(fleet)["accounts"]
    assert account["account_name"] == "payments-prod"
