"""What the lifecycle does with each retirement record. Pure: records, live states, ``now``.

Per record, one decision:

- the key is gone: ``remove-record`` (reason ``key gone``); nothing else to do;
- the key is Active again (re-enabled by hand, or a retirement whose disabling failed):
  ``remove-record`` (``key active again``); the key itself is never touched;
- restore: the key is Inactive: ``restore`` (re-enable it, then remove the record);
- delete: the key is Inactive, was retired more than the grace ago, and was not used
  after its retirement: ``delete`` (then remove the record); otherwise ``keep``, saying why;
- a record that cannot be trusted (see ``record.py``): ``refuse``, with its reason.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from c7n_keyage.lifecycle.record import Problem, Record, format_time

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
    used = used_since(record, state)
    if used is None:
        return Decision(
            record.key_id, record.tag_key, KEEP, "its last use cannot be read: never deleted"
        )
    if used:
        return Decision(
            record.key_id,
            record.tag_key,
            KEEP,
            f"used after its retirement ({format_time(state.last_used)}): never deleted",
        )
    if retired_for(record, now) <= timedelta(days=grace_days):
        due = format_time(record.retired_at + timedelta(days=grace_days))
        return Decision(
            record.key_id, record.tag_key, KEEP, f"within its {grace_days}-day grace until {due}"
        )
    return Decision(
        record.key_id,
        record.tag_key,
        DELETE,
        f"retired {record.retired_at_text} by {record.policy}, inactive and unused since, "
        f"grace of {grace_days} days over",
    )


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
