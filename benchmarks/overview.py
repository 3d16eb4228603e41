"""Benchmark of ``c7n-keyage report`` over a year of a fleet: ``python -m benchmarks.overview``.

1,000 accounts with 100 stale keys each, a report-only run per account every day for 365
days (by default), then a daily update:

- the first build: every run of the year read, folded and saved to a history file, by the
  report's own reader (``inputs.read_stores``: both passes, decode, parse) and fleet, from a
  synthetic store that lists the runs and serves each file's bytes as c7n writes them
  (``indent=2``), made on the fly from templates: the year's 33 GB of files are never
  written. Its process's peak memory and time are measured; the time spent making the
  bytes is measured apart and taken out.
- the daily update: the next day's 1,000 runs written as files (c7n-org's layout), then the
  installed console script, as a user runs it: ``c7n-keyage report DAY --history FILE
  --html --json --csv``. Its process's peak memory, wall and CPU time are measured.

Before any figure counts, the report's numbers are checked against the fleet's own: every
point of the trend, the totals. Prints a markdown table and writes it into
docs/performance.md between its markers (``--no-write`` to skip). Nothing is asserted on
time: the figures are printed, beside the targets.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import pathlib
import platform
import re
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass

from c7n.utils import dumps

from c7n_keyage.overview import history
from c7n_keyage.overview.fleet import Fleet
from c7n_keyage.overview.inputs import RunFiles, read_stores
from tests.support.fleet import (
    REGION,
    REPORT_POLICY,
    Account,
    add_keys,
    metadata_of,
    resources_at,
)

DOCS = pathlib.Path(__file__).parent.parent / "docs" / "performance.md"
MARKERS = ("<!-- overview-benchmark:start -->\n", "<!-- overview-benchmark:end -->")
SCRIPT = pathlib.Path(sys.executable).parent / "c7n-keyage"
FIRST = datetime.datetime(2025, 12, 2, 6, tzinfo=datetime.timezone.utc)
TARGET_MB, TARGET_DAILY_S = 500, 15.0
SHAPES = 10  # distinct fleets of keys; account i has shape i % SHAPES, its own name and ID
_AGE = re.compile(rb'"(days_since_use|days_since_rotation)": (\d+)')


def account_of(i: int) -> tuple[str, str]:
    return f"{100000000000 + i:012d}", f"acct-{i:04d}"


@dataclass
class Shape:
    """One account's resources.json as c7n writes it, as a template: its name and ID, and
    each key's age (days since use or since creation), which grows by one each day."""

    template: bytes
    ages: list[int]

    def resources(self, account: str, name: str, day: int) -> bytes:
        values = {b"name": name.encode(), b"account": account.encode()}
        values |= {b"a%d" % i: age + day for i, age in enumerate(self.ages)}
        return self.template % values


def shape(keys: int, seed: int) -> Shape:
    import random

    account = Account("@ACCOUNT@", "@NAME@")
    add_keys(account, random.Random(seed), keys, FIRST)
    text = dumps(resources_at(account, FIRST, False), indent=2).encode().replace(b"%", b"%%")
    text = text.replace(b"@NAME@", b"%(name)s").replace(b"@ACCOUNT@", b"%(account)s")
    ages: list[int] = []

    def slot(found: re.Match) -> bytes:
        ages.append(int(found.group(2)))
        return b'"%s": %%(a%d)d' % (found.group(1), len(ages) - 1)

    return Shape(_AGE.sub(slot, text), ages)


