"""The lifecycle's actions on ``iam-user``: ``retire-keys``, ``restore-keys``,
``delete-retired-keys``.

Each returns one result per key, ``{"UserName", "AccessKeyId", "outcome", "reason"}``
(outcome ``retired``, ``restored``, ``deleted``, ``record-removed``, ``kept``, ``refused`` or
``failed``), which c7n writes to the run's ``action-<name>`` file; each change is logged at
INFO with user, key and reason. One user's failure never stops the others. Under
``--dryrun`` c7n runs no action: each logs what it would do as the policy's filtering ends.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from botocore import xform_name
from botocore.exceptions import ClientError
from c7n.actions import BaseAction
from c7n.exceptions import PolicyValidationError
from c7n.utils import local_session, type_schema

from c7n_keyage import aws, policy_run
from c7n_keyage.aws import error_code, is_denied
from c7n_keyage.dates import utcnow
from c7n_keyage.lifecycle import plan, reads, rules
from c7n_keyage.lifecycle.reads import UserRecords
from c7n_keyage.lifecycle.record import Record, Seen, format_record, parse_records
from c7n_keyage.names import (
    DELETE,
    DELETED,
    FAILED,
    KEPT,
    LOGGER,
    MATCHED_KEYS,
    RECORD_REMOVED,
    REFUSED,
    RESTORE,
    RESTORED,
    RETIRE,
    RETIRED,
    RETIRED_KEYS,
    UNUSED_KEYS,
)
from c7n_keyage.options import option_problems

log = logging.getLogger(LOGGER)


def result(user: str, key_id: str, outcome: str, reason: str) -> dict:
    return {"UserName": user, "AccessKeyId": key_id, "outcome": outcome, "reason": reason}


def _failure(operation: str, error: ClientError) -> str:
    code = error_code(error)
    if is_denied(error):
        return f"access denied to iam:{operation} ({code}): the role needs iam:{operation}"
    return f"{operation} failed ({code})"


class LifecycleAction(BaseAction):
    """Shared machinery of the three actions: results, logging, dry run, validation."""

    schema_alias = False
    # Injectable so tests fix the time of a retirement.
    clock = staticmethod(utcnow)

    def __init__(self, data=None, manager=None, log_dir=None):
        super().__init__(data, manager, log_dir)
        policy_run.preview_on_dry_run(manager, self.preview)

    def validate(self):
        # The JSON schema is not checked everywhere (c7n-org, Lambda, --skip-validation).
        data = self.manager.data  # c7n builds every action of a policy with its manager
        if problems := option_problems(self.schema, self.data) + rules.problems(data):
            raise PolicyValidationError(
                f"policy:{self.policy_name()} action {self.type}: {'; '.join(problems)}"
            )
        return self

    def policy_name(self) -> str:
        return policy_run.policy_name(self.manager)

    def preview(self, resources: list[dict]) -> None:
        raise NotImplementedError

    def done(self, results: list, user: str, key_id: str, outcome: str, reason: str) -> None:
        level = logging.ERROR if outcome == FAILED else logging.INFO
        if outcome == REFUSED:
            level = logging.WARNING
        log.log(
            level,
            "policy:%s %s: user %s key %s: %s: %s",
            self.policy_name(),
            self.type,
            user,
            key_id,
            outcome,
            reason,
        )
        results.append(result(user, key_id, outcome, reason))

    def call(self, client: Any, operation: str, **params) -> None:
        method = getattr(client, xform_name(operation))
        self.manager.retry(method, **params)

    def untag(self, client, user, decision, results, outcome: str, reason: str) -> None:
        """Remove ``decision``'s record; ``outcome`` is what was done to its key, if anything."""
        try:
            self.call(client, "UntagUser", UserName=user, TagKeys=[decision.tag_key])
        except ClientError as e:
            if outcome == RECORD_REMOVED:
                return self.done(
                    results, user, decision.key_id, FAILED, f"{_failure('UntagUser', e)}; {reason}"
                )
            reason += (
                f"; its record {decision.tag_key} could not be removed ({_failure('UntagUser', e)})"
            )
            log.error(
                "policy:%s %s: user %s key %s: %s",
                self.policy_name(),
                self.type,
                user,
                decision.key_id,
                reason,
            )
        self.done(results, user, decision.key_id, outcome, reason)


