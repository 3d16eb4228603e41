"""The credential report parser on bad reports.

The corpus is data: ``tests/data/bad_reports/<case>.csv`` (read as bytes, so CRLF, BOM and
encodings stay as written) and ``cases.json``, which states per case, at a fixed ``now``,
every key the rule must flag and every problem the parser must report. For each case:
no traceback, each unusable value reported with its user and column, no key flagged on
data that cannot be judged, and every judgeable key judged as stated.
"""

from __future__ import annotations

import csv
import pickle
from datetime import datetime, timedelta, timezone

import pytest

from c7n_keyage.credential_report.parse import (
    UNREADABLE,
    AccessKey,
    Report,
    UserRow,
    future_problems,
    parse_date,
    parse_report,
)
from c7n_keyage.stale.rule import stale_reasons
from tests.support.bad_reports import CASES, CORPUS, NOW, SPEC, content, unmatched
from tests.support.placebo_fixtures import HEADER

# Which columns each reason reads: a flag may not rest on a column reported unusable.
READS = {
    "unused": ("last_used_date",),
    "never-used": ("last_used_date", "last_rotated"),
    "unrotated": ("last_rotated",),
}


def verdicts(report: Report, days: int, rotation_days: int | None) -> list[list]:
    return sorted(
        [user, key.slot, reasons]
        for user, row in report.rows.items()
        for key in row.keys
        if (reasons := stale_reasons(key, NOW, days, rotation_days))
    )


def test_corpus_size():
    assert len(SPEC["cases"]) >= 25
    assert all((CORPUS / f"{name}.csv").is_file() for name in CASES)
    assert {p.stem for p in CORPUS.glob("*.csv")} == set(CASES)


@pytest.mark.parametrize(
    "case, mode",
    [
        pytest.param(case, mode, id=f"{case['name']}-{mode}")
        for case in SPEC["cases"]
        for mode in case["modes"]
    ],
)
def test_bad_report(case, mode):
    report = parse_report(content(case, mode))
    flagged = verdicts(report, SPEC["days"], case.get("rotation_days"))

    assert sorted(report.rows) == sorted(case["users"])
    assert flagged == sorted(case["flagged"])

    row_problems = [p for row in report.rows.values() for p in row.problems]
    for user, row in report.rows.items():
        assert all(p.startswith(f"user {user}:") for p in row.problems), row.problems
    missing, unexpected = unmatched(row_problems, case["row_problems"])
    assert missing == [] and unexpected == []

    assert len(report.problems) == len(case["report_problems"]), report.problems
    for expected, problem in zip(case["report_problems"], report.problems, strict=True):
        assert expected in problem

    # Independently of the stated verdicts: nothing flagged rests on an unusable column.
    for user, slot, reasons in flagged:
        said = " ".join(report.rows[user].problems)
        for reason in reasons:
            for column in READS[reason]:
                assert f"access_key_{slot}_{column}" not in said, (user, slot, reason)


def test_bytes_and_str_read_alike():
    # Every case that is valid UTF-8 parses to the same rows either way.
    utf8 = [case for case in SPEC["cases"] if "str" in case["modes"]]
    assert len(utf8) >= 25
    differing = [
        case["name"]
        for case in utf8
        if parse_report(content(case, "bytes")) != parse_report(content(case, "str"))
    ]
    assert differing == []


# --- edge cases built here rather than kept as files ---

BOB = (
    "bob,arn:aws:iam::123456789012:user/bob,2023-02-05T12:00:00+00:00,false,N/A,N/A,N/A,"
    "false,true,2025-09-27T12:00:00+00:00,2026-04-15T12:00:00+00:00,us-east-1,s3,"
    "false,N/A,N/A,N/A,N/A,false,N/A,false,N/A"
)


def test_field_over_csv_limit_stops_with_a_problem():
    # A field past csv's 128 KiB limit raises csv.Error: rows before it are still judged.
    report = parse_report("\n".join([HEADER, BOB, "x" * (csv.field_size_limit() + 1), BOB]))
    assert list(report.rows) == ["bob"]
    (problem,) = report.problems
    assert problem.startswith("credential report is garbled at line 3 (field larger")
    assert verdicts(report, 90, None) == [["bob", 1, ["unused"]]]


