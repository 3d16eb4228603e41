"""The committed placebo fixtures are exactly what ``tests/support/placebo_fixtures.py`` (and
``tests/support/placebo_defaults.py``, ``tests/support/placebo_lifecycle.py``) write."""

from __future__ import annotations

import json

import pytest

from tests.support import placebo_defaults, placebo_lifecycle
from tests.support.placebo_fixtures import PLACEBO, every_fixture


@pytest.mark.parametrize(
    "fixtures",
    every_fixture() + placebo_defaults.all_fixtures() + placebo_lifecycle.lifecycle_fixtures(),
    ids=lambda f: f.path.name,
)
def test_committed_fixtures_are_current(fixtures):
    on_disk = {p.name: json.loads(p.read_text()) for p in fixtures.path.glob("*.json")}
    assert on_disk == json.loads(json.dumps(fixtures.files))


def test_report_content_is_plain_csv_text():
    # placebo 0.10 replays recorded bytes as base64 text: Content must be stored as CSV.
    answers = {
        path.relative_to(PLACEBO).as_posix(): json.loads(path.read_text())
        for path in sorted(PLACEBO.glob("*/iam.GetCredentialReport_*.json"))
    }
    reports = {name: a["data"]["Content"] for name, a in answers.items() if a["status_code"] == 200}
    errors = [name for name, a in answers.items() if a["status_code"] != 200]
    # Both kinds are there, so neither check below passes on nothing.
    assert len(reports) >= 20 and len(errors) >= 10
    assert [name for name in errors if "Error" not in answers[name]["data"]] == []
    assert [name for name, content in reports.items() if not content.startswith("user,arn,")] == []