def seen_by(keys: Any, key_id: str) -> Seen | None:
    """What this run's live read saw of the key's last use; None when it did not read it."""
    if not isinstance(keys, aws.UserKeys) or key_id not in keys.last_used:
        return None
    return Seen(keys.last_use(key_id))


class RetireKeys(LifecycleAction):
    """Retire the stale keys ``access-key-unused`` confirmed: record, then disable.

    For each key in ``c7n:matched-keys`` (confirmed stale on the live API), tag its user
    ``c7n-keyage:retired:<AccessKeyId>`` = ``<UTC time> <policy name> last-used=<the key's
    last use as the live read saw it, or never>`` (``TagUser``), then disable the key
    (``UpdateAccessKey``, ``Inactive``). A key whose last use the run did not read is
    refused, untouched: its record could not say what its retirement saw.

    A failed step never leaves a disabled key without its record. If ``TagUser`` fails (its
    answer may be lost after it took effect), the record is taken back (``UntagUser``) and
    the key left active. If ``UpdateAccessKey`` fails, the key is looked at
    (``ListAccessKeys``): Inactive, the change took effect and only its answer was lost, so
    the record stays and the key is retired; unreadable, the record stays (a later
    ``restore-keys`` or ``delete-retired-keys`` removes it if the key is active); active or
    gone, the record is taken back. A record that cannot be taken back is named in an ERROR
    (the next ``restore-keys`` or ``delete-retired-keys`` removes it as "key active again").

    Then, for each user acted on, one ``ListUserTags``: a record whose key is gone (deleted
    by hand) is removed (outcome ``record-removed``, ``key gone``), as restore and delete do.

    Only in a policy with ``access-key-unused``, whose name a record carries unchanged
    (``validate`` refuses otherwise). Restore with ``restore-keys``; delete after a grace
    with ``delete-retired-keys``.

    :example:

    .. code-block:: yaml

      policies:
        - name: iam-retire-stale-keys
          resource: iam-user
          filters:
            - type: access-key-unused
              days: 90
          actions:
            - type: retire-keys
    """

    schema = type_schema(RETIRE)
    permissions = (
        "iam:TagUser",
        "iam:UpdateAccessKey",
        "iam:UntagUser",
        "iam:ListUserTags",
        "iam:ListAccessKeys",
    )

    @staticmethod
    def keys(resource: dict) -> list[tuple[str, str]]:
        """``(key ID, why)`` for each matched key of ``resource``."""
        reasons = {
            e.get("access_key_id"): "+".join(e.get("reasons") or ())
            for e in resource.get(UNUSED_KEYS) or ()
        }
        return [
            (m["AccessKeyId"], f"stale ({reasons.get(m['AccessKeyId']) or 'confirmed live'})")
            for m in resource.get(MATCHED_KEYS) or ()
            if "AccessKeyId" in m
        ]

    def preview(self, resources: list[dict]) -> None:
        for resource in resources:
            for key_id, why in self.keys(resource):
                log.info(
                    "policy:%s dryrun: would retire user %s key %s: %s",
                    self.policy_name(),
                    resource["UserName"],
                    key_id,
                    why,
                )

    def process(self, resources):
        client = local_session(self.manager.session_factory).client("iam")
        now = self.clock()
        live = policy_run.live_reads(self.manager)
        results: list[dict] = []
        for resource in resources:
            user = resource["UserName"]
            for key_id, why in self.keys(resource):
                seen = seen_by(live.get(user), key_id)
                self.retire(client, user, key_id, why, seen, now, results)
            self.forget_gone(client, user, live.get(user), now, results)
        return results

    def retire(
        self,
        client: Any,
        user: str,
        key_id: str,
        why: str,
        seen: Seen | None,
        now: datetime,
        results: list,
    ) -> None:
        """Record the key, ``why`` it is stale and what was ``seen`` of its use; disable it."""
        if seen is None:
            return self.done(
                results,
                user,
                key_id,
                REFUSED,
                "its last use was not read live in this run, and its record must say what its "
                "retirement saw; key left active",
            )
        tag, value = format_record(key_id, now, self.policy_name(), seen)
        try:
            self.call(client, "TagUser", UserName=user, Tags=[{"Key": tag, "Value": value}])
        except ClientError as e:
            failed = f"{_failure('TagUser', e)}; key left active"
            return self.take_back(client, user, key_id, tag, failed, results)
        try:
            self.call(
                client, "UpdateAccessKey", UserName=user, AccessKeyId=key_id, Status="Inactive"
            )
        except ClientError as e:
            return self.disable_failed(client, user, key_id, f"{tag}={value}", why, e, results)
        self.done(results, user, key_id, RETIRED, f"{why}; recorded as {tag}={value}")

    def disable_failed(
        self,
        client: Any,
        user: str,
        key_id: str,
        recorded: str,
        why: str,
        error: ClientError,
        results: list,
    ) -> None:
        """``UpdateAccessKey`` failed, or took effect and its answer was lost: look at the key
        before taking its record (``recorded``: ``<tag key>=<tag value>``) back."""
        tag = recorded.partition("=")[0]
        failed = _failure("UpdateAccessKey", error)
        try:
            status = reads.key_status(client, user, key_id, self.manager.retry)
        except ClientError as e:
            reason = (
                f"{failed}; the key's state cannot be read ({_failure('ListAccessKeys', e)}), "
                f"so its record {recorded} is kept"
            )
            return self.done(results, user, key_id, FAILED, reason)
        if status == plan.INACTIVE:
            reason = (
                f"{why}; {failed}, but the key reads Inactive: the change took effect and its "
                f"answer was lost; recorded as {recorded}"
            )
            return self.done(results, user, key_id, RETIRED, reason)
        left = "key left active" if status == plan.ACTIVE else "key gone"
        self.take_back(client, user, key_id, tag, f"{failed}; {left}", results)

    def take_back(self, client: Any, user: str, key_id: str, tag: str, failed: str, results):
        """Remove the record just written (or perhaps written) for a key left as it was."""
        try:
            self.call(client, "UntagUser", UserName=user, TagKeys=[tag])
        except ClientError as untag:
            log.error(
                "policy:%s retire-keys: user %s key %s: %s, and its record could not be taken "
                "back (%s): the tag %s may be left on a key it did not disable; remove it by "
                "hand (restore-keys or delete-retired-keys will remove it as 'key active "
                "again')",
                self.policy_name(),
                user,
                key_id,
                failed,
                _failure("UntagUser", untag),
                tag,
            )
            return self.done(results, user, key_id, FAILED, f"{failed}; stray record {tag} left")
        self.done(results, user, key_id, FAILED, f"{failed}; record taken back")

    def forget_gone(self, client: Any, user: str, keys: Any, now: datetime, results) -> None:
        """Remove the user's records whose key is gone, as restore and delete do."""
        if not isinstance(keys, aws.UserKeys):
            return
        try:
            tags = reads.list_tags(client, user)
        except ClientError as e:
            log.warning(
                "policy:%s retire-keys: user %s: its records could not be read (%s); those of "
                "keys gone are left for restore-keys or delete-retired-keys to remove",
                self.policy_name(),
                user,
                _failure("ListUserTags", e),
            )
            return
        records, _ = parse_records(tags, now)
        listed = {k["AccessKeyId"] for k in keys.listed}
        for decision in plan.records_of_gone_keys(records, listed):
            self.untag(client, user, decision, results, RECORD_REMOVED, decision.reason)


