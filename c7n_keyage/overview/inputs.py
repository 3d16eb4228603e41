"""Find the runs in output directories and S3 prefixes, and load each into a ``Run``.

The layouts are c7n's own (c7n/output.py, c7n_org/cli.py):

- ``custodian run -s DIR``: ``DIR/<policy>/{metadata,resources}.json``;
- ``c7n-org run -s DIR``: ``DIR/<account name>/<region>/<policy>/...``;
- an ``s3://`` output (``custodian`` and c7n-org with ``-s s3://...``, Lambda's
  ``execution-options``): the same, then ``YYYY/MM/DD/HH/`` and every file gzipped
  (``metadata.json.gz``); a local copy of it (``aws s3 sync``) reads the same.

Any directory (or S3 "directory") holding ``resources.json[.gz]`` is a run, at any depth;
one with ``metadata.json`` alone is a run that failed before listing its resources.

Two passes, so that memory holds one run at a time however many dates the inputs hold: the
first reads each run's small ``metadata.json`` (its policy, its start), the second loads
this plugin's runs in the order they started, for the fleet to fold. No file is read past
a cap, nor expanded past it (gzip is expanded as a stream): a file over it is named and
skipped, like one that is not JSON, is nested too deep, or sits under a name that is not
UTF-8.
"""

from __future__ import annotations

import json
import os
import re
import zlib
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Executor, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timezone
from functools import partial
from pathlib import Path
from urllib.parse import parse_qs, urlparse

from c7n_keyage.overview.runs import (
    Run,
    Unreadable,
    Warn,
    config_of,
    lifecycle_step,
    parse_run,
    policy_of,
    start_of,
    uses_filter,
    worth_reading,
)

RESOURCES = ("resources.json", "resources.json.gz")
METADATA = ("metadata.json", "metadata.json.gz")
# c7n's S3 output adds the hour the run started: <policy>/YYYY/MM/DD/HH.
_DATED = re.compile(r"\d{4}/\d{2}/\d{2}/\d{2}")
# S3 latency, not CPU, bounds a remote read: fetch this many files at a time.
S3_THREADS = 16
CAP_MB = 50
MB = 1_000_000


class InputError(Exception):
    """An input that cannot be read at all: a missing directory, an S3 bucket refused, or
    one where no run is found."""


class Failed(Exception):
    """A run of the filter that stopped before c7n wrote its resources (c7n writes
    metadata.json whatever happens, resources.json only once the resources are listed)."""


@dataclass
class Stats:
    """What was found and what was left out, for the report's own account of its inputs."""

    inputs: list[str]
    runs_found: int = 0
    runs_read: int = 0
    other_policy: int = 0
    unreadable: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)

    def as_dict(self) -> dict:
        return {
            "inputs": [printable(i) for i in self.inputs],
            "runs_found": self.runs_found,
            "runs_read": self.runs_read,
            "skipped": {
                "other-policy": self.other_policy,
                "unreadable": len(self.unreadable),
                "failed": len(self.failed),
            },
            "unreadable": sorted(self.unreadable),
            "failed": sorted(self.failed),
        }


@dataclass(frozen=True, slots=True)
class RunFiles:
    """Where one run's files are, and what its path says."""

    where: str  # the run's directory or S3 prefix
    resources: str | None  # file name within it; None: the run stopped before writing it
    metadata: str | None
    path_parts: tuple[str, ...]  # between the input and the policy's directory
    dated: datetime | None  # from a dated S3 layout
    actions: tuple[str, ...] = ()  # action-<name>[.gz]: what c7n wrote of actions' results

    @property
    def shown(self) -> str:
        return printable(self.where)


def printable(name: str) -> str:
    """A path as it can be printed: bytes that are not UTF-8 (which Python keeps as
    surrogates) become U+FFFD."""
    return name.encode("utf-8", "surrogateescape").decode("utf-8", "replace")


def split_dated(parts: Sequence[str]) -> tuple[tuple[str, ...], datetime | None]:
    """A run directory's parts below the input -> (the parts above the policy's directory,
    the time of a dated layout or None)."""
    parts = tuple(parts)
    if len(parts) >= 5 and _DATED.fullmatch("/".join(parts[-4:])):
        try:
            dated = datetime(*map(int, parts[-4:]), tzinfo=timezone.utc)
        except ValueError:
            dated = None
        if dated is not None:
            return parts[:-5], dated
    return parts[:-1], None


