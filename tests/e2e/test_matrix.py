"""The configuration matrix: every end-to-end scenario, under each cache c7n offers, on both
sources, with the stock CLIs on an unmodified moto server.

Scenarios: report, disable (a dry run, the run, and the run again), delete, several policies
in one file, c7n-org over two accounts, and the Lambda handler. Caches: c7n's default file
cache (15 minutes, in the test's own ``HOME``), ``--cache memory`` and ``--cache-period 0``.
c7n-org keeps its cache in files (``--cache-path``), so it runs under the default and with
the cache off; Lambda runs without a cache whatever its ``execution-options`` say (c7n's
handler drops ``cache``), so it has one column. Every cell checks the exact keys changed
against the rule's text (``tests/support/model.py``), and that nothing else changed.
"""

from __future__ import annotations

import json

import pytest

from tests.support import model
from tests.support.lambda_runner import build, invoke, lambda_policy
from tests.support.localiam import KeySpec, LocalIAM, UserSpec
from tests.support.stock_cli import c7n_org, custodian

ACCOUNT = (
    UserSpec("used-yesterday", [KeySpec(300, 1)]),
    UserSpec("used-60-days-ago", [KeySpec(300, 60)]),
    UserSpec("used-120-days-ago", [KeySpec(300, 120)]),
    UserSpec("used-300-days-ago", [KeySpec(400, 300)]),
    UserSpec("never-used-200-days", [KeySpec(200, None)]),
    UserSpec("never-used-10-days", [KeySpec(10, None)]),
    UserSpec("slot-1-newer", [KeySpec(20, 2), KeySpec(300, 150)]),
    UserSpec("stale-inactive", [KeySpec(400, 300, active=False)]),
)
CACHES = {
    "default-cache": (),
    "memory-cache": ("--cache", "memory"),
    # Users pass it; the matrix runs it on purpose beside the two caches.
    "no-cache": ("--cache-period", "0"),
}
SOURCES = ["describe", "credential-report"]


def policy(name: str, source: str, days: int, actions: list[dict] | None = None, **options):
    data = {
        "name": name,
        "resource": "iam-user",
        "source": source,
        "filters": [{"type": "access-key-unused", "days": days, **options}],
    }
    if actions:
        data["actions"] = actions
    return data


def remove(disable: bool) -> list[dict]:
    return [{"type": "remove-keys", "matched": True, "disable": disable}]


def changed(run, action: str) -> set[tuple[str, str]]:
    return {(user, key) for done, user, key in run.changed() if done == action}


def pairs(keys: dict[str, set[str]]) -> set[tuple[str, str]]:
    return {(user, key) for user, ids in keys.items() for key in ids}


def without(states: dict, removed: set[tuple[str, str]]) -> dict:
    return {
        u: {k: s for k, s in keys.items() if (u, k) not in removed} for u, keys in states.items()
    }


def disabled(states: dict, keys: set[tuple[str, str]]) -> dict:
    return {
        u: {k: "Inactive" if (u, k) in keys else s for k, s in ks.items()}
        for u, ks in states.items()
    }


@pytest.fixture(params=SOURCES)
def source(request):
    return request.param


@pytest.fixture(params=list(CACHES))
def cache(request):
    return CACHES[request.param]


def test_report(tmp_path, source, cache):
    with LocalIAM(aws_like_report=False) as local:
        ids = local.seed(ACCOUNT)
        run = custodian(local, policy("report", source, 90), tmp_path, *cache)

    run.assert_clean()
    assert run.changed() == []
    found = {
        user: sorted(k["reasons"][0] for k in r["c7n:unused-keys"])
        for user, r in run.users("report").items()
    }
    expected = model.stale_keys(ACCOUNT, ids)
    assert set(found) == set(expected)
    assert found["never-used-200-days"] == ["never-used"]
    assert sum(len(v) for v in found.values()) == len(pairs(expected))
    # Report only: nothing read per key.
    assert run.operations("ListAccessKeys", "GetAccessKeyLastUsed") == []


def test_disable(tmp_path, source, cache):
    disable = policy("disable", source, 90, remove(disable=True))
    with LocalIAM(aws_like_report=False) as local:
        ids = local.seed(ACCOUNT)
        before = local.key_states()
        dryrun = custodian(local, disable, tmp_path, *cache, "--dryrun")
        after_dryrun = local.key_states()
        run = custodian(local, disable, tmp_path, *cache)
        after = local.key_states()
        again = custodian(local, disable, tmp_path, *cache)
        after_again = local.key_states()

    for each in (dryrun, run, again):
        each.assert_clean()
    stale = pairs(model.stale_keys(ACCOUNT, ids))
    assert dryrun.changed() == [] and after_dryrun == before
    assert set(dryrun.users("disable")) == {user for user, _ in stale}
    assert changed(run, "UpdateAccessKey") == stale and len(run.changed()) == len(stale)
    assert after == disabled(before, stale)
    listed = {c.params["UserName"] for c in run.operations("ListAccessKeys")}
    assert listed == {user for user, _ in stale}
    # Again: whatever the cache hands it (the earlier report), the live check finds the
    # keys disabled, and nothing changes.
    assert again.changed() == [] and after_again == after
    assert again.resources("disable") == []


