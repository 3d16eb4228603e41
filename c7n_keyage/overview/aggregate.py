"""The fleet -> the overview's numbers, JSON-ready: made once, for the JSON, the page, the
CSV and the gate. Pure: the date things are measured from is the fleet's latest run date
(``as_of``), never the clock.

The headline, the accounts table and the trend's last point count the same thing: every
account with its policies' latest runs. An account whose latest run is more than
``grace_days`` before ``as_of`` (its runner stopped) keeps its last figures, marked as not
reporting with the days since; an account of the accounts file with no run at all is
listed apart, as not reporting.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterable
from dataclasses import dataclass, field

from c7n_keyage.names import REASONS
from c7n_keyage.overview import steps
from c7n_keyage.overview.fleet import Fleet
from c7n_keyage.overview.identity import Held
from c7n_keyage.overview.remediation import lifecycle_keys, summary

SCHEMA = "c7n-keyage-overview/2"
# (label, lowest age in days, highest or None): days since last use, or since creation.
BUCKETS = (
    ("0-90", 0, 90),
    ("91-180", 91, 180),
    ("181-365", 181, 365),
    ("366-730", 366, 730),
    ("731+", 731, None),
)
TOP_KEYS = 25
KEYS_PER_ACCOUNT = 10


@dataclass(frozen=True)
class Options:
    top: int = TOP_KEYS  # the oldest keys listed over the fleet
    per_account: int = KEYS_PER_ACCOUNT  # each account's oldest keys listed; 0: all
    grace_days: int = 0  # days an account may miss before it is not reporting
    names: dict[str, str] = field(default_factory=dict)  # an accounts file's, by ID


def bucket_of(age_days: int) -> str:
    for label, low, high in BUCKETS:
        if age_days >= low and (high is None or age_days <= high):
            return label
    return BUCKETS[0][0]  # a negative age cannot come from runs: counted as fresh


def numbers(keys: list[Held]) -> dict:
    """The figures of a set of stale keys (one account's, or summed, the fleet's)."""
    return {
        "stale_users": len({h.key.user for h in keys}),
        "stale_keys": len(keys),
        "by_reason": {r: sum(r in h.key.reasons for h in keys) for r in REASONS},
        "oldest_days": max((h.key.age_days for h in keys), default=0),
    }


def oldest_first(held: Held) -> tuple:
    key = held.key
    return (-key.age_days, held.run.account_id, key.user, key.slot or 0, key.access_key_id or "")


def key_row(held: Held, name: str | None) -> dict:
    key, run = held.key, held.run
    step, due = steps.stale_step(held.notified)
    return {
        "account_id": run.account_id,
        "account_name": name,
        "user": key.user,
        "owner": key.owner,
        "team": key.team,
        "access_key_id": key.access_key_id,
        "slot": key.slot,
        "age_days": key.age_days,
        "reasons": list(key.reasons),
        "last_used_date": key.last_used_date,
        "last_used_service": key.last_used_service,
        "last_used_region": key.last_used_region,
        "last_rotated": key.last_rotated,
        "policy": run.policy,
        "run_date": run.date.isoformat(),
        "next_step": step,
        "due": due,
    }


def retired_row(state: dict, name: str | None) -> dict | None:
    """A lifecycle key that needs a step; None when it needs none."""
    found = steps.lifecycle_step(state)
    if found is None:
        return None
    step, due = found
    return {**state, "account_name": name, "next_step": step, "due": due}


def account_name(fleet: Fleet, options: Options, account: str) -> str | None:
    return options.names.get(account) or fleet.name(account)


def _account(fleet: Fleet, options: Options, account: str, retired: list[dict]) -> dict:
    """One account's figures, its oldest keys and its retired keys needing a step."""
    held = sorted(fleet.state(account), key=oldest_first)
    last, _ = fleet.current[account]
    previous = fleet.previous.get(account)
    days = (fleet.as_of - last).days
    name = account_name(fleet, options, account)
    shown = held if options.per_account <= 0 else held[: options.per_account]
    return {
        "account_id": account,
        "account_name": name,
        **numbers(held),
        "last_run": last.isoformat(),
        "days_since_last_run": days,
        "reporting": days <= options.grace_days,
        "previous_run": previous[0].isoformat() if previous else None,
        "previous_stale_keys": previous[1] if previous else None,
        "policies": {p: r.date.isoformat() for p, r in sorted(fleet.runs[account].items())},
        "keys": [key_row(h, name) for h in shown],
        "keys_listed": len(shown),
        "retired_keys": retired,
    }


