"""Completing a task with an outcome: validate the outcome's fields, apply it to the case,
move the flow on, record the event."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext as _

from departments.models import Unit, UnitKind

from ..flows.stages import ENDING_OUTCOMES, REVIEW_STAGES, STAGES
from ..models import ArchiveType, Case, CaseStatus, CaseTask, PhotoKind, Stage, TaskStatus
from ..selectors.lookups import case_by_ref, unit_by_ref
from .errors import Conflict
from .events import event_record
from .hotline import CITIZEN_SOURCES, order_from_case, order_from_case_check
from .invariants import refuse_if_other_tasks_open, refuse_if_request_outstanding
from .photos import photos_attach, photos_validate
from .requests import review_apply
from .transitions import task_actor_check, task_advance, task_locked

CHOSEN_ARCHIVE_TYPES = (ArchiveType.ERRONEOUS, ArchiveType.SPECIAL)
# What completing a task may change on its case: the outcome itself (_apply), the next task
# opening (stage, due time) and a review's decision (pauses, extensions).
# The columns a completion writes on the task.
TASK_DONE_FIELDS = ("status", "outcome", "finished_at", "payload")
CASE_FIELDS_MOVED = [
    "stage",
    "status",
    "due_at",
    "responsible_unit",
    "duplicate_of",
    "rework_count",
    "extension_count",
    "archive_type",
    "archive_reason",
    "closed_at",
    "updated_at",
]


def allowed_outcomes(actor, task: CaseTask) -> list[str]:
    """The outcomes the actor may choose now: those of the stage, once they hold the task; a
    case becomes a 12345 order only when a citizen reported it. `task` is a CaseTask or a
    list's TaskRow (which carries its case's source)."""
    if task.status != TaskStatus.CLAIMED or task.owner_id != getattr(actor, "pk", None):
        return []
    names = STAGES[task.stage].outcome_names
    if "to_hotline" in names:
        source = getattr(task, "case_source", None) or task.case.source
        if source not in CITIZEN_SOURCES:
            names = [name for name in names if name != "to_hotline"]
    return names


def _text(data: dict, name: str) -> str:
    value = data.get(name)
    return value.strip() if isinstance(value, str) else ""


def _resolve_duplicate(task: CaseTask, value) -> Case:
    original = case_by_ref(value, queryset=Case.objects.exclude(pk=task.case_id))
    if original is None:
        raise ValidationError({"duplicate_of": _("Give the number of another existing case.")})
    return original


def _resolve_unit(task: CaseTask, value) -> Unit:
    ref = value if value not in (None, "") else task.payload.get("suggested_unit")
    if ref in (None, ""):
        raise ValidationError({"unit": _("No unit is suggested: choose the unit.")})
    unit = unit_by_ref(ref, queryset=Unit.objects.filter(kind=UnitKind.HANDLING, is_active=True))
    if unit is None:
        raise ValidationError({"unit": _("Unknown or inactive handling unit.")})
    return unit


def _clean(task: CaseTask, outcome: str, data: dict, photos) -> dict:
    """Check the outcome and its fields before anything is written."""
    spec = STAGES[task.stage].outcome(outcome)
    if spec is None:
        raise ValidationError(
            {
                "outcome": _("Choose one of: %(names)s.")
                % {"names": ", ".join(STAGES[task.stage].outcome_names)}
            }
        )
    cleaned: dict = {"outcome": outcome}
    errors = {}
    for name in ("result", "reason"):
        if _text(data, name):
            cleaned[name] = _text(data, name)
        elif name in spec.requires:
            errors[name] = _("This field is required.")
    if errors:
        raise ValidationError(errors)
    if outcome == "duplicate":
        cleaned["duplicate_of"] = _resolve_duplicate(task, data.get("duplicate_of"))
    if outcome == "dispatch":
        cleaned["unit"] = _resolve_unit(task, data.get("unit"))
    if outcome == "close":
        cleaned.update(_clean_archive(data, cleaned))
    if outcome == "to_hotline":
        cleaned["hotline"] = order_from_case_check(
            task.case, data.get("hotline_category"), _text(data, "request_type")
        )
    cleaned["photos"] = photos_validate(photos)
    if outcome == "done" and not cleaned["photos"]:
        raise ValidationError({"photos": _("Add a photo of the result (处置后照片).")})
    return cleaned


def _clean_archive(data: dict, cleaned: dict) -> dict:
    archive_type = _text(data, "archive_type")
    if not archive_type:
        return {}
    if archive_type not in CHOSEN_ARCHIVE_TYPES:
        raise ValidationError(
            {
                "archive_type": _(
                    "Normal or overdue follows from the deadlines; choose erroneous or special."
                )
            }
        )
    if "reason" not in cleaned:
        raise ValidationError({"reason": _("Give the reason for this archive type.")})
    return {"archive_type": archive_type}


def _apply(case: Case, task: CaseTask, cleaned: dict, actor) -> None:
    """The outcome's effect on the case itself (before the flow moves on)."""
    outcome, now = cleaned["outcome"], timezone.now()
    if outcome == "duplicate":
        case.duplicate_of = cleaned["duplicate_of"]
    elif outcome == "dispatch":
        case.responsible_unit = cleaned["unit"]
    elif outcome == "fail":
        case.rework_count += 1
    elif outcome == "close":
        late = case.due_at is not None and now > case.due_at
        case.archive_type = cleaned.get("archive_type") or (
            ArchiveType.OVERDUE if late else ArchiveType.NORMAL
        )
        case.archive_reason = cleaned.get("reason", "")
    elif outcome == "to_hotline":
        centre, category, request_type = cleaned["hotline"]
        cleaned["order"] = order_from_case(
            actor=actor, case=case, centre=centre, category=category, request_type=request_type
        )
    if outcome in ENDING_OUTCOMES:
        case.status, case.closed_at = ENDING_OUTCOMES[outcome], now
    kind = PhotoKind.AFTER if task.stage in (Stage.HANDLING, Stage.CHECK) else PhotoKind.BEFORE
    photos_attach(case=case, checked=cleaned["photos"], kind=kind, actor=actor, task=task)


