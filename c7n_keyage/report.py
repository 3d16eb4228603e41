"""Parse the IAM credential report CSV into access keys that keep their slot.

c7n's own parser (``CredentialReport.get_credential_report``) drops slot numbers, keeps
dates as strings and reads a garbled value as "never used"; this one is pure and strict:
every value that cannot be trusted becomes "unknown" and a problem that names the user,
the slot and the column, so the rule never judges a key on data it cannot read. In a
last-used column ``N/A``, ``no_information``, an empty value or Go's zero time means
"never used", anything else unparseable means "unknown"; a row with too many
fields, a short row other than the last, a row over several lines and a user with
conflicting rows are not judged at all; the last field of a report cut off without a
final line break is not trusted.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
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
    than dateutil. ``N/A``, ``no_information``, an empty value and Go's zero time
    (``0001-01-01T00:00:00Z``, Panther's snapshots) mean absent. Raises ValueError for
    anything else.
    """
    if value == "N/A":  # the common case first: this runs for every key of every user
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        stripped = value.strip()
        if stripped.lower() in _ABSENT:
            return None
        parsed = datetime.fromisoformat(stripped)
    return _utc(parsed)


def _utc(parsed: datetime) -> datetime | None:
    if parsed.tzinfo is None:
        # AWS always writes an offset; a bare date or time is read as UTC.
        parsed = parsed.replace(tzinfo=timezone.utc)
    if parsed.year == 1:
        return None
    return parsed if parsed.tzinfo is timezone.utc else parsed.astimezone(timezone.utc)


def parse_report(content: str | bytes) -> Report:
    """Parse a credential report (``GetCredentialReport``'s ``Content``)."""
    if isinstance(content, bytes):
        try:
            content = content.decode("utf-8-sig")
        except UnicodeDecodeError as e:
            return Report({}, (f"credential report is not UTF-8 ({e}); no key judged",))
    # newline="" splits on CR, LF and CRLF alike (csv fails on a bare CR otherwise).
    reader = csv.reader(io.StringIO(content.lstrip("\ufeff"), newline=""))
    try:
        header = next((fields for fields in reader if "".join(fields).strip()), [])
        header = [name.strip().lower() for name in header]
    except csv.Error as e:
        return Report({}, (f"credential report header is garbled ({e}); no key judged",))
    if not header:
        return Report({}, ("credential report is empty; no key judged",))
    if "user" not in header:
        return Report({}, ("credential report has no 'user' column; no key judged",))
    columns = {name: i for i, name in enumerate(header)}
    problems = [
        f"credential report has no column {name}; key slot {slot} of every user is not judged"
        for slot in SLOTS
        for name in (f"access_key_{slot}_active",)
        if name not in columns
    ]
    # Where each slot's columns are, looked up once: this loop runs for every user.
    slots = [
        (slot, tuple(columns.get(f"access_key_{slot}_{name}") for name in _KEY_COLUMNS))
        for slot in SLOTS
        if f"access_key_{slot}_active" in columns
    ]
    user_at, width = columns["user"], len(header)
    # Without a final line break the report may have been cut inside its last field.
    ends_cleanly = content.endswith(("\n", "\r"))
    rows: dict[str, UserRow] = {}
    conflicting: dict[str, list[str]] = {}
    try:
        for fields, spanned, last in _records(reader):
            row = _parse_row(fields, user_at, width, slots, last, last and not ends_cleanly)
            if spanned > 1:
                # AWS never writes a line break in a field: a quote left open swallowed
                # the lines after it, users included.
                user = row.user.partition("\n")[0]
                problem = (
                    f"user {user}: row runs over {spanned} lines (a quote left open?); "
                    "no key judged, and users on those lines are lost"
                )
                row = UserRow(user, (), (problem,))
            seen = rows.setdefault(row.user, row)
            # Duplicates conflict only when their keys differ: same keys, same verdicts.
            if seen.keys != row.keys and row.user not in conflicting:
                conflicting[row.user] = _differing(seen, row)
    except csv.Error as e:
        # Rows read so far stand on their own; the rest cannot be told apart.
        problems.append(
            f"credential report is garbled at line {reader.line_num} ({e}); "
            "users after it are not judged"
        )
    for user, differing in conflicting.items():
        problem = (
            f"user {user}: several different rows in the report (differing in "
            f"{', '.join(differing)}); no key judged"
        )
        rows[user] = UserRow(user, (), (problem,))
    if not rows:
        problems.append("credential report has no rows (not even <root_account>)")
    return Report(rows, tuple(problems))


