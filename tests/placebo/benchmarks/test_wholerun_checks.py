"""The whole-run benchmark's own checks: a wrong run must stop it, not become a figure."""

from __future__ import annotations

from collections import Counter

import pytest

from benchmarks import wholerun
from benchmarks.synthetic import make_account
from tests.support.localiam import Call, LocalIAM

# Each test starts a local IAM endpoint (a second or two).
pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def truth():
    return wholerun.truth_for(make_account(60))


def run(users, calls=(), ids=None) -> wholerun.Run:
    calls = [Call("iam", action, params) for action, params in calls]
    return wholerun.Run(
        wall=1.0,
        custodian_cpu=1.0,
        endpoint_cpu=0.0,
        iam=Counter(c.action for c in calls),
        sts=Counter(),
        calls=calls,
        users=list(users),
        ids=ids or {},
        handler_cpu={},
    )


def test_the_seeded_account_is_the_generators(truth):
    account = truth.account
    for spec in truth.specs:
        keys = account.keys[spec.name]
        assert [k.active for k in spec.keys] == [k.active for k in keys]
        assert [k.last_used_days_ago is None for k in spec.keys] == [k.used is None for k in keys]
    assert truth.exempt == {u for i, u in enumerate(account.users) if i % 10 == 0}
    assert truth.kept == [u for u in truth.flagged if u not in truth.exempt]
    assert truth.flagged and set(truth.flagged) & truth.exempt


def test_per_user_calls_for_other_users_or_twice_are_caught(truth):
    flagged = truth.flagged[0]
    other = next(u for u in truth.account.users if u not in truth.flagged)
    ids = {flagged: ["AKIAFLAGGED"], other: ["AKIAOTHER"]}
    good = [
        ("GetUser", {"UserName": flagged}),
        ("GetAccessKeyLastUsed", {"AccessKeyId": "AKIAFLAGGED"}),
    ]
    assert wholerun.only_flagged(run([], good, ids), truth)
    assert not wholerun.only_flagged(run([], [("GetUser", {"UserName": other})], ids), truth)
    last_used_other = [("GetAccessKeyLastUsed", {"AccessKeyId": "AKIAOTHER"})]
    assert not wholerun.only_flagged(run([], last_used_other, ids), truth)
    assert not wholerun.only_flagged(run([], good + good[:1], ids), truth)


def test_a_run_returning_other_users_or_disabling_other_keys_stops_the_bench(tmp_path, truth):
    with LocalIAM() as local:
        bench = wholerun.Bench(local, truth, tmp_path)
        bench.prepare(report=False)
        bench.check("C", run(truth.flagged, ids=bench.ids))  # right: no error
        with pytest.raises(wholerun.BenchmarkError, match="returned"):
            bench.check("D", run(truth.flagged, ids=bench.ids))  # exempt users kept
        with pytest.raises(wholerun.BenchmarkError, match="disabled 0 keys"):
            bench.check("E", run(truth.kept, ids=bench.ids))  # nothing disabled
