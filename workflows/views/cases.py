"""Case pages: report a case, one case with its timeline, cancel (the list: case_search)."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from cityops import display
from departments.models import Role
from workflows.access import can_act_on_task, can_cancel_case, can_see_reporter, staff_scope

from ..forms import CancelForm, CaseReportForm
from ..models import Case, CaseEvent, LimitUnit, PhotoKind, Source, Stage
from ..selectors.case_search import case_point
from ..selectors.cases import case_open_tasks, case_timeline
from ..selectors.hotline import order_turned_from
from ..services.cases import CaseReport, case_cancel, case_report
from ..shortcuts import case_or_404
from .actions import service_action

EVENT_LABELS = {
    "report": gettext_lazy("Reported (上报)"),
    "claim": gettext_lazy("Claimed"),
    "release": gettext_lazy("Released to the queue"),
    "subdispatch": gettext_lazy("Sent to a sub-unit (二级派遣)"),
    "cancel": gettext_lazy("Cancelled (作废)"),
    "accept": gettext_lazy("Accepted (受理)"),
    "invalid": gettext_lazy("Not accepted (不受理)"),
    "duplicate": gettext_lazy("Marked as a duplicate"),
    "verify": gettext_lazy("Sent for verification (核实)"),
    "verified": gettext_lazy("Verified on site (核实)"),
    "file": gettext_lazy("Filed (立案)"),
    "refuse": gettext_lazy("Not filed (不予立案)"),
    "dispatch": gettext_lazy("Dispatched (派遣)"),
    "done": gettext_lazy("Handled (处置反馈)"),
    "return": gettext_lazy("Return requested (回退)"),
    "approve": gettext_lazy("Return approved"),
    "reject": gettext_lazy("Return rejected"),
    "pass": gettext_lazy("Check passed (核查通过)"),
    "fail": gettext_lazy("Check failed: rework (返工)"),
    "close": gettext_lazy("Closed (结案)"),
    "extension_request": gettext_lazy("Asked for more time (延期申请)"),
    "extension_review_approve": gettext_lazy("Extension approved"),
    "extension_review_reject": gettext_lazy("Extension rejected"),
    "parking_request": gettext_lazy("Asked to park the case (挂账申请)"),
    "parking_review_approve": gettext_lazy("Parking approved: clock stopped"),
    "parking_review_reject": gettext_lazy("Parking rejected"),
    "parked_resume": gettext_lazy("Resumed after parking"),
    "wait_info": gettext_lazy("Waiting for the reporter: clock stopped"),
    "info_received": gettext_lazy("Information received: clock running"),
    "request_withdraw": gettext_lazy("Request withdrawn"),
    "sla_remind": gettext_lazy("Deadline reminder (50 %)"),
    "sla_warn": gettext_lazy("Deadline warning (75 %)"),
    "sla_overdue": gettext_lazy("Overdue: supervision order issued (超期督办)"),
    "sla_leadership": gettext_lazy("Notice to city leadership (通报)"),
    "supervise": gettext_lazy("Supervision order issued (督办)"),
    "supervise_reply": gettext_lazy("Supervision order answered"),
    "rework_assign": gettext_lazy("Rework given back to its handler"),
    "remind": gettext_lazy("Reminder"),
}
# Event payload entries worth showing on the timeline, in this order.
EVENT_DETAILS = {
    "reason": gettext_lazy("Reason"),
    "result": gettext_lazy("Result"),
    "duplicate_of": gettext_lazy("Duplicate of"),
    "unit": gettext_lazy("Unit"),
    "archive_type": gettext_lazy("Archive type"),
    "photos": gettext_lazy("Photos"),
    "amount": gettext_lazy("Amount"),
    "amount_unit": gettext_lazy("Time unit"),
    "paused_minutes": gettext_lazy("Paused minutes"),
    "due_at": gettext_lazy("Due"),
    "reply_due_at": gettext_lazy("Reply due"),
    "message": gettext_lazy("Message"),
    "to": gettext_lazy("To"),
    "owner": gettext_lazy("Handler"),
}


def _stage_label(value: str) -> str:
    return Stage(value).label if value in Stage.values else value


def _detail_value(key: str, value) -> str:
    """A payload value as people read it: local readable times, labels rather than codes."""
    if display.as_datetime(value) is not None:
        return display.when(value)
    if key == "amount_unit" and value in LimitUnit.values:
        return LimitUnit(value).label
    if isinstance(value, list):
        return ", ".join(str(item) for item in value)
    return value


def _timeline_rows(events: QuerySet[CaseEvent]) -> list[dict]:
    return [
        {
            "event": e,
            "label": EVENT_LABELS.get(e.action, e.action),
            "stage_from": _stage_label(e.stage_from),
            "stage_to": _stage_label(e.stage_to),
            "details": [
                (label, _detail_value(k, e.payload[k]))
                for k, label in EVENT_DETAILS.items()
                if k in e.payload
            ],
        }
        for e in events
    ]


def render_case_page(
    request: HttpRequest, case: Case, *, cancel_form=None, status=200
) -> HttpResponse:
    """The page of a case the viewer may see; a bound cancel form is shown in its place."""
    user = request.user
    photos = list(case.attachments.all())
    tasks = list(case_open_tasks(case))
    context = {
        "case": case,
        "before_photos": [p for p in photos if p.kind == PhotoKind.BEFORE],
        "after_photos": [p for p in photos if p.kind == PhotoKind.AFTER],
        "timeline": _timeline_rows(case_timeline(case)),
        "open_tasks": [(t, can_act_on_task(user, t)) for t in tasks],
        "sees_reporter": can_see_reporter(user, case),
        "point": case_point(case),
        "turned_into_order": order_turned_from(case),
        "cancel_form": (cancel_form or CancelForm())
        if case.is_open and can_cancel_case(user, case)
        else None,
    }
    return render(request, "workflows/case_detail.html", context, status=status)


@login_required
@require_GET
def case_detail_view(request: HttpRequest, case_id: int) -> HttpResponse:
    return render_case_page(request, case_or_404(request.user, case_id))


@login_required
@require_POST
def case_cancel_view(request: HttpRequest, case_id: int) -> HttpResponse:
    case = case_or_404(request.user, case_id)
    form = CancelForm(request.POST)
    here = reverse("workflows:case", args=[case.pk])
    return service_action(
        request,
        lambda: case_cancel(actor=request.user, case=case, reason=form.cleaned_data["reason"]),
        form=form,
        invalid=lambda: render_case_page(request, case, cancel_form=form, status=400),
        success=_("Case %(number)s is cancelled.") % {"number": case},
        then=here,
        back=here,
    )


@login_required
@require_http_methods(["GET", "POST"])
def case_new_view(request: HttpRequest) -> HttpResponse:
    if request.method == "GET":
        inspector = Role.INSPECTOR in staff_scope(request.user).roles()
        form = CaseReportForm(initial={"source": Source.INSPECTOR if inspector else Source.HOTLINE})
        return render(request, "workflows/case_new.html", {"form": form})
    form = CaseReportForm(request.POST, request.FILES)
    return service_action(
        request,
        lambda: case_report(actor=request.user, report=CaseReport(**form.report_fields())),
        form=form,  # a conflict is shown above the form
        invalid=lambda: render(request, "workflows/case_new.html", {"form": form}, status=400),
        success=lambda case: _("Case %(number)s is reported.") % {"number": case},
        then=lambda case: reverse("workflows:case", args=[case.pk]),
    )