class RecordAction(LifecycleAction):
    """``restore-keys`` and ``delete-retired-keys``: act on the records ``retired-keys``
    matched, as ``plan.py`` decides."""

    def decisions(self, resource: dict, now: datetime) -> list[plan.Decision]:
        found = policy_run.lifecycle_reads(self.manager).get(resource["UserName"])
        if not isinstance(found, UserRecords):
            return []
        wanted = {e["access_key_id"] for e in resource.get(RETIRED_KEYS) or ()}
        records = [r for r in found.records if r.key_id in wanted]
        return self.plan(records, found, now)

    def plan(self, records: list[Record], found: UserRecords, now: datetime):
        raise NotImplementedError

    def preview(self, resources: list[dict]) -> None:
        now = self.clock()
        for resource in resources:
            for decision in self.decisions(resource, now):
                log.info(
                    "policy:%s dryrun: %s user %s key %s: %s",
                    self.policy_name(),
                    _would(decision.step),
                    resource["UserName"],
                    decision.key_id,
                    decision.reason,
                )

    def process(self, resources):
        client = local_session(self.manager.session_factory).client("iam")
        now = self.clock()
        results: list[dict] = []
        for resource in resources:
            for decision in self.decisions(resource, now):
                self.apply(client, resource["UserName"], decision, results)
        return results

    def apply(self, client: Any, user: str, decision: plan.Decision, results: list) -> None:
        key_id, reason = decision.key_id, decision.reason
        if decision.step == plan.REFUSE:
            return self.done(results, user, key_id, REFUSED, reason)
        if decision.step == plan.KEEP:
            return self.done(results, user, key_id, KEPT, reason)
        if decision.step == plan.REMOVE_RECORD:
            return self.untag(client, user, decision, results, RECORD_REMOVED, reason)
        operation, params, outcome = self.change(user, key_id)
        try:
            self.call(client, operation, **params)
        except ClientError as e:
            return self.done(results, user, key_id, FAILED, f"{_failure(operation, e)}; {reason}")
        self.untag(client, user, decision, results, outcome, reason)

    def change(self, user: str, key_id: str) -> tuple[str, dict, str]:
        raise NotImplementedError


