"""``access-key-unused`` on the bad-report corpus (``tests/support/bad_reports.py``), through
whole policies: each report-level problem logged once, each unusable value logged with its
user and column, and only the judgeable keys flagged.
"""

from __future__ import annotations

import logging

import pytest

from c7n_keyage.names import ROOT_USER
from tests.support.bad_reports import SPEC, unmatched

POLICY = {
    "name": "bad-report",
    "resource": "iam-user",
    "filters": [{"type": "access-key-unused", "days": 90}],
}


@pytest.mark.parametrize(
    "case",
    [case for case in SPEC["cases"] if case.get("policy")],
    ids=lambda case: case["name"],
)
def test_bad_report_through_policy(case, replay_from, frozen, run_policy, caplog):
    caplog.set_level(logging.WARNING, logger="custodian.keyage")
    replay = replay_from(f"test_fetch_bad_{case['name']}")
    policy = run_policy(POLICY, replay)

    users = [u for u in case["users"] if u != ROOT_USER]
    assert replay.operations() == ["ListUsers"] + ["GetUser"] * len(users) + ["GetCredentialReport"]
    flagged = sorted(
        [r["UserName"], k["slot"], k["reasons"]]
        for r in policy.resources
        for k in r["c7n:unused-keys"]
    )
    assert flagged == sorted(f for f in case["flagged"] if f[0] != ROOT_USER)
    warnings = [
        r.getMessage()
        for r in caplog.records
        if r.name == "custodian.keyage" and r.levelno == logging.WARNING
    ]
    prefix = "policy:bad-report access-key-unused: "
    report_prefix = "policy:bad-report credential report: "
    logged = [w.removeprefix(prefix) for w in warnings if w.startswith(prefix)]
    about_report = [w.removeprefix(report_prefix) for w in warnings if w.startswith(report_prefix)]
    # The other warnings: a stale key without a creation date cannot be told apart from
    # its user's other key, so it gets no matched entry (no action can touch it).
    unidentified = [w for w in warnings if not w.startswith((prefix, report_prefix))]
    for warning in unidentified:
        assert "has no creation date in the report; it cannot be identified" in warning
        user = warning.removeprefix("policy:bad-report user ").split(":")[0]
        resource = next(r for r in policy.resources if r["UserName"] == user)
        assert len(resource["c7n:matched-keys"]) < len(resource["c7n:unused-keys"])
    expected_rows = [p for p in case["row_problems"] if p[0] != ROOT_USER]
    missing, unexpected = unmatched([w for w in logged if w.startswith("user ")], expected_rows)
    assert missing == [] and unexpected == []
    # Each report-level problem is logged once, whoever asked for the report.
    assert len(about_report) == len(case["report_problems"]), about_report
    for text, warning in zip(case["report_problems"], about_report, strict=True):
        assert text in warning
