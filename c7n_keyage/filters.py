"""The ``access-key-unused`` filter: the imperative shell around the pure rule.

It fetches (or takes from c7n's cache) the credential report, parses it, asks
``rule.stale_reasons`` about every key, and, only when the policy will act on keys or asks
for key IDs, lists the flagged users' keys to identify them. Registration on c7n's
resources lives in ``registration.py``.
"""

from __future__ import annotations

import contextlib
import gc
import logging
import time
from datetime import datetime, timedelta

from botocore.exceptions import ClientError
from c7n.exceptions import PolicyExecutionError, PolicyValidationError
from c7n.filters import Filter
from c7n.utils import local_session, type_schema

from c7n_keyage.fetch import (
    PERMISSIONS,
    CredentialReportError,
    FetchSettings,
    RawReport,
    fetch_report,
    utcnow,
)
from c7n_keyage.findings import (
    MATCHED_KEYS,
    UNUSED_KEYS,
    access_entry,
    credential_entry,
    unused_key,
)
from c7n_keyage.keyids import identify
from c7n_keyage.options import option_problems
from c7n_keyage.report import ROOT_USER, AccessKey, Report, UserRow, parse_report
from c7n_keyage.rule import stale_reasons

log = logging.getLogger("custodian.keyage")


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

_REPORT_OPTIONS = {
    # Same names, meaning and defaults as c7n's ``credential`` filter.
    "report_generate": {
        "title": "Generate a report if none is present.",
        "default": True,
        "type": "boolean",
    },
    "report_delay": {
        "title": "Seconds to wait between polls while a report is generated.",
        "default": 10,
        "type": "number",
        "minimum": 0,
    },
    "report_max_age": {
        "title": "Number of seconds to consider a report valid.",
        "default": 60 * 60 * 24,
        "type": "number",
        "minimum": 0,
    },
    "report_timeout": {
        "title": "Most seconds to wait in all for a report before failing the policy.",
        "default": 300,
        "type": "number",
        "minimum": 0,
    },
}
_DAYS = {
    "days": {
        "title": "Flag an active key unused (never used: created) more than this many days ago.",
        "type": "integer",
        "minimum": 1,
        "default": 90,
    },
    "rotation-days": {
        "title": "Also flag an active key created more than this many days ago, used or not.",
        "type": "integer",
        "minimum": 1,
    },
}


