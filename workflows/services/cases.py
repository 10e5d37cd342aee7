"""Case state changes: report (上报) and cancel (作废)."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from cityops.compiled_queries import insert, save_fields
from departments.models import GridCell
from departments.reference import reference_snapshot
from departments.selectors import grid_cell_at
from workflows import access

from ..models import (
    DESCRIPTION_MAX_LENGTH,
    Case,
    CaseStatus,
    CaseTask,
    Category,
    PhotoKind,
    Stage,
    TaskStatus,
)
from .errors import Conflict, not_found
from .events import event_record
from .numbering import case_number_next
from .photos import photos_attach, photos_validate
from .requests import requests_end_with_case
from .transitions import case_flow_start, flow_process_id, process_cancel, process_locked


@dataclass
class CaseReport:
    """What a reporter says about a problem (already shape-checked by the interface)."""

    category: Category | int
    description: str
    source: str
    lat: float | None = None
    lng: float | None = None
    grid: str | None = None
    address: str = ""
    urgency: str | None = None
    reporter_name: str = ""
    reporter_contact: str = ""
    photos: list = field(default_factory=list)


def _locate(report: CaseReport) -> tuple[GridCell, float | None, float | None]:
    if report.grid:
        cell = GridCell.objects.select_related("area").filter(code=report.grid).first()
        if cell is None:
            raise ValidationError(
                {"grid": _("Unknown grid cell %(code)s.") % {"code": report.grid}}
            )
        return cell, report.lat, report.lng
    if report.lat is None or report.lng is None:
        raise ValidationError({"location": _("Give lat and lng, or a grid cell code.")})
    cell = grid_cell_at(report.lat, report.lng)
    if cell is None:
        raise ValidationError(
            {"location": _("No grid cell covers this location; give a grid code.")}
        )
    return cell, report.lat, report.lng


def _category(report: CaseReport, scheme_id: int | None) -> Category:
    category_id = getattr(report.category, "pk", report.category)
    qs = Category.objects.filter(pk=category_id, is_active=True).select_related("default_unit")
    if scheme_id:
        qs = qs.filter(scheme_id=scheme_id)
    category = qs.first()
    if category is None:
        raise ValidationError(
            {"category": _("Unknown category (use an id from the category list).")}
        )
    return category


def case_report(*, actor, report: CaseReport) -> Case:
    """Record a reported problem and start its flow at intake; nothing is kept on bad input."""
    cell, lat, lng = _locate(report)
    units = reference_snapshot().units
    city_id = units.city_id(cell.area_id)
    category = _category(report, units.scheme_of[city_id])
    checked = photos_validate(report.photos)
    if not report.description.strip():
        raise ValidationError({"description": _("Describe the problem.")})
    if len(report.description.strip()) > DESCRIPTION_MAX_LENGTH:
        message = _("Keep the description within %(max)d characters.")
        raise ValidationError({"description": message % {"max": DESCRIPTION_MAX_LENGTH}})
    now = timezone.now()
    with transaction.atomic():
        case = Case(
            number=case_number_next(timezone.localtime(now).year),
            process_id=flow_process_id("case"),  # started by case_flow_start below
            stage=Stage.INTAKE,
            city_id=city_id,
            category=category,
            description=report.description.strip(),
            lat=lat,
            lng=lng,
            grid=cell,
            area=cell.area,
            address=report.address,
            source=report.source,
            urgency=report.urgency or category.urgency,
            reporter_name=report.reporter_name,
            reporter_contact=report.reporter_contact,
            reported_by=actor if actor.pk else None,
            created_at=now,
        )
        insert(case)
        photos_attach(case=case, checked=checked, kind=PhotoKind.BEFORE, actor=actor)
        event_record(
            case=case,
            action="report",
            actor=actor,
            stage_to=Stage.INTAKE,
            unit_id=cell.area_id,
            payload={"source": report.source, "category": category.code},
        )
        case_flow_start("case", case, ["stage"], case=case)
    return case


def case_cancel(*, actor, case: Case, reason: str) -> Case:
    """The shift leader cancels (作废) an open case with a reason; its open tasks end."""
    if not access.can_view_case(actor, case):
        raise not_found()
    if not access.can_cancel_case(actor, case):
        raise Conflict(_("Only the shift leader may cancel a case."), "not_allowed")
    if not reason.strip():
        raise ValidationError({"reason": _("Give the reason for cancelling.")})
    with transaction.atomic(), process_locked(case.process):
        case = Case.objects.get(pk=case.pk)
        if not case.is_open:
            raise Conflict(_("The case is not open."), "case_not_open")
        now = timezone.now()
        requests_end_with_case(case_id=case.pk, now=now)
        process_cancel(case.process)
        CaseTask.objects.filter(case=case, status__in=[TaskStatus.OPEN, TaskStatus.CLAIMED]).update(
            status=TaskStatus.CANCELLED, finished_at=now, next_threshold_at=None
        )
        stage_from = case.stage
        case.status, case.stage, case.closed_at = CaseStatus.CANCELLED, Stage.ENDED, now
        case.archive_reason = reason.strip()
        save_fields(case, ["status", "stage", "closed_at", "archive_reason", "updated_at"])
        event_record(
            case=case,
            action="cancel",
            actor=actor,
            stage_from=stage_from,
            stage_to=Stage.ENDED,
            payload={"reason": reason.strip()},
        )
    return case
