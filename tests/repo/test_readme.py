"""The README's first commands and figures are the real ones, and its testing example runs."""

from __future__ import annotations

import importlib.metadata
import os
import pathlib
import re
import subprocess
import sys

import pytest

from tests.support.localiam import DEMO_ACCOUNT, LocalIAM
from tests.support.paths import REPO

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


def example_files() -> dict[str, str]:
    """The README's own-policy example: each Python block of the section, by the file name
    its first line gives (``# test_my_policy.py``)."""
    section = README.split("\n## Testing your own policies\n", 1)[1].split("\n## ", 1)[0]
    blocks = [block.split("```", 1)[0] for block in section.split("```python\n")[1:]]
    return {block.split()[1].rstrip(":"): block for block in blocks}


def test_the_testing_extra_declares_what_the_example_imports():
    assert "pip install 'c7n-keyage[testing]'" in README
    required = importlib.metadata.requires("c7n-keyage")
    assert {r.split(";")[0] for r in required if 'extra == "testing"' in r} == {
        "placebo>=0.10",
        "pytest>=8",
    }


@pytest.mark.slow  # a local IAM endpoint, then a recording and a pytest run as processes
def test_the_testing_example_runs_as_written_in_an_empty_directory(tmp_path):
    """Recorded against the demo account (as ``make serve`` serves it), then replayed by
    pytest with the endpoint gone, in a directory holding only the README's two files and
    run with the installed package alone (no checkout on the path)."""
    files = example_files()
    assert sorted(files) == ["record_my_policy.py", "test_my_policy.py"]
    for name, text in files.items():
        (tmp_path / name).write_text(text)
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "PYTEST"))}

    with LocalIAM() as local:
        local.seed(DEMO_ACCOUNT)
        local.client("iam").generate_credential_report()
        local.clear_calls()
        recorded = run_in(tmp_path, ["record_my_policy.py"], local.env(clean))
        calls = [c.action for c in local.calls]
    assert recorded.returncode == 0, recorded.stdout + recorded.stderr
    assert calls.count("UpdateAccessKey") == 3
    assert (tmp_path / "tests/data/placebo/disable-stale-keys/placebo-clock.json").is_file()

    replayed = run_in(tmp_path, ["-m", "pytest", "-q", "-p", "no:cacheprovider"], clean)
    assert replayed.returncode == 0, replayed.stdout + replayed.stderr
    assert "1 passed" in replayed.stdout


def run_in(directory: pathlib.Path, args: list[str], env: dict[str, str]):
    """This venv's Python on ``args``, in ``directory``, with ``env`` only."""
    return subprocess.run(
        [sys.executable, *args], cwd=directory, env=env, capture_output=True, text=True, timeout=300
    )