def test_garbled_header():
    report = parse_report("x" * (csv.field_size_limit() + 1) + "\n" + BOB)
    assert report.rows == {}
    assert report.problems[0].startswith("credential report header is garbled")


def test_problem_quotes_the_raw_value():
    row = BOB.replace("2026-04-15T12:00:00+00:00", "2026-02-30T00:00:00+00:00")
    (problem,) = parse_report(HEADER + "\n" + row).rows["bob"].problems
    assert problem == (
        "user bob: key slot 1: access_key_1_last_used_date is '2026-02-30T00:00:00+00:00'; "
        "last use not judged"
    )


def test_parsed_key_fields():
    (key,) = parse_report(HEADER + "\n" + BOB).rows["bob"].keys[:1]
    assert key == AccessKey(
        1,
        True,
        datetime(2025, 9, 27, 12, tzinfo=timezone.utc),
        datetime(2026, 4, 15, 12, tzinfo=timezone.utc),
        "s3",
        "us-east-1",
    )
    garbled = parse_report(HEADER + "\n" + BOB.replace("2026-04-15T12:00:00+00:00", "soon"))
    assert garbled.rows["bob"].keys[0].last_used is UNREADABLE


@pytest.mark.parametrize(
    "value, expected",
    [
        ("2026-04-15T12:00:00+00:00", datetime(2026, 4, 15, 12, tzinfo=timezone.utc)),
        ("2026-04-15T12:00:00Z", datetime(2026, 4, 15, 12, tzinfo=timezone.utc)),
        ("2026-04-15T14:00:00+02:00", datetime(2026, 4, 15, 12, tzinfo=timezone.utc)),
        (" 2026-04-15T12:00:00+00:00 ", datetime(2026, 4, 15, 12, tzinfo=timezone.utc)),
        ("2026-04-15T12:00:00", datetime(2026, 4, 15, 12, tzinfo=timezone.utc)),
        ("N/A", None),
        ("n/a", None),
        ("no_information", None),
        ("", None),
        ("0001-01-01T00:00:00Z", None),
    ],
)
def test_parse_date(value, expected):
    parsed = parse_date(value)
    assert parsed == expected
    assert parsed is None or parsed.tzinfo is timezone.utc


@pytest.mark.parametrize("value", ["not_supported", "yesterday", "2026-13-01T00:00:00Z"])
def test_parse_date_rejects(value):
    with pytest.raises(ValueError):
        parse_date(value)


def test_naive_dates_are_utc_whatever_the_machine_zone(zone_elsewhere):
    parsed = parse_date("2026-04-15T12:00:00")
    assert parsed == datetime(2026, 4, 15, 12, tzinfo=timezone.utc)
    assert parsed.isoformat() == "2026-04-15T12:00:00+00:00"


def test_unreadable_is_one_value_that_says_what_it_is():
    assert repr(UNREADABLE) == "UNREADABLE"
    assert pickle.loads(pickle.dumps(UNREADABLE)) is UNREADABLE


# --- whole reports, read exactly: every row, every problem, every unreadable line ---

COLUMNS = HEADER.split(",")
BOB_VALUES = dict(zip(COLUMNS, BOB.split(","), strict=True))
UTC = timezone.utc
CREATED = datetime(2023, 2, 5, 12, tzinfo=UTC)
BOB_KEYS = (
    AccessKey(
        1,
        True,
        datetime(2025, 9, 27, 12, tzinfo=UTC),
        datetime(2026, 4, 15, 12, tzinfo=UTC),
        "s3",
        "us-east-1",
    ),
    AccessKey(2, False),
)


def arn(name: str) -> str:
    return f"arn:aws:iam::123456789012:user/{name}"


