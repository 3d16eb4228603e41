"""The ``c7n-keyage`` console script: ``c7n-keyage report INPUT... --html FILE --json FILE``.

argparse, as c7n's own ``custodian`` CLI (c7n does not depend on click). Bad input is a
warning naming the file and the field, or one error line: never a traceback.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from collections.abc import Sequence
from pathlib import Path

from c7n_keyage.overview import aggregate, gate, history
from c7n_keyage.overview.accounts_file import read_accounts
from c7n_keyage.overview.fleet import Fleet
from c7n_keyage.overview.inputs import CAP_MB, InputError, read_inputs
from c7n_keyage.overview.page import render_html
from c7n_keyage.overview.spreadsheet import to_csv

log = logging.getLogger("c7n_keyage.overview")
OK, ERROR = 0, 1

REPORT_HELP = """\
Read the outputs of Cloud Custodian runs of policies that use the access-key-unused filter,
and write the organisation's stale keys on one page (--html), as numbers for other tools
(--json) and as rows for spreadsheets (--csv); docs/fleet-page.md explains each figure.
Nothing is sent anywhere: the report reads files.

INPUT is an output directory of `custodian run -s DIR` or `c7n-org run -s DIR`, or an
s3://bucket/prefix where runs wrote theirs (c7n's dated layout and .gz files are read as
they are; add ?region=NAME for a bucket in another region). Runs are found at any depth,
so one directory per day (out/2026-12-01/...) works, and several INPUTs merge: runners
sharded by accounts, regions or days. An INPUT with no run at all is an error.

Each account counts with its policies' latest runs; each run date is a point of the trend,
the whole fleet as of that date. An account whose latest run is older than the fleet's
latest date (more than --grace-days) is marked as not reporting. With --history FILE the
fleet is kept in FILE between reports: give each day's outputs only, and the report adds
them to it (a year of daily runs is read once).

Exit status: 0 written; 1 error (nothing written); 2 usage; 3 written, and a --fail-on
condition is met.
"""


def _non_negative(value: str) -> int:
    if not value.isdigit():
        raise argparse.ArgumentTypeError(f"{value!r}: not a whole number of 0 or more")
    return int(value)


# The report's options: (flags, argparse's keywords), declared once, added in order.
OPTIONS = [
    (("inputs",), dict(nargs="*", metavar="INPUT", help="output directory or s3:// URL")),
    (("--html",), dict(metavar="FILE", help="write the page here (self-contained; '-': stdout)")),
    (("--json",), dict(metavar="FILE", help="write the numbers here ('-': stdout)")),
    (("--csv",), dict(metavar="FILE", help="write every key needing a step here ('-': stdout)")),
    (("--history",), dict(metavar="FILE", help="keep the fleet in FILE between reports")),
    (("-c", "--accounts"),
     dict(metavar="FILE", help="c7n-org accounts file: names, and who ran")),
    (("--fail-on",),
     dict(action="append", default=[], type=gate.parse, metavar="CONDITION",
          help="exit 3 when met: stale, stale-older-than=N, not-reporting, unreadable "
          "(repeat for several)")),
    (("--grace-days",),
     dict(type=_non_negative, default=0, metavar="N",
          help="days an account may miss before it is not reporting (default 0)")),
    (("--top",),
     dict(type=_non_negative, default=aggregate.TOP_KEYS, metavar="N",
          help=f"the oldest keys of the fleet listed (default {aggregate.TOP_KEYS})")),
    (("--keys-per-account",),
     dict(type=_non_negative, default=aggregate.KEYS_PER_ACCOUNT, metavar="N",
          help="each account's oldest keys on the page and in the JSON (default "
          f"{aggregate.KEYS_PER_ACCOUNT}; 0: all; the CSV has all)")),
    (("--max-file-mb",),
     dict(type=_non_negative, default=CAP_MB, metavar="MB",
          help=f"refuse a file larger, or expanding to more (default {CAP_MB})")),
    (("-v", "--verbose"), dict(action="store_true", help="show every warning")),
]  # fmt: skip
EPILOG = (
    "examples:\n  c7n-keyage report output/ s3://audit-bucket/custodian --html keys.html "
    "--json keys.json\n  c7n-keyage report out/$(date +%F) --history out/keyage-history.json "
    "-c accounts.yml --html keys.html --fail-on not-reporting"
)


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(
        prog="c7n-keyage", description="Tools for the c7n-keyage Cloud Custodian plugin."
    )
    commands = top.add_subparsers(dest="command", metavar="COMMAND", required=True)
    report = commands.add_parser(
        "report",
        help="stale keys across accounts, from run outputs, as HTML, JSON and CSV",
        description=REPORT_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=EPILOG,
    )
    for flags, options in OPTIONS:
        report.add_argument(*flags, **options)
    return top


class _Counter(logging.Handler):
    """Counts warnings, and shows the first few unless --verbose: a fleet with a broken
    runner can name thousands of files, and all of them are in the JSON."""

    SHOWN = 20

    def __init__(self, verbose: bool) -> None:
        super().__init__(logging.WARNING)
        self.count = 0
        self.verbose = verbose

    def emit(self, record: logging.LogRecord) -> None:
        self.count += 1
        if self.verbose or self.count <= self.SHOWN:
            print(f"c7n-keyage: warning: {record.getMessage()}", file=sys.stderr)


def summary(overview: dict) -> str:
    totals = overview["totals"]
    inputs = overview["inputs"]
    skipped = inputs["skipped"]
    ages = ", ".join(f"{label}: {n}" for label, n in overview["age_buckets"].items())
    return (
        f"{totals['stale_keys']} stale keys of {totals['stale_users']} users in "
        f"{totals['accounts_with_stale']} of {totals['accounts']} accounts, as of "
        f"{overview['as_of']}; oldest {totals['oldest_days']} days ({ages}); "
        f"{totals['accounts_not_reporting']} accounts not reporting.\n"
        f"Runs read: {inputs['runs_read']} of {inputs['runs_found']} found; other policies "
        f"skipped: {skipped['other-policy']}; unreadable: {skipped['unreadable']}; failed "
        f"before writing resources: {skipped['failed']}."
    )


def _write(target: str, text: str) -> None:
    if target == "-":
        sys.stdout.write(text)
        return
    try:
        Path(target).write_text(text, encoding="utf-8")
    except OSError as e:
        raise InputError(f"{target}: cannot write ({e.strerror or e})") from None


def _fold(args: argparse.Namespace) -> tuple[Fleet, dict]:
    """The fleet (from the history, if any) with the inputs' runs added; what was read."""
    fleet = history.load(Path(args.history)) if args.history else Fleet()
    before = fleet.added
    runs, stats = read_inputs(args.inputs, log.warning, cap_mb=args.max_file_mb)
    for run in runs:
        fleet.add(run)
    if not fleet.runs:
        raise InputError(
            "no run of a policy using access-key-unused (nor lifecycle records) in the "
            f"inputs ({stats.runs_found} runs found, {stats.other_policy} of other policies)"
        )
    read = stats.as_dict()
    if args.history:
        read["history"] = {"file": args.history, "runs": fleet.added, "added": fleet.added - before}
    return fleet, read


