"""Faults of the credential report API, replayed call by call.

``fetch_report`` runs on placebo-backed iam clients (``tests/support/placebo_faults.py``) with a
fake clock and sleeper: each case asserts the exact GetCredentialReport /
GenerateCredentialReport calls, the pauses asked for, and the outcome, which is always
either a usable report or a ``CredentialReportError``, never an empty result. A few cases
run through whole policies, where the error must propagate out of ``policy.run()``.
"""

from __future__ import annotations

import json
import logging
import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone

import c7n.utils
import pytest

from c7n_keyage.credential_report.fetch import (
    CredentialReportError,
    FetchSettings,
    RawReport,
    fetch_report,
)
from c7n_keyage.stale.access_key_unused import AccountAccessKeyUnused, UserAccessKeyUnused
from tests.support.placebo_faults import FRESH, MOTO_GENERATED, OLD, all_fixtures
from tests.support.placebo_fixtures import FLAGGED_USERS, NOW, STANDARD_REPORT, USERS

GET, GEN = "GetCredentialReport", "GenerateCredentialReport"
BACKOFF = [1, 2.0, 4.0, 8.0, 16.0, 32.0]  # c7n's backoff_delays(1, 32) without jitter


@dataclass
class FakeTime:
    """A clock that moves only when asked to sleep, and remembers every pause."""

    now: datetime = NOW
    sleeps: list[float] = field(default_factory=list)

    def clock(self) -> datetime:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += timedelta(seconds=seconds)


@pytest.fixture
def fake_time() -> FakeTime:
    return FakeTime()


@pytest.fixture
def no_jitter(monkeypatch):
    # backoff_delays takes up to a fifth off each delay at random; pin it for exact sleeps.
    monkeypatch.setattr(c7n.utils.random, "random", lambda: 0.0)


@dataclass
class Outcome:
    calls: list[str]
    sleeps: list[float]
    report: RawReport | None = None
    error: CredentialReportError | None = None


@pytest.fixture
def attempt(replay_from, fake_time):
    """Fetch from scenario ``name`` with the given settings; record what happened."""

    def run(name: str, **settings) -> Outcome:
        replay = replay_from(f"test_fetch_{name}")
        client = replay.session.client("iam")
        try:
            report = fetch_report(
                client, FetchSettings(**settings), clock=fake_time.clock, sleep=fake_time.sleep
            )
        except CredentialReportError as e:
            return Outcome(replay.operations(), fake_time.sleeps, error=e)
        return Outcome(replay.operations(), fake_time.sleeps, report=report)

    return run


def ready(generated: datetime, waited: float = 0, requested: bool = True) -> RawReport:
    """The standard report as served after ``waited`` seconds.

    Asked for (``requested``), it counts as fresh from the moment it was served;
    otherwise from its own GeneratedTime.
    """
    served = NOW + timedelta(seconds=waited)
    return RawReport(STANDARD_REPORT, generated, served if requested else generated, requested)


def exhausted(waited: int, calls: int, timeout: int, state: str) -> str:
    return (
        rf"^credential report not ready after waiting {waited}s and {calls} call\(s\) "
        rf"\(report_timeout is {timeout}s, at most 50 calls\); last state: {state}$"
    )


