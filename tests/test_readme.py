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
    shown = README.split("<!-- benchmark:start -->\n", 1)[1].split("<!-- benchmark:end -->", 1)[0]
    assert shown == latest
