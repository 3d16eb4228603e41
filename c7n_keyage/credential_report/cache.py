"""The account's credential report, fetched at most once per policy run while it is usable.

The filter and the ``credential-report`` source both ask here, so a policy run costs one
fetch and one parse. Beyond the run the report lives where c7n keeps what it shares
between runs: its cache (the 15-minute file cache of ``custodian run`` and ``c7n-org``,
``--cache memory``), under a key of our own (never c7n's ``iam-credential-report`` key: that
one holds c7n's parsed shape, and anything else there breaks the built-in ``credential``).
Nothing is held by the process: a user's tests (a fresh config per test, one account id),
a warm Lambda container and a long c7n-org worker each start every run afresh.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from c7n.utils import local_session

from c7n_keyage import policy_run
from c7n_keyage.credential_report.fetch import (
    AWS_REGENERATES_AFTER,
    FetchSettings,
    RawReport,
    fetch_report,
)
from c7n_keyage.credential_report.parse import Report, parse_report
from c7n_keyage.names import LOGGER

log = logging.getLogger(LOGGER)

# Versioned: a cache file written by an older release holds another shape.
CACHE_KEY = "c7n_keyage:credential-report:v2"
# A report dated this far ahead of the runner's clock is worth a warning (clock skew).
FUTURE_TOLERANCE = timedelta(minutes=5)


@dataclass(frozen=True)
class _Held:
    run: Any  # the execution id of the policy run that fetched it
    account: Any
    raw: RawReport
    report: Report


def account_report(
    manager: Any,
    settings: FetchSettings,
    clock: Callable[[], datetime],
    sleep: Callable[[float], None],
    policy: str,
) -> Report:
    """The parsed report of ``manager``'s account, fetched only when none usable is at hand.

    At hand: the one this policy run already read, then the one in c7n's cache. Each is
    used only while usable by ``settings.max_age``: a stricter policy fetches afresh.
    """
    account = manager.config.account_id
    run = manager.ctx.execution_id
    held = policy_run.state(manager).report
    if (
        held is not None
        and (held.run, held.account) == (run, account)
        and held.raw.usable(clock(), settings.max_age)
    ):
        return held.report
    cache = manager._cache
    key = {"account": account, CACHE_KEY: True}
    # load(), not `with cache:`: the source is called inside c7n's own `with cache:` block,
    # whose connection an inner exit would close under it. load() opens it only if closed.
    cache.load()
    raw = cache.get(key)
    if not isinstance(raw, RawReport) or not raw.usable(clock(), settings.max_age):
        client = local_session(manager.session_factory).client("iam")
        raw = fetch_report(client, settings, clock=clock, sleep=sleep)
        _warn_if_implausible(raw, clock(), policy)
        cache.save(key, raw)
    report = parse_report(raw.content)
    for problem in report.problems:
        log.warning("policy:%s credential report: %s", policy, problem)
    policy_run.state(manager).report = _Held(run, account, raw, report)
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
