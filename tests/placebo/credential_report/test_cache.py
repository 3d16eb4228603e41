"""The account's report: fetched once per policy run, shared beyond it by c7n's cache only.

With c7n's cache off (``--cache-period 0``, and Cloud Custodian's own test style) each
policy run fetches its own; with c7n's cache on (the default file cache, ``--cache
memory``) the policies of a run, and later runs within the cache period, share one fetch
while it is usable by each policy's ``report_max_age``.
"""

from __future__ import annotations

import logging
from datetime import timedelta

import pytest
from c7n.utils import reset_session_cache

from c7n_keyage.credential_report.cache import CACHE_KEY
from tests.support.placebo_fixtures import ACCOUNT_ID, FLAGGED_USERS, NOW

USER_POLICY = {
    "name": "stale-keys",
    "resource": "iam-user",
    "filters": [{"type": "access-key-unused", "days": 90}],
}
CIS_45 = dict(USER_POLICY, name="cis-45", filters=[{"type": "access-key-unused", "days": 45}])
USERS = ["ListUsers"] + ["GetUser"] * 8
OTHER_ACCOUNT = "210987654321"


def names(policy) -> list[str]:
    return [r["UserName"] for r in policy.resources]


def test_each_policy_run_fetches_without_a_cache(replay, frozen, run_policy):
    first = run_policy(USER_POLICY, replay)
    second = run_policy(CIS_45, replay)

    assert names(first) == FLAGGED_USERS
    assert names(second) == FLAGGED_USERS + ["gina-exactly-90"]
    # Nothing outlives a run: each policy lists users and reads the report itself.
    assert replay.operations() == USERS + ["GetCredentialReport"] + USERS + ["GetCredentialReport"]


def test_report_shared_across_policies_by_the_cache(replay, frozen, run_policy, memory_cache):
    first = run_policy(USER_POLICY, replay, cache=memory_cache)
    second = run_policy(CIS_45, replay, cache=memory_cache)

    assert names(first) == FLAGGED_USERS
    assert names(second) == FLAGGED_USERS + ["gina-exactly-90"]
    # c7n's cache holds the users and the report for the second policy.
    assert replay.operations() == USERS + ["GetCredentialReport"]


def test_requested_report_shared(replay, frozen, run_policy, memory_cache, caplog):
    """A report served after generation is the freshest there is: the next policy uses it.

    Its GeneratedTime (2015, as moto writes it) is years past report_max_age; it counts
    from when it was served, so the second policy, with a max age of an hour, takes it.
    """
    first = run_policy(USER_POLICY, replay, cache=memory_cache)
    hourly = dict(CIS_45, filters=[dict(CIS_45["filters"][0], report_max_age=3600)])
    second = run_policy(hourly, replay, cache=memory_cache)

    assert names(first) == FLAGGED_USERS
    assert names(second) == FLAGGED_USERS + ["gina-exactly-90"]
    assert replay.operations() == (
        USERS + ["GetCredentialReport", "GenerateCredentialReport", "GetCredentialReport"]
    )
    served = [r for r in caplog.records if "served after generation" in r.getMessage()]
    assert len(served) == 1


def test_each_account_fetches_its_own_report(replay_from, frozen, run_policy):
    ours = replay_from("test_report_only_flags_stale_keys")
    theirs = replay_from("test_report_only_flags_stale_keys")

    run_policy(USER_POLICY, ours, account_id=ACCOUNT_ID)
    # c7n keeps one session per thread: drop it, or the second account would reuse ours.
    reset_session_cache()
    run_policy(USER_POLICY, theirs, account_id=OTHER_ACCOUNT)

    assert ours.operations() == USERS + ["GetCredentialReport"]
    # Not the first account's report: the other account asks its own endpoint.
    assert theirs.operations() == USERS + ["GetCredentialReport"]


