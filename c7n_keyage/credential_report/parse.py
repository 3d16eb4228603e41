"""Parse the IAM credential report CSV into access keys that keep their slot.

c7n's own parser (``CredentialReport.get_credential_report``) drops slot numbers, keeps
dates as strings and reads a garbled value as "never used"; this one is pure and strict:
every value that cannot be trusted becomes "unknown" and a problem that names the user,
the slot and the column, so the rule never judges a key on data it cannot read. In a
last-used column ``N/A``, ``no_information``, an empty value or Go's zero time means
"never used", anything else unparseable means "unknown". A row that cannot be read (too
many fields that the ARN cannot realign, a short row other than the last, a row over
several lines) is a problem naming its line, and is nobody's row; a user with conflicting
rows is not judged at all; the last field of a report cut off without a final line break
is not trusted.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

from c7n_keyage.dates import utc

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
    """A user's row: its judgeable keys and what could not be read.

    ``arn`` and ``created`` (``user_creation_time``) are None when absent or unreadable.
    """

    user: str
    keys: tuple[AccessKey, ...]
    problems: tuple[str, ...] = ()
    arn: str | None = None
    created: datetime | None = None


@dataclass(frozen=True)
class Report:
    rows: dict[str, UserRow]
    problems: tuple[str, ...] = field(default=())
    # Names an unreadable row may have been for -> its line: for a warning, never a verdict.
    unreadable: dict[str, int] = field(default_factory=dict)


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
    # AWS always writes an offset; a bare date or time is read as UTC (``utc``). Go's zero
    # time, in any zone, means absent.
    if parsed.year == 1:
        return None
    try:
        return utc(parsed)
    except OverflowError:  # year 9999 with a negative offset: no UTC datetime holds it
        raise ValueError(f"{parsed.isoformat()} is out of range in UTC") from None


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
    except csv.Error as e:
        return Report({}, (f"credential report header is garbled ({e}); no key judged",))
    layout = _layout([name.strip().lower() for name in header])
    if isinstance(layout, str):
        return Report({}, (layout,))
    # Without a final line break the report may have been cut inside its last field.
    found = _Rows(layout, cut=not content.endswith(("\n", "\r")))
    try:
        for record in _records(reader):
            found.add(*record)
    except csv.Error as e:
        # Rows read so far stand on their own; the rest cannot be told apart.
        found.problems.append(
            f"credential report is garbled at line {reader.line_num} ({e}); "
            "users after it are not judged"
        )
    return found.report()


@dataclass(frozen=True)
class _Layout:
    """Where a report's columns are, looked up once: rows are read for every user."""

    user_at: int
    width: int
    about: tuple[int | None, int | None]  # arn, user_creation_time
    # The arn column when it follows the user's, as AWS writes it: it realigns a row whose
    # user name held an unquoted comma (IAM allows one).
    arn_at: int | None
    slots: list[tuple[int, tuple]]  # (slot, where its _KEY_COLUMNS are)
    problems: tuple[str, ...]


def _layout(header: list[str]) -> _Layout | str:
    """The report's layout, or why no key can be judged."""
    if not header:
        return "credential report is empty; no key judged"
    if "user" not in header:
        return "credential report has no 'user' column; no key judged"
    columns = {name: i for i, name in enumerate(header)}
    user_at = columns["user"]
    return _Layout(
        user_at=user_at,
        width=len(header),
        about=(columns.get("arn"), columns.get("user_creation_time")),
        arn_at=columns.get("arn") if columns.get("arn") == user_at + 1 else None,
        slots=[
            (slot, tuple(columns.get(f"access_key_{slot}_{name}") for name in _KEY_COLUMNS))
            for slot in SLOTS
            if f"access_key_{slot}_active" in columns
        ],
        problems=tuple(
            f"credential report has no column access_key_{slot}_active; key slot {slot} of "
            "every user is not judged"
            for slot in SLOTS
            if f"access_key_{slot}_active" not in columns
        ),
    )


class _Rows:
    """The rows read so far, the lines that could not be, and the users with conflicts."""

    def __init__(self, layout: _Layout, cut: bool):
        self.layout, self.cut = layout, cut
        self.problems = list(layout.problems)
        self.rows: dict[str, UserRow] = {}
        self.unreadable: dict[str, int] = {}
        self.conflicting: dict[str, list[str]] = {}

    def add(self, fields: list[str], line: int, spanned: int, last: bool) -> None:
        layout = self.layout
        why = _unreadable(fields, spanned, layout.width, last)
        # A row over several lines has swallowed others: no realigning makes it one row.
        if why and spanned == 1 and len(fields) > layout.width and layout.arn_at is not None:
            realigned = _realign(fields, layout.user_at, layout.width)
            fields, why = (realigned, None) if realigned else (fields, why)
        if why:
            # Only this row is lost: a name read from it could be another user's
            # (``ops,admin`` read as ``ops``), so it is never judged as anyone's.
            self.problems.append(f"line {line}: {why}; that row is not judged")
            for name in _names_in(fields, layout.user_at):
                self.unreadable.setdefault(name, line)
            return
        row = _parse_row(
            fields, layout.user_at, layout.about, layout.width, layout.slots, last and self.cut
        )
        seen = self.rows.setdefault(row.user, row)
        # Duplicates conflict only when their keys differ: same keys, same verdicts.
        if seen.keys != row.keys and row.user not in self.conflicting:
            self.conflicting[row.user] = _differing(seen, row)

    def report(self) -> Report:
        rows = self.rows
        for user, differing in self.conflicting.items():
            problem = (
                f"user {user}: several different rows in the report (differing in "
                f"{', '.join(differing)}); no key judged"
            )
            first = rows[user]
            rows[user] = UserRow(user, (), (problem,), first.arn, first.created)
        for user, line in self.unreadable.items():
            if (row := rows.get(user)) is not None:
                problem = (
                    f"user {user}: line {line} of the report could not be read and may be "
                    "this user's too; judged on its readable row"
                )
                rows[user] = replace(row, problems=(*row.problems, problem))
        if not rows:
            self.problems.append("credential report has no rows (not even <root_account>)")
        return Report(rows, tuple(self.problems), self.unreadable)


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


