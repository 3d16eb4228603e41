"""Mutation testing of the core and the shell: ``make mutation`` (``python -m tools.mutation``).

mutmut (pinned in the Makefile; settings in pyproject.toml's ``[tool.mutmut]``) mutates
the modules its only_mutate lists one change at a time and runs the
fast tests that reach each changed function. It runs in ``.venv-mutation/``: the package's
dependencies and test tools, and NOT the package, so no ``c7n_keyage.pth`` imports an
installed copy at start-up and the tests (pytest's ``pythonpath = ["."]``) import the
mutated copy mutmut writes under ``mutants/`` (the install guard in tests/conftest.py then
compares that copy with itself and lets the session run). This script proves it first:

- ``c7n_keyage`` cannot be imported in this environment from outside a checkout;
- in a copy of the tree, the selected tests pass, and fail once ``>`` is ``>=`` in the rule
  (a hand-made mutant): they test the tree they run in, not an installed copy.

mutmut itself then refuses to start unless the tests pass unmutated and fail when every
mutated function raises. After the run, every surviving mutant must be listed below, in
EXPLAINED, as equivalent (no input can tell it from the code) or as revealing a bug, with
the reason; anything else fails the target, and so does a listed mutant that no longer
survives. Results go to docs/mutation.json and the mutation section of docs/reliability.md.
"""

from __future__ import annotations

import ast
import datetime
import json
import os
import pathlib
import re
import shutil
import subprocess
import sys
import tempfile
import time
import tomllib

REPO = pathlib.Path(__file__).resolve().parent.parent
RESULTS = REPO / "docs" / "mutation.json"
RELIABILITY = REPO / "docs" / "reliability.md"
START, END = "<!-- mutation:start -->", "<!-- mutation:end -->"

# The hand-made mutant: the rule's "strictly more than" for a used key made "at least".
CANARY = (
    "c7n_keyage/stale/rule.py",
    "elif key.last_used is not UNREADABLE and now - key.last_used > limit:",
    "elif key.last_used is not UNREADABLE and now - key.last_used >= limit:",
)