def _payload(cleaned: dict) -> dict:
    payload = {k: v for k, v in cleaned.items() if k in ("result", "reason", "archive_type")}
    if "duplicate_of" in cleaned:
        payload["duplicate_of"] = cleaned["duplicate_of"].number
    if "unit" in cleaned:
        payload["unit"] = cleaned["unit"].code
    if "order" in cleaned:
        payload["order"] = cleaned["order"].case.number
    if cleaned["photos"]:
        payload["photos"] = len(cleaned["photos"])
    return payload


def task_complete(
    *, actor, task: CaseTask, outcome: str, data: dict | None = None, photos=()
) -> CaseTask:
    """Finish a task the actor holds with one of its stage's outcomes; the flow moves on."""
    task_actor_check(actor, task)
    cleaned = _clean(task, outcome, data or {}, photos)
    with task_locked(task) as (task, flow_task):
        if task.status != TaskStatus.CLAIMED or task.owner_id != actor.pk:
            raise (
                Conflict(_("Claim the task before completing it."), "not_holder")
                if task.status == TaskStatus.OPEN
                else Conflict(_("The task is no longer yours to complete."), "task_taken")
            )
        if task.paused_since is not None:
            raise Conflict(
                _(
                    "The task's clock is stopped (parked, awaiting an extension "
                    "decision or information): resume it first."
                ),
                "paused",
            )
        refuse_if_request_outstanding(task)  # a parking request awaiting its decision
        if outcome in ENDING_OUTCOMES and task.stage not in REVIEW_STAGES:
            refuse_if_other_tasks_open(task)
        case, stage_from = task.case, task.stage
        _apply(case, task, cleaned, actor)
        said = _payload(cleaned)
        if task.stage in REVIEW_STAGES:
            said.update(
                review_apply(
                    review=task,
                    outcome=outcome,
                    actor=actor,
                    process_data=flow_task.process.data,
                    now=timezone.now(),
                )
            )
        task.status, task.outcome, task.finished_at = TaskStatus.DONE, outcome, timezone.now()
        task.payload = {**task.payload, **said}
        task_advance(flow_task, outcome, done=(task, TASK_DONE_FIELDS))
        if case.status != CaseStatus.OPEN:
            case.stage = Stage.ENDED
        event_record(
            saves=[(case, CASE_FIELDS_MOVED)],
            case=case,
            task=task,
            action=f"{task.stage}_{outcome}" if task.stage in REVIEW_STAGES else outcome,
            actor=actor,
            stage_from=stage_from,
            stage_to=stage_from if task.stage in REVIEW_STAGES else case.stage,
            payload=said,
        )
    return task
