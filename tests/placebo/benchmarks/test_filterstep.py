"""The filter-step benchmark measures what a run costs: each repeat is a run of its own, so
the plugin's route fetches and parses its report in every repeat it times."""

from __future__ import annotations

from collections import Counter

from benchmarks import filterstep
from benchmarks.fakeaws import FakeIAM, fake_factory
from benchmarks.synthetic import make_account


def test_every_repeat_of_every_route_pays_for_its_own_report():
    account = make_account(50)
    iam = FakeIAM(account)
    routes = filterstep._timed_routes(account, iam, fake_factory(iam), repeats=3)
    # Counted in the last repeat: the plugin's one fetch, c7n's recipe's two (cache off), the
    # recipe sharing c7n's cache one, the per-user route one listing per user.
    assert {name: route.calls for name, route in routes.items()} == {
        "plugin": Counter(GetCredentialReport=1),
        "builtin": Counter(GetCredentialReport=2),
        "shared": Counter(GetCredentialReport=1),
        "access": Counter(ListAccessKeys=50),
    }
    assert [len(route.samples) for route in routes.values()] == [3, 3, 3, 3]
