"""The 12345 hotline: taking a citizen's call (or an API report) as a work order, numbered
like every case, and turning a citizen's 数字城管 case into an order (转12345). The order's tasks
and their outcomes are in services.hotline; telling the citizen, merging and rating in
services.hotline_citizen.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from cityops.compiled_queries import CompiledGet, insert
from departments.models import Unit, UnitKind
from departments.reference import reference_snapshot
from departments.selectors import grid_cell_at
from workflows import access

from ..models import (
    Case,
    Category,
    CategoryKind,
    HotlineOrder,
    ReplyChannel,
    RequestType,
    Source,
    Stage,
    Urgency,
)
from .errors import not_found
from .events import event_record
from .numbering import case_number_next
from .transitions import case_flow_start, flow_process_id

# --- taking the call -------------------------------------------------------------------------


@dataclass
class OrderReport:
    """What the agent (or a 12345 platform through the API) records of a citizen's call."""

    centre: Unit | int
    category: Category | int
    request_type: str
    text: str
    caller_name: str = ""
    caller_phone: str = ""
    urgency: str = Urgency.NORMAL
    reply_channel: str = ReplyChannel.PHONE
    reply_address: str = ""
    address: str = ""
    lat: float | None = None
    lng: float | None = None
    errors: dict = field(default_factory=dict)


def hotline_categories():
    """The active hotline categories (大类/中类/小类), in code order."""
    return Category.objects.filter(kind=CategoryKind.HOTLINE, is_active=True).order_by("code")


# The centre and the category a call is recorded under (active ones only), each read by a
# statement compiled once: every call reads both. The category comes with its default unit
# (the routing suggestion reads it).
_CENTRE = CompiledGet(
    lambda pk: Unit.objects.filter(pk=pk, kind=UnitKind.HOTLINE, is_active=True).order_by()
)
_CATEGORY = CompiledGet(
    lambda pk: hotline_categories().select_related("default_unit").filter(pk=pk).order_by()
)


def _by_id(compiled: CompiledGet, ref):
    """The row whose id `ref` is (a model, an int or digits), or None."""
    ref = getattr(ref, "pk", ref)
    if isinstance(ref, str) and ref.isascii() and ref.isdigit():
        ref = int(ref)
    if not isinstance(ref, int) or isinstance(ref, bool) or not 0 < ref < 2**63:
        return None
    return compiled.first(ref)


def _check_report(report: OrderReport) -> tuple[Unit, Category]:
    errors = {}
    centre = _by_id(_CENTRE, report.centre)
    if centre is None:
        errors["centre"] = _("Unknown hotline centre.")
    category = _by_id(_CATEGORY, report.category)
    if category is None:
        errors["category"] = _("Choose a hotline category.")
    if report.request_type not in RequestType.values:
        errors["request_type"] = _("Choose the request type.")
    if report.urgency not in Urgency.values:
        errors["urgency"] = _("Choose the urgency.")
    if report.reply_channel not in ReplyChannel.values:
        errors["reply_channel"] = _("Choose how the citizen wants the reply.")
    if not report.text.strip():
        errors["text"] = _("Write down what the citizen asks.")
    phone = report.caller_phone.strip()
    if phone and not (phone.replace("-", "").replace("+", "").isdigit() and 5 <= len(phone) <= 20):
        errors["caller_phone"] = _("Enter a phone number (digits only).")
    if report.reply_channel in (ReplyChannel.PHONE, ReplyChannel.SMS) and not phone:
        errors["caller_phone"] = _("A reply by phone or SMS needs the caller's phone.")
    if report.reply_channel == ReplyChannel.EMAIL and "@" not in report.reply_address:
        errors["reply_address"] = _("A reply by e-mail needs the address.")
    if errors:
        raise ValidationError(errors)
    return centre, category


def order_create(*, actor, report: OrderReport) -> HotlineOrder:
    """The order and its case (numbered like every case), in the caller's transaction; the
    flow is started by `order_start`."""
    centre, category = _check_report(report)
    if getattr(actor, "pk", None) and not access.can_take_calls_at(actor, centre.pk):
        raise not_found()
    return _order_insert(actor=actor, report=report, centre=centre, category=category)


