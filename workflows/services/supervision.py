"""Supervision orders (督办): a supervisor orders a unit to explain or act on a case, and the
unit head replies by the deadline. The sweep issues them too, on a breach (issued_by empty).
"""

from __future__ import annotations

import datetime as dt

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from cityops import display
from departments.models import Role, Unit
from workflows import access

from ..models import Case, CaseTask, OrderStatus, Stage, SupervisionOrder, TaskStatus
from .errors import Conflict, not_found
from .events import event_record
from .notifications import notify, users_holding

OPEN_TASK = (TaskStatus.OPEN, TaskStatus.CLAIMED)


def _clean_issue(
    case: Case, reason: str, reply_due_at: dt.datetime | None, unit: Unit | None
) -> tuple[str, dt.datetime, Unit]:
    errors = {}
    if not (reason or "").strip():
        errors["reason"] = _("Say what the unit must explain or do.")
    if reply_due_at is None or timezone.is_naive(reply_due_at):
        errors["reply_due_at"] = _("Give the reply due date and time.")
    elif reply_due_at <= timezone.now():
        errors["reply_due_at"] = _("The reply due time must be in the future.")
    unit = unit or case.responsible_unit
    if unit is None:
        errors["unit"] = _("The case has no responsible unit yet: name the unit to reply.")
    elif not unit.is_active:
        errors["unit"] = _("This unit is inactive.")
    if errors:
        raise ValidationError(errors)
    return reason.strip(), reply_due_at, unit


def _current_task(case: Case, unit: Unit) -> CaseTask | None:
    """The open task the order is about: the unit's handling task, else the latest one."""
    tasks = CaseTask.objects.filter(case=case, status__in=OPEN_TASK).order_by("-created_at")
    return tasks.filter(stage=Stage.HANDLING).first() or tasks.first()


def order_issue(
    *,
    actor,
    case: Case,
    reason: str,
    reply_due_at: dt.datetime | None,
    unit: Unit | None = None,
) -> SupervisionOrder:
    """A supervisor overseeing the case orders its responsible unit (or `unit`) to reply by
    `reply_due_at`; the unit's heads are notified."""
    if not access.can_view_case(actor, case):
        raise not_found()
    if not access.can_issue_order(actor, case):
        raise Conflict(_("Only a supervisor may issue a supervision order."), "not_allowed")
    reason, reply_due_at, unit = _clean_issue(case, reason, reply_due_at, unit)
    with transaction.atomic():
        case = Case.objects.select_for_update().get(pk=case.pk)
        if not case.is_open:
            raise Conflict(_("The case is not open."), "case_not_open")
        order = SupervisionOrder.objects.create(
            case=case,
            task=_current_task(case, unit),
            unit=unit,
            issued_by=actor,
            reason=reason,
            reply_due_at=reply_due_at,
            created_at=timezone.now(),
        )
        event_record(
            case=case,
            action="supervise",
            actor=actor,
            stage_from=case.stage,
            stage_to=case.stage,
            unit_id=unit.pk,
            payload={
                "order": order.pk,
                "unit": unit.code,
                "reply_due_at": reply_due_at.isoformat(),
                "reason": reason,
            },
        )
        notify(
            users=users_holding(Role.UNIT_HEAD, [unit.pk]),
            kind="supervision",
            title=_("Supervision order on case %(number)s: reply by %(due)s")
            % {"number": case.number, "due": display.when(reply_due_at)},
            body=reason,
            case=case,
        )
    return order


def order_reply(*, actor, order: SupervisionOrder, reply: str) -> SupervisionOrder:
    """The head of the order's unit answers it (once); the issuer is notified."""
    if not access.can_reply_order(actor, order):
        raise not_found()
    if not (reply or "").strip():
        raise ValidationError({"reply": _("Write the reply.")})
    reply = reply.strip()
    with transaction.atomic():
        order = (
            SupervisionOrder.objects.select_for_update(of=("self",))
            .select_related("case", "unit")
            .get(pk=order.pk)
        )
        if order.status != OrderStatus.OPEN:
            raise Conflict(_("This order has already been replied to."), "order_not_open")
        now = timezone.now()
        order.status, order.reply, order.replied_by, order.replied_at = (
            OrderStatus.REPLIED,
            reply,
            actor,
            now,
        )
        order.save(update_fields=["status", "reply", "replied_by", "replied_at"])
        event_record(
            case=order.case,
            action="supervise_reply",
            actor=actor,
            stage_from=order.case.stage,
            stage_to=order.case.stage,
            unit_id=order.unit_id,
            payload={
                "order": order.pk,
                "unit": order.unit.code,
                "late": now > order.reply_due_at,
                "reply": reply,
            },
        )
        if order.issued_by_id:
            notify(
                users=[order.issued_by_id],
                kind="supervision_reply",
                title=_("%(unit)s replied to the supervision order on case %(number)s")
                % {"unit": order.unit.name, "number": order.case.number},
                body=reply,
                case=order.case,
            )
    return order
