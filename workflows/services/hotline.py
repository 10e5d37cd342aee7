"""The 12345 hotline's state changes: open an order's tasks (called by the flow), and complete
a task with an outcome: dispatch, direct answer, sign-for, return and the final ruling,
assisting feedback, the lead's reply, callback and re-handling. Taking the call is in
services.hotline_calls, telling the citizen, merging and rating in services.hotline_citizen;
their public names are imported here too (`from workflows.services.hotline import …`).

Every transition goes through `services.transitions` (the process lock taken from the order's
own flow class, the task read again under it, the activation run, the next tasks opened); this
module checks access and input first, applies the outcome to the order and case, and writes
the audit event in the same transaction.
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext as _
from viewflow.workflow.models import Task as FlowTask
from viewflow.workflow.status import STATUS

from cityops.compiled_queries import CompiledGet, save_fields
from departments.models import Unit, UnitKind
from departments.reference import reference_snapshot
from workflows import access

from ..models import (
    Case,
    CaseStatus,
    CaseTask,
    CategoryKind,
    HotlineOrder,
    ReplyChannel,
    ReplyResult,
    ReturnReason,
    Source,
    Stage,
    TaskStatus,
)
from ..models.hotline import (
    ASSIST_STAGES,
    HOTLINE_POLICIES,
    hotline_lives_in,
    hotline_outcomes,
    hotline_role,
)
from ..selectors.lookups import case_by_ref, parse_ref
from ..sla.deadlines import task_sla_fields
from ..sla.hotline import handling_due, hotline_deadline, next_working_day_start
from .cases import CaseReport, case_report
from .errors import Conflict, not_found
from .events import event_record
from .hotline_calls import (  # noqa: F401  (the public names of the hotline services)
    CITIZEN_SOURCES,
    OrderReport,
    hotline_categories,
    order_create,
    order_from_case,
    order_from_case_check,
    order_report,
)
from .hotline_citizen import (  # noqa: F401
    HOTLINE_SCHEME,
    citizen_notify,
    hotline_categories_load,
    merged_notify,
    order_closed_notify,
    order_rate,
    order_unmerge,
)
from .invariants import refuse_if_request_outstanding
from .routing import route_suggest
from .transitions import (
    locked_read,
    process_context,
    task_actor_check,
    task_advance,
    task_locked,
    task_row_insert,
)

# The columns a completion writes on the task (an open task is signed for by completing it).
TASK_DONE_FIELDS = ("status", "outcome", "finished_at", "owner", "payload")

# What completing a hotline task may change on its order.
ORDER_FIELDS_MOVED = [
    "lead_unit",
    "assist_units",
    "dispatched_at",
    "handling_due_at",
    "answer",
    "reply_text",
    "reply_contact",
    "reply_result",
    "replied_at",
    "satisfaction",
    "callback_notes",
    "rehandle_count",
    "return_count",
    "missing_feedback",
    "merged_into",
    "converted_case",
]
# What completing a hotline task may change on its case.
CASE_FIELDS_MOVED = ["stage", "status", "due_at", "responsible_unit", "closed_at"]
ASSIST_OPEN_STAGES = (*ASSIST_STAGES, Stage.HL_ASSIST_RULING)
# The transition's locked re-read, with the order (one statement where two were read).
_LOCKED_ORDER_READ = locked_read("case__hotline")


def _waiting_branches(case_id: int):
    """The case's assisting units' tasks still open (the lead replies when none is)."""
    return CaseTask.objects.filter(
        case_id=case_id,
        stage__in=ASSIST_OPEN_STAGES,
        status__in=(TaskStatus.OPEN, TaskStatus.CLAIMED),
    )


# Whether one is, compiled once (asked at every completion of the lead's reply).
_WAITING_BRANCH = CompiledGet(lambda case_id: _waiting_branches(case_id)[:1])
# Callback outcomes that close the order (an unsatisfied one closes it the second time).
CALLBACK_OUTCOMES = ("satisfied", "basic", "unsatisfied", "unreachable")
# --- tasks opening (called by the flow) -------------------------------------------------------


def hotline_task_open(*, activation) -> CaseTask:
    """Index a hotline task for the task lists: its unit, role and due time."""
    process = activation.process
    process_context(process)
    order = getattr(process, "cityops_order", None)
    if order is None:
        order = HotlineOrder.objects.select_related("case__category").get(pk=process.data["case"])
        process.cityops_order = order
    case = order.case
    stage = activation.flow_task.name
    lives_in = hotline_lives_in(stage)
    if lives_in == "hotline_centre":
        unit_id = order.centre_id
    elif lives_in == "lead":
        unit_id = order.lead_unit_id
    else:
        unit_id = (activation.task.data or {}).get("unit")
    snapshot = getattr(process, "cityops_reference", None) or reference_snapshot()
    start = activation.task.created
    payload: dict = {}
    if stage == Stage.HL_INTAKE:
        payload = route_suggest(case, snapshot).as_payload()
    if stage == Stage.HL_CALLBACK:
        payload["opens_at"] = next_working_day_start(case, start, snapshot).isoformat()
    if stage in (Stage.HL_LEAD_REPLY, Stage.HL_ASSIST_FEEDBACK) and process.data.pop("ruled", None):
        payload["ruled"] = True  # a return was rejected: the unit must handle it
    deadline = hotline_deadline(case, order, stage, start, snapshot)
    task = CaseTask(
        task=activation.task,
        case=case,
        stage=stage,
        role=hotline_role(stage),
        unit_id=unit_id,
        created_at=start,
        payload=payload,
        **task_sla_fields(case, stage, start, None, snapshot, deadline=deadline),
    )
    task_row_insert(activation, task)
    if stage not in ASSIST_OPEN_STAGES:
        case.stage = stage
    if stage == Stage.HL_LEAD_REPLY:
        case.due_at = task.due_at
    return task


# --- completing a task ------------------------------------------------------------------------


def _text(data: dict, name: str) -> str:
    value = data.get(name)
    return value.strip() if isinstance(value, str) else ""


def _handling_units(refs: list) -> dict:
    """The active handling units named by `refs` (ids or codes), from the reference snapshot
    (read once per generation): parsed ref → unit (refs naming none are missing)."""
    units = reference_snapshot().part("active_handling_units", _active_handling_units)
    parsed = [p for p in (parse_ref(r) for r in refs) if p is not None]
    return {p: units[p] for p in parsed if p in units}


def _active_handling_units() -> dict:
    """Every active handling unit, by id and by code (shared: read, never changed)."""
    units: dict = {}
    for unit in Unit.objects.filter(kind=UnitKind.HANDLING, is_active=True):
        units.setdefault(unit.pk, unit)
        units.setdefault(unit.code, unit)
    return units


def _handling_unit(units: dict, ref, name: str) -> Unit:
    unit = units.get(parse_ref(ref))
    if unit is None:
        raise ValidationError({name: _("Unknown or inactive handling unit.")})
    return unit


def _clean_dispatch(task: CaseTask, data: dict) -> dict:
    ref = data.get("lead_unit") or task.payload.get("suggested_unit")
    if ref in (None, ""):
        raise ValidationError({"lead_unit": _("Choose the lead unit.")})
    refs = data.get("assist_units") or []
    if isinstance(refs, str):
        refs = [r for r in refs.replace(",", " ").split() if r]
    units = _handling_units([ref, *refs])
    lead = _handling_unit(units, ref, "lead_unit")
    assist: list[Unit] = []
    for ref in refs:
        unit = _handling_unit(units, ref, "assist_units")
        if unit.pk == lead.pk:
            raise ValidationError({"assist_units": _("The lead unit cannot also assist.")})
        if unit not in assist:
            assist.append(unit)
    return {"lead_unit": lead, "assist_units": assist}


def _clean_return(task: CaseTask, data: dict) -> dict:
    if task.payload.get("ruled"):
        raise Conflict(
            _("The hotline centre has ruled that your unit handles this order."), "ruled"
        )
    code = _text(data, "reason_code")
    if code not in ReturnReason.values:
        raise ValidationError({"reason_code": _("Choose the reason for the return.")})
    reason = _text(data, "reason")
    if code == ReturnReason.OTHER and not reason:
        raise ValidationError({"reason": _("Say why the order is returned.")})
    return {"reason_code": code, "reason": reason}


def _clean_reply(data: dict) -> dict:
    errors = {}
    if not _text(data, "reply"):
        errors["reply"] = _("Write the reply to the citizen.")
    contact = _text(data, "reply_contact")
    if contact not in (ReplyChannel.PHONE, ReplyChannel.SMS, ReplyChannel.EMAIL):
        errors["reply_contact"] = _("Say how the citizen was contacted.")
    if _text(data, "reply_result") not in ReplyResult.values:
        errors["reply_result"] = _("Choose the result.")
    if errors:
        raise ValidationError(errors)
    return {
        "reply": _text(data, "reply"),
        "reply_contact": contact,
        "reply_result": _text(data, "reply_result"),
    }


def _clean_ruling(task: CaseTask, outcome: str, data: dict) -> dict:
    if outcome == "reject":
        if not _text(data, "reason"):
            raise ValidationError({"reason": _("Say why the return is rejected.")})
        return {"reason": _text(data, "reason")}
    ref = data.get("unit")
    if ref in (None, "") and task.stage == Stage.HL_ASSIST_RULING:
        return {"unit": None}  # the assisting unit is dropped
    if ref in (None, ""):
        raise ValidationError({"unit": _("Choose the unit the order goes to now.")})
    unit = _handling_unit(_handling_units([ref]), ref, "unit")
    returned_by = task.payload.get("returned_by")
    if unit.pk == returned_by:
        raise ValidationError({"unit": _("Choose another unit than the one that returned it.")})
    return {"unit": unit}


def _clean_callback(task: CaseTask, outcome: str, data: dict) -> dict:
    cleaned: dict = {"notes": _text(data, "notes")}
    if outcome == "unsatisfied":
        if not cleaned["notes"]:
            raise ValidationError({"notes": _("Write down why the citizen is unsatisfied.")})
        cleaned["unit_fault"] = str(data.get("unit_fault", "")).lower() in ("1", "true", "on")
    if outcome == "unreachable":
        attempts = str(data.get("attempts", "")).strip()
        needed = settings.CITYOPS_HOTLINE_CALLBACK_ATTEMPTS
        if not (attempts.isascii() and attempts.isdigit()) or int(attempts) < needed:
            raise ValidationError(
                {"attempts": _("Try at least %(n)d times before giving up.") % {"n": needed}}
            )
        cleaned["attempts"] = int(attempts)
    return cleaned


def _clean(task: CaseTask, outcome: str, data: dict) -> dict:
    """Check the outcome and its input before anything is locked or written."""
    if task.stage not in HOTLINE_POLICIES:
        raise not_found()
    names = hotline_outcomes(task.stage)
    if outcome not in names:
        raise ValidationError(
            {"outcome": _("Choose one of: %(names)s.") % {"names": ", ".join(names)}}
        )
    if outcome == "dispatch":
        return _clean_dispatch(task, data)
    if outcome == "answer":
        if not _text(data, "answer"):
            raise ValidationError({"answer": _("Write down the answer given.")})
        return {"answer": _text(data, "answer")}
    if outcome == "merge":
        return {"merge_into": _merge_target(task.case, data.get("merge_into"))}
    if outcome == "convert":
        return _clean_convert(task, data)
    if outcome == "return":
        return _clean_return(task, data)
    if outcome == "reply":
        return _clean_reply(data)
    if outcome == "feedback":
        if not _text(data, "feedback"):
            raise ValidationError({"feedback": _("Write the feedback for the lead unit.")})
        return {"feedback": _text(data, "feedback")}
    if outcome in ("accept", "reject"):
        return _clean_ruling(task, outcome, data)
    if outcome in CALLBACK_OUTCOMES:
        return _clean_callback(task, outcome, data)
    return {}


def _clean_convert(task: CaseTask, data: dict) -> dict:
    """A city-management matter: the city category and grid cell of the 数字城管 case."""
    from ..selectors.categories import reportable_categories

    ref = str(data.get("category") or "").strip()
    categories = reportable_categories().exclude(kind=CategoryKind.HOTLINE)
    category = categories.filter(pk=int(ref)).first() if ref.isascii() and ref.isdigit() else None
    if category is None:
        raise ValidationError({"category": _("Choose the city-management category.")})
    grid = _text(data, "grid")
    if not grid:
        raise ValidationError({"grid": _("Give the grid cell of the place.")})
    return {"category": category, "grid": grid}


def _merge_target(case: Case, ref) -> Case:
    target = case_by_ref(ref, queryset=Case.objects.exclude(pk=case.pk))
    if target is None or not target.is_open:
        raise ValidationError({"merge_into": _("Give the number of another open order or case.")})
    return target


def hotline_allowed_outcomes(actor, task: CaseTask) -> list[str]:
    """The outcomes the actor may choose on a hotline task (an open task is signed for, or
    taken, by choosing one)."""
    if not task.is_open or not access.can_act_on_task(actor, task):
        return []
    if task.status == TaskStatus.CLAIMED and task.owner_id != getattr(actor, "pk", None):
        return []
    names = hotline_outcomes(task.stage)
    if task.payload.get("ruled"):
        names = [n for n in names if n != "return"]
    return names


def hotline_complete(*, actor, task: CaseTask, outcome: str, data: dict | None = None) -> CaseTask:
    """Finish a hotline task with one of its stage's outcomes; the flow moves on. An open
    task is taken (signed for) by the one who completes it."""
    task_actor_check(actor, task)
    cleaned = _clean(task, outcome, data or {})
    with task_locked(task, read=_LOCKED_ORDER_READ) as (task, flow_task):
        if not task.is_open:
            raise Conflict(_("The task is already done."), "task_done")
        if task.status == TaskStatus.CLAIMED and task.owner_id != actor.pk:
            raise Conflict(_("Another colleague holds this task."), "task_taken")
        if task.stage == Stage.HL_CALLBACK:
            _callback_may_start(task)
        refuse_if_request_outstanding(task)  # an extension request awaiting its decision
        if outcome == "merge" and not cleaned["merge_into"].is_open:
            raise Conflict(_("That order or case has closed meanwhile."), "case_not_open")
        order = task.case.hotline
        order.case = case = task.case
        before = _values(order, ORDER_FIELDS_MOVED), _values(case, CASE_FIELDS_MOVED)
        process = flow_task.process
        process.cityops_order = order
        stage_from = case.stage
        route, said = _apply(order, task, outcome, cleaned, process, actor)
        if flow_task.status == STATUS.NEW:  # taken by completing it (what task_claim writes)
            flow_task.owner, flow_task.status = actor, STATUS.ASSIGNED  # saved on completion
        task.status, task.outcome, task.finished_at = TaskStatus.DONE, outcome, timezone.now()
        task.owner_id = task.owner_id or actor.pk
        task.payload = {**task.payload, **said}
        task_advance(flow_task, route, done=(task, TASK_DONE_FIELDS))
        _after(order, task, outcome)
        if outcome == "merge":
            merged_notify(order, cleaned["merge_into"])
        if case.status == CaseStatus.CLOSED:
            order_closed_notify(order)
        # A sign-for or a feedback of an assisting unit leaves the case and the order as
        # they were: nothing is written (the case's `updated_at`, Open311's
        # updated_datetime, moves only when the case does). What moved is written with the
        # event, in one statement.
        saves = []
        if moved := _moved(case, CASE_FIELDS_MOVED, before[1]):
            saves.append((case, [*moved, "updated_at"]))
        if moved := _moved(order, ORDER_FIELDS_MOVED, before[0]):
            saves.append((order, moved))
        event_record(
            saves=saves,
            case=case,
            task=task,
            action=f"hl_{outcome}",
            actor=actor,
            stage_from=stage_from,
            stage_to=case.stage,
            payload=said,
        )
    return task


def _values(obj, names: list[str]) -> dict:
    """The fields `names` of a case or an order (foreign keys by id; lists copied)."""
    values = {}
    for name in names:
        value = getattr(obj, obj._meta.get_field(name).attname)
        values[name] = list(value) if isinstance(value, list) else value
    return values


def _moved(obj, names: list[str], before: dict) -> list[str]:
    """The fields of `names` whose value differs from `before`."""
    return [name for name, value in _values(obj, names).items() if value != before[name]]


def _callback_may_start(task: CaseTask) -> None:
    """Callbacks are made from the next working day after the reply (if so configured)."""
    opens = task.payload.get("opens_at")
    if not (settings.CITYOPS_HOTLINE_CALLBACK_NEXT_DAY and opens):
        return
    opens_at = dt.datetime.fromisoformat(opens)
    if timezone.now() < opens_at:
        when = f"{timezone.localtime(opens_at):%Y-%m-%d %H:%M}"
        raise Conflict(
            _("The callback is made from the next working day (%(when)s).") % {"when": when},
            "too_early",
        )


def _apply(order: HotlineOrder, task: CaseTask, outcome: str, cleaned: dict, process, actor):
    """The outcome's effect on the order before the flow moves on: (route, event payload)."""
    case, now, data = order.case, timezone.now(), process.data
    said: dict = {}
    route = outcome
    if outcome == "dispatch":
        lead, assist = cleaned["lead_unit"], cleaned["assist_units"]
        order.lead_unit, order.assist_units = lead, [u.pk for u in assist]
        order.dispatched_at = now
        order.handling_due_at = handling_due(
            case, order, now, getattr(process, "cityops_reference", None)
        )
        case.responsible_unit = lead
        data["lead_unit"], data["assist_units"] = lead.pk, [u.pk for u in assist]
        said = {"lead_unit": lead.code, "assist_units": [u.code for u in assist]}
    elif outcome == "answer":
        order.answer = cleaned["answer"]
        _close(case, now)
        said = {"answer": cleaned["answer"]}
    elif outcome == "convert":
        converted = case_report(
            actor=actor,
            report=CaseReport(
                category=cleaned["category"],
                description=case.description,
                source=Source.HOTLINE,
                grid=cleaned["grid"],
                address=case.address,
            ),
        )
        order.converted_case = converted
        _close(case, now)
        said = {"case": converted.number}
    elif outcome == "merge":
        order.merged_into = cleaned["merge_into"]
        case.status, case.closed_at = CaseStatus.DUPLICATE, now
        said = {"merge_into": cleaned["merge_into"].number}
    elif outcome == "return":
        order.return_count += 1
        data["returned_by"] = task.unit_id
        said = {"reason_code": cleaned["reason_code"], "reason": cleaned["reason"]}
    elif outcome == "sign":
        pass
    elif outcome == "feedback":
        said = {"feedback": cleaned["feedback"]}
    elif outcome == "reply":
        _proceed_without_late(order, task)
        order.reply_text, order.reply_contact = cleaned["reply"], cleaned["reply_contact"]
        order.reply_result, order.replied_at = cleaned["reply_result"], now
        said = dict(cleaned)
    elif outcome == "accept":
        unit = cleaned["unit"]
        route = "redispatch" if unit is not None else "drop"
        if unit is not None and task.stage == Stage.HL_LEAD_RULING:
            order.lead_unit = case.responsible_unit = unit
        elif unit is not None:
            order.assist_units = [
                unit.pk if u == task.payload.get("returned_by") else u for u in order.assist_units
            ]
            data["next_unit"] = unit.pk
        else:
            order.assist_units = [
                u for u in order.assist_units if u != task.payload.get("returned_by")
            ]
        said = {"unit": unit.code if unit else None}
    elif outcome == "reject":
        data["ruled"] = True
        data["next_unit"] = task.payload.get("returned_by")
        said = {"reason": cleaned["reason"]}
    elif outcome in CALLBACK_OUTCOMES:
        order.satisfaction = outcome
        order.callback_notes = cleaned.get("notes", "")
        said = dict(cleaned)
        rehandle = (
            outcome == "unsatisfied" and cleaned.get("unit_fault") and not order.rehandle_count
        )
        if rehandle:
            order.rehandle_count += 1
            route = "rehandle"
        else:
            _close(case, now)
    return route, said


