"""Find the runs in output directories and S3 prefixes, and load each into a ``Run``.

The layouts are c7n's own (c7n/output.py, c7n_org/cli.py):

- ``custodian run -s DIR``: ``DIR/<policy>/{metadata,resources}.json``;
- ``c7n-org run -s DIR``: ``DIR/<account name>/<region>/<policy>/...``;
- an ``s3://`` output (``custodian`` and c7n-org with ``-s s3://...``, Lambda's
  ``execution-options``): the same, then ``YYYY/MM/DD/HH/`` and every file gzipped
  (``metadata.json.gz``); a local copy of it (``aws s3 sync``) reads the same.

Any directory (or S3 "directory") holding ``resources.json[.gz]`` is a run, at any depth, so
several runs kept side by side (``out/2026-12-01/...``) are found too; one with
``metadata.json`` alone is a run that failed before listing its resources.
"""

from __future__ import annotations

import gzip
import json
import os
import re
import zlib
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timezone
from functools import partial
from itertools import repeat
from pathlib import Path
from urllib.parse import parse_qs, urlparse

from c7n_keyage.overview.records import (
    Run,
    Unreadable,
    Warn,
    lifecycle_step,
    parse_run,
    policy_of,
    uses_filter,
    worth_reading,
)

RESOURCES = ("resources.json", "resources.json.gz")
METADATA = ("metadata.json", "metadata.json.gz")
# c7n's S3 output adds the hour the run started: <policy>/YYYY/MM/DD/HH.
_DATED = re.compile(r"\d{4}/\d{2}/\d{2}/\d{2}")
# S3 latency, not CPU, bounds a remote read: fetch this many runs at a time.
S3_THREADS = 16


class InputError(Exception):
    """An input that cannot be read at all: a missing directory, an S3 bucket refused."""


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
            "inputs": list(self.inputs),
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


@dataclass(frozen=True)
class RunFiles:
    """Where one run's files are, and what its path says."""

    where: str  # the run's directory or S3 prefix
    resources: str | None  # file name within it; None: the run stopped before writing it
    metadata: str | None
    path_parts: tuple[str, ...]  # between the input and the policy's directory
    dated: datetime | None  # from a dated S3 layout
    actions: tuple[str, ...] = ()  # action-<name>[.gz]: what c7n wrote of actions' results


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


def _run_files(where: str, parts: Sequence[str], names: Iterable[str]) -> RunFiles | None:
    names = set(names)
    resources = next((n for n in RESOURCES if n in names), None)
    metadata = next((n for n in METADATA if n in names), None)
    if resources is None and metadata is None:
        return None
    path_parts, dated = split_dated(parts)
    actions = tuple(sorted(n for n in names if n.startswith("action-")))
    return RunFiles(where, resources, metadata, path_parts, dated, actions)


def decode(name: str, data: bytes) -> object:
    """A file's JSON, gunzipped when it is gzip (by its content: a synced copy may lose the
    suffix or keep it on a plain file)."""
    try:
        if data[:2] == b"\x1f\x8b":
            data = gzip.decompress(data)
        return json.loads(data)
    except (OSError, EOFError, zlib.error) as e:
        raise Unreadable(f"{name}: not a readable gzip file ({e})") from None
    except ValueError as e:  # JSONDecodeError and UnicodeDecodeError
        raise Unreadable(f"{name}: not valid JSON ({e})") from None


def load_run(files: RunFiles, fetch: Callable[[str], bytes], warn: Warn) -> Run | None:
    """One run -> a ``Run``; None when it is not this plugin's. ``fetch`` reads a file of the
    run by name. Raises ``Unreadable`` naming the file, ``Failed`` for a run of the filter
    that wrote no resources."""
    if files.metadata is None:
        raise Unreadable(f"{files.where}/metadata.json: missing (c7n writes it with every run)")
    metadata = decode(f"{files.where}/{files.metadata}", fetch(files.metadata))
    policy = policy_of(metadata, files.where)
    if not worth_reading(policy):
        return None
    if files.resources is None:
        if not uses_filter(policy.get("filters")):
            return None
        raise Failed(
            f"{files.where}: no resources.json: the run stopped before listing its resources "
            "(its custodian-run.log says why); its account keeps its previous figures"
        )
    resources = decode(f"{files.where}/{files.resources}", fetch(files.resources))
    results = []
    if lifecycle_step(policy, dryrun=False) is not None:
        for name in files.actions:
            try:
                results.append((f"{files.where}/{name}", decode(name, fetch(name))))
            except Unreadable as problem:  # the run's figures stand on the policy's word
                warn(f"{files.where}/{problem}")
    return parse_run(
        files.where,
        metadata,
        resources,
        warn=warn,
        dated=files.dated,
        path_parts=files.path_parts,
        results=results,
    )


