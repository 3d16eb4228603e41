"""Benchmark of ``c7n-keyage report`` at scale: ``python -m benchmarks.overview``.

Writes c7n-org output for a synthetic fleet (1,000 accounts with 100 stale keys each, by
default; ``tests/support/fleet.py``: c7n's metadata.json and resources.json, the plugin's own
annotation entries) for one run date and for several weekly dates, checks that the report's
figures equal the fleet's own count, then times the console script end to end (a subprocess,
as a user runs it) and the phases in this process (read, aggregate, render, JSON), and
reports the sizes. Prints a markdown table and writes it into docs/performance.md between
its markers (``--no-write`` to skip). Nothing is asserted on time: the figures are printed.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import pathlib
import platform
import resource
import shutil
import statistics as st
import subprocess
import sys
import tempfile
import time

from c7n_keyage.overview.aggregate import aggregate
from c7n_keyage.overview.read import read_inputs
from c7n_keyage.overview.render import render_html
from tests.support.fleet import as_truth, scale_fleet, truth, write_fleet

DOCS = pathlib.Path(__file__).parent.parent / "docs" / "performance.md"
MARKERS = ("<!-- overview-benchmark:start -->\n", "<!-- overview-benchmark:end -->")
SCRIPT = pathlib.Path(sys.executable).parent / "c7n-keyage"
LAST = datetime.datetime(2026, 12, 2, 6, tzinfo=datetime.timezone.utc)
TARGET_S, TARGET_MB = 10.0, 5.0


def _dir_bytes(root: pathlib.Path) -> int:
    return sum(p.stat().st_size for p in root.rglob("*") if p.is_file())


def measure(accounts: int, keys: int, dates: int, repeats: int, work: pathlib.Path) -> dict:
    """One configuration: the fleet written, checked, then timed."""
    root = work / f"fleet-{dates}"
    days = [LAST - datetime.timedelta(weeks=w) for w in reversed(range(dates))]
    # All keys stale from the first date on, so each account has `keys` stale keys.
    fleet = scale_fleet(accounts, keys, days[0])
    began = time.perf_counter()
    write_fleet(root, fleet, days)
    written = time.perf_counter() - began
    input_bytes = _dir_bytes(root)

    phases: dict[str, list[float]] = {"read": [], "aggregate": [], "render": [], "json": []}
    for _ in range(repeats):
        t0 = time.perf_counter()
        runs, stats = read_inputs([str(root)], warn=print)
        t1 = time.perf_counter()
        overview = aggregate(runs)
        overview["inputs"] = stats.as_dict()
        t2 = time.perf_counter()
        html = render_html(overview)
        t3 = time.perf_counter()
        text = json.dumps(overview, indent=1)
        t4 = time.perf_counter()
        for name, seconds in zip(phases, (t1 - t0, t2 - t1, t3 - t2, t4 - t3), strict=True):
            phases[name].append(seconds)
        del runs
    # The figures must be right before their time counts.
    if as_truth(overview) != truth(fleet, days):
        raise SystemExit(f"the report's figures differ from the fleet's own count ({dates} dates)")
    if overview["totals"]["stale_keys"] != accounts * keys:
        raise SystemExit("the fleet does not have the stale keys it was made with")

    wall, cpu = [], []
    out = work / "out"
    for _ in range(repeats):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        t0 = time.perf_counter()
        subprocess.run(
            [
                SCRIPT,
                "report",
                root,
                "--json",
                out.with_suffix(".json"),
                "--html",
                out.with_suffix(".html"),
            ],
            check=True,
            capture_output=True,
        )
        wall.append(time.perf_counter() - t0)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu.append(after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime)
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024  # KiB on Linux
    if out.with_suffix(".json").read_text() != text + "\n":
        raise SystemExit("the console script's JSON differs from the in-process one")
    shutil.rmtree(root)
    return {
        "dates": dates,
        "runs": accounts * dates,
        "keys_read": accounts * keys * dates,
        "written_s": written,
        "wall": wall,
        "cpu": cpu,
        "peak_mb": peak,
        "phases": phases,
        "html_bytes": len(html.encode()),
        "json_bytes": len(text.encode()) + 1,
        "input_bytes": input_bytes,
    }


def _mb(n_bytes: int) -> str:
    value = n_bytes / 1e6
    return f"{value:.2f}" if value < 10 else f"{value:.0f}"


def _s(values: list[float]) -> str:
    value = st.median(values)
    return f"{value:.2f}" if value < 10 else f"{value:.1f}"


def table(results: list[dict], accounts: int, keys: int, repeats: int) -> str:
    cols = [f"{r['dates']} run date{'s' if r['dates'] > 1 else ''}" for r in results]
    rows = [
        (
            "runs read (accounts x dates) / stale keys read",
            lambda r: f"{r['runs']:,} / {r['keys_read']:,}",
            "",
        ),
        ("input on disk, MB (c7n's indented JSON)", lambda r: _mb(r["input_bytes"]), ""),
        (
            "**`c7n-keyage report` end to end, wall s, median**",
            lambda r: f"**{_s(r['wall'])}**",
            f"< {TARGET_S:g} s",
        ),
        ("of it CPU s (user+sys), median", lambda r: _s(r["cpu"]), ""),
        ("peak memory of the process, MB", lambda r: f"{r['peak_mb']:.0f}", ""),
        (
            "in-process phases, median s: read (list, load, parse)",
            lambda r: _s(r["phases"]["read"]),
            "",
        ),
        ("aggregate", lambda r: _s(r["phases"]["aggregate"]), ""),
        ("render HTML", lambda r: _s(r["phases"]["render"]), ""),
        ("JSON (dumps)", lambda r: _s(r["phases"]["json"]), ""),
        (
            "**HTML size, MB** / JSON size, MB",
            lambda r: f"**{_mb(r['html_bytes'])}** / {_mb(r['json_bytes'])}",
            f"HTML < {TARGET_MB:g} MB",
        ),
    ]
    met = []
    for r in results:
        met.append(st.median(r["wall"]) < TARGET_S and r["html_bytes"] / 1e6 < TARGET_MB)
    lines = [
        f"| {accounts:,} accounts x {keys} stale keys | " + " | ".join(cols) + " | target |",
        "|---" * (len(cols) + 2) + "|",
    ]
    for label, cell, target in rows:
        verdict = ""
        if target:
            verdict = f"{target}: " + ("**met**" if all(met) else "**MISSED**")
        lines.append(f"| {label} | " + " | ".join(cell(r) for r in results) + f" | {verdict} |")
    load = os.getloadavg()[0]
    return "\n".join(
        [
            "## Benchmark: `c7n-keyage report` over a fleet",
            "",
            f"Command: `make bench-overview` (`python -m benchmarks.overview`). Machine: "
            f"{os.cpu_count()} CPUs ({platform.processor() or platform.machine()}), Python "
            f"{platform.python_version()}, {platform.system()}; load average at end {load:.2f}. "
            f"Run {datetime.date.today().isoformat()}; {repeats} repeats, medians.",
            "",
            *lines,
            "",
            "Method. A synthetic fleet written as c7n-org writes (`<date>/<account>/<region>/"
            "<policy>/`, c7n's `metadata.json` and `resources.json` with `indent=2`, each user "
            "as `GetUser` returns it plus the plugin's own `c7n:unused-keys` and "
            "`c7n:matched-keys`), users with one or two keys, all stale; several dates are "
            "weekly runs of the same fleet. Before any timing, the report's figures are checked "
            "equal to a count made from the fleet's own keys, and the console script's JSON "
            "equal to the in-process one. End to end is the installed `c7n-keyage report DIR "
            "--json F --html F` as a subprocess, interpreter start-up included; the phases are "
            "the same functions timed in the benchmark's process (files in the page cache "
            "after the first repeat, as on a runner that has just written them). The process "
            "holds every run's keys until they are aggregated: its memory grows with the runs "
            "read.",
            "",
        ]
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--accounts", type=int, default=1_000)
    parser.add_argument("--keys", type=int, default=100, help="stale keys per account")
    parser.add_argument("--dates", default="1,4", help="run dates per configuration")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--no-write", action="store_true", help="print only")
    args = parser.parse_args(argv)
    results = []
    with tempfile.TemporaryDirectory(prefix="keyage-overview-bench-") as tmp:
        for dates in (int(d) for d in args.dates.split(",")):
            print(
                f"{args.accounts:,} accounts x {args.keys} keys, {dates} date(s) ...",
                file=sys.stderr,
            )
            results.append(
                measure(args.accounts, args.keys, dates, args.repeats, pathlib.Path(tmp))
            )
    text = table(results, args.accounts, args.keys, args.repeats)
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
