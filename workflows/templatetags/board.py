"""Supervision in templates: `{% if user|sees_board %}` (the Board and Supervision links),
`{{ order|order_late }}`, `{{ order|may_reply:user }}`, and `{% case_supervision case as sup %}`
(the case page's card)."""

from __future__ import annotations

from django import template
from django.utils import timezone

from ..access import can_issue_order, can_reply_order, can_see_board
from ..models import Case, OrderStatus, SupervisionOrder
from ..selectors.sla import (
    case_orders,
    open_orders_addressed,
    order_default_reply_due,
    order_is_late,
)

register = template.Library()

LOCAL_INPUT = "%Y-%m-%dT%H:%M"  # what <input type="datetime-local"> shows and sends


@register.filter
def sees_board(user) -> bool:
    """Supervisors, admins and unit heads: the board and supervision pages are theirs."""
    return can_see_board(user)


@register.simple_tag
def orders_addressed(user) -> int:
    """The menu's count: supervision orders addressed to the user still awaiting a reply."""
    return open_orders_addressed(user)


@register.filter
def order_late(order: SupervisionOrder) -> bool:
    return order_is_late(order)


@register.filter
def may_reply(order: SupervisionOrder, user) -> bool:
    """The order awaits a reply and `user` heads the unit it is addressed to."""
    return order.status == OrderStatus.OPEN and can_reply_order(user, order)


@register.simple_tag(takes_context=True)
def case_supervision(context, case: Case) -> dict:
    """The case's orders (each with its late flag and whether the viewer may reply), whether
    the viewer may issue one, and the form values: what was just posted if the page is shown
    again after a refused form, else the default reply due time."""
    request = context["request"]
    user, now = request.user, timezone.now()
    posted = request.POST if request.method == "POST" else {}
    match = request.resolver_match
    replying_to = match.kwargs.get("order_id") if match else None
    orders = [
        {
            "order": order,
            "late": order_is_late(order, now),
            "may_reply": may_reply(order, user),
            "reply": posted.get("reply", "") if order.pk == replying_to else "",
        }
        for order in case_orders(case)
    ]
    # Without a responsible unit there is nobody to reply yet: no form to be refused.
    can_issue = case.is_open and bool(case.responsible_unit_id) and can_issue_order(user, case)
    due = order_default_reply_due(case, now) if can_issue else None
    return {
        "orders": orders,
        "can_issue": can_issue,
        "reason": posted.get("reason", "") if replying_to is None else "",
        "reply_due_at": posted.get("reply_due_at")
        or (f"{timezone.localtime(due):{LOCAL_INPUT}}" if due else ""),
    }
