"""Small runs as files, in c7n's layouts: metadata.json and resources.json with just the
fields a reader needs, written plain or gzipped, for the reader's tests."""

from __future__ import annotations

import gzip
import json
from datetime import datetime, timezone
from pathlib import Path

from c7n_keyage.overview.inputs import read_inputs

START = datetime(2026, 12, 2, 6, 30, tzinfo=timezone.utc)
ENTRY = {
    "slot": 1,
    "last_rotated": "2025-10-28T14:29:00+00:00",
    "last_used_date": None,
    "last_used_service": None,
    "last_used_region": None,
    "reasons": ["never-used"],
    "days_since_use": None,
    "days_since_rotation": 400,
    "verified": False,
}
KEYAGE = {"name": "stale-keys", "resource": "iam-user", "filters": [{"type": "access-key-unused"}]}
OTHER = {"name": "old-amis", "resource": "ami", "filters": [{"type": "image-age", "days": 90}]}


def metadata(policy=KEYAGE, account="111111111111", start=START, region="us-east-1") -> dict:
    return {
        "policy": policy,
        "execution": {"start": start.timestamp()},
        "config": {"account_id": account, "region": region, "dryrun": False},
    }


def resources(*users: str) -> list:
    return [{"UserName": u, "c7n:unused-keys": [ENTRY]} for u in users]


def write(directory: Path, meta: object, found: object, gz: bool = False) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    for name, value in (("metadata.json", meta), ("resources.json", found)):
        data = (value if isinstance(value, bytes) else json.dumps(value).encode()) or b""
        if gz:
            (directory / f"{name}.gz").write_bytes(gzip.compress(data))
        else:
            (directory / name).write_bytes(data)


def read(*inputs, **kw):
    """Every run under ``inputs``, what was read, and the warnings, in order."""
    warnings: list[str] = []
    runs, stats = read_inputs([str(i) for i in inputs], warnings.append, **kw)
    return list(runs), stats, warnings
