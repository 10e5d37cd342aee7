"""For other systems: API keys, idempotent writes, webhooks, Open311."""
