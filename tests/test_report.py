"""The credential report parser on bad reports.

The corpus is data: ``tests/data/bad_reports/<case>.csv`` (read as bytes, so CRLF, BOM and
encodings stay as written) and ``cases.json``, which states per case, at a fixed ``now``,
every key the rule must flag and every problem the parser must report. For each case:
no traceback, each unusable value reported with its user and column, no key flagged on
data that cannot be judged, and every judgeable key judged as stated.
"""

from __future__ import annotations

import csv
import json
import logging
import pathlib
from datetime import datetime, timedelta, timezone

import pytest

from c7n_keyage.report import (
    ROOT_USER,
    UNREADABLE,
    AccessKey,
    Report,
    UserRow,
    future_problems,
    parse_date,
    parse_report,
)
from c7n_keyage.rule import stale_reasons
from tests.placebo_fixtures import HEADER

CORPUS = pathlib.Path(__file__).parent / "data" / "bad_reports"
SPEC = json.loads((CORPUS / "cases.json").read_text())
NOW = datetime.fromisoformat(SPEC["now"])
CASES = {case["name"]: case for case in SPEC["cases"]}
# Which columns each reason reads: a flag may not rest on a column reported unusable.
READS = {
    "unused": ("last_used_date",),
    "never-used": ("last_used_date", "last_rotated"),
    "unrotated": ("last_rotated",),
}


def content(case: dict, mode: str) -> str | bytes:
    data = (CORPUS / f"{case['name']}.csv").read_bytes()
    # Decoded as plain UTF-8, a BOM stays in the text, as a str report would carry it.
    return data if mode == "bytes" else data.decode("utf-8")


def verdicts(report: Report, days: int, rotation_days: int | None) -> list[list]:
    return sorted(
        [user, key.slot, reasons]
        for user, row in report.rows.items()
        for key in row.keys
        if (reasons := stale_reasons(key, NOW, days, rotation_days))
    )


def unmatched(problems: list[str], expected: list[list]) -> tuple[list, list]:
    """Pair each expected [user, column] with a distinct problem naming both."""
    left = list(problems)
    missing = []
    # Whole-row expectations (column None) last, so they do not take a column's problem.
    for user, column in sorted(expected, key=lambda e: e[1] is None):
        found = next(
            (p for p in left if p.startswith(f"user {user}:") and (column is None or column in p)),
            None,
        )
        if found is None:
            missing.append([user, column])
        else:
            left.remove(found)
    return missing, left


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


# --- a few corpus cases through whole policies ---

POLICY = {
    "name": "bad-report",
    "resource": "iam-user",
    "filters": [{"type": "access-key-unused", "days": 90}],
}


@pytest.mark.parametrize(
    "case",
    [case for case in SPEC["cases"] if case.get("policy")],
    ids=lambda case: case["name"],
)
def test_bad_report_through_policy(case, replay_from, frozen, run_policy, caplog):
    caplog.set_level(logging.WARNING, logger="custodian.keyage")
    replay = replay_from(f"test_fetch_bad_{case['name']}")
    policy = run_policy(POLICY, replay)

    users = [u for u in case["users"] if u != ROOT_USER]
    assert replay.operations() == ["ListUsers"] + ["GetUser"] * len(users) + ["GetCredentialReport"]
    flagged = sorted(
        [r["UserName"], k["slot"], k["reasons"]]
        for r in policy.resources
        for k in r["c7n:unused-keys"]
    )
    assert flagged == sorted(f for f in case["flagged"] if f[0] != ROOT_USER)
    warnings = [
        r.getMessage()
        for r in caplog.records
        if r.name == "custodian.keyage" and r.levelno == logging.WARNING
    ]
    prefix = "policy:bad-report access-key-unused: "
    report_prefix = "policy:bad-report credential report: "
    logged = [w.removeprefix(prefix) for w in warnings if w.startswith(prefix)]
    about_report = [w.removeprefix(report_prefix) for w in warnings if w.startswith(report_prefix)]
    # The other warnings: a stale key without a creation date cannot be told apart from
    # its user's other key, so it gets no matched entry (no action can touch it).
    unidentified = [w for w in warnings if not w.startswith((prefix, report_prefix))]
    for warning in unidentified:
        assert "has no creation date in the report; it cannot be identified" in warning
        user = warning.removeprefix("policy:bad-report user ").split(":")[0]
        resource = next(r for r in policy.resources if r["UserName"] == user)
        assert len(resource["c7n:matched-keys"]) < len(resource["c7n:unused-keys"])
    expected_rows = [p for p in case["row_problems"] if p[0] != ROOT_USER]
    missing, unexpected = unmatched([w for w in logged if w.startswith("user ")], expected_rows)
    assert missing == [] and unexpected == []
    # Each report-level problem is logged once, whoever asked for the report.
    assert len(about_report) == len(case["report_problems"]), about_report
    for text, warning in zip(case["report_problems"], about_report, strict=True):
        assert text in warning


@pytest.mark.parametrize(
    "ahead, warned",
    [(timedelta(days=1), False), (timedelta(days=1, seconds=1), True), (timedelta(0), False)],
    ids=["a-day-ahead", "a-day-and-a-second-ahead", "now"],
)
def test_dates_more_than_a_day_ahead_are_problems(ahead, warned):
    moment = NOW + ahead
    row = UserRow("u", (AccessKey(1, True, NOW - timedelta(days=1), moment),))
    problems = future_problems(row, NOW)
    expected = (
        f"user u: key slot 1: access_key_1_last_used_date is {moment.isoformat()}, more than a "
        "day in the future; counted as recent"
    )
    assert problems == ((expected,) if warned else ())
    rotated = UserRow("u", (AccessKey(2, True, moment, None),))
    assert bool(future_problems(rotated, NOW)) == warned
    if warned:
        assert "access_key_2_last_rotated" in future_problems(rotated, NOW)[0]