def _totals(accounts: list[dict], missing: list[dict], steps_count: dict) -> dict:
    return {
        "retired_keys": sum(len(a["retired_keys"]) for a in accounts),
        "accounts": len(accounts),
        "accounts_with_stale": sum(a["stale_keys"] > 0 for a in accounts),
        "accounts_not_reporting": sum(not a["reporting"] for a in accounts) + len(missing),
        "stale_users": sum(a["stale_users"] for a in accounts),
        "stale_keys": sum(a["stale_keys"] for a in accounts),
        "by_reason": {r: sum(a["by_reason"][r] for a in accounts) for r in REASONS},
        "oldest_days": max((a["oldest_days"] for a in accounts), default=0),
        "next_steps": steps_count,
    }


def _steps_count(fleet: Fleet, retired: list[dict]) -> dict:
    counts = dict.fromkeys(steps.STEPS, 0)
    for account in fleet.runs:
        for held in fleet.state(account):
            counts[steps.stale_step(held.notified)[0]] += 1
    for row in retired:
        counts[row["next_step"]] += 1
    return counts


def all_held(fleet: Fleet) -> Iterable[Held]:
    for account in sorted(fleet.runs):
        yield from fleet.state(account)


def _policies(fleet: Fleet) -> list[dict]:
    found: dict[str, dict] = {}
    for policies in fleet.runs.values():
        for policy, run in policies.items():
            entry = found.setdefault(policy, {"policy": policy, "last_run": "", "accounts": 0})
            entry["last_run"] = max(entry["last_run"], run.date.isoformat())
            entry["accounts"] += 1
    return [found[p] for p in sorted(found)]


def _ages(fleet: Fleet) -> dict[str, int]:
    ages = dict.fromkeys((label for label, _, _ in BUCKETS), 0)
    for held in all_held(fleet):
        ages[bucket_of(held.key.age_days)] += 1
    return ages


def overview(fleet: Fleet, options: Options = Options()) -> dict:
    """The overview's numbers; a fleet with no run gives zeros and no date."""
    fleet.close()
    states = lifecycle_keys(fleet.remediation)
    retired = [
        row
        for state in states
        if (row := retired_row(state, account_name(fleet, options, state["account_id"])))
    ]
    by_account: dict[str, list[dict]] = {}
    for row in retired:
        by_account.setdefault(row["account_id"], []).append(row)
    accounts = [_account(fleet, options, a, by_account.get(a, [])) for a in fleet.runs]
    accounts.sort(key=lambda a: (-a["stale_keys"], -a["oldest_days"], a["account_id"]))
    missing = [
        {"account_id": a, "account_name": n} for a, n in sorted(options.names.items())
        if a not in fleet.runs
    ]  # fmt: skip
    oldest = heapq.nsmallest(max(options.top, 0), all_held(fleet), key=oldest_first)
    return {
        "schema": SCHEMA,
        "first_run": fleet.first_run.isoformat() if fleet.first_run else None,
        "as_of": fleet.as_of.isoformat() if fleet.as_of else None,
        "grace_days": options.grace_days,
        "totals": _totals(accounts, missing, _steps_count(fleet, retired)),
        "accounts": accounts,
        "accounts_without_runs": missing,
        "age_buckets": _ages(fleet),
        "runs": list(fleet.points),
        "keys": [key_row(h, account_name(fleet, options, h.run.account_id)) for h in oldest],
        "keys_listed": len(oldest),
        "keys_per_account": options.per_account,
        "remediation": summary(fleet.remediation, states),
        "policies": _policies(fleet),
        "superseded_runs": fleet.superseded,
        "not_newer_runs": fleet.not_newer,
    }
