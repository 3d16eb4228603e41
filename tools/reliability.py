"""Write docs/reliability.md from a real run of the fault, corpus, property and e2e tests.

    make reliability        # or: .venv/bin/python -m tools.reliability

Every figure comes from this run: test outcomes, hypothesis's own example counts, and the
key states the end-to-end story observed on the local IAM endpoint. The mutation section
at the end is the last ``make mutation``'s (docs/mutation.json), copied as it is.
"""

from __future__ import annotations

import datetime
import pathlib
import re
import sys

import pytest

from tools import mutation

REPO = pathlib.Path(__file__).resolve().parent.parent
OUTPUT = REPO / "docs" / "reliability.md"
FETCH = "tests/placebo/credential_report/test_fetch.py"
# The parser's tests, and the bad-report corpus through whole policies.
PARSING = (
    "tests/unit/credential_report/test_parse.py",
    "tests/placebo/stale/test_access_key_unused_bad_reports.py",
)
MODULES = [
    "tests/placebo/credential_report/test_fetch.py",
    "tests/unit/credential_report/test_parse.py",
    "tests/placebo/stale/test_access_key_unused_bad_reports.py",
    "tests/unit/stale/test_rule.py",
    "tests/unit/stale/test_verify.py",
    "tests/unit/stale/test_rule_properties.py",
    "tests/placebo/stale/test_confirm_properties.py",
    "tests/placebo/stale/test_access_key_unused.py",
    "tests/placebo/stale/test_confirm_faults.py",
    "tests/placebo/credential_report/test_source.py",
    "tests/e2e/stale/test_custodian_run.py",
    "tests/e2e/stale/test_custodian_run_probes.py",
    "tests/e2e/test_shared_cache.py",
    "tests/unit/test_composition.py",
    "tests/placebo/test_composition_properties.py",
    "tests/e2e/test_real_configurations.py",
    "tests/e2e/test_matrix.py",
    "tests/unit/lifecycle/test_record.py",
    "tests/unit/lifecycle/test_plan.py",
    "tests/unit/lifecycle/test_plan_properties.py",
    "tests/placebo/lifecycle/test_actions.py",
    "tests/e2e/lifecycle/test_lifecycle_cli.py",
]


class Collector:
    """Outcomes per test, hypothesis example counts, and the e2e stories' key states (one
    per endpoint: the AWS-like snapshot and moto's own report)."""

    def __init__(self):
        self.outcomes: dict[str, str] = {}
        self.examples: dict[str, int] = {}
        self.stories: list = []

    def pytest_runtest_logreport(self, report):
        if report.when == "call" or report.outcome != "passed":
            self.outcomes.setdefault(report.nodeid, report.outcome)
            if report.when == "call":
                self.outcomes[report.nodeid] = report.outcome
        stats = report.__dict__.get("_hypothesis_stats")
        if stats:
            self.examples[report.nodeid] = sum(
                int(n) for n in re.findall(r"during generate phase.*?- (\d+) passing", stats, re.S)
            )

    def pytest_runtest_teardown(self, item):
        story = getattr(item, "funcargs", {}).get("disable_story")
        if story is not None and not any(story is seen for seen in self.stories):
            self.stories.append(story)

    def count(self, module: str | tuple[str, ...], name: str = "") -> tuple[int, int]:
        """(tried, passed) among tests of ``module`` (or of any of several) whose name starts
        with ``name``."""
        picked = [
            outcome
            for nodeid, outcome in self.outcomes.items()
            if nodeid.startswith(module) and nodeid.split("::")[1].startswith(name)
        ]
        return len(picked), picked.count("passed")


def story_figures(story) -> dict[str, int]:
    from tests.e2e.stale.test_custodian_run import (
        CHANGED_AFTER_REPORT,
        MUTATING,
        TO_REMOVE,
        key_ids,
    )

    disabled = key_ids(story.ids, TO_REMOVE)
    expected = {
        (user, key): "Inactive" if key in disabled else status
        for user, keys in story.after_changes.items()
        for key, status in keys.items()
    }
    after = {(u, k): s for u, keys in story.after_remediation.items() for k, s in keys.items()}
    updated = {c.params["AccessKeyId"] for c in story.remediation.operations("UpdateAccessKey")}
    wrong = {key for key in expected if after.get(key) != expected[key]} | {
        (u, k) for (u, k) in after if k in updated and k not in disabled
    }
    return {
        "keys": len(after),
        "flagged in the report": sum(len(r["c7n:unused-keys"]) for r in story.report.resources),
        "changed after the report": len(CHANGED_AFTER_REPORT),
        "disabled": len(updated),
        "expected disabled": len(disabled),
        "wrongly touched": len(wrong),
        "mutating calls under --dryrun": len(story.dryrun.operations(*MUTATING)),
        "mutating calls on a second run": len(story.again.operations(*MUTATING)),
    }


