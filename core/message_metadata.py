"""Keys the action server puts in an assistant message's metadata for the analytics feed to read.

Both sides import them from here, so neither imports the other."""

ANSWER_METADATA_KEY = "answer"  # on an assistant message: {"program_id": ..., "topic": ...}
SUPPORT_METADATA_KEY = "support"  # on an assistant message passing the learner to the support team:
# one of analytics.events.SUPPORT_KINDS
