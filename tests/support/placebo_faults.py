"""Faults of the credential report API, and bad reports, in placebo's on-disk format.

Each ``tests/data/placebo/test_fetch_<scenario>/`` holds the responses AWS gives, in order,
in one fault scenario (``python -m tests.support.placebo_faults`` writes them;
``tests/placebo/credential_report/test_fetch.py`` checks the committed ones are current). A
call past an operation's numbered responses fails the test (``placebo_replay.py``), except
for the operations a scenario declares in ``REPEATS``: their last answer repeats for ever,
which is how "never ready" and "always throttled" are written. The
``test_fetch_bad_<case>`` directories serve a report of the bad-report corpus
(``bad_reports.py``) to a whole policy.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from tests.support import bad_reports
from tests.support.placebo_fixtures import (
    NOW,
    STANDARD_REPORT,
    USERS,
    FixtureDir,
    add_users,
    credential_report,
    error,
    ok,
    write_all,
)

# GeneratedTime of a usable report (two hours old: inside AWS's four hours without
# regeneration) and of one older than the default report_max_age (a day).
FRESH = NOW - timedelta(hours=2)
OLD = NOW - timedelta(days=3)
# moto stamps every report with this GeneratedTime.
MOTO_GENERATED = datetime(2015, 2, 2, tzinfo=timezone.utc)
# A report whose content tells it apart from the standard one.
OLD_REPORT = STANDARD_REPORT.split("\n")[0] + "\n" + "old-report,arn:aws:iam::123456789012:user/x"

NOT_PRESENT = error(410, "ReportNotPresent", "Unable to find the credential report.")
EXPIRED = error(410, "ReportExpired", "The credential report has expired.")
IN_PROGRESS = error(404, "ReportInProgress", "The credential report is being generated.")
THROTTLED = error(400, "Throttling", "Rate exceeded")
LIMIT = error(409, "LimitExceeded", "Credential report generation is limited.")
SERVICE_FAILURE = error(500, "ServiceFailure", "The request failed because of an internal error.")
EXPIRED_TOKEN = error(403, "ExpiredToken", "The security token included in the request is expired")


def denied(action: str) -> dict:
    return error(
        403,
        "AccessDenied",
        "User: arn:aws:sts::123456789012:assumed-role/custodian/run is not authorized to "
        f"perform: {action} on resource: *",
    )


def state(value: str) -> dict:
    return ok({"State": value, "Description": f"Report generation {value.lower()}"})


def report(generated=FRESH, content: str = STANDARD_REPORT) -> dict:
    return credential_report(content, generated)


GET, GENERATE = "GetCredentialReport", "GenerateCredentialReport"

# scenario -> the answers, in the order the client asks for them
SCENARIOS: dict[str, list[tuple[str, dict]]] = {
    "fresh": [(GET, report())],
    # AWS: generation starts, Get says in progress until the new report is served.
    "not_present": [
        (GET, NOT_PRESENT),
        (GENERATE, state("STARTED")),
        (GET, IN_PROGRESS),
        (GET, report(NOW)),
    ],
    # Generate says COMPLETE, and Get still lags behind: not present, then in progress.
    "not_present_lagging": [
        (GET, NOT_PRESENT),
        (GENERATE, state("COMPLETE")),
        (GET, NOT_PRESENT),
        (GET, IN_PROGRESS),
        (GET, report(NOW)),
    ],
    # Get serves nothing while Generate goes STARTED, INPROGRESS, COMPLETE.
    "generate_states": [
        (GET, NOT_PRESENT),
        (GENERATE, state("STARTED")),
        (GET, NOT_PRESENT),
        (GENERATE, state("INPROGRESS")),
        (GET, NOT_PRESENT),
        (GENERATE, state("COMPLETE")),
        (GET, report(NOW)),
    ],
    "in_progress": [(GET, IN_PROGRESS)] * 4 + [(GET, report())],
    "expired": [(GET, EXPIRED), (GENERATE, state("COMPLETE")), (GET, report(NOW))],
    "throttled": [(GET, THROTTLED)] * 3 + [(GET, report())],
    "throttled_always": [(GET, THROTTLED)],
    "limit_exceeded": [
        (GET, NOT_PRESENT),
        (GENERATE, LIMIT),
        (GENERATE, LIMIT),
        (GENERATE, state("COMPLETE")),
        (GET, report(NOW)),
    ],
    "limit_exceeded_always": [(GET, NOT_PRESENT), (GENERATE, LIMIT)],
    "service_failure": [(GET, SERVICE_FAILURE), (GET, report())],
    "service_failure_always": [(GET, NOT_PRESENT), (GENERATE, SERVICE_FAILURE)],
    "access_denied": [(GET, denied("iam:GetCredentialReport"))],
    "access_denied_generate": [
        (GET, NOT_PRESENT),
        (GENERATE, denied("iam:GenerateCredentialReport")),
    ],
    "expired_token": [(GET, EXPIRED_TOKEN)],
    "too_old": [
        (GET, report(OLD, OLD_REPORT)),
        (GENERATE, state("STARTED")),
        (GET, IN_PROGRESS),
        (GET, report(NOW)),
    ],
    # While the new report is made, Get still serves the old one: wait, ask again.
    "too_old_served_while_generating": [
        (GET, report(OLD, OLD_REPORT)),
        (GENERATE, state("STARTED")),
        (GET, report(OLD, OLD_REPORT)),
        (GENERATE, state("COMPLETE")),
        (GET, report(NOW)),
    ],
    # report_max_age below four hours: AWS answers COMPLETE and serves the same report.
    "too_old_not_regenerated": [
        (GET, report(FRESH)),
        (GENERATE, state("COMPLETE")),
        (GET, report(FRESH)),
    ],
    # Generate says COMPLETE, and Get serves a three-day-old report: the freshest there is.
    "stays_old": [
        (GET, report(OLD)),
        (GENERATE, state("COMPLETE")),
        (GET, report(OLD)),
    ],
    # An unmodified moto server (LocalStack): no report, STARTED, then one dated 2015.
    "moto_first": [
        (GET, NOT_PRESENT),
        (GENERATE, state("STARTED")),
        (GET, report(MOTO_GENERATED)),
    ],
    # ... and on every later run: the 2015 report, COMPLETE, the 2015 report again.
    "moto_later": [
        (GET, report(MOTO_GENERATED)),
        (GENERATE, state("COMPLETE")),
        (GET, report(MOTO_GENERATED)),
    ],
    # The endpoint's clock is ahead of the runner's.
    "future": [(GET, report(NOW + timedelta(days=2)))],
    # ... also for a report made at our request: used, whatever its date.
    "complete_then_future": [
        (GET, NOT_PRESENT),
        (GENERATE, state("COMPLETE")),
        (GET, report(NOW + timedelta(days=2))),
    ],
    "never_ready": [(GET, NOT_PRESENT), (GENERATE, state("INPROGRESS"))],
    "in_progress_always": [(GET, IN_PROGRESS)],
}

# The operations whose last answer repeats for ever, by scenario; any other call past the
# answers above is an error.
REPEATS: dict[str, tuple[str, ...]] = {
    "throttled_always": (GET,),
    "limit_exceeded_always": (GENERATE,),
    "service_failure_always": (GENERATE,),
    "never_ready": (GET, GENERATE),
    "in_progress_always": (GET,),
}

# Scenarios replayed by whole policies: the standard account's users come first.
POLICY_SCENARIOS = {
    "policy_not_present": "not_present",
    "policy_throttled": "throttled",
    "policy_never_ready": "never_ready",
    "policy_access_denied": "access_denied",
    "policy_stays_old": "stays_old",
    "policy_moto_first": "moto_first",
    "policy_future": "future",
}


def scenario(
    name: str,
    answers: list[tuple[str, dict]],
    users: list[str] | None = None,
    repeats: tuple[str, ...] = (),
):
    fixtures = FixtureDir(f"test_fetch_{name}")
    if users is not None:
        add_users(fixtures, users)
        # The account resource asks for the alias first.
        fixtures.add("iam", "ListAccountAliases", ok({"AccountAliases": ["example-prod"]}))
    for operation, answer in answers:
        fixtures.add("iam", operation, answer)
    for operation in repeats:
        fixtures.repeat("iam", operation)
    return fixtures


def bad_report_cases() -> list[dict]:
    return bad_reports.SPEC["cases"]


def bad_report(case: dict) -> FixtureDir:
    """A policy scenario serving one corpus report (as text: placebo would garble bytes)."""
    text = bad_reports.content(case, "str")
    users = [user for user in case["users"] if user != "<root_account>"]
    fixtures = add_users(FixtureDir(f"test_fetch_bad_{case['name']}"), users)
    return fixtures.add("iam", GET, credential_report(text))


def all_fixtures() -> list[FixtureDir]:
    return (
        [
            scenario(name, answers, None, REPEATS.get(name, ()))
            for name, answers in SCENARIOS.items()
        ]
        + [
            scenario(name, SCENARIOS[source], list(USERS), REPEATS.get(source, ()))
            for name, source in POLICY_SCENARIOS.items()
        ]
        + [bad_report(case) for case in bad_report_cases() if case.get("policy")]
    )


def main() -> None:
    write_all(all_fixtures())


if __name__ == "__main__":
    main()
