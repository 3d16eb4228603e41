"""The README's first commands and figures are the real ones."""

from __future__ import annotations

import pathlib
import re

REPO = pathlib.Path(__file__).parent.parent
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