# scenario, settings, calls, sleeps, outcome: a RawReport or an error regex
CASES = [
    pytest.param("fresh", {}, [GET], [], ready(FRESH, requested=False), id="fresh"),
    pytest.param("not_present", {}, [GET, GEN, GET, GET], [10], ready(NOW, 10), id="not-present"),
    pytest.param(
        "not_present_lagging",
        {},
        [GET, GEN, GET, GET, GET],
        [10, 10],
        ready(NOW, 20),
        id="not-present-after-complete-then-in-progress",
    ),
    pytest.param(
        "generate_states",
        {},
        [GET, GEN, GET, GEN, GET, GEN, GET],
        [10, 10],
        ready(NOW, 20),
        id="generate-started-inprogress-complete",
    ),
    pytest.param(
        "in_progress",
        {},
        [GET] * 5,
        [10] * 4,
        ready(FRESH, requested=False),
        id="report-in-progress-x4",
    ),
    pytest.param("expired", {}, [GET, GEN, GET], [], ready(NOW), id="expired"),
    pytest.param(
        "throttled", {}, [GET] * 4, BACKOFF[:3], ready(FRESH, requested=False), id="throttled-x3"
    ),
    pytest.param(
        "throttled_always",
        {},
        [GET] * 7,
        BACKOFF,
        r"^iam:GetCredentialReport kept failing with Throttling; gave up",
        id="throttled-always-bounded-backoff",
    ),
    pytest.param(
        "throttled_always",
        {"timeout": 10},
        [GET] * 4,
        BACKOFF[:3],
        exhausted(7, 4, 10, "Throttling"),
        id="throttled-always-within-report-timeout",
    ),
    pytest.param(
        "limit_exceeded",
        {},
        [GET, GEN, GEN, GEN, GET],
        BACKOFF[:2],
        ready(NOW, 3),
        id="limit-exceeded-x2",
    ),
    pytest.param(
        "limit_exceeded_always",
        {},
        [GET] + [GEN] * 7,
        BACKOFF,
        r"^iam:GenerateCredentialReport kept failing with LimitExceeded; gave up",
        id="limit-exceeded-always",
    ),
    pytest.param(
        "service_failure",
        {},
        [GET, GET],
        BACKOFF[:1],
        ready(FRESH, requested=False),
        id="service-failure-once",
    ),
    pytest.param(
        "service_failure_always",
        {},
        [GET] + [GEN] * 7,
        BACKOFF,
        r"^iam:GenerateCredentialReport kept failing with ServiceFailure; gave up",
        id="service-failure-always",
    ),
    pytest.param(
        "access_denied",
        {},
        [GET],
        [],
        r"^access denied to iam:GetCredentialReport: the role running this policy needs "
        r"iam:GenerateCredentialReport and iam:GetCredentialReport",
        id="access-denied-get",
    ),
    pytest.param(
        "access_denied_generate",
        {},
        [GET, GEN],
        [],
        r"^access denied to iam:GenerateCredentialReport: ",
        id="access-denied-generate",
    ),
    pytest.param(
        "expired_token",
        {},
        [GET],
        [],
        r"^iam:GetCredentialReport failed: .*ExpiredToken",
        id="other-error-not-retried",
    ),
    pytest.param(
        "too_old", {}, [GET, GEN, GET, GET], [10], ready(NOW, 10), id="older-than-max-age"
    ),
    pytest.param(
        "too_old_served_while_generating",
        {},
        [GET, GEN, GET, GEN, GET],
        [10],
        ready(NOW, 10),
        id="old-report-served-while-generating",
    ),
    pytest.param(
        "too_old_not_regenerated",
        {"max_age": 3600},
        [GET, GEN, GET],
        [],
        ready(FRESH),
        id="max-age-below-aws-4h-regeneration",
    ),
    pytest.param(
        "stays_old",
        {},
        [GET, GEN, GET],
        [],
        ready(OLD),
        id="complete-then-an-old-report-is-used",
    ),
    pytest.param(
        "moto_first",
        {},
        [GET, GEN, GET],
        [],
        ready(MOTO_GENERATED),
        id="moto-started-then-a-2015-report",
    ),
    pytest.param(
        "moto_later",
        {},
        [GET, GEN, GET],
        [],
        ready(MOTO_GENERATED),
        id="moto-2015-report-complete-same-report",
    ),
    pytest.param(
        "future",
        {},
        [GET],
        [],
        ready(NOW + timedelta(days=2), requested=False),
        id="dated-in-the-future",
    ),
    pytest.param(
        "complete_then_future",
        {},
        [GET, GEN, GET],
        [],
        ready(NOW + timedelta(days=2)),
        id="complete-then-a-report-dated-ahead",
    ),
    pytest.param(
        "never_ready",
        {"timeout": 60},
        [GET, GEN] + [GET, GEN] * 6 + [GET],
        [10] * 6,
        exhausted(60, 15, 60, "ReportNotPresent"),
        id="never-ready-report-timeout",
    ),
    pytest.param(
        "never_ready",
        {},
        [GET, GEN] * 25,
        [10] * 24,
        exhausted(240, 50, 300, "ReportNotPresent"),
        id="never-ready-default-bounded-by-calls",
    ),
    pytest.param(
        "never_ready",
        {"delay": 0, "timeout": 5},
        [GET, GEN] * 25,
        [0] * 24,
        exhausted(0, 50, 5, "ReportNotPresent"),
        id="never-ready-zero-delay-still-bounded",
    ),
    pytest.param(
        "in_progress_always",
        {"timeout": 30},
        [GET] * 4,
        [10] * 3,
        exhausted(30, 4, 30, "ReportInProgress"),
        id="in-progress-always",
    ),
    pytest.param(
        "in_progress",
        {"timeout": 0},
        [GET],
        [],
        exhausted(0, 1, 0, "ReportInProgress"),
        id="report-timeout-zero-never-waits",
    ),
    pytest.param(
        "not_present",
        {"generate": False},
        [GET],
        [],
        r"^no usable credential report \(ReportNotPresent\) and report_generate is false$",
        id="not-present-report-generate-false",
    ),
    pytest.param(
        "expired",
        {"generate": False},
        [GET],
        [],
        r"^no usable credential report \(ReportExpired\) and report_generate is false$",
        id="expired-report-generate-false",
    ),
    pytest.param(
        "too_old",
        {"generate": False},
        [GET],
        [],
        r"older than report_max_age\) and report_generate is false$",
        id="too-old-report-generate-false",
    ),
]


