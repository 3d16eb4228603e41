"""One run's outputs -> a ``Run``: pure (parsed JSON in, records out).

A run is what c7n writes for one policy in one account: ``metadata.json`` (the policy, the
execution's start, the config with the account and the region) and ``resources.json`` (the
matched resources, with the filter's annotations). A run that cannot be used raises
``Unreadable`` naming the file and the field; a bad entry inside a usable run is a warning
through ``warn`` and is left out, so one bad key never hides the others. Every value is
checked for its type and range: the files may come from anywhere.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from typing import NamedTuple

from c7n_keyage.dates import parse_iso
from c7n_keyage.names import (
    DELETED,
    FILTER,
    LIFECYCLE_ACTIONS,
    OUTCOMES,
    REASONS,
    REMOVE_KEYS,
    RESTORED,
    RETIRE,
    RETIRED,
    RETIRED_KEYS,
    ROOT_USER,
    UNUSED_KEYS,
)

# c7n:retired-keys status -> what the lifecycle did to the key.
STATUSES = {"Inactive": RETIRED, "Active": RESTORED, "missing": DELETED}
# Policies on these resources are read even without the filter: a lifecycle policy may
# carry c7n:retired-keys records.
KEY_RESOURCES = frozenset({"iam-user", "aws.iam-user", "account", "aws.account"})
# No access key, and no run, is older than AWS itself; a date before it is garbage (Go's
# zero time, a year 1 written for "unknown").
EARLIEST = datetime(2006, 1, 1, tzinfo=timezone.utc)
LATEST_START = datetime(2100, 1, 1, tzinfo=timezone.utc)
# A key's date may be a little after its run's start (clock skew), never a day after.
SKEW = timedelta(days=1)
# Strings from the inputs are shown on the page and in the CSV: no IAM name comes near it.
TEXT_LIMIT = 256
# and/or/not blocks nest this deep at most in a policy worth reading.
NESTING_LIMIT = 64
OWNER_TAGS = {"owner": "owner", "team": "team"}
KEY_TEXTS = ("last_used_date", "last_used_service", "last_used_region")

Warn = Callable[[str], None]


class Unreadable(Exception):
    """A run that cannot be used; the message names the file and the field."""


@dataclass(frozen=True, slots=True)
class StaleKey:
    """One ``c7n:unused-keys`` entry, with its age at the run's time."""

    user: str
    access_key_id: str | None
    slot: int | None
    last_rotated: str | None  # the creation time, as the entry gives it
    created: int | None  # the same, in whole seconds since 1970: what two entries compare
    last_used_date: str | None
    last_used_service: str | None
    last_used_region: str | None
    reasons: tuple[str, ...]
    # Days since last use, or since creation when never used: what the age chart shows.
    age_days: int
    verified: bool = False  # read from the live API (with its ID), not only from a report
    owner: str | None = None  # the user's tags, when the run carries them
    team: str | None = None


@dataclass(frozen=True, slots=True)
class RetiredKey:
    """One ``c7n:retired-keys`` record of the key lifecycle (retire, restore, delete)."""

    user: str
    access_key_id: str
    retired_at: str
    policy: str
    status: str  # Inactive, Active or missing
    used_since_retired: bool
    delete_after: str | None = None


@dataclass(frozen=True, slots=True)
class Outcome:
    """One key's result of a lifecycle action, as the action returned it."""

    user: str
    access_key_id: str
    outcome: str  # one of OUTCOMES


@dataclass(frozen=True, slots=True)
class Run:
    """What one policy found in one account at one time."""

    where: str  # the run's directory or S3 prefix, for messages
    account_id: str
    account_name: str | None
    policy: str
    started: datetime  # UTC
    # What the run did to the keys it flagged: "disabled", "deleted" (remove-keys),
    # "retired" (retire-keys); None for a report-only policy or a dry run.
    action: str | None
    keys: tuple[StaleKey, ...]
    retired: tuple[RetiredKey, ...] = ()
    # The lifecycle action the run took (not a dry run), and its per-key results when c7n
    # wrote them (None: no results file, so the policy's word is all there is).
    step: str | None = None
    outcomes: tuple[Outcome, ...] | None = None
    notifies: bool = False  # the policy has a notify action (not a dry run)

    @property
    def date(self) -> date:
        return self.started.date()

    def done(self) -> set[str] | None:
        """The key IDs the run's action did act on, by its results; None without results."""
        if self.outcomes is None:
            return None
        return {o.access_key_id for o in self.outcomes if o.outcome == self.action}


