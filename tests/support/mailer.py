"""Render the shipped c7n-mailer template as c7n-mailer does, and read what it rendered.

``render`` calls c7n-mailer's own ``get_rendered_jinja`` (template name from the message,
``.j2`` appended, looked up in ``templates_folders``: c7n-mailer's, then the package's).
"""

from __future__ import annotations

import base64
import json
import logging
import pathlib
import zlib
from html.parser import HTMLParser

import c7n_mailer
from c7n_mailer.utils import get_rendered_jinja

import c7n_keyage

TEMPLATES = pathlib.Path(c7n_keyage.__file__).parent / "templates"
# What c7n-mailer searches: its own templates, then the folder given with --templates.
MAILER_FOLDERS = [str(pathlib.Path(c7n_mailer.__file__).parent / "msg-templates"), str(TEMPLATES)]
QUEUE = "https://sqs.us-east-1.amazonaws.com/123456789012/mailer"
NOTIFY = {
    "type": "notify",
    "template": "access-key-unused.html",
    "violation_desc": "Access keys unused for more than 90 days.",
    "action_desc": "Rotate or delete these keys by Friday.",
    "to": ["security@example.com"],
    "transport": {"type": "sqs", "queue": QUEUE},
}


def decode(body: str) -> dict:
    """A notify message as c7n-mailer's SQS processor decodes it."""
    return json.loads(zlib.decompress(base64.b64decode(body)))


class Sections(HTMLParser):
    """Table rows of the rendered mail, per ``<h3>`` heading (one per user)."""

    def __init__(self, html: str):
        super().__init__()
        self.sections: dict[str, list[list[str]]] = {}
        self.paragraphs: list[str] = []
        self._tag = None
        self._text = ""
        self._heading = self._user = None
        self._row: list[str] | None = None
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        if tag == "tr":
            self._row = []
        elif tag in ("h3", "h4", "td", "th", "p"):
            self._tag, self._text = tag, ""

    def handle_data(self, data):
        if self._tag:
            self._text += data

    def handle_endtag(self, tag):
        if tag != self._tag and tag != "tr":
            return
        text = " ".join(self._text.split())
        if tag == "h3":
            self._heading = self._user = text
            self.sections[text] = []
        elif tag == "h4":  # a second table of the same user: "User x / Retired keys"
            self._heading = f"{self._user} / {text}"
            self.sections[self._heading] = []
        elif tag in ("td", "th") and self._row is not None:
            self._row.append(text)
        elif tag == "p":
            self.paragraphs.append(text)
        elif tag == "tr" and self._row is not None:
            self.sections[self._heading].append(self._row)
            self._row = None
        self._tag = None


def render(message: dict) -> str:
    logger = logging.getLogger("test.mailer")
    html = get_rendered_jinja(
        ["security@example.com"],
        message,
        message["resources"],
        logger,
        "template",
        "default",
        MAILER_FOLDERS,
    )
    # c7n-mailer logs a missing template and returns None instead of raising.
    assert html is not None, "c7n-mailer did not find the template"
    return html
