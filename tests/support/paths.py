"""Where the checkout's files are, for tests at any depth under ``tests/``."""

from __future__ import annotations

import pathlib

REPO = pathlib.Path(__file__).resolve().parents[2]
POLICIES = REPO / "policies"
DOCS = REPO / "docs"
DATA = REPO / "tests" / "data"