def test_cached_report_refetched_when_too_old(replay, frozen, run_policy, memory_cache):
    first = run_policy(USER_POLICY, replay, cache=memory_cache)
    # The cached report is two hours old: too old for a policy that accepts one hour.
    hourly = dict(CIS_45, filters=[dict(CIS_45["filters"][0], report_max_age=3600)])
    second = run_policy(hourly, replay, cache=memory_cache)

    assert names(first) == FLAGGED_USERS
    assert names(second) == FLAGGED_USERS + ["gina-exactly-90"]
    assert replay.operations() == (
        USERS
        + ["GetCredentialReport"]
        + ["GetCredentialReport", "GenerateCredentialReport", "GetCredentialReport"]
    )


def test_never_stored_under_c7n_own_cache_key(replay_from, frozen, run_policy, memory_cache):
    replay = replay_from("test_report_only_flags_stale_keys")
    policy = run_policy(USER_POLICY, replay, cache=memory_cache)
    cache = policy.resource_manager._cache
    # c7n's key holds c7n's parsed shape; ours holds the raw report.
    assert cache.get({"account": ACCOUNT_ID, "iam-credential-report": True}) is None
    assert cache.get({"account": ACCOUNT_ID, CACHE_KEY: True}).content.startswith("user,arn,")


def test_report_dated_in_the_future_warns_once(replay_from, frozen, run_policy, caplog):
    replay = replay_from("test_fetch_policy_future")
    caplog.set_level(logging.WARNING, logger="custodian.keyage")
    policy = run_policy(USER_POLICY, replay)

    assert names(policy) == FLAGGED_USERS
    assert replay.operations() == USERS + ["GetCredentialReport"]
    warnings = [r.getMessage() for r in caplog.records if r.name == "custodian.keyage"]
    assert warnings == [
        "policy:stale-keys the credential report is dated 2026-11-03T12:00:00+00:00, 2 days "
        "ahead of this runner's clock; used as served (check the clock)"
    ]


def test_a_stricter_filter_of_the_same_run_fetches_again(replay, frozen, run_policy):
    """The report a run holds is used only while usable by each filter's report_max_age."""
    hourly = {"type": "access-key-unused", "days": 45, "report_max_age": 3600}
    policy = dict(USER_POLICY, filters=[USER_POLICY["filters"][0], hourly])
    resources = run_policy(policy, replay).resources

    assert names_of(resources) == FLAGGED_USERS
    assert replay.operations() == USERS + [
        "GetCredentialReport",
        "GetCredentialReport",
        "GenerateCredentialReport",
        "GetCredentialReport",
    ]


def names_of(resources) -> list[str]:
    return [r["UserName"] for r in resources]


def test_spans_read_in_hours_below_two_days():
    from datetime import timedelta

    from c7n_keyage.credential_report.cache import _span

    assert _span(timedelta(hours=3)) == "3.0 hours"
    assert _span(timedelta(minutes=90)) == "1.5 hours"
    assert _span(timedelta(days=2)) == "2 days"


@pytest.mark.parametrize(
    "served, requested, warns",
    [
        (NOW + timedelta(minutes=5), False, False),  # within the clock's tolerance
        (NOW + timedelta(minutes=5, seconds=1), False, True),
        (NOW - timedelta(hours=30), False, False),  # AWS's own report: any age, no warning
        (NOW - timedelta(hours=4), True, False),  # made at our request, 4 hours: as AWS does
        (NOW - timedelta(hours=4, seconds=1), True, True),
        (NOW, True, False),
    ],
)
def test_implausible_reports_warn_past_their_limits(caplog, served, requested, warns):
    from c7n_keyage.credential_report.cache import _warn_if_implausible
    from c7n_keyage.credential_report.fetch import RawReport

    caplog.set_level(logging.WARNING, logger="custodian.keyage")
    _warn_if_implausible(RawReport("", served, served, requested), NOW, "p")
    assert bool(caplog.records) is warns


def test_hours_are_read_to_a_tenth():
    from c7n_keyage.credential_report.cache import _span

    assert _span(timedelta(seconds=4500.4)) == "1.3 hours"