# Survivors that no test should kill. Each: the mutated function, a part of the line the
# mutant writes, "equivalent" or "bug", and why. Matched by content, not by mutmut's number:
# exactly one survivor must match each entry.
EXPLAINED = [
    {
        "function": "c7n_keyage.credential_report.parse.x_parse_date",
        "after": 'if value == "XXN/AXX":',
        "kind": "equivalent",
        "why": "a shortcut for the commonest value: without it, N/A fails fromisoformat and the "
        "general path reads it as absent, the same answer",
    },
    {
        "function": "c7n_keyage.credential_report.parse.x_parse_date",
        "after": 'if value == "n/a":',
        "kind": "equivalent",
        "why": "the same shortcut, now for n/a, which the general path also reads as absent",
    },
    {
        "function": "c7n_keyage.credential_report.parse.x_name_or_none",
        "after": 'raw == "XXN/AXX" or',
        "kind": "equivalent",
        "why": "a shortcut for N/A, which the set test after it also finds",
    },
    {
        "function": "c7n_keyage.credential_report.parse.x_name_or_none",
        "after": 'raw == "n/a" or',
        "kind": "equivalent",
        "why": "the same shortcut, now for n/a, which the set test after it also finds",
    },
    {
        "function": "c7n_keyage.credential_report.parse.x__utc",
        "after": "(parsed.tzinfo is timezone.utc) and False",
        "kind": "equivalent",
        "why": "a shortcut: astimezone(timezone.utc) of a date already in timezone.utc returns "
        "that same date",
    },
    {
        "function": "c7n_keyage.credential_report.parse.x_parse_report",
        "after": 'content.decode("UTF-8-SIG")',
        "kind": "equivalent",
        "why": "codec names are case-insensitive",
    },
    {
        "function": "c7n_keyage.credential_report.parse.x__parse_key",
        "after": '(active_raw or "XXXX")',
        "kind": "equivalent",
        "why": "a missing value becomes another string that is neither true nor false: the same "
        "problem, which quotes the raw value, not this one",
    },
    {
        "function": "c7n_keyage.credential_report.parse.x__realign",
        "after": 'f.startswith("arn:")), None)',
        "kind": "equivalent",
        "why": "with no ARN, the name and the ARN are both the whole run of fields, and a string "
        "never ends with '/' and itself: None either way",
    },
    {
        "function": "c7n_keyage.credential_report.parse.x__names_in",
        "after": 'f.startswith("arn:")), 1)',
        "kind": "equivalent",
        "why": "with no ARN, start is 0 or 1, and only start > 1 adds a name",
    },
    {
        "function": "c7n_keyage.stale.verify.x__second",
        "after": "replace(microsecond=1)",
        "kind": "equivalent",
        "why": "_second's values are only compared with each other: any fixed microsecond groups "
        "dates by the same second",
    },
    {
        "function": "c7n_keyage.credential_report.parse.x_parse_report",
        "after": "len(fields) >= width and arn_at",
        "kind": "equivalent",
        "why": "a row of one line and exactly the header's width is never unreadable, so the "
        "realigning branch is not reached for it either way",
    },
    {
        "function": "c7n_keyage.stale.confirm.x_confirm",
        "after": 'local_session(None).client("iam")',
        "kind": "equivalent",
        "why": "c7n keeps one session per thread and region for 45 minutes, and the policy's "
        "run made it (listing users, fetching the report) before this line: local_session "
        "returns that one whatever factory it is given",
    },
    {
        "function": "c7n_keyage.credential_report.source.x_add_details",
        "after": 'local_session(None).client("iam")',
        "kind": "equivalent",
        "why": "the same cached session: the report was fetched with it just before",
    },
    {
        "function": "c7n_keyage.credential_report.source.x_path",
        "after": '.split(":", )[-1]',
        "kind": "equivalent",
        "why": "an IAM user ARN has exactly five colons and neither a path nor a user name may "
        "hold one: splitting at every colon leaves the same last part",
    },
    {
        "function": "c7n_keyage.credential_report.source.x_path",
        "after": '.rsplit(":", 5)[-1]',
        "kind": "equivalent",
        "why": "the same five colons: the last part is the same from either end",
    },
    {
        "function": "c7n_keyage.credential_report.source.x_path",
        "after": '.split(":", 6)[-1]',
        "kind": "equivalent",
        "why": "the same five colons: a sixth split never happens",
    },
    {
        "function": "c7n_keyage.credential_report.source.x_path",
        "after": '(row.arn or "XXXX")',
        "kind": "equivalent",
        "why": "with no ARN, either placeholder is not a user ARN: no path either way",
    },
    {
        "function": "c7n_keyage.credential_report.fetch.x_error_code",
        "after": '.get("Code", None)',
        "kind": "equivalent",
        "why": "the code is only compared with known codes: None and an empty code match none",
    },
    {
        "function": "c7n_keyage.credential_report.fetch.x_error_code",
        "after": '.get("Code", )',
        "kind": "equivalent",
        "why": "the same: get's default is None, which matches no known code",
    },
    {
        "function": "c7n_keyage.credential_report.fetch.x_error_code",
        "after": '.get("Code", "XXXX")',
        "kind": "equivalent",
        "why": "the same: a made-up code matches no known code",
    },
    {
        "function": "c7n_keyage.credential_report.fetch.x_error_code",
        "after": '.get("Error", None)',
        "kind": "equivalent",
        "why": "botocore's ClientError always carries an Error element",
    },
    {
        "function": "c7n_keyage.credential_report.fetch.x_error_code",
        "after": '.get("Error", )',
        "kind": "equivalent",
        "why": "botocore's ClientError always carries an Error element",
    },
    {
        "function": "c7n_keyage.credential_report.fetch.x__generate",
        "after": '"XXunknownXX"',
        "kind": "equivalent",
        "why": "a State the endpoint did not give is only compared with COMPLETE: any other "
        "placeholder reads the same",
    },
    {
        "function": "c7n_keyage.credential_report.fetch.x__generate",
        "after": '"UNKNOWN"',
        "kind": "equivalent",
        "why": "the same placeholder, in capitals: not COMPLETE either",
    },
    {
        "function": "c7n_keyage.credential_report.source.xǁCredentialReportSourceǁget_resources",
        "after": "cache: bool = False",
        "kind": "equivalent",
        "why": "the parameter is c7n's source interface (DescribeSource.get_resources); the "
        "report source has no per-call cache to skip, so its default changes nothing",
    },
    {
        "function": "c7n_keyage.stale.access_key_unused.xǁUserAccessKeyUnusedǁprocess",
        "after": "source.add_details(self.manager, matched, None)",
        "kind": "log wording",
        "why": "add_details uses the policy's name only in its log line for a user deleted "
        "since the report",
    },
    {
        "function": "c7n_keyage.stale.access_key_unused.xǁAccountAccessKeyUnusedǁprocess",
        "after": "self.annotate_report(resource, None, flagged, now)",
        "kind": "log wording",
        "why": "annotate_report uses the name only in its warning for a key with no creation "
        "date, which a root row never lacks in these tests",
    },
    {
        "function": "c7n_keyage.credential_report.fetch.x__call",
        "after": "backoff_delays(1, 33, jitter=True)",
        "kind": "equivalent",
        "why": "c7n's backoff doubles from 1: 1, 2, 4, 8, 16, 32, then 64, past either limit",
    },
    {
        "function": "c7n_keyage.credential_report.parse.x_parse_report",
        "after": "newline=None",
        "kind": "equivalent",
        "why": "it changes only line breaks inside quoted fields, whose rows are never read; "
        "the name kept for such a row ends at its first CR or LF either way (this survivor "
        "once revealed that the code cut it at LF only: fixed)",
    },
    {
        "function": "c7n_keyage.plugin.hook.xǁ_Loaderǁcreate_module",
        "after": "create_module(None)",
        "kind": "equivalent",
        "why": "c7n's modules are Python source, whose loader's create_module ignores the spec "
        "and returns None (Python's default module creation) either way",
    },
    {
        "function": "c7n_keyage.plugin.hook.x_install",
        "after": 'getattr(f, "c7n_keyage", None)',
        "kind": "equivalent",
        "why": "the default is for finders that are not the plugin's: False and None are both "
        "false to any()",
    },
    {
        "function": "c7n_keyage.options.x_unknown",
        "after": "list(properties), )",
        "kind": "equivalent",
        "why": "get_close_matches lists the best match first whatever its n, and only the first "
        "is said",
    },
    {
        "function": "c7n_keyage.options.x_unknown",
        "after": "n=2",
        "kind": "equivalent",
        "why": "the same: n=2 adds a second match, never said",
    },
    {
        "function": "c7n_keyage.lifecycle.reads.x_key_status",
        "after": "lambda entry: None",
        "kind": "equivalent",
        "why": "the selector asks for no key's last use: None is as false as False",
    },
    {
        "function": "c7n_keyage.overview.history.x_save",
        "after": "encoding=None",
        "kind": "equivalent",
        "why": "on a host whose locale is UTF-8, or C/POSIX (which Python 3.7+ makes UTF-8, "
        "PEP 538/540), the default is UTF-8; the explicit name keeps other hosts right, and no "
        "test process can change its own locale encoding",
    },
    {
        "function": "c7n_keyage.overview.history.x_save",
        "after": 'os.fdopen(handle, "w", )',
        "kind": "equivalent",
        "why": "the same default encoding, by leaving the argument out",
    },
    {
        "function": "c7n_keyage.overview.history.x_save",
        "after": 'encoding="UTF-8"',
        "kind": "equivalent",
        "why": "codec names are case-insensitive",
    },
    {
        "function": "c7n_keyage.testing.xǁFlightǁpin",
        "after": "lambda seconds: 0",
        "kind": "equivalent",
        "why": "the plugin's parts call sleep for its pause, never for a value",
    },
    {
        "function": "c7n_keyage.lifecycle.reads.x_list_tags",
        "after": '.get("Tags", None)',
        "kind": "equivalent",
        "why": "Tags is a required member of ListUserTags' answer in botocore's model, so the "
        "full result always has it (an empty list for a user without tags)",
    },
    {
        "function": "c7n_keyage.lifecycle.reads.x_list_tags",
        "after": '.get("Tags", )',
        "kind": "equivalent",
        "why": "the same: the default is never used",
    },
    {
        "function": "c7n_keyage.lifecycle.reads.x_read_records",
        "after": "last_used_known=None",
        "kind": "equivalent",
        "why": "the plan reads last_used_known only as true or false",
    },
    {
        "function": "c7n_keyage.policy_run.x_preview_on_dry_run",
        "after": 'getattr(manager.config, "dryrun", None)',
        "kind": "equivalent",
        "why": "for a config without the setting, None is as false as False",
    },
    {
        "function": "c7n_keyage.lifecycle.actions.xǁLifecycleActionǁ__init__",
        "after": "super().__init__(data, manager, None)",
        "kind": "equivalent",
        "why": "c7n builds actions with their data and manager only, so log_dir is None already",
    },
    {
        "function": "c7n_keyage.lifecycle.actions.xǁLifecycleActionǁ__init__",
        "after": "super().__init__(data, manager, )",
        "kind": "equivalent",
        "why": "the same: c7n's Action takes log_dir as None by default",
    },
    {
        "function": "c7n_keyage.overview.remediation.x_key_state",
        "after": 'key_id, "used_since_retired": True}',
        "kind": "equivalent",
        "why": "every key the lifecycle has seen has a record or a state-changing result, and "
        "each sets used_since_retired over this default: it only places the field first",
    },
    {
        "function": "c7n_keyage.overview.remediation.x_key_state",
        "after": "if (outcome == RETIRED) or True else None",
        "kind": "equivalent",
        "why": "a restored or deleted key with no record then carries its result's time as "
        "retired_at, which nothing shows: the page, the JSON and the CSV list only retired "
        "keys, and the lifecycle counts read no date",
    },
    {
        "function": "c7n_keyage.overview.cli.x__write",
        "after": 'encoding="UTF-8"',
        "kind": "equivalent",
        "why": "codec names are case-insensitive",
    },
    {
        "function": "c7n_keyage.plugin.hook.xǁ_Finderǁfind_spec",
        "after": "find_spec(name, path, None)",
        "kind": "equivalent",
        "why": "target is a hint for reloads, which CPython's path finders (the ones behind c7n's "
        "modules) accept and never read",
    },
    {
        "function": "c7n_keyage.plugin.hook.xǁ_Finderǁfind_spec",
        "after": "find_spec(name, path, )",
        "kind": "equivalent",
        "why": "the same: its default is None",
    },
    {
        "function": "c7n_keyage.overview.cli.x_parser",
        "after": 'add_subparsers(metavar="COMMAND", required=True)',
        "kind": "equivalent",
        "why": "nothing reads the command's name (report is the only command), and with a "
        "metavar argparse's error for a missing command names COMMAND either way",
    },
    {
        "function": "c7n_keyage.overview.cli.x_parser",
        "after": 'dest="XXcommandXX"',
        "kind": "equivalent",
        "why": "the same: the command's name is stored under another name nothing reads",
    },
    {
        "function": "c7n_keyage.overview.cli.x_parser",
        "after": 'dest="COMMAND"',
        "kind": "equivalent",
        "why": "the same: the command's name is stored under another name nothing reads",
    },
    {
        "function": "c7n_keyage.overview.cli.x_main",
        "after": "log.propagate = None",
        "kind": "equivalent",
        "why": "logging tests propagate for truth: None stops a record at this logger as "
        "False does",
    },
    {
        "function": "c7n_keyage.overview.runs.x__plausible",
        "after": "if (isinstance(value, str)) or True else None",
        "kind": "equivalent",
        "why": "parse_iso of anything but a string (a number, a list, an object from the JSON) "
        "is None, as the guard gives",
    },
    {
        "function": "c7n_keyage.overview.fleet.xǁFleetǁadd",
        "after": "or day >= self.as_of:",
        "kind": "equivalent",
        "why": "the same date assigned again when a run is of the latest date: nothing changes",
    },
    {
        "function": "c7n_keyage.overview.inputs.x_expand",
        "after": "17 + zlib.MAX_WBITS",
        "kind": "equivalent",
        "why": "32 asks zlib to detect gzip or zlib from the header, and only data starting with "
        "gzip's magic bytes gets here: it is read as gzip either way",
    },
    {
        "function": "c7n_keyage.overview.inputs.x_expand",
        "after": "cap + 2 - len(out)",
        "kind": "equivalent",
        "why": "expansion goes one byte further before the same refusal: the file, the message and "
        "memory (within a byte) are the same",
    },
    {
        "function": "c7n_keyage.overview.inputs.x_peek",
        "after": "lambda _: 0",
        "kind": "equivalent",
        "why": "the warning callback's return value is never used",
    },
    {
        "function": "c7n_keyage.overview.inputs.x_printable",
        "after": 'encode("UTF-8"',
        "kind": "equivalent",
        "why": "codec names are case-insensitive",
    },
    {
        "function": "c7n_keyage.overview.inputs.x_printable",
        "after": 'decode("UTF-8"',
        "kind": "equivalent",
        "why": "codec names are case-insensitive",
    },
    {
        "function": "c7n_keyage.overview.inputs.x_read_stores",
        "after": "heads.sort(key=None)",
        "kind": "equivalent",
        "why": "heads are (start, where, store, files): a store lists each directory once, so the "
        "whole tuple orders as its first two do and never reaches the files",
    },
    {
        "function": "c7n_keyage.overview.inputs.x_read_stores",
        "after": "head[:3]",
        "kind": "equivalent",
        "why": "the same: (start, where) ties only across stores, which the store's index then "
        "orders as the stable sort already did",
    },
    {
        "function": "c7n_keyage.overview.inputs.x__executor",
        "after": "default=None",
        "kind": "equivalent",
        "why": "the default counts only with no store at all (a report from its history alone), "
        "where None, like 0, makes no pool",
    },
    {
        "function": "c7n_keyage.overview.inputs.x__executor",
        "after": "default=1",
        "kind": "equivalent",
        "why": "with no store there is no run to read: the pool of one thread is made and "
        "shut down unused",
    },
    {
        "function": "c7n_keyage.overview.inputs.x__heads",
        "after": "cancel_futures=None",
        "kind": "equivalent",
        "why": "in_order never has more reads pending than the pool has threads, so none is queued "
        "and none can be cancelled",
    },
    {
        "function": "c7n_keyage.overview.inputs.x__heads",
        "after": "cancel_futures=False",
        "kind": "equivalent",
        "why": "the same: no read is ever queued behind the pool's threads",
    },
    {
        "function": "c7n_keyage.overview.inputs.x__runs",
        "after": "cancel_futures=None",
        "kind": "equivalent",
        "why": "in_order never has more loads pending than the pool has threads, so none is queued "
        "and none can be cancelled",
    },
    {
        "function": "c7n_keyage.overview.inputs.x__runs",
        "after": "cancel_futures=False",
        "kind": "equivalent",
        "why": "the same: no load is ever queued behind the pool's threads",
    },
    {
        "function": "c7n_keyage.overview.fleet.xǁFleetǁadd",
        "after": '(at, "XXXX")',
        "kind": "equivalent",
        "why": "only the default's time is read, never its name",
    },
    {
        "function": "c7n_keyage.overview.fleet.xǁFleetǁ_hold",
        "after": "run_order(run) < run_order(kept)",
        "kind": "equivalent",
        "why": "an equal order is the same run (one start, one directory) read twice: held "
        "again in its own place, counted superseded either way, its figures the same",
    },
]


