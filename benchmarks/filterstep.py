"""Time, count and weigh the filter step of each route on the same synthetic account.

The filter step is ``policy.resource_manager.filter_resources(resources)`` on a policy loaded
(and validated) by c7n's own loader, with the iam-user resources built directly: ListUsers and
GetUser (core's N+1 calls, the same for every route) are left out. c7n's cache is off, so each
run fetches and parses its report, as the issue asks; one extra route shows the built-in recipe
with its two filters sharing one fetch and parse, which is what c7n's cache gives it in a
``custodian run`` and the fairer opponent.
"""

from __future__ import annotations

import gc
import statistics
import tempfile
import time
import tracemalloc
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from c7n.cache import InMemoryCache
from c7n.config import Config
from c7n.loader import PolicyLoader
from c7n.utils import reset_session_cache

from benchmarks.fakeaws import FakeIAM, boto3_factory, fake_factory
from benchmarks.synthetic import ACCOUNT_ID, DAYS, Account, make_account

PLUGIN = [{"type": "access-key-unused", "days": DAYS}]
# What users write today for "active key unused for 90 days" with the built-in filters.
BUILTIN = [
    {"type": "credential", "key": "access_keys.active", "value": True},
    {
        "type": "credential",
        "key": "access_keys.last_used_date",
        "value_type": "age",
        "value": DAYS,
        "op": "gt",
    },
]
# ListAccessKeys per user. It has no last-use date (that is GetAccessKeyLastUsed, one more
# call per key), so the closest it can say is "active and created more than 90 days ago".
ACCESS_KEY = [
    {"type": "access-key", "key": "Status", "value": "Active"},
    {
        "type": "access-key",
        "match-operator": "and",
        "key": "CreateDate",
        "value_type": "age",
        "value": DAYS,
        "op": "gt",
    },
]
REMOVE_KEYS = [{"type": "remove-keys", "matched": True, "disable": True}]

# c7n's config wants an output directory; nothing is written there (policies are not run).
_OUTPUT_DIR = tempfile.TemporaryDirectory(prefix="c7n-keyage-bench-")
_OUTPUT = _OUTPUT_DIR.name


def load_policy(
    name: str, filters: list, factory: Callable, actions: list = (), shared_cache: bool = False
) -> Any:
    """A policy loaded and validated by c7n's loader, as ``custodian run`` would."""
    config = Config.empty(
        account_id=ACCOUNT_ID,
        region="us-east-1",
        output_dir=_OUTPUT,
        cache="memory" if shared_cache else "",
        cache_period=15 if shared_cache else 0,
    )
    data = {"name": name, "resource": "iam-user", "filters": filters, "actions": list(actions)}
    collection = PolicyLoader(config).load_data(
        {"policies": [data]}, file_uri="memory://bench", validate=True, session_factory=factory
    )
    (policy,) = list(collection)
    policy.validate()
    return policy


def _clear_shared_cache() -> None:
    InMemoryCache._InMemoryCache__shared_state.clear()


def _new_run(policy: Any) -> None:
    """What a new ``custodian run`` starts from: no session, and a run of its own.

    The plugin holds a report for one policy run only (``credential_report/cache.py``), told
    by the run's execution id, which c7n sets as a policy runs (``policy.ctx``'s
    ``__enter__``); the benchmark calls the filters directly, so it gives each repeat a new
    one. c7n's cache is off here, so every repeat fetches and parses its own.
    """
    reset_session_cache()
    policy.ctx.execution_id = str(uuid.uuid4())