def run_files(where: str, parts: Sequence[str], names: Iterable[str]) -> RunFiles | None:
    names = set(names)
    resources = next((n for n in RESOURCES if n in names), None)
    metadata = next((n for n in METADATA if n in names), None)
    if resources is None and metadata is None:
        return None
    path_parts, dated = split_dated(parts)
    actions = tuple(sorted(n for n in names if n.startswith("action-")))
    return RunFiles(where, resources, metadata, path_parts, dated, actions)


def expand(name: str, data: bytes, cap: int) -> bytes:
    """A file's bytes, gunzipped (as a stream, every member) when they are gzip: known by
    their content, since a synced copy may lose the suffix or keep it on a plain file."""
    if data[:2] != b"\x1f\x8b":
        return data
    out, pending = bytearray(), data
    try:
        while pending[:2] == b"\x1f\x8b":
            stream = zlib.decompressobj(16 + zlib.MAX_WBITS)
            # One call per member: it stops at the member's end, at the end of the data
            # (truncated), or one byte past the cap, whichever comes first.
            out += stream.decompress(pending, cap + 1 - len(out))
            if len(out) > cap:
                raise Unreadable(f"{name}: expands to more than {cap // MB:,} MB")
            if not stream.eof:
                raise Unreadable(f"{name}: not a readable gzip file (truncated)")
            pending = stream.unused_data
    except zlib.error as e:
        raise Unreadable(f"{name}: not a readable gzip file ({e})") from None
    return bytes(out)


def decode(name: str, data: bytes, cap: int) -> object:
    """A file's JSON, expanded first when it is gzip; ``Unreadable`` naming it otherwise."""
    data = expand(name, data, cap)
    try:
        return json.loads(data)
    except RecursionError:
        raise Unreadable(f"{name}: nested too deep to read") from None
    except MemoryError:
        raise Unreadable(f"{name}: too large to read into memory") from None
    except ValueError as e:  # JSONDecodeError and UnicodeDecodeError
        raise Unreadable(f"{name}: not valid JSON ({e})") from None


Fetch = Callable[[str], bytes]  # a file of the run, by name


def peek(files: RunFiles, fetch: Fetch, cap: int) -> float | None:
    """Pass one: when a run of this plugin started (from its metadata.json); None for a run
    of another policy. Raises ``Unreadable``, or ``Failed`` for a run of the filter that
    wrote no resources."""
    if files.metadata is None:
        raise Unreadable(f"{files.shown}/metadata.json: missing (c7n writes it with every run)")
    metadata = decode(f"{files.shown}/{files.metadata}", fetch(files.metadata), cap)
    policy = policy_of(metadata, files.shown)
    if not worth_reading(policy):
        return None
    if files.resources is None:
        if not uses_filter(policy.get("filters")):
            return None
        raise Failed(
            f"{files.shown}: no resources.json: the run stopped before listing its resources "
            "(its custodian-run.log says why); its account keeps its previous figures"
        )
    return start_of(metadata, files.dated, files.shown, lambda _: None).timestamp()


def load_run(files: RunFiles, fetch: Fetch, warn: Warn, cap: int) -> Run | None:
    """Pass two: one run -> a ``Run``; None when it is not this plugin's."""
    where = files.shown
    metadata = decode(f"{where}/{files.metadata}", fetch(files.metadata), cap)
    policy = policy_of(metadata, where)
    dryrun = config_of(metadata, where).get("dryrun") is True
    resources = decode(f"{where}/{files.resources}", fetch(files.resources), cap)
    results = []
    if lifecycle_step(policy, dryrun) is not None:
        for name in files.actions:
            try:
                results.append((f"{where}/{name}", decode(f"{where}/{name}", fetch(name), cap)))
            except Unreadable as problem:  # the run's figures stand on the policy's word
                warn(str(problem))
    return parse_run(
        where,
        metadata,
        resources,
        warn=warn,
        dated=files.dated,
        path_parts=files.path_parts,
        results=results,
    )


