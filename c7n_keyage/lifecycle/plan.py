"""What the lifecycle does with each retirement record. Pure: records, live states, ``now``.

Per record, one decision:

- the key is gone: ``remove-record`` (reason ``key gone``); nothing else to do;
- the key is Active again (re-enabled by hand, or a retirement whose disabling failed):
  ``remove-record`` (``key active again``); the key itself is never touched;
- restore: the key is Inactive: ``restore`` (re-enable it, then remove the record);
- delete: the key is Inactive, was retired more than the grace ago, and its live last use
  is still exactly what its retirement saw (never used and still never used, or the same
  moment to the second): ``delete`` (then remove the record); otherwise ``keep``, saying
  why. AWS reports a use late, so a key used just before its retirement can look stale to
  that retirement and show the use only later: "not used after the retirement" would let it
  be deleted, "the last use has not changed" does not;
- a record that does not say what its retirement saw (one without the last use):
  only a key still never used is deleted, since a key never used now was never used when it
  was retired; any other is kept, saying why: a use reported late cannot be ruled out;
- a record that cannot be trusted (see ``record.py``): ``refuse``, with its reason.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from c7n_keyage.lifecycle.record import NEVER, Problem, Record, format_time, to_the_second

ACTIVE, INACTIVE, MISSING = "Active", "Inactive", "missing"
RESTORE, DELETE, REMOVE_RECORD, KEEP, REFUSE = (
    "restore",
    "delete",
    "remove-record",
    "keep",
    "refuse",
)
KEY_GONE = "key gone"
ACTIVE_AGAIN = "key active again"


@dataclass(frozen=True)
class KeyState:
    """A key as the live API shows it now.

    ``last_used`` is None when it was never used; ``last_used_known`` is False when its
    last use could not be read.
    """

    status: str  # ACTIVE, INACTIVE or MISSING
    last_used: datetime | None = None
    last_used_known: bool = True


GONE = KeyState(MISSING)


@dataclass(frozen=True)
class Decision:
    key_id: str
    tag_key: str
    step: str  # RESTORE, DELETE, REMOVE_RECORD, KEEP or REFUSE
    reason: str


def used_since(record: Record, state: KeyState) -> bool | None:
    """Whether the key was used after its retirement; None when that is unknown."""
    if state.status == MISSING:
        return False
    if not state.last_used_known:
        return None
    return state.last_used is not None and state.last_used > record.retired_at


def last_use_unchanged(record: Record, state: KeyState) -> bool | None:
    """Whether the key's live last use is still what its retirement saw, to the second; None
    when the live last use could not be read. A record that does not say what its retirement
    saw counts as unchanged only for a key still never used."""
    if not state.last_used_known:
        return None
    live = to_the_second(state.last_used)
    if record.seen is None:
        return live is None
    return live == record.seen.last_used


def _changed(record: Record, state: KeyState) -> str:
    """Why a key whose last use changed since its retirement is kept."""
    live = state.last_used
    if live is not None and live > record.retired_at:
        return f"used after its retirement ({format_time(live)}): never deleted"
    now_text = state_text(state)
    if record.seen is None:
        return (
            f"last used {now_text}, and its record does not say what its retirement saw: a "
            "use reported after the retirement cannot be ruled out: never deleted (check it, "
            "then delete it by hand, or restore it)"
        )
    return (
        f"last used {now_text}, where its retirement saw {record.seen.text}: a use reported "
        "after the retirement: never deleted"
    )


def retired_for(record: Record, now: datetime) -> timedelta:
    return now - record.retired_at


def older_than(record: Record, now: datetime, days: int) -> bool:
    """Retired more than ``days`` days ago; ``days`` 0 selects every record."""
    return days == 0 or retired_for(record, now) > timedelta(days=days)


def younger_than(record: Record, now: datetime, hours: int) -> bool:
    """Retired less than ``hours`` hours ago."""
    return retired_for(record, now) < timedelta(hours=hours)


def _gone_or_active(record: Record, state: KeyState) -> Decision | None:
    if state.status == MISSING:
        return Decision(record.key_id, record.tag_key, REMOVE_RECORD, KEY_GONE)
    if state.status != INACTIVE:
        return Decision(record.key_id, record.tag_key, REMOVE_RECORD, ACTIVE_AGAIN)
    return None


def for_restore(record: Record, state: KeyState) -> Decision:
    if (decision := _gone_or_active(record, state)) is not None:
        return decision
    return Decision(
        record.key_id,
        record.tag_key,
        RESTORE,
        f"retired {record.retired_at_text} by {record.policy}",
    )


def for_delete(record: Record, state: KeyState, now: datetime, grace_days: int) -> Decision:
    if (decision := _gone_or_active(record, state)) is not None:
        return decision
    unchanged = last_use_unchanged(record, state)
    if unchanged is None:
        return Decision(
            record.key_id, record.tag_key, KEEP, "its last use cannot be read: never deleted"
        )
    if not unchanged:
        return Decision(record.key_id, record.tag_key, KEEP, _changed(record, state))
    if retired_for(record, now) <= timedelta(days=grace_days):
        due = format_time(record.retired_at + timedelta(days=grace_days))
        return Decision(
            record.key_id, record.tag_key, KEEP, f"within its {grace_days}-day grace until {due}"
        )
    return Decision(
        record.key_id,
        record.tag_key,
        DELETE,
        f"retired {record.retired_at_text} by {record.policy}, inactive and unused since "
        f"(last use {state_text(state)}, as its retirement saw it), grace of {grace_days} "
        "days over",
    )


def state_text(state: KeyState) -> str:
    return NEVER if state.last_used is None else format_time(state.last_used)


def refusals(problems: Iterable[Problem]) -> list[Decision]:
    return [
        Decision(p.key_id, p.tag_key, REFUSE, f"record {p.value!r} not trusted: {p.reason}")
        for p in problems
    ]


def plan_restore(
    records: Iterable[Record], problems: Iterable[Problem], states: Mapping[str, KeyState]
) -> list[Decision]:
    """One decision per record (``states`` by key ID; a key not in it is gone)."""
    return [for_restore(r, states.get(r.key_id, GONE)) for r in records] + refusals(problems)


def records_of_gone_keys(records: Iterable[Record], listed: Collection[str]) -> list[Decision]:
    """``remove-record`` (``key gone``) for each record whose key is not among ``listed``,
    the IDs of its user's keys now."""
    return [
        Decision(r.key_id, r.tag_key, REMOVE_RECORD, KEY_GONE)
        for r in records
        if r.key_id not in listed
    ]


def plan_delete(
    records: Iterable[Record],
    problems: Iterable[Problem],
    states: Mapping[str, KeyState],
    now: datetime,
    grace_days: int,
) -> list[Decision]:
    """One decision per record; a key is deleted only when ``for_delete`` says so."""
    return [for_delete(r, states.get(r.key_id, GONE), now, grace_days) for r in records] + refusals(
        problems
    )