def line(columns: list[str] = COLUMNS, **values: str) -> str:
    """A report line as raw CSV text: bob's values in ``columns``' order, some replaced
    (written as they are: unquoted commas stay unquoted)."""
    return ",".join({**BOB_VALUES, **values}[column] for column in columns)


def user_line(name: str, columns: list[str] = COLUMNS, **values: str) -> str:
    return line(columns, **{"user": name, "arn": arn(name), **values})


def bob_row(name: str = "bob", keys=BOB_KEYS, problems=(), **about) -> UserRow:
    return UserRow(name, keys, problems, about.get("arn", arn(name)), about.get("created", CREATED))


USER_LAST = [c for c in COLUMNS if c != "user"] + ["user"]
CREATED_LAST = [c for c in COLUMNS if c != "user_creation_time"] + ["user_creation_time"]
ARN_LAST = [c for c in COLUMNS if c != "arn"] + ["arn"]
NO_ARN = [c for c in COLUMNS if c != "arn"]
LIMIT = csv.field_size_limit()
SHIFTED = "{} fields where the header has 22: its columns may be shifted; that row is not judged"
UNALIGNED = (
    "23 fields where the header has 22 (an unquoted comma?) and the arn column does not "
    "realign them; that row is not judged"
)


def note(user: str, at: int) -> str:
    return (
        f"user {user}: line {at} of the report could not be read and may be this user's too; "
        "judged on its readable row"
    )


