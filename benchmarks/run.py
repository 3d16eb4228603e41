"""Run the benchmark: ``make bench`` (or ``python -m benchmarks.run`` from the repo root).

Prints markdown tables for whole ``custodian run`` processes against a local endpoint
(``wholerun.py``), for the filter step alone (``filterstep.py``) and for start-up, with the
machine facts, and writes the same text to ``benchmarks/latest.md`` and to its block in
``docs/performance.md`` (the README sums it up and links there).
The total time is printed at the end (the table says it). ``--sizes 100,1000
--wholerun-sizes 100 --no-startup --no-write`` (or ``--no-wholerun``) gives a quick look while
developing.
"""

from __future__ import annotations

import argparse
import datetime
import importlib.metadata
import logging
import os
import pathlib
import platform
import statistics as st
import sys
import time

from benchmarks import startup, wholerun
from benchmarks.filterstep import SizeResult, measure_size
from benchmarks.synthetic import DAYS, SEED, make_account
from benchmarks.tables import calls, goal, markdown, verdict

LATEST = pathlib.Path(__file__).parent / "latest.md"
DOCS = pathlib.Path(__file__).parent.parent / "docs" / "performance.md"
# docs/performance.md shows the latest figures between these markers (tests/repo/test_readme.py
# checks); the README keeps a summary, so its readers are not handed the long tables.
MARKERS = ("<!-- benchmark:start -->\n", "<!-- benchmark:end -->")
SIZES = (100, 1_000, 5_000, 50_000)
# Fewer repeats where one repeat takes seconds; real boto3 clients are not timed at 50,000.
REPEATS = {100: 21, 1_000: 11, 5_000: 7, 50_000: 3}
BOTO3_REPEATS = {100: 11, 1_000: 7, 5_000: 5, 50_000: 0}
TARGET_N = 5_000
BIG_N = 50_000


def ms(seconds: float) -> str:
    value = seconds * 1000
    return f"{value:.2f}" if value < 10 else f"{value:.1f}" if value < 100 else f"{value:.0f}"


def mb(n_bytes: int) -> str:
    return f"{n_bytes / 1e6:.2f}"


class _FilterTable:
    """The filter table being built: its columns (one per size), the results at the sizes
    its targets are judged at (when this run has them), the targets judged and the rows."""

    def __init__(self, results: list[SizeResult]) -> None:
        self.results = results
        self.by_n = {r.n: r for r in results}
        self.sizes = [r.n for r in results]
        self.target = self.by_n.get(TARGET_N)
        self.big = self.by_n.get(BIG_N)
        self.met: dict[str, bool] = {}
        self.rows: list[list[str]] = []

    def growth(self, value) -> str:
        if self.target is None or self.big is None:
            return ""
        return f"{value(self.big) / value(self.target):.1f}x"

    def row(self, label: str, cell, grow: str = "", target: str = "") -> None:
        self.rows.append([label, *(cell(self.by_n[n]) for n in self.sizes), grow, target])


def filter_table(results: list[SizeResult]) -> tuple[str, dict[str, bool]]:
    table = _FilterTable(results)
    _speed_rows(table)
    _other_route_rows(table)
    _call_rows(table)
    _memory_rows(table)
    _remove_keys_rows(table)
    _remove_keys_total_rows(table)
    _remove_keys_cost_rows(table)
    table.row(
        "repeats (in-memory client / real boto3 clients)",
        lambda r: f"{r.repeats} / {r.boto3_repeats}",
    )
    header = [
        "filter step, per account",
        *(f"N = {n:,}" for n in table.sizes),
        "50k / 5k",
        "target",
    ]
    return markdown(header, table.rows), table.met


def _median(name: str):
    return lambda r: r.routes[name].median


def _ratio(r: SizeResult, a: str = "plugin", b: str = "builtin") -> float:
    return r.routes[a].median / r.routes[b].median


def _cpu_ratio(r: SizeResult) -> float:
    return r.routes["plugin"].median_cpu / r.routes["builtin"].median_cpu