class SyntheticStore:
    """The year's runs as c7n-org leaves them (``<date>/<account>/<region>/<policy>/``),
    listed, and each file's bytes made when it is read. ``making`` is the time spent
    making bytes: the benchmark takes it out of the build's."""

    threads = 0

    def __init__(self, accounts: int, keys: int, dates: int) -> None:
        self.label = f"synthetic: {accounts} accounts x {keys} keys x {dates} dates"
        self.accounts, self.dates = accounts, dates
        self.shapes = [shape(keys, seed) for seed in range(SHAPES)]
        self.making = 0.0

    def listing(self, problems: list[str]):
        names = ("metadata.json", "resources.json")
        for day in range(self.dates):
            date = (FIRST + datetime.timedelta(days=day)).date().isoformat()
            for i in range(self.accounts):
                parts = (date, account_of(i)[1], REGION, REPORT_POLICY["name"])
                yield RunFiles("/".join(parts), names[1], names[0], parts[:-1], None)

    def read(self, where: str, name: str, cap: int) -> bytes:
        began = time.perf_counter()
        date, name_of, _, _ = where.split("/")
        i = int(name_of.removeprefix("acct-"))
        account, _ = account_of(i)
        day = (datetime.date.fromisoformat(date) - FIRST.date()).days
        if name == "resources.json":
            data = self.shapes[i % SHAPES].resources(account, name_of, day)
        else:
            started = FIRST + datetime.timedelta(days=day, seconds=i)
            data = dumps(metadata_of(REPORT_POLICY, Account(account, name_of), started, "out"))
            data = data.encode()
        self.making += time.perf_counter() - began
        return data


def build(accounts: int, keys: int, dates: int, kept: pathlib.Path) -> dict:
    """The first build, in this process: what the report's reader and fleet do with a year."""
    store = SyntheticStore(accounts, keys, dates)
    began = time.perf_counter()
    runs, stats = read_stores([store], print)
    fleet = Fleet()
    for run in runs:
        fleet.add(run)
    fleet.close()
    history.save(fleet, kept)
    took = time.perf_counter() - began
    points = [p["stale_keys"] for p in fleet.points]
    if points != [accounts * keys] * dates or stats.runs_read != accounts * dates:
        raise SystemExit(f"the build's figures are not the fleet's: {points[:3]}...")
    return {"seconds": took - store.making, "making": store.making, "runs": stats.runs_read}


def measured(command: list) -> tuple[float, float, float, str]:
    """Run ``command``: (wall s, CPU s, peak RSS MB, stdout), from its own rusage."""
    began = time.perf_counter()
    process = subprocess.Popen([str(c) for c in command], stdout=subprocess.PIPE, text=True)
    out = process.stdout.read()
    _, status, usage = os.wait4(process.pid, 0)
    process.returncode = os.waitstatus_to_exitcode(status)
    wall = time.perf_counter() - began
    if process.returncode != 0:
        raise SystemExit(f"{command[:3]} exited {process.returncode}")
    return wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024, out


def write_day(store: SyntheticStore, day: int, root: pathlib.Path) -> pathlib.Path:
    """The day's runs as files, where c7n-org writes them."""
    date = (FIRST + datetime.timedelta(days=day)).date().isoformat()
    for i in range(store.accounts):
        name = account_of(i)[1]
        where = "/".join((date, name, REGION, REPORT_POLICY["name"]))
        directory = root / where
        directory.mkdir(parents=True)
        for file in ("metadata.json", "resources.json"):
            (directory / file).write_bytes(store.read(where, file, 0))
    return root / date


def daily(args, work: pathlib.Path, kept: pathlib.Path) -> dict:
    store = SyntheticStore(args.accounts, args.keys, args.dates + 1)
    day = write_day(store, args.dates, work / "out")
    out = {kind: work / f"keys.{kind}" for kind in ("html", "json", "csv")}
    command = [SCRIPT, "report", day, "--history", kept]
    command += [arg for kind, path in out.items() for arg in (f"--{kind}", path)]
    wall, cpu, peak, _ = measured(command)
    found = json.loads(out["json"].read_text())
    stale = args.accounts * args.keys
    if [p["stale_keys"] for p in found["runs"]] != [stale] * (args.dates + 1):
        raise SystemExit("the daily update's trend is not the fleet's")
    if found["totals"]["stale_keys"] != stale or found["inputs"]["runs_read"] != args.accounts:
        raise SystemExit("the daily update's figures are not the fleet's")
    sizes = {kind: path.stat().st_size / 1e6 for kind, path in out.items()}
    return {"wall": wall, "cpu": cpu, "peak_mb": peak, "sizes": sizes}


def _verdict(value: float, target: float) -> str:
    return f"< {target:g}: " + ("**met**" if value < target else "**MISSED**")


