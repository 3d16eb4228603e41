"""Which entries are the same key (by ID when both know it, by slot and creation when one
does not), and the combination of an account's runs: actions take keys out, a report made
before an action cannot bring them back, the live API can."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from c7n_keyage.overview.combine import REPORT_LAG, acted_keys, combine, superseded
from c7n_keyage.overview.identity import Held, KeySet, merged, ref, same_key
from c7n_keyage.overview.runs import Outcome, Run, StaleKey

AT = datetime(2026, 11, 2, 6, tzinfo=timezone.utc)
CREATED = 1735689600


def key(user="u", key_id=None, slot=1, created=CREATED, reasons=("unused",), **kw) -> StaleKey:
    fields = dict(user=user, access_key_id=key_id, slot=slot, last_rotated=None, created=created,
                  last_used_date=None, last_used_service=None, last_used_region=None,
                  reasons=reasons, age_days=100, verified=key_id is not None)  # fmt: skip
    return StaleKey(**(fields | kw))


def run(*keys, at=AT, action=None, outcomes=None, notify=False, where="w") -> Run:
    return Run(where, "1", None, "p", at, action, keys, outcomes=outcomes, notifies=notify)


@pytest.mark.parametrize(
    "held, other, same",
    [
        (key(key_id="A"), key(key_id="A", slot=2, created=1), True),  # the ID decides
        (key(key_id="A"), key(key_id="B"), False),  # twins: same second, two IDs
        (key(), key(), True),  # slot and creation, no ID on either
        (key(), key(slot=2), False),
        (key(), key(created=CREATED + 1), False),
        (key(slot=None, created=None), key(slot=None, created=None), False),  # nothing to go by
        (key(slot=1, created=None), key(slot=1, created=None), True),
        (key(key_id="A", slot=None), key(), True),  # a verified twin-less entry, a report's
        (key(key_id="A", slot=2), key(slot=1), False),
        (key(key_id="A"), key(created=None), False),
        (key(key_id="A", created=None), key(), False),
        (key(key_id="A"), key(user="v"), True),  # same_key compares within one user
    ],
)
def test_same_key(held, other, same):
    assert same_key(held, other) is same


def test_a_key_pairs_with_one_entry_never_two():
    held = KeySet()
    for entry in (key(key_id="A", slot=None), key(key_id="B", slot=None), key(slot=1), key(slot=2)):
        held.put(entry, run())
    assert len(held) == 2
    assert sorted((h.key.access_key_id, h.key.slot) for h in held) == [("A", 1), ("B", 2)]


def test_an_id_is_found_before_a_looser_match():
    held = KeySet()
    held.put(key(slot=None, key_id=None, created=CREATED), run())  # matches anything loosely
    exact = held.put(key(key_id="A", slot=2, created=5), run())
    assert held.find(key(key_id="A", slot=None, created=CREATED)) is exact


def test_merging_keeps_what_either_knows_and_both_reasons():
    older = key(key_id="A", slot=None, owner="ana", reasons=("unrotated",), verified=True)
    newer = key(slot=2, team="t", reasons=("unused",), last_rotated="2025", age_days=300)
    found = merged(older, newer)
    assert (found.access_key_id, found.slot, found.owner, found.team) == ("A", 2, "ana", "t")
    assert (found.reasons, found.age_days, found.verified) == (("unused", "unrotated"), 300, True)


def test_merging_keeps_the_later_creation_and_team_else_the_earlier():
    report = key(last_rotated="2025-01-01T00:00:00+00:00", team="payments")
    live = key(key_id="A", slot=None, created=None)  # what a verified entry may lack
    found = merged(report, live)
    assert (found.last_rotated, found.created, found.team) == (
        "2025-01-01T00:00:00+00:00",
        CREATED,
        "payments",
    )
    newer = key(last_rotated="2025-01-01T00:00:01+00:00", created=CREATED + 1, team="ops")
    found = merged(report, newer)
    assert (found.last_rotated, found.created, found.team) == (
        "2025-01-01T00:00:01+00:00",
        CREATED + 1,
        "ops",
    )


def test_an_entry_without_id_joins_the_key_without_id_it_matches_exactly():
    """A key with an ID said to be in another slot later sits beside a report's key of
    that slot: an entry of the report is that report's key, not the one with the ID."""
    held = KeySet()
    held.put(key(key_id="A", slot=2), run())
    reported = held.put(key(slot=1), run())
    held.put(key(key_id="A", slot=1), run())
    assert held.find(key(slot=1)) is reported


def test_a_held_key_remembers_a_notify():
    held = KeySet()
    held.put(key(), run(notify=True))
    found = held.put(key(), run(at=AT + timedelta(1)))
    assert found.notified and found.at == AT + timedelta(1)
    assert held.pop(key()) is found and held.pop(key()) is None and len(held) == 0


def test_refs_name_a_key_across_runs():
    assert ref("1", key(key_id="A")) == "1|A"
    assert ref("1", key()) == f"1|u|1|{CREATED}"


@pytest.mark.parametrize(
    "verified, after, back",
    [
        (False, REPORT_LAG - timedelta(seconds=1), False),
        (False, REPORT_LAG, True),
        (True, timedelta(0), True),
        (True, timedelta(seconds=-1), False),
    ],
)
def test_a_verdict_after_an_action_counts_once_its_evidence_is_newer(verified, after, back):
    acted = Held(key(key_id="A"), run(), AT)
    flagged = key(key_id="A" if verified else None, verified=verified)
    assert superseded(acted, flagged, run(at=AT + after)) is not back
    assert superseded(None, flagged, run(at=AT + after)) is False


def test_a_runs_results_say_which_of_its_keys_it_acted_on():
    a, b = key(key_id="A"), key(key_id="B")
    assert acted_keys(run(a, b)) == []
    assert acted_keys(run(a, b, action="retired")) == [a, b]
    done = (Outcome("u", "A", "failed"), Outcome("u", "B", "retired"))
    assert acted_keys(run(a, b, action="retired", outcomes=done)) == [b]


def test_combine_applies_runs_in_the_order_they_started():
    a = key(key_id="A")
    report = run(key(), at=AT, where="r")
    retire = run(a, at=AT + timedelta(minutes=1), action="retired", where="s")
    again = run(a, at=AT + timedelta(minutes=2), where="t")
    assert len(combine([again, retire, report])) == 1  # the verified flag after: stale again
    assert len(combine([retire, report])) == 0
    restored = run(at=AT + timedelta(minutes=3), outcomes=(Outcome("u", "A", "restored"),))
    later_report = run(key(), at=AT + timedelta(minutes=4), where="u")
    assert len(combine([report, retire, restored, later_report])) == 1


def test_a_key_is_taken_out_by_its_id_alone():
    held = KeySet()
    a = held.put(key(key_id="A", slot=None), run())
    held.put(key(slot=2, created=5), run())
    assert held.pop_id("u", "B") is None and held.pop_id("v", "A") is None
    assert held.pop_id("u", "A") is a and len(held) == 1