class LocalStore:
    """An output directory on this machine."""

    threads = 0

    def __init__(self, root: str) -> None:
        self.label = root

    def listing(self, problems: list[str]) -> Iterator[RunFiles]:
        root = Path(self.label)
        if not root.is_dir():
            raise InputError(f"{printable(self.label)}: not a directory")

        def refused(error: OSError) -> None:
            problems.append(f"{printable(str(error.filename))}: {error.strerror or error}")

        for directory, subdirs, names in os.walk(root, onerror=refused):
            for name in sorted(subdirs):
                if printable(name) != name:
                    subdirs.remove(name)
                    path = printable(os.path.join(directory, name))
                    problems.append(f"{path}: a name that is not UTF-8; not read")
            subdirs.sort()
            parts = Path(directory).relative_to(root).parts
            found = run_files(directory, parts, names)
            if found is not None:
                yield found

    def read(self, where: str, name: str, cap: int) -> bytes:
        path = Path(where, name)
        try:
            with path.open("rb") as f:
                data = f.read(cap + 1)
        except OSError as e:
            raise Unreadable(f"{printable(str(path))}: {e.strerror or e}") from None
        if len(data) > cap:
            raise Unreadable(f"{printable(str(path))}: larger than {cap // MB:,} MB")
        return data


class S3Store:
    """An ``s3://bucket/prefix`` (c7n's ``?region=`` query allowed)."""

    threads = S3_THREADS

    def __init__(self, url: str, client) -> None:
        self.label, self.client = url, client

    def listing(self, problems: list[str]) -> Iterator[RunFiles]:
        from botocore.exceptions import BotoCoreError, ClientError

        parsed = urlparse(self.label)
        bucket, prefix = parsed.netloc, parsed.path.strip("/")
        listed = f"{prefix}/" if prefix else ""
        directories: dict[str, list[str]] = {}
        try:
            pages = self.client.get_paginator("list_objects_v2")
            for page in pages.paginate(Bucket=bucket, Prefix=listed):
                for item in page.get("Contents", ()):
                    directory, _, name = item["Key"].rpartition("/")
                    directories.setdefault(directory, []).append(name)
        except (BotoCoreError, ClientError) as e:
            raise InputError(f"{self.label}: {e}") from None
        for directory in sorted(directories):
            below = directory[len(listed) :]  # S3 lists only the keys under the prefix
            where = f"s3://{bucket}/{directory}" if directory else f"s3://{bucket}"
            found = run_files(where, [p for p in below.split("/") if p], directories[directory])
            if found is not None:
                yield found

    def read(self, where: str, name: str, cap: int) -> bytes:
        from botocore.exceptions import BotoCoreError, ClientError

        bucket, _, directory = where[len("s3://") :].partition("/")
        key = f"{directory}/{name}" if directory else name
        try:
            body = self.client.get_object(Bucket=bucket, Key=key)["Body"]
            try:
                data = body.read(cap + 1)
            finally:
                body.close()
        except (BotoCoreError, ClientError) as e:
            raise Unreadable(f"{where}/{name}: {e}") from None
        if len(data) > cap:
            raise Unreadable(f"{where}/{name}: larger than {cap // MB:,} MB")
        return data


def s3_client(url: str):
    import boto3  # only for S3 inputs: a local report never pays for it
    from botocore.exceptions import BotoCoreError

    region = parse_qs(urlparse(url).query).get("region", [None])[0]
    try:
        return boto3.client("s3", region_name=region)
    except (BotoCoreError, ValueError) as e:  # a bad ?region=, no botocore data...
        raise InputError(f"{url}: {e}") from None


def store_of(source: str, make_client: Callable[[str], object] = s3_client):
    if source.startswith("s3://"):
        return S3Store(source, make_client(source))
    return LocalStore(source)


def in_order(work: Callable, items: Iterable, threads: int, pool: Executor | None) -> Iterator:
    """``work`` over ``items``, results in order; with a pool, at most ``threads`` at once,
    so that memory holds a few results, never all."""
    if pool is None:
        yield from map(work, items)
        return
    pending: deque = deque()
    for item in items:
        pending.append(pool.submit(work, item))
        if len(pending) >= threads:
            yield pending.popleft().result()
    while pending:
        yield pending.popleft().result()


