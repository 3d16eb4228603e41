"""The account's credential report, fetched at most once per process while it is usable.

The filter and the ``credential-report`` source both ask here, so a policy, and every later
policy of the same run, costs one fetch and one parse per account. A report is held in
this process whether or not c7n's cache is on (``--cache-period 0``), and also saved in
c7n's cache under a key of our own (never c7n's ``iam-credential-report`` key: that one
holds c7n's parsed shape, and anything else there breaks the built-in ``credential``).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from c7n.utils import local_session

from c7n_keyage.fetch import (
    AWS_REGENERATES_AFTER,
    FetchSettings,
    RawReport,
    fetch_report,
)
from c7n_keyage.report import Report, parse_report

log = logging.getLogger("custodian.keyage")

# Versioned: a cache file written by an older release holds another shape.
CACHE_KEY = "c7n_keyage:credential-report:v2"
# A report dated this far ahead of the runner's clock is worth a warning (clock skew).
FUTURE_TOLERANCE = timedelta(minutes=5)


@dataclass(frozen=True)
class _Held:
    raw: RawReport
    report: Report


# account id -> the report this process holds for it
_held: dict[Any, _Held] = {}


def forget() -> None:
    """Drop every report this process holds (a new Lambda invocation, a test)."""
    _held.clear()


def account_report(
    manager: Any,
    settings: FetchSettings,
    clock: Callable[[], datetime],
    sleep: Callable[[float], None],
    policy: str,
) -> Report:
    """The parsed report of ``manager``'s account, fetched only when none usable is held."""
    account = manager.config.account_id
    held = _held.get(account)
    if held is not None and held.raw.usable(clock(), settings.max_age):
        return held.report
    cache = manager._cache
    key = {"account": account, CACHE_KEY: True}
    with cache:
        raw = cache.get(key)
        if not isinstance(raw, RawReport) or not raw.usable(clock(), settings.max_age):
            client = local_session(manager.session_factory).client("iam")
            raw = fetch_report(client, settings, clock=clock, sleep=sleep)
            _warn_if_implausible(raw, clock(), policy)
            cache.save(key, raw)
    report = parse_report(raw.content)
    for problem in report.problems:
        log.warning("policy:%s credential report: %s", policy, problem)
    _held[account] = _Held(raw, report)
    return report


def _warn_if_implausible(raw: RawReport, now: datetime, policy: str) -> None:
    age = now - raw.generated
    if age < -FUTURE_TOLERANCE:
        log.warning(
            "policy:%s the credential report is dated %s, %s ahead of this runner's clock; "
            "used as served (check the clock)",
            policy,
            raw.generated.isoformat(),
            _span(-age),
        )
    elif raw.requested and age.total_seconds() > AWS_REGENERATES_AFTER:
        log.warning(
            "policy:%s the credential report served after generation is dated %s, %s old: "
            "it is the newest this endpoint gives, so it is used; keys are verified with "
            "the live API before any action",
            policy,
            raw.generated.isoformat(),
            _span(age),
        )


def _span(delta: timedelta) -> str:
    if delta >= timedelta(days=2):
        return f"{delta.days} days"
    return f"{delta.total_seconds() / 3600:.1f} hours"
