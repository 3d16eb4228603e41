"""Faults at every step of the key lifecycle's changes; the next run converges.

Each step that changes IAM fails in two ways, one user per fault so one run tries them all:
refused (a 500 on every attempt, nothing changes) and lost (the change takes effect, then
a 500 on every attempt: a dropped connection after botocore's retries). The steps:
``retire-keys``' ``TagUser``, ``UpdateAccessKey`` and the ``UntagUser`` that takes a record
back; ``restore-keys``' ``UpdateAccessKey`` and ``UntagUser``; ``delete-retired-keys``'
``DeleteAccessKey`` and ``UntagUser``. Then the same run again, faults gone. What must hold:

- right after the faulted run and after the next: every Inactive key the plugin disabled
  has its record;
- after the next run: every record points at an Inactive key the plugin retired (none at an
  active or a gone key), and the lifecycle got where it was going (retired, restored, or
  deleted past the grace);
- never a key deleted that should stay (within its grace, used since its retirement).

The stock ``custodian`` on one moto server per module (reset between scenarios), c7n's
default cache, IAM's tag limits enforced (``tests/support/lifecycle_e2e.py``).
"""

from __future__ import annotations

import pytest

from tests.support.lifecycle_e2e import (
    LIFECYCLE,
    RETIRE_NAME,
    IamEdges,
    backdate_record,
    day,
    records,
    sample,
)
from tests.support.localiam import KeySpec, LocalIAM, UserSpec
from tests.support.stock_cli import custodian

pytestmark = pytest.mark.slow

REFUSED, LOST = "refused", "lost"
# user -> the faults on that user's requests, in the order the action makes them.
RETIRE_FAULTS = {
    "tag-refused": [("TagUser", REFUSED)],
    "tag-lost": [("TagUser", LOST)],
    "disable-refused": [("UpdateAccessKey", REFUSED)],
    "disable-lost": [("UpdateAccessKey", LOST)],
    "disable-refused-untag-refused": [("UpdateAccessKey", REFUSED), ("UntagUser", REFUSED)],
    "disable-refused-untag-lost": [("UpdateAccessKey", REFUSED), ("UntagUser", LOST)],
    "disable-lost-untag-refused": [("UpdateAccessKey", LOST), ("UntagUser", REFUSED)],
    "disable-lost-untag-lost": [("UpdateAccessKey", LOST), ("UntagUser", LOST)],
}
RESTORE_FAULTS = {
    "enable-refused": [("UpdateAccessKey", REFUSED)],
    "enable-lost": [("UpdateAccessKey", LOST)],
    "untag-refused": [("UntagUser", REFUSED)],
    "untag-lost": [("UntagUser", LOST)],
}
DELETE_FAULTS = {
    "delete-refused": [("DeleteAccessKey", REFUSED)],
    "delete-lost": [("DeleteAccessKey", LOST)],
    "untag-refused": [("UntagUser", REFUSED)],
    "untag-lost": [("UntagUser", LOST)],
}
# Beside the faulted users: a key within its grace, and one used since its retirement.
WITHIN_GRACE, USED = "within-grace", "used-since"

RESTORE = {
    "name": "restore-last-day",
    "resource": "iam-user",
    "filters": [{"type": "retired-keys", "within-hours": 24}],
    "actions": [{"type": "restore-keys"}],
}
DELETE = {
    "name": "delete-30",
    "resource": "iam-user",
    "filters": [{"type": "retired-keys", "days": 30}],
    "actions": [{"type": "delete-retired-keys"}],
}


@pytest.fixture(scope="module")
def endpoint():
    with LocalIAM(aws_like_report=False) as local:
        yield local, IamEdges.install(local)


@pytest.fixture
def server(endpoint, monkeypatch):
    # botocore's standard retry mode (AWS's recommended one: 3 attempts): the legacy mode's
    # 5 attempts with backoff cost about 11 s per failing call, for the same verdict.
    monkeypatch.setenv("AWS_RETRY_MODE", "standard")
    local, edges = endpoint
    local.reset()
    edges.clear()
    local.clear_faults()
    yield local, edges
    edges.clear()
    local.clear_faults()


def inject(local: LocalIAM, edges: IamEdges, faults: dict[str, list]) -> list:
    """Put the faults in place; return each user's first (the one its run meets first: a
    later one, such as taking a record back, may rightly never be reached)."""
    first = []
    for user, steps in faults.items():
        for n, (action, kind) in enumerate(steps):
            if kind == LOST:
                fault = edges.lose(action, UserName=user)
            else:
                fault = local.fail(action, code="ServiceFailure", status=500, UserName=user)
            if n == 0:
                first.append(fault)
    return first


def assert_met(faults: list) -> None:
    """Each user's run met its first fault: no scenario passes by missing its fault."""
    assert all(f.seen >= 1 for f in faults), [(f.action, f.params) for f in faults if not f.seen]


