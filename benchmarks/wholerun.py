"""Whole ``custodian run`` processes against a local IAM endpoint, calls counted on its side.

Each run is the stock console script, ``custodian run -s <tmp> --cache-period 0
<policy.yml>``, as a subprocess with ``LocalIAM.env()``: moto's server runs in this process
(``tests/support/localiam.py``) and logs every request it answers, so calls are counted by action on
the endpoint, whatever the client does. Wall time is measured around the subprocess; the
custodian process's CPU time (``RUSAGE_CHILDREN``) and the endpoint's (this process) are
kept beside it.

The account is ``benchmarks/synthetic.py``'s (the same users, keys, ages and mix as the
filter-step table), seeded into moto's backend in process (``LocalIAM.seed_in_process``),
with every tenth user tagged ``keyage-exempt``. Before every run the endpoint is reset and
reseeded, so each configuration meets the same account (a ``remove-keys`` run disables keys)
and a "fresh endpoint" run meets no report yet. Every run is checked against the
generator's truth before its figures count: the users each policy returns, whom each
per-user call names, and, for ``remove-keys``, the keys disabled.
"""

from __future__ import annotations

import json
import pathlib
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone

import yaml
from moto.iam.models import iam_backends

from benchmarks.filterstep import BUILTIN, PLUGIN, REMOVE_KEYS
from benchmarks.synthetic import Account, make_account
from benchmarks.tables import calls, goal, markdown
from tests.support.localiam import DEFAULT_ACCOUNT_ID, Call, KeySpec, LocalIAM, UserSpec

SIZES = (100, 1_000, 5_000)
# Runs per configuration with a fresh report present, after one run on a fresh endpoint.
# The describe-source runs and remove-keys take tens of seconds each at 5,000 users.
REPEATS = {100: 5, 1_000: 3, 5_000: 3}
SLOW_REPEATS = {100: 5, 1_000: 3, 5_000: 2}
RATIO_FROM_N = 1_000  # the wall-time target holds at this many users and above
RATIO_TARGET = 0.25
FRESH_REPORT_CALLS = 4  # report calls at most, on an endpoint that must first generate one
EXEMPT_TAG = "keyage-exempt"
EXEMPT_EVERY = 10  # users 0, 10, 20, ... carry the tag
CUSTODIAN = pathlib.Path(sys.executable).parent / "custodian"
REPORT_CALLS = frozenset({"GetCredentialReport", "GenerateCredentialReport"})
# Per-user and per-key calls: the parameter naming what each call is about (a user or a key),
# which must differ from call to call of one action.
PER_USER = {
    "GetUser": "UserName",
    "ListAccessKeys": "UserName",
    "GetAccessKeyLastUsed": "AccessKeyId",
    "UpdateAccessKey": "AccessKeyId",
    "DeleteAccessKey": "AccessKeyId",
}
SOURCE = {"source": "credential-report"}
EXEMPTION = {f"tag:{EXEMPT_TAG}": "absent"}


@dataclass(frozen=True)
class Config:
    key: str
    label: str
    policy: dict
    slow: bool  # a per-user call for every user, or per flagged user with keys read live


CONFIGS = (
    Config(
        "A", "built-in recipe (2 `credential` filters), describe source", {"filters": BUILTIN}, True
    ),
    Config("B", "access-key-unused, describe source", {"filters": PLUGIN}, True),
    Config(
        "C",
        "access-key-unused, `source: credential-report`, report only",
        {**SOURCE, "filters": PLUGIN},
        False,
    ),
    Config(
        "D",
        "(C) + `tag:keyage-exempt: absent` after it",
        {**SOURCE, "filters": [*PLUGIN, EXEMPTION]},
        False,
    ),
    Config(
        "E",
        "(D) + `remove-keys` (`matched: true`, `disable: true`)",
        {**SOURCE, "filters": [*PLUGIN, EXEMPTION], "actions": REMOVE_KEYS},
        True,
    ),
)
BY_KEY = {c.key: c for c in CONFIGS}


class BenchmarkError(AssertionError):
    """A run did something other than its policy says: its figures would mean nothing."""


