"""The fleet over time: runs folded in one after another, in the order they started. Pure
(no clock, no files): the history file is this state, saved.

- An account's state as of a date is its policies' latest runs on or before that date,
  carried forward, combined (``combine``): the latest run is per account AND policy, so a
  weekly policy beside a daily one, or two policies either side of midnight, both count.
- Each run date gets a trend point: the whole fleet as of that date, every account counted
  with its latest runs whether or not it ran that day, so the last point is the totals.
- Adding a day costs that day's runs, one combine per account they touched and a sum over
  the accounts: never the dates before it. A run no newer than the one held for its
  account and policy changes no state (the same run read twice, or one that came late);
  its actions still count in the remediation tallies, which do not depend on order. A run
  newer than the one held but dated before the latest date (a late upload) updates its
  account's figures and the latest point; earlier points are not redrawn.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from c7n_keyage.overview.combine import combine, run_order
from c7n_keyage.overview.identity import KeySet
from c7n_keyage.overview.remediation import Remediation
from c7n_keyage.overview.runs import Run


@dataclass
class Fleet:
    # account -> policy -> its latest run
    runs: dict[str, dict[str, Run]] = field(default_factory=dict)
    # account -> (run start, name) of the latest run that named it
    names: dict[str, tuple[float, str]] = field(default_factory=dict)
    points: list[dict] = field(default_factory=list)
    # account -> (its latest run date, stale keys then), and its previous run date's
    current: dict[str, tuple[date, int]] = field(default_factory=dict)
    previous: dict[str, tuple[date, int]] = field(default_factory=dict)
    first_run: date | None = None
    as_of: date | None = None
    ran: set[str] = field(default_factory=set)  # accounts with a run dated as_of
    acted: set[str] = field(default_factory=set)  # keys acted on by runs dated as_of
    remediation: Remediation = field(default_factory=Remediation)
    superseded: int = 0  # earlier runs of an account, policy and date, or read twice
    not_newer: int = 0  # runs older than the one held for their account and policy
    added: int = 0
    dirty: set[str] = field(default_factory=set)
    pending: bool = False  # runs added since the latest point was made
    _states: dict[str, KeySet] = field(default_factory=dict, repr=False)

    def add(self, run: Run) -> None:
        day = run.date
        if self.as_of is not None and day > self.as_of:
            self.close()
            self.ran, self.acted = set(), set()
        if self.as_of is None or day > self.as_of:
            self.as_of = day
        self.first_run = min(self.first_run or day, day)
        self.added += 1
        self.pending = True
        refs = self.remediation.add(run)
        if day == self.as_of:
            self.ran.add(run.account_id)
            self.acted |= refs
        if run.account_name:
            at = run.started.timestamp()
            if at >= self.names.get(run.account_id, (at, ""))[0]:
                self.names[run.account_id] = (at, run.account_name)
        self._hold(run)

    def _hold(self, run: Run) -> None:
        policies = self.runs.setdefault(run.account_id, {})
        kept = policies.get(run.policy)
        if kept is not None and run_order(run) <= run_order(kept):
            if kept.date == run.date:
                self.superseded += 1
            else:
                self.not_newer += 1
            return
        if kept is not None and kept.date == run.date:
            self.superseded += 1
        policies[run.policy] = run
        self.dirty.add(run.account_id)
        self._states.pop(run.account_id, None)

    def close(self) -> None:
        """Make (or remake) the point of the latest date, from each account's state."""
        if not self.pending:
            return
        for account in sorted(self.dirty):
            count = len(self.state(account))
            last = max(r.date for r in self.runs[account].values())
            held = self.current.get(account)
            if held is not None and held[0] < last:
                self.previous[account] = held
            self.current[account] = (last, count)
        self.dirty.clear()
        counts = {a: n for a, (_, n) in sorted(self.current.items())}
        point = {
            "date": self.as_of.isoformat(),
            "stale_keys": sum(counts.values()),
            "accounts": counts,
            "ran": len(self.ran),
            "remediated": len(self.acted),
        }
        if self.points and self.points[-1]["date"] == point["date"]:
            self.points[-1] = point
        else:
            self.points.append(point)
        self.pending = False

    def state(self, account: str) -> KeySet:
        """The account's stale keys as of the latest date (combined once, then kept)."""
        if account not in self._states:
            self._states[account] = combine(self.runs[account].values())
        return self._states[account]

    def name(self, account: str) -> str | None:
        return self.names[account][1] if account in self.names else None
