"""Fetch the IAM credential report, waiting for AWS within a bounded budget.

c7n's ``CredentialReport.fetch_credential_report`` sleeps once and retries once: it ignores
``GenerateCredentialReport``'s ``State``, fails on a second ``ReportInProgress``, does not
know ``ReportExpired`` and has no backoff for ``Throttling`` / ``LimitExceeded``, which is
what users meet across many accounts (cloud-custodian #6351, #7265, #7074). So this module
polls instead, and every pause draws on one budget (``report_timeout``): when it runs out
the run fails with a clear error rather than reporting "nothing stale".

The clock and the sleeper are arguments, so tests wait without sleeping.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

from botocore.exceptions import ClientError
from c7n.utils import backoff_delays

# Errors worth waiting out; botocore retries some of them first, then hands them to us.
TRANSIENT = frozenset({"Throttling", "ThrottlingException", "LimitExceeded", "ServiceFailure"})
DENIED = frozenset({"AccessDenied", "AccessDeniedException", "UnauthorizedOperation"})
PERMISSIONS = ("iam:GenerateCredentialReport", "iam:GetCredentialReport")
# IAM User Guide, "Getting credential reports": a report younger than this is served again.
AWS_REGENERATES_AFTER = 4 * 3600.0


class CredentialReportError(Exception):
    """The credential report could not be had; nothing can be judged."""


@dataclass(frozen=True)
class FetchSettings:
    generate: bool = True
    delay: float = 10.0  # seconds between polls (c7n's report_delay)
    max_age: float = 86400.0  # seconds a report stays usable (c7n's report_max_age)
    timeout: float = 300.0  # seconds of waiting in all before giving up


@dataclass(frozen=True)
class RawReport:
    content: str | bytes
    generated: datetime


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


class _Budget:
    """Pauses that together may not exceed ``timeout`` seconds."""

    # A zero delay still counts as one second, so report_delay: 0 cannot poll forever.
    MIN_CHARGE = 1.0

    def __init__(self, timeout: float, sleep: Callable[[float], None]):
        self.timeout = timeout
        self.spent = 0.0
        self.sleep = sleep

    def wait(self, seconds: float, why: str) -> None:
        charge = max(seconds, self.MIN_CHARGE)
        if self.spent + charge > self.timeout:
            raise CredentialReportError(
                f"credential report not ready after waiting {math.ceil(self.spent)}s "
                f"(report_timeout is {self.timeout:g}s); last state: {why}"
            )
        self.sleep(seconds)
        self.spent += charge


def fetch_report(
    client: Any,
    settings: FetchSettings = FetchSettings(),
    clock: Callable[[], datetime] = utcnow,
    sleep: Callable[[float], None] = time.sleep,
) -> RawReport:
    """Return a credential report no older than ``settings.max_age``.

    Generates one when none is present, it has expired, or it is too old; polls
    ``GenerateCredentialReport`` until its ``State`` is ``COMPLETE``.
    """
    budget = _Budget(settings.timeout, sleep)
    generated = False
    while True:
        try:
            response = _call(client.get_credential_report, budget)
        except ClientError as e:
            code = _code(e)
            if code == "ReportInProgress":
                budget.wait(settings.delay, "ReportInProgress")
                continue
            if code not in ("ReportNotPresent", "ReportExpired"):
                raise _explain(e, "iam:GetCredentialReport") from e
            response, why = None, code
        else:
            max_age = settings.max_age
            if generated:
                # AWS hands out its last report instead of making one while that is under
                # four hours old: waiting for a younger one would only run the budget out.
                max_age = max(max_age, AWS_REGENERATES_AFTER)
            threshold = clock() - timedelta(seconds=max_age)
            generated_time = _aware(response["GeneratedTime"])
            if generated_time >= threshold:
                return RawReport(response["Content"], generated_time)
            why = f"report generated {generated_time.isoformat()} is older than report_max_age"
        if generated:
            # We asked for a new report and AWS still serves none or the old one.
            budget.wait(settings.delay, why)
            continue
        if not settings.generate:
            raise CredentialReportError(
                f"no usable credential report ({why}) and report_generate is false"
            )
        _generate(client, settings, budget)
        generated = True


def _generate(client: Any, settings: FetchSettings, budget: _Budget) -> None:
    while True:
        try:
            state = _call(client.generate_credential_report, budget).get("State")
        except ClientError as e:
            raise _explain(e, "iam:GenerateCredentialReport") from e
        if state == "COMPLETE":
            return
        budget.wait(settings.delay, f"GenerateCredentialReport State {state}")


def _call(method: Callable[[], dict], budget: _Budget) -> dict:
    # c7n.utils.get_retry would sleep with time.sleep outside the shared budget, so the
    # retry loop is ours; the backoff sequence is c7n's.
    for delay in backoff_delays(1, 32, jitter=True):
        try:
            return method()
        except ClientError as e:
            if _code(e) not in TRANSIENT:
                raise
            budget.wait(delay, _code(e))
    return method()


def _code(error: ClientError) -> str:
    return error.response.get("Error", {}).get("Code", "")


def _explain(error: ClientError, action: str) -> Exception:
    code = _code(error)
    if code in DENIED:
        return CredentialReportError(
            f"access denied to {action}: the role running this policy needs "
            f"{' and '.join(PERMISSIONS)} ({error})"
        )
    if code in TRANSIENT:
        return CredentialReportError(f"{action} kept failing with {code}; gave up ({error})")
    return CredentialReportError(f"{action} failed: {error}")


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=timezone.utc)