def _speed_rows(table: _FilterTable) -> None:
    """Who each route matched, then the plugin against the built-in recipe: time, growth
    from 5,000 to 50,000 users, full collections, and their ratio."""
    target, big, met = table.target, table.big, table.met
    table.row(
        "users matched: (1) / (2) / (3)",
        lambda r: " / ".join(
            str(len(r.routes[k].matched)) for k in ("plugin", "builtin", "access")
        ),
    )
    linear = _median("plugin")(big) / _median("plugin")(target) <= 12 if target and big else None
    table.row(
        "**(1) access-key-unused**, filter step, median ms",
        lambda r: ms(_median("plugin")(r)),
        table.growth(_median("plugin")),
        goal(
            met,
            "linear growth",
            linear,
            "<= ~12x",
        ),
    )
    table.row(
        "**(2) built-in recipe**, 2 `credential` filters, cache off, median ms",
        lambda r: ms(_median("builtin")(r)),
        table.growth(_median("builtin")),
    )
    table.row(
        "of which CPython full GC collections (count, ms, median): (1) / (2)",
        lambda r: " / ".join(
            f"{r.routes[k].median_full_gc[0]:g}, {ms(r.routes[k].median_full_gc[1])}"
            for k in ("plugin", "builtin")
        ),
    )
    table.row(
        "**ratio (1)/(2)**, wall (CPU)",
        lambda r: f"{_ratio(r):.2f} ({_cpu_ratio(r):.2f})",
        "",
        goal(met, "ratio at 5,000", _ratio(target) <= 0.25 if target else None, "<= 0.25 at 5,000"),
    )


def _other_route_rows(table: _FilterTable) -> None:
    """The built-in recipe sharing one fetch, the access-key route, and the ratio through
    real boto3 clients."""
    table.row(
        "(2b) built-in recipe, its 2 filters sharing 1 fetch+parse (c7n cache), median ms",
        lambda r: ms(_median("shared")(r)),
        table.growth(_median("shared")),
    )
    table.row("ratio (1)/(2b)", lambda r: f"{_ratio(r, b='shared'):.2f}")
    table.row(
        "(3) `access-key` route (ListAccessKeys per user), median ms",
        lambda r: ms(_median("access")(r)),
        table.growth(_median("access")),
    )
    table.row(
        "ratio (1)/(2) through real boto3 clients (botocore, answers in memory)",
        lambda r: (
            f"{r.boto3_routes['plugin'].median / r.boto3_routes['builtin'].median:.2f}"
            if r.boto3_routes
            else "not run"
        ),
    )


def _call_rows(table: _FilterTable) -> None:
    """The IAM calls of each route's filter step, on a fresh report and on an old one."""
    results = table.results
    plugin_calls = {calls(r.routes["plugin"].calls) for r in results}
    table.row(
        "IAM calls, fresh report: (1)",
        lambda r: calls(r.routes["plugin"].calls),
        "",
        goal(
            table.met,
            "report-only calls",
            len(plugin_calls) == 1
            and all(sum(r.routes["plugin"].calls.values()) <= 2 for r in results),
            "<= 2, constant in N",
        ),
    )
    table.row("IAM calls, fresh report: (2)", lambda r: calls(r.routes["builtin"].calls))
    table.row("IAM calls, fresh report: (2b)", lambda r: calls(r.routes["shared"].calls))
    table.row("IAM calls: (3)", lambda r: calls(r.routes["access"].calls))
    table.row(
        "IAM calls, report 2 days old: (1) / (2)",
        lambda r: (
            f"{sum(r.regenerate_calls['plugin'].values())} / "
            f"{sum(r.regenerate_calls['builtin'].values())}"
        ),
    )


def _memory_rows(table: _FilterTable) -> None:
    """Peak memory each route's filter step adds."""
    target = table.target
    table.row(
        "peak memory added, MB (tracemalloc): (1)",
        lambda r: mb(r.routes["plugin"].peak_bytes),
        table.growth(lambda r: r.routes["plugin"].peak_bytes),
        goal(
            table.met,
            "peak memory",
            target.routes["plugin"].peak_bytes < 50e6 if target else None,
            "< 50 MB at 5,000",
        ),
    )
    table.row(
        "peak memory added, MB: (2) / (2b) / (3)",
        lambda r: " / ".join(mb(r.routes[k].peak_bytes) for k in ("builtin", "shared", "access")),
    )


RK = "with `remove-keys`:"