@dataclass
class Run:
    """One ``custodian run`` process and what the endpoint saw of it."""

    wall: float
    custodian_cpu: float
    endpoint_cpu: float
    iam: Counter
    sts: Counter
    calls: list[Call]
    users: list[str]
    ids: dict[str, list[str]]  # the seeded key IDs this run met, per user in slot order
    handler_cpu: dict[str, float]  # CPU seconds moto's handlers spent, by IAM action

    def handler_ms(self, actions: set[str] | None = None, but: set[str] = frozenset()) -> float:
        """Mean handler CPU per call, ms, over ``actions`` (default all IAM actions)."""
        chosen = [a for a in self.iam if (actions is None or a in actions) and a not in but]
        count = sum(self.iam[a] for a in chosen)
        return sum(self.handler_cpu.get(a, 0.0) for a in chosen) / max(count, 1) * 1000


@dataclass
class Truth:
    """What each policy must find on the seeded account, from the generator's data."""

    account: Account
    specs: list[UserSpec]
    exempt: set[str]
    flagged: list[str]  # the rule's stale users
    builtin: list[str]  # what the built-in recipe matches
    stale: dict[str, list[int]]  # user -> slot positions of stale keys
    active: dict[str, list[int]]  # user -> slot positions of active keys

    @property
    def kept(self) -> list[str]:
        return [u for u in self.flagged if u not in self.exempt]

    def keys(self, ids: dict[str, list[str]], users: list[str], which: dict) -> list[str]:
        return [ids[u][i] for u in users for i in which.get(u, ())]


@dataclass
class SizeResult:
    n: int
    truth: Truth
    fresh: dict[str, Run]  # one run per configuration on an endpoint with no report yet
    present: dict[str, list[Run]] = field(default_factory=dict)  # a fresh report present
    moto: dict[str, Run] = field(default_factory=dict)  # (C) on moto's own report
    seconds: float = 0.0  # bench time for this size

    def median(self, key: str, value: Callable[[Run], float] = lambda r: r.wall) -> float:
        return statistics.median(value(r) for r in self.present[key])


def _days(delta: timedelta) -> float:
    return delta.total_seconds() / 86400


def truth_for(account: Account) -> Truth:
    specs, exempt = [], set()
    for i, name in enumerate(account.users):
        tags = {EXEMPT_TAG: "benchmark"} if i % EXEMPT_EVERY == 0 else {}
        if tags:
            exempt.add(name)
        keys = [
            KeySpec(
                _days(account.now - k.created),
                None if k.used is None else _days(account.now - k.used),
                k.active,
            )
            for k in account.keys[name]
        ]
        specs.append(UserSpec(name, keys, tags))
    return Truth(
        account=account,
        specs=specs,
        exempt=exempt,
        flagged=account.expected_plugin(),
        builtin=account.expected_builtin(),
        stale={
            u: [i for i, k in enumerate(ks) if account.stale(k)] for u, ks in account.keys.items()
        },
        active={u: [i for i, k in enumerate(ks) if k.active] for u, ks in account.keys.items()},
    )


