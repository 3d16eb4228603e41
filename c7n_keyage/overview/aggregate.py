"""Runs in, numbers out: pure (no clock, no files), computed once for the JSON and the HTML.

The rules, in the order they apply (README, "The organisation on one page"):

1. One run per account, policy and date (UTC): the latest that day; earlier ones, and the
   same run read twice (overlapping inputs), are counted as superseded.
2. An account's state on a date: its runs of that date in the order they started. A
   report-only run (or a dry run) adds the keys it flagged; a run whose policy disabled,
   deleted or retired its flagged keys takes them out and counts them as remediated. The
   same key in two policies' outputs counts once (by user and creation time), with the
   reasons of both.
3. The accounts table, the totals, the age buckets and the oldest keys are each account's
   state on its latest date; the trend (``runs``) is every date's.
4. Remediation: keys acted on over all dates, each once; the key lifecycle's records
   (``c7n:retired-keys``), the latest per key; the lifecycle actions' own per-key results
   (c7n's ``action-<name>`` files), the latest outcome per key and action. Where a run has
   such results, only the keys they say were retired leave the stale count.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import replace
from datetime import date, datetime, timezone

from c7n_keyage.overview.records import OUTCOMES, REASONS, STATUSES, RetiredKey, Run, StaleKey

SCHEMA = "c7n-keyage-overview/1"
# (label, lowest age in days, highest or None): days since last use, or since creation.
BUCKETS = (
    ("0-90", 0, 90),
    ("91-180", 91, 180),
    ("181-365", 181, 365),
    ("366-730", 366, 730),
    ("731+", 731, None),
)
ACTIONS = ("disabled", "deleted", "retired")
TOP_KEYS = 100

DayState = tuple[dict[tuple, tuple[StaleKey, Run]], list[tuple[StaleKey, Run]]]


def bucket_of(age_days: int) -> str:
    for label, low, high in BUCKETS:
        if age_days >= low and (high is None or age_days <= high):
            return label
    return BUCKETS[0][0]  # a negative age cannot come from records: counted as fresh


def _same_key(key: StaleKey) -> tuple:
    # A report's creation time is to the second; a live one may carry a fraction or
    # another offset: the same instant is the same key.
    if key.last_rotated is None:
        return key.identity
    try:
        moment = datetime.fromisoformat(key.last_rotated)
    except ValueError:
        return key.identity
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return (key.user, "created", moment.astimezone(timezone.utc).replace(microsecond=0))


def select(runs: Iterable[Run]) -> tuple[dict[tuple[str, date], list[Run]], int]:
    """Rule 1: {(account, date): that date's runs in start order}, and how many were
    superseded."""
    latest: dict[tuple[str, str, date], Run] = {}
    count = 0
    for run in runs:
        count += 1
        slot = (run.account_id, run.policy, run.date)
        kept = latest.get(slot)
        if kept is None or (run.started, run.where) > (kept.started, kept.where):
            latest[slot] = run
    by_day: dict[tuple[str, date], list[Run]] = defaultdict(list)
    for (account, _, day), run in latest.items():
        by_day[(account, day)].append(run)
    for day_runs in by_day.values():
        day_runs.sort(key=lambda r: (r.started, r.where))
    return dict(by_day), count - len(latest)


def day_state(runs: list[Run]) -> DayState:
    """Rule 2: the keys still stale after a date's runs, and those its runs acted on."""
    stale: dict[tuple, tuple[StaleKey, Run]] = {}
    acted: list[tuple[StaleKey, Run]] = []
    for run in runs:
        # Without results, the policy's word: every key it flagged was acted on. With them
        # (the lifecycle's actions), only the keys they say; a failed one is still stale.
        done = run.done()
        for key in run.keys:
            same = _same_key(key)
            if run.action and (done is None or key.access_key_id in done):
                stale.pop(same, None)
                acted.append((key, run))
                continue
            if same in stale:
                seen = stale[same][0]
                key = replace(
                    key,
                    reasons=tuple(r for r in REASONS if r in key.reasons or r in seen.reasons),
                    access_key_id=key.access_key_id or seen.access_key_id,
                )
            stale[same] = (key, run)
    return stale, acted


def numbers(keys: list[StaleKey]) -> dict:
    """The per-account figures (and, summed, the totals) for a set of stale keys."""
    return {
        "stale_users": len({k.user for k in keys}),
        "stale_keys": len(keys),
        "by_reason": {r: sum(r in k.reasons for k in keys) for r in REASONS},
        "oldest_days": max((k.age_days for k in keys), default=0),
    }


def _key_row(key: StaleKey, run: Run, name: str | None) -> dict:
    return {
        "account_id": run.account_id,
        "account_name": name,
        "user": key.user,
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
    }


def _remediation(states: dict[tuple[str, date], DayState], runs: list[Run]) -> dict:
    acted_keys: dict[str, set] = {a: set() for a in ACTIONS}
    by_policy: dict[tuple[str, str], dict] = {}
    for (account, day), (_, acted) in sorted(states.items()):
        for key, run in acted:
            one = (account, key.access_key_id or _same_key(key))
            acted_keys[run.action].add(one)
            entry = by_policy.setdefault(
                (run.policy, run.action), {"keys": set(), "accounts": set(), "last_acted": day}
            )
            entry["keys"].add(one)
            entry["accounts"].add(account)
            entry["last_acted"] = max(entry["last_acted"], day)
    # The lifecycle's records are its own state: the latest record of each key wins.
    records: dict[tuple[str, str], RetiredKey] = {}
    for run in sorted(runs, key=lambda r: (r.started, r.where)):
        for record in run.retired:
            records[(run.account_id, record.access_key_id)] = record
    outcomes = ("retired", "restored", "deleted", "used_since_retired")
    lifecycle = dict.fromkeys(outcomes, 0)
    lifecycle_by_policy: dict[str, dict] = {}
    for record in records.values():
        per_policy = lifecycle_by_policy.setdefault(record.policy, dict.fromkeys(outcomes, 0))
        for counts in (lifecycle, per_policy):
            counts[STATUSES[record.status]] += 1
            counts["used_since_retired"] += record.used_since_retired
    # The lifecycle actions' own results: the latest outcome of each key, per action.
    latest: dict[tuple[str, str, str], tuple[str, str]] = {}
    for run in sorted(runs, key=lambda r: (r.started, r.where)):
        for result in run.outcomes or ():
            latest[(run.account_id, result.access_key_id, run.step)] = (run.policy, result.outcome)
    outcomes: dict[str, dict[str, int]] = {}
    outcomes_by_policy: dict[tuple[str, str], dict[str, int]] = {}
    for (_, _, step), (policy, outcome) in latest.items():
        for counts in (
            outcomes.setdefault(step, dict.fromkeys(OUTCOMES, 0)),
            outcomes_by_policy.setdefault((policy, step), dict.fromkeys(OUTCOMES, 0)),
        ):
            counts[outcome] += 1
    return {
        "actions": {a: len(acted_keys[a]) for a in ACTIONS},
        "by_policy": [
            {
                "policy": policy,
                "action": action,
                "keys": len(entry["keys"]),
                "accounts": len(entry["accounts"]),
                "last_acted": entry["last_acted"].isoformat(),
            }
            for (policy, action), entry in sorted(by_policy.items())
        ],
        "lifecycle": lifecycle,
        "lifecycle_by_policy": [
            {"policy": policy, **counts} for policy, counts in sorted(lifecycle_by_policy.items())
        ],
        "outcomes": dict(sorted(outcomes.items())),
        "outcomes_by_policy": [
            {"policy": policy, "action": step, **counts}
            for (policy, step), counts in sorted(outcomes_by_policy.items())
        ],
    }


def aggregate(runs: Iterable[Run], top: int = TOP_KEYS) -> dict:
    """The overview's numbers, JSON-ready; ``top`` caps the list of oldest keys."""
    runs = list(runs)
    by_day, superseded = select(runs)
    states = {slot: day_state(day_runs) for slot, day_runs in by_day.items()}
    names: dict[str, str] = {}
    for run in sorted(runs, key=lambda r: r.started):
        if run.account_name:
            names[run.account_id] = run.account_name
    days_of: dict[str, list[date]] = defaultdict(list)
    for account, day in sorted(states):
        days_of[account].append(day)

    accounts, current = [], []
    for account, days in days_of.items():
        stale = states[(account, days[-1])][0]
        previous = states[(account, days[-2])][0] if len(days) > 1 else None
        current += [(key, run) for key, run in stale.values()]
        accounts.append(
            {
                "account_id": account,
                "account_name": names.get(account),
                **numbers([key for key, _ in stale.values()]),
                "last_run": days[-1].isoformat(),
                "previous_run": days[-2].isoformat() if previous is not None else None,
                "previous_stale_keys": len(previous) if previous is not None else None,
            }
        )
    accounts.sort(key=lambda a: (-a["stale_keys"], -a["oldest_days"], a["account_id"]))

    totals = {
        "accounts": len(accounts),
        "accounts_with_stale": sum(a["stale_keys"] > 0 for a in accounts),
        "stale_users": sum(a["stale_users"] for a in accounts),
        "stale_keys": sum(a["stale_keys"] for a in accounts),
        "by_reason": {r: sum(a["by_reason"][r] for a in accounts) for r in REASONS},
        "oldest_days": max((a["oldest_days"] for a in accounts), default=0),
    }
    age_buckets = dict.fromkeys((label for label, _, _ in BUCKETS), 0)
    for key, _ in current:
        age_buckets[bucket_of(key.age_days)] += 1

    trend: dict[date, dict] = {}
    for (account, day), (stale, acted) in sorted(states.items(), key=lambda s: (s[0][1], s[0][0])):
        entry = trend.setdefault(
            day, {"date": day.isoformat(), "stale_keys": 0, "remediated": 0, "accounts": {}}
        )
        entry["accounts"][account] = len(stale)
        entry["stale_keys"] += len(stale)
        entry["remediated"] += len({_same_key(key) for key, _ in acted})

    oldest = sorted(
        current, key=lambda kr: (-kr[0].age_days, kr[1].account_id, kr[0].user, kr[0].slot or 0)
    )
    all_days = sorted({day for _, day in states})
    return {
        "schema": SCHEMA,
        "first_run": all_days[0].isoformat() if all_days else None,
        "as_of": all_days[-1].isoformat() if all_days else None,
        "totals": totals,
        "accounts": accounts,
        "age_buckets": age_buckets,
        "runs": [trend[day] for day in sorted(trend)],
        "keys": [_key_row(key, run, names.get(run.account_id)) for key, run in oldest[:top]],
        "keys_listed": min(len(oldest), top),
        "remediation": _remediation(states, runs),
        "superseded_runs": superseded,
    }
