"""Properties of the parser and the rule together, on generated credential reports.

Rows are generated as data (who, which keys, how long ago each date is, written in which
of the forms AWS and others use), rendered as CSV text and read back by ``parse_report``;
the verdicts of ``stale_reasons`` are compared with a reference model written from the
rule's TEXT (docs/reference.md's "The rule, against its peers" and the seed rule, Panther
``AWS.AccessKey.Unused``), not from ``rule.py``: ages are timedeltas, the reasons a table
of conditions. The run's clock has microseconds, as a real one does; dates carry them too
(AWS writes whole seconds), at and around the limits; some reports end without a final
line break.

Replaying a failure: the suite runs hypothesis's "ci" profile (tests/conftest.py), which is
derandomized, so rerunning the test replays the same examples, and a failure prints an
``@reproduce_failure(...)`` line: paste it above the failing test to replay exactly that
example. ``pytest --hypothesis-profile=explore`` draws new random examples instead; a
failure there also prints the blob, and ``--hypothesis-seed=N`` replays a whole run.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, replace
from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from c7n_keyage.credential_report.parse import parse_report
from c7n_keyage.stale.rule import stale_reasons
from tests.support.placebo_fixtures import HEADER

# The run's clock, to which each example adds a fraction of a second.
NOW = datetime(2026, 11, 1, 12, 0, 0, tzinfo=timezone.utc)
DAY = timedelta(days=1)
SECOND = timedelta(seconds=1)
MICROSECOND = timedelta(microseconds=1)
COLUMNS = HEADER.split(",")
# The profile (tests/conftest.py) makes runs derandomized and prints reproduction blobs.
EXAMPLES = settings(max_examples=300)

# Values that cannot be read as a date: an "unknown", never a "never".
GARBAGE = ["not_supported", "garbage", "2026-13-01T00:00:00Z", "0"]
# What a report writes for "no date": in a last-used column, "never used".
ABSENT = ["N/A", "no_information", "", "0001-01-01T00:00:00Z"]

# What a key's last-used column says, when it is not a date.
NEVER = "never used"
UNREADABLE = "unreadable"


@dataclass(frozen=True)
class Key:
    """One generated key, as the report states it.

    ``created``: how long before the run's clock the key was created; None when the report
    gives no usable creation date. ``used``: how long before the clock it was last used, or
    ``NEVER``, or ``UNREADABLE``. Negative ages are dates in the future. ``*_text``: what
    the CSV says.
    """

    active: bool
    created: timedelta | None
    used: timedelta | str
    created_text: str
    used_text: str


# --- the reference model: the rule's text, condition by condition ---


def model(key: Key, days: int, rotation_days: int | None) -> list[str]:
    """The reasons the rule's text gives for one key, in the README's order.

    Per ACTIVE key (inactive keys are never flagged), strictly more than, at the clock now:
    - ``unused``: it was used, and now - last use > days;
    - ``never-used``: it was never used, its creation date is known, now - created > days;
    - ``unrotated``: rotation-days is set, the creation date is known, now - created >
      rotation-days.
    A last use that cannot be read is neither a use nor "never used".
    """
    limit = timedelta(days=days)
    conditions = {
        "unused": isinstance(key.used, timedelta) and key.used > limit,
        "never-used": key.used == NEVER and key.created is not None and key.created > limit,
        "unrotated": rotation_days is not None
        and key.created is not None
        and key.created > timedelta(days=rotation_days),
    }
    return [reason for reason, holds in conditions.items() if key.active and holds]


def as_read(rows: list[Row], columns: list[str], final_line_break: bool) -> list[Row]:
    """The rows as the parser may read them (its documented rule, report.py).

    A report without a final line break may have been cut inside its last field: that field
    is read as absent. An absent user: the row is not judged. An absent ``active``: the key
    is not judged (no verdict, as for an inactive key). An absent creation date is unknown;
    an absent last use cannot be read. Any other column changes no verdict.
    """
    if final_line_break or not rows:
        return rows
    *before, last = rows
    if columns[-1] == "user":
        return before
    cut = re.fullmatch(r"access_key_([12])_(active|last_rotated|last_used_date)", columns[-1])
    if cut is None:
        return rows
    slot, column = int(cut[1]), cut[2]
    key = last.slots[slot - 1]
    key = {
        "active": replace(key, active=False),
        "last_rotated": replace(key, created=None),
        "last_used_date": replace(key, used=UNREADABLE),
    }[column]
    slots = (key, last.slots[1]) if slot == 1 else (last.slots[0], key)
    return [*before, replace(last, slots=slots)]


def expected(
    rows: list[Row],
    days: int,
    rotation_days: int | None = None,
    columns: list[str] = COLUMNS,
    final_line_break: bool = True,
) -> dict:
    return {
        (row.user, slot): reasons
        for row in as_read(rows, columns, final_line_break)
        for slot, key in enumerate(row.slots, start=1)
        if (reasons := model(key, days, rotation_days))
    }


# --- generated reports ---


def render(moment: datetime, form: str, fraction: str, offset_hours: int) -> str:
    """A report date: ``+00:00``, ``Z``, no offset, or another offset; microseconds (when
    there are some) as 6 digits or with trailing zeros cut (``.5``)."""
    if form == "offset":
        moment = moment.astimezone(timezone(timedelta(hours=offset_hours)))
    text = moment.isoformat()
    if fraction == "short" and moment.microsecond:
        whole, digits, zone = re.fullmatch(r"(.*:\d\d)\.(\d{6})(.*)", text).groups()
        text = f"{whole}.{digits.rstrip('0')}{zone}"
    if form == "Z":
        text = text.removesuffix("+00:00") + "Z"
    elif form == "naive":
        text = text.removesuffix("+00:00")
    return text


@st.composite
def date_text(draw, now: datetime, age: timedelta) -> str:
    form = draw(st.sampled_from(["+00:00", "Z", "naive", "offset"]))
    fraction = draw(st.sampled_from(["six", "short"]))
    offset = draw(st.integers(-12, 14)) if form == "offset" else 0
    return render(now - age, form, fraction, offset)


def ages(now: datetime, *limits: int) -> st.SearchStrategy[timedelta]:
    """How long before ``now``: often right at the limits (1 s, half a second and 1 us
    either side, and the whole-second dates either side), else any date in whole seconds
    (as AWS writes them) or in microseconds, from 30 days ahead to 3000 days back."""
    to_whole_second = timedelta(microseconds=now.microsecond)
    nudges = [-SECOND, -SECOND / 2, -MICROSECOND, timedelta(0), MICROSECOND, SECOND / 2, SECOND]
    nudges += [to_whole_second, to_whole_second - SECOND]
    edges = [timedelta(days=n) + nudge for n in {*limits, 365} for nudge in nudges]
    return st.one_of(
        st.sampled_from(edges),
        st.integers(-30 * 86400, 3000 * 86400).map(lambda s: SECOND * s + to_whole_second),
        st.integers(-30 * 86400 * 10**6, 3000 * 86400 * 10**6).map(lambda us: MICROSECOND * us),
    )


@st.composite
def keys(draw, now: datetime, limits: tuple[int, ...], active: bool | None = None) -> Key:
    if active is None:
        active = draw(st.booleans())
    created_kind = draw(st.sampled_from(["date"] * 6 + ["absent", "garbage"]))
    if created_kind == "date":
        created = draw(ages(now, *limits))
        created_text = draw(date_text(now, created))
    else:
        created = None
        created_text = draw(st.sampled_from(ABSENT if created_kind == "absent" else GARBAGE))
    used_kind = draw(st.sampled_from(["date"] * 5 + ["never", "never", "garbage"]))
    if used_kind == "date":
        used = draw(ages(now, *limits))
        used_text = draw(date_text(now, used))
    elif used_kind == "never":
        used, used_text = NEVER, draw(st.sampled_from(ABSENT))
    else:
        used, used_text = UNREADABLE, draw(st.sampled_from(GARBAGE))
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
def rows(draw, now: datetime, limits: tuple[int, ...], active: bool | None = None) -> list[Row]:
    names = draw(st.lists(NAMES, min_size=1, max_size=5, unique=True))
    out = []
    for name in names:
        slots = (draw(keys(now, limits, active)), draw(keys(now, limits, active)))
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


def flagged(
    text: str | bytes, days: int, rotation_days: int | None = None, now: datetime = NOW
) -> dict:
    """(user, slot) -> reasons, for every key the parser and the rule flag."""
    report = parse_report(text)
    return {
        (user, key.slot): reasons
        for user, row in report.rows.items()
        for key in row.keys
        if (reasons := stale_reasons(key, now, days, rotation_days))
    }


# The columns a cut report can lose and a verdict can hang on: often put last.
KEY_COLUMNS = [
    f"access_key_{slot}_{column}"
    for slot in (1, 2)
    for column in ("active", "last_rotated", "last_used_date")
] + ["user"]


@st.composite
def column_orders(draw) -> list[str]:
    columns = list(draw(st.permutations(COLUMNS)))
    if draw(st.booleans()):
        columns.remove(last := draw(st.sampled_from(KEY_COLUMNS)))
        columns.append(last)
    return columns


DAYS = st.integers(1, 400)
ROTATION = st.none() | st.integers(1, 800)


# The clock's fraction of a second, in microseconds.
FRACTIONS = st.sampled_from([0, 1, 250000, 500000, 999999]) | st.integers(0, 999999)


@dataclass(frozen=True)
class Case:
    now: datetime
    days: int
    rotation_days: int | None
    rows: list[Row]


@st.composite
def reports(draw, active: bool | None = None) -> Case:
    """A clock, the options and rows whose dates cluster at both limits."""
    now = NOW + MICROSECOND * draw(FRACTIONS)
    days, rotation_days = draw(DAYS), draw(ROTATION)
    limits = (days,) if rotation_days is None else (days, rotation_days)
    return Case(now, days, rotation_days, draw(rows(now, limits, active)))


# --- the properties ---


@pytest.mark.slow
@EXAMPLES
@given(
    reports(),
    column_orders(),
    st.sampled_from(["\n", "\r\n", "\r"]),
    st.booleans(),
    st.booleans(),
    st.booleans(),
)
def test_same_verdicts_as_the_model(case, columns, line_end, final_line_break, bom, as_bytes):
    text = report_text(case.rows, columns, line_end)
    if not final_line_break:
        text = text.removesuffix(line_end)
    if bom:
        text = "\ufeff" + text
    content = text.encode("utf-8") if as_bytes else text
    assert flagged(content, case.days, case.rotation_days, case.now) == expected(
        case.rows, case.days, case.rotation_days, columns, final_line_break
    )


@pytest.mark.slow
@EXAMPLES
@given(reports())
def test_swapping_slots_flags_the_same_keys(case):
    swapped = [replace(r, slots=r.slots[::-1], active_text=r.active_text[::-1]) for r in case.rows]
    before = flagged(report_text(case.rows), case.days, case.rotation_days, case.now)
    after = flagged(report_text(swapped), case.days, case.rotation_days, case.now)
    assert {(user, 3 - slot): reasons for (user, slot), reasons in after.items()} == before


@pytest.mark.slow
@EXAMPLES
@given(reports(), st.integers(0, 400))
def test_raising_days_never_flags_more(case, more):
    text = report_text(case.rows)
    higher = flagged(text, case.days + more, case.rotation_days, case.now)
    assert set(higher) <= set(flagged(text, case.days, case.rotation_days, case.now))


@pytest.mark.slow
@EXAMPLES
@given(reports(active=False))
def test_inactive_keys_are_never_flagged(case):
    assert flagged(report_text(case.rows), case.days, case.rotation_days, case.now) == {}


@pytest.mark.slow
@EXAMPLES
@given(reports(), st.integers(0, 3000 * 86400 * 10**6), st.integers(0, 1), st.data())
def test_later_use_never_flags_a_key_that_was_not(case, later_us, slot, data):
    now, days, rotation_days, generated = case.now, case.days, case.rotation_days, case.rows
    index = data.draw(st.integers(0, len(generated) - 1))
    row = generated[index]
    key = row.slots[slot]
    if not isinstance(key.used, timedelta):
        # Never used or unreadable: give it a use date to move.
        used = data.draw(ages(now, days))
        key = replace(key, used=used, used_text=data.draw(date_text(now, used)))
    moved_age = key.used - MICROSECOND * later_us
    moved = replace(key, used=moved_age, used_text=data.draw(date_text(now, moved_age)))

    def with_key(k: Key) -> list[Row]:
        slots = (k, row.slots[1]) if slot == 0 else (row.slots[0], k)
        return [*generated[:index], replace(row, slots=slots), *generated[index + 1 :]]

    before = flagged(report_text(with_key(key)), days, rotation_days, now)
    after = flagged(report_text(with_key(moved)), days, rotation_days, now)
    assert set(after) <= set(before)
    # The moved key loses reasons, never gains one.
    assert set(after.get((row.user, slot + 1), [])) <= set(before.get((row.user, slot + 1), []))


# --- the same edges, written out: sub-second dates and a report cut without a line break ---

# At NOW, 90 days ago is 2026-08-03T12:00:00Z; at NOW_AND_A_QUARTER, 12:00:00.25.
NOW_AND_A_QUARTER = NOW + SECOND / 4
EDGES = [
    (NOW, "2026-08-03T12:00:00+00:00", []),  # exactly 90 days: not MORE than 90
    (NOW, "2026-08-03T11:59:59.999999+00:00", ["unused"]),  # 90 days and 1 us
    (NOW, "2026-08-03T12:00:00.000001+00:00", []),  # 90 days less 1 us
    (NOW, "2026-08-03T11:59:59.5+00:00", ["unused"]),  # 90 days and half a second
    (NOW, "2026-08-03T12:00:00.5Z", []),  # 90 days less half a second
    (NOW, "2026-08-03T07:59:59.9-04:00", ["unused"]),  # 90 days and 0.1 s, elsewhere
    (NOW, "2026-01-01T00:00:00.5+00:00", ["unused"]),  # 304 days and some
    # A real clock has microseconds; AWS's dates have none.
    (NOW_AND_A_QUARTER, "2026-08-03T12:00:00+00:00", ["unused"]),  # 90 days and 0.25 s
    (NOW_AND_A_QUARTER, "2026-08-03T12:00:01+00:00", []),  # 90 days less 0.75 s
    (NOW_AND_A_QUARTER, "2026-08-03T12:00:00.35Z", []),  # 90 days less 0.1 s
    (NOW_AND_A_QUARTER, "2026-08-03T12:00:00.25Z", []),  # exactly 90 days
    (NOW_AND_A_QUARTER, "2026-08-03T12:00:00.249999Z", ["unused"]),  # 90 days and 1 us
]


@pytest.mark.parametrize(
    "now, used, reasons", EDGES, ids=[f"{now:%S.%f}-{text}" for now, text, _ in EDGES]
)
def test_sub_second_last_use_at_the_edge(now, used, reasons):
    key = Key(True, 400 * DAY, now - datetime.fromisoformat(used), "2025-09-27T12:00:00Z", used)
    report = [Row("edge", (key, Key(False, None, NEVER, "N/A", "N/A")), ("true", "false"))]
    assert flagged(report_text(report), 90, None, now) == (
        {("edge", 1): reasons} if reasons else {}
    )
    assert model(key, 90, None) == reasons


@pytest.mark.parametrize("line_end", ["\n", "\r\n", "\r"], ids=["LF", "CRLF", "CR"])
def test_report_cut_in_a_last_use_date_does_not_judge_it(line_end):
    # Without a final line break, "2026-..." may be the start of a later date: the last
    # field is not trusted, so a key whose last column is its last use is not judged.
    columns = [c for c in COLUMNS if c != "access_key_1_last_used_date"]
    columns.append("access_key_1_last_used_date")
    key = Key(True, 400 * DAY, 200 * DAY, "2025-09-27T12:00:00Z", "2026-04-15T12:00:00Z")
    report = [Row("cut", (key, Key(False, None, NEVER, "N/A", "N/A")), ("true", "false"))]
    text = report_text(report, columns, line_end)

    assert flagged(text, 90) == {("cut", 1): ["unused"]}
    assert flagged(text.removesuffix(line_end), 90) == {}
    assert expected(report, 90, None, columns, final_line_break=False) == {}
    # With rotation-days, the creation date is still read: only the last use is lost.
    assert flagged(text.removesuffix(line_end), 90, 365) == {("cut", 1): ["unrotated"]}