class AccessKeyUnused(Filter):
    """Shared machinery; see ``UserAccessKeyUnused`` for the user-facing docs."""

    schema_alias = False
    permissions = PERMISSIONS
    matched_annotation_key = MATCHED_KEYS
    cache_key_name = "c7n_keyage:credential-report"
    # Injectable so tests wait for a report without sleeping.
    clock = staticmethod(utcnow)
    sleep = staticmethod(time.sleep)

    def validate(self):
        # c7n-org, the Lambda handler and --skip-validation skip the JSON schema.
        if problems := option_problems(self.schema, self.data):
            raise PolicyValidationError(
                f"policy:{self._policy_name()} filter {self.type}: {'; '.join(problems)}"
            )
        return self

    def get_permissions(self):
        return list(self.permissions)

    def _policy_name(self) -> str:
        return self.manager.data.get("name", "?") if self.manager else "?"

    def settings(self) -> FetchSettings:
        data = {**{k: v["default"] for k, v in _REPORT_OPTIONS.items()}, **self.data}
        return FetchSettings(
            generate=data["report_generate"],
            delay=data["report_delay"],
            max_age=data["report_max_age"],
            timeout=data["report_timeout"],
        )

    def get_report(self) -> Report:
        """The account's report, fetched once per account and shared across policies.

        The raw CSV is cached under a key of our own: c7n's key holds c7n's parsed shape,
        which drops slot numbers, and storing anything else there breaks ``credential``.
        """
        settings = self.settings()
        cache = self.manager._cache
        with cache:
            key = {"account": self.manager.config.account_id, self.cache_key_name: True}
            raw = cache.get(key)
            too_old = self.clock() - timedelta(seconds=settings.max_age)
            if not isinstance(raw, RawReport) or raw.generated < too_old:
                client = local_session(self.manager.session_factory).client("iam")
                try:
                    raw = fetch_report(client, settings, clock=self.clock, sleep=self.sleep)
                except CredentialReportError as e:
                    # Name the policy: under c7n-org many run side by side.
                    raise CredentialReportError(f"policy:{self._policy_name()} {e}") from e
                cache.save(key, raw)
        report = parse_report(raw.content)
        for problem in report.problems:
            log.warning("policy:%s %s: %s", self._policy_name(), self.type, problem)
        return report

    def judge(self, row: UserRow, now: datetime) -> Flagged:
        for problem in row.problems:
            log.warning("policy:%s %s: %s", self._policy_name(), self.type, problem)
        days = self.data.get("days", _DAYS["days"]["default"])
        rotation_days = self.data.get("rotation-days")
        return [
            (key, reasons)
            for key in row.keys
            if (reasons := stale_reasons(key, now, days, rotation_days))
        ]

    def annotate(self, resource: dict, user: str, flagged: Flagged, now: datetime, listed=None):
        """Write ``c7n:unused-keys`` and merge ``c7n:matched-keys``.

        ``listed`` maps slots to ListAccessKeys entries when keys were listed; then only
        identified keys get a matched entry, so ``remove-keys`` touches nothing else.
        """
        found, matched = [], []
        for key, reasons in flagged:
            entry = unused_key(key, reasons, now)
            if listed is not None:
                if key.slot in listed:
                    entry["access_key_id"] = listed[key.slot]["AccessKeyId"]
                    matched.append(access_entry(listed[key.slot]))
                else:
                    log.warning(
                        "policy:%s user %s: stale key slot %d cannot be identified (created "
                        "%s: no creation date, or another active key of the same second); "
                        "no action will touch it",
                        self._policy_name(),
                        user,
                        key.slot,
                        entry["last_rotated"],
                    )
            elif key.last_rotated is not None:
                matched.append(credential_entry(key))
            else:
                log.warning(
                    "policy:%s user %s: stale key slot %d has no creation date in the report; "
                    "it cannot be identified and gets no matched entry",
                    self._policy_name(),
                    user,
                    key.slot,
                )
            found.append(entry)
        resource[UNUSED_KEYS] = found
        self.merge_annotation(resource, MATCHED_KEYS, matched)


