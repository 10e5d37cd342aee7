"""What a delivery channel tells the outbox worker (`workflows.outbox`) about a failed message.

A channel (email in the outbox itself, webhooks in `integrations.webhook_delivery`) raises
`PermanentError` when retrying cannot help, so the message is given up at once; any other
exception is a failed attempt, retried with backoff. This module is below both, so the
worker and the channels import it without importing each other upwards.
"""


class PermanentError(Exception):
    """The message can never be delivered as it is: retrying would not help."""