def table(args, built: dict, day: dict, history_mb: float) -> str:
    sizes = day["sizes"]
    rows = [
        ("fleet", f"{args.accounts:,} accounts x {args.keys} stale keys, a run a day for "
         f"{args.dates} days: {built['runs']:,} runs, "
         f"{built['runs'] * args.keys:,} stale-key entries", ""),
        ("first build (the year, in one process), s", f"{built['seconds']:,.0f} "
         f"(plus {built['making']:,.0f} s making the files' bytes, taken out)", "recorded"),
        ("first build, peak memory of its process, MB", f"{built['peak_mb']:,.0f}",
         _verdict(built["peak_mb"], TARGET_MB)),
        ("**daily update** (`c7n-keyage report DAY --history FILE --html --json --csv`), "
         "wall s", f"**{day['wall']:.1f}** (CPU {day['cpu']:.1f})",
         _verdict(day["wall"], TARGET_DAILY_S)),
        ("daily update, peak memory of its process, MB", f"{day['peak_mb']:,.0f}",
         _verdict(day["peak_mb"], TARGET_MB)),
        ("history file / HTML / JSON / CSV, MB",
         f"{history_mb:.1f} / {sizes['html']:.1f} / {sizes['json']:.1f} / {sizes['csv']:.1f}", ""),
    ]  # fmt: skip
    load = os.getloadavg()[0]
    return "\n".join(
        [
            "## Benchmark: `c7n-keyage report` over a year of a fleet",
            "",
            f"Command: `make bench-overview` (`python -m benchmarks.overview`). Machine: "
            f"{os.cpu_count()} CPUs ({platform.processor() or platform.machine()}), Python "
            f"{platform.python_version()}, {platform.system()}; load average at end {load:.2f}. "
            f"Run {datetime.date.today().isoformat()}.",
            "",
            "| measure | figure | target |",
            "|---|---|---|",
            *(f"| {label} | {figure} | {target} |" for label, figure, target in rows),
            "",
            "Method. The first build runs the report's own reader (`inputs.read_stores`: the "
            "first pass over every run's `metadata.json`, then each run loaded in the order "
            "they started: decode, parse) and fleet over a synthetic store that lists the "
            "year's runs in c7n-org's layout and makes each file's bytes when it is read, as c7n "
            "writes them (`indent=2`), from templates: the year's files are never written; "
            "the time spent making bytes is measured and taken out. Then it saves the history "
            "file. The daily update writes the next day's 1,000 runs as files and runs the "
            "installed console script on them with that history, as a user's daily job does. "
            "Peak memory is each process's own (`wait4`'s rusage). Before any figure counts, "
            "every point of the trend and the totals are checked equal to the fleet's own "
            "(every key stale every day).",
            "",
        ]
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--accounts", type=int, default=1_000)
    parser.add_argument("--keys", type=int, default=100, help="stale keys per account")
    parser.add_argument("--dates", type=int, default=365, help="daily run dates in the build")
    parser.add_argument("--no-write", action="store_true", help="print only")
    parser.add_argument("--build-into", type=pathlib.Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.build_into:  # the first build, in its own process for its peak memory
        print(json.dumps(build(args.accounts, args.keys, args.dates, args.build_into)))
        return 0
    with tempfile.TemporaryDirectory(prefix="keyage-overview-bench-") as tmp:
        work, kept = pathlib.Path(tmp), pathlib.Path(tmp) / "history.json"
        shape_args = ["--accounts", args.accounts, "--keys", args.keys, "--dates", args.dates]
        print(f"first build: {args.accounts} x {args.keys} x {args.dates} ...", file=sys.stderr)
        command = [sys.executable, "-m", "benchmarks.overview", *shape_args, "--build-into", kept]
        _, _, peak, out = measured(command)
        built = json.loads(out.splitlines()[-1]) | {"peak_mb": peak}
        print("daily update ...", file=sys.stderr)
        day = daily(args, work, kept)
        text = table(args, built, day, kept.stat().st_size / 1e6)
    print(text)
    if not args.no_write:
        docs = DOCS.read_text()
        start, end = MARKERS
        head, _, rest = docs.partition(start)
        _, _, tail = rest.partition(end)
        DOCS.write_text(head + start + text + end + tail)
    return 0


if __name__ == "__main__":
    sys.exit(main())
