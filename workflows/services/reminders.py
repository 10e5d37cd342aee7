"""Reminders (催办): the command centre urges whoever holds a case now, with a message; the
holders are notified and the reminder is an event of the case (counted on its page and API)."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from workflows import access

from ..models import Case, CaseEvent, CaseTask, TaskStatus
from ..selectors.reminders import REMIND
from .errors import Conflict, not_found
from .events import event_record
from .notifications import notify, users_holding

MESSAGE_MAX = 1000


def _clean_message(message: str) -> str:
    message = (message or "").strip()
    if not message:
        raise ValidationError({"message": _("Write what the holder should do.")})
    if len(message) > MESSAGE_MAX:
        raise ValidationError({"message": _("At most %(max)s characters.") % {"max": MESSAGE_MAX}})
    return message


def case_holders(case: Case) -> tuple[list[CaseTask], list]:
    """The case's open tasks and who holds them now: the holder of a claimed task, everyone
    whose post may claim an unclaimed one."""
    tasks = list(
        CaseTask.objects.filter(case=case, status__in=[TaskStatus.OPEN, TaskStatus.CLAIMED])
        .select_related("owner")
        .order_by("created_at", "task_id")
    )
    users: dict[int, object] = {}
    for task in tasks:
        holders = [task.owner] if task.owner_id else users_holding(task.role, [task.unit_id])
        users.update((u.pk, u) for u in holders if u.is_active)
    return tasks, list(users.values())


def case_remind(*, actor, case: Case, message: str) -> CaseEvent:
    """A shift leader or supervisor (access.can_remind_case) urges the case's current holders."""
    if not access.can_view_case(actor, case):
        raise not_found()
    if not access.can_remind_case(actor, case):
        raise Conflict(
            _("Only the command centre (shift leader, supervisor) may send a reminder."),
            "not_allowed",
        )
    message = _clean_message(message)
    with transaction.atomic():
        case = Case.objects.select_for_update().get(pk=case.pk)
        if not case.is_open:
            raise Conflict(_("The case is not open."), "case_not_open")
        tasks, holders = case_holders(case)
        if not holders:
            raise Conflict(_("Nobody holds the case now: there is nobody to remind."), "no_holder")
        event = event_record(
            case=case,
            action=REMIND,
            actor=actor,
            task=tasks[0] if tasks else None,
            stage_from=case.stage,
            stage_to=case.stage,
            payload={
                "message": message,
                "to": sorted(u.get_username() for u in holders),
            },
        )
        notify(
            users=holders,
            kind="reminder",
            title=_("Reminder on case %(number)s") % {"number": case.number},
            body=message,
            case=case,
        )
    return event