class Bench:
    """One endpoint, one account, the policy files, and the runs made on them."""

    def __init__(self, local: LocalIAM, truth: Truth, tmp: pathlib.Path):
        self.local = local
        self.truth = truth
        self.tmp = tmp
        self.env = local.env()
        self.client = local.client()
        self.ids: dict[str, list[str]] = {}
        self.paths = {}
        for config in CONFIGS:
            name = f"wholerun-{config.key.lower()}"
            data = {"name": name, "resource": "iam-user", **config.policy}
            path = tmp / f"{name}.yml"
            path.write_text(yaml.safe_dump({"policies": [data]}, sort_keys=False))
            self.paths[config.key] = (name, path)

    def prepare(self, report: bool) -> None:
        """The same account on an emptied endpoint, with a fresh report or none yet."""
        self.local.reset()
        self.ids = self.local.seed_in_process(self.truth.specs, now=self.truth.account.now)
        if report:
            self.client.generate_credential_report()
        self.local.clear_calls()

    def run(self, key: str, report: bool) -> Run:
        self.prepare(report)
        name, path = self.paths[key]
        out = self.tmp / "out"
        found = out / name / "resources.json"
        found.unlink(missing_ok=True)
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu = time.process_time()
        start = time.perf_counter()
        proc = subprocess.run(
            [str(CUSTODIAN), "run", "-s", str(out), "--cache-period", "0", str(path)],
            env=self.env,
            capture_output=True,
            text=True,
            timeout=900,
        )
        wall = time.perf_counter() - start
        endpoint_cpu = time.process_time() - cpu
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        child = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
        if proc.returncode != 0 or ":ERROR " in proc.stderr or "Traceback" in proc.stderr:
            raise BenchmarkError(f"{key}: custodian run failed ({proc.returncode}):\n{proc.stderr}")
        seen = self.local.calls
        other = {(c.service, c.action) for c in seen if c.service not in ("iam", "sts")}
        if other:
            raise BenchmarkError(f"{key}: calls to other services: {sorted(other)}")
        iam = [c for c in seen if c.service == "iam"]
        run = Run(
            wall=wall,
            custodian_cpu=child,
            endpoint_cpu=endpoint_cpu,
            iam=Counter(c.action for c in iam),
            sts=Counter(c.action for c in seen if c.service == "sts"),
            calls=iam,
            users=[r["UserName"] for r in json.loads(found.read_text())],
            ids=self.ids,
            handler_cpu={
                action: cpu
                for (service, action), cpu in self.local.handler_cpu().items()
                if service == "iam"
            },
        )
        self.check(key, run)
        return run

    # --- correctness: a run that found the wrong users or keys has no figures worth keeping

    def check(self, key: str, run: Run) -> None:
        truth = self.truth
        expected = {
            "A": truth.builtin,
            "B": truth.flagged,
            "C": truth.flagged,
            "D": truth.kept,
            "E": truth.kept,
        }[key]
        if sorted(run.users) != sorted(expected):
            raise BenchmarkError(
                f"{key} ({BY_KEY[key].label}) returned {len(run.users)} users, expected "
                f"{len(expected)}; {len(set(run.users) & truth.exempt)} of them exempt"
            )
        disabled = [c.params.get("AccessKeyId") for c in _named(run, "UpdateAccessKey")]
        want = truth.keys(self.ids, truth.kept, truth.stale) if key == "E" else []
        if sorted(disabled) != sorted(want):
            raise BenchmarkError(f"{key} disabled {len(disabled)} keys, expected {len(want)}")
        if any(c.params.get("Status") != "Inactive" for c in _named(run, "UpdateAccessKey")):
            raise BenchmarkError(f"{key}: an UpdateAccessKey did not disable its key")
        if run.iam["DeleteAccessKey"]:
            raise BenchmarkError(f"{key} deleted keys")
        inactive = _inactive_now()
        seeded = set(truth.keys(self.ids, truth.account.users, _inactive(truth)))
        if inactive != seeded | set(want):
            raise BenchmarkError(
                f"{key}: {len(inactive - seeded)} keys inactive on the endpoint after the run, "
                f"expected {len(want)}"
            )


def _inactive(truth: Truth) -> dict[str, list[int]]:
    return {
        u: [i for i in range(len(truth.account.keys[u])) if i not in truth.active[u]]
        for u in truth.account.users
    }


def _inactive_now() -> set[str]:
    """The inactive keys on the endpoint, read in process (ListAccessKeys for 5,000 users
    over HTTP would take longer than the run it checks)."""
    backend = iam_backends[DEFAULT_ACCOUNT_ID]["global"]
    return {
        k.access_key_id
        for u in backend.users.values()
        for k in u.access_keys
        if k.status != "Active"
    }


def _named(run: Run, action: str) -> list[Call]:
    return [c for c in run.calls if c.action == action]


def per_user_targets(run: Run, ids: dict[str, list[str]]) -> tuple[Counter, Counter]:
    """(per-user and per-key calls by the user they concern, by ``(action, user or key)``):
    a call naming a key counts for the key's owner."""
    owner = {key_id: user for user, keys in ids.items() for key_id in keys}
    users: Counter = Counter()
    pairs: Counter = Counter()
    for call in run.calls:
        param = PER_USER.get(call.action)
        if param is None:
            continue
        value = call.params.get(param, "")
        users[owner.get(value, "?") if param == "AccessKeyId" else value] += 1
        pairs[(call.action, value)] += 1
    return users, pairs