@dataclass
class Route:
    """One way of answering "which users have a stale key", on one account."""

    label: str
    policy: Any
    iam: FakeIAM
    # (wall, cpu) seconds per repeat: CPU time shows what other load on the machine hides.
    samples: list[tuple[float, float]] = field(default_factory=list)
    calls: Counter = field(default_factory=Counter)
    matched: list[str] = field(default_factory=list)
    peak_bytes: int = 0
    # (count, seconds) of CPython's full (generation 2) collections inside each repeat.
    full_gc: list[tuple[int, float]] = field(default_factory=list)

    def run_once(self, account: Account) -> tuple[float, float]:
        resources = account.resources()
        self._prepare()
        gc.collect()
        with _FullCollections() as full:
            start, start_cpu = time.perf_counter(), time.process_time()
            out = self.policy.resource_manager.filter_resources(resources)
            elapsed = time.perf_counter() - start, time.process_time() - start_cpu
        self.full_gc.append((full.count, full.seconds))
        self.calls = Counter(self.iam.calls)
        self.matched = [r["UserName"] for r in out]
        return elapsed

    @property
    def median_full_gc(self) -> tuple[float, float]:
        return (
            statistics.median(n for n, _ in self.full_gc),
            statistics.median(s for _, s in self.full_gc),
        )

    def measure_memory(self, account: Account) -> None:
        """Peak memory the filter step adds over what existed before it (tracemalloc)."""
        resources = account.resources()
        self._prepare()
        gc.collect()
        tracemalloc.start()
        try:
            before = tracemalloc.get_traced_memory()[0]
            tracemalloc.reset_peak()
            self.policy.resource_manager.filter_resources(resources)
            self.peak_bytes = tracemalloc.get_traced_memory()[1] - before
        finally:
            tracemalloc.stop()

    def _prepare(self) -> None:
        _new_run(self.policy)
        _clear_shared_cache()
        self.iam.reset()

    @property
    def median(self) -> float:
        return statistics.median(wall for wall, _ in self.samples)

    @property
    def median_cpu(self) -> float:
        return statistics.median(cpu for _, cpu in self.samples)


class _FullCollections:
    """Counts CPython's full collections, which scan the whole heap: time that grows faster
    than N once a filter keeps enough objects alive to trigger them."""

    def __init__(self) -> None:
        self.count, self.seconds, self._start = 0, 0.0, 0.0

    def _callback(self, phase: str, info: dict) -> None:
        if info["generation"] != 2:
            return
        if phase == "start":
            self._start = time.perf_counter()
        else:
            self.count += 1
            self.seconds += time.perf_counter() - self._start

    def __enter__(self) -> _FullCollections:
        gc.callbacks.append(self._callback)
        return self

    def __exit__(self, *exc: object) -> None:
        gc.callbacks.remove(self._callback)


def time_routes(routes: list[Route], account: Account, repeats: int) -> None:
    """Interleave the routes repeat by repeat, so drift on a shared machine hits all alike."""
    for route in routes:
        route.run_once(account)  # warm-up: first-call imports and schema caches
        route.full_gc.clear()
    for _ in range(repeats):
        for route in routes:
            route.samples.append(route.run_once(account))


@dataclass
class RemoveKeysRun:
    """A policy with ``remove-keys matched: true``: the filter step, then the action."""

    filter_calls: Counter
    total_calls: Counter
    matched: int
    filter_seconds: float
    total_seconds: float
    # Whom each per-user or per-key call named: (operation, UserName or AccessKeyId).
    targets: list[tuple[str, str]] = field(default_factory=list)

    def named(self, operation: str) -> list[str]:
        return [target for op, target in self.targets if op == operation]


def run_remove_keys(policy: Any, iam: FakeIAM, account: Account) -> RemoveKeysRun:
    resources = account.resources()
    _new_run(policy)
    iam.reset()
    start = time.perf_counter()
    out = policy.resource_manager.filter_resources(resources)
    seconds = time.perf_counter() - start
    filter_calls = Counter(iam.calls)
    for action in policy.resource_manager.actions:
        action.process(out)
    total = time.perf_counter() - start
    return RemoveKeysRun(
        filter_calls, Counter(iam.calls), len(out), seconds, total, list(iam.targets)
    )