def fail(message: str) -> None:
    print(f"make mutation: {message}", file=sys.stderr)
    sys.exit(1)


def config() -> dict:
    return tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["mutmut"]


def check_environment() -> None:
    """The package must not be importable here except from a tree on sys.path."""
    probe = "import importlib.util; print(importlib.util.find_spec('c7n_keyage'))"
    with tempfile.TemporaryDirectory() as elsewhere:
        found = subprocess.run(
            [sys.executable, "-c", probe], cwd=elsewhere, capture_output=True, text=True
        ).stdout.strip()
    if found != "None":
        fail(
            f"c7n_keyage is installed in {sys.prefix} ({found}): the tests would import it, "
            "not the mutants. Delete that environment and run make mutation again."
        )


def pytest_in(tree: pathlib.Path, tests: list[str]) -> int:
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-x", "-q", "-p", "no:cacheprovider", *tests],
        cwd=tree,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    ).returncode


def canary(tests: list[str]) -> dict:
    """In a copy of the tree: the tests pass, then fail with the hand-made mutant."""
    path, before, after = CANARY
    with tempfile.TemporaryDirectory() as tmp:
        tree = pathlib.Path(tmp)
        for name in ("c7n_keyage", "tests", "policies", "docs"):
            shutil.copytree(REPO / name, tree / name, ignore=shutil.ignore_patterns("__pycache__"))
        shutil.copy2(REPO / "pyproject.toml", tree)
        clean = pytest_in(tree, ["tests/unit/stale/test_rule.py"])
        source = (tree / path).read_text()
        if source.count(before) != 1:
            fail(f"the canary line is no longer in {path}: update CANARY in tools/mutation.py")
        (tree / path).write_text(source.replace(before, after))
        mutated = pytest_in(tree, tests)
    # pytest: 0 passed, 1 some test failed; 2 is the install guard's stop.
    if clean != 0 or mutated != 1:
        fail(
            f"the tests do not test the tree they run in: unmutated exit {clean} (want 0), "
            f"with {after!r} exit {mutated} (want 1)"
        )
    return {"mutation": f"{path}: {before} -> {after}", "clean": clean, "mutated": mutated}