def only_flagged(run: Run, truth: Truth) -> bool:
    """Per-user and per-key calls concern flagged users only, none twice by one action."""
    users, pairs = per_user_targets(run, run.ids)
    flagged = set(truth.flagged)
    return all(u in flagged for u in users) and all(n == 1 for n in pairs.values())


def measure_size(n: int, repeats: int, slow_repeats: int, log: Callable[[str], None]) -> SizeResult:
    start = time.perf_counter()
    truth = truth_for(make_account(n))
    with tempfile.TemporaryDirectory(prefix="c7n-keyage-wholerun-") as tmp:
        with LocalIAM() as local:
            bench = Bench(local, truth, pathlib.Path(tmp))
            result = SizeResult(n, truth, fresh={})
            for config in CONFIGS:
                log(f"  N = {n:,}: {config.key} on a fresh endpoint")
                result.fresh[config.key] = bench.run(config.key, report=False)
            result.present = {c.key: [] for c in CONFIGS}
            for i in range(max(repeats, slow_repeats)):
                # Alternate the configurations, starting one later each repeat.
                order = CONFIGS[i % len(CONFIGS) :] + CONFIGS[: i % len(CONFIGS)]
                for config in order:
                    if i >= (slow_repeats if config.slow else repeats):
                        continue
                    log(f"  N = {n:,}: {config.key} with a report present, repeat {i + 1}")
                    result.present[config.key].append(bench.run(config.key, report=True))
        with LocalIAM(aws_like_report=False) as local:
            bench = Bench(local, truth, pathlib.Path(tmp))
            for report in (False, True):
                log(f"  N = {n:,}: C on moto's own report, {'after' if report else 'before'} one")
                result.moto["present" if report else "fresh"] = bench.run("C", report=report)
    if datetime.now(timezone.utc) - truth.account.now > timedelta(hours=1):
        # The generator keeps every age an hour or more off the 90-day edge.
        raise BenchmarkError("runs took over an hour: the truth may have moved on")
    result.seconds = time.perf_counter() - start
    return result


def measure(sizes: list[int], log: Callable[[str], None]) -> list[SizeResult]:
    return [measure_size(n, REPEATS.get(n, 3), SLOW_REPEATS.get(n, 2), log) for n in sizes]


def _same(runs: list[Run]) -> str:
    """The IAM calls of ``runs``, which should not vary from run to run."""
    text = calls(runs[0].iam)
    return text if all(r.iam == runs[0].iam for r in runs) else f"{text}, varied"


def _wall(s: float) -> str:
    return f"{s:.2f}" if s < 10 else f"{s:.1f}"


def table(results: list[SizeResult]) -> tuple[str, dict[str, bool]]:
    met: dict[str, bool] = {}
    rows = [
        _row(
            results,
            "account: users (keys, active keys) / users the rule flags (of them tagged exempt) / "
            "stale keys of users not exempt",
            _accounts,
        ),
        *_call_rows(results, met),
        *_per_user_rows(results, met),
        *_wall_rows(results, met),
        *_cpu_rows(results),
        *_single_run_rows(results),
        _row(
            results,
            "runs per configuration, fresh endpoint + report present: (A) (B) (E) / (C) (D)",
            lambda r: f"1 + {len(r.present['A'])} / 1 + {len(r.present['C'])}",
        ),
        _row(results, "bench time for this column, s", lambda r: f"{r.seconds:.0f}"),
    ]
    header = ["whole `custodian run`, per account", *(f"N = {r.n:,}" for r in results), "target"]
    return markdown(header, rows), met


def _row(
    results: list[SizeResult], label: str, cell: Callable[[SizeResult], str], target: str = ""
) -> list[str]:
    return [label, *(cell(r) for r in results), target]


def _accounts(r: SizeResult) -> str:
    t = r.truth
    keys = sum(len(k) for k in t.account.keys.values())
    active = sum(len(a) for a in t.active.values())
    stale = sum(len(t.stale[u]) for u in t.kept)
    exempt = len(set(t.flagged) & t.exempt)
    return f"{r.n} ({keys}, {active}) / {len(t.flagged)} ({exempt}) / {stale}"


