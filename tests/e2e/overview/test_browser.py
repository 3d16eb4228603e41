"""The page in a real browser: Debian's Chromium, headless, loads the report from a file with
no network (a file:// URL, every host unresolvable, a proxy that does not exist), and the DOM
it renders shows the JSON's figures, which equal a count made from the fleet's own keys.
The screenshot it takes is the README's (docs/overview.png), rewritten only when it differs.

Chromium is required, not optional: without it this test fails, saying how to install it
(.ci/run installs it on a fresh machine).
"""

from __future__ import annotations

import json
import os
import pathlib
import re
import shutil
import struct
import subprocess
import sys
import tempfile

import pytest

from tests.support.fleet import DEMO_DATES, as_truth, demo_fleet, truth, write_fleet
from tests.support.page import numbers_in_json, numbers_on_page, parse

ROOT = pathlib.Path(__file__).resolve().parents[3]
SCREENSHOT = ROOT / "docs" / "overview.png"
WIDTH, HEIGHT = 1280, 1500
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    # The network off: no name resolves and every connection goes to a closed local port.
    "--host-resolver-rules=MAP * ~NOTFOUND",
    "--proxy-server=127.0.0.1:9",
    "--hide-scrollbars",
    f"--window-size={WIDTH},{HEIGHT}",
]


def chromium() -> str:
    found = (
        os.environ.get("CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
    )
    if not found:
        pytest.fail(
            "chromium is not installed: this test renders the report in a real browser. "
            "Install Debian's package (apt-get update && apt-get install -y chromium), or set "
            "CHROMIUM to a Chromium binary. .ci/run installs it when /usr/bin/chromium is absent."
        )
    return found


def browse(page: pathlib.Path, profile: pathlib.Path, *how: str) -> subprocess.CompletedProcess:
    done = subprocess.run(
        [chromium(), *FLAGS, f"--user-data-dir={profile}", *how, page.as_uri()],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return done


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("browser")
    fleet = demo_fleet()
    write_fleet(tmp / "runs", fleet, DEMO_DATES, other_policy=True)
    script = pathlib.Path(sys.executable).parent / "c7n-keyage"
    # A relative input: the page names its inputs, and the screenshot must not depend on tmp.
    done = subprocess.run(
        [script, "report", "runs", "--html", "keys.html", "--json", "keys.json"],
        cwd=tmp,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    return tmp, fleet, json.loads((tmp / "keys.json").read_text())


def test_the_rendered_dom_shows_the_figures_of_the_json_and_of_the_fleet(report):
    tmp, fleet, overview = report
    dom = browse(tmp / "keys.html", tmp / "profile-dom", "--dump-dom").stdout
    page = parse(dom)
    assert page.find("h1").text() == f"Stale IAM access keys, as of {DEMO_DATES[-1].date()}"
    shown = numbers_on_page(dom)
    assert shown == numbers_in_json(overview)
    assert as_truth(overview) == truth(fleet, DEMO_DATES)
    # The totals and a few accounts by name, as a reader would look them up.
    assert shown["totals"]["stale_keys"] == overview["totals"]["stale_keys"] > 0
    by_name = {a["account_name"]: a["account_id"] for a in overview["accounts"]}
    for name in ("data-lake", "logging", "legacy-erp"):
        expected = truth(fleet, DEMO_DATES)["accounts"][by_name[name]]["stale_keys"]
        assert shown["accounts"][by_name[name]]["stale_keys"] == expected


def test_it_prints(report):
    tmp, _, _ = report
    pdf = tmp / "keys.pdf"
    browse(
        tmp / "keys.html", tmp / "profile-pdf", "--no-pdf-header-footer", f"--print-to-pdf={pdf}"
    )
    data = pdf.read_bytes()
    assert data.startswith(b"%PDF-")
    # The whole page on several sheets (one sheet would mean the tables were cut off).
    assert len(re.findall(rb"/Type\s*/Page(?![A-Za-z])", data)) >= 3


def test_the_screenshot_is_the_readmes(report):
    tmp, _, _ = report
    shot = tmp / "overview.png"
    browse(tmp / "keys.html", tmp / "profile-shot", f"--screenshot={shot}")
    data = shot.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    assert struct.unpack(">II", data[16:24]) == (WIDTH, HEIGHT)
    assert len(data) < 500_000
    if not SCREENSHOT.exists() or SCREENSHOT.read_bytes() != data:
        # Atomic: make test runs this in two environments at once.
        with tempfile.NamedTemporaryFile(dir=SCREENSHOT.parent, delete=False) as out:
            out.write(data)
        os.chmod(out.name, 0o644)
        os.replace(out.name, SCREENSHOT)
    assert SCREENSHOT.read_bytes() == data
