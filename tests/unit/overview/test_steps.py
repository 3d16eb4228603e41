"""Each key's next step, from what the runs say, and how the page and the CSV say it."""

from __future__ import annotations

import pytest

from c7n_keyage.overview import steps


def test_a_stale_key_is_notified_then_retired():
    assert steps.stale_step(False) == ("notify", None)
    assert steps.stale_step(True) == ("retire", None)


@pytest.mark.parametrize(
    "state, step",
    [
        ({"status": "retired", "used_since_retired": False,
          "delete_after": "2026-12-20T06:00:00Z"}, ("delete", "2026-12-20")),
        ({"status": "retired", "used_since_retired": False, "delete_after": None},
         ("delete", None)),
        ({"status": "retired", "used_since_retired": True, "delete_after": "2026-12-20"},
         ("restore", None)),
        ({"status": "restored", "used_since_retired": True, "delete_after": None}, None),
        ({"status": "deleted", "used_since_retired": False, "delete_after": None}, None),
    ],
)  # fmt: skip
def test_a_retired_key_is_deleted_on_its_date_or_restored_when_used(state, step):
    assert steps.lifecycle_step(state) == step


@pytest.mark.parametrize(
    "step, due, said",
    [
        ("notify", None, "notify owner"),
        ("retire", None, "retire"),
        ("delete", "2026-12-20", "delete due on 2026-12-20"),
        ("delete", None, "delete (no date set)"),
        ("restore", None, "restore"),
    ],
)
def test_the_words_for_each_step(step, due, said):
    assert steps.label(step, due) == said