# id: (report text, the Report it must read as)
EXACT = {
    "one-user": ([HEADER, BOB, ""], Report({"bob": bob_row()})),
    "no-arn-column": (
        [",".join(NO_ARN), line(NO_ARN), ""],
        Report({"bob": bob_row(arn=None)}),
    ),
    # Cut without a final line break: the last field (the creation time) is not trusted.
    "cut-in-the-creation-time": (
        [",".join(CREATED_LAST), line(CREATED_LAST)],
        Report({"bob": bob_row(created=None)}),
    ),
    # The last row stops before its user column: no one's keys are judged.
    "cut-before-the-user-column": (
        [",".join(USER_LAST), ",".join(line(USER_LAST).split(",")[:-1]), ""],
        Report(
            {
                "": UserRow(
                    "", (), ("user : user column cut off with the report's end; no key judged",)
                )
            }
        ),
    ),
    # A short row other than the last, its user column missing: nobody's row.
    "short-row-without-its-user": (
        [",".join(USER_LAST), ",".join(line(USER_LAST).split(",")[:-1]), line(USER_LAST), ""],
        Report({"bob": bob_row()}, ("line 2: " + SHIFTED.format(21),)),
    ),
    # The last row ends after slot 1's service: that field, the last, is not trusted, and
    # slot 2 is missing.
    "cut-after-slot-1": (
        [HEADER, ",".join(BOB.split(",")[:13])],
        Report(
            {
                "bob": bob_row(
                    keys=(
                        AccessKey(
                            1,
                            True,
                            BOB_KEYS[0].last_rotated,
                            BOB_KEYS[0].last_used,
                            None,
                            "us-east-1",
                        ),
                    ),
                    problems=(
                        "user bob: key slot 2: access_key_2_active is missing; key not judged",
                    ),
                )
            }
        ),
    ),
    "garbled-values": (
        [
            HEADER,
            line(access_key_2_active="yes"),
            user_line(
                "amy",
                access_key_1_last_rotated="soon",
                access_key_1_last_used_region="not_supported",
                access_key_1_last_used_service=" N/A ",
            ),
            "",
        ],
        Report(
            {
                "bob": bob_row(
                    keys=BOB_KEYS[:1],
                    problems=(
                        "user bob: key slot 2: access_key_2_active is 'yes'; key not judged",
                    ),
                ),
                "amy": bob_row(
                    "amy",
                    keys=(AccessKey(1, True, None, BOB_KEYS[0].last_used), AccessKey(2, False)),
                    problems=(
                        "user amy: key slot 1: access_key_1_last_rotated is 'soon'; "
                        "creation date unknown",
                    ),
                ),
            }
        ),
    ),
    "empty": ([""], Report({}, ("credential report is empty; no key judged",))),
    "no-user-column": (
        ["name,arn", "bob,x", ""],
        Report({}, ("credential report has no 'user' column; no key judged",)),
    ),
    # Only a byte order mark is taken off the start: "XUSER" is not the user column.
    "stray-prefix-on-the-header": (
        ["XUSER" + HEADER.removeprefix("user"), BOB, ""],
        Report({}, ("credential report has no 'user' column; no key judged",)),
    ),
    "header-only": (
        [HEADER, ""],
        Report({}, ("credential report has no rows (not even <root_account>)",)),
    ),
    # A line of empty fields is a blank line: the header is the next one.
    "empty-fields-before-the-header": ([",,,", HEADER, BOB, ""], Report({"bob": bob_row()})),
    # A short row, then a field csv cannot read: the short row is not the last one.
    "short-row-before-a-garbled-line": (
        [HEADER, BOB, ",".join(user_line("carol").split(",")[:12]), "x" * (LIMIT + 1), BOB, ""],
        Report(
            {"bob": bob_row()},
            (
                "line 3: " + SHIFTED.format(12),
                "credential report is garbled at line 4 "
                f"(field larger than field limit ({LIMIT})); users after it are not judged",
            ),
            {"carol": 3},
        ),
    ),
    # Too many fields: "ops,x" whose arn column holds no ARN, "ops,admin" whose ARN ends
    # with another name. Each line is lost; each name it may be for is kept.
    "unquoted-commas-the-arn-does-not-vouch-for": (
        [
            HEADER,
            user_line("ops"),
            line(user="ops,x", arn="not-an-arn/ops"),
            line(user="ops,admin", arn=arn("admin")),
            "",
        ],
        Report(
            {"ops": bob_row("ops", problems=(note("ops", 3),))},
            ("line 3: " + UNALIGNED, "line 4: " + UNALIGNED),
            {"ops": 3, "ops,admin": 4},
        ),
    ),
    # A quoted name running over two lines, with as many fields as the header: not read,
    # and kept as for "carol", the name before the line break.
    "a-field-over-two-lines": (
        [HEADER, BOB, user_line('"carol\nzed"', arn=arn("carol")), user_line("carol"), ""],
        Report(
            {"bob": bob_row(), "carol": bob_row("carol", problems=(note("carol", 3),))},
            (
                "line 3: a quoted field runs over 2 lines (a quote left open?), users included; "
                "that row is not judged",
            ),
            {"carol": 3},
        ),
    ),
    # Another field over two lines: the row is not read even though its ARN vouches for
    # its name and it has as many fields as the header.
    "a-later-field-over-two-lines": (
        [HEADER, user_line("carol", password_last_used='"N/A\nN/A"'), BOB, ""],
        Report(
            {"bob": bob_row()},
            (
                "line 2: a quoted field runs over 2 lines (a quote left open?), users included; "
                "that row is not judged",
            ),
            {"carol": 2},
        ),
    ),
    # The ARN realigns a name split by an unquoted comma wherever the user column is.
    "realigned-after-another-column": (
        ["extra," + HEADER, "1," + user_line("smith, john"), ""],
        Report({"smith, john": bob_row("smith, john")}),
    ),
    # A comma in the path only: the name is whole, the ARN is realigned.
    "comma-in-the-path-only": (
        [HEADER, line(arn="arn:aws:iam::123456789012:user/a,b/bob"), ""],
        Report({"bob": bob_row(arn="arn:aws:iam::123456789012:user/a,b/bob")}),
    ),
    # Only the arn column right after the user column realigns: an ARN elsewhere does not.
    "arn-not-after-the-user-column": (
        [
            ",".join(ARN_LAST),
            line(ARN_LAST, user="a,b", user_creation_time=f'"{arn("a,b")}"', arn=f'"{arn("a,b")}"'),
            "",
        ],
        Report(
            {},
            ("line 2: " + UNALIGNED, "credential report has no rows (not even <root_account>)"),
            {"a": 2, "a,b": 2},
        ),
    ),
}


