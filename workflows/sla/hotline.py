"""Due times of the 12345 hotline's tasks (settings.CITYOPS_HOTLINE_LIMITS), on the working
calendar of the order's area (the city's when it has no location).

The handling clock starts at dispatch: the lead unit's reply is due at the order's handling due
time whatever happened since (sign-for, returns and rulings do not buy time); assisting units'
feedback has its own limit from dispatch, never past the handling due time.
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.utils import timezone

from departments.calendars import add_working_time, next_working_instant
from departments.reference import Snapshot

from ..models import Case, HotlineOrder, Stage
from .deadlines import Deadline, case_calendar


def hotline_limit(name: str, *, urgency: str = "normal", request_type: str = "") -> tuple[int, str]:
    """The (value, unit) limit called `name`, by request type (handling) and urgency."""
    limit = settings.CITYOPS_HOTLINE_LIMITS[name]
    if name == "handling":
        limit = limit.get(request_type) or limit["complaint"]
    if isinstance(limit, dict):
        limit = limit.get(urgency) or limit["normal"]
    return int(limit[0]), str(limit[1])


def handling_due(case: Case, order: HotlineOrder, dispatched_at: dt.datetime, snapshot=None):
    """When the order's handling is due, counted from its dispatch."""
    value, unit = hotline_limit("handling", urgency=case.urgency, request_type=order.request_type)
    _record, calendar = case_calendar(case, snapshot)
    return add_working_time(calendar, dispatched_at, value, unit)


def next_working_day_start(case: Case, after: dt.datetime, snapshot=None) -> dt.datetime:
    """The first working instant of the working day after `after`'s (local) day."""
    _record, calendar = case_calendar(case, snapshot)
    local = timezone.localtime(after)
    midnight = (local + dt.timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0)
    return next_working_instant(calendar, midnight)


STAGE_LIMITS = {
    Stage.HL_INTAKE: "dispatch",
    Stage.HL_LEAD_SIGN: "sign",
    Stage.HL_ASSIST_SIGN: "sign",
    Stage.HL_LEAD_RULING: "ruling",
    Stage.HL_ASSIST_RULING: "ruling",
    Stage.HL_CALLBACK: "callback",
    Stage.HL_REHANDLE: "rehandle",
    Stage.HL_LEAD_REPLY: "handling",
    Stage.HL_ASSIST_FEEDBACK: "assist_feedback",
}


def hotline_deadline(
    case: Case, order: HotlineOrder, stage: str, start: dt.datetime, snapshot: Snapshot | None
) -> Deadline:
    """When a hotline task of `stage` opening at `start` is due."""
    name = STAGE_LIMITS[stage]
    value, unit = hotline_limit(name, urgency=case.urgency, request_type=order.request_type)
    record, calendar = case_calendar(case, snapshot)
    if stage == Stage.HL_LEAD_REPLY and order.handling_due_at is not None:
        return Deadline(order.handling_due_at, value, unit, record)
    if stage == Stage.HL_ASSIST_FEEDBACK and order.dispatched_at is not None:
        due = add_working_time(calendar, order.dispatched_at, value, unit)
        if order.handling_due_at is not None:
            due = min(due, order.handling_due_at)
        return Deadline(due, value, unit, record)
    if stage == Stage.HL_CALLBACK:
        start = next_working_day_start(case, start, snapshot)
    return Deadline(add_working_time(calendar, start, value, unit), value, unit, record)
