"""Which retirement records a restore or delete policy acts on: its filters, per record. Pure.

c7n evaluates filters per user: a ``retired-keys`` filter passes a user with at least one
record its options select, and ``and`` / ``or`` / ``not`` combine users. Actions change
keys, so records must be chosen per record: with ``days: 30`` beside ``or: [policy: A,
policy: B]``, a record of policy C is not chosen even when its user also holds an A record.
So, once c7n has filtered, each record of each matched user is chosen when the policy's
filter tree is true for that record (``selects``):

- a ``retired-keys`` filter: the record passes its options (``passes``: ``days``,
  ``policy``, ``within-hours``);
- a filter or block that holds no ``retired-keys`` (value, tag, ``UserName``...): its user
  passed it, as c7n evaluated it (``user_passed``, asked by the node's path: the indexes
  from the policy's filter list down, as c7n's ``filters`` nest);
- ``and`` (and the policy's list), ``or``, ``not`` (the negated ``and`` of its filters).

This is exact when no ``retired-keys`` is inside ``not:`` (``composition`` refuses that in
these policies): the tree is then monotone in its ``retired-keys`` leaves, so a record
chosen here belongs to a user c7n matched; and every node asked about a matched user was
evaluated on that user by c7n (an ``or:`` runs each branch on every user it is given; an
``and:`` stops at a filter that fails the user, and that filter is then false for every
one of the user's records, so the filters after it do not change the answer).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from datetime import datetime

from c7n_keyage.composition import block_type
from c7n_keyage.lifecycle import plan
from c7n_keyage.lifecycle.record import Record
from c7n_keyage.names import RETIRED_FILTER, WITHIN_HOURS

Path = tuple[int, ...]
UserPassed = Callable[[Path], bool]


def passes(options: dict, record: Record, now: datetime) -> bool:
    """Whether ``record`` passes a ``retired-keys`` filter's options: retired by the policy
    named ``policy``, less than ``within-hours`` hours ago, more than ``days`` days ago (0,
    the default: any age)."""
    if "policy" in options and record.policy != options["policy"]:
        return False
    if WITHIN_HOURS in options and not plan.younger_than(record, now, options[WITHIN_HOURS]):
        return False
    return plan.older_than(record, now, options.get("days", 0))


def _as_dict(data: dict | str) -> dict:
    # c7n also takes a filter given as a bare name.
    return data if isinstance(data, dict) else {"type": data}


def holds_records_filter(data: dict | str) -> bool:
    """Whether ``data`` is, or holds, a ``retired-keys`` filter."""
    data = _as_dict(data)
    if kind := block_type(data):
        return any(holds_records_filter(child) for child in data[kind])
    return data.get("type") == RETIRED_FILTER


def user_nodes(filters: list, path: Path = ()) -> Iterator[tuple[Path, dict]]:
    """The largest filters and blocks that hold no ``retired-keys``, with their paths: the
    ones whose users the shell notes as c7n evaluates them, for ``user_passed``."""
    for index, data in enumerate(filters or ()):
        data, here = _as_dict(data), (*path, index)
        if not holds_records_filter(data):
            yield here, data
        elif kind := block_type(data):
            yield from user_nodes(data[kind], here)


def _true(data: dict, path: Path, record: Record, now: datetime, user_passed: UserPassed) -> bool:
    if not holds_records_filter(data):
        return user_passed(path)
    kind = block_type(data)
    if kind is None:
        return passes(data, record, now)
    answers = [
        _true(_as_dict(child), (*path, i), record, now, user_passed)
        for i, child in enumerate(data[kind])
    ]
    if kind == "or":
        return any(answers)
    if kind == "not":
        return not all(answers)
    return all(answers)


def selects(filters: list, record: Record, now: datetime, user_passed: UserPassed) -> bool:
    """Whether the policy whose filter list is ``filters`` chooses ``record`` of a user for
    whom ``user_passed`` answers."""
    return all(
        _true(_as_dict(data), (index,), record, now, user_passed)
        for index, data in enumerate(filters or ())
    )


def selected(
    filters: list, records: Iterable[Record], now: datetime, user_passed: UserPassed
) -> list[Record]:
    """The records of one user the policy chooses, in their order."""
    return [r for r in records if selects(filters, r, now, user_passed)]
