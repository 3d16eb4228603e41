"""One run's outputs -> a ``Run``: pure (parsed JSON in, records out).

A run is what c7n writes for one policy in one account: ``metadata.json`` (the policy, the
execution's start, the config with the account and the region) and ``resources.json`` (the
matched resources, with the filter's annotations). A run that cannot be used raises
``Unreadable`` naming the file and the field; a bad entry inside a usable run is a warning
through ``warn`` and is left out, so one bad key never hides the others.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timezone

FILTER = "access-key-unused"
UNUSED_KEYS = "c7n:unused-keys"
RETIRED_KEYS = "c7n:retired-keys"
ROOT_USER = "<root_account>"
REASONS = ("unused", "never-used", "unrotated")
# c7n:retired-keys status -> what the lifecycle did to the key.
STATUSES = {"Inactive": "retired", "Active": "restored", "missing": "deleted"}
# The key lifecycle's actions (issue 15). Each returns one result per key, which c7n writes
# to the run's action-<name> file: {"UserName", "AccessKeyId", "outcome", "reason"}.
LIFECYCLE_ACTIONS = ("retire-keys", "restore-keys", "delete-retired-keys")
OUTCOMES = ("retired", "restored", "deleted", "record-removed", "kept", "refused", "failed")
# Policies on these resources are read even without the filter: a lifecycle policy may
# carry c7n:retired-keys records.
KEY_RESOURCES = frozenset({"iam-user", "aws.iam-user", "account", "aws.account"})

Warn = Callable[[str], None]


class Unreadable(Exception):
    """A run that cannot be used; the message names the file and the field."""


@dataclass(frozen=True, slots=True)
class StaleKey:
    """One ``c7n:unused-keys`` entry, with its age at the run's time."""

    user: str
    access_key_id: str | None
    slot: int | None
    last_rotated: str | None
    last_used_date: str | None
    last_used_service: str | None
    last_used_region: str | None
    reasons: tuple[str, ...]
    # Days since last use, or since creation when never used: what the age chart shows.
    age_days: int

    @property
    def identity(self) -> tuple:
        """The same key in two policies' outputs: a report-only entry has no key ID, and a
        verified one may have no slot (twins), but both carry the creation time."""
        if self.last_rotated is not None:
            return (self.user, "created", self.last_rotated)
        if self.access_key_id is not None:
            return (self.user, "id", self.access_key_id)
        return (self.user, "slot", self.slot)


@dataclass(frozen=True, slots=True)
class RetiredKey:
    """One ``c7n:retired-keys`` record of the key lifecycle (retire, restore, delete)."""

    user: str
    access_key_id: str
    retired_at: str
    policy: str
    status: str  # Inactive, Active or missing
    used_since_retired: bool


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
    retired: tuple[RetiredKey, ...]
    # The lifecycle action the run took (not a dry run), and its per-key results when c7n
    # wrote them (None: no results file, so the policy's word is all there is).
    step: str | None = None
    outcomes: tuple[Outcome, ...] | None = None

    @property
    def date(self) -> date:
        return self.started.date()

    def done(self) -> set[str] | None:
        """The key IDs the run's action did act on, by its results; None without results."""
        if self.outcomes is None:
            return None
        return {o.access_key_id for o in self.outcomes if o.outcome == self.action}


def policy_of(metadata: object, where: str) -> dict:
    """The policy as c7n wrote it in ``metadata.json``."""
    policy = metadata.get("policy") if isinstance(metadata, dict) else None
    if not isinstance(policy, dict) or not isinstance(policy.get("name"), str):
        raise Unreadable(f"{where}/metadata.json: no policy with a name (field policy.name)")
    return policy


def uses_filter(filters: object) -> bool:
    """Whether ``access-key-unused`` is among the filters, at any depth of and/or/not."""
    if not isinstance(filters, list):
        return False
    for item in filters:
        if item == FILTER:
            return True
        if isinstance(item, dict):
            if item.get("type") == FILTER:
                return True
            if any(uses_filter(item.get(block)) for block in ("and", "or", "not")):
                return True
    return False


