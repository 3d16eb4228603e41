"""The ``access-key-unused`` filter: the imperative shell around the pure rule.

It takes the account's credential report (``credential_report``), asks
``rule.stale_reasons`` about every key, and, only when the policy will act on keys or asks
for key IDs, hands the flagged users to ``confirm.py``, which confirms their keys on the
live API before anything names them.
"""

from __future__ import annotations

import contextlib
import gc
import logging
from datetime import datetime

from c7n.utils import type_schema

from c7n_keyage import composition, policy_run
from c7n_keyage.aws import KEY_PERMISSIONS
from c7n_keyage.credential_report import source
from c7n_keyage.credential_report.parse import AccessKey, UserRow, future_problems
from c7n_keyage.credential_report.reader import ReportFilter
from c7n_keyage.names import FILTER, LOGGER, ROOT_USER, SOURCE
from c7n_keyage.options import REPORT_OPTIONS, RULE_OPTIONS
from c7n_keyage.stale import confirm
from c7n_keyage.stale.findings import credential_entry, unused_key
from c7n_keyage.stale.rule import stale_reasons

log = logging.getLogger(LOGGER)


@contextlib.contextmanager
def _cyclic_gc_paused():
    """Parsing and judging make a few acyclic objects per user; at tens of thousands of
    users they trigger full cyclic collections that cost more than the work itself
    (benchmarks/). Reference counting frees them all the same; the caller's GC state is
    restored."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


Flagged = list[tuple[AccessKey, list[str]]]


class AccessKeyUnused(ReportFilter):
    """Shared by the user and account filters; see ``UserAccessKeyUnused`` for the docs."""

    def judge(self, row: UserRow, now: datetime) -> Flagged:
        for problem in row.problems + future_problems(row, now):
            log.warning("policy:%s %s: %s", self.policy_name(), self.type, problem)
        days, rotation_days = self.days()
        return [
            (key, reasons)
            for key in row.keys
            if (reasons := stale_reasons(key, now, days, rotation_days))
        ]

    def days(self) -> tuple[int, int | None]:
        return self.data.get("days", RULE_OPTIONS["days"]["default"]), self.data.get(
            "rotation-days"
        )

    def annotate_report(self, resource: dict, user: str, flagged: Flagged, now: datetime):
        """Annotate from the report alone: entries in the shape of c7n's ``credential``."""
        matched = []
        for key, _ in flagged:
            if key.last_rotated is not None:
                matched.append(credential_entry(key))
            else:
                log.warning(
                    "policy:%s user %s: stale key slot %d has no creation date in the report; "
                    "it cannot be identified and gets no matched entry",
                    self.policy_name(),
                    user,
                    key.slot,
                )
        unused = [unused_key(key, reasons, now) for key, reasons in flagged]
        policy_run.record(self, resource, matched, unused)


