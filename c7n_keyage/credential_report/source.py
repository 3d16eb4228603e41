"""``source: credential-report``: the ``iam-user`` resources the credential report names.

c7n's ``describe`` source lists users and calls ``GetUser`` once per user, one after the
other: that, not any filter, is what a whole run costs in a large account, and where
c7n-org runs meet IAM throttling (cloud-custodian #6351, #7265, #5767). The report
already names every user, so with this source a report-only policy costs the report's
calls alone: the source and the ``access-key-unused`` filter read one fetch
(``credential_report/cache.py``).

Each resource has ``UserName``, ``Arn``, ``Path`` (from the ARN) and ``CreateDate`` (a
datetime, as the describe source gives it). Absent, compared with ``describe``:
``UserId``, ``Tags``, ``PermissionsBoundary`` and ``PasswordLastUsed``; the filter adds
them (``GetUser``) for the users it flags when a later filter or an action needs them.
Users created since the report are absent (their keys are younger than the report, so
never stale); users deleted since are present, and skipped where an API call finds them
gone. The root row is never a user.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from c7n.exceptions import PolicyValidationError
from c7n.utils import local_session
from dateutil.tz import tzutc

from c7n_keyage.credential_report.fetch import PERMISSIONS
from c7n_keyage.credential_report.parse import Report, UserRow
from c7n_keyage.names import FILTER, LOGGER, RETIRED_FILTER, ROOT_USER, SOURCE

# Filters that read the report themselves, and so may come first on this source.
FIRST_FILTERS = (FILTER, RETIRED_FILTER)

log = logging.getLogger(LOGGER)


class CredentialReportSource:
    """Users from the account's credential report: no per-user call."""

    def __init__(self, manager: Any):
        self.manager = manager
        policy = manager.data["name"]
        if manager.type != "iam-user":
            raise PolicyValidationError(
                f"policy:{policy} source {SOURCE} serves the iam-user resource only, "
                f"not {manager.type}"
            )
        filters = manager.data.get("filters") or [{}]
        if not (isinstance(filters[0], dict) and filters[0].get("type") in FIRST_FILTERS):
            raise PolicyValidationError(
                f"policy:{policy} source {SOURCE} needs {' or '.join(FIRST_FILTERS)} as the "
                "policy's first filter: "
                "the users it yields carry no tags or other per-user detail until that "
                f"filter adds them to the users it flags, so an earlier filter would see "
                "users without them"
            )

    def get_permissions(self) -> list[str]:
        return list(PERMISSIONS)

    def get_query_params(self, query: Any) -> Any:
        return query

    def resources(self, query: Any = None) -> list[dict]:
        return users(self.report())

    def get_resources(self, ids: list[str], cache: bool = True) -> list[dict]:
        wanted = set(ids)
        return [user for user in users(self.report()) if user["UserName"] in wanted]

    def augment(self, resources: list[dict]) -> list[dict]:
        return resources

    def report(self) -> Report:
        # The policy's first filter is access-key-unused or retired-keys (checked above):
        # its options say how to fetch, and it reads the same fetch afterwards.
        return self.manager.filters[0].get_report()


def add_details(manager: Any, resources: list[dict], policy: str) -> list[dict]:
    """``GetUser`` for ``resources`` (the flagged users only): what the report lacks.

    A user deleted since the report is dropped, with a warning.
    """
    client = local_session(manager.session_factory).client("iam")
    kept = []
    for resource in resources:
        detail = manager.retry(
            client.get_user, UserName=resource["UserName"], ignore_err_codes=("NoSuchEntity",)
        )
        if detail is None:
            log.warning(
                "policy:%s user %s no longer exists; skipped",
                policy,
                resource["UserName"],
            )
            continue
        resource.update(detail["User"])
        kept.append(resource)
    return kept


def users(report: Report) -> list[dict]:
    """One ``iam-user`` resource per user row of the report, in report order."""
    return [user(row) for name, row in report.rows.items() if name != ROOT_USER]


def user(row: UserRow) -> dict:
    resource: dict[str, Any] = {"UserName": row.user, "Arn": row.arn, "Path": path(row)}
    if row.created is not None:
        resource["CreateDate"] = _as_botocore(row.created)
    return resource


def path(row: UserRow) -> str | None:
    """``/division/`` from ``arn:aws:iam::123456789012:user/division/name``."""
    resource = (row.arn or "").split(":", 5)[-1]
    if not resource.startswith("user/") or not resource.endswith("/" + row.user):
        return None
    return resource[len("user") : len(resource) - len(row.user)]


def _as_botocore(moment: datetime) -> datetime:
    # botocore parses IAM timestamps with dateutil's tzutc: the same type and zone.
    return moment.astimezone(tzutc())
