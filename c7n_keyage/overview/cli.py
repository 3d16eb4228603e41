"""The ``c7n-keyage`` console script: ``c7n-keyage report INPUT... --html FILE --json FILE``.

argparse, as c7n's own ``custodian`` CLI (c7n does not depend on click). Bad input is a
warning naming the file and the field, or one error line and exit status 1: never a
traceback.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from collections.abc import Sequence
from pathlib import Path

from c7n_keyage.overview.aggregate import BUCKETS, TOP_KEYS, aggregate
from c7n_keyage.overview.read import InputError, read_inputs
from c7n_keyage.overview.render import render_html

log = logging.getLogger("c7n_keyage.overview")

REPORT_HELP = """\
Read the outputs of Cloud Custodian runs of policies that use the access-key-unused filter,
and write the organisation's stale keys on one page (--html) and as numbers for other
tools (--json; schema in the README). Nothing is sent anywhere: the report reads files.

INPUT is an output directory of `custodian run -s DIR` or `c7n-org run -s DIR`, or an
s3://bucket/prefix where runs wrote theirs (c7n's dated layout and .gz files are read as
they are; add ?region=NAME for a bucket in another region). Runs are found at any depth,
so one directory per day (out/2026-12-01/...) works, and several INPUTs merge: runners
sharded by accounts, regions or days.

Each account's latest run date gives its figures; every date gives the trend. Runs of other
policies are counted and skipped; an unreadable file is named, and the rest is still read.
"""


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="c7n-keyage",
        description="Tools for the c7n-keyage Cloud Custodian plugin.",
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    report = commands.add_parser(
        "report",
        help="stale keys across accounts, from run outputs, as HTML and JSON",
        description=REPORT_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=(
            "example: c7n-keyage report output/ s3://audit-bucket/custodian "
            "--html keys.html --json keys.json"
        ),
    )
    report.add_argument("inputs", nargs="+", metavar="INPUT", help="output directory or s3:// URL")
    report.add_argument("--html", metavar="FILE", help="write the page here (self-contained)")
    report.add_argument("--json", metavar="FILE", help="write the numbers here ('-': stdout)")
    report.add_argument(
        "--top",
        type=int,
        default=TOP_KEYS,
        metavar="N",
        help=f"how many of the oldest keys to list (default {TOP_KEYS})",
    )
    report.add_argument("-v", "--verbose", action="store_true", help="log every warning")
    return parser


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


def _summary(overview: dict) -> str:
    totals = overview["totals"]
    inputs = overview["inputs"]
    ages = ", ".join(f"{label}: {overview['age_buckets'][label]}" for label, _, _ in BUCKETS)
    return (
        f"{totals['stale_keys']} stale keys of {totals['stale_users']} users in "
        f"{totals['accounts_with_stale']} of {totals['accounts']} accounts, as of "
        f"{overview['as_of'] or 'no run'}; oldest {totals['oldest_days']} days ({ages}).\n"
        f"Runs read: {inputs['runs_read']} of {inputs['runs_found']} found; other policies "
        f"skipped: {inputs['skipped']['other-policy']}; unreadable: "
        f"{inputs['skipped']['unreadable']}; failed before writing resources: "
        f"{inputs['skipped']['failed']}."
    )


def _write(target: str, text: str) -> None:
    if target == "-":
        sys.stdout.write(text)
        return
    try:
        Path(target).write_text(text, encoding="utf-8")
    except OSError as e:
        raise InputError(f"{target}: cannot write ({e.strerror or e})") from None


def report(args: argparse.Namespace) -> int:
    counter = _Counter(args.verbose)
    log.addHandler(counter)
    log.propagate = False
    try:
        runs, stats = read_inputs(args.inputs, log.warning)
        overview = aggregate(runs, top=max(args.top, 0))
        overview["inputs"] = stats.as_dict()
        if args.json:
            _write(args.json, json.dumps(overview, indent=1) + "\n")
        if args.html:
            _write(args.html, render_html(overview))
    except InputError as e:
        print(f"c7n-keyage: error: {e}", file=sys.stderr)
        return 1
    finally:
        log.removeHandler(counter)
    if counter.count > counter.SHOWN and not args.verbose:
        print(
            f"c7n-keyage: {counter.count} warnings in all ({counter.SHOWN} shown; -v shows "
            "every one; unreadable files are listed in the JSON and the page)",
            file=sys.stderr,
        )
    print(_summary(overview), file=sys.stderr if args.json == "-" else sys.stdout)
    if not runs:
        print(
            "c7n-keyage: warning: no run of access-key-unused found in the inputs", file=sys.stderr
        )
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.command == "report":
        return report(args)
    return 2  # argparse refuses unknown commands before this


if __name__ == "__main__":
    sys.exit(main())
