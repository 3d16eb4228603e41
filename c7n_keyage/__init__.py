"""c7n-keyage: find stale IAM access keys with Cloud Custodian.

Importing this package registers the ``access-key-unused`` filter on ``iam-user`` and
``account`` as soon as c7n loads them (at once if it already has), without importing c7n
itself: see ``c7n_keyage.plugin.hook``.
"""

from c7n_keyage.plugin.hook import install

__version__ = "0.1.0"

install()
