"""The ``retired-keys`` filter: users carrying retirement records, each with its key's state.

The shell around ``record.py`` and ``plan.py``: it reads each candidate user's tags live
(``live.py``), keeps the records its options select, reads the recorded keys' live state,
and annotates ``c7n:retired-keys`` (what ``restore-keys`` and ``delete-retired-keys`` act
on, and what reports and the mailer show). Tags with the lifecycle's prefix that cannot be
trusted are listed in ``c7n:retired-keys-refused`` and logged, never acted on.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

from botocore.exceptions import ClientError
from c7n.exceptions import PolicyExecutionError
from c7n.utils import local_session, type_schema

from c7n_keyage import composition, scope, source
from c7n_keyage.fetch import DENIED, error_code
from c7n_keyage.fetch import PERMISSIONS as REPORT_PERMISSIONS
from c7n_keyage.filters import AccessKeyUnused
from c7n_keyage.lifecycle import live, plan
from c7n_keyage.lifecycle.record import Record, format_time
from c7n_keyage.options import MAX_DAYS, REPORT_OPTIONS

log = logging.getLogger("custodian.keyage")

RETIRED_KEYS, REFUSED = scope.RETIRED_KEYS, scope.REFUSED_RECORDS
WITHIN = "within-hours"
DELETE_AFTER = "delete-after-days"
OPTIONS = {
    "days": {
        "title": "Records of keys retired more than this many days ago (0: every record).",
        "type": "integer",
        "minimum": 0,
        "maximum": MAX_DAYS,
        "default": 0,
    },
    "policy": {
        "title": "Only records written by the policy of this name.",
        "type": "string",
        "minLength": 1,
    },
    WITHIN: {
        "title": "Only records of keys retired less than this many hours ago.",
        "type": "integer",
        "minimum": 1,
        "maximum": MAX_DAYS * 24,
    },
    DELETE_AFTER: {
        "title": "In a policy that only reports or notifies: the grace of the policy that "
        "deletes retired keys, so each record says when its key will be deleted.",
        "type": "integer",
        "minimum": 1,
        "maximum": MAX_DAYS,
    },
}


def entry(record: Record, state: plan.KeyState, delete_after: datetime | None) -> dict:
    """One ``c7n:retired-keys`` entry: JSON-ready."""
    used = plan.used_since(record, state)
    found = {
        "access_key_id": record.key_id,
        "retired_at": record.retired_at_text,
        "policy": record.policy,
        "status": state.status,
        # Unknown counts as used: nothing deletes such a key.
        "used_since_retired": used is not False,
    }
    if used is None:
        found["last_use_unknown"] = True
    if delete_after is not None:
        found["delete_after"] = format_time(delete_after)
    return found


def _merge(resource: dict, name: str, values: list[dict], operator: str, by: str) -> None:
    existing = resource.get(name)
    if existing is None:
        resource[name] = values
    elif operator == "or":
        seen = {e[by] for e in existing}
        resource[name] = existing + [v for v in values if v[by] not in seen]
    else:
        kept = {e[by] for e in existing}
        resource[name] = [v for v in values if v[by] in kept]


class RetiredKeys(AccessKeyUnused):
    """Find IAM users with access keys retired by ``retire-keys`` (key lifecycle).

    ``retire-keys`` records each key it disables as a tag on its user,
    ``c7n-keyage:retired:<AccessKeyId>`` = ``<UTC time> <policy name>``. This filter
    matches users with at least one such record, selected by:

    - ``days``: retired more than this many days ago (default 0: every record);
    - ``policy``: retired by the policy of this name;
    - ``within-hours``: retired less than this many hours ago (an incident restore).

    ``delete-after-days`` (a report or notify policy only) names the grace of the policy
    that deletes retired keys, so that each entry says when its key will be deleted.

    Each matched record is listed in ``c7n:retired-keys`` with the key's live state:
    ``access_key_id``, ``retired_at``, ``policy``, ``status`` (``Inactive``, ``Active`` or
    ``missing``), ``used_since_retired`` and, in a policy with ``delete-retired-keys``,
    ``delete_after`` (``retired_at`` plus ``days``). A record whose time does not parse,
    has no zone, names no policy or lies in the future is never trusted: it is logged and
    listed in ``c7n:retired-keys-refused``, and its user matched so the refusal shows.

    Calls: one ``ListUserTags`` per user read; for users with records, one
    ``ListAccessKeys`` and one ``GetAccessKeyLastUsed`` per recorded key. With
    ``source: credential-report`` only users with an inactive key in the report are read
    (a key retired after the report was made is seen with the next report).

    :example:

    Delete keys retired more than 30 days ago and unused since:

    .. code-block:: yaml

      policies:
        - name: iam-delete-retired-keys
          resource: iam-user
          filters:
            - type: retired-keys
              days: 30
          actions:
            - type: delete-retired-keys

    :example:

    Incident: restore everything one policy retired in the last day:

    .. code-block:: yaml

      policies:
        - name: iam-restore-retired-keys
          resource: iam-user
          filters:
            - type: retired-keys
              policy: iam-retire-stale-keys
              within-hours: 24
          actions:
            - type: restore-keys
    """

    schema = type_schema("retired-keys", **OPTIONS, **REPORT_OPTIONS)
    permissions = live.PERMISSIONS

    def on_report(self) -> bool:
        data = self.manager.data if self.manager else {}
        return data.get("source") == source.NAME

    def get_permissions(self):
        # On the report source, the report's too.
        return list(self.permissions) + (list(REPORT_PERMISSIONS) if self.on_report() else [])

    def selects(self, record: Record, now: datetime) -> bool:
        if "policy" in self.data and record.policy != self.data["policy"]:
            return False
        if WITHIN in self.data and not plan.younger_than(record, now, self.data[WITHIN]):
            return False
        return plan.older_than(record, now, self.data.get("days", 0))

    def candidates(self, resources: list[dict]) -> list[dict]:
        """On the report source, the users whose report row has an inactive key."""
        if not self.on_report():
            return resources
        rows = self.get_report().rows
        return [
            r
            for r in resources
            if (row := rows.get(r["UserName"])) is not None
            and any(not k.active and k.last_rotated is not None for k in row.keys)
        ]

    def deletes(self) -> bool:
        data = self.manager.data if self.manager else {}
        return any(a.get("type") == composition.DELETE for a in composition.actions(data))

    def validate(self):
        super().validate()
        if DELETE_AFTER in self.data and self.deletes():
            raise self.invalid(
                f"{DELETE_AFTER} is for policies that report or notify; in a policy with "
                f"{composition.DELETE} the grace is days, and delete_after follows from it"
            )
        return self

    def delete_after(self, record: Record) -> datetime | None:
        """When the key is deleted: by this policy's grace, or the one the option names."""
        if self.deletes():
            days = composition.grace_days(self.manager.data)
        elif DELETE_AFTER in self.data:
            days = self.data[DELETE_AFTER]
        else:
            return None
        return record.retired_at + timedelta(days=days)

    def process(self, resources, event=None):
        now = self.clock()
        policy = self.policy_name()
        client = local_session(self.manager.session_factory).client("iam")
        known = scope.lifecycle_reads(self.manager)
        operator = self.get_block_operator()
        matched, denied, answered = [], {}, False
        for resource in self.candidates(resources):
            user = resource["UserName"]
            if user not in known:
                known[user] = self.read(client, user, now)
            found = known[user]
            if isinstance(found, ClientError) and error_code(found) in DENIED:
                denied[user] = found
                continue
            answered = True
            if not isinstance(found, live.UserRecords):
                continue
            selected = [r for r in found.records if self.selects(r, now)]
            if not selected and not found.problems:
                continue
            entries = [
                entry(r, found.states.get(r.key_id, plan.GONE), self.delete_after(r))
                for r in selected
            ]
            refused = [
                {"tag": p.tag_key, "value": p.value, "reason": p.reason} for p in found.problems
            ]
            _merge(resource, RETIRED_KEYS, entries, operator, "access_key_id")
            _merge(resource, REFUSED, refused, "or", "tag")
            if resource[RETIRED_KEYS] or resource[REFUSED]:
                # The report source's users carry no tags: later filters (exemptions) see
                # the ones just read.
                resource.setdefault("Tags", found.tags)
                matched.append(resource)
        if denied:
            self.report_denied(policy, denied, answered)
        return matched

    def read(self, client: Any, user: str, now: datetime) -> live.UserRecords | ClientError | None:
        policy = self.policy_name()
        try:
            found = live.read_records(client, user, self.manager.retry, now)
        except ClientError as e:
            if error_code(e) not in DENIED:
                log.warning(
                    "policy:%s user %s: retirement records could not be read (%s); nothing "
                    "will act on them",
                    policy,
                    user,
                    e,
                )
            return e
        if found is None:
            log.warning("policy:%s user %s no longer exists; skipped", policy, user)
            return None
        for problem in found.problems:
            log.warning(
                "policy:%s user %s: tag %s=%r is not a record this plugin trusts (%s); "
                "nothing will act on it: remove or correct it by hand",
                policy,
                user,
                problem.tag_key,
                problem.value,
                problem.reason,
            )
        for key_id, error in found.unknown.items():
            log.warning(
                "policy:%s user %s: last use of retired key %s could not be read (%s); it "
                "counts as used, so it is never deleted",
                policy,
                user,
                key_id,
                error,
            )
        return found

    def report_denied(self, policy: str, denied: dict[str, ClientError], answered: bool) -> None:
        needs = " and ".join(live.PERMISSIONS)
        if not answered:
            user, error = next(iter(denied.items()))
            raise PolicyExecutionError(
                f"policy:{policy} access denied reading user {user}'s retirement records: "
                f"the role running this policy needs {needs} ({error})"
            ) from error
        log.error(
            "policy:%s access denied reading the retirement records of %d user(s): %s; the "
            "role running this policy needs %s on them (an SCP or a permissions boundary may "
            "deny it): their records are left alone; the other users' were read",
            policy,
            len(denied),
            ", ".join(sorted(denied)),
            needs,
        )
