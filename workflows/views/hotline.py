"""The 12345 hotline's pages: the agent's desk (take a call, the orders), one order with the
viewer's tasks on it and their outcome forms, and undoing a merge. The citizens' public
progress query is in hotline_public."""

from __future__ import annotations

from django import forms
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from departments.models import Unit, UnitKind
from workflows import access

from ..forms import ExtensionRequestForm, handling_units
from ..models import (
    CaseTask,
    ReplyChannel,
    ReplyResult,
    RequestStatus,
    RequestType,
    ReturnReason,
    TaskStatus,
    Urgency,
)
from ..selectors.cases import case_timeline
from ..selectors.categories import reportable_categories
from ..selectors.hotline import (
    caller_for,
    duplicate_candidates,
    order_for_user,
    order_page,
    order_tasks,
    repeat_count,
)
from ..services.hotline import (
    OrderReport,
    hotline_allowed_outcomes,
    hotline_categories,
    hotline_complete,
    order_report,
    order_unmerge,
)
from ..services.invariants import REQUEST_STAGES
from ..shortcuts import task_or_404
from .actions import service_action

OUTCOME_LABELS = {
    "dispatch": gettext_lazy("Dispatch (派单)"),
    "answer": gettext_lazy("Answer directly and close (直接办结)"),
    "merge": gettext_lazy("Merge into an open order or case (重复件)"),
    "convert": gettext_lazy("Turn into a city-management case"),
    "sign": gettext_lazy("Sign for it (签收)"),
    "return": gettext_lazy("Return it (退单)"),
    "reply": gettext_lazy("Reply to the citizen (答复)"),
    "feedback": gettext_lazy("Give feedback to the lead unit (协办反馈)"),
    "accept": gettext_lazy("Accept the return and re-dispatch (终审：同意退单)"),
    "reject": gettext_lazy("Reject: the unit must handle it (终审：驳回)"),
    "satisfied": gettext_lazy("Satisfied (满意)"),
    "basic": gettext_lazy("Basically satisfied (基本满意)"),
    "unsatisfied": gettext_lazy("Unsatisfied (不满意)"),
    "unreachable": gettext_lazy("Could not reach the citizen (无法联系)"),
}
EVENT_LABELS = {
    "hl_report": gettext_lazy("Call taken (受理)"),
    "hl_dispatch": gettext_lazy("Dispatched (派单)"),
    "hl_answer": gettext_lazy("Answered directly (直接办结)"),
    "hl_merge": gettext_lazy("Merged as a repeat report (重复件)"),
    "hl_convert": gettext_lazy("Turned into a city-management case"),
    "hl_unmerge": gettext_lazy("Merge undone"),
    "hl_sign": gettext_lazy("Signed for (签收)"),
    "hl_return": gettext_lazy("Returned (退单)"),
    "hl_accept": gettext_lazy("Return accepted: re-dispatched (终审)"),
    "hl_reject": gettext_lazy("Return rejected (终审驳回)"),
    "hl_feedback": gettext_lazy("Assisting feedback (协办反馈)"),
    "hl_feedback_missing": gettext_lazy("Assisting feedback missing (time ran out)"),
    "hl_reply": gettext_lazy("Replied to the citizen (答复)"),
    "hl_satisfied": gettext_lazy("Callback: satisfied"),
    "hl_basic": gettext_lazy("Callback: basically satisfied"),
    "hl_unsatisfied": gettext_lazy("Callback: unsatisfied"),
    "hl_unreachable": gettext_lazy("Callback: could not reach"),
    "hl_citizen_rating": gettext_lazy("Rated by the citizen"),
    "claim": gettext_lazy("Claimed"),
    "release": gettext_lazy("Released to the queue"),
}
NEGATIVE = ("return", "reject", "unsatisfied", "unreachable", "merge")


# --- forms ---------------------------------------------------------------------------------------


class CategoryChoice(forms.ModelChoiceField):
    def label_from_instance(self, obj) -> str:
        return f"{obj.code} {obj.major_name} / {obj.middle_name} / {obj.name}"


