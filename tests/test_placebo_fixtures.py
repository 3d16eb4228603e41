"""The committed placebo fixtures are exactly what ``tests/placebo_fixtures.py`` writes."""

from __future__ import annotations

import json

import pytest

from tests.placebo_fixtures import PLACEBO, every_fixture


@pytest.mark.parametrize("fixtures", every_fixture(), ids=lambda f: f.path.name)
def test_committed_fixtures_are_current(fixtures):
    on_disk = {p.name: json.loads(p.read_text()) for p in fixtures.path.glob("*.json")}
    assert on_disk == json.loads(json.dumps(fixtures.files))


def test_report_content_is_plain_csv_text():
    # placebo 0.10 replays recorded bytes as base64 text: Content must be stored as CSV.
    for path in PLACEBO.glob("*/iam.GetCredentialReport_*.json"):
        content = json.loads(path.read_text())["data"].get("Content")
        if content is not None:
            assert content.startswith("user,arn,user_creation_time,"), path
