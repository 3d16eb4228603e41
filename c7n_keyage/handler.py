"""Lambda entry point: ``mode.handler: c7n_keyage.handler.run``.

Lambda does not read ``.pth`` files, and c7n's default handler only loads resource types,
so this one imports the plugin (registering the filter) before c7n dispatches the event.
A warm container runs invocations in one process: each is a policy run of its own, and
reads the account's report afresh (nothing is held beyond a run).
"""

from c7n.handler import dispatch_event

import c7n_keyage  # noqa: F401  (registers the filter)


def run(event, context=None):
    return dispatch_event(event, context)