class TakeCallForm(forms.Form):
    caller_name = forms.CharField(
        label=gettext_lazy("Caller's name"), max_length=80, required=False
    )
    caller_phone = forms.CharField(
        label=gettext_lazy("Caller's phone"), max_length=20, required=False
    )
    request_type = forms.ChoiceField(
        label=gettext_lazy("Request type"), choices=RequestType.choices
    )
    category = CategoryChoice(label=gettext_lazy("Hotline category"), queryset=Unit.objects.none())
    text = forms.CharField(label=gettext_lazy("What the citizen asks"), widget=forms.Textarea)
    address = forms.CharField(
        label=gettext_lazy("Location (optional)"), max_length=255, required=False
    )
    urgency = forms.ChoiceField(label=gettext_lazy("Urgency"), choices=Urgency.choices)
    reply_channel = forms.ChoiceField(
        label=gettext_lazy("Reply wanted by"), choices=ReplyChannel.choices
    )
    reply_address = forms.EmailField(
        label=gettext_lazy("E-mail for the reply"), max_length=120, required=False
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["category"].queryset = hotline_categories()


class OutcomeForm(forms.Form):
    """The input of one outcome of a hotline task."""

    def __init__(self, *args, task: CaseTask, outcome: str, **kwargs):
        kwargs.setdefault("auto_id", f"id_{task.pk}_{outcome}_%s")
        super().__init__(*args, **kwargs)
        self.task, self.outcome = task, outcome
        self.label = OUTCOME_LABELS.get(outcome, outcome)
        self.is_negative = outcome in NEGATIVE
        for name, field in _outcome_fields(task, outcome).items():
            self.fields[name] = field


def _units(required=True, label=None, initial=None):
    return forms.ModelChoiceField(
        label=label or gettext_lazy("Unit"),
        queryset=handling_units(),
        required=required,
        initial=initial,
        to_field_name="code",
    )


def _text(label, required=True):
    return forms.CharField(label=label, widget=forms.Textarea(attrs={"rows": 3}), required=required)


def _outcome_fields(task: CaseTask, outcome: str) -> dict:
    if outcome == "dispatch":
        return {
            "lead_unit": _units(
                label=gettext_lazy("Lead unit (主办)"),
                initial=task.payload.get("suggested_unit_code"),
            ),
            "assist_units": forms.ModelMultipleChoiceField(
                label=gettext_lazy("Assisting units (协办)"),
                queryset=handling_units(),
                required=False,
                to_field_name="code",
                widget=forms.CheckboxSelectMultiple,
            ),
        }
    if outcome == "answer":
        return {"answer": _text(gettext_lazy("The answer given"))}
    if outcome == "merge":
        return {
            "merge_into": forms.CharField(label=gettext_lazy("Number of the open order or case"))
        }
    if outcome == "convert":
        return {
            "category": forms.ModelChoiceField(
                label=gettext_lazy("City-management category"),
                queryset=reportable_categories().exclude(kind="hotline"),
            ),
            "grid": forms.CharField(label=gettext_lazy("Grid cell code"), max_length=40),
        }
    if outcome == "return":
        return {
            "reason_code": forms.ChoiceField(
                label=gettext_lazy("Reason"), choices=ReturnReason.choices
            ),
            "reason": _text(gettext_lazy("Explanation"), required=False),
        }
    if outcome == "reply":
        return {
            "reply": _text(gettext_lazy("Reply to the citizen")),
            "reply_contact": forms.ChoiceField(
                label=gettext_lazy("How the citizen was contacted"),
                choices=[c for c in ReplyChannel.choices if c[0] != ReplyChannel.NONE],
            ),
            "reply_result": forms.ChoiceField(
                label=gettext_lazy("Result"), choices=ReplyResult.choices
            ),
        }
    if outcome == "feedback":
        return {"feedback": _text(gettext_lazy("Feedback"))}
    if outcome == "accept":
        assisting = task.stage == "hl_assist_ruling"
        return {
            "unit": _units(
                required=not assisting,
                label=gettext_lazy("Unit to dispatch to (empty: drop the assisting unit)")
                if assisting
                else gettext_lazy("Unit to dispatch to"),
            )
        }
    if outcome == "reject":
        return {"reason": _text(gettext_lazy("Why the unit must handle it"))}
    if outcome in ("satisfied", "basic"):
        return {"notes": _text(gettext_lazy("Callback notes"), required=False)}
    if outcome == "unsatisfied":
        return {
            "notes": _text(gettext_lazy("Why the citizen is unsatisfied")),
            "unit_fault": forms.BooleanField(
                label=gettext_lazy("Through the unit's fault (re-handle)"), required=False
            ),
        }
    if outcome == "unreachable":
        return {
            "attempts": forms.IntegerField(
                label=gettext_lazy("Call attempts made"), min_value=0, max_value=99
            )
        }
    return {}


def _service_data(form: OutcomeForm) -> dict:
    data = {}
    for name, value in form.cleaned_data.items():
        if isinstance(value, Unit):
            value = value.code
        elif hasattr(value, "pk"):
            value = str(value.pk)
        elif hasattr(value, "__iter__") and not isinstance(value, str):
            value = [u.code for u in value]
        elif isinstance(value, bool):
            value = "1" if value else ""
        elif value is None:
            value = ""
        data[name] = str(value) if isinstance(value, int) else value
    return data


# --- the desk ------------------------------------------------------------------------------------


def _agent_centre(user) -> Unit | None:
    centres = access.agent_centre_ids(user)
    return Unit.objects.filter(pk__in=centres, kind=UnitKind.HOTLINE).order_by("code").first()


def _desk(request: HttpRequest, form: TakeCallForm | None, status: int = 200) -> HttpResponse:
    orders, cursor = order_page(request.user, before=request.GET.get("before"))
    rows = [(o, caller_for(request.user, o)) for o in orders]
    context = {
        "form": form,
        "rows": rows,
        "next_cursor": cursor,
        "can_take_calls": form is not None,
    }
    return render(request, "workflows/hotline_desk.html", context, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def hotline_desk_view(request: HttpRequest) -> HttpResponse:
    centre = _agent_centre(request.user)
    if request.method == "GET":
        return _desk(request, TakeCallForm() if centre else None)
    if centre is None:
        raise Http404
    form = TakeCallForm(request.POST)

    def take():
        data = form.cleaned_data
        return order_report(
            actor=request.user,
            report=OrderReport(
                centre=centre,
                category=data["category"],
                request_type=data["request_type"],
                text=data["text"],
                caller_name=data["caller_name"],
                caller_phone=data["caller_phone"],
                urgency=data["urgency"],
                reply_channel=data["reply_channel"],
                reply_address=data["reply_address"] or "",
                address=data["address"],
            ),
        )

    return service_action(
        request,
        take,
        form=form,
        invalid=lambda: _desk(request, form, status=400),
        success=lambda order: (
            _("Order %(number)s taken; query code %(code)s.")
            % {"number": order.case.number, "code": order.query_code}
        ),
        then=lambda order: reverse("workflows:hotline-order", args=[order.pk]),
    )


# --- one order -----------------------------------------------------------------------------------


def render_order_page(request, order, *, bound: OutcomeForm | None = None, status: int = 200):
    user = request.user
    tasks = order_tasks(order)
    mine = []
    for task in tasks:
        names = hotline_allowed_outcomes(user, task)
        if not names:
            continue
        forms_ = [
            bound
            if bound is not None and bound.task.pk == task.pk and bound.outcome == name
            else OutcomeForm(task=task, outcome=name)
            for name in names
        ]
        mine.append((task, forms_, _more_time(user, task)))
    intake_open = any(t.stage == "hl_intake" for t, _f, _m in mine)
    context = {
        "order": order,
        "case": order.case,
        "caller": caller_for(user, order),
        "tasks": tasks,
        "mine": mine,
        "timeline": [
            (e, EVENT_LABELS.get(e.action, e.action))
            for e in case_timeline(order.case).select_related("actor", "unit")
        ],
        "task_rows": [(t, OUTCOME_LABELS.get(t.outcome, t.outcome)) for t in tasks],
        "candidates": duplicate_candidates(order.case) if intake_open else [],
        "repeats": repeat_count(order.case),
        "can_unmerge": order.merged_into_id is not None and access.can_unmerge(user, order),
        "lead_unit": order.lead_unit,
        "assist_units": Unit.objects.filter(pk__in=order.assist_units).order_by("code"),
        "missing": Unit.objects.filter(pk__in=order.missing_feedback).order_by("code"),
    }
    return render(request, "workflows/hotline_order.html", context, status=status)


def _more_time(user, task: CaseTask) -> dict:
    """What the order page offers on a lead unit's reply task about more time (延期), as the
    task page does for a case's handling task: take the task, ask, or withdraw the request."""
    if task.stage not in REQUEST_STAGES or not task.is_open:
        return {}
    pending = task.requests.filter(status=RequestStatus.PENDING).first()
    holds = task.status == TaskStatus.CLAIMED and task.owner_id == user.pk
    return {
        "claim": task.status == TaskStatus.OPEN,
        "form": ExtensionRequestForm() if holds and pending is None else None,
        "pending": pending,
        "withdraw": holds and pending is not None,
    }


def _order_or_404(user, case_id: int):
    order = order_for_user(user, case_id)
    if order is None:
        raise Http404
    return order


@login_required
@require_GET
def hotline_order_view(request: HttpRequest, case_id: int) -> HttpResponse:
    return render_order_page(request, _order_or_404(request.user, case_id))


@login_required
@require_POST
def hotline_task_view(request: HttpRequest, task_id: int, outcome: str) -> HttpResponse:
    task = task_or_404(request.user, task_id)
    order = _order_or_404(request.user, task.case_id)
    form = OutcomeForm(request.POST, task=task, outcome=outcome)
    here = reverse("workflows:hotline-order", args=[order.pk])
    return service_action(
        request,
        lambda: hotline_complete(
            actor=request.user, task=task, outcome=outcome, data=_service_data(form)
        ),
        form=form,
        invalid=lambda: render_order_page(request, order, bound=form, status=400),
        success=_("Done: %(what)s.") % {"what": form.label},
        then=here,
        back=here,
    )


@login_required
@require_POST
def hotline_unmerge_view(request: HttpRequest, case_id: int) -> HttpResponse:
    order = _order_or_404(request.user, case_id)
    here = reverse("workflows:hotline-order", args=[order.pk])
    return service_action(
        request,
        lambda: order_unmerge(actor=request.user, order=order),
        success=_("The merge is undone: the order is back at intake."),
        then=here,
        back=here,
    )