@pytest.mark.parametrize("scenario, settings, calls, sleeps, outcome", CASES)
def test_fault(attempt, no_jitter, scenario, settings, calls, sleeps, outcome):
    result = attempt(scenario, **settings)

    assert result.calls == calls
    assert result.sleeps == sleeps
    if isinstance(outcome, str):
        assert result.report is None
        assert re.search(outcome, str(result.error)), str(result.error)
    else:
        assert result.error is None
        assert result.report == outcome


def test_backoff_jitter_stays_bounded(attempt):
    # Unpinned: each pause is c7n's delay less up to a fifth, and they stay under 63 s.
    result = attempt("throttled_always")
    assert result.calls == [GET] * 7
    assert len(result.sleeps) == len(BACKOFF)
    assert all(0.8 * d <= s <= d for s, d in zip(result.sleeps, BACKOFF, strict=True))
    assert "kept failing with Throttling" in str(result.error)


def test_too_old_gets_the_new_report_not_the_old(attempt):
    result = attempt("too_old")
    # The old report (one made-up user) is never returned once a new one is asked for.
    assert "old-report" not in result.report.content
    assert result.report.generated == NOW


def test_access_denied_keeps_the_aws_message(attempt):
    result = attempt("access_denied")
    assert "not authorized to perform: iam:GetCredentialReport" in str(result.error)
    assert result.error.__cause__ is not None


@pytest.mark.parametrize("fixtures", all_fixtures(), ids=lambda f: f.path.name)
def test_committed_fault_fixtures_are_current(fixtures):
    on_disk = {p.name: json.loads(p.read_text()) for p in fixtures.path.glob("*.json")}
    assert on_disk == json.loads(json.dumps(fixtures.files))


# --- whole policies ---

USER_POLICY = {
    "name": "stale-keys",
    "resource": "iam-user",
    "filters": [{"type": "access-key-unused", "days": 90}],
}
USER_CALLS = ["ListUsers"] + ["GetUser"] * len(USERS)


