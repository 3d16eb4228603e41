"""Lambda entry point: ``mode.handler: c7n_keyage.handler.run``.

Lambda does not read ``.pth`` files, and c7n's default handler only loads resource types,
so this one imports the plugin (registering the filter) before c7n dispatches the event.
"""

from c7n.handler import dispatch_event

import c7n_keyage  # noqa: F401  (registers the filter)
from c7n_keyage import reports


def run(event, context=None):
    # A warm container runs invocations in one process: each is a run of its own, and
    # reads the account's report afresh rather than the one an earlier invocation held.
    reports.forget()
    return dispatch_event(event, context)