@pytest.mark.parametrize("name", EXACT)
def test_report_read_exactly(name):
    lines, expected = EXACT[name]
    assert parse_report("\n".join(lines)) == expected


# Bob twice with different keys: which columns the problem names. Each: (the first row's
# changes, the second row's changes, the columns named).
GARBLED = "maybe"  # an active value that is neither true nor false: that key is unreadable
SLOT_2_ACTIVE = {
    "access_key_2_active": "true",
    "access_key_2_last_rotated": "2025-01-01T00:00:00Z",
    "access_key_2_last_used_date": "N/A",
}
CONFLICTS = {
    "slot-1-unreadable-in-one-row-slot-2-differs": (
        SLOT_2_ACTIVE,
        {
            **SLOT_2_ACTIVE,
            "access_key_1_active": GARBLED,
            "access_key_2_last_rotated": "2026-01-01T00:00:00Z",
        },
        "access_key_1_* (unreadable in one row), access_key_2_last_rotated",
    ),
    "slot-1-differs-slot-2-unreadable-in-one-row": (
        {"access_key_2_active": GARBLED},
        {"access_key_1_last_used_date": "2026-05-01T00:00:00Z"},
        "access_key_1_last_used_date, access_key_2_* (unreadable in one row)",
    ),
    "slot-2-unreadable-in-both-rows": (
        {"access_key_2_active": GARBLED},
        {
            "access_key_2_active": GARBLED,
            "access_key_1_last_used_service": "iam",
            "access_key_1_last_used_region": "eu-west-1",
        },
        "access_key_1_last_used_service, access_key_1_last_used_region",
    ),
    "slot-2-only": ({}, {"access_key_2_active": "true"}, "access_key_2_active"),
}


@pytest.mark.parametrize("name", CONFLICTS)
def test_conflicting_rows_name_the_columns_that_differ(name):
    first, second, differing = CONFLICTS[name]
    report = parse_report("\n".join([HEADER, line(**first), line(**second), ""]))
    problem = (
        f"user bob: several different rows in the report (differing in {differing}); no key judged"
    )
    assert report == Report({"bob": UserRow("bob", (), (problem,), arn("bob"), CREATED)})


def test_dates_more_than_a_day_ahead_are_named():
    now, day, us = NOW, timedelta(days=1), timedelta(microseconds=1)
    row = UserRow(
        "bob",
        (AccessKey(1, True, now + day, now + day + us), AccessKey(2, True, now + 2 * day, None)),
    )
    assert future_problems(row, now) == (
        "user bob: key slot 1: access_key_1_last_used_date is 2026-11-02T12:00:00.000001+00:00, "
        "more than a day in the future; counted as recent",
        "user bob: key slot 2: access_key_2_last_rotated is 2026-11-03T12:00:00+00:00, "
        "more than a day in the future; counted as recent",
    )


def test_a_row_over_several_lines_is_not_realigned():
    """An unquoted comma, and a quote opened in one line and closed in the next: the fields
    then count as many as a realigned row's. It spans two lines, so it is nobody's row."""
    ops = user_line("ops,admin").replace(",us-east-1,", ',"us-east-1\neve",', 1)
    report = parse_report("\n".join([HEADER, user_line("bob"), ops, ""]))
    assert sorted(report.rows) == ["bob"]
    assert [p.split(":")[0] for p in report.problems] == ["line 3"]
    assert "runs over 2 lines" in report.problems[0]


@pytest.mark.parametrize("end", ["\n", "\r\n", "\r"], ids=["LF", "CRLF", "CR"])
def test_a_name_broken_over_lines_is_its_first_line_whatever_the_line_ends(end):
    broken = user_line("mal").replace("mal,", '"mal' + end + 'x",', 1)
    text = end.join([HEADER, user_line("mal"), broken, ""])
    report = parse_report(text)
    assert report.unreadable == {"mal": 3}
    assert report.rows["mal"].problems == (
        "user mal: line 3 of the report could not be read and may be this user's too; judged "
        "on its readable row",
    )
