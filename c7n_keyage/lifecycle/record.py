"""The record a retirement leaves on its user: one IAM tag per retired key. Pure.

Tag key ``c7n-keyage:retired:<AccessKeyId>``; value ``<UTC time, ISO 8601 to the second,
with Z> <policy name> last-used=<what the retirement saw of the key's last use: its UTC
time to the second, or never>``, for example ``2026-12-02T06:00:12Z retire-90
last-used=2026-08-01T10:00:00Z``. The last use is what lets a deletion tell a key untouched
since its retirement from one whose use AWS reported late (``plan.py``). A record written
without it (``<time> <policy>``) still reads: its ``seen`` is None, and ``plan.py`` gives it
the safe reading.

A policy name goes into the value unchanged or not at all: ``name_problem`` says why a
retirement's name cannot be carried (IAM's 256 characters, and the characters IAM takes in
a tag value), ``selectable_problem`` why a name given to ``retired-keys policy:`` matches no
record. The records are the lifecycle's only state, so they are read strictly: a value that
does not parse, has no time zone, names no policy, has a last use that is neither ``never``
nor a UTC time to the second, or is dated after ``now`` is a problem with its reason, never
a guess (a forged or hand-edited record must not re-enable or delete a key).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timezone

PREFIX = "c7n-keyage:"
TAG_PREFIX = PREFIX + "retired:"
# IAM's limits for a tag value, and the characters it allows in one (letters, digits,
# spaces and _ . : / = + - @); c7n allows names a record cannot carry (name_problem).
VALUE_LIMIT = 256
_NOT_ALLOWED = re.compile(r"[^\w .:/=+\-@]", re.ASCII)
# IAM access key IDs: 16 to 128 word characters.
_KEY_ID = re.compile(r"\w{16,128}", re.ASCII)
_TIME_WIDTH = len("2026-12-02T06:00:12Z")
# What the retirement saw of the key's last use, the value's last word.
LAST_USED = "last-used="
NEVER = "never"
_SEEN = re.compile(LAST_USED + r"(never|\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ)")
# The longest policy name a record carries: beside its time, a space, a space and the
# widest last use (a time).
POLICY_LIMIT = VALUE_LIMIT - _TIME_WIDTH - len(" ") - len(" " + LAST_USED) - _TIME_WIDTH
# Records without the last use (an older form, still read) carry at most this many
# characters of a name, its characters IAM refuses written as _.
OLD_POLICY_LIMIT = VALUE_LIMIT - _TIME_WIDTH - 1


@dataclass(frozen=True)
class Seen:
    """What a retirement saw of its key's last use: the moment, to the second, or None when
    the key had never been used."""

    last_used: datetime | None

    def __post_init__(self) -> None:
        if self.last_used is not None and self.last_used.tzinfo is None:
            raise ValueError("a last use must carry its time zone")
        # A record keeps whole seconds: so does what it is compared with.
        object.__setattr__(self, "last_used", to_the_second(self.last_used))

    @property
    def text(self) -> str:
        return NEVER if self.last_used is None else format_time(self.last_used)


@dataclass(frozen=True)
class Record:
    """A retirement record that parsed: the key, when it was retired, by which policy."""

    key_id: str
    retired_at: datetime  # aware, UTC
    policy: str
    # What the retirement saw of the key's last use; None for a record that does not say.
    seen: Seen | None = None

    @property
    def tag_key(self) -> str:
        return tag_key(self.key_id)

    @property
    def retired_at_text(self) -> str:
        return format_time(self.retired_at)


@dataclass(frozen=True)
class Problem:
    """A ``c7n-keyage:retired:`` tag that cannot be trusted, and why."""

    tag_key: str
    value: str
    reason: str

    @property
    def key_id(self) -> str:
        return self.tag_key[len(TAG_PREFIX) :]


def tag_key(key_id: str) -> str:
    return TAG_PREFIX + key_id


def format_time(when: datetime) -> str:
    """``when`` in UTC, to the second, with ``Z``: ``2026-12-02T12:00:00Z``."""
    if when.tzinfo is None:
        raise ValueError("a retirement time must carry its time zone")
    # isoformat, not strftime: it writes a year before 1000 with its four digits.
    return when.astimezone(timezone.utc).isoformat(timespec="seconds").replace("+00:00", "Z")


def to_the_second(when: datetime | None) -> datetime | None:
    """``when`` in UTC without its fraction of a second (a record keeps whole seconds)."""
    return None if when is None else when.astimezone(timezone.utc).replace(microsecond=0)


def format_record(key_id: str, when: datetime, policy: str, seen: Seen) -> tuple[str, str]:
    """The ``(tag key, tag value)`` recording that ``policy`` retired ``key_id`` at ``when``,
    having seen ``seen`` of its last use. A name a record cannot carry unchanged is a
    ``ValueError`` (``name_problem``)."""
    if not _KEY_ID.fullmatch(key_id):
        raise ValueError(f"not an access key ID: {key_id!r}")
    if problem := name_problem(policy):
        raise ValueError(problem)
    return tag_key(key_id), f"{format_time(when)} {policy} {LAST_USED}{seen.text}"


def _refused(name: str, space: bool) -> list[str]:
    """The characters of ``name`` a tag value cannot hold (IAM takes letters, digits, spaces
    and ``_ . : / = + - @``; ASCII ones here), and spaces unless ``space``."""
    allowed = set(" ") if space else set()
    return sorted({c for c in name if _NOT_ALLOWED.match(c) or (c == " " and c not in allowed)})


def name_problem(policy: str) -> str | None:
    """Why a retirement by the policy named ``policy`` cannot write records that carry its
    name unchanged (what ``retired-keys policy:`` and the runbook's restore look for); None
    when it can."""
    if not policy:
        return "the policy has no name for its records to carry"
    if bad := _refused(policy, space=False):
        return (
            f"the policy name {policy!r} has characters a retirement record cannot carry "
            f"({' '.join(repr(c) for c in bad)}): IAM tag values take letters, digits and "
            "_ . : / = + - @, and a record separates its fields with spaces; restore-keys "
            "finds records by the exact name"
        )
    if len(policy) > POLICY_LIMIT:
        return (
            f"the policy name is {len(policy)} characters: a retirement record (an IAM tag "
            f"value, at most {VALUE_LIMIT} characters) carries at most {POLICY_LIMIT} of it "
            "beside the retirement time and the key's last use, and restore-keys finds "
            f"records by the exact name; use a name of at most {POLICY_LIMIT} characters"
        )
    return None


def selectable_problem(policy: str) -> str | None:
    """Why ``retired-keys policy: <policy>`` matches no record, whatever was retired: no
    record, of either form, can carry that name. None when one can."""
    legacy = (_NOT_ALLOWED.sub("_", policy) or "_")[:OLD_POLICY_LIMIT].strip()
    hint = f"; a retirement by that name recorded it as {legacy!r}" if legacy != policy else ""
    if not policy.strip() or policy != policy.strip():
        why = "a record's policy name neither starts nor ends with a space, and is never empty"
    elif policy.rpartition(" ")[2].startswith(LAST_USED):
        why = f"a record's last word {LAST_USED}... is the key's last use, not its policy"
    elif bad := _refused(policy, space=True):
        why = f"a record cannot carry {' '.join(repr(c) for c in bad)} (IAM tag values take "
        why += "letters, digits, spaces and _ . : / = + - @)"
    elif len(policy) > OLD_POLICY_LIMIT:
        why = f"a record carries at most {OLD_POLICY_LIMIT} characters of a policy name"
    else:
        return None
    return f"policy {policy!r} matches no record: {why}{hint}"


def parse_value(value: str, now: datetime) -> tuple[datetime, str, Seen | None] | str:
    """``(retired_at, policy, seen)`` from a tag value, or the reason it cannot be trusted."""
    when_text, _, rest = value.partition(" ")
    try:
        when = datetime.fromisoformat(when_text)
    except ValueError:
        return f"its time {when_text!r} is not an ISO 8601 date and time"
    if when.tzinfo is None:
        return f"its time {when_text!r} has no time zone"
    policy, seen = _policy_and_seen(rest.strip())
    if isinstance(seen, str):
        return seen
    if not policy:
        return "it names no policy after its time"
    when = when.astimezone(timezone.utc)
    if when > now:
        return f"it is dated {format_time(when)}, after now ({format_time(now)})"
    return when, policy, seen


def _policy_and_seen(rest: str) -> tuple[str, Seen | None | str]:
    """The policy and what the retirement saw, from the value after its time (the seen part
    is the reason it cannot be trusted when its last word is a last use that does not parse).
    A last word that is not a last use belongs to the policy: a record without one."""
    policy, _, last = rest.rpartition(" ")
    if not last.startswith(LAST_USED):
        return rest, None
    refused = f"its last use {last!r} is neither {LAST_USED}{NEVER} nor a UTC time to the second"
    if not (match := _SEEN.fullmatch(last)):
        return policy.strip(), refused
    if match[1] == NEVER:
        return policy.strip(), Seen(None)
    try:
        return policy.strip(), Seen(datetime.fromisoformat(match[1]))
    except ValueError:  # shaped like a time, but not one (month 13)
        return policy.strip(), refused


def parse_records(tags: Iterable[dict], now: datetime) -> tuple[list[Record], list[Problem]]:
    """The retirement records among a user's tags (IAM's ``[{"Key", "Value"}]``), and the
    tags with the lifecycle's prefix that cannot be trusted. Other tags are ignored."""
    records, problems = [], []
    for tag in tags:
        # IAM's tags always carry both (an empty value is "").
        key, value = tag["Key"], tag["Value"]
        if not key.startswith(TAG_PREFIX):
            continue
        key_id = key[len(TAG_PREFIX) :]
        if not _KEY_ID.fullmatch(key_id):
            problems.append(Problem(key, value, f"{key_id!r} is not an access key ID"))
            continue
        parsed = parse_value(value, now)
        if isinstance(parsed, str):
            problems.append(Problem(key, value, parsed))
        else:
            records.append(Record(key_id, *parsed))
    return records, problems