def _call_rows(results: list[SizeResult], met: dict[str, bool]) -> list[list[str]]:
    """The IAM calls of each configuration, with a fresh report present, then on a fresh
    endpoint; (C)'s judged against the report-only target."""
    rows = []
    report_only_present = [r.present["C"] for r in results]
    report_only_fresh = [[r.fresh["C"]] for r in results]
    for config in CONFIGS:
        target = ""
        if config.key == "C":
            target = goal(
                met,
                "report-only calls, report present",
                _report_only(report_only_present),
                "report calls only, constant in N",
            )
        rows.append(
            _row(
                results,
                f"IAM calls, fresh report present: ({config.key}) {config.label}",
                lambda r, k=config.key: _same(r.present[k]),
                target,
            )
        )
    for config in CONFIGS:
        target = ""
        if config.key == "C":
            ok = _report_only(report_only_fresh) and all(
                sum(r.fresh["C"].iam.values()) <= FRESH_REPORT_CALLS for r in results
            )
            target = goal(
                met,
                "report-only calls, fresh endpoint",
                ok,
                f"report calls only, <= {FRESH_REPORT_CALLS}, constant in N",
            )
        rows.append(
            _row(
                results,
                f"IAM calls, fresh endpoint (no report yet): ({config.key})",
                lambda r, k=config.key: calls(r.fresh[k].iam),
                target,
            )
        )
    return rows


def _per_user_rows(results: list[SizeResult], met: dict[str, bool]) -> list[list[str]]:
    """Whom the per-user calls of (D) and (E) concern, the keys (E) disabled, STS calls."""
    target = goal(
        met,
        "per-user calls for flagged users only",
        all(
            only_flagged(run, r.truth)
            for r in results
            for key in ("D", "E")
            for run in (r.fresh[key], *r.present[key])
        ),
        "only for flagged users, each once",
    )
    return [
        _row(
            results,
            "per-user calls (GetUser, ListAccessKeys, GetAccessKeyLastUsed, UpdateAccessKey) "
            "per flagged user",
            _per_user,
            target,
        ),
        _row(
            results,
            "keys disabled by (E) = stale keys of users not exempt (checked, every run)",
            lambda r: (
                f"{r.present['E'][0].iam['UpdateAccessKey']} = "
                f"{sum(len(r.truth.stale[u]) for u in r.truth.kept)}"
            ),
        ),
        _row(results, "STS calls per run, every configuration", _sts),
    ]


def _per_user(r: SizeResult) -> str:
    parts = []
    for key in ("D", "E"):
        runs = [r.fresh[key], *r.present[key]]
        users, _ = per_user_targets(runs[0], runs[0].ids)
        others = sum(n for u, n in users.items() if u not in set(r.truth.flagged))
        per = sum(users.values()) / max(len(r.truth.flagged), 1)
        parts.append(f"({key}) {per:.2f}, {others} for other users")
    return "; ".join(parts)


def _wall_rows(results: list[SizeResult], met: dict[str, bool]) -> list[list[str]]:
    """Each configuration's median wall time with a fresh report present, as a ratio to (A);
    (C)'s judged against the wall-time target."""
    rows = []
    base = {r.n: r.median("A") for r in results}
    for config in CONFIGS:
        target = ""
        if config.key == "C":
            judged = [r for r in results if r.n >= RATIO_FROM_N]
            target = goal(
                met,
                "whole-run wall time, report only",
                all(r.median("C") / r.median("A") <= RATIO_TARGET for r in judged)
                if judged
                else None,
                f"<= {RATIO_TARGET}x (A) at {RATIO_FROM_N:,} users and above",
            )
        rows.append(
            _row(
                results,
                f"**wall s, median, fresh report present: ({config.key})**"
                + (", ratio to (A)" if config.key != "A" else ""),
                lambda r, k=config.key: (
                    _wall(r.median(k))
                    if k == "A"
                    else f"{_wall(r.median(k))} (**{r.median(k) / base[r.n]:.2f}x**)"
                ),
                target,
            )
        )
    return rows


