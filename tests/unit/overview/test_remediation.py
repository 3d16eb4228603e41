"""The key lifecycle on the fleet page: each key's state from its latest record and its
latest state-changing result (the row of a retired key, every field the JSON documents),
and tallies that do not depend on the order runs are read in."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from c7n_keyage.overview.aggregate import overview
from c7n_keyage.overview.fleet import Fleet
from c7n_keyage.overview.page import render_html
from c7n_keyage.overview.runs import Outcome, RetiredKey, Run, StaleKey
from tests.support.fleet import fold
from tests.support.page import parse

ACCOUNT = "111111111111"
KEY = "AKIAEXAMPLE000000001"
DAY1 = datetime(2026, 11, 4, 6, tzinfo=timezone.utc)
DAY2 = DAY1 + timedelta(weeks=1)
DAY3 = DAY2 + timedelta(weeks=1)


def flagged(user: str = "alice") -> StaleKey:
    """The key as a retire policy's filter flagged it (verified, with its ID)."""
    return StaleKey(user, KEY, 1, "2025-01-01T00:00:00+00:00", 1735689600,
                    "2026-05-01T00:00:00+00:00", "s3", "us-east-1", ("unused",), 200,
                    verified=True)  # fmt: skip


def run(policy: str, at: datetime, **kw) -> Run:
    return Run(f"out/{ACCOUNT}/{policy}/{at:%Y%m%dT%H%M%S}", ACCOUNT, "prod", policy, at,
               kw.pop("action", None), kw.pop("keys", ()), **kw)  # fmt: skip


def retire(at: datetime, policy: str = "retire-90") -> Run:
    """A retire-keys run that retired the key (its policy has access-key-unused only, so
    it carries no record)."""
    return run(policy, at, action="retired", keys=(flagged(),), step="retire-keys",
               outcomes=(Outcome("alice", KEY, "retired"),))  # fmt: skip


def record(status: str, retired: datetime, used=False, after=None, policy="retire-90"):
    """A c7n:retired-keys record as retired-keys writes it."""
    return RetiredKey("alice", KEY, f"{retired:%Y-%m-%dT%H:%M:%SZ}", policy, status, used,
                      after and f"{after:%Y-%m-%dT%H:%M:%SZ}")  # fmt: skip


def read(at: datetime, *records: RetiredKey, policy: str = "report-retired") -> Run:
    """A run of a policy with the retired-keys filter: the records it read."""
    return run(policy, at, retired=records)


def retired_rows(runs: list[Run]) -> list[dict]:
    (account,) = overview(fold(runs))["accounts"]
    return account["retired_keys"]


def test_a_key_retired_with_no_record_yet_is_retired_then_by_its_policy():
    (row,) = retired_rows([retire(DAY2)])
    # Every field docs/fleet-page.md names for retired_keys[], and nothing else.
    assert row == {
        "account_id": ACCOUNT,
        "account_name": "prod",
        "access_key_id": KEY,
        "user": "alice",
        "status": "retired",
        "retired_at": "2026-11-11T06:00:00Z",
        "policy": "retire-90",
        "used_since_retired": False,
        "delete_after": None,
        "next_step": "delete",
        "due": None,
    }
    page = parse(render_html(overview(fold([retire(DAY2)]))))
    cells = page.find("table", id="retired-0").find("tbody").find("tr").iter()
    words = [" ".join(c.text().split()) for c in cells if c.tag in ("th", "td")]
    assert words == ["alice", KEY, "2026-11-11", "retire-90", "no", "delete (no date set)"]


def test_a_key_retired_again_since_its_latest_record_is_retired_anew():
    """Re-enabled by hand and used (its record says so), then retired again: the earlier
    retirement's date, use and delete date are no longer the key's."""
    earlier = record("Active", DAY1 - timedelta(days=40), used=True, after=DAY1)
    (row,) = retired_rows([read(DAY1, earlier), retire(DAY2, policy="retire-45")])
    assert row == {
        "account_id": ACCOUNT,
        "account_name": "prod",
        "access_key_id": KEY,
        "user": "alice",
        "status": "retired",
        "retired_at": "2026-11-11T06:00:00Z",
        "policy": "retire-45",
        "used_since_retired": False,
        "delete_after": None,
        "next_step": "delete",
        "due": None,
    }