def _order_insert(
    *, actor, report: OrderReport, centre: Unit, category: Category, from_case: Case | None = None
) -> HotlineOrder:
    snapshot = reference_snapshot()
    units = snapshot.units
    cell = None
    if report.lat is not None and report.lng is not None:
        cell = grid_cell_at(report.lat, report.lng)
    now = timezone.now()
    case = Case(
        number=case_number_next(timezone.localtime(now).year),
        process_id=flow_process_id("hotline"),  # started by `order_start`
        stage=Stage.HL_INTAKE,
        city_id=units.city_id(centre.pk),
        category=category,
        description=report.text.strip(),
        lat=report.lat,
        lng=report.lng,
        grid=cell,
        area=cell.area if cell else None,
        address=report.address.strip(),
        source=Source.HOTLINE,
        urgency=report.urgency,
        reported_by=actor if getattr(actor, "pk", None) else None,
        created_at=now,
    )
    insert(case)
    order = HotlineOrder(
        case=case,
        centre=centre,
        caller_name=report.caller_name.strip(),
        caller_phone=report.caller_phone.strip(),
        request_type=report.request_type,
        reply_channel=report.reply_channel,
        reply_address=report.reply_address.strip(),
        query_code=f"{secrets.randbelow(10**6):06d}",
        from_case=from_case,
    )
    insert(order)
    order.cityops_reference = snapshot  # the flow's first task reads it (hotline_task_open)
    said = {"request_type": report.request_type, "category": category.code}
    if from_case is not None:
        said["from_case"] = from_case.number
    event_record(
        case=case,
        action="hl_report",
        actor=actor,
        stage_to=Stage.HL_INTAKE,
        unit_id=centre.pk,
        payload=said,
    )
    return order


# Where a 数字城管 case comes from a citizen (what may become a 12345 order).
CITIZEN_SOURCES = (Source.HOTLINE, Source.PUBLIC_APP)


def order_from_case_check(case: Case, category_ref, request_type) -> tuple[Unit, Category, str]:
    """A case may become a 12345 order when a citizen reported it and its city has a hotline
    centre; the agent's category and request type are chosen, nothing is typed again."""
    if case.source not in CITIZEN_SOURCES:
        raise ValidationError(
            {"outcome": _("Only a citizen's report can become a 12345 hotline order.")}
        )
    ref = str(category_ref or "").strip()
    category = (
        hotline_categories().filter(pk=int(ref)).first()
        if ref.isascii() and ref.isdigit()
        else None
    ) or hotline_categories().filter(code=ref).first()
    errors = {}
    if category is None:
        errors["hotline_category"] = _("Choose a hotline category.")
    if request_type not in RequestType.values:
        errors["request_type"] = _("Choose the request type.")
    units = reference_snapshot().units
    centre = next(
        (
            unit
            for unit in Unit.objects.filter(kind=UnitKind.HOTLINE, is_active=True).order_by("code")
            if units.city_id(unit.pk) == case.city_id
        ),
        None,
    )
    if centre is None:
        errors["outcome"] = _("This city has no hotline centre.")
    if errors:
        raise ValidationError(errors)
    return centre, category, request_type


def order_from_case(
    *, actor, case: Case, centre: Unit, category: Category, request_type: str
) -> HotlineOrder:
    """The case's request as a new 12345 order at intake (in the caller's transaction, under the
    case's lock): its text, place, urgency and the citizen's name and contact carried over,
    linked both ways (`from_case` / `case.turned_into_order`)."""
    contact = case.reporter_contact.strip()
    email = "@" in contact
    phone = "" if email else contact
    if phone and not phone.replace("-", "").replace("+", "").replace(" ", "").isdigit():
        phone = ""
    channel = ReplyChannel.EMAIL if email else (ReplyChannel.PHONE if phone else ReplyChannel.NONE)
    report = OrderReport(
        centre=centre,
        category=category,
        request_type=request_type,
        text=case.description,
        caller_name=case.reporter_name,
        caller_phone=phone.replace(" ", "")[:20],
        urgency=case.urgency,
        reply_channel=channel,
        reply_address=contact if email else "",
        address=case.address,
        lat=case.lat,
        lng=case.lng,
    )
    order = _order_insert(
        actor=actor, report=report, centre=centre, category=category, from_case=case
    )
    order_start(order)
    return order


def order_report(*, actor, report: OrderReport) -> HotlineOrder:
    """Record a citizen's call (or an API report) and start its flow at intake."""
    with transaction.atomic():
        order = order_create(actor=actor, report=report)
        order_start(order)
    return order


def order_start(order: HotlineOrder) -> None:
    """Start the flow of an order `_order_insert` has just written, at intake: its process
    takes the id the case was inserted with (or, where none could be reserved, the case is
    told its process now)."""
    case_flow_start("hotline", order.case, ["stage", "updated_at"], order=order)
