"""The ``retired-keys`` filter: users carrying retirement records, each with its key's state.

The shell around ``record.py``, ``plan.py`` and ``select.py``: it reads each candidate
user's tags live (``reads.py``), keeps the records its options select, reads the recorded
keys' live state, and annotates ``c7n:retired-keys`` (what reports and the mailer show).
In a policy that restores or deletes, c7n's answers are per user, and records must be
chosen per record: as filtering ends (``choose``), each matched user's ``c7n:retired-keys``
becomes exactly the records the policy's filters choose, evaluated for each record, which
is what ``restore-keys`` and ``delete-retired-keys`` act on. Tags with the lifecycle's prefix
that cannot be trusted are listed in ``c7n:retired-keys-refused`` and logged, never acted on.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

from c7n.utils import local_session, type_schema

from c7n_keyage import aws, policy_run
from c7n_keyage.credential_report.fetch import PERMISSIONS as REPORT_PERMISSIONS
from c7n_keyage.credential_report.reader import ReportFilter
from c7n_keyage.dates import utcnow
from c7n_keyage.lifecycle import plan, reads, rules, select
from c7n_keyage.lifecycle.record import Record, format_time
from c7n_keyage.names import (
    DELETE,
    DELETE_AFTER,
    LOGGER,
    REFUSED_RECORDS,
    RETIRED_FILTER,
    RETIRED_KEYS,
    SOURCE,
    WITHIN_HOURS,
)
from c7n_keyage.options import MAX_DAYS, REPORT_OPTIONS

log = logging.getLogger(LOGGER)
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
    WITHIN_HOURS: {
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


def entry(record: Record, state: plan.KeyState, delete_after_days: int | None) -> dict:
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
    if delete_after_days is not None:
        found["delete_after"] = format_time(record.retired_at + timedelta(days=delete_after_days))
    return found


def choose(manager: Any, resources: list[dict]) -> list[dict]:
    """As a restore or delete policy's filtering ends: each matched user's
    ``c7n:retired-keys`` is the records the policy's filters choose, evaluated for each
    record (``select.py``); a user left with none, and no refused tag to show, is not
    matched. Only records and key states this run read; no call."""
    filters, read = manager.data.get("filters") or [], policy_run.lifecycle_reads(manager)
    deletes = DELETE in rules.lifecycle_actions(manager.data)
    grace = rules.grace_days(manager.data) if deletes else None
    # The retired-keys filters set it for every user they saw; when c7n stopped before them
    # (another filter left no one), nothing is chosen and the clock is merely read.
    now = policy_run.moment(manager, utcnow)
    kept = []
    for resource in resources:
        found = read.get(resource["UserName"])
        if not isinstance(found, reads.UserRecords):
            continue
        chosen = select.selected(
            filters,
            found.records,
            now,
            lambda path, resource=resource: policy_run.passed(manager, path, resource),
        )
        resource[RETIRED_KEYS] = [
            entry(r, found.states.get(r.key_id, plan.GONE), grace) for r in chosen
        ]
        if resource[RETIRED_KEYS] or resource.get(REFUSED_RECORDS):
            kept.append(resource)
        else:
            log.info(
                "policy:%s user %s: the policy's filters, evaluated for each of its records, "
                "choose none; nothing to act on",
                policy_run.policy_name(manager),
                resource["UserName"],
            )
    return kept


class RetiredKeys(ReportFilter):
    """Find IAM users with access keys retired by ``retire-keys`` (key lifecycle).

    ``retire-keys`` records each key it disables as a tag on its user,
    ``c7n-keyage:retired:<AccessKeyId>`` = ``<UTC time> <policy name> last-used=<what the
    retirement saw>``. This filter matches users with at least one such record, selected by:

    - ``days``: retired more than this many days ago (default 0: every record);
    - ``policy``: retired by the policy of this name;
    - ``within-hours``: retired less than this many hours ago (an incident restore).

    In a policy with ``restore-keys`` or ``delete-retired-keys``, records are chosen one by
    one: the policy's filters are evaluated for each record (each ``retired-keys`` by its
    options, every other filter by the record's user, ``and``/``or``/``not`` combining
    them), and ``c7n:retired-keys`` lists exactly the records chosen: a user's record of
    one policy never brings along its record of another.

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

    def __init__(self, data, manager=None):
        super().__init__(data, manager)
        if manager is not None and rules.acts_on_records(manager.data):
            filters = manager.data.get("filters") or []
            policy_run.watch(manager, [path for path, _ in select.user_nodes(filters)])
            policy_run.on_finish(manager, choose)

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

    def validate(self):
        super().validate()
        if problems := rules.problems(self.policy_data()):
            raise self.invalid("; ".join(problems))
        return self

    def delete_after_days(self) -> int | None:
        """After how many days from its retirement a key is deleted: by this policy's grace,
        or the one the option names; None when the policy does not say."""
        if DELETE in rules.lifecycle_actions(self.policy_data()):
            return rules.grace_days(self.policy_data())
        return self.data.get(DELETE_AFTER)

    def process(self, resources, event=None):
        now = policy_run.moment(self.manager, self.clock)
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
        selected = [r for r in found.records if select.passes(self.data, r, now)]
        if not selected and not found.problems:
            return False
        days = self.delete_after_days()
        entries = [entry(r, found.states.get(r.key_id, plan.GONE), days) for r in selected]
        refused = [{"tag": p.tag_key, "value": p.value, "reason": p.reason} for p in found.problems]
        resource[RETIRED_KEYS] = policy_run.merge(
            entries, resource.get(RETIRED_KEYS), operator, _same_key
        )
        # The user's, not a record's: every filter of the run writes the same list.
        resource[REFUSED_RECORDS] = refused
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


def _same_key(a: dict, b: dict) -> bool:
    return a["access_key_id"] == b["access_key_id"]