def test_a_record_read_at_the_start_of_the_retirement_keeps_its_delete_date():
    """Two runs of one start: a record saying Inactive was read after the retirement
    (retire-keys acts on active keys only), so it is the word on the key, with its date."""
    written = record("Inactive", DAY2 + timedelta(seconds=3), after=DAY2 + timedelta(days=30))
    (row,) = retired_rows([retire(DAY2), read(DAY2, written, policy="delete-30")])
    assert (row["status"], row["retired_at"], row["policy"]) == (
        "retired",
        "2026-11-11T06:00:03Z",
        "retire-90",
    )
    assert (row["delete_after"], row["next_step"], row["due"]) == (
        "2026-12-11T06:00:00Z",
        "delete",
        "2026-12-11",
    )


def test_a_restore_after_the_latest_record_counts_under_the_policy_that_retired_it():
    """The restore's result says the key is active again; who retired it, and that it was
    used since, are still its record's."""
    retired = record("Inactive", DAY1 - timedelta(days=10), used=True)
    restore = run("restore-keys", DAY2, step="restore-keys",
                  outcomes=(Outcome("alice", KEY, "restored"),))  # fmt: skip
    found = overview(fold([read(DAY1, retired), restore]))
    remediation = found["remediation"]
    assert remediation["lifecycle"] == {
        "retired": 0,
        "restored": 1,
        "deleted": 0,
        "used_since_retired": 1,
    }
    assert remediation["lifecycle_by_policy"] == [
        {"policy": "retire-90", "retired": 0, "restored": 1, "deleted": 0, "used_since_retired": 1}
    ]
    assert found["accounts"][0]["retired_keys"] == []


def in_either_order(first: Run, second: Run) -> tuple[dict, dict]:
    """The overview of the two runs added one way, then the other (as a history read one
    day and a late upload the next would add them)."""
    found = []
    for runs in ((first, second), (second, first)):
        fleet = Fleet()
        for each in runs:
            fleet.add(each)
        found.append(overview(fleet))
    return found[0], found[1]


def result(policy: str, step: str, outcome: str) -> Run:
    return run(policy, DAY2, step=step, outcomes=(Outcome("alice", KEY, outcome),))


def test_two_records_of_one_start_give_the_same_key_in_either_order():
    """Two policies read the key at the same start; one of them deletes after a grace."""
    plain = read(DAY2, record("Inactive", DAY1), policy="report-retired")
    dated = read(DAY2, record("Inactive", DAY1, after=DAY3), policy="delete-14")
    one, other = in_either_order(plain, dated)
    assert one == other
    (row,) = one["accounts"][0]["retired_keys"]
    assert (row["next_step"], row["due"]) == ("delete", "2026-11-18")


@pytest.mark.parametrize(
    "first, second, changed",
    [
        (
            result("restore", "restore-keys", "restored"),
            result("delete-30", "delete-retired-keys", "deleted"),
            1,
        ),
        (
            result("delete-30", "delete-retired-keys", "kept"),
            result("delete-60", "delete-retired-keys", "failed"),
            0,
        ),
    ],
    ids=["state-changing results", "results of one action"],
)
def test_two_results_of_one_start_give_the_same_figures_in_either_order(first, second, changed):
    """``changed``: the key's state, when a result changed it, counts once."""
    one, other = in_either_order(first, second)
    assert one == other
    remediation = one["remediation"]
    states = ("retired", "restored", "deleted")
    assert sum(remediation["lifecycle"][s] for s in states) == changed
    latest = {step: sum(counts.values()) for step, counts in remediation["outcomes"].items()}
    assert latest == dict.fromkeys({first.step, second.step}, 1)