Store = LocalStore | S3Store


def _record(stats: Stats, problem: Exception, warn: Warn) -> None:
    (stats.failed if isinstance(problem, Failed) else stats.unreadable).append(str(problem))
    warn(str(problem))


def _pool(threads: int) -> ThreadPoolExecutor | None:
    return ThreadPoolExecutor(threads) if threads else None


def _heads(store: Store, index: int, stats: Stats, warn: Warn, cap: int) -> list[tuple]:
    """Pass one over a store: (start, where, store, files) of each run of this plugin."""
    problems: list[str] = []
    heads, found = [], 0

    def work(files: RunFiles) -> tuple[RunFiles, float | None | Exception]:
        try:
            return files, peek(files, lambda name: store.read(files.where, name, cap), cap)
        except (Unreadable, Failed) as problem:
            return files, problem

    pool = _pool(store.threads)
    try:
        for files, started in in_order(work, store.listing(problems), store.threads, pool):
            found += 1
            if isinstance(started, Exception):
                _record(stats, started, warn)
            elif started is None:
                stats.other_policy += 1
            else:
                heads.append((started, files.where, index, files))
    finally:
        if pool is not None:
            pool.shutdown(cancel_futures=True)
    for problem in problems:
        _record(stats, Unreadable(problem), warn)
    if not found:
        raise InputError(f"{printable(store.label)}: no Cloud Custodian run found there")
    stats.runs_found += found
    return heads


def _load(stores: list[Store], cap: int, head: tuple) -> tuple[Run | None | Unreadable, list]:
    """Pass two for one run, perhaps in a thread: the run (or why not), and its warnings
    for the caller to give in the runs' order."""
    files, store = head[3], stores[head[2]]
    warnings: list[str] = []
    try:
        run = load_run(files, lambda name: store.read(files.where, name, cap), warnings.append, cap)
    except Unreadable as problem:
        run = problem
    return run, warnings


def _executor(stores: list[Store]) -> tuple[Executor | None, int]:
    """Threads for S3, whose latency bounds a read; none for local files, which decoding and
    parsing bound (measured: processes cost as much to send the runs back as they save)."""
    threads = max((store.threads for store in stores), default=0)
    return (ThreadPoolExecutor(threads) if threads else None), threads


def _runs(stores: list[Store], heads: list[tuple], stats: Stats, warn: Warn, cap: int):
    """Pass two: the runs, loaded in the order they started."""
    pool, window = _executor(stores)
    try:
        for result, warnings in in_order(partial(_load, stores, cap), heads, window, pool):
            for warning in warnings:
                warn(warning)
            if isinstance(result, Unreadable):
                _record(stats, result, warn)
            elif result is None:
                stats.other_policy += 1
            else:
                stats.runs_read += 1
                yield result
    finally:
        if pool is not None:
            pool.shutdown(cancel_futures=True)


def read_stores(
    stores: Sequence[Store], warn: Warn, *, cap_mb: int = CAP_MB
) -> tuple[Iterator[Run], Stats]:
    """Every run of this plugin in ``stores``, in the order they started, as they are read;
    and the account of what was read, filled as they are. A store that cannot be listed, or
    holds no run, raises ``InputError`` here, before any run is loaded; an unreadable run is
    named in ``Stats`` and through ``warn``."""
    stats = Stats([store.label for store in stores])
    cap = cap_mb * MB
    heads = []
    for index, store in enumerate(stores):
        heads += _heads(store, index, stats, warn, cap)
    heads.sort(key=lambda head: head[:2])
    return _runs(list(stores), heads, stats, warn, cap), stats


def read_inputs(
    inputs: Sequence[str],
    warn: Warn,
    *,
    cap_mb: int = CAP_MB,
    make_client: Callable[[str], object] = s3_client,
) -> tuple[Iterator[Run], Stats]:
    """``read_stores`` of directories and ``s3://`` URLs."""
    stores = [store_of(source, make_client) for source in inputs]
    return read_stores(stores, warn, cap_mb=cap_mb)