def with_report_options(policy: dict, **options) -> dict:
    return dict(policy, filters=[dict(policy["filters"][0], **options)])


@pytest.fixture
def policy_time(monkeypatch, fake_time):
    for cls in (UserAccessKeyUnused, AccountAccessKeyUnused):
        monkeypatch.setattr(cls, "clock", staticmethod(fake_time.clock))
        monkeypatch.setattr(cls, "sleep", staticmethod(fake_time.sleep))
    return fake_time


# The keys are judged at the injected clock after the wait: gina, used exactly 90 days
# before NOW, is more than 90 days unused once the fetch has waited a few seconds.
FLAGGED_AFTER_WAITING = FLAGGED_USERS + ["gina-exactly-90"]


def test_policy_report_not_present(replay_from, frozen, run_policy, policy_time):
    replay = replay_from("test_fetch_policy_not_present")
    policy = run_policy(USER_POLICY, replay)

    assert [r["UserName"] for r in policy.resources] == FLAGGED_AFTER_WAITING
    assert replay.operations() == USER_CALLS + [GET, GEN, GET, GET]
    assert policy_time.sleeps == [10]


def test_policy_throttled(replay_from, frozen, run_policy, policy_time, no_jitter):
    replay = replay_from("test_fetch_policy_throttled")
    policy = run_policy(USER_POLICY, replay)

    assert [r["UserName"] for r in policy.resources] == FLAGGED_AFTER_WAITING
    assert replay.operations() == USER_CALLS + [GET] * 4
    assert policy_time.sleeps == BACKOFF[:3]


@pytest.mark.parametrize(
    "scenario, options, calls, sleeps, message",
    [
        (
            "never_ready",
            {"report_timeout": 60},
            [GET, GEN] + [GET, GEN] * 6 + [GET],
            [10] * 6,
            r"not ready after waiting 60s and 15 call\(s\) \(report_timeout is 60s",
        ),
        ("access_denied", {}, [GET], [], r"access denied to iam:GetCredentialReport"),
    ],
    ids=["never-ready", "access-denied"],
)
def test_policy_fails_rather_than_reporting_nothing(
    replay_from,
    frozen,
    run_policy,
    policy_time,
    tmp_path,
    scenario,
    options,
    calls,
    sleeps,
    message,
):
    replay = replay_from(f"test_fetch_policy_{scenario}")
    with pytest.raises(CredentialReportError, match=message) as raised:
        run_policy(with_report_options(USER_POLICY, **options), replay)

    # Under c7n-org many policies fail side by side: the error names its policy.
    assert str(raised.value).startswith(f"policy:{USER_POLICY['name']} ")

    assert replay.operations() == USER_CALLS + calls
    assert policy_time.sleeps == sleeps
    # The run stopped before writing any resources: no "nothing stale" output.
    assert not list((tmp_path / "out").rglob("resources.json"))


@pytest.mark.parametrize(
    "scenario, dated",
    [
        ("stays_old", "2026-10-29T12:00:00+00:00, 3 days old"),
        ("moto_first", "2015-02-02T00:00:00+00:00, 4290 days old"),
    ],
    ids=["aws-serves-an-old-report", "moto-dates-every-report-2015"],
)
def test_policy_uses_the_report_served_after_generation(
    replay_from, frozen, run_policy, policy_time, caplog, scenario, dated
):
    replay = replay_from(f"test_fetch_policy_{scenario}")
    policy = run_policy(USER_POLICY, replay)

    # Judged on that report, at once: no poll for a younger one.
    assert [r["UserName"] for r in policy.resources] == FLAGGED_USERS
    assert replay.operations() == USER_CALLS + [GET, GEN, GET]
    assert policy_time.sleeps == []
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert warnings == [
        f"policy:stale-keys the credential report served after generation is dated {dated}: "
        "it is the newest this endpoint gives, so it is used; keys are verified with the "
        "live API before any action"
    ]