_KEY_COLUMNS = ("active", "last_rotated", "last_used_date", "last_used_service", "last_used_region")


_ATTRIBUTES = (
    ("active", "active"),
    ("last_rotated", "last_rotated"),
    ("last_used", "last_used_date"),
    ("last_used_service", "last_used_service"),
    ("last_used_region", "last_used_region"),
)


def _differing(one: UserRow, other: UserRow) -> list[str]:
    """The columns in which two rows of one user give different keys."""
    names = []
    for slot in SLOTS:
        a = next((k for k in one.keys if k.slot == slot), None)
        b = next((k for k in other.keys if k.slot == slot), None)
        if a is None or b is None:
            names += [f"access_key_{slot}_* (unreadable in one row)"] if a != b else []
            continue
        names += [
            f"access_key_{slot}_{column}"
            for attribute, column in _ATTRIBUTES
            if getattr(a, attribute) != getattr(b, attribute)
        ]
    return names


def _records(reader) -> Iterator[tuple[list[str], int, bool]]:
    """Non-blank rows, with the lines each spans and whether it is the last one."""
    line, previous = reader.line_num, None
    try:
        for fields in reader:
            spanned, line = reader.line_num - line, reader.line_num
            if not "".join(fields).strip():
                continue
            if previous is not None:
                yield *previous, False
            previous = fields, spanned
    except csv.Error:
        if previous is not None:
            yield *previous, False
        raise
    if previous is not None:
        yield *previous, True


def _parse_row(
    fields: list[str],
    user_at: int,
    width: int,
    slots: list[tuple[int, tuple]],
    last: bool,
    cut: bool,
) -> UserRow:
    count = len(fields)
    user = fields[user_at] if user_at < count else ""
    if count != width and (count > width or not last):
        # An unquoted comma, or a field lost in the middle of the report, shifted the
        # columns after it: nothing here can be trusted.
        problem = (
            f"user {user}: row has {count} fields, the header {width}: its columns may be "
            "shifted; no key judged"
        )
        return UserRow(user, (), (problem,))
    # The last row is short when the report was cut off, and its last field may be cut
    # even when no field is missing: that field (a date cut to another valid date, a
    # user name cut to another's) is read as missing, like the fields after it.
    usable = count - 1 if count < width or cut else count
    if user_at >= usable:
        problem = f"user {user}: user column cut off with the report's end; no key judged"
        return UserRow(user, (), (problem,))
    problems: list[str] = []
    keys = []
    for slot, at in slots:
        raw = [fields[i] if i is not None and i < usable else None for i in at]
        key = _parse_key(slot, raw, user, problems)
        if key is not None:
            keys.append(key)
    return UserRow(user, tuple(keys), tuple(problems))


def _problem(user: str, slot: int, column: str, raw: str | None, consequence: str) -> str:
    shown = "missing" if raw is None else repr(raw)
    return f"user {user}: key slot {slot}: access_key_{slot}_{column} is {shown}; {consequence}"


def _parse_key(slot: int, raw: list, user: str, problems: list[str]) -> AccessKey | None:
    active_raw, rotated_raw, used_raw, service_raw, region_raw = raw
    active = (active_raw or "").strip().lower()
    if active == "false":
        return AccessKey(slot, False)
    if active != "true":
        problems.append(_problem(user, slot, "active", active_raw, "key not judged"))
        return None

    last_rotated = None
    try:
        # An active key always has a creation date: "N/A" or zero time here is unusable.
        last_rotated = parse_date(rotated_raw) if rotated_raw is not None else None
    except ValueError:
        pass
    if last_rotated is None:
        problems.append(_problem(user, slot, "last_rotated", rotated_raw, "creation date unknown"))

    last_used: datetime | None | _Unreadable = UNREADABLE
    try:
        if used_raw is not None:
            last_used = parse_date(used_raw)
    except ValueError:
        pass
    if last_used is UNREADABLE:
        problems.append(_problem(user, slot, "last_used_date", used_raw, "last use not judged"))

    return AccessKey(slot, True, last_rotated, last_used, _name(service_raw), _name(region_raw))


def _name(raw: str | None) -> str | None:
    if raw is None or raw == "N/A" or raw.strip().lower() in _NOT_A_VALUE:
        return None
    return raw.strip()
