"""What remediation did, over every run read: tallies that do not depend on order. Pure.

- Keys acted on (disabled, deleted, retired), each key once over all dates, and by policy.
- The key lifecycle, per key: its latest ``c7n:retired-keys`` record (what the lifecycle's
  filter saw, before its run's action), unless a lifecycle action's result for the key
  (retired, restored, deleted) is as late or later: c7n writes the records before the
  action runs, so a restore's own result, not the record it read, says the key is restored.
- The lifecycle actions' own results: the latest of each key, per action.

Each keeps the latest by run start, and of two runs of one start the greater value, so
runs may come in any order (a late run, a history updated day by day) and the same run read
twice changes nothing.
"""

from __future__ import annotations

from dataclasses import astuple, dataclass, field, is_dataclass
from datetime import datetime, timezone

from c7n_keyage.names import DELETED, OUTCOMES, RESTORED, RETIRED
from c7n_keyage.overview.combine import acted_keys
from c7n_keyage.overview.identity import ref
from c7n_keyage.overview.runs import STATUSES, RetiredKey, Run

ACTIONS = ("disabled", DELETED, RETIRED)
# Results that change what a key is; the others (kept, record-removed, refused, failed)
# leave it as its record says.
CHANGES = (RETIRED, RESTORED, DELETED)
LIFECYCLE = (RETIRED, RESTORED, DELETED)


@dataclass
class Remediation:
    acted: dict[str, set[str]] = field(default_factory=lambda: {a: set() for a in ACTIONS})
    # (policy, action) -> {"keys": refs, "accounts": ids, "last_acted": YYYY-MM-DD}
    by_policy: dict[tuple[str, str], dict] = field(default_factory=dict)
    # (account, key ID) -> (run start, record) and (run start, result, user, policy)
    records: dict[tuple[str, str], tuple[float, RetiredKey]] = field(default_factory=dict)
    changes: dict[tuple[str, str], tuple[float, str, str, str]] = field(default_factory=dict)
    # (account, key ID, action) -> (run start, policy, result)
    results: dict[tuple[str, str, str], tuple[float, str, str]] = field(default_factory=dict)

    def add(self, run: Run) -> set[str]:
        """Tally a run; the keys it acted on (their refs)."""
        refs = {ref(run.account_id, key) for key in acted_keys(run)}
        if refs:
            self.acted[run.action] |= refs
            entry = self.by_policy.setdefault(
                (run.policy, run.action), {"keys": set(), "accounts": set(), "last_acted": ""}
            )
            entry["keys"] |= refs
            entry["accounts"].add(run.account_id)
            entry["last_acted"] = max(entry["last_acted"], run.date.isoformat())
        at = run.started.timestamp()
        for record in run.retired:
            _keep_latest(self.records, (run.account_id, record.access_key_id), (at, record))
        for result in run.outcomes or ():
            key = (run.account_id, result.access_key_id)
            if result.outcome in CHANGES:
                _keep_latest(self.changes, key, (at, result.outcome, result.user, run.policy))
            _keep_latest(self.results, (*key, run.step), (at, run.policy, result.outcome))
        return refs


def _keep_latest(tally: dict, key: tuple, value: tuple) -> None:
    """Keep ``value`` (run start first) if its run started later than the one held. Two
    runs of one start (a late upload added to a history, runs dated by their S3 path's
    hour) leave the greater by ``_rank``: nothing else tells them apart, and a fixed choice
    keeps the tally the same whatever order they are read in."""
    held = tally.get(key)
    if held is None or value[0] > held[0] or (value[0] == held[0] and _rank(value) > _rank(held)):
        tally[key] = value


def _rank(value: tuple) -> tuple:
    """A total order on a tally's values: their fields in turn (a record's own fields),
    None before any other value."""
    fields = [v for item in value for v in (astuple(item) if is_dataclass(item) else (item,))]
    return tuple((v is not None, v) for v in fields)


def key_state(account: str, key_id: str, remediation: Remediation) -> dict:
    """One lifecycle key as its latest record and its latest state-changing result say."""
    record = remediation.records.get((account, key_id))
    change = remediation.changes.get((account, key_id))
    state = {"account_id": account, "access_key_id": key_id, "used_since_retired": False}
    state |= {"retired_at": None, "delete_after": None}
    if record is not None:
        _, r = record
        state |= {"user": r.user, "status": STATUSES[r.status], "retired_at": r.retired_at}
        state |= {"policy": r.policy, "used_since_retired": r.used_since_retired}
        state["delete_after"] = r.delete_after
    if change is not None and (record is None or change[0] >= record[0]):
        changed_at, outcome, user, policy = change
        state |= {"user": user, "status": outcome}
        if record is None or (outcome == RETIRED and changed_at > record[0]):
            # Acted on with no record read before, or retired again since: by this policy.
            state |= {"policy": policy, "used_since_retired": False, "delete_after": None}
            state["retired_at"] = _iso_seconds(changed_at) if outcome == RETIRED else None
    return state


def _iso_seconds(timestamp: float) -> str:
    return datetime.fromtimestamp(timestamp, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def lifecycle_keys(remediation: Remediation) -> list[dict]:
    """Every key the lifecycle has seen, in its latest state."""
    keys = sorted(set(remediation.records) | set(remediation.changes))
    return [key_state(account, key_id, remediation) for account, key_id in keys]


def _lifecycle_counts(states: list[dict]) -> tuple[dict, list[dict]]:
    names = (*LIFECYCLE, "used_since_retired")
    total = dict.fromkeys(names, 0)
    per_policy: dict[str, dict] = {}
    for state in states:
        mine = per_policy.setdefault(state["policy"], dict.fromkeys(names, 0))
        for counts in (total, mine):
            counts[state["status"]] += 1
            counts["used_since_retired"] += state["used_since_retired"]
    return total, [{"policy": p, **counts} for p, counts in sorted(per_policy.items())]


def _result_counts(remediation: Remediation) -> tuple[dict, list[dict]]:
    total: dict[str, dict[str, int]] = {}
    per_policy: dict[tuple[str, str], dict[str, int]] = {}
    for (_, _, step), (_, policy, outcome) in remediation.results.items():
        for counts in (
            total.setdefault(step, dict.fromkeys(OUTCOMES, 0)),
            per_policy.setdefault((policy, step), dict.fromkeys(OUTCOMES, 0)),
        ):
            counts[outcome] += 1
    rows = [{"policy": p, "action": s, **c} for (p, s), c in sorted(per_policy.items())]
    return dict(sorted(total.items())), rows


def summary(remediation: Remediation, states: list[dict]) -> dict:
    """The JSON's ``remediation``: ``states`` are ``lifecycle_keys``."""
    lifecycle, lifecycle_by_policy = _lifecycle_counts(states)
    outcomes, outcomes_by_policy = _result_counts(remediation)
    by_policy = [
        {
            "policy": policy,
            "action": action,
            "keys": len(entry["keys"]),
            "accounts": len(entry["accounts"]),
            "last_acted": entry["last_acted"],
        }
        for (policy, action), entry in sorted(remediation.by_policy.items())
    ]
    return {
        "actions": {a: len(remediation.acted[a]) for a in ACTIONS},
        "by_policy": by_policy,
        "lifecycle": lifecycle,
        "lifecycle_by_policy": lifecycle_by_policy,
        "outcomes": outcomes,
        "outcomes_by_policy": outcomes_by_policy,
    }
