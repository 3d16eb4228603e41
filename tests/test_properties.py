"""Properties of the parser and the rule together, on generated credential reports.

Rows are generated as data (who, which keys, which dates, written in which of the forms
AWS and others use), rendered as CSV text and read back by ``parse_report``; the verdicts
of ``stale_reasons`` are compared with a reference model written here from the rule's
statement (Panther ``AWS.AccessKey.Unused`` plus the optional rotation check), in whole
seconds, without calling ``rule.py``.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, replace
from datetime import datetime, timedelta, timezone

from hypothesis import given, settings
from hypothesis import strategies as st

from c7n_keyage.report import parse_report
from c7n_keyage.rule import stale_reasons
from tests.placebo_fixtures import HEADER

NOW = datetime(2026, 11, 1, 12, 0, 0, tzinfo=timezone.utc)
DAY = 86400
COLUMNS = HEADER.split(",")
EXAMPLES = settings(max_examples=300, deadline=None, database=None)

# Values that cannot be read as a date: an "unknown", never a "never".
GARBAGE = ["not_supported", "garbage", "2026-13-01T00:00:00Z", "0"]
# What a report writes for "no date": in a last-used column, "never used" (issue 2's rule).
ABSENT = ["N/A", "no_information", "", "0001-01-01T00:00:00Z"]


@dataclass(frozen=True)
class Key:
    """One generated key: dates as seconds before NOW (negative: in the future).

    ``created`` None: the report gives no usable creation date. ``used`` None: never used
    (``N/A``, ``no_information``, empty, zero time); ``"garbage"``: a value that cannot
    be read.
    """

    active: bool
    created: int | None
    used: int | None | str
    created_text: str
    used_text: str


# --- the reference model ---


def model(key: Key, days: int, rotation_days: int | None) -> list[str]:
    if not key.active:
        return []
    reasons = []
    if key.used is None:
        if key.created is not None and key.created > days * DAY:
            reasons.append("never-used")
    elif isinstance(key.used, int) and key.used > days * DAY:
        reasons.append("unused")
    if rotation_days is not None and key.created is not None and key.created > rotation_days * DAY:
        reasons.append("unrotated")
    return reasons


# --- generated reports ---


def render(seconds_ago: int, form: str, offset_hours: int) -> str:
    moment = NOW - timedelta(seconds=seconds_ago)
    if form == "naive":
        return moment.strftime("%Y-%m-%dT%H:%M:%S")
    if form == "Z":
        return moment.strftime("%Y-%m-%dT%H:%M:%SZ")
    return moment.astimezone(timezone(timedelta(hours=offset_hours))).isoformat()


@st.composite
def date_text(draw, seconds_ago: int) -> str:
    form = draw(st.sampled_from(["+00:00", "Z", "naive", "offset"]))
    offset = draw(st.integers(-12, 14)) if form == "offset" else 0
    return render(seconds_ago, form, offset)


@st.composite
def seconds_ago(draw, days: int) -> int:
    """Seconds before NOW, often right at the edges of ``days`` and of a year."""
    edges = [days * DAY + d for d in (-1, 0, 1)] + [365 * DAY + d for d in (-1, 0, 1)]
    return draw(st.one_of(st.sampled_from(edges), st.integers(-30 * DAY, 3000 * DAY)))


@st.composite
def keys(draw, days: int, active: bool | None = None) -> Key:
    if active is None:
        active = draw(st.booleans())
    created_kind = draw(st.sampled_from(["date"] * 6 + ["absent", "garbage"]))
    if created_kind == "date":
        created = draw(seconds_ago(days))
        created_text = draw(date_text(created))
    else:
        created = None
        created_text = draw(st.sampled_from(ABSENT if created_kind == "absent" else GARBAGE))
    used_kind = draw(st.sampled_from(["date"] * 5 + ["never", "never", "garbage"]))
    if used_kind == "date":
        used = draw(seconds_ago(days))
        used_text = draw(date_text(used))
    elif used_kind == "never":
        used, used_text = None, draw(st.sampled_from(ABSENT))
    else:
        used, used_text = "garbage", draw(st.sampled_from(GARBAGE))
    return Key(active, created, used, created_text, used_text)


def truth(active: bool, draw) -> str:
    word = "true" if active else "false"
    return draw(st.sampled_from([word, word.upper(), word.capitalize()]))


NAMES = st.text(
    alphabet=st.characters(blacklist_categories=("Cs", "Cc"), blacklist_characters="\u2028\u2029")
    | st.sampled_from([",", '"', "'", " ", "é", "名"]),
    min_size=1,
    max_size=12,
)


@dataclass(frozen=True)
class Row:
    user: str
    slots: tuple[Key, Key]
    active_text: tuple[str, str]


@st.composite
def rows(draw, days: int, active: bool | None = None) -> list[Row]:
    names = draw(st.lists(NAMES, min_size=1, max_size=5, unique=True))
    out = []
    for name in names:
        slots = (draw(keys(days, active)), draw(keys(days, active)))
        out.append(Row(name, slots, tuple(truth(k.active, draw) for k in slots)))
    return out


def report_text(rows: list[Row], columns: list[str] = COLUMNS, line_end: str = "\n") -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator=line_end)
    writer.writerow(columns)
    for row in rows:
        values = {
            "user": row.user,
            "arn": "arn:aws:iam::123456789012:user/x",
            "user_creation_time": "2020-01-01T00:00:00+00:00",
            "password_enabled": "false",
            "mfa_active": "false",
        }
        pairs = zip(row.slots, row.active_text, strict=True)
        for slot, (key, active_text) in enumerate(pairs, start=1):
            values[f"access_key_{slot}_active"] = active_text
            values[f"access_key_{slot}_last_rotated"] = key.created_text
            values[f"access_key_{slot}_last_used_date"] = key.used_text
        writer.writerow([values.get(column, "N/A") for column in columns])
    return buffer.getvalue()


def flagged(text: str | bytes, days: int, rotation_days: int | None = None) -> dict:
    """(user, slot) -> reasons, for every key the parser and the rule flag."""
    report = parse_report(text)
    return {
        (user, key.slot): reasons
        for user, row in report.rows.items()
        for key in row.keys
        if (reasons := stale_reasons(key, NOW, days, rotation_days))
    }


def expected(rows: list[Row], days: int, rotation_days: int | None = None) -> dict:
    return {
        (row.user, slot): reasons
        for row in rows
        for slot, key in enumerate(row.slots, start=1)
        if (reasons := model(key, days, rotation_days))
    }


DAYS = st.integers(1, 400)
ROTATION = st.none() | st.integers(1, 800)


@st.composite
def reports(draw, active: bool | None = None):
    days = draw(DAYS)
    return days, draw(rows(days, active))


# --- the properties ---


@EXAMPLES
@given(
    reports(),
    ROTATION,
    st.permutations(COLUMNS),
    st.sampled_from(["\n", "\r\n", "\r"]),
    st.booleans(),
    st.booleans(),
)
def test_same_verdicts_as_the_model(report, rotation_days, columns, line_end, bom, as_bytes):
    days, generated = report
    text = report_text(generated, list(columns), line_end)
    if bom:
        text = "\ufeff" + text
    content = text.encode("utf-8") if as_bytes else text
    assert flagged(content, days, rotation_days) == expected(generated, days, rotation_days)


@EXAMPLES
@given(reports(), ROTATION)
def test_swapping_slots_flags_the_same_keys(report, rotation_days):
    days, generated = report
    swapped = [replace(r, slots=r.slots[::-1], active_text=r.active_text[::-1]) for r in generated]
    before = flagged(report_text(generated), days, rotation_days)
    after = flagged(report_text(swapped), days, rotation_days)
    assert {(user, 3 - slot): reasons for (user, slot), reasons in after.items()} == before


@EXAMPLES
@given(reports(), ROTATION, st.integers(0, 400))
def test_raising_days_never_flags_more(report, rotation_days, more):
    days, generated = report
    text = report_text(generated)
    assert set(flagged(text, days + more, rotation_days)) <= set(flagged(text, days, rotation_days))


@EXAMPLES
@given(reports(active=False), ROTATION)
def test_inactive_keys_are_never_flagged(report, rotation_days):
    days, generated = report
    assert flagged(report_text(generated), days, rotation_days) == {}


@EXAMPLES
@given(reports(), ROTATION, st.integers(0, 3000 * DAY), st.integers(0, 1), st.data())
def test_later_use_never_flags_a_key_that_was_not(report, rotation_days, later, slot, data):
    days, generated = report
    index = data.draw(st.integers(0, len(generated) - 1))
    row = generated[index]
    key = row.slots[slot]
    if not isinstance(key.used, int):
        # Never used or unreadable: give it a use date to move.
        used = data.draw(seconds_ago(days))
        key = replace(key, used=used, used_text=data.draw(date_text(used)))
    moved = replace(key, used=key.used - later, used_text=data.draw(date_text(key.used - later)))

    def with_key(k: Key) -> list[Row]:
        slots = (k, row.slots[1]) if slot == 0 else (row.slots[0], k)
        return [*generated[:index], replace(row, slots=slots), *generated[index + 1 :]]

    before = flagged(report_text(with_key(key)), days, rotation_days)
    after = flagged(report_text(with_key(moved)), days, rotation_days)
    assert set(after) <= set(before)
    # The moved key loses reasons, never gains one.
    assert set(after.get((row.user, slot + 1), [])) <= set(before.get((row.user, slot + 1), []))
