"""The README's first commands and figures are the real ones."""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone

from tests.support.paths import REPO
from tests.support.placebo_fixtures import (
    FixtureDir,
    credential_report,
    get_user,
    live_keys,
    ok,
    report_csv,
    report_row,
    user_record,
)
from tests.support.stock_cli import pytest_file

README = (REPO / "README.md").read_text()


def test_first_two_commands_are_demo_and_the_ci_test_command():
    commands = re.findall(r"^(make \w+)", README.split("```sh", 1)[1], re.M)[:2]
    assert commands == ["make demo", "make test"]
    ci = [line for line in (REPO / ".ci" / "run").read_text().splitlines() if line.strip()]
    assert ci[-1] == "make test"


def test_benchmark_table_is_the_latest_printed():
    latest = (REPO / "benchmarks" / "latest.md").read_text()
    performance = (REPO / "docs" / "performance.md").read_text()
    shown = performance.split("<!-- benchmark:start -->\n", 1)[1].split("<!-- benchmark:end -->")[0]
    assert shown == latest


def test_the_readme_sums_up_the_benchmarks_and_links_their_tables():
    performance = README.split("\n## Performance\n", 1)[1].split("\n## ", 1)[0]
    assert "(docs/performance.md)" in performance
    # The long tables live in docs/performance.md only, each block where its script writes.
    assert "benchmark:start" not in README and "| N = 100 |" not in README
    docs = (REPO / "docs" / "performance.md").read_text()
    for block in ("benchmark", "overview-benchmark"):
        assert docs.count(f"<!-- {block}:start -->") == docs.count(f"<!-- {block}:end -->") == 1


def test_the_testing_example_runs_as_written(tmp_path):
    """The README's own-policy test, run by pytest as a user would, on responses recorded
    for it (dated from today: the example does not freeze the clock)."""
    section = README.split("\n## Testing your own policies\n", 1)[1].split("\n## ", 1)[0]
    example = section.split("```python\n", 1)[1].split("```", 1)[0]
    now = datetime.now(timezone.utc).replace(microsecond=0)
    alice = {"id": "AKIAEXAMPLEALICE0001", "created": now - timedelta(150), "used": now}
    bob = {
        "id": "AKIAEXAMPLEBOB000001",
        "created": now - timedelta(400),
        "used": now - timedelta(200),
    }
    flight = FixtureDir("test_disables_only_the_stale_key", tmp_path / "tests/data/placebo")
    flight.add("iam", "ListUsers", ok({"Users": [user_record(n) for n in ("alice", "bob")]}))
    for name in ("alice", "bob"):
        flight.add("iam", "GetUser", get_user(name))
    report = report_csv([report_row("alice", [alice]), report_row("bob", [bob])])
    flight.add("iam", "GetCredentialReport", credential_report(report, now - timedelta(hours=2)))
    live_keys(flight, "bob", [bob]).add("iam", "UpdateAccessKey", ok({}))
    flight.write()
    (tmp_path / "test_my_policy.py").write_text(example)

    result = pytest_file(tmp_path, "test_my_policy.py")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "1 passed" in result.stdout
