"""The ``retired-keys`` filter: users carrying retirement records, each with its key's state.

The shell around ``record.py`` and ``plan.py``: it reads each candidate user's tags live
(``reads.py``), keeps the records its options select, reads the recorded keys' live state,
and annotates ``c7n:retired-keys`` (what ``restore-keys`` and ``delete-retired-keys`` act
on, and what reports and the mailer show). Tags with the lifecycle's prefix that cannot be
trusted are listed in ``c7n:retired-keys-refused`` and logged, never acted on.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

from c7n.utils import local_session, type_schema

from c7n_keyage import aws, composition, policy_run
from c7n_keyage.credential_report.fetch import PERMISSIONS as REPORT_PERMISSIONS
from c7n_keyage.credential_report.reader import ReportFilter
from c7n_keyage.lifecycle import plan, reads
from c7n_keyage.lifecycle.record import Record, format_time
from c7n_keyage.names import DELETE, LOGGER, REFUSED_RECORDS, RETIRED_FILTER, RETIRED_KEYS, SOURCE
from c7n_keyage.options import MAX_DAYS, REPORT_OPTIONS

log = logging.getLogger(LOGGER)
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


class RetiredKeys(ReportFilter):
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

    schema = type_schema(RETIRED_FILTER, **OPTIONS, **REPORT_OPTIONS)
    permissions = reads.PERMISSIONS

    def on_report(self) -> bool:
        return self.policy_data().get("source") == SOURCE

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
        return any(a.get("type") == DELETE for a in composition.actions(self.policy_data()))

    def validate(self):
        super().validate()
        if DELETE_AFTER in self.data and self.deletes():
            raise self.invalid(
                f"{DELETE_AFTER} is for policies that report or notify; in a policy with "
                f"{DELETE} the grace is days, and delete_after follows from it"
            )
        return self

    def delete_after(self, record: Record) -> datetime | None:
        """When the key is deleted: by this policy's grace, or the one the option names."""
        if self.deletes():
            days = composition.grace_days(self.policy_data())
        elif DELETE_AFTER in self.data:
            days = self.data[DELETE_AFTER]
        else:
            return None
        return record.retired_at + timedelta(days=days)

    def process(self, resources, event=None):
        now = self.clock()
        client = local_session(self.manager.session_factory).client("iam")
        reading = aws.Reading(
            self.policy_name(),
            "retirement records",
            reads.PERMISSIONS,
            "their records are left alone",
            "read",
        )
        candidates = self.candidates(resources)
        found = aws.read_each(
            [resource["UserName"] for resource in candidates],
            lambda user: self.read(client, user, now),
            policy_run.lifecycle_reads(self.manager),
            reading,
        )
        operator = self.get_block_operator()
        matched = []
        for resource in candidates:
            records = found.get(resource["UserName"])
            if records is not None and self.annotate(resource, records, now, operator):
                matched.append(resource)
        return matched

    def annotate(
        self, resource: dict, found: reads.UserRecords, now: datetime, operator: str
    ) -> bool:
        """Write the records this filter selects (and the refused tags); whether the user
        then carries any."""
        selected = [r for r in found.records if self.selects(r, now)]
        if not selected and not found.problems:
            return False
        entries = [
            entry(r, found.states.get(r.key_id, plan.GONE), self.delete_after(r)) for r in selected
        ]
        refused = [{"tag": p.tag_key, "value": p.value, "reason": p.reason} for p in found.problems]
        by_key = _same("access_key_id")
        resource[RETIRED_KEYS] = policy_run.merge(
            entries, resource.get(RETIRED_KEYS), operator, by_key
        )
        resource[REFUSED_RECORDS] = policy_run.merge(
            refused, resource.get(REFUSED_RECORDS), "or", _same("tag")
        )
        if not (resource[RETIRED_KEYS] or resource[REFUSED_RECORDS]):
            return False
        # The report source's users carry no tags: later filters (exemptions) see the ones
        # just read.
        resource.setdefault("Tags", found.tags)
        return True

    def read(self, client: Any, user: str, now: datetime) -> reads.UserRecords | None:
        found = reads.read_records(client, user, self.manager.retry, now)
        if found is None:
            return None
        policy = self.policy_name()
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


def _same(field_name: str):
    return lambda a, b: a[field_name] == b[field_name]