def _remove_keys_rows(table: _FilterTable) -> None:
    """With ``remove-keys``: whom the per-user calls named, and the keys each route disabled."""
    table.row(
        f"{RK} per-user calls, (1): ListAccessKeys + GetAccessKeyLastUsed "
        "(users flagged / their active keys), per flagged user",
        lambda r: (
            f"{_rk(r, 'ListAccessKeys')} + {_rk(r, 'GetAccessKeyLastUsed')} "
            f"({r.remove_keys['plugin'].matched} / {r.flagged_active_keys}), "
            f"{_per_user(r):.2f}"
        ),
        "",
        goal(
            table.met,
            "per-user calls for flagged users only",
            all(
                _rk(r, "ListAccessKeys") == r.remove_keys["plugin"].matched
                and _rk(r, "GetAccessKeyLastUsed") == r.flagged_active_keys
                for r in table.results
            ),
            "1 ListAccessKeys per flagged user + 1 GetAccessKeyLastUsed per active key of "
            "one, none for other users",
        ),
    )
    table.row(
        f"{RK} ListAccessKeys / users matched / users with nothing to act on, (2)",
        lambda r: (
            f"{r.remove_keys['builtin'].total_calls['ListAccessKeys']} / "
            f"{r.remove_keys['builtin'].matched} / {r.builtin_idle_users}"
        ),
    )
    table.row(
        f"{RK} keys disabled, (1) / (2)",
        lambda r: (
            f"{r.remove_keys['plugin'].total_calls['UpdateAccessKey']} / "
            f"{r.remove_keys['builtin'].total_calls['UpdateAccessKey']}"
        ),
    )
    table.row(
        f"{RK} IAM calls by action, filter + action, (1)",
        lambda r: calls(r.remove_keys["plugin"].total_calls),
    )


def _remove_keys_total_rows(table: _FilterTable) -> None:
    """With ``remove-keys``: all the calls of the filter and the action, on the realistic
    report and on one where both routes disable the same keys."""
    table.row(
        f"{RK} IAM calls in all, filter + action, (1) / (2)",
        lambda r: f"{_total(r.remove_keys, 'plugin')} / {_total(r.remove_keys, 'builtin')}",
        "",
        goal(
            table.met,
            "calls with remove-keys, realistic report",
            all(
                _total(r.remove_keys, "plugin") <= _total(r.remove_keys, "builtin")
                for r in table.results
            ),
            "(1) <= (2)",
            "(1) reads each flagged user's active keys' last use live, and also disables "
            "the never-used keys (2) cannot see",
        ),
    )
    table.row(
        f"{RK} the same on a report with no never-used key (both disable the same keys): "
        "IAM calls in all / keys disabled, (1) vs (2)",
        lambda r: (
            f"{_total(r.remove_keys_equal, 'plugin')} / "
            f"{r.remove_keys_equal['plugin'].total_calls['UpdateAccessKey']} vs "
            f"{_total(r.remove_keys_equal, 'builtin')} / "
            f"{r.remove_keys_equal['builtin'].total_calls['UpdateAccessKey']}"
        ),
        "",
        goal(
            table.met,
            "calls with remove-keys, same keys disabled",
            all(
                _total(r.remove_keys_equal, "plugin") <= _total(r.remove_keys_equal, "builtin")
                for r in table.results
            ),
            "(1) <= (2)",
            "1 GetAccessKeyLastUsed per active key of a flagged user, a live check (2) never makes",
        ),
    )


def _remove_keys_cost_rows(table: _FilterTable) -> None:
    """With ``remove-keys``: the calls per key disabled, and the time through real boto3
    clients."""
    table.row(
        f"{RK} IAM calls per key disabled, (1) / (2)",
        lambda r: f"{_per_key(r, 'plugin'):.2f} / {_per_key(r, 'builtin'):.2f}",
    )
    table.row(
        f"{RK} filter + action through real boto3 clients, ms, (1) / (2)",
        lambda r: (
            f"{ms(r.boto3_remove_keys['plugin'].total_seconds)} / "
            f"{ms(r.boto3_remove_keys['builtin'].total_seconds)}"
            if r.boto3_remove_keys
            else "not run"
        ),
    )


def _total(runs: dict, name: str) -> int:
    """All the IAM calls of one route's run with ``remove-keys``, filter and action."""
    return sum(runs[name].total_calls.values())


def _rk(r: SizeResult, operation: str) -> int:
    return r.remove_keys["plugin"].total_calls[operation]


def _per_user(r: SizeResult) -> float:
    per_user = _rk(r, "ListAccessKeys") + _rk(r, "GetAccessKeyLastUsed")
    return per_user / max(r.remove_keys["plugin"].matched, 1)


def _per_key(r: SizeResult, name: str) -> float:
    total = r.remove_keys[name].total_calls
    return sum(total.values()) / max(total["UpdateAccessKey"], 1)


def startup_table(result: startup.StartupResult) -> tuple[str, dict[str, bool]]:
    """Targets are judged on CPU time: wall time on a shared machine mostly measures the load."""
    bare_w, bare_p = result.bare_without, result.bare_with
    val_w, val_p = result.validate_builtin_without, result.validate_builtin_with
    extra = _cpu_ms(bare_p) - _cpu_ms(bare_w)
    slower = _cpu_ms(val_p) / _cpu_ms(val_w) - 1
    met = {"start-up": extra < 5, "validate": slower <= 0.05}
    rows = _bare_start_rows(result, met) + _validate_rows(result, met)
    header = ["start-up", "without plugin", "with plugin", "difference", "target"]
    return markdown(header, rows), met