def local_runs(root: Path) -> list[RunFiles]:
    if not root.is_dir():
        raise InputError(f"{root}: not a directory")
    found = []
    for directory, subdirs, names in os.walk(root):
        subdirs.sort()
        parts = Path(directory).relative_to(root).parts
        files = _run_files(directory, parts, names)
        if files is not None:
            found.append(files)
    return found


def _read_local(path: str, name: str) -> bytes:
    try:
        return Path(path, name).read_bytes()
    except OSError as e:
        raise Unreadable(f"{path}/{name}: {e.strerror or e}") from None


def _s3_client(url: str):
    import boto3  # only for S3 inputs: a local report never pays for it

    region = parse_qs(urlparse(url).query).get("region", [None])[0]
    return boto3.client("s3", region_name=region)


def _client(make: Callable[[str], object], url: str):
    from botocore.exceptions import BotoCoreError

    try:
        return make(url)
    except (BotoCoreError, ValueError) as e:  # a bad ?region=, no botocore data...
        raise InputError(f"{url}: {e}") from None


def s3_runs(url: str, client) -> list[RunFiles]:
    """The runs under an ``s3://bucket/prefix`` (c7n's ``?region=`` query is allowed)."""
    from botocore.exceptions import BotoCoreError, ClientError

    parsed = urlparse(url)
    bucket, prefix = parsed.netloc, parsed.path.strip("/")
    listed = f"{prefix}/" if prefix else ""
    directories: dict[str, list[str]] = {}
    try:
        for page in client.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=listed):
            for item in page.get("Contents", ()):
                directory, _, name = item["Key"].rpartition("/")
                directories.setdefault(directory, []).append(name)
    except (BotoCoreError, ClientError) as e:
        raise InputError(f"{url}: {e}") from None
    found = []
    for directory in sorted(directories):
        below = directory[len(listed) :] if directory.startswith(listed) else directory
        parts = tuple(p for p in below.split("/") if p)
        where = f"s3://{bucket}/{directory}" if directory else f"s3://{bucket}"
        files = _run_files(where, parts, directories[directory])
        if files is not None:
            found.append(files)
    return found


def _read_s3(client, where: str, name: str) -> bytes:
    from botocore.exceptions import BotoCoreError, ClientError

    bucket, _, directory = where[len("s3://") :].partition("/")
    key = f"{directory}/{name}" if directory else name
    try:
        return client.get_object(Bucket=bucket, Key=key)["Body"].read()
    except (BotoCoreError, ClientError) as e:
        raise Unreadable(f"{where}/{name}: {e}") from None


def read_inputs(
    inputs: Sequence[str], warn: Warn, *, s3_client: Callable[[str], object] = _s3_client
) -> tuple[list[Run], Stats]:
    """Every run of this plugin under ``inputs`` (directories or ``s3://`` URLs).

    A run of another policy is counted and skipped; an unreadable one is named in
    ``Stats.unreadable`` and through ``warn``; an input that cannot be listed at all raises
    ``InputError``.
    """
    stats = Stats(list(inputs))
    runs: list[Run] = []

    def load(files: RunFiles, fetch: Callable[[str, str], bytes]) -> Run | None | Exception:
        try:
            return load_run(files, lambda name: fetch(files.where, name), warn)
        except (Unreadable, Failed) as problem:
            return problem

    for source in inputs:
        if source.startswith("s3://"):
            client = _client(s3_client, source)
            found = s3_runs(source, client)
            fetch = partial(_read_s3, client)
            with ThreadPoolExecutor(S3_THREADS) as pool:
                results = list(pool.map(load, found, repeat(fetch)))
        else:
            found = local_runs(Path(source))
            results = [load(files, _read_local) for files in found]
        stats.runs_found += len(found)
        for result in results:
            if isinstance(result, Exception):
                (stats.failed if isinstance(result, Failed) else stats.unreadable).append(
                    str(result)
                )
                warn(str(result))
            elif result is None:
                stats.other_policy += 1
            else:
                runs.append(result)
    stats.runs_read = len(runs)
    return runs, stats
