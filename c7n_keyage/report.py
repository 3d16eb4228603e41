"""Parse the IAM credential report CSV into access keys that keep their slot.

c7n's own parser (``CredentialReport.get_credential_report``) drops slot numbers, keeps
dates as strings and reads a garbled value as "never used"; this one is pure and strict:
every value that cannot be trusted becomes "unknown" and a problem that names the user,
the slot and the column, so the rule never judges a key on data it cannot read.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from datetime import datetime, timezone

ROOT_USER = "<root_account>"
SLOTS = (1, 2)

# Values AWS writes where a date or a name is absent: never used, no such key, or used
# before tracking began (2015-04-22).
_ABSENT = frozenset({"", "n/a", "no_information"})
# Region and service columns also say this (moto, root rows); it is not a date.
_NOT_A_VALUE = _ABSENT | {"not_supported"}


class _Unreadable:
    """A date that is present but cannot be parsed: neither a date nor "never"."""

    _instance = None

    def __new__(cls):
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "UNREADABLE"

    def __reduce__(self):
        return (_Unreadable, ())


UNREADABLE = _Unreadable()


@dataclass(frozen=True, slots=True)
class AccessKey:
    """One access key slot of a report row.

    ``last_rotated`` is the key's creation date, None when unknown. ``last_used`` is
    None when the key was never used and ``UNREADABLE`` when the report's value is garbled.
    """

    slot: int
    active: bool
    last_rotated: datetime | None = None
    last_used: datetime | None | _Unreadable = None
    last_used_service: str | None = None
    last_used_region: str | None = None


@dataclass(frozen=True, slots=True)
class UserRow:
    """A user's row: its judgeable keys and what could not be read."""

    user: str
    keys: tuple[AccessKey, ...]
    problems: tuple[str, ...] = ()


@dataclass(frozen=True)
class Report:
    rows: dict[str, UserRow]
    problems: tuple[str, ...] = field(default=())


def parse_date(value: str) -> datetime | None:
    """An ISO 8601 report date as an aware UTC datetime; None when absent.

    ``datetime.fromisoformat`` (3.11) reads both ``+00:00`` and ``Z`` and is far faster
    than dateutil. Go's zero time (``0001-01-01T00:00:00Z``, Panther's snapshots) means
    absent. Raises ValueError for anything else.
    """
    if value.strip().lower() in _ABSENT:
        return None
    parsed = datetime.fromisoformat(value.strip())
    if parsed.tzinfo is None:
        # AWS always writes an offset; a bare date or time is read as UTC.
        parsed = parsed.replace(tzinfo=timezone.utc)
    if parsed.year == 1:
        return None
    return parsed.astimezone(timezone.utc)


def parse_report(content: str | bytes) -> Report:
    """Parse a credential report (``GetCredentialReport``'s ``Content``)."""
    if isinstance(content, bytes):
        try:
            content = content.decode("utf-8-sig")
        except UnicodeDecodeError as e:
            return Report({}, (f"credential report is not UTF-8 ({e}); no key judged",))
    reader = csv.reader(io.StringIO(content.lstrip("\ufeff")))
    header = [name.strip().lower() for name in next(reader, [])]
    if "user" not in header:
        return Report({}, ("credential report has no 'user' column; no key judged",))
    columns = {name: i for i, name in enumerate(header)}
    problems = [
        f"credential report has no column {name}; key slot {slot} of every user is not judged"
        for slot in SLOTS
        for name in (f"access_key_{slot}_active",)
        if name not in columns
    ]
    rows: dict[str, UserRow] = {}
    conflicting: set[str] = set()
    for fields in reader:
        if not any(value.strip() for value in fields):
            continue
        row = _parse_row(fields, columns)
        if row.user in rows and rows[row.user] != row:
            conflicting.add(row.user)
        rows.setdefault(row.user, row)
    for user in conflicting:
        rows[user] = UserRow(
            user, (), (f"user {user}: several different rows in the report; no key judged",)
        )
    if not rows:
        problems.append("credential report has no rows (not even <root_account>)")
    return Report(rows, tuple(problems))


def _parse_row(fields: list[str], columns: dict[str, int]) -> UserRow:
    user = fields[columns["user"]] if columns["user"] < len(fields) else ""
    problems: list[str] = []
    if len(fields) > len(columns):
        # An unquoted comma shifted every column after it: nothing here can be trusted.
        problems.append(f"user {user}: row has more fields than the header; no key judged")
        return UserRow(user, (), tuple(problems))
    # A short row was cut off: its last field may be cut too (a date shortened to another
    # valid date), so it is read as missing like the fields after it.
    usable = len(fields) if len(fields) == len(columns) else len(fields) - 1

    def value(name: str) -> str | None:
        i = columns.get(name)
        return fields[i] if i is not None and i < usable else None

    keys = []
    for slot in SLOTS:
        prefix = f"access_key_{slot}_"
        if prefix + "active" not in columns:
            continue  # reported once for the whole report
        key = _parse_key(slot, prefix, value, user, problems)
        if key is not None:
            keys.append(key)
    return UserRow(user, tuple(keys), tuple(problems))


def _parse_key(slot, prefix, value, user, problems) -> AccessKey | None:
    def problem(column: str, raw: str | None, consequence: str) -> None:
        shown = "missing" if raw is None else repr(raw)
        problems.append(f"user {user}: key slot {slot}: {column} is {shown}; {consequence}")

    active_raw = value(prefix + "active")
    active = (active_raw or "").strip().lower()
    if active not in ("true", "false"):
        problem(prefix + "active", active_raw, "key not judged")
        return None
    if active == "false":
        return AccessKey(slot, False)

    rotated_raw = value(prefix + "last_rotated")
    last_rotated = None
    if rotated_raw is None:
        problem(prefix + "last_rotated", rotated_raw, "creation date unknown")
    else:
        try:
            last_rotated = parse_date(rotated_raw)
        except ValueError:
            problem(prefix + "last_rotated", rotated_raw, "creation date unknown")

    used_raw = value(prefix + "last_used_date")
    last_used: datetime | None | _Unreadable = UNREADABLE
    if used_raw is None:
        problem(prefix + "last_used_date", used_raw, "last use not judged")
    else:
        try:
            last_used = parse_date(used_raw)
        except ValueError:
            problem(prefix + "last_used_date", used_raw, "last use not judged")

    return AccessKey(
        slot,
        True,
        last_rotated,
        last_used,
        _name(value(prefix + "last_used_service")),
        _name(value(prefix + "last_used_region")),
    )


def _name(raw: str | None) -> str | None:
    if raw is None or raw.strip().lower() in _NOT_A_VALUE:
        return None
    return raw.strip()
