"""Debian's Chromium, headless, driven over the DevTools protocol on a pipe
(``--remote-debugging-pipe``: commands on its fd 3, answers on its fd 4, each a JSON
message ending in NUL), so a test can load the page, type into it, click it, and read back
the DOM, the layout, a screenshot and a PDF, with the network off.

Chromium is required, not optional: without it the tests using it fail, saying how to
install it (.ci/run installs it on a fresh machine).
"""

from __future__ import annotations

import base64
import fcntl
import json
import os
import shutil
import subprocess
from dataclasses import dataclass, field

import pytest

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


def _as_fds_3_and_4(commands: int, answers: int):
    """In the child: Chromium reads commands on fd 3 and writes answers on fd 4."""

    def move() -> None:
        high = [fcntl.fcntl(fd, fcntl.F_DUPFD, 10) for fd in (commands, answers)]
        os.dup2(high[0], 3)
        os.dup2(high[1], 4)

    return move


@dataclass
class Browser:
    """One Chromium process and one page (tab) in it."""

    profile: str
    width: int = 1280
    height: int = 1500
    process: subprocess.Popen | None = None
    session: str | None = None
    events: list[dict] = field(default_factory=list)
    _next: int = 0
    _buffer: bytes = b""

    def __enter__(self) -> Browser:
        to_child, self._write = os.pipe()
        self._read, from_child = os.pipe()
        command = [chromium(), *FLAGS, f"--window-size={self.width},{self.height}"]
        command += [f"--user-data-dir={self.profile}", "--remote-debugging-pipe", "about:blank"]
        self.process = subprocess.Popen(
            command,
            pass_fds=(3, 4),
            preexec_fn=_as_fds_3_and_4(to_child, from_child),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        os.close(to_child)
        os.close(from_child)
        target = self.call("Target.createTarget", url="about:blank")["targetId"]
        self.session = self.call("Target.attachToTarget", targetId=target, flatten=True)[
            "sessionId"
        ]
        self.call("Page.enable")
        self.call(
            "Emulation.setDeviceMetricsOverride",
            width=self.width,
            height=self.height,
            deviceScaleFactor=1,
            mobile=False,
        )
        return self

    def __exit__(self, *exc) -> None:
        try:
            self.call("Browser.close", session=False)
        except (OSError, RuntimeError):
            pass
        self.process.wait(timeout=30)
        os.close(self._write)
        os.close(self._read)

    def _message(self) -> dict:
        while b"\0" not in self._buffer:
            chunk = os.read(self._read, 1 << 20)
            if not chunk:
                raise RuntimeError("chromium closed its DevTools pipe")
            self._buffer += chunk
        message, _, self._buffer = self._buffer.partition(b"\0")
        return json.loads(message)

    def call(self, method: str, session: bool = True, **params) -> dict:
        self._next += 1
        message = {"id": self._next, "method": method, "params": params}
        if session and self.session:
            message["sessionId"] = self.session
        os.write(self._write, json.dumps(message).encode() + b"\0")
        while True:
            answer = self._message()
            if answer.get("id") == self._next:
                if "error" in answer:
                    raise RuntimeError(f"{method}: {answer['error']}")
                return answer["result"]
            self.events.append(answer)

    def wait_for(self, event: str) -> dict:
        while True:
            found = next((e for e in self.events if e.get("method") == event), None)
            if found is not None:
                self.events.remove(found)
                return found
            self.events.append(self._message())

    def open(self, url: str, script: bool = True) -> None:
        self.call("Emulation.setScriptExecutionDisabled", value=not script)
        self.events.clear()
        self.call("Page.navigate", url=url)
        self.wait_for("Page.loadEventFired")

    def run(self, expression: str):
        """A JavaScript expression's value in the page (JSON-able)."""
        found = self.call("Runtime.evaluate", expression=expression, returnByValue=True)
        if "exceptionDetails" in found:
            raise RuntimeError(f"{expression}: {found['exceptionDetails']}")
        return found["result"].get("value")

    def dom(self) -> str:
        return self.run("document.documentElement.outerHTML")

    def click(self, selector: str) -> None:
        """A real mouse click at the middle of the element, scrolled into view first."""
        box = self.run(
            f"(() => {{ const e = document.querySelector({json.dumps(selector)}); "
            "e.scrollIntoView({block: 'center'}); const r = e.getBoundingClientRect(); "
            "return [r.x + r.width / 2, r.y + r.height / 2]; })()"
        )
        for kind in ("mousePressed", "mouseReleased"):
            self.call(
                "Input.dispatchMouseEvent",
                type=kind,
                x=box[0],
                y=box[1],
                button="left",
                clickCount=1,
            )

    def type(self, selector: str, text: str) -> None:
        """Focus the field and type, as a keyboard would (input events and all)."""
        self.run(f"document.querySelector({json.dumps(selector)}).focus()")
        self.call("Input.insertText", text=text)

    def screenshot(self) -> bytes:
        found = self.call("Page.captureScreenshot", format="png")
        return base64.b64decode(found["data"])

    def pdf(self) -> bytes:
        found = self.call("Page.printToPDF", displayHeaderFooter=False, printBackground=False)
        return base64.b64decode(found["data"])
