"""What a mutation check of the suite found untested, each through a whole policy run:

- the default ``days`` (90: CIS 1.3, Panther), on keys either side of 90 and of 120;
- the ``account`` filter judges the ``<root_account>`` row, wherever it is in the report,
  and not the first row; without such a row it matches nothing and says so;
- the filter leaves the garbage collector as it found it (it pauses it while judging).

Fixtures: ``tests/support/placebo_defaults.py`` (NOW = 2026-11-01T12:00Z, frozen).
"""

from __future__ import annotations

import gc
import logging

import pytest

from c7n_keyage.credential_report.fetch import CredentialReportError

USER_CALLS = ["ListUsers", "GetUser", "GetCredentialReport"]
ACCOUNT_CALLS = ["ListAccountAliases", "GetCredentialReport"]


def user_policy(**options) -> dict:
    return {
        "name": "stale-keys",
        "resource": "iam-user",
        "filters": [{"type": "access-key-unused", **options}],
    }


def account_policy(**options) -> dict:
    return {
        "name": "root-keys",
        "resource": "account",
        "filters": [{"type": "access-key-unused", **options}],
    }


def flagged(resources: list[dict]) -> dict[str, list]:
    """User name (``account`` for the account) -> (slot, reasons) of each flagged key."""
    return {
        r.get("UserName", "account"): [(k["slot"], k["reasons"]) for k in r["c7n:unused-keys"]]
        for r in resources
    }


# --- the default days ---


def test_default_days_is_90(replay, frozen, run_policy):
    policy = run_policy(user_policy(), replay)

    assert replay.operations() == ["ListUsers"] + ["GetUser"] * 8 + ["GetCredentialReport"]
    # More than 90 days, strictly: not 89, not exactly 90; 90 days and a second is.
    assert flagged(policy.resources) == {
        "used-90-days-and-1s": [(1, ["unused"])],
        "used-91-days": [(1, ["unused"])],
        "used-119-days": [(1, ["unused"])],
        "used-121-days": [(1, ["unused"])],
        "never-used-created-91-days": [(1, ["never-used"])],
    }


def test_default_days_on_account(replay_from, frozen, run_policy):
    # Root's key was used 100 days ago: stale at 90 days, which the default must be.
    replay = replay_from("test_account_judges_root_when_it_is_not_first")
    policy = run_policy(account_policy(), replay)
    assert flagged(policy.resources) == {"account": [(2, ["unused"])]}


# --- the root row, wherever it is ---


def test_account_judges_root_not_the_first_row(replay, frozen, run_policy):
    # The first row's user (and the third's) is stale; root, second, is fresh.
    policy = run_policy(account_policy(days=90), replay)

    assert replay.operations() == ACCOUNT_CALLS
    assert policy.resources == []


def test_account_judges_root_when_it_is_not_first(replay, frozen, run_policy):
    # The first row's user is fresh; root, second, has a stale key in slot 2.
    policy = run_policy(account_policy(days=90), replay)

    assert replay.operations() == ACCOUNT_CALLS
    (account,) = policy.resources
    assert account["account_id"] == "123456789012"
    assert account["c7n:unused-keys"] == [
        {
            "slot": 2,
            "last_rotated": "2025-06-19T12:00:00+00:00",
            "last_used_date": "2026-07-24T12:00:00+00:00",
            "last_used_service": "s3",
            "last_used_region": "us-east-1",
            "reasons": ["unused"],
            "days_since_use": 100,
            "days_since_rotation": 500,
            "verified": False,
        }
    ]


def test_account_without_root_row_matches_nothing(replay, frozen, run_policy, caplog):
    caplog.set_level(logging.WARNING, logger="custodian.keyage")
    policy = run_policy(account_policy(days=90), replay)

    assert replay.operations() == ACCOUNT_CALLS
    assert policy.resources == []
    # Silence would read as "root has no stale key": the missing row is named.
    assert [
        (r.levelno, r.getMessage()) for r in caplog.records if r.name == "custodian.keyage"
    ] == [(logging.WARNING, "policy:root-keys no <root_account> row in the credential report")]


# --- the garbage collector: paused while judging, then as it was ---


@pytest.fixture(params=[True, False], ids=["gc-on", "gc-off"])
def gc_before(request):
    """Run the test with the collector on, then off; restore it whatever happens."""
    was = gc.isenabled()
    set_gc(request.param)
    try:
        yield request.param
    finally:
        set_gc(was)


def set_gc(enabled: bool) -> None:
    if enabled:
        gc.enable()
    else:
        gc.disable()


def test_gc_restored_after_the_user_filter(replay, frozen, run_policy, gc_before):
    policy = run_policy(user_policy(days=90), replay)

    assert flagged(policy.resources) == {"stale": [(1, ["unused"])]}
    assert replay.operations() == ["ListUsers"] + ["GetUser"] * 2 + ["GetCredentialReport"]
    assert gc.isenabled() is gc_before


def test_gc_restored_after_the_account_filter(replay_from, frozen, run_policy, gc_before):
    replay = replay_from("test_account_judges_root_when_it_is_not_first")
    policy = run_policy(account_policy(days=90), replay)

    assert flagged(policy.resources) == {"account": [(2, ["unused"])]}
    assert gc.isenabled() is gc_before


def test_gc_restored_when_the_report_fails(replay, frozen, run_policy, gc_before):
    # The failure is raised while the collector is paused: it must be resumed all the same.
    with pytest.raises(CredentialReportError, match="access denied to iam:GetCredentialReport"):
        run_policy(user_policy(days=90), replay)

    assert replay.operations() == ["ListUsers", "GetUser", "GetCredentialReport"]
    assert gc.isenabled() is gc_before
