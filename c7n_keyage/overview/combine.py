"""One account's state from its policies' latest runs: which keys are stale. Pure.

The runs apply in the order they started. A run that did not act (report-only, notify, a
dry run) adds the keys it flagged; a run that disabled, deleted or retired its keys takes
them out (all it flagged, or, where c7n kept the lifecycle action's per-key results, those
it says it acted on); a ``restored`` result makes a key stale-able again. A key flagged from
a credential report within ``REPORT_LAG`` after an action took it out is not brought back:
that report can predate the action (AWS makes a new report at most every four hours, and
c7n's cache shares one between policies), so the action's per-key result is the later word.
A key flagged by the live API (verified) after the action is stale again.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import timedelta

from c7n_keyage.names import RESTORED
from c7n_keyage.overview.identity import Held, KeySet
from c7n_keyage.overview.runs import Run, StaleKey

# AWS's four hours (the filter's fetch module has them too, as AWS_REGENERATES_AFTER; the
# report imports nothing of the filter path, only the shared names and dates).
REPORT_LAG = timedelta(hours=4)


def run_order(run: Run) -> tuple:
    return (run.started, run.where)


def superseded(acted: Held | None, key: StaleKey, run: Run) -> bool:
    """Whether an action's result is newer than this run's word on the key."""
    if acted is None:
        return False
    return run.started - acted.at < (timedelta(0) if key.verified else REPORT_LAG)


def acted_keys(run: Run) -> list[StaleKey]:
    """The keys a run's action took out of the stale count."""
    if run.action is None:
        return []
    done = run.done()
    return [k for k in run.keys if done is None or k.access_key_id in done]


def combine(runs: Iterable[Run]) -> KeySet:
    """The account's stale keys after ``runs`` (its policies' latest), one each."""
    stale, acted = KeySet(), KeySet()
    for run in sorted(runs, key=run_order):
        taken = acted_keys(run)
        taken_here = {id(key) for key in taken}
        for key in taken:
            stale.pop(key)
            acted.put(key, run)
        for key in run.keys:
            if id(key) not in taken_here and not superseded(acted.find(key), key, run):
                stale.put(key, run)
        for outcome in run.outcomes or ():
            if outcome.outcome == RESTORED:
                acted.pop_id(outcome.user, outcome.access_key_id)
    return stale