def state(local: LocalIAM) -> tuple[dict[str, dict[str, str]], set[tuple[str, str]]]:
    found = records(local)
    return local.key_states(), {(u, k) for u, ks in found.items() for k in ks}


def assert_disabled_keys_recorded(states, recorded, ours: set[tuple[str, str]], when: str):
    """Every Inactive key among ``ours`` (the keys the plugin may have disabled) has its
    record."""
    disabled = {(u, k) for u, ks in states.items() for k, s in ks.items() if s == "Inactive"}
    missing = (disabled & ours) - recorded
    assert not missing, f"{when}: Inactive keys without their record: {sorted(missing)}"


def test_faults_while_retiring(server, tmp_path):
    local, edges = server
    ids = local.seed([UserSpec(u, [KeySpec(400, 200)]) for u in RETIRE_FAULTS])
    ours = {(u, ks[0]) for u, ks in ids.items()}
    retire = sample(LIFECYCLE, RETIRE_NAME)
    faults = inject(local, edges, RETIRE_FAULTS)
    faulted = custodian(local, retire, tmp_path)
    edges.clear()
    local.clear_faults()
    after_fault = state(local)
    again = custodian(local, retire, tmp_path)
    states, recorded = state(local)

    assert faulted.returncode == 0 and again.returncode == 0, faulted.log + again.log
    assert_met(faults)
    assert_disabled_keys_recorded(*after_fault, ours, "after the faulted run")
    assert_disabled_keys_recorded(states, recorded, ours, "after the next run")
    # Converged: every stale key retired, with its record, and no other record.
    assert {(u, k) for u, ks in states.items() for k, s in ks.items() if s == "Inactive"} == ours
    assert recorded == ours


def retired_account(local: LocalIAM, tmp, users: list[str], extra: list[UserSpec]) -> dict:
    """``users`` (never used, created 200 days ago) and ``extra``, retired by the shipped
    retirement policy; the IDs."""
    ids = local.seed([UserSpec(u, [KeySpec(200, None)]) for u in users] + extra)
    custodian(local, sample(LIFECYCLE, RETIRE_NAME), day(tmp, 0)).assert_clean()
    assert set(records(local)) == set(ids)
    return ids


def test_faults_while_restoring(server, tmp_path):
    local, edges = server
    ids = retired_account(local, tmp_path, list(RESTORE_FAULTS), [])
    ours = {(u, ks[0]) for u, ks in ids.items()}
    faults = inject(local, edges, RESTORE_FAULTS)
    faulted = custodian(local, RESTORE, day(tmp_path, 1))
    edges.clear()
    local.clear_faults()
    after_fault = state(local)
    again = custodian(local, RESTORE, day(tmp_path, 1))
    states, recorded = state(local)

    assert faulted.returncode == 0 and again.returncode == 0, faulted.log + again.log
    assert_met(faults)
    assert_disabled_keys_recorded(*after_fault, ours, "after the faulted run")
    # Converged: every key active again, no record left.
    assert states == {u: {k: "Active" for k in ks} for u, ks in ids.items()}
    assert recorded == set()


def test_faults_while_deleting(server, tmp_path):
    local, edges = server
    users = list(DELETE_FAULTS)
    extra = [UserSpec(WITHIN_GRACE, [KeySpec(300, 150)]), UserSpec(USED, [KeySpec(300, 150)])]
    ids = retired_account(local, tmp_path, users, extra)
    ours = {(u, ks[0]) for u, ks in ids.items()}
    for user in (*users, USED):
        backdate_record(local, user, ids[user][0], 31)
    backdate_record(local, WITHIN_GRACE, ids[WITHIN_GRACE][0], 10)
    local.use_key(USED, ids[USED][0])
    faults = inject(local, edges, DELETE_FAULTS)
    faulted = custodian(local, DELETE, day(tmp_path, 31))
    edges.clear()
    local.clear_faults()
    after_fault = state(local)
    again = custodian(local, DELETE, day(tmp_path, 31))
    states, recorded = state(local)

    assert faulted.returncode == 0 and again.returncode == 0, faulted.log + again.log
    assert_met(faults)
    assert_disabled_keys_recorded(*after_fault, ours, "after the faulted run")
    kept = {WITHIN_GRACE: ids[WITHIN_GRACE][0], USED: ids[USED][0]}
    for states_now, _ in (after_fault, (states, recorded)):
        for user, key in kept.items():
            assert states_now[user] == {key: "Inactive"}, f"deleted {user}'s key"
    # Converged: the due keys gone with their records; the kept ones as they were.
    assert {u: ks for u, ks in states.items() if ks} == {
        u: {k: "Inactive"} for u, k in kept.items()
    }
    assert recorded == set(kept.items())