def text(value: object) -> str | None:
    """A string from the inputs, cut to ``TEXT_LIMIT``; None for anything else."""
    if not isinstance(value, str):
        return None
    return value if len(value) <= TEXT_LIMIT else value[: TEXT_LIMIT - 1] + "…"


def _integer(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def policy_of(metadata: object, where: str) -> dict:
    """The policy as c7n wrote it in ``metadata.json``, its lists checked."""
    policy = metadata.get("policy") if isinstance(metadata, dict) else None
    if not isinstance(policy, dict) or text(policy.get("name")) is None:
        raise Unreadable(f"{where}/metadata.json: no policy with a name (field policy.name)")
    for field in ("filters", "actions"):
        if policy.get(field) is not None and not isinstance(policy[field], list):
            raise Unreadable(f"{where}/metadata.json: policy.{field} is not a list")
    return policy


def config_of(metadata: dict, where: str) -> dict:
    config = metadata.get("config", {})
    if not isinstance(config, dict):
        raise Unreadable(f"{where}/metadata.json: config is not an object")
    return config


def uses_filter(filters: object) -> bool:
    """Whether ``access-key-unused`` is among the filters, at any depth of and/or/not
    (walked without recursion: the blocks may nest as deep as the JSON does)."""
    pending = [(filters, 0)]
    while pending:
        items, depth = pending.pop()
        if not isinstance(items, list) or depth > NESTING_LIMIT:
            continue
        for item in items:
            if item == FILTER or (isinstance(item, dict) and item.get("type") == FILTER):
                return True
            if isinstance(item, dict):
                pending += [(item.get(block), depth + 1) for block in ("and", "or", "not")]
    return False


def worth_reading(policy: dict) -> bool:
    """Whether a run's resources can hold this plugin's records (cheap: before loading them)."""
    resource = policy.get("resource")
    return uses_filter(policy.get("filters")) or (
        isinstance(resource, str) and resource in KEY_RESOURCES
    )


def _action_names(policy: dict) -> list[tuple[str | None, dict]]:
    found = []
    for action in policy.get("actions") or ():
        options = action if isinstance(action, dict) else {}
        found.append((text(options.get("type") if options else action), options))
    return found


def action_of(policy: dict, dryrun: bool) -> str | None:
    """What the policy's actions did to its matched keys; c7n writes ``resources.json``
    before the actions run and no per-key result after, so this is the policy's word."""
    if dryrun:
        return None
    for name, options in _action_names(policy):
        if name == REMOVE_KEYS:
            return "disabled" if options.get("disable") is True else DELETED
        if name == RETIRE:
            return RETIRED
    return None


def lifecycle_step(policy: dict, dryrun: bool) -> str | None:
    """The lifecycle action the policy takes (one per policy: its validate() says so)."""
    if dryrun:
        return None
    return next((n for n, _ in _action_names(policy) if n in LIFECYCLE_ACTIONS), None)


def notifies(policy: dict, dryrun: bool) -> bool:
    return not dryrun and any(name == "notify" for name, _ in _action_names(policy))


def parse_outcomes(name: str, results: object, warn: Warn) -> tuple[Outcome, ...] | None:
    """An ``action-<name>`` file's per-key results; None (with a warning naming the file)
    when it is not a list of them."""
    if not isinstance(results, list):
        warn(f"{name}: not a list of per-key results; the policy's word is used instead")
        return None
    outcomes = []
    for result in results:
        fields = ("UserName", "AccessKeyId", "outcome")
        if not isinstance(result, dict) or not all(text(result.get(f)) for f in fields):
            warn(f"{name}: a result without UserName, AccessKeyId and outcome")
            continue
        if result["outcome"] not in OUTCOMES:
            said = text(result["outcome"])
            warn(f"{name}: key {text(result['AccessKeyId'])}: unknown outcome {said!r}")
            continue
        user, key_id = text(result["UserName"]), text(result["AccessKeyId"])
        outcomes.append(Outcome(user, key_id, result["outcome"]))
    return tuple(outcomes)


def account_name_from_path(parts: Sequence[str], region: str | None) -> str | None:
    """c7n-org writes ``<account name>/<region>/<policy>``: ``parts`` are the directories
    between the input and the policy's, so the name is the one before the region."""
    if region and len(parts) >= 2 and parts[-1] == region:
        return text(parts[-2])
    return None


def start_of(metadata: dict, dated: datetime | None, where: str, warn: Warn) -> datetime:
    """When the run started: ``execution.start`` (seconds since 1970), or the dated S3 path."""
    execution = metadata.get("execution")
    start = execution.get("start") if isinstance(execution, dict) else None
    if isinstance(start, int | float) and not isinstance(start, bool) and math.isfinite(start):
        if EARLIEST.timestamp() <= start < LATEST_START.timestamp():
            return datetime.fromtimestamp(start, timezone.utc)
        raise Unreadable(
            f"{where}/metadata.json: execution.start {start!r} is not a time in seconds "
            f"since 1970 between {EARLIEST.year} and {LATEST_START.year} (milliseconds?)"
        )
    if dated is not None:
        warn(
            f"{where}/metadata.json: execution.start missing or not a time; "
            "the run is dated by its S3 path"
        )
        return dated
    raise Unreadable(f"{where}/metadata.json: execution.start missing or not a time")


def account_of(config: dict, resources: list, where: str) -> str:
    account = text(config.get("account_id"))
    if account:
        return account
    # Older or hand-made configs: the resources still say whose they are.
    for resource in resources:
        if isinstance(resource, dict):
            if text(resource.get("account_id")):
                return text(resource["account_id"])
            arn = text(resource.get("Arn"))
            if arn and arn.count(":") >= 5 and arn.split(":")[4]:
                return arn.split(":")[4]
    raise Unreadable(f"{where}/metadata.json: config.account_id missing")


class When(NamedTuple):
    """A run's start, and the range its keys' dates and ages may fall in."""

    started: datetime
    latest: datetime  # a key's date may be a little after the run's start, never a day
    most_days: int  # no key is older than AWS

    @classmethod
    def of(cls, started: datetime) -> When:
        return cls(started, started + SKEW, (started + SKEW - EARLIEST).days)


def _plausible(value: object, when: When) -> datetime | None | bool:
    """A date of a key: the moment, None when absent, False when it is not a plausible
    date of a key (garbage, before AWS, or after the run)."""
    if value is None:
        return None
    moment = parse_iso(value) if isinstance(value, str) else None
    if moment is None or not EARLIEST <= moment <= when.latest:
        return False
    return moment


def key_age(
    entry: dict, when: When, created: datetime | None | bool
) -> tuple[int | None, str | None]:
    """Days since last use, or since creation when never used: the entry's own count (made
    at the run's time), else from its date (``created``: ``last_rotated`` as ``_plausible``
    read it) and the run's start. (age, None) or (None, the field that is wrong)."""
    used = entry.get("last_used_date") is not None
    field = "days_since_use" if used else "days_since_rotation"
    moment_field = "last_used_date" if used else "last_rotated"
    moment = _plausible(entry["last_used_date"], when) if used else created
    if moment is False:
        return None, moment_field
    days = entry.get(field)
    if days is not None:
        if _integer(days) is None or not 0 <= days <= when.most_days:
            return None, field
        return days, None
    if moment is None:
        return None, f"{field} and {moment_field}"
    return max((when.started - moment).days, 0), None


def _entry_problem(entry: object, when: When) -> tuple[str | None, tuple, object, int | None]:
    """(what is wrong or None, the known reasons, the creation time, the age)."""
    if not isinstance(entry, dict):
        return " is not an object", (), None, None
    reasons = entry.get("reasons")
    known = tuple(r for r in REASONS if r in reasons) if isinstance(reasons, list) else ()
    if not known:
        return " without a known reason", (), None, None
    created = _plausible(entry.get("last_rotated"), when)
    age, wrong = key_age(entry, when, created)
    if age is None:
        return f": {wrong} missing, unreadable or out of range; the key is left out", (), None, None
    return None, known, created, age


def _stale_key(user: str, tags: dict, entry: object, when: When, warn: Warn, where: str):
    problem, known, created, age = _entry_problem(entry, when)
    if problem is not None:
        warn(f"{where}/resources.json: user {user}: {UNUSED_KEYS} entry{problem}")
        return None
    get = entry.get
    slot, key_id = get("slot"), text(get("access_key_id"))
    # The optional strings, read once each (this runs for every key of every run).
    used, service, region = (text(get(f)) for f in KEY_TEXTS)
    return StaleKey(
        user,
        key_id,
        slot if slot.__class__ is int and slot in (1, 2) else None,
        text(entry["last_rotated"]) if created else None,
        int(created.timestamp()) if created else None,
        used,
        service,
        region,
        known,
        age,
        get("verified") is True and key_id is not None,
        tags.get("owner"),
        tags.get("team"),
    )


def _retired_key(user: str, record: object, warn: Warn, where: str):
    fields = ("access_key_id", "retired_at", "policy", "status")
    said = f"{where}/resources.json: user {user}: {RETIRED_KEYS} record"
    if not isinstance(record, dict):
        warn(f"{said} is not an object")
        return None
    bad = [f for f in fields if not text(record.get(f))]
    if "status" not in bad and record["status"] not in STATUSES:
        bad.append("status")
    if not isinstance(record.get("used_since_retired"), bool):
        bad.append("used_since_retired")
    if "retired_at" not in bad and parse_iso(record["retired_at"]) is None:
        bad.append("retired_at")
    if bad:
        warn(f"{said}: bad {', '.join(bad)}")
        return None
    after = text(record.get("delete_after"))
    return RetiredKey(
        user,
        *(text(record[f]) for f in fields),
        record["used_since_retired"],
        after if after and parse_iso(after) else None,
    )


def _tags(resource: dict) -> dict[str, str]:
    """The user's owner and team, from its IAM tags (keys compared without case)."""
    found: dict[str, str] = {}
    tags = resource.get("Tags")
    for tag in tags if isinstance(tags, list) else ():
        if isinstance(tag, dict) and text(tag.get("Key")) and text(tag.get("Value")):
            field = OWNER_TAGS.get(tag["Key"].lower())
            if field and field not in found:
                found[field] = text(tag["Value"])
    return found


def _annotation(resource: dict, name: str, user: str, where: str, warn: Warn) -> list:
    found = resource.get(name, [])
    if not isinstance(found, list):
        warn(f"{where}/resources.json: user {user}: {name} is not a list")
        return []
    return found


@dataclass
class _Found:
    keys: list[StaleKey]
    retired: list[RetiredKey]
    account_name: str | None = None


def read_resources(
    resources: list, where: str, started: datetime, reads_keys: bool, warn: Warn
) -> _Found:
    """The stale keys and lifecycle records of a run's resources."""
    found = _Found([], [])
    when = When.of(started)
    for resource in resources:
        if not isinstance(resource, dict):
            warn(f"{where}/resources.json: a resource is not an object")
            continue
        if "UserName" in resource:
            user = text(resource["UserName"])
            if not user:
                warn(f"{where}/resources.json: a resource whose UserName is not a name")
                continue
        else:  # the account resource: its keys are the root user's
            user = ROOT_USER
            found.account_name = text(resource.get("account_name")) or found.account_name
        # Only the filter's own policies: another policy's records may carry a copy of the
        # annotation from c7n's shared cache.
        if reads_keys:
            tags = _tags(resource)
            entries = _annotation(resource, UNUSED_KEYS, user, where, warn)
            found.keys += filter(
                None, (_stale_key(user, tags, e, when, warn, where) for e in entries)
            )
        records = _annotation(resource, RETIRED_KEYS, user, where, warn)
        found.retired += filter(None, (_retired_key(user, r, warn, where) for r in records))
    return found


def _outcomes(step: str | None, results: Sequence[tuple[str, object]], warn: Warn):
    if step is None:
        return None
    outcomes = None
    for name, parsed in results:
        found = parse_outcomes(name, parsed, warn)
        if found is not None:
            outcomes = (outcomes or ()) + found
    return outcomes


def parse_run(
    where: str,
    metadata: object,
    resources: object,
    *,
    warn: Warn,
    dated: datetime | None = None,
    path_parts: Sequence[str] = (),
    results: Sequence[tuple[str, object]] = (),
) -> Run | None:
    """One run's parsed ``metadata.json`` and ``resources.json`` -> a ``Run``.

    None when the run is not this plugin's (neither the filter nor lifecycle records).
    ``dated`` is the time in a dated S3 path (used only if metadata has none); ``path_parts``
    the directories between the input and the policy's (c7n-org's account name);
    ``results`` the run's parsed ``action-<name>`` files, by file name.
    """
    policy = policy_of(metadata, where)
    config = config_of(metadata, where)
    if not isinstance(resources, list):
        raise Unreadable(f"{where}/resources.json: not a list of resources")
    started = start_of(metadata, dated, where, warn)
    reads_keys = uses_filter(policy.get("filters"))
    found = read_resources(resources, where, started, reads_keys, warn)
    dryrun = config.get("dryrun") is True
    step = lifecycle_step(policy, dryrun)
    outcomes = _outcomes(step, results, warn)
    if not reads_keys and not found.retired and not outcomes:
        return None
    return Run(
        where=where,
        account_id=account_of(config, resources, where),
        account_name=found.account_name
        or account_name_from_path(path_parts, text(config.get("region"))),
        policy=text(policy["name"]),
        started=started,
        action=action_of(policy, dryrun),
        keys=tuple(found.keys),
        retired=tuple(found.retired),
        step=step,
        outcomes=outcomes,
        notifies=notifies(policy, dryrun),
    )
