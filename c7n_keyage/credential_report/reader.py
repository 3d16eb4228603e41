"""``ReportFilter``: what every filter that reads the credential report shares.

``access-key-unused`` and ``retired-keys`` both take the report's options (the names,
meaning and defaults of c7n's ``credential`` filter), read the account's report through
the per-run cache, check their options again where c7n skips the JSON schema (c7n-org,
the Lambda handler, ``--skip-validation``), refuse compositions that have no guaranteed
meaning for the keys an action would change, and scope each policy run.
"""

from __future__ import annotations

import time

from c7n.exceptions import PolicyValidationError
from c7n.filters import Filter

from c7n_keyage import composition, policy_run
from c7n_keyage.credential_report.cache import account_report
from c7n_keyage.credential_report.fetch import (
    PERMISSIONS,
    CredentialReportError,
    FetchSettings,
)
from c7n_keyage.credential_report.parse import Report
from c7n_keyage.dates import utcnow
from c7n_keyage.options import REPORT_OPTIONS, option_problems


class ReportFilter(Filter):
    """A c7n filter that reads the account's credential report."""

    schema_alias = False
    permissions = PERMISSIONS
    # Injectable so tests wait for a report without sleeping, and judge at a fixed time.
    clock = staticmethod(utcnow)
    sleep = staticmethod(time.sleep)

    def __init__(self, data, manager=None):
        super().__init__(data, manager)
        # Each run of this policy starts from records without another run's key annotations.
        policy_run.bind(manager)

    def validate(self):
        if problems := option_problems(self.schema, self.data):
            raise self.invalid("; ".join(problems))
        if problems := composition.problems(self.policy_data()):
            raise self.invalid("; ".join(problems))
        return self

    def invalid(self, message: str) -> PolicyValidationError:
        return PolicyValidationError(f"policy:{self.policy_name()} filter {self.type}: {message}")

    def get_permissions(self):
        return list(self.permissions)

    def policy_name(self) -> str:
        return policy_run.policy_name(self.manager)

    def policy_data(self) -> dict:
        return self.manager.data if self.manager else {}

    def settings(self) -> FetchSettings:
        data = {**{k: v["default"] for k, v in REPORT_OPTIONS.items()}, **self.data}
        return FetchSettings(
            generate=data["report_generate"],
            delay=data["report_delay"],
            max_age=data["report_max_age"],
            timeout=data["report_timeout"],
        )

    def get_report(self) -> Report:
        """The account's report: fetched once per run, shared with the policy's source."""
        try:
            return account_report(
                self.manager, self.settings(), self.clock, self.sleep, self.policy_name()
            )
        except CredentialReportError as e:
            # Name the policy: under c7n-org many run side by side.
            raise CredentialReportError(f"policy:{self.policy_name()} {e}") from e