def _would(step: str) -> str:
    return {
        plan.RESTORE: "would restore",
        plan.DELETE: "would delete",
        plan.REMOVE_RECORD: "would remove the record of",
        plan.KEEP: "would keep",
        plan.REFUSE: "would refuse the record of",
    }[step]


class RestoreKeys(RecordAction):
    """Re-enable the retired keys ``retired-keys`` matched, and remove their records.

    For each matched record whose key still exists and is ``Inactive``:
    ``UpdateAccessKey`` (``Active``), then ``UntagUser``. A record whose key is gone or
    already active is removed, saying why; a record that does not parse or is dated in the
    future is refused (logged, key untouched). Needs a ``retired-keys`` filter.

    :example:

    Restore one user's retired keys:

    .. code-block:: yaml

      policies:
        - name: iam-restore-one-user
          resource: iam-user
          filters:
            - UserName: build-bot
            - type: retired-keys
          actions:
            - type: restore-keys
    """

    schema = type_schema(RESTORE)
    permissions = ("iam:UpdateAccessKey", "iam:UntagUser")

    def plan(self, records, found, now):
        return plan.plan_restore(records, found.problems, found.states)

    def change(self, user, key_id):
        return (
            "UpdateAccessKey",
            {"UserName": user, "AccessKeyId": key_id, "Status": "Active"},
            RESTORED,
        )


class DeleteRetiredKeys(RecordAction):
    """Delete the retired keys whose grace is over, and remove their records.

    For each record ``retired-keys`` matched: the key is deleted (``DeleteAccessKey``, then
    ``UntagUser``) only if it is still ``Inactive``, was retired more than the filter's
    ``days`` ago (the grace; at least 1) and was not used after its retirement; otherwise it
    is kept, saying why. A record whose key is gone or active again is removed, and that key
    is never deleted; a record that does not parse or is dated in the future is refused.

    :example:

    .. code-block:: yaml

      policies:
        - name: iam-delete-retired-keys
          resource: iam-user
          filters:
            - type: retired-keys
              days: 30
          actions:
            - type: delete-retired-keys
    """

    schema = type_schema(DELETE)
    permissions = ("iam:DeleteAccessKey", "iam:UntagUser")

    def plan(self, records, found, now):
        grace = rules.grace_days(self.manager.data)
        return plan.plan_delete(records, found.problems, found.states, now, grace)

    def change(self, user, key_id):
        return "DeleteAccessKey", {"UserName": user, "AccessKeyId": key_id}, DELETED
