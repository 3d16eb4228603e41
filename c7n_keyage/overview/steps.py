"""The next step for each key, from what the runs say. Pure.

- A stale key nobody was told about: ``notify`` its owner (the user's owner or team tag).
- A stale key a policy with ``notify`` already flagged: ``retire`` it (``retire-keys``).
- A retired key, unused since: ``delete``, due on the date its record carries
  (``delete_after``, from the deleting policy's grace or ``delete-after-days``); no date
  when no policy said one.
- A retired key used since its retirement (or whose last use is unknown): ``restore`` it,
  or find out who needs it; the lifecycle never deletes such a key.
- Restored and deleted keys need nothing.
"""

from __future__ import annotations

from c7n_keyage.names import RETIRED

NOTIFY, RETIRE, DELETE, RESTORE = "notify", "retire", "delete", "restore"
STEPS = (NOTIFY, RETIRE, DELETE, RESTORE)


def stale_step(notified: bool) -> tuple[str, str | None]:
    """(step, due date or None) for a stale key."""
    return (RETIRE if notified else NOTIFY), None


def lifecycle_step(state: dict) -> tuple[str, str | None] | None:
    """(step, due date or None) for a key in the lifecycle; None when it needs nothing."""
    if state["status"] != RETIRED:
        return None
    if state["used_since_retired"]:
        return RESTORE, None
    after = state.get("delete_after")
    return DELETE, (after[:10] if after else None)


def label(step: str, due: str | None = None) -> str:
    """How the page and the CSV say it."""
    if step == DELETE:
        return f"delete due on {due}" if due else "delete (no date set)"
    return {NOTIFY: "notify owner", RETIRE: "retire", RESTORE: "restore"}[step]
