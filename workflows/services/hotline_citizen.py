"""The 12345 hotline's citizen side and reference data: the hotline category sample, telling
the caller (SMS or e-mail through the outbox), duplicate merging (hotspots, undoing a merge)
and the citizen's rating of a closed order.
"""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from cityops.compiled_queries import CompiledGet, insert
from departments.models import Role, Unit
from workflows import access

from ..integrations.sms import CHANNEL as SMS_CHANNEL
from ..models import (
    Case,
    CaseStatus,
    Category,
    CategoryKind,
    HotlineOrder,
    OutboxMessage,
    ReplyChannel,
    Stage,
)
from .errors import Conflict, not_found
from .events import event_record
from .notifications import notify, users_holding
from .transitions import (
    flow_start,
)

# --- the category sample ------------------------------------------------------------------------

HOTLINE_SCHEME = "GB/T 39666-2020 sample"


def hotline_categories_load(path) -> int:
    """Load (or refresh) a three-level hotline category list from CSV (see workflows/data);
    returns the number of categories. The handling limit of a hotline order comes from its
    request type (settings), so the category carries the longest one as its nominal limit."""
    import csv

    from django.db import transaction

    from departments.reference import reference_changed

    from ..models import CategoryScheme, LimitUnit

    with open(path, encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    units = {u.code: u for u in Unit.objects.filter(code__in={r["default_unit"] for r in rows})}
    with transaction.atomic():
        scheme, _created = CategoryScheme.objects.get_or_create(
            code=HOTLINE_SCHEME, defaults={"name": "12345 热线诉求分类（样例）"}
        )
        for row in rows:
            Category.objects.update_or_create(
                scheme=scheme,
                kind=CategoryKind.HOTLINE,
                code=row["minor_code"],
                defaults={
                    "major_code": row["major_code"],
                    "major_name": row["major_name"],
                    "middle_code": row["middle_code"],
                    "middle_name": row["middle_name"],
                    "name": row["minor_name"],
                    "default_unit": units.get(row["default_unit"]),
                    "limit_value": 15,
                    "limit_unit": LimitUnit.WORKING_DAYS,
                },
            )
        reference_changed()
    return len(rows)


# --- telling the citizen, merging, rating -------------------------------------------------------


def citizen_notify(order: HotlineOrder, text: str) -> OutboxMessage | None:
    """Queue a text (or an e-mail, if the citizen asked for one) to the caller, in the caller's
    transaction; nothing when there is no way to reach them."""
    now = timezone.now()
    if order.reply_channel == ReplyChannel.EMAIL and order.reply_address:
        channel = "email"
        payload = {
            "to": [order.reply_address],
            "subject": _("12345 hotline: order %(number)s") % {"number": order.case.number},
            "body": text,
        }
    elif order.caller_phone:
        channel, payload = SMS_CHANNEL, {"to": order.caller_phone, "text": text}
    else:
        return None
    message = OutboxMessage(channel=channel, payload=payload, created_at=now, available_at=now)
    insert(message)
    return message


def _closed_notice(order: HotlineOrder) -> str:
    return _(
        "Your 12345 request %(number)s has been dealt with and closed. Look it up with the "
        "query code %(code)s."
    ) % {"number": order.case.number, "code": order.query_code}


# A report merged into the order, if any (compiled once: asked at every close).
_ONE_MERGED = CompiledGet(
    lambda pk: HotlineOrder.objects.filter(merged_into_id=pk).only("pk").order_by()[:1]
)


def order_closed_notify(order: HotlineOrder) -> None:
    """The order closed: its caller and the callers of the reports merged into it are told."""
    citizen_notify(order, _closed_notice(order))
    if _ONE_MERGED.first(order.pk) is None:  # most orders have no repeat reports
        return
    merged = HotlineOrder.objects.select_related("case").filter(merged_into_id=order.pk)
    for other in merged:
        citizen_notify(other, _closed_notice(other))


def merged_notify(order: HotlineOrder, master: Case) -> None:
    """A merge: the repeats are counted on the master; a hotspot goes to the supervisors."""
    repeats = HotlineOrder.objects.filter(merged_into=master).count()
    if repeats == settings.CITYOPS_DUPLICATE_HOTSPOT:
        notify(
            users=users_holding(Role.SUPERVISOR, [master.city_id]),
            kind="hotspot",
            title=_("Hotspot: %(number)s reported %(n)d more times")
            % {"number": master.number, "n": repeats},
            case=master,
        )


def order_unmerge(*, actor, order: HotlineOrder) -> HotlineOrder:
    """Undo a merge (the hotline centre's shift leader): the order goes back to intake, in a
    new run of its flow (the merged run had ended)."""
    with transaction.atomic():
        _unmerge(actor=actor, order=order)
        order.case.process = flow_start("hotline", order=order)
        order.case.save(update_fields=["process", "stage", "updated_at"])
    return order


def _unmerge(*, actor, order: HotlineOrder) -> Case:
    if not access.can_view_order(actor, order):
        raise not_found()
    if not access.can_unmerge(actor, order):
        raise Conflict(_("Only the hotline centre's shift leader may undo a merge."), "not_allowed")
    if order.merged_into_id is None:
        raise Conflict(_("This order is not merged into another."), "not_merged")
    master = order.merged_into
    case = order.case
    order.merged_into = None
    order.save(update_fields=["merged_into"])
    case.status, case.closed_at, case.stage = CaseStatus.OPEN, None, Stage.HL_INTAKE
    case.save(update_fields=["status", "closed_at", "stage", "updated_at"])
    event_record(
        case=case,
        action="hl_unmerge",
        actor=actor,
        stage_from=Stage.ENDED,
        stage_to=Stage.HL_INTAKE,
        unit_id=order.centre_id,
        payload={"master": master.number},
    )
    return master


def order_rate(*, order: HotlineOrder, rating: str) -> HotlineOrder:
    """The citizen rates the handling of a closed order, once (the public query page)."""
    from ..models import Satisfaction

    if rating not in (Satisfaction.SATISFIED, Satisfaction.BASIC, Satisfaction.UNSATISFIED):
        raise ValidationError({"rating": _("Choose a rating.")})
    updated = HotlineOrder.objects.filter(
        pk=order.pk, case__status=CaseStatus.CLOSED, citizen_rating=""
    ).update(citizen_rating=rating)
    if not updated:
        raise Conflict(
            _("This order cannot be rated (not closed, or rated already)."), "not_ratable"
        )
    order.citizen_rating = rating
    event_record(case=order.case, action="hl_citizen_rating", payload={"rating": rating})
    return order
