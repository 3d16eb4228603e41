"""A retired key is deleted only when its live last use is still what its retirement saw.

The issue's rule: AWS reports a use late, so a key used just before a run can look stale to
that run, be retired, and show the use only later. Record what the retirement saw (the last
use, or never used) and delete only a key whose live last use is still exactly that (never
used and still never used, or the same moment to the second); otherwise keep it, saying why.
A record that does not say what its retirement saw: deleted only if the key is still never
used (a key never used now was never used at its retirement); kept otherwise.

First as a table, then against a model of uses and the delay before AWS reports them.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from c7n_keyage.lifecycle import plan
from c7n_keyage.lifecycle.plan import ACTIVE, DELETE, INACTIVE, KEEP, REMOVE_RECORD, KeyState
from c7n_keyage.lifecycle.record import Record, Seen

NOW = datetime(2026, 12, 2, 12, 0, 0, tzinfo=timezone.utc)
KEY = "AKIAEXAMPLE000000001"
RETIRED = NOW - timedelta(days=40)
SAW = RETIRED - timedelta(days=200)  # the last use the retirement saw
SECOND = timedelta(seconds=1)
UNRECORDED = "unrecorded"  # a record written without what its retirement saw


def record(seen) -> Record:
    return Record(KEY, RETIRED, "retire-90", None if seen == UNRECORDED else Seen(seen))


def inactive(used: datetime | None = None, known: bool = True) -> KeyState:
    return KeyState(INACTIVE, used, known)


# id, what the retirement saw, the key now, expected step, start of the reason
TABLE = [
    ("never-still-never", None, inactive(), DELETE, "retired 2026-10-23T12:00:00Z by retire-90"),
    ("same-moment", SAW, inactive(SAW), DELETE, "retired"),
    ("same-second", SAW, inactive(SAW + timedelta(microseconds=999999)), DELETE, "retired"),
    ("late-one-second", SAW, inactive(SAW + SECOND), KEEP, "last used 2026-04-06T12:00:01Z, "),
    ("late-before-retirement", SAW, inactive(RETIRED - SECOND), KEEP, "last used"),
    ("late-at-retirement", SAW, inactive(RETIRED), KEEP, "last used 2026-10-23T12:00:00Z, where"),
    ("late-first-use", None, inactive(RETIRED - SECOND), KEEP, "last used"),
    ("use-vanished", SAW, inactive(), KEEP, "last used never, where its retirement saw 2026-04"),
    ("use-went-back", SAW, inactive(SAW - SECOND), KEEP, "last used"),
    ("used-after", SAW, inactive(RETIRED + SECOND), KEEP, "used after its retirement (2026"),
    ("never-then-used-after", None, inactive(NOW), KEEP, "used after its retirement"),
    ("unknown", SAW, inactive(known=False), KEEP, "its last use cannot be read"),
    ("unrecorded-never", UNRECORDED, inactive(), DELETE, "retired"),
    ("unrecorded-used", UNRECORDED, inactive(SAW), KEEP, "last used 2026-04-06T12:00:00Z, and"),
    ("unrecorded-after", UNRECORDED, inactive(NOW), KEEP, "used after its retirement"),
    ("unrecorded-unknown", UNRECORDED, inactive(known=False), KEEP, "its last use cannot"),
    ("active", SAW, KeyState(ACTIVE, SAW), REMOVE_RECORD, plan.ACTIVE_AGAIN),
    ("gone", SAW, plan.GONE, REMOVE_RECORD, plan.KEY_GONE),
]


@pytest.mark.parametrize(
    "seen, state, step, reason", [t[1:] for t in TABLE], ids=[t[0] for t in TABLE]
)
def test_delete_only_what_the_retirement_saw(seen, state, step, reason):
    decision = plan.for_delete(record(seen), state, NOW, 30)
    assert (decision.key_id, decision.step) == (KEY, step)
    assert decision.reason.startswith(reason), decision.reason


def test_the_reasons_name_both_last_uses():
    late = plan.for_delete(record(SAW), inactive(SAW + SECOND), NOW, 30).reason
    assert late == (
        "last used 2026-04-06T12:00:01Z, where its retirement saw 2026-04-06T12:00:00Z: a use "
        "reported after the retirement: never deleted"
    )
    unrecorded = plan.for_delete(record(UNRECORDED), inactive(SAW), NOW, 30).reason
    assert "its record does not say what its retirement saw" in unrecorded
    assert "delete it by hand, or restore it" in unrecorded
    deleted = plan.for_delete(record(SAW), inactive(SAW), NOW, 30).reason
    assert "last use 2026-04-06T12:00:00Z, as its retirement saw it" in deleted


def test_an_unchanged_last_use_still_waits_for_the_grace():
    young = Record(KEY, NOW - timedelta(days=10), "retire-90", Seen(SAW))
    assert plan.for_delete(young, inactive(SAW), NOW, 30).step == KEEP
    # An unrotated key used a moment before a retirement whose clock was behind AWS's.
    ahead = Record(KEY, RETIRED, "retire-90", Seen(RETIRED + 2 * SECOND))
    assert plan.for_delete(ahead, inactive(RETIRED + 2 * SECOND), NOW, 30).step == DELETE


@pytest.mark.parametrize("seen", [None, SAW, UNRECORDED])
def test_restore_does_not_depend_on_the_last_use(seen):
    for state in (inactive(), inactive(NOW), inactive(known=False)):
        assert plan.for_restore(record(seen), state).step == plan.RESTORE


# --- a model: uses, and the delay before AWS reports each ---

HOUR = timedelta(hours=1)
uses = st.lists(
    st.tuples(
        st.integers(-24 * 400, 24 * 35).map(lambda h: RETIRED + h * HOUR),  # when
        st.sampled_from([0, 1, 3, 4, 30, 24 * 2]).map(lambda h: h * HOUR),  # reported after
    ),
    max_size=4,
)


def reported(history, at: datetime) -> datetime | None:
    """The key's last use as AWS reports it at ``at``."""
    seen = [when for when, delay in history if when + delay <= at]
    return max(seen, default=None)


@given(uses, st.booleans())
def test_a_use_the_retirement_did_not_see_keeps_the_key(history, recorded):
    """An inactive key past its grace (30 days) is deleted iff no use later than the last
    one its retirement saw is reported by the time of the deletion. A record that does not
    say what its retirement saw: deleted iff no use is reported at all."""
    at_retirement, at_deletion = reported(history, RETIRED), reported(history, NOW)
    seen = Seen(at_retirement) if recorded else None
    decision = plan.for_delete(
        Record(KEY, RETIRED, "retire-90", seen), inactive(at_deletion), NOW, 30
    )
    unseen = [
        when
        for when, delay in history
        if when + delay <= NOW and (at_retirement is None or when > at_retirement)
    ]
    safe = not unseen if recorded else at_deletion is None
    assert (decision.step == DELETE) is safe, (history, decision)