class UserAccessKeyUnused(AccessKeyUnused):
    """Find IAM users with ACTIVE access keys that have gone unused, key by key.

    Reads the IAM credential report (no per-user API call) and flags an active key when:

    - it was used, and its last use is more than ``days`` ago (``unused``);
    - it was never used, and it was created more than ``days`` ago (``never-used``);
    - with ``rotation-days``, it was created more than that many days ago (``unrotated``).

    Strictly more than: a key used exactly ``days`` ago passes. Inactive keys are never
    flagged, and the slot number is never taken to mean the older key. This reproduces
    Panther's ``AWS.AccessKey.Unused`` (CIS 1.3, PCI 8.1.4).

    Each flagged key is described in ``c7n:unused-keys`` (slot, dates, days, reasons and,
    when listed, ``access_key_id``). ``c7n:matched-keys`` names exactly the flagged keys,
    so ``remove-keys`` with ``matched: true`` disables or deletes those and no other: when
    a policy has a ``remove-keys`` action (or ``resolve-key-ids: true``) the filter lists
    the keys of flagged users only, and leaves them in ``c7n:AccessKeys``.

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
    """

    schema = type_schema(
        "access-key-unused",
        **_DAYS,
        **{
            "resolve-key-ids": {
                "title": "List flagged users' keys to add each key's access_key_id.",
                "type": "boolean",
                "default": False,
            }
        },
        **_REPORT_OPTIONS,
    )

    def validate(self):
        super().validate()
        if any(not action.get("matched") for action in self._remove_keys_actions()):
            raise PolicyValidationError(
                f"policy:{self._policy_name()} remove-keys needs matched: true beside "
                f"{self.type}: without it remove-keys acts on every key of a matched "
                "user, not only the stale ones"
            )
        return self

    def _remove_keys_actions(self) -> list[dict]:
        actions = self.manager.data.get("actions", ()) if self.manager else ()
        # c7n also takes an action given as a bare name.
        actions = [a if isinstance(a, dict) else {"type": a} for a in actions]
        return [a for a in actions if a.get("type") == "remove-keys"]

    def lists_keys(self) -> bool:
        """Whether ListAccessKeys is needed: to act on keys, or to report their IDs."""
        return bool(self.data.get("resolve-key-ids") or self._remove_keys_actions())

    def get_permissions(self):
        return super().get_permissions() + (["iam:ListAccessKeys"] if self.lists_keys() else [])

    def process(self, resources, event=None):
        with _cyclic_gc_paused():
            now, matched = self.judge_users(resources)
        if self.lists_keys():
            # One API call per flagged user: the collector stays on meanwhile.
            matched = self.drop_keys_gone(matched)
        with _cyclic_gc_paused():
            for resource, flagged, listed in matched:
                self.annotate(resource, resource["UserName"], flagged, now, listed)
        return [resource for resource, _, _ in matched]

    def judge_users(self, resources: list[dict]) -> tuple[datetime, list]:
        """``(now, [(resource, flagged, None)])`` for users with a flagged key."""
        report = self.get_report()
        now = self.clock()
        matched, missing = [], []
        for resource in resources:
            row = report.rows.get(resource["UserName"])
            if row is None:
                missing.append(resource["UserName"])
            elif flagged := self.judge(row, now):
                matched.append((resource, flagged, None))
        if missing:
            log.info(
                "policy:%s %d user(s) not in the credential report (created since it was "
                "generated?), not judged: %s",
                self._policy_name(),
                len(missing),
                ", ".join(missing[:20]),
            )
        return now, matched

    def drop_keys_gone(self, matched: list) -> list:
        """List flagged users' keys; keep the keys still active, with their entries."""
        clients = {}  # one IAM client for all users: boto3 takes milliseconds to make one
        kept = []
        for resource, flagged, _ in matched:
            listed, gone = self.identify_keys(resource, flagged, clients)
            if gone:
                # The report is up to hours old; the listing is now. A key no longer
                # active is not stale, and needs no action or notice (#5583).
                log.info(
                    "policy:%s user %s: key slot(s) %s deleted, disabled or replaced "
                    "since the report; not flagged",
                    self._policy_name(),
                    resource["UserName"],
                    sorted(gone),
                )
                flagged = [(key, why) for key, why in flagged if key.slot not in gone]
            if flagged:
                kept.append((resource, flagged, listed))
        return kept

    def identify_keys(
        self, resource: dict, flagged: Flagged, clients: dict
    ) -> tuple[dict[int, dict], set[int]]:
        """List the user's keys once (kept for ``remove-keys``) and identify the flagged.

        Returns ``keyids.identify``'s ``(found, gone)``.
        """
        if not any(key.last_rotated for key, _ in flagged):
            return {}, set()
        if "c7n:AccessKeys" not in resource:
            if "iam" not in clients:
                clients["iam"] = local_session(self.manager.session_factory).client("iam")
            client = clients["iam"]
            try:
                resource["c7n:AccessKeys"] = client.list_access_keys(UserName=resource["UserName"])[
                    "AccessKeyMetadata"
                ]
            except ClientError as e:
                if e.response["Error"]["Code"] != "NoSuchEntity":
                    raise PolicyExecutionError(
                        f"policy:{self._policy_name()} iam:ListAccessKeys failed for user "
                        f"{resource['UserName']}: {e}"
                    ) from e
                log.warning(
                    "policy:%s user %s was deleted since the report; nothing to act on",
                    self._policy_name(),
                    resource["UserName"],
                )
                resource["c7n:AccessKeys"] = []
        return identify((key for key, _ in flagged), resource["c7n:AccessKeys"])


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

    schema = type_schema("access-key-unused", **_DAYS, **_REPORT_OPTIONS)

    def process(self, resources, event=None):
        with _cyclic_gc_paused():
            report = self.get_report()
        now = self.clock()
        row = report.rows.get(ROOT_USER)
        if row is None:
            log.warning(
                "policy:%s no %s row in the credential report", self._policy_name(), ROOT_USER
            )
            return []
        flagged = self.judge(row, now)
        if not flagged:
            return []
        for resource in resources:
            self.annotate(resource, ROOT_USER, flagged, now)
        return resources