def _wall_ms(samples) -> float:
    return st.median(w for w, _ in samples) * 1000


def _cpu_ms(samples) -> float:
    return st.median(c for _, c in samples) * 1000


def _best_ms(samples) -> float:
    return min(w for w, _ in samples) * 1000


def _diff(without: float, with_: float) -> str:
    return f"{with_ - without:+.1f} ({(with_ / without - 1) * 100:+.1f}%)"


def _bare_start_rows(result: startup.StartupResult, met: dict[str, bool]) -> list[list[str]]:
    """``python -c pass`` without and with the plugin's ``.pth``."""
    bare_w, bare_p = result.bare_without, result.bare_with
    bare_import = st.median(result.import_us) / 1000
    return [
        [
            "`python -c pass`, wall ms, median (min)",
            f"{_wall_ms(bare_w):.1f} ({_best_ms(bare_w):.1f})",
            f"{_wall_ms(bare_p):.1f} ({_best_ms(bare_p):.1f})",
            _diff(_wall_ms(bare_w), _wall_ms(bare_p)),
            "",
        ],
        [
            "`python -c pass`, CPU ms (user+sys), median",
            f"{_cpu_ms(bare_w):.1f}",
            f"{_cpu_ms(bare_p):.1f}",
            _diff(_cpu_ms(bare_w), _cpu_ms(bare_p)),
            f"< 5 ms: {verdict(met['start-up'])}",
        ],
        [
            "  of which the plugin's `.pth` import (`-X importtime`, median)",
            "",
            f"{bare_import:.2f}",
            "",
            "",
        ],
    ]


def _validate_rows(result: startup.StartupResult, met: dict[str, bool]) -> list[list[str]]:
    """``custodian validate`` without and with the plugin, and of the plugin's policies."""
    val_w, val_p = result.validate_builtin_without, result.validate_builtin_with
    validate_import = st.median(result.validate_import_us) / 1000
    plugin = result.validate_plugin_with
    return [
        [
            "`custodian validate` built-in-only policies, wall ms, median (min)",
            f"{_wall_ms(val_w):.0f} ({_best_ms(val_w):.0f})",
            f"{_wall_ms(val_p):.0f} ({_best_ms(val_p):.0f})",
            _diff(_wall_ms(val_w), _wall_ms(val_p)),
            "",
        ],
        [
            "`custodian validate` built-in-only policies, CPU ms, median",
            f"{_cpu_ms(val_w):.0f}",
            f"{_cpu_ms(val_p):.0f}",
            _diff(_cpu_ms(val_w), _cpu_ms(val_p)),
            f"<= 5% slower: {verdict(met['validate'])}",
        ],
        [
            "  of which the plugin's modules (`-X importtime`, median)",
            "",
            f"{validate_import:.1f} ({validate_import / _cpu_ms(val_w) * 100:.1f}%)",
            "",
            "",
        ],
        [
            f"`custodian validate policies/*.yml` ({len(result.plugin_policies)} files), "
            "wall / CPU ms, median",
            "fails (filter unknown)",
            f"{_wall_ms(plugin):.0f} / {_cpu_ms(plugin):.0f}",
            "",
            "",
        ],
    ]


def _cpu_model() -> str:
    try:
        for line in pathlib.Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.machine()


def machine() -> str:
    load = os.getloadavg()
    return (
        f"Machine: {os.cpu_count()} CPUs ({_cpu_model()}), Python {startup.python_version()}"
        f" ({platform.python_implementation()}), c7n {importlib.metadata.version('c7n')}, "
        f"boto3 {importlib.metadata.version('boto3')}, {platform.system()}; "
        f"load average at start {load[0]:.2f}"
    )


