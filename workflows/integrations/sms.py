"""Text messages to citizens (the 12345 hotline's notices), sent by the outbox worker through a
pluggable backend: settings.CITYOPS_SMS_BACKEND names a function `send(to: str, text: str)`;
the default writes the message to the log (the demo's console backend)."""

from __future__ import annotations

import logging

from django.conf import settings
from django.utils.module_loading import import_string

from .errors import PermanentError

logger = logging.getLogger(__name__)
CHANNEL = "sms"


def console_send(to: str, text: str) -> None:
    """The demo backend: the message goes to the log (and the console)."""
    logger.info("SMS to %s: %s", to, text)
    print(f"[sms] to {to}: {text}")


def sms_deliver(*, payload: dict) -> None:
    """Send one queued text through the configured backend."""
    try:
        to, text = str(payload["to"]), str(payload["text"])
    except (KeyError, TypeError) as exc:
        raise PermanentError(f"bad sms payload: {exc!r}") from exc
    import_string(settings.CITYOPS_SMS_BACKEND)(to, text)