@dataclass
class SizeResult:
    n: int
    repeats: int
    routes: dict[str, Route]
    remove_keys: dict[str, RemoveKeysRun]
    boto3_routes: dict[str, Route]
    boto3_remove_keys: dict[str, RemoveKeysRun]
    boto3_repeats: int
    # The same policies on a report without never-used keys, where both routes disable the
    # same keys: the fair test of "no more calls in total".
    remove_keys_equal: dict[str, RemoveKeysRun]
    # Users the built-in route lists though none of their keys is acted on (#5583).
    builtin_idle_users: int
    regenerate_calls: dict[str, Counter]
    # Active keys of the users the plugin flags: what it reads the last use of live.
    flagged_active_keys: int


# The filters of the two routes also measured with remove-keys and on an old report.
BOTH_ROUTES = {"plugin": PLUGIN, "builtin": BUILTIN}


def measure_size(account: Account, repeats: int, boto3_repeats: int) -> SizeResult:
    """Every figure for one account; the boto3 routes are skipped when ``boto3_repeats`` is 0."""
    n = len(account.users)
    iam = FakeIAM(account)
    fake = fake_factory(iam)
    routes = _timed_routes(account, iam, fake, repeats)
    remove_keys = {
        name: run_remove_keys(
            load_policy(f"{name}-rk", BOTH_ROUTES[name], fake, REMOVE_KEYS), iam, account
        )
        for name in ("plugin", "builtin")
    }
    _check_remove_keys(account, remove_keys)
    boto3_routes, boto3_remove_keys = _through_boto3(account, iam, remove_keys, boto3_repeats)
    regenerate = {
        name: _calls_when_regenerating(iam, account, BOTH_ROUTES[name], fake)
        for name in ("plugin", "builtin")
    }
    return SizeResult(
        n=n,
        repeats=repeats,
        routes=routes,
        remove_keys=remove_keys,
        boto3_routes=boto3_routes,
        boto3_remove_keys=boto3_remove_keys,
        boto3_repeats=boto3_repeats,
        remove_keys_equal=remove_keys_equal_work(n, account.now),
        builtin_idle_users=_idle_builtin_users(account),
        regenerate_calls=regenerate,
        flagged_active_keys=sum(
            1 for u in account.expected_plugin() for k in account.keys[u] if k.active
        ),
    )


def _timed_routes(account: Account, iam: FakeIAM, fake: Callable, repeats: int) -> dict[str, Route]:
    """Every route timed, its matches checked, then its memory weighed."""
    routes = {
        "plugin": Route("access-key-unused", load_policy("plugin", PLUGIN, fake), iam),
        "builtin": Route("built-in recipe", load_policy("builtin", BUILTIN, fake), iam),
        "shared": Route(
            "built-in, shared fetch",
            load_policy("builtin-shared", BUILTIN, fake, shared_cache=True),
            iam,
        ),
        "access": Route("access-key route", load_policy("access", ACCESS_KEY, fake), iam),
    }
    time_routes(list(routes.values()), account, repeats)
    _check_matches(account, routes)
    for route in routes.values():
        route.measure_memory(account)
    return routes


def _through_boto3(
    account: Account, iam: FakeIAM, remove_keys: dict[str, RemoveKeysRun], repeats: int
) -> tuple[dict[str, Route], dict[str, RemoveKeysRun]]:
    """The same filters through real boto3 clients (botocore answering in memory), timed,
    then with remove-keys; nothing when ``repeats`` is 0."""
    boto3_routes: dict[str, Route] = {}
    boto3_remove_keys: dict[str, RemoveKeysRun] = {}
    if not repeats:
        return boto3_routes, boto3_remove_keys
    bfactory, seen = boto3_factory(iam)
    boto3_routes = {
        "plugin": Route("access-key-unused", load_policy("plugin-b", PLUGIN, bfactory), iam),
        "builtin": Route("built-in recipe", load_policy("builtin-b", BUILTIN, bfactory), iam),
    }
    time_routes(list(boto3_routes.values()), account, repeats)
    for name in ("plugin", "builtin"):
        policy = load_policy(f"{name}-rk-b", BOTH_ROUTES[name], bfactory, REMOVE_KEYS)
        seen.clear()
        run = boto3_remove_keys[name] = run_remove_keys(policy, iam, account)
        # botocore saw exactly the calls the fake answered: the counts are not an
        # artefact of the fake client.
        if run.total_calls != remove_keys[name].total_calls or seen != run.total_calls:
            raise AssertionError(f"{name}: boto3 and fake call counts differ")
    return boto3_routes, boto3_remove_keys


