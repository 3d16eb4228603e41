"""The fleet saved between reports (``--history FILE``), so a daily report reads that day's
runs only, not the year before it.

The file is the fleet's state as JSON: each account's and policy's latest run (with its
keys), the trend's points, the remediation tallies. It is versioned (``SCHEMA``); a file
of another version, or one that does not read back, is refused with the reason and never
guessed at: delete it to rebuild from all the outputs. It is written whole to a temporary
file beside it, then renamed over it, so a report stopped half-way leaves the old one.
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from dataclasses import fields
from datetime import date, datetime, timezone
from operator import attrgetter
from pathlib import Path

from c7n_keyage.overview.fleet import Fleet
from c7n_keyage.overview.remediation import Remediation
from c7n_keyage.overview.runs import Outcome, RetiredKey, Run, StaleKey

SCHEMA = "c7n-keyage-history/1"
# Each record as the list of its fields, in order (attrgetter: one C call per record).
_KEY = attrgetter(*(f.name for f in fields(StaleKey)))
_RECORD = attrgetter(*(f.name for f in fields(RetiredKey)))
_OUTCOME = attrgetter(*(f.name for f in fields(Outcome)))
_REASONS = [f.name for f in fields(StaleKey)].index("reasons")


class HistoryError(Exception):
    """A history file that cannot be used."""


def _run(run: Run) -> list:
    return [
        run.where,
        run.account_id,
        run.account_name,
        run.policy,
        run.started.timestamp(),
        run.action,
        [_KEY(k) for k in run.keys],
        [_RECORD(r) for r in run.retired],
        run.step,
        None if run.outcomes is None else [_OUTCOME(o) for o in run.outcomes],
        run.notifies,
    ]


def _key(row: list) -> StaleKey:
    values = list(row)  # the caller's list stays as it was
    values[_REASONS] = tuple(values[_REASONS])
    return StaleKey(*values)


def _unrun(row: list) -> Run:
    where, account, name, policy, started, action, keys, retired, step, outcomes, notify = row
    return Run(
        where,
        account,
        name,
        policy,
        datetime.fromtimestamp(started, timezone.utc),
        action,
        tuple(map(_key, keys)),
        tuple(RetiredKey(*r) for r in retired),
        step,
        None if outcomes is None else tuple(Outcome(*o) for o in outcomes),
        notify,
    )


def _remediation(tally: Remediation) -> dict:
    return {
        "acted": {a: sorted(refs) for a, refs in tally.acted.items()},
        "by_policy": [
            [p, a, sorted(e["keys"]), sorted(e["accounts"]), e["last_acted"]]
            for (p, a), e in sorted(tally.by_policy.items())
        ],
        "records": [[*k, at, _RECORD(r)] for k, (at, r) in sorted(tally.records.items())],
        "changes": [[*k, *v] for k, v in sorted(tally.changes.items())],
        "results": [[*k, *v] for k, v in sorted(tally.results.items())],
    }


def _unremediation(data: dict) -> Remediation:
    return Remediation(
        acted={a: set(refs) for a, refs in data["acted"].items()},
        by_policy={
            (p, a): {"keys": set(k), "accounts": set(c), "last_acted": last}
            for p, a, k, c, last in data["by_policy"]
        },
        records={(a, k): (at, RetiredKey(*r)) for a, k, at, r in data["records"]},
        changes={(a, k): (at, o, u, p) for a, k, at, o, u, p in data["changes"]},
        results={(a, k, s): (at, p, o) for a, k, s, at, p, o in data["results"]},
    )


def _day(value: str | None) -> date | None:
    return None if value is None else date.fromisoformat(value)


def to_dict(fleet: Fleet) -> dict:
    fleet.close()
    return {
        "schema": SCHEMA,
        "first_run": fleet.first_run and fleet.first_run.isoformat(),
        "as_of": fleet.as_of and fleet.as_of.isoformat(),
        "runs": [_run(r) for policies in fleet.runs.values() for r in policies.values()],
        "names": {a: list(v) for a, v in sorted(fleet.names.items())},
        "points": fleet.points,
        "current": {a: [d.isoformat(), n] for a, (d, n) in sorted(fleet.current.items())},
        "previous": {a: [d.isoformat(), n] for a, (d, n) in sorted(fleet.previous.items())},
        "ran": sorted(fleet.ran),
        "acted": sorted(fleet.acted),
        "remediation": _remediation(fleet.remediation),
        "counts": [fleet.superseded, fleet.not_newer, fleet.added],
    }


def from_dict(data: dict) -> Fleet:
    fleet = Fleet(first_run=_day(data["first_run"]), as_of=_day(data["as_of"]))
    for row in data["runs"]:
        run = _unrun(row)
        fleet.runs.setdefault(run.account_id, {})[run.policy] = run
    fleet.names = {a: (at, name) for a, (at, name) in data["names"].items()}
    fleet.points = data["points"]
    fleet.current = {a: (date.fromisoformat(d), n) for a, (d, n) in data["current"].items()}
    fleet.previous = {a: (date.fromisoformat(d), n) for a, (d, n) in data["previous"].items()}
    fleet.ran, fleet.acted = set(data["ran"]), set(data["acted"])
    fleet.remediation = _unremediation(data["remediation"])
    fleet.superseded, fleet.not_newer, fleet.added = data["counts"]
    return fleet


def load(path: Path) -> Fleet:
    """The fleet a history file holds; an empty fleet when there is no file yet."""
    if not path.exists():
        return Fleet()
    try:
        with path.open("rb") as f:
            data = json.load(f)
        if not isinstance(data, dict) or data.get("schema") != SCHEMA:
            found = data.get("schema") if isinstance(data, dict) else None
            raise HistoryError(f"schema {found!r}, not {SCHEMA!r}")
        return from_dict(data)
    except HistoryError as e:
        reason = str(e)
    except (OSError, RecursionError, ValueError, TypeError, KeyError, AttributeError) as e:
        reason = f"{type(e).__name__}: {e}"
    raise HistoryError(
        f"{path}: cannot read the history ({reason}); delete it to rebuild it from all the "
        "outputs, or give another --history file"
    )


def _unwritable(path: Path, error: OSError) -> HistoryError:
    return HistoryError(f"{path}: cannot write the history ({error.strerror or error})")


def save(fleet: Fleet, path: Path) -> None:
    text = json.dumps(to_dict(fleet), separators=(",", ":"))  # compact: it is read back only
    try:
        handle, temporary = tempfile.mkstemp(
            prefix=f".{path.name}.", suffix=".tmp", dir=path.parent
        )
    except OSError as e:
        raise _unwritable(path, e) from None
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            out.write(text)
        os.replace(temporary, path)
    except OSError as e:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise _unwritable(path, e) from None