def test_account_policy_fails_when_never_ready(replay_from, frozen, run_policy, policy_time):
    replay = replay_from("test_fetch_policy_never_ready")
    policy = {
        "name": "root-keys",
        "resource": "account",
        "filters": [{"type": "access-key-unused", "report_timeout": 30}],
    }
    with pytest.raises(CredentialReportError, match=r"report_timeout is 30s"):
        run_policy(policy, replay)
    assert replay.operations() == ["ListAccountAliases", GET, GEN] + [GET, GEN] * 3 + [GET]
    assert policy_time.sleeps == [10] * 3


def test_a_report_exactly_max_age_old_is_still_usable():
    report = RawReport("user,arn\n", NOW - timedelta(hours=2), NOW - timedelta(hours=2))
    assert report.usable(NOW, 7200)
    assert not report.usable(NOW + timedelta(microseconds=1), 7200)


def test_the_budget_allows_exactly_max_calls():
    """MAX_CALLS calls, then any pause fails the fetch: the fifty-first call never comes."""
    from c7n_keyage.credential_report.fetch import MAX_CALLS, _Budget

    budget = _Budget(3600, clock=lambda: NOW, sleep=lambda s: None)
    for _ in range(MAX_CALLS - 1):
        budget.call(dict)
    budget.wait(1, "waiting")  # after 49 calls: one more may follow
    budget.call(dict)
    with pytest.raises(CredentialReportError, match=f"and {MAX_CALLS} call"):
        budget.wait(1, "waiting")
    with pytest.raises(CredentialReportError):
        budget.call(dict)


def test_policy_report_options_reach_the_fetch(replay_from, frozen, run_policy, policy_time):
    replay = replay_from("test_fetch_policy_not_present")
    run_policy(with_report_options(USER_POLICY, report_delay=3), replay)
    assert policy_time.sleeps == [3]


def test_policy_without_generation_fails_on_no_report(replay_from, frozen, run_policy):
    replay = replay_from("test_fetch_policy_not_present")
    with pytest.raises(CredentialReportError, match="report_generate is false$"):
        run_policy(with_report_options(USER_POLICY, report_generate=False), replay)
    assert replay.operations() == USER_CALLS + [GET]


def test_backoff_takes_up_to_a_fifth_off_each_pause(attempt, monkeypatch):
    monkeypatch.setattr(c7n.utils.random, "random", lambda: 0.5)
    result = attempt("throttled_always")
    assert result.sleeps == [d * 0.9 for d in BACKOFF]


class Served:
    """An endpoint that serves one report, dated as given."""

    def __init__(self, generated: datetime):
        self.generated = generated

    def get_credential_report(self):
        return {"Content": "user,arn\n", "GeneratedTime": self.generated}

    def generate_credential_report(self):
        raise AssertionError("a usable report is never regenerated")


@pytest.mark.parametrize(
    "generated",
    [
        NOW - timedelta(days=1),  # exactly report_max_age old: still usable
        (NOW - timedelta(hours=1)).replace(tzinfo=None),  # naive: taken as UTC
        (NOW - timedelta(hours=1)).astimezone(timezone(timedelta(hours=2))),  # another zone
    ],
    ids=["max-age", "naive", "offset"],
)
def test_a_usable_report_is_used_as_served(generated):
    report = fetch_report(Served(generated), FetchSettings(max_age=86400), clock=lambda: NOW)
    expected = generated if generated.tzinfo else generated.replace(tzinfo=timezone.utc)
    assert report.generated == expected and report.as_of == expected


def test_an_exhausted_budget_names_the_last_state(attempt):
    from c7n_keyage.credential_report.fetch import _Budget

    assert (
        _Budget(1, lambda: NOW, lambda s: None)
        .exhausted()
        .args[0]
        .endswith("last state: no call made")
    )
    # The old report served while the new one is made, and no time left to wait for it.
    result = attempt("too_old_served_while_generating", timeout=5)
    assert str(result.error).endswith("last state: GenerateCredentialReport State STARTED")
