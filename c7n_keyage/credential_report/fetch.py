"""Fetch the IAM credential report, waiting for AWS within a bounded budget.

c7n's ``CredentialReport.fetch_credential_report`` sleeps once and retries once: it ignores
``GenerateCredentialReport``'s ``State``, fails on a second ``ReportInProgress``, does not
know ``ReportExpired`` and has no backoff for ``Throttling`` / ``LimitExceeded``, which is
what users meet across many accounts (cloud-custodian #6351, #7265, #7074). So this module
polls instead, and every pause and call draws on one budget (``report_timeout`` seconds,
``MAX_CALLS`` calls): when it runs out the run fails with a clear error rather than
reporting "nothing stale".

Once the endpoint has been asked for a report and has made one, the report it serves next
is the freshest it will give, whatever its ``GeneratedTime``: AWS serves its last report
for up to 4 hours, other endpoints (moto, LocalStack) stamp every report 2015-02-02, and a
runner's clock may be ahead of AWS's. Polling for a younger one would only spin.

The clock and the sleeper are arguments, so tests wait without sleeping.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from botocore.exceptions import ClientError
from c7n.utils import backoff_delays

from c7n_keyage.aws import TRANSIENT, error_code, is_denied
from c7n_keyage.dates import utc, utcnow

PERMISSIONS = ("iam:GenerateCredentialReport", "iam:GetCredentialReport")
# IAM User Guide, "Getting credential reports": a report younger than this is served again.
AWS_REGENERATES_AFTER = 4 * 3600.0
# Most API calls one fetch makes, whatever the delays: report_delay 0 cannot spin.
MAX_CALLS = 50
# Generation states after which the endpoint has no newer report to give.
_DONE = "COMPLETE"


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
    """A report as served: ``generated`` is its ``GeneratedTime``.

    ``as_of`` is when its data counts from for ``report_max_age``: its ``GeneratedTime``,
    or, for a report served after the endpoint made one at our request, the moment it was
    served (the endpoint had nothing fresher to give then).
    """

    content: str | bytes
    generated: datetime
    as_of: datetime
    requested: bool = False  # served after we asked the endpoint to generate a report

    def usable(self, now: datetime, max_age: float) -> bool:
        return (now - self.as_of).total_seconds() <= max_age


class _Budget:
    """Calls and pauses that together may not exceed ``MAX_CALLS`` and ``timeout`` seconds."""

    def __init__(
        self, timeout: float, clock: Callable[[], datetime], sleep: Callable[[float], None]
    ):
        self.timeout = timeout
        self.clock = clock
        self.sleep = sleep
        self.started = clock()
        self.calls = 0
        self.state = "no call made"

    def waited(self) -> float:
        return max((self.clock() - self.started).total_seconds(), 0.0)

    def call(self, method: Callable[[], dict]) -> dict:
        if self.calls >= MAX_CALLS:
            raise self.exhausted()
        self.calls += 1
        return method()

    def wait(self, seconds: float, why: str) -> None:
        self.state = why
        if self.waited() + seconds > self.timeout or self.calls >= MAX_CALLS:
            raise self.exhausted()
        self.sleep(seconds)

    def exhausted(self) -> CredentialReportError:
        return CredentialReportError(
            f"credential report not ready after waiting {self.waited():.0f}s and "
            f"{self.calls} call(s) (report_timeout is {self.timeout:g}s, at most "
            f"{MAX_CALLS} calls); last state: {self.state}"
        )


def fetch_report(
    client: Any,
    settings: FetchSettings = FetchSettings(),
    clock: Callable[[], datetime] = utcnow,
    sleep: Callable[[float], None] = time.sleep,
) -> RawReport:
    """Return a usable credential report.

    A report no older than ``settings.max_age`` is used at once. Otherwise (none present,
    expired, too old) the endpoint is asked to generate one, and the first report it then
    serves that is not the old one, or any report once it answers ``COMPLETE``, is used.
    """
    budget = _Budget(settings.timeout, clock, sleep)
    asked: str | None = None  # the last State GenerateCredentialReport answered, if asked
    before: datetime | None = None  # GeneratedTime of the report served before asking
    while True:
        try:
            response = _call(client.get_credential_report, budget)
        except ClientError as e:
            code = error_code(e)
            if code not in ("ReportInProgress", "ReportNotPresent", "ReportExpired"):
                raise _explain(e, "iam:GetCredentialReport") from e
            if code == "ReportInProgress" or asked == _DONE:
                # Being made, or made and not served yet: ask for it again after a pause.
                budget.wait(settings.delay, code)
                continue
            if asked is not None:
                # Asked for, still being made: pause, then ask the endpoint how it goes.
                budget.wait(settings.delay, code)
            why = code
        else:
            generated = utc(response["GeneratedTime"])
            if asked is None:
                if (clock() - generated).total_seconds() <= settings.max_age:
                    return RawReport(response["Content"], generated, generated)
                before = generated
            elif asked == _DONE or before is None or generated > before:
                # The report made at our request: the freshest the endpoint will give.
                return RawReport(response["Content"], generated, clock(), requested=True)
            else:
                # Still the old report while the new one is made: pause, then ask again.
                budget.wait(settings.delay, f"GenerateCredentialReport State {asked}")
            why = f"report generated {generated.isoformat()} is older than report_max_age"
        if asked is None and not settings.generate:
            raise CredentialReportError(
                f"no usable credential report ({why}) and report_generate is false"
            )
        asked = _generate(client, budget)


def _generate(client: Any, budget: _Budget) -> str:
    """Ask for a report once; return the State the endpoint answers."""
    try:
        answer = _call(client.generate_credential_report, budget)
    except ClientError as e:
        raise _explain(e, "iam:GenerateCredentialReport") from e
    return answer.get("State") or "unknown"


def _call(method: Callable[[], dict], budget: _Budget) -> dict:
    # c7n.utils.get_retry would sleep with time.sleep outside the shared budget, so the
    # retry loop is ours; the backoff sequence is c7n's.
    for delay in backoff_delays(1, 32, jitter=True):
        try:
            return budget.call(method)
        except ClientError as e:
            if error_code(e) not in TRANSIENT:
                raise
            budget.wait(delay, error_code(e))
    return budget.call(method)


def _explain(error: ClientError, action: str) -> Exception:
    code = error_code(error)
    if is_denied(error):
        return CredentialReportError(
            f"access denied to {action}: the role running this policy needs "
            f"{' and '.join(PERMISSIONS)} ({error})"
        )
    if code in TRANSIENT:
        return CredentialReportError(f"{action} kept failing with {code}; gave up ({error})")
    return CredentialReportError(f"{action} failed: {error}")