def table(collector: Collector) -> str:
    rows = [
        *_credential_report_rows(collector),
        *_rule_rows(collector),
        *_replayed_rows(collector),
        *_story_rows(collector),
        *_end_to_end_rows(collector),
        *_lifecycle_rows(collector),
    ]
    failed = [nodeid for nodeid, outcome in collector.outcomes.items() if outcome != "passed"]
    stamp = datetime.date.today().isoformat()
    return "\n".join(
        [
            "# Reliability figures",
            "",
            f"Made by `make reliability` (`tools/reliability.py`) on {stamp}, Python "
            f"{sys.version.split()[0]}: it runs {', '.join(f'`{m}`' for m in MODULES)} and "
            "tabulates what they observed. Do not edit by hand.",
            "",
            "| what | tried | result |",
            "|---|---|---|",
            *rows,
            "",
            f"Tests run: {len(collector.outcomes)}; not passed: {len(failed)}"
            + (f" ({', '.join(failed)})" if failed else "."),
            "",
            mutation.section(),
            "",
        ]
    )


def _row(what: str, tried, result: str) -> str:
    return f"| {what} | {tried} | {result} |"


def _credential_report_rows(collector: Collector) -> list[str]:
    """Fetching the report through API faults, and parsing bad reports."""
    from tests.support.bad_reports import SPEC as corpus
    from tests.support.placebo_faults import all_fixtures as fault_fixtures

    rows = []
    tried, passed = collector.count(FETCH)
    rows.append(
        _row(
            f"Credential-report API faults and report states ({len(fault_fixtures())} fixture "
            "sets)",
            tried,
            f"{passed} behaved as specified (recovered, or failed the policy with a clear error)",
        )
    )
    tried, passed = collector.count(FETCH, "test_policy")
    tried2, passed2 = collector.count(FETCH, "test_account_policy")
    rows.append(
        _row("... of them through whole policies", tried + tried2, f"{passed + passed2} passed")
    )
    tried, passed = collector.count(PARSING, "test_bad_report")
    rows.append(
        _row(
            f"Bad credential reports ({len(corpus['cases'])} corpus cases, as bytes and str, "
            "and through policies)",
            tried,
            f"{passed} judged exactly as stated: every judgeable key, no key on unusable data",
        )
    )
    tried, passed = collector.count(PARSING)
    rows.append(_row("All report-parsing tests", tried, f"{passed} passed"))
    return rows


def _rule_rows(collector: Collector) -> list[str]:
    """The rule's table, the live verdicts, and every property test's examples."""
    rows = []
    tried, passed = collector.count("tests/unit/stale/test_rule.py")
    rows.append(_row("Rule table (boundaries, future, unknown dates)", tried, f"{passed} passed"))
    tried, passed = collector.count("tests/unit/stale/test_verify.py")
    rows.append(
        _row(
            "Live verdicts: a report row and live keys in, the keys to act on out (used, "
            "disabled, deleted, rotated since; twins)",
            tried,
            f"{passed} passed",
        )
    )
    for nodeid, examples in sorted(collector.examples.items()):
        name = nodeid.split("::")[1]
        outcome = collector.outcomes.get(nodeid)
        rows.append(_row(f"Property `{name}`", f"{examples} examples", outcome))
    return rows


def _replayed_rows(collector: Collector) -> list[str]:
    """remove-keys, live API failures and the report source on replayed responses."""
    rows = []
    tried, passed = collector.count(
        "tests/placebo/stale/test_access_key_unused.py", "test_remove_keys"
    )
    rows.append(
        _row(
            "remove-keys on replayed responses (disable, delete, dryrun)", tried, f"{passed} passed"
        )
    )
    tried, passed = collector.count("tests/placebo/stale/test_confirm_faults.py")
    rows.append(
        _row(
            "Live API failures while reading flagged users' keys (errors, access denied)",
            tried,
            f"{passed} passed: no action on a key whose state is unknown",
        )
    )
    tried, passed = collector.count("tests/placebo/credential_report/test_source.py")
    rows.append(
        _row("`source: credential-report` on replayed responses", tried, f"{passed} passed")
    )
    return rows


