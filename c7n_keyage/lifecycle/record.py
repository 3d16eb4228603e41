"""The record a retirement leaves on its user: one IAM tag per retired key. Pure.

Tag key ``c7n-keyage:retired:<AccessKeyId>``; value ``<UTC time, ISO 8601 to the second,
with Z> <policy name>``, cut to IAM's 256-character limit for tag values. The records are
the lifecycle's only state, so they are read strictly: a value that does not parse, has no
time zone, names no policy, or is dated after ``now`` is a problem with its reason, never
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
# spaces and _ . : / = + - @); policy names in c7n use a subset, but a name is cut safely.
VALUE_LIMIT = 256
_NOT_ALLOWED = re.compile(r"[^\w .:/=+\-@]", re.ASCII)
# IAM access key IDs: 16 to 128 word characters.
_KEY_ID = re.compile(r"\w{16,128}", re.ASCII)
TIME_FORMAT = "%Y-%m-%dT%H:%M:%SZ"


@dataclass(frozen=True)
class Record:
    """A retirement record that parsed: the key, when it was retired, by which policy."""

    key_id: str
    retired_at: datetime  # aware, UTC
    policy: str

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
    return when.astimezone(timezone.utc).strftime(TIME_FORMAT)


def format_record(key_id: str, when: datetime, policy: str) -> tuple[str, str]:
    """The ``(tag key, tag value)`` recording that ``policy`` retired ``key_id`` at ``when``."""
    if not _KEY_ID.fullmatch(key_id):
        raise ValueError(f"not an access key ID: {key_id!r}")
    name = _NOT_ALLOWED.sub("_", policy) or "_"
    value = f"{format_time(when)} {name}"
    return tag_key(key_id), value[:VALUE_LIMIT]


def parse_value(value: str, now: datetime) -> tuple[datetime, str] | str:
    """``(retired_at, policy)`` from a tag value, or the reason it cannot be trusted."""
    when_text, _, policy = value.partition(" ")
    try:
        when = datetime.fromisoformat(when_text)
    except ValueError:
        return f"its time {when_text!r} is not an ISO 8601 date and time"
    if when.tzinfo is None:
        return f"its time {when_text!r} has no time zone"
    if not policy.strip():
        return "it names no policy after its time"
    when = when.astimezone(timezone.utc)
    if when > now:
        return f"it is dated {format_time(when)}, after now ({format_time(now)})"
    return when, policy.strip()


def parse_records(tags: Iterable[dict], now: datetime) -> tuple[list[Record], list[Problem]]:
    """The retirement records among a user's tags (IAM's ``[{"Key", "Value"}]``), and the
    tags with the lifecycle's prefix that cannot be trusted. Other tags are ignored."""
    records, problems = [], []
    for tag in tags:
        key, value = tag.get("Key", ""), tag.get("Value", "")
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