def _idle_builtin_users(account: Account) -> int:
    """Users the built-in route lists though none of their keys is acted on."""
    acted_on = {k.key_id for k in account.builtin_keys()}
    idle = [
        u
        for u in account.expected_builtin()
        if not any(k.key_id in acted_on for k in account.keys[u])
    ]
    return len(idle)


def remove_keys_equal_work(n: int, now) -> dict[str, RemoveKeysRun]:
    account = make_account(n, now, never_used=0.0)
    iam = FakeIAM(account)
    fake = fake_factory(iam)
    runs = {
        name: run_remove_keys(load_policy(f"{name}-eq", filters, fake, REMOVE_KEYS), iam, account)
        for name, filters in (("plugin", PLUGIN), ("builtin", BUILTIN))
    }
    _check_remove_keys(account, runs)
    if {k.key_id for k in account.stale_keys()} != {k.key_id for k in account.builtin_keys()}:
        raise AssertionError("without never-used keys both routes should name the same keys")
    return runs


def _calls_when_regenerating(iam: FakeIAM, account: Account, filters: list, factory) -> Counter:
    """Calls when the only report is two days old (report_delay 0: no sleeping)."""
    filters = [dict(f, report_delay=0) for f in filters]
    policy = load_policy("regenerate", filters, factory)
    _new_run(policy)
    iam.reset(report_age=timedelta(days=2))
    try:
        policy.resource_manager.filter_resources(account.resources())
        return Counter(iam.calls)
    finally:
        iam.reset(report_age=timedelta(hours=2))


def _check_matches(account: Account, routes: dict[str, Route]) -> None:
    """Timings of a filter that matched the wrong users would mean nothing."""
    expected = {
        "plugin": account.expected_plugin(),
        "builtin": account.expected_builtin(),
        "shared": account.expected_builtin(),
    }
    for name, users in expected.items():
        if routes[name].matched != users:
            raise AssertionError(
                f"{routes[name].label} matched {len(routes[name].matched)} users, "
                f"expected {len(users)}"
            )


def _check_remove_keys(account: Account, runs: dict[str, RemoveKeysRun]) -> None:
    """Each route disabled exactly the keys its rule names, and made per-user calls only for
    the users it flagged: the plugin one ListAccessKeys per flagged user and one
    GetAccessKeyLastUsed per active key of those users, the built-in route one
    ListAccessKeys per matched user."""
    flagged = account.expected_plugin()
    expected = {
        "plugin": (
            flagged,
            account.stale_keys(),
            [k.key_id for u in flagged for k in account.keys[u] if k.active],
        ),
        "builtin": (account.expected_builtin(), account.builtin_keys(), []),
    }
    for name, (users, keys, read) in expected.items():
        got = runs[name]
        if (got.matched, got.total_calls["UpdateAccessKey"]) != (len(users), len(keys)):
            raise AssertionError(
                f"{name} with remove-keys: {got.matched} users / "
                f"{got.total_calls['UpdateAccessKey']} keys, expected {len(users)} / {len(keys)}"
            )
        checks = {
            "disabled": (got.named("UpdateAccessKey"), [k.key_id for k in keys]),
            "listed the keys of": (got.named("ListAccessKeys"), users),
            "read the last use of": (got.named("GetAccessKeyLastUsed"), read),
            "called GetUser for": (got.named("GetUser"), []),
        }
        for what, (named, want) in checks.items():
            if sorted(named) != sorted(want):
                raise AssertionError(
                    f"{name} with remove-keys {what} {len(named)} (distinct "
                    f"{len(set(named))}), expected exactly {len(want)}"
                )