def _records(reader) -> Iterator[tuple[list[str], int, int, bool]]:
    """Non-blank rows, with their first line, the lines each spans and whether it is last."""
    line, previous = reader.line_num, None
    try:
        for fields in reader:
            first, spanned, line = line + 1, reader.line_num - line, reader.line_num
            if not "".join(fields).strip():
                continue
            if previous is not None:
                yield *previous, False
            previous = fields, first, spanned
    except csv.Error:
        if previous is not None:
            yield *previous, False
        raise
    if previous is not None:
        yield *previous, True


def _unreadable(fields: list[str], spanned: int, width: int, last: bool) -> str | None:
    """Why a row cannot be read at all, or None."""
    if spanned > 1:
        # AWS never writes a line break in a field: a quote left open swallowed the lines
        # after it, users included.
        return f"a quoted field runs over {spanned} lines (a quote left open?), users included"
    count = len(fields)
    if count > width:
        return (
            f"{count} fields where the header has {width} (an unquoted comma?) and the arn "
            "column does not realign them"
        )
    if count < width and not last:
        return f"{count} fields where the header has {width}: its columns may be shifted"
    return None


def _realign(fields: list[str], user_at: int, width: int) -> list[str] | None:
    """Join a user name and its ARN split by unquoted commas, when the ARN vouches for it.

    The fields before the user and after the ARN are fixed; between them, the name runs up
    to the first field that starts an ARN (IAM names cannot hold ``:``), and the ARN must
    end with ``/`` and that name. Anything else is ambiguous: None.
    """
    tail = width - user_at - 2
    middle = fields[user_at : len(fields) - tail]
    start = next((i for i, f in enumerate(middle) if f.startswith("arn:")), 0)
    if start == 0:
        return None
    user, arn = ",".join(middle[:start]), ",".join(middle[start:])
    if not arn.endswith("/" + user):
        return None
    return [*fields[:user_at], user, arn, *fields[len(fields) - tail :]]


def _names_in(fields: list[str], user_at: int) -> list[str]:
    """Who an unreadable row may be for: its user field, and the name before an ARN."""
    # The user field may run on over lines (a quote left open): its first line, CR or LF.
    names = fields[user_at].splitlines()[:1] if user_at < len(fields) else []
    start = next((i for i, f in enumerate(fields[user_at:]) if f.startswith("arn:")), 0)
    if start > 1:
        names.append(",".join(fields[user_at : user_at + start]))
    return [name for name in names if name]


def _parse_row(
    fields: list[str],
    user_at: int,
    about: tuple[int | None, int | None],
    width: int,
    slots: list[tuple[int, tuple]],
    cut: bool,
) -> UserRow:
    count = len(fields)
    user = fields[user_at] if user_at < count else ""
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
    arn, created = (fields[i] if i is not None and i < usable else None for i in about)
    return UserRow(user, tuple(keys), tuple(problems), arn or None, _date_or_none(created))


def _date_or_none(raw: str | None) -> datetime | None:
    try:
        return parse_date(raw) if raw is not None else None
    except ValueError:
        return None


def _problem(user: str, slot: int, column: str, raw: str | None, consequence: str) -> str:
    shown = "missing" if raw is None else repr(raw)
    return f"user {user}: key slot {slot}: access_key_{slot}_{column} is {shown}; {consequence}"


def _parse_key(slot: int, raw: list, user: str, problems: list[str]) -> AccessKey | None:
    active_raw, rotated_raw, used_raw, service_raw, region_raw = raw
    active = (active_raw or "").strip().lower()
    if active == "false":
        # An inactive key keeps its creation date (the lifecycle's credential-report screen
        # tells a disabled key from an empty slot by it); "N/A" there means no key.
        return AccessKey(slot, False, _date_or_none(rotated_raw))
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

    return AccessKey(
        slot, True, last_rotated, last_used, name_or_none(service_raw), name_or_none(region_raw)
    )


def name_or_none(raw: str | None) -> str | None:
    """A service or region name as AWS wrote it; None where it says there is none."""
    if raw is None or raw == "N/A" or raw.strip().lower() in _NOT_A_VALUE:
        return None
    return raw.strip()


# A date further ahead than this is not clock skew: worth a warning.
_FUTURE = timedelta(days=1)


def future_problems(row: UserRow, now: datetime) -> tuple[str, ...]:
    """A problem for each key date more than a day after ``now`` (counted as recent)."""
    return tuple(
        f"user {row.user}: key slot {key.slot}: access_key_{key.slot}_{column} is "
        f"{value.isoformat()}, more than a day in the future; counted as recent"
        for key in row.keys
        if key.active
        for column, value in (("last_rotated", key.last_rotated), ("last_used_date", key.last_used))
        if isinstance(value, datetime) and value - now > _FUTURE
    )