def run_mutmut() -> float:
    shutil.rmtree(REPO / "mutants", ignore_errors=True)
    log = pathlib.Path(sys.prefix) / "mutmut-run.log"
    start = time.monotonic()
    with log.open("w") as out:
        code = subprocess.run(
            [str(pathlib.Path(sys.executable).parent / "mutmut"), "run"],
            cwd=REPO,
            stdout=out,
            stderr=subprocess.STDOUT,
        ).returncode
    seconds = time.monotonic() - start
    tail = log.read_text(errors="replace").replace("\r", "\n").strip().splitlines()[-3:]
    print("\n".join(tail))
    if code != 0:
        fail(f"mutmut run failed (exit {code}); its output is in {log}")
    return seconds


def changed_lines(diff: str) -> tuple[str, str]:
    """The line a mutant removes and the line it adds, stripped."""
    lines = diff.splitlines()
    removed = [x[1:].strip() for x in lines if x.startswith("-") and not x.startswith("---")]
    added = [x[1:].strip() for x in lines if x.startswith("+") and not x.startswith("+++")]
    return " / ".join(removed), " / ".join(added)


def explanation(name: str, after: str) -> dict | None:
    for entry in EXPLAINED:
        if name.startswith(entry["function"] + "__mutmut_") and entry["after"] in after:
            return entry
    return None