def _close(case: Case, now) -> None:
    case.status, case.closed_at = CaseStatus.CLOSED, now


def _after(order: HotlineOrder, task: CaseTask, outcome: str) -> None:
    """After the flow moved: a ruling's task remembers which unit returned the order."""
    if outcome == "return":
        _mark_ruling(task)
    if order.case.status != CaseStatus.OPEN:
        order.case.stage = Stage.ENDED


def _mark_ruling(task: CaseTask) -> None:
    ruling = (
        CaseTask.objects.filter(
            case_id=task.case_id,
            status=TaskStatus.OPEN,
            stage__in=(Stage.HL_LEAD_RULING, Stage.HL_ASSIST_RULING),
        )
        .order_by("-created_at", "-task_id")
        .first()
    )
    if ruling is not None:
        ruling.payload = {**ruling.payload, "returned_by": task.unit_id}
        save_fields(ruling, ["payload"])


def assisting_feedback_due(order: HotlineOrder):
    """When the assisting units' feedback is due (their time runs out)."""
    return hotline_deadline(
        order.case, order, Stage.HL_ASSIST_FEEDBACK, order.dispatched_at, None
    ).due_at


def _proceed_without_late(order: HotlineOrder, task: CaseTask) -> None:
    """The lead replies only after every assisting unit gave its feedback or ran out of
    time; late branches are cancelled and their missing feedback recorded."""
    if task.stage != Stage.HL_LEAD_REPLY or _WAITING_BRANCH.first(task.case_id) is None:
        return
    waiting = list(_waiting_branches(task.case_id).select_related("unit"))
    if not waiting:
        return
    now = timezone.now()
    if now < assisting_feedback_due(order):
        names = ", ".join(sorted({t.unit.name for t in waiting}))
        raise Conflict(
            _("Waiting for the assisting units' feedback: %(units)s.") % {"units": names},
            "waiting_feedback",
        )
    for late in waiting:  # under the process lock the caller holds
        flow_task = FlowTask.objects.get(pk=late.pk)
        flow_task.flow_task.activation_class(flow_task).cancel()
        late.status, late.finished_at = TaskStatus.CANCELLED, now
        save_fields(late, ["status", "finished_at"])
        order.missing_feedback = [*order.missing_feedback, late.unit_id]
        event_record(
            case=order.case,
            task=late,
            action="hl_feedback_missing",
            stage_from=late.stage,
            stage_to=late.stage,
            payload={"unit": late.unit.code},
        )