def test_delete(tmp_path, source, cache):
    delete = policy("delete", source, 90, remove(disable=False))
    with LocalIAM(aws_like_report=False) as local:
        ids = local.seed(ACCOUNT)
        before = local.key_states()
        run = custodian(local, delete, tmp_path, *cache)
        after = local.key_states()

    run.assert_clean()
    stale = pairs(model.stale_keys(ACCOUNT, ids))
    assert changed(run, "DeleteAccessKey") == stale and len(run.changed()) == len(stale)
    assert after == without(before, stale)


def test_several_policies_in_one_file(tmp_path, source, cache):
    """A 45-day report with key IDs, deletion at 180 days, disabling at 90: each policy acts
    on its own verdict, whatever records and report the cache hands it."""
    policies = [
        policy("report-45", source, 45, **{"resolve-key-ids": True}),
        policy("delete-180", source, 180, remove(disable=False)),
        policy("disable-90", source, 90, remove(disable=True)),
    ]
    with LocalIAM(aws_like_report=False) as local:
        ids = local.seed(ACCOUNT)
        before = local.key_states()
        run = custodian(local, policies, tmp_path, *cache)
        after = local.key_states()

    run.assert_clean()
    stale_45 = pairs(model.stale_keys(ACCOUNT, ids, 45))
    stale_90 = pairs(model.stale_keys(ACCOUNT, ids, 90))
    stale_180 = pairs(model.stale_keys(ACCOUNT, ids, 180))
    assert run.findings("report-45") == stale_45
    assert changed(run, "DeleteAccessKey") == stale_180
    # The deleted keys are still in the report the third policy reads: live, they are gone.
    assert changed(run, "UpdateAccessKey") == stale_90 - stale_180
    assert len(run.changed()) == len(stale_90)
    assert after == disabled(without(before, stale_180), stale_90)
    assert run.findings("delete-180") == stale_180
    assert run.findings("disable-90") == stale_90 - stale_180


ORG = {"dev": "111111111111", "prod": "222222222222"}
ORG_USERS = {
    "dev": ACCOUNT[:4],
    "prod": ACCOUNT[4:],
}


@pytest.mark.parametrize("org_cache", ["default-cache", "no-cache"])
def test_c7n_org(tmp_path, source, org_cache):
    # c7n-org's cache is a directory of files; --cache-period 0 turns it off.
    options = () if org_cache == "default-cache" else ("--cache-period", "0")
    with LocalIAM(aws_like_report=False) as local:
        ids = {name: local.seed(ORG_USERS[name], account_id=ORG[name]) for name in ORG}
        before = {name: local.key_states(ORG[name]) for name in ORG}
        run = c7n_org(local, ORG, policy("disable", source, 90, remove(True)), tmp_path, *options)
        after = {name: local.key_states(ORG[name]) for name in ORG}

    assert run.returncode == 0, run.log
    assert "Error running policy" not in run.log and "Exception running policy" not in run.log
    for name in ORG:
        stale = pairs(model.stale_keys(ORG_USERS[name], ids[name]))
        assert after[name] == disabled(before[name], stale), name
        written = run.users("disable", name, "us-east-1")
        assert set(written) == {user for user, _ in stale}, name
    everything = set().union(*(pairs(model.stale_keys(ORG_USERS[n], ids[n])) for n in ORG))
    assert changed(run, "UpdateAccessKey") == everything


def test_lambda_handler(tmp_path, source):
    """The handler, from the archive c7n would publish, run twice as a warm container."""
    out = tmp_path / "lambda-output"
    archive = build(lambda_policy(out, source, remove(disable=True)), tmp_path)
    with LocalIAM(aws_like_report=False) as local:
        ids = local.seed(ACCOUNT)
        before = local.key_states()
        result, calls = invoke(archive, tmp_path, local)
        after = local.key_states()

    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout.strip().splitlines()[-1])["result"] is True
    stale = pairs(model.stale_keys(ACCOUNT, ids))
    updates = {
        (c.params["UserName"], c.params["AccessKeyId"])
        for c in calls
        if c.action == "UpdateAccessKey"
    }
    # The second invocation reads the report afresh and finds nothing left to disable.
    assert updates == stale
    assert len([c for c in calls if c.action == "UpdateAccessKey"]) == len(stale)
    assert after == disabled(before, stale)