# Survivors explained by where they are, not one by one: a mutant whose every changed line
# lies inside a call that writes a log line changes only what that line says. The tests
# read the log lines that carry a decision (why a key is left alone, the users access was
# denied for, a user deleted since the report) for the decision, most of them word for
# word; a mutant of one of those that survives is listed like any other, never here.
LOG_LINE = {
    "kind": "log wording",
    "why": "it changes only the words or an argument of a log line, which the tests do not "
    "read word for word",
}
_LOG_LEVELS = frozenset({"debug", "info", "warning", "error", "exception"})


def function_node(mutant: str) -> tuple[pathlib.Path, ast.AST] | None:
    """The module and the function (or method) a mutmut mutant name points at."""
    module, _, rest = mutant.partition(".x")
    name = rest.split("__mutmut_")[0]
    path = REPO / (module.replace(".", "/") + ".py")
    tree = ast.parse(path.read_text())
    if name.startswith("ǁ"):
        cls, method = name.strip("ǁ").split("ǁ")
        scopes = [n for n in tree.body if isinstance(n, ast.ClassDef) and n.name == cls]
        tree, name = (scopes[0], method) if scopes else (tree, "")
    else:
        name = name[1:]  # mutmut names function f "x_f"
    for node in ast.iter_child_nodes(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.name == name:
            return path, node
    return None


def in_log_line(mutant: str, before: str) -> bool:
    """Whether every line the mutant changes lies inside a ``log.<level>(...)`` call."""
    found = function_node(mutant)
    if found is None or not before:
        return False
    path, function = found
    lines = path.read_text().splitlines()
    spans = [
        (call.lineno, call.end_lineno)
        for call in ast.walk(function)
        if isinstance(call, ast.Call)
        and isinstance(call.func, ast.Attribute)
        and call.func.attr in _LOG_LEVELS
        and isinstance(call.func.value, ast.Name)
        and call.func.value.id == "log"
    ]
    for changed in before.split(" / "):
        at = [
            n
            for n in range(function.lineno, function.end_lineno + 1)
            if lines[n - 1].strip() == changed
        ]
        if not at or not all(any(a <= n <= b for a, b in spans) for n in at):
            return False
    return True


def collect(canary_result: dict, seconds: float, tests: list[str]) -> dict:
    os.chdir(REPO)  # mutmut reads its settings and mutants/ from the working directory
    from mutmut import __version__ as mutmut_version

    modules, survivors, unexplained, canary_status = {}, [], [], None
    matched: list[int] = []
    for path in config()["only_mutate"]:
        modules[path], found = _collect_module(path, survivors, unexplained, matched)
        canary_status = found if found is not None else canary_status
    total = {k: sum(m[k] for m in modules.values()) for k in next(iter(modules.values()))}
    # Each entry explains exactly one survivor: none means it is killed now, two that the
    # entry is too loose to tell them apart.
    stale = [e for i, e in enumerate(EXPLAINED) if matched.count(i) != 1]
    return {
        "date": datetime.date.today().isoformat(),
        "python": sys.version.split()[0],
        "mutmut": mutmut_version,
        "seconds": round(seconds),
        "tests": tests,
        "canary": {**canary_result, "mutmut": canary_status},
        "modules": modules,
        "total": total,
        "explained": survivors,
        "unexplained": unexplained,
        "stale explanations": stale,
    }


def _collect_module(
    path: str, survivors: list[dict], unexplained: list[dict], matched: list[int]
) -> tuple[dict, str | None]:
    """One mutated module's counts by status, and mutmut's status of the canary mutant if
    the module holds it. Its survivors go to ``survivors`` when explained (the index of the
    EXPLAINED entry each matches to ``matched``), the rest not killed to ``unexplained``."""
    from mutmut.mutation.data import SourceFileMutationData
    from mutmut.mutation.diff_apply import get_diff_for_mutant
    from mutmut.stats import status_by_exit_code

    canary_status = None
    data = SourceFileMutationData(path=pathlib.Path(path))
    data.load()
    counts = {"mutants": 0, "killed": 0, "survived": 0, "timeout": 0, "other": 0}
    for name, code in sorted(data.exit_code_by_key.items()):
        status = status_by_exit_code[code]
        counts["mutants"] += 1
        counts[status if status in counts else "other"] += 1
        if path == CANARY[0] or status != "killed":
            diff = get_diff_for_mutant(name, path=path)
            before, after = changed_lines(diff)
            if path == CANARY[0] and (before, after) == CANARY[1:]:
                canary_status = status
        if status == "killed" or status == "timeout":
            continue
        entry = explanation(name, after)
        if entry is None and status == "survived" and in_log_line(name, before):
            entry = LOG_LINE
        record = {"mutant": name, "status": status, "before": before, "after": after}
        if entry is None or status != "survived":
            unexplained.append(record)
        else:
            survivors.append({**record, "kind": entry["kind"], "why": entry["why"]})
            if entry is not LOG_LINE:
                matched.append(EXPLAINED.index(entry))
    return counts, canary_status


def score(counts: dict, equivalent: int = 0) -> str:
    detected = counts["killed"] + counts["timeout"]
    return f"{100 * detected / max(counts['mutants'] - equivalent, 1):.1f}%"


def section(results: dict | None = None) -> str:
    """The mutation section of docs/reliability.md, from docs/mutation.json."""
    if results is None:
        if not RESULTS.exists():
            return f"{START}\n## Mutation testing\n\nNot run yet: `make mutation`.\n{END}"
        results = json.loads(RESULTS.read_text())
    equivalent = [s for s in results["explained"] if s["kind"] == "equivalent"]
    bugs = [s for s in results["explained"] if s["kind"] == "bug"]
    rows = _module_rows(results, equivalent)
    listed = [
        f"- `{s['mutant']}` ({s['kind']}): `{s['before']}` -> `{s['after']}`: {s['why']}."
        for s in [*equivalent, *bugs]
    ]
    tests = ", ".join(f"`{t}`" for t in results["tests"])
    return "\n".join(
        [
            START,
            "## Mutation testing",
            "",
            f"Made by `make mutation` (`tools/mutation.py`, mutmut {results['mutmut']}) on "
            f"{results['date']}, Python {results['python']}, in {results['seconds'] // 60} min "
            f"{results['seconds'] % 60} s on 2 cores. Each mutant is one change to a function "
            "of a module that `[tool.mutmut]` lists, run against the tests that reach that "
            f"function among {tests} "
            "(fastest first, stopping at the first failure). The tests import the mutated copy, "
            f"not an installed one: checked before the run by a hand-made mutant "
            f"(`{results['canary']['mutation']}`), which fails them, and by mutmut, which "
            f"reports that mutant {results['canary']['mutmut']}.",
            "",
            "| module | mutants | killed | survived | timeout | other | of the survivors, "
            "equivalent | score | score without the equivalent |",
            "|---|---|---|---|---|---|---|---|---|",
            *rows,
            "",
            "Score: killed and timed out over all mutants. A timeout counts as killed (the tests "
            "stopped the mutant, by hanging); other: no test reached it, or it crashed.",
            "",
            f"Survivors, each explained ({len(equivalent)} equivalent, {len(bugs)} revealing "
            "a bug; any other survivor fails `make mutation`):",
            "",
            *(listed or ["- none"]),
            END,
        ]
    )


def _module_rows(results: dict, equivalent: list[dict]) -> list[str]:
    """The table's rows: one per mutated module, then all of them."""
    rows = []
    for path, counts in [*results["modules"].items(), ("all", results["total"])]:
        mine = sum(1 for s in equivalent if path == "all" or _module(s["mutant"]) == path)
        name = f"`{path}`" if path != "all" else "**all**"
        rows.append(
            f"| {name} | {counts['mutants']} | {counts['killed']} | {counts['survived']} | "
            f"{counts['timeout']} | {counts['other']} | {mine} | {score(counts)} | "
            f"{score(counts, mine)} |"
        )
    return rows


def _module(mutant: str) -> str:
    return mutant.split(".x")[0].replace(".", "/") + ".py"


def write_section(results: dict) -> None:
    text = RELIABILITY.read_text() if RELIABILITY.exists() else ""
    new = section(results)
    if START in text and END in text:
        text = re.sub(re.escape(START) + ".*?" + re.escape(END), lambda _: new, text, flags=re.S)
    else:
        text = text.rstrip("\n") + "\n\n" + new + "\n"
    RELIABILITY.write_text(text)


def main() -> int:
    tests = config()["pytest_add_cli_args_test_selection"]
    check_environment()
    canary_result = canary(tests)
    print("checked: the package is not installed here; the tests fail on a hand-made mutant")
    seconds = run_mutmut()
    results = collect(canary_result, seconds, tests)
    RESULTS.write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n")
    write_section(results)
    print(section(results))
    problems = []
    if results["canary"]["mutmut"] != "killed":
        problems.append(f"mutmut reports the canary mutant {results['canary']['mutmut']}")
    problems += [
        f"unexplained {u['status']} mutant {u['mutant']}: {u['before']!r} -> {u['after']!r}"
        for u in results["unexplained"]
    ]
    problems += [
        f"EXPLAINED entry matching no survivor or several: {e['function']}: {e['after']!r}"
        for e in results["stale explanations"]
    ]
    for problem in problems:
        print(f"make mutation: {problem}", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