NOTES = f"""\
Method. Synthetic credential reports in AWS's format (22 columns, `<root_account>` row, `N/A`,
`no_information`, `not_supported`; `Content` as plain CSV text), seed {SEED}: 15% of users
without keys, 60% with one, 25% with two; 15% of keys inactive, 15% never used, last use and
creation spread over years; slot 1 is sometimes the newer key. The built-in recipe cannot see
never-used keys (cloud-custodian #9472), so with `remove-keys` the plugin disables more keys and
makes more calls; a second report with no never-used key compares the two on the same keys.
"With `remove-keys`" means the policy also has `remove-keys` (`matched: true`, `disable: true`)
and counts the calls of the filter step and the action together. (1) then confirms each
report-flagged user's keys live before acting: one ListAccessKeys per flagged user and one
GetAccessKeyLastUsed per active key of that user (answered from the generator's truth, so live
data and report agree); (2) acts on the report alone.
The iam-user resources are built directly (ListUsers/GetUser, the same for every route here,
are left out: the whole-run table has them) and each policy, loaded and validated by c7n's
own loader, runs `policy.resource_manager.filter_resources(resources)`: the filter step, report
fetch and parse included. c7n's cache is off, so (1) fetches and parses once
and (2) twice, once per `credential` filter, as the issue specifies; (2b) gives the built-in
recipe the one shared fetch+parse that c7n's cache gives it in a `custodian run`. IAM is a small
in-memory client (what the timings use: no HTTP, no response parsing) that counts every call;
the "real boto3" rows run the same answers through botocore clients (a `before-call` hook), and
their call counts were checked equal. Routes alternate repeat by repeat; medians. The matched
users and disabled keys of every route, and whom each per-user call named, were checked
against the generator's truth. (3) cannot
see last use (ListAccessKeys has no such date; GetAccessKeyLastUsed would add a call per key),
so it stands for "active and created more than {DAYS} days ago" and is there for its call count.
Start-up: two throwaway venvs from the same interpreter, both reading the project's
site-packages through a path-only `.pth` and copies of its other `.pth` files; only one also
has `c7n_keyage.pth` (checked: the filter is registered in that one only). Runs alternate; wall
time of the whole process, and its CPU time (user+sys). Start-up targets are judged on CPU time:
on this shared machine other load swings wall time by far more than 5%."""


def main(argv: list[str] | None = None) -> int:
    args = _arguments(argv)
    # The filters log per-run warnings (none expected here); keep the table readable.
    logging.basicConfig(level=logging.ERROR)

    began = time.perf_counter()
    facts = machine()
    met: dict[str, bool] = {}
    parts = [
        "## Benchmark: access-key-unused vs the built-in filters",
        "",
        f"Command: `make bench` (`python -m benchmarks.run`). {facts}. "
        f"Run {datetime.date.today().isoformat()}.",
    ]
    parts += _tables(args, met)
    load = os.getloadavg()
    missed = sorted(name for name, ok in met.items() if not ok)
    minutes = (time.perf_counter() - began) / 60
    parts += [
        "",
        f"Targets missed: {'; '.join(missed) if missed else 'none'}. "
        f"Load average at end {load[0]:.2f}. This run of `make bench` took {minutes:.1f} min.",
        "",
        NOTES,
    ]
    if not args.no_wholerun:
        parts += ["", wholerun.NOTES]
    text = "\n".join(parts) + "\n"
    print(text)
    if not args.no_write:
        LATEST.write_text(text)
        write_docs(text)
    return 0


def _arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default=",".join(str(n) for n in SIZES))
    parser.add_argument("--no-startup", action="store_true")
    parser.add_argument("--no-wholerun", action="store_true")
    parser.add_argument("--wholerun-sizes", default=",".join(str(n) for n in wholerun.SIZES))
    parser.add_argument("--no-write", action="store_true")
    return parser.parse_args(argv)


def _tables(args: argparse.Namespace, met: dict[str, bool]) -> list[str]:
    """Measure, then tabulate, each after a blank line: whole runs, the filter step, start-up.
    Each table's targets go into ``met``."""
    parts = []
    if not args.no_wholerun:
        sizes = [int(s) for s in args.wholerun_sizes.split(",")]
        print(f"whole custodian runs, N = {sizes} ...", file=sys.stderr, flush=True)
        runs = wholerun.measure(sizes, lambda line: print(line, file=sys.stderr, flush=True))
        whole_table, whole_met = wholerun.table(runs)
        met.update(whole_met)
        parts += ["", whole_table]
    results = []
    for n in (int(s) for s in args.sizes.split(",")):
        print(f"measuring N = {n:,} ...", file=sys.stderr, flush=True)
        account = make_account(n)
        results.append(measure_size(account, REPEATS.get(n, 5), BOTO3_REPEATS.get(n, 0)))
    table, filter_met = filter_table(results)
    met.update(filter_met)
    parts += ["", table]
    if not args.no_startup:
        print("measuring start-up ...", file=sys.stderr, flush=True)
        start_table, start_met = startup_table(startup.measure_startup())
        met.update(start_met)
        parts += ["", start_table]
    return parts


def write_docs(text: str) -> None:
    docs = DOCS.read_text()
    start, end = MARKERS
    head, _, rest = docs.partition(start)
    _, _, tail = rest.partition(end)
    DOCS.write_text(head + start + text + end + tail)


if __name__ == "__main__":
    sys.exit(main())
