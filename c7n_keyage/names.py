"""The plugin's vocabulary: element, annotation, reason and outcome names, spelt once.

Policies, run outputs, the mailer template and the fleet page all read these strings, so
they are public names: every module takes them from here. Standard library only (nothing
at all is imported), so the pure modules and the overview may use it.
"""

# Elements registered on c7n's resources.
FILTER = "access-key-unused"
RETIRED_FILTER = "retired-keys"
SOURCE = "credential-report"
RETIRE, RESTORE, DELETE = "retire-keys", "restore-keys", "delete-retired-keys"
LIFECYCLE_ACTIONS = (RETIRE, RESTORE, DELETE)
# The actions that act on records retired-keys chose.
RECORD_ACTIONS = (RESTORE, DELETE)
# retired-keys' options whose names are not plain words.
WITHIN_HOURS, DELETE_AFTER = "within-hours", "delete-after-days"
# c7n's own action that removes the keys named in c7n:matched-keys.
REMOVE_KEYS = "remove-keys"

# Annotations a policy run writes on a matched resource.
MATCHED_KEYS = "c7n:matched-keys"  # c7n's contract with remove-keys (matched: true)
UNUSED_KEYS = "c7n:unused-keys"  # one finding per stale key
ACCESS_KEYS = "c7n:AccessKeys"  # the live key listing remove-keys reuses
RETIRED_KEYS = "c7n:retired-keys"  # lifecycle records retired-keys matched
REFUSED_RECORDS = "c7n:retired-keys-refused"  # lifecycle tags not trusted as records
# Everything one run writes about keys: never another run's to reuse.
POLICY_ANNOTATIONS = (MATCHED_KEYS, UNUSED_KEYS, ACCESS_KEYS, RETIRED_KEYS, REFUSED_RECORDS)

# Why a key is stale, in the rule's order.
UNUSED, NEVER_USED, UNROTATED = "unused", "never-used", "unrotated"
REASONS = (UNUSED, NEVER_USED, UNROTATED)

# What a lifecycle action did to one key (its per-key results).
RETIRED, RESTORED, DELETED = "retired", "restored", "deleted"
RECORD_REMOVED, KEPT, REFUSED, FAILED = "record-removed", "kept", "refused", "failed"
OUTCOMES = (RETIRED, RESTORED, DELETED, RECORD_REMOVED, KEPT, REFUSED, FAILED)

# The credential report's row for the account's root user.
ROOT_USER = "<root_account>"
# The logger every message of the plugin goes to (under c7n's own "custodian").
LOGGER = "custodian.keyage"