def _story_rows(collector: Collector) -> list[str]:
    """The end-to-end story's key states, summed over the endpoints it ran against; none
    when the story did not run."""
    if not collector.stories:
        return []
    figures = {}
    for story in collector.stories:
        for name, value in story_figures(story).items():
            figures[name] = figures.get(name, 0) + value
    return [
        _row(
            f"End to end, stock `custodian run` on a local IAM endpoint, {len(collector.stories)} "
            "endpoints (AWS-like snapshot, moto's own report): keys in the matrix",
            figures["keys"],
            f"{figures['flagged in the report']} flagged by the report, "
            f"{figures['changed after the report']} users' keys changed after it",
        ),
        _row(
            "... keys disabled by the remediation policy",
            figures["expected disabled"],
            f"{figures['disabled']} disabled",
        ),
        _row("... **keys wrongly touched**", figures["keys"], f"**{figures['wrongly touched']}**"),
        _row(
            "... mutating calls under `--dryrun`",
            "-",
            str(figures["mutating calls under --dryrun"]),
        ),
        _row(
            "... mutating calls on a second run",
            "-",
            str(figures["mutating calls on a second run"]),
        ),
    ]


def _end_to_end_rows(collector: Collector) -> list[str]:
    """Probes, a shared cache, compositions, real configurations and the matrix."""
    rows = []
    tried, passed = collector.count("tests/e2e/stale/test_custodian_run_probes.py")
    rows.append(
        _row(
            "End-to-end probes, stock `custodian` (twins, names with commas, negation, "
            "unbounded options)",
            tried,
            f"{passed} passed, each asserting exactly which keys changed",
        )
    )
    tried, passed = collector.count("tests/e2e/test_shared_cache.py")
    rows.append(
        _row(
            "End to end, several policies sharing c7n's cache (`--cache memory`)",
            tried,
            f"{passed} passed, each asserting exactly which keys are disabled or deleted",
        )
    )
    tried, passed = collector.count("tests/unit/test_composition.py", "test_compositions")
    rows.append(
        _row(
            "Compositions of filters and actions, refused or kept (a table of cases)",
            tried,
            f"{passed} passed: each refusal with its reason, each kept composition unrefused",
        )
    )
    tried, passed = collector.count("tests/e2e/test_real_configurations.py")
    rows.append(
        _row(
            "Ways a valid-looking policy went wrong for users (issue 14: default cache, memory "
            "cache behind a c7n filter, or: without keys, delete, two filters under or:, an "
            "SCP, users' own tests), stock CLI on unmodified moto",
            tried,
            f"{passed} passed",
        )
    )
    for scenario in ("report", "disable", "delete", "several_policies", "c7n_org", "lambda"):
        tried, passed = collector.count("tests/e2e/test_matrix.py", f"test_{scenario}")
        rows.append(
            _row(
                f"Configuration matrix, `{scenario.replace('_', ' ')}`: caches x sources",
                tried,
                f"{passed} passed, each asserting exactly which keys changed",
            )
        )
    return rows


def _lifecycle_rows(collector: Collector) -> list[str]:
    """The key lifecycle: its pure core, replayed responses, and end to end."""
    tried, passed = collector.count("tests/unit/lifecycle/test_record.py")
    tried2, passed2 = collector.count("tests/unit/lifecycle/test_plan.py")
    core = _row(
        "Key lifecycle records and decisions (unparseable, zone-less and future-dated records "
        "refused; delete only after the grace, inactive and unused)",
        tried + tried2,
        f"{passed + passed2} passed",
    )
    tried, passed = collector.count("tests/placebo/lifecycle/test_actions.py")
    replayed = _row(
        "Key lifecycle on replayed responses (retire, failures between its two calls, "
        "restore, delete after grace, changed by hand, dry run, access denied, report source)",
        tried,
        f"{passed} passed, each asserting the calls made and not made",
    )
    tried, passed = collector.count("tests/e2e/lifecycle/test_lifecycle_cli.py")
    end_to_end = _row(
        "Key lifecycle end to end, stock CLIs and the Lambda handler on unmodified moto "
        "(retire, restore, delete after grace, keys changed by hand, failures between TagUser "
        "and UpdateAccessKey, --dryrun, c7n-org, both sources, expiring exemptions)",
        tried,
        f"{passed} passed, each asserting exactly which keys and records changed",
    )
    return [core, replayed, end_to_end]


def main() -> int:
    collector = Collector()
    code = pytest.main(
        ["-q", "-p", "no:cacheprovider", "--hypothesis-show-statistics", *MODULES],
        plugins=[collector],
    )
    if not collector.outcomes:
        # Nothing ran (the suite stopped at once: a stale install, a collection error):
        # a table of zeros would read as a result. Leave the last one as it is.
        print(
            f"make reliability: no test ran (pytest exit code {int(code)}); "
            f"{OUTPUT.name} left unchanged",
            file=sys.stderr,
        )
        return int(code) or 1
    text = table(collector)
    OUTPUT.write_text(text)
    print(text)
    return int(code)


if __name__ == "__main__":
    sys.exit(main())