class UserAccessKeyUnused(AccessKeyUnused):
    """Find IAM users with ACTIVE access keys that have gone unused, key by key.

    Reads the IAM credential report (no per-user API call) and flags an active key when:

    - it was used, and its last use is more than ``days`` ago (``unused``);
    - it was never used, and it was created more than ``days`` ago (``never-used``);
    - with ``rotation-days``, it was created more than that many days ago (``unrotated``).

    Strictly more than: a key used exactly ``days`` ago passes. Inactive keys are never
    flagged, and the slot number is never taken to mean the older key. This reproduces
    Panther's ``AWS.AccessKey.Unused`` (CIS 1.3, PCI 8.1.4).

    The report screens; the live API confirms. When the policy has a ``remove-keys``
    action (or ``resolve-key-ids: true``), each user the report flags gets one
    ``ListAccessKeys`` and one ``GetAccessKeyLastUsed`` per active key, every active key is
    judged again on those live dates, and only the keys stale by the live data are named,
    by ``AccessKeyId``, in ``c7n:matched-keys``: ``remove-keys`` with ``matched: true``
    disables or deletes exactly those. Users the report does not flag get no call.

    Each flagged key is described in ``c7n:unused-keys`` (slot, dates, days, reasons,
    ``verified`` and, when verified, ``access_key_id``).

    :example:

    Report keys unused for more than 90 days (CIS 1.3):

    .. code-block:: yaml

      policies:
        - name: iam-access-key-unused
          resource: iam-user
          filters:
            - type: access-key-unused
              days: 90

    :example:

    Disable exactly the stale keys, and keys older than a year whether used or not:

    .. code-block:: yaml

      policies:
        - name: iam-access-key-unused-disable
          resource: iam-user
          filters:
            - type: access-key-unused
              days: 90
              rotation-days: 365
          actions:
            - type: remove-keys
              matched: true
              disable: true

    :example:

    Large accounts: users from the credential report itself, one IAM call per account:

    .. code-block:: yaml

      policies:
        - name: iam-access-key-unused-large
          resource: iam-user
          source: credential-report
          filters:
            - type: access-key-unused
    """

    schema = type_schema(
        FILTER,
        **RULE_OPTIONS,
        **{
            "resolve-key-ids": {
                "title": "Confirm flagged users' keys live and add each key's access_key_id.",
                "type": "boolean",
                "default": False,
            }
        },
        **REPORT_OPTIONS,
    )

    def acts_on_keys(self) -> bool:
        return bool(composition.key_actions(self.policy_data()))

    def verifies(self) -> bool:
        """Whether flagged users' keys are read live: to act on keys, or to name them."""
        return bool(self.data.get("resolve-key-ids") or self.acts_on_keys())

    def details_users(self) -> bool:
        """With the report as the source, whether something after this filter needs the
        per-user detail (tags, permissions boundary) the report lacks."""
        data = self.policy_data()
        return data.get("source") == SOURCE and bool(
            len(data.get("filters", ())) > 1 or data.get("actions")
        )

    def get_permissions(self):
        return (
            super().get_permissions()
            + (list(KEY_PERMISSIONS) if self.verifies() else [])
            + (["iam:GetUser"] if self.details_users() else [])
        )

    def process(self, resources, event=None):
        policy_run.enter(self, resources)
        with _cyclic_gc_paused():
            now, flagged = self.screen(resources)
        if self.verifies():
            # API calls per flagged user: the collector stays on meanwhile.
            matched = confirm.confirm(self, flagged, now)
        else:
            with _cyclic_gc_paused():
                for resource, (_, keys) in flagged:
                    self.annotate_report(resource, resource["UserName"], keys, now)
            matched = [resource for resource, _ in flagged]
        if self.details_users():
            matched = source.add_details(self.manager, matched, self.policy_name())
        return matched

    def screen(self, resources: list[dict]) -> tuple[datetime, list]:
        """``(now, [(resource, (row, flagged keys))])`` for users the report flags."""
        report = self.get_report()
        now = self.clock()
        flagged, missing = [], []
        for resource in resources:
            row = report.rows.get(resource["UserName"])
            if row is None and resource["UserName"] in report.unreadable:
                log.warning(
                    "policy:%s user %s: its credential report row (line %d) could not be read; "
                    "not judged",
                    self.policy_name(),
                    resource["UserName"],
                    report.unreadable[resource["UserName"]],
                )
            elif row is None:
                missing.append(resource["UserName"])
            elif keys := self.judge(row, now):
                flagged.append((resource, (row, keys)))
        if missing:
            log.info(
                "policy:%s %d user(s) not in the credential report (created since it was "
                "generated?), not judged: %s",
                self.policy_name(),
                len(missing),
                ", ".join(missing[:20]),
            )
        return now, flagged


class AccountAccessKeyUnused(AccessKeyUnused):
    """Find an account whose root user has ACTIVE access keys that have gone unused.

    Judges the credential report's ``<root_account>`` row by the same rule as the
    ``iam-user`` filter and annotates the account with ``c7n:unused-keys``. Custodian
    cannot remove root keys: report and notify only.

    :example:

    .. code-block:: yaml

      policies:
        - name: root-access-key-unused
          resource: account
          filters:
            - type: access-key-unused
              days: 90
    """

    schema = type_schema(FILTER, **RULE_OPTIONS, **REPORT_OPTIONS)

    def process(self, resources, event=None):
        policy_run.enter(self, resources)
        with _cyclic_gc_paused():
            report = self.get_report()
        now = self.clock()
        row = report.rows.get(ROOT_USER)
        if row is None:
            log.warning(
                "policy:%s no %s row in the credential report", self.policy_name(), ROOT_USER
            )
            return []
        flagged = self.judge(row, now)
        if not flagged:
            return []
        for resource in resources:
            self.annotate_report(resource, ROOT_USER, flagged, now)
        return resources