def _cpu_rows(results: list[SizeResult]) -> list[list[str]]:
    """CPU time: the custodian process's, the endpoint's, and moto's handlers' per call."""
    last_used = {"GetAccessKeyLastUsed"}
    return [
        _row(
            results,
            "CPU s, median, custodian process: (A) / (B) / (C) / (D) / (E)",
            lambda r: " / ".join(
                _wall(r.median(c.key, lambda run: run.custodian_cpu)) for c in CONFIGS
            ),
        ),
        _row(
            results,
            "CPU s, median, endpoint (moto, in the bench's process): (A) / (B) / (C) / (D) / (E)",
            lambda r: " / ".join(
                _wall(r.median(c.key, lambda run: run.endpoint_cpu)) for c in CONFIGS
            ),
        ),
        _row(
            results,
            "moto's handler CPU, ms per call, median: GetUser in (A) / GetAccessKeyLastUsed in "
            "(E) / the other calls of (E)",
            lambda r: (
                f"{r.median('A', lambda run: run.handler_ms({'GetUser'})):.2f} / "
                f"{r.median('E', lambda run: run.handler_ms(last_used)):.2f} / "
                f"{r.median('E', lambda run: run.handler_ms(but=last_used)):.2f}"
            ),
        ),
    ]


def _single_run_rows(results: list[SizeResult]) -> list[list[str]]:
    """The one run of each configuration on a fresh endpoint, and (C)'s on moto's report."""
    return [
        _row(
            results,
            "wall s, fresh endpoint, one run: (A) / (B) / (C) / (D) / (E); (C) / (A)",
            lambda r: (
                " / ".join(_wall(r.fresh[c.key].wall) for c in CONFIGS)
                + f"; {r.fresh['C'].wall / r.fresh['A'].wall:.2f}x"
            ),
        ),
        _row(
            results,
            "(C) on moto's own report (dated 2015, rebuilt on every read): IAM calls, wall s; "
            "fresh endpoint / after one report was generated",
            lambda r: (
                f"{calls(r.moto['fresh'].iam)}, {_wall(r.moto['fresh'].wall)} / "
                f"{calls(r.moto['present'].iam)}, {_wall(r.moto['present'].wall)}"
            ),
        ),
    ]


def _report_only(runs_by_n: list[list[Run]]) -> bool:
    """Report calls only, the same at every N (and in every run)."""
    counters = [run.iam for runs in runs_by_n for run in runs]
    return all(set(c) <= REPORT_CALLS for c in counters) and all(c == counters[0] for c in counters)


def _sts(r: SizeResult) -> str:
    runs = [*r.fresh.values(), *(run for runs in r.present.values() for run in runs)]
    first = runs[0].sts
    return calls(first) if all(run.sts == first for run in runs) else "varies"


NOTES = f"""\
Whole runs. Each cell is the stock `custodian run -s <tmp> --cache-period 0 <policy>` as a
subprocess against moto's IAM server on 127.0.0.1, started in the benchmark's process
(`tests/support/localiam.py`), which logs every request: calls are counted by action on the
endpoint.
Wall time is the subprocess's, start to exit (interpreter start-up and policy loading
included); CPU is the custodian process's, and the endpoint's own beside it. The account is
the filter step's synthetic one (same seed and mix), seeded in the server's backend, with
every {EXEMPT_EVERY}th user tagged `{EXEMPT_TAG}`; the endpoint is reset and reseeded before
every run, so every configuration meets the same account. The main rows use LocalIAM's
AWS-like report (a snapshot with its real generation time, kept 4 hours, as AWS does):
"fresh report present" rows had one generated just before the run; "fresh endpoint" rows
had none, so the run asked for it (c7n's `credential` then sleeps its `report_delay`, 10 s
by default, once; access-key-unused polls without sleeping when the endpoint says the report
is ready). One row runs (C) on moto's unmodified report, as LocalStack serves it.
Configurations alternate run by run; medians. Every run is checked before it counts: the
users it returns are the generator's (the rule's stale users; without the exempt ones for
(D) and (E); the built-in recipe's own matches for (A)), and (E) disabled exactly the stale
keys of users not exempt, on the endpoint and in its calls. Emulator differences that show in
the figures: moto answers ListUsers in one page (AWS pages by 100: a real describe run adds
N/100 - 1 calls), and moto's GetAccessKeyLastUsed scans every key of the account, so its cost
per call grows with N ("moto's handler CPU" row; AWS looks the key up): part of (E)'s wall
time at 5,000 users is the emulator's, not the plugin's."""