def worth_reading(policy: dict) -> bool:
    """Whether a run's resources can hold this plugin's records (cheap: before loading them)."""
    return uses_filter(policy.get("filters")) or policy.get("resource") in KEY_RESOURCES


def action_of(policy: dict, dryrun: bool) -> str | None:
    """What the policy's actions did to its matched keys; c7n writes ``resources.json``
    before the actions run and no per-key result after, so this is the policy's word."""
    if dryrun:
        return None
    for action in policy.get("actions") or ():
        name = action.get("type") if isinstance(action, dict) else action
        if name == "remove-keys":
            return "disabled" if isinstance(action, dict) and action.get("disable") else "deleted"
        if name == "retire-keys":
            return "retired"
    return None


def lifecycle_step(policy: dict, dryrun: bool) -> str | None:
    """The lifecycle action the policy takes (one per policy: its validate() says so)."""
    if dryrun:
        return None
    for action in policy.get("actions") or ():
        name = action.get("type") if isinstance(action, dict) else action
        if name in LIFECYCLE_ACTIONS:
            return name
    return None


def parse_outcomes(name: str, results: object, warn: Warn) -> tuple[Outcome, ...] | None:
    """An ``action-<name>`` file's per-key results; None (with a warning naming the file)
    when it is not a list of them."""
    if not isinstance(results, list):
        warn(f"{name}: not a list of per-key results; the policy's word is used instead")
        return None
    outcomes = []
    for result in results:
        fields = ("UserName", "AccessKeyId", "outcome")
        if not isinstance(result, dict) or not all(isinstance(result.get(f), str) for f in fields):
            warn(f"{name}: a result without UserName, AccessKeyId and outcome")
            continue
        if result["outcome"] not in OUTCOMES:
            warn(f"{name}: key {result['AccessKeyId']}: unknown outcome {result['outcome']!r}")
            continue
        outcomes.append(Outcome(result["UserName"], result["AccessKeyId"], result["outcome"]))
    return tuple(outcomes)


def account_name_from_path(parts: Sequence[str], region: str | None) -> str | None:
    """c7n-org writes ``<account name>/<region>/<policy>``: ``parts`` are the directories
    between the input and the policy's, so the name is the one before the region."""
    if region and len(parts) >= 2 and parts[-1] == region:
        return parts[-2]
    return None


def _start(metadata: dict, dated: datetime | None, where: str, warn: Warn) -> datetime:
    execution = metadata.get("execution")
    start = execution.get("start") if isinstance(execution, dict) else None
    if isinstance(start, int | float) and not isinstance(start, bool) and math.isfinite(start):
        return datetime.fromtimestamp(start, timezone.utc)
    if dated is not None:
        warn(
            f"{where}/metadata.json: execution.start missing or not a time; "
            "the run is dated by its S3 path"
        )
        return dated
    raise Unreadable(f"{where}/metadata.json: execution.start missing or not a time")


def _account_id(config: dict, resources: list, where: str) -> str:
    account = config.get("account_id")
    if isinstance(account, str) and account:
        return account
    # Older or hand-made configs: the resources still say whose they are.
    for resource in resources:
        if isinstance(resource, dict):
            if isinstance(resource.get("account_id"), str):
                return resource["account_id"]
            arn = resource.get("Arn")
            if isinstance(arn, str) and arn.count(":") >= 5 and arn.split(":")[4]:
                return arn.split(":")[4]
    raise Unreadable(f"{where}/metadata.json: config.account_id missing")


def _parse_time(value: str) -> datetime | None:
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def _optional_str(entry: dict, field: str) -> str | None:
    value = entry.get(field)
    return value if isinstance(value, str) else None


def _age(entry: dict, started: datetime) -> int | None:
    """Days since last use, or since creation when never used: the entry's own count (made at
    the run's time), else from its date and the run's start, in the same whole days."""
    if entry.get("last_used_date") is not None:
        days, moment = entry.get("days_since_use"), entry.get("last_used_date")
    else:
        days, moment = entry.get("days_since_rotation"), entry.get("last_rotated")
    if isinstance(days, int) and not isinstance(days, bool):
        return max(days, 0)
    moment = _parse_time(moment) if isinstance(moment, str) else None
    return max((started - moment).days, 0) if moment else None


