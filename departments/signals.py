"""Events other apps may follow. Receivers call one service each (no logic in receivers)."""

from django.dispatch import Signal

# Sent after a working calendar's days or hours changed: kwargs `calendar` (WorkCalendar).
calendar_changed = Signal()