def report(args: argparse.Namespace) -> int:
    names = read_accounts(args.accounts) if args.accounts else {}
    fleet, read = _fold(args)
    options = aggregate.Options(args.top, args.keys_per_account, args.grace_days, names)
    overview = aggregate.overview(fleet, options)
    overview["inputs"] = read
    if args.json:
        _write(args.json, json.dumps(overview) + "\n")  # no indent: C's encoder, 10 times faster
    if args.html:
        _write(args.html, render_html(overview))
    if args.csv:
        _write(args.csv, to_csv(fleet, overview, options))
    if args.history:
        history.save(fleet, Path(args.history))
    to_stdout = "-" in (args.json, args.html, args.csv)
    print(summary(overview), file=sys.stderr if to_stdout else sys.stdout)
    failed = gate.failures(args.fail_on, overview)
    for failure in failed:
        print(f"c7n-keyage: {failure}", file=sys.stderr)
    return gate.GATE_FAILED if failed else OK


def _checked(parsed: argparse.Namespace, top: argparse.ArgumentParser) -> argparse.Namespace:
    if not parsed.inputs and not parsed.history:
        top.error("the following arguments are required: INPUT (or --history FILE)")
    if sum(t == "-" for t in (parsed.html, parsed.json, parsed.csv)) > 1:
        top.error("only one of --html, --json and --csv can be '-' (stdout)")
    return parsed


def main(argv: Sequence[str] | None = None) -> int:
    top = parser()
    args = _checked(top.parse_args(argv), top)
    counter = _Counter(args.verbose)
    log.addHandler(counter)
    log.propagate = False
    try:
        code = report(args)
    except (InputError, history.HistoryError) as e:
        print(f"c7n-keyage: error: {e}", file=sys.stderr)
        return ERROR
    finally:
        log.removeHandler(counter)
    if counter.count > counter.SHOWN and not args.verbose:
        print(
            f"c7n-keyage: {counter.count} warnings in all ({counter.SHOWN} shown; -v shows "
            "every one; unreadable files are listed in the JSON and the page)",
            file=sys.stderr,
        )
    return code


if __name__ == "__main__":
    sys.exit(main())