def _stale_key(user: str, entry: object, started: datetime, where: str, warn: Warn):
    if not isinstance(entry, dict):
        warn(f"{where}/resources.json: user {user}: {UNUSED_KEYS} entry is not an object")
        return None
    reasons = entry.get("reasons")
    known = tuple(r for r in REASONS if isinstance(reasons, list) and r in reasons)
    if not known:
        warn(f"{where}/resources.json: user {user}: {UNUSED_KEYS} entry without a known reason")
        return None
    age = _age(entry, started)
    if age is None:
        warn(
            f"{where}/resources.json: user {user}: {UNUSED_KEYS} entry without days_since_use, "
            "days_since_rotation or a readable date"
        )
        return None
    slot = entry.get("slot")
    return StaleKey(
        user=user,
        access_key_id=_optional_str(entry, "access_key_id"),
        slot=slot if isinstance(slot, int) and not isinstance(slot, bool) else None,
        last_rotated=_optional_str(entry, "last_rotated"),
        last_used_date=_optional_str(entry, "last_used_date"),
        last_used_service=_optional_str(entry, "last_used_service"),
        last_used_region=_optional_str(entry, "last_used_region"),
        reasons=known,
        age_days=age,
    )


def _retired_key(user: str, record: object, where: str, warn: Warn):
    fields = ("access_key_id", "retired_at", "policy", "status")
    if not isinstance(record, dict):
        warn(f"{where}/resources.json: user {user}: {RETIRED_KEYS} record is not an object")
        return None
    bad = [f for f in fields if not isinstance(record.get(f), str)]
    if "status" not in bad and record["status"] not in STATUSES:
        bad.append("status")
    if not isinstance(record.get("used_since_retired"), bool):
        bad.append("used_since_retired")
    if bad:
        warn(f"{where}/resources.json: user {user}: {RETIRED_KEYS} record: bad {', '.join(bad)}")
        return None
    return RetiredKey(user, *(record[f] for f in fields), record["used_since_retired"])


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
    if not isinstance(resources, list):
        raise Unreadable(f"{where}/resources.json: not a list of resources")
    config = metadata.get("config") if isinstance(metadata.get("config"), dict) else {}
    started = _start(metadata, dated, where, warn)
    reads_keys = uses_filter(policy.get("filters"))
    keys: list[StaleKey] = []
    retired: list[RetiredKey] = []
    name = None
    for resource in resources:
        if not isinstance(resource, dict):
            warn(f"{where}/resources.json: a resource is not an object")
            continue
        if "UserName" in resource:
            user = str(resource["UserName"])
        else:  # the account resource: its keys are the root user's
            user = ROOT_USER
            if isinstance(resource.get("account_name"), str):
                name = resource["account_name"]
        # Only the filter's own policies: another policy's records may carry a copy of the
        # annotation from c7n's shared cache.
        entries = resource.get(UNUSED_KEYS, []) if reads_keys else []
        if not isinstance(entries, list):
            warn(f"{where}/resources.json: user {user}: {UNUSED_KEYS} is not a list")
            entries = []
        records = resource.get(RETIRED_KEYS, [])
        if not isinstance(records, list):
            warn(f"{where}/resources.json: user {user}: {RETIRED_KEYS} is not a list")
            records = []
        keys += filter(None, (_stale_key(user, e, started, where, warn) for e in entries))
        retired += filter(None, (_retired_key(user, r, where, warn) for r in records))
    dryrun = config.get("dryrun") is True
    step = lifecycle_step(policy, dryrun)
    outcomes = None
    if step is not None:
        for name, parsed in results:
            found = parse_outcomes(name, parsed, warn)
            if found is not None:
                outcomes = (outcomes or ()) + found
    if not reads_keys and not retired and not outcomes:
        return None
    region = config.get("region") if isinstance(config.get("region"), str) else None
    return Run(
        where=where,
        account_id=_account_id(config, resources, where),
        account_name=name or account_name_from_path(path_parts, region),
        policy=policy["name"],
        started=started,
        action=action_of(policy, dryrun),
        keys=tuple(keys),
        retired=tuple(retired),
        step=step,
        outcomes=outcomes,
    )
