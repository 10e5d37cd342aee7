"""API input shapes (checked here, judged by the services) and output representations.

Input serializers check types, lengths and choices only; every rule about the case (which
category, where, which outcome needs what) is the services'. Output serializers read what the
selectors already loaded: no per-row queries.
"""

from __future__ import annotations

from django.urls import reverse
from django.utils import timezone
from rest_framework import serializers

from ..models import DESCRIPTION_MAX_LENGTH, Source, Urgency
from ..selectors.case_search import DEFAULT_PAGE_SIZE as DEFAULT_CASE_PAGE
from ..selectors.case_search import MAX_PAGE_SIZE as MAX_CASE_PAGE
from ..selectors.reminders import reminder_count
from ..selectors.tasks import DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE, SCOPES
from ..services.outcomes import allowed_outcomes
from ..services.photos import MAX_PHOTOS
from ..sla.state import SlaSnapshot, case_sla, task_sla
from ..sql.task_rows import TaskRow
from .pagination import cursor_field, limit_field

MAX_ID = 2**31 - 1  # larger ids cannot exist; refuse them as input instead of querying
TEXT_MAX = 2000


# --- input -----------------------------------------------------------------------------------


def _photos() -> serializers.ListField:
    # Photo contents (real JPEG/PNG/WebP, size) are checked by the services.
    return serializers.ListField(
        child=serializers.FileField(allow_empty_file=False),
        required=False,
        default=list,
        max_length=MAX_PHOTOS,
    )


def _text(max_length: int = TEXT_MAX) -> serializers.CharField:
    return serializers.CharField(
        required=False, allow_blank=True, default="", max_length=max_length
    )


def _ref() -> serializers.CharField:
    """An id or a code (a number like 12 or 2026-000012, a unit code like SANI)."""
    return serializers.CharField(required=False, allow_blank=True, max_length=40)


class TokenInput(serializers.Serializer):
    username = serializers.CharField(max_length=150)
    password = serializers.CharField(max_length=256, trim_whitespace=False)


class CaseReportInput(serializers.Serializer):
    category = serializers.IntegerField(min_value=1, max_value=MAX_ID)
    description = serializers.CharField(max_length=DESCRIPTION_MAX_LENGTH)
    lat = serializers.FloatField(required=False, allow_null=True, min_value=-90, max_value=90)
    lng = serializers.FloatField(required=False, allow_null=True, min_value=-180, max_value=180)
    grid = serializers.CharField(required=False, allow_blank=True, allow_null=True, max_length=40)
    address = _text(255)
    source = serializers.ChoiceField(choices=Source.choices, default=Source.API)
    urgency = serializers.ChoiceField(
        choices=Urgency.choices, required=False, allow_null=True, allow_blank=True
    )
    reporter_name = _text(80)
    reporter_contact = _text(120)
    photos = _photos()


class CaseCancelInput(serializers.Serializer):
    reason = _text()  # required by the service, which says so as a field error


class TaskListQuery(serializers.Serializer):
    scope = serializers.ChoiceField(choices=SCOPES, default="queue")
    cursor = cursor_field()
    limit = limit_field(default=DEFAULT_PAGE_SIZE, maximum=MAX_PAGE_SIZE)


class TaskCompleteInput(serializers.Serializer):
    outcome = serializers.CharField(max_length=20)
    result = _text()
    reason = _text()
    duplicate_of = _ref()
    unit = _ref()
    archive_type = serializers.CharField(required=False, allow_blank=True, max_length=20)
    hotline_category = _ref()
    request_type = serializers.CharField(required=False, allow_blank=True, max_length=20)
    photos = _photos()

    DATA_FIELDS = (
        "result",
        "reason",
        "duplicate_of",
        "unit",
        "archive_type",
        "hotline_category",
        "request_type",
    )


class TaskSubdispatchInput(serializers.Serializer):
    unit = serializers.CharField(max_length=40)


class ExtensionInput(serializers.Serializer):
    amount = serializers.IntegerField(min_value=1, max_value=10_000)
    unit = serializers.ChoiceField(choices=["natural_hours", "working_hours", "working_days"])
    reason = serializers.CharField(max_length=TEXT_MAX)


class ReasonInput(serializers.Serializer):
    reason = serializers.CharField(max_length=TEXT_MAX)


class RequestOutput(serializers.Serializer):
    id = serializers.IntegerField()
    kind = serializers.CharField()
    status = serializers.CharField()
    amount = serializers.IntegerField(allow_null=True)
    unit = serializers.CharField(source="amount_unit")
    reason = serializers.CharField()
    created_at = serializers.DateTimeField()


# --- output ----------------------------------------------------------------------------------


class CategoryOutput(serializers.Serializer):
    id = serializers.IntegerField()
    scheme = serializers.CharField(source="scheme.code")
    kind = serializers.CharField()
    major_code = serializers.CharField()
    major_name = serializers.CharField()
    code = serializers.CharField()
    name = serializers.CharField()
    default_unit = serializers.CharField(source="default_unit.code", allow_null=True)
    limit_value = serializers.IntegerField()
    limit_unit = serializers.CharField()
    urgency = serializers.CharField()


class UnitOutput(serializers.Serializer):
    id = serializers.IntegerField()
    code = serializers.CharField()
    name = serializers.CharField()


class TaskCaseOutput(serializers.Serializer):
    id = serializers.IntegerField()
    number = serializers.CharField()
    category_name = serializers.CharField(source="category.name")
    address = serializers.CharField()
    area_name = serializers.CharField(source="area.name", allow_null=True)
    grid_code = serializers.CharField(source="grid.code", allow_null=True)


class TaskOutput(serializers.Serializer):
    """A task as the requesting user sees it (context: `request`)."""

    # Lists build the same shape from plain rows with `task_row_output` (tests compare them).

    id = serializers.IntegerField(source="task_id")
    case = TaskCaseOutput()
    stage = serializers.CharField()
    role = serializers.CharField()
    unit = serializers.CharField(source="unit.code")
    status = serializers.CharField()
    outcome = serializers.CharField()  # the one chosen, once done
    owner = serializers.CharField(source="owner.username", allow_null=True)
    created_at = serializers.DateTimeField()
    age_seconds = serializers.SerializerMethodField()
    due_at = serializers.DateTimeField(allow_null=True)
    sla_state = serializers.SerializerMethodField()
    sla_used_percent = serializers.SerializerMethodField()
    outcomes = serializers.SerializerMethodField()
    suggestion = serializers.SerializerMethodField()

    def _now(self):
        if "now" not in self.context:
            self.context["now"] = timezone.now()
        return self.context["now"]

    def _sla(self, task) -> SlaSnapshot:
        cache = self.context.setdefault("sla", {})
        if task.pk not in cache:
            cache[task.pk] = task_sla(task, self._now())
        return cache[task.pk]

    def get_sla_state(self, task) -> str | None:
        """on_track, at_risk (≥ 75 % used), overdue, paused, met or missed."""
        return self._sla(task).state

    def get_sla_used_percent(self, task) -> int | None:
        """Share of the allotted time used (working time for working-time limits)."""
        return self._sla(task).used_percent

    def get_age_seconds(self, task) -> int:
        return _age_seconds(task.created_at, self._now())

    def get_outcomes(self, task) -> list[str]:
        return allowed_outcomes(self.context["request"].user, task)

    def get_suggestion(self, task) -> dict | None:
        return _suggestion(task.stage, task.payload)


def _age_seconds(created_at, now) -> int:
    return max(0, int((now - created_at).total_seconds()))


def _suggestion(stage: str, payload: dict | None) -> dict | None:
    if stage != "dispatch":
        return None
    payload = payload or {}
    return {
        "suggested_unit_code": payload.get("suggested_unit_code"),
        "basis": payload.get("basis"),
        "explanation": payload.get("explanation"),
    }


def _datetime(value, zone) -> str | None:
    """DateTimeField's ISO 8601 output (in the current time zone, UTC as "Z")."""
    if value is None:
        return None
    text = value.astimezone(zone).isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text


def task_row_output(row: TaskRow, *, user, now) -> dict:
    """TaskOutput's representation of a plain row (sql.task_rows), without DRF's
    per-field machinery: a list renders 25 to 100 of these per request."""
    sla = task_sla(row, now)
    zone = timezone.get_current_timezone()
    return {
        "id": row.task_id,
        "case": {
            "id": row.case_id,
            "number": row.case_number,
            "category_name": row.category_name,
            "address": row.case_address,
            "area_name": row.area_name,
            "grid_code": row.grid_code,
        },
        "stage": row.stage,
        "role": row.role,
        "unit": row.unit_code,
        "status": row.status,
        "outcome": row.outcome,
        "owner": row.owner_username,
        "created_at": _datetime(row.created_at, zone),
        "age_seconds": _age_seconds(row.created_at, now),
        "due_at": _datetime(row.due_at, zone),
        "sla_state": sla.state,
        "sla_used_percent": sla.used_percent,
        "outcomes": allowed_outcomes(user, row),
        "suggestion": _suggestion(row.stage, row.payload),
    }


class CaseCategoryOutput(serializers.Serializer):
    id = serializers.IntegerField()
    code = serializers.CharField()
    name = serializers.CharField()
    kind = serializers.CharField()


class PhotoOutput(serializers.Serializer):
    url = serializers.SerializerMethodField()
    kind = serializers.CharField()

    def get_url(self, attachment) -> str:
        url = reverse("api:photo", kwargs={"photo_id": attachment.pk})
        return self.context["request"].build_absolute_uri(url)


class CaseRowOutput(serializers.Serializer):
    """A case in a list: what the search shows of it (the reporter is never in a list)."""

    id = serializers.IntegerField()
    number = serializers.CharField()
    category = CaseCategoryOutput()
    description = serializers.CharField()
    lat = serializers.FloatField(allow_null=True)
    lng = serializers.FloatField(allow_null=True)
    address = serializers.CharField()
    area = UnitOutput(allow_null=True)
    source = serializers.CharField()
    urgency = serializers.CharField()
    stage = serializers.CharField()
    status = serializers.CharField()
    responsible_unit = UnitOutput(allow_null=True)
    due_at = serializers.DateTimeField(allow_null=True)
    created_at = serializers.DateTimeField()
    closed_at = serializers.DateTimeField(allow_null=True)


class CaseOutput(CaseRowOutput):
    """A case; context: `request`, `photos`, `open_tasks`, and `sees_reporter` (the reporter's
    name and contact are left out otherwise)."""

    grid = serializers.CharField(source="grid.code", allow_null=True)
    duplicate_of = serializers.CharField(source="duplicate_of.number", allow_null=True)
    archive_type = serializers.CharField()
    rework_count = serializers.IntegerField()
    reminder_count = serializers.SerializerMethodField()
    due_at = serializers.DateTimeField(allow_null=True)
    sla_state = serializers.SerializerMethodField()
    sla_used_percent = serializers.SerializerMethodField()
    reporter_name = serializers.CharField()
    reporter_contact = serializers.CharField()
    photos = serializers.SerializerMethodField()
    open_tasks = serializers.SerializerMethodField()

    PRIVATE_FIELDS = ("reporter_name", "reporter_contact")

    def get_reminder_count(self, case) -> int:
        """催办 sent on the case (context `reminder_count`, else read)."""
        if "reminder_count" in self.context:
            return self.context["reminder_count"]
        return reminder_count(case)

    def get_sla_state(self, case) -> str | None:
        return case_sla(case, timezone.now()).state

    def get_sla_used_percent(self, case) -> int | None:
        return case_sla(case, timezone.now()).used_percent

    def get_photos(self, case) -> list[dict]:
        return PhotoOutput(self.context["photos"], many=True, context=self.context).data

    def get_open_tasks(self, case) -> list[dict]:
        return TaskOutput(self.context["open_tasks"], many=True, context=self.context).data

    def to_representation(self, case) -> dict:
        data = super().to_representation(case)
        if not self.context.get("sees_reporter"):
            for name in self.PRIVATE_FIELDS:
                data.pop(name)
        return data


class CaseListQuery(serializers.Serializer):
    """The page of GET /api/v1/cases/ (the filters are the case search's, see the schema)."""

    cursor = cursor_field()
    limit = limit_field(default=DEFAULT_CASE_PAGE, maximum=MAX_CASE_PAGE)


class EventOutput(serializers.Serializer):
    id = serializers.IntegerField()
    action = serializers.CharField()
    actor = serializers.CharField(source="actor.username", allow_null=True)
    stage_from = serializers.CharField()
    stage_to = serializers.CharField()
    unit = serializers.CharField(source="unit.code", allow_null=True)
    payload = serializers.JSONField()
    created_at = serializers.DateTimeField()


def parse(serializer_class: type[serializers.Serializer], data) -> dict:
    """The validated input, or a 400 with the field errors."""
    serializer = serializer_class(data=data)
    serializer.is_valid(raise_exception=True)
    return dict(serializer.validated_data)


class CaseRemindInput(serializers.Serializer):
    message = serializers.CharField(max_length=1000)


class ReminderOutput(serializers.Serializer):
    """A reminder (催办) sent: the case's count after it and whom it reached."""

    case = serializers.IntegerField(source="case_id")
    message = serializers.CharField(source="payload.message")
    to = serializers.ListField(child=serializers.CharField(), source="payload.to")
    created_at = serializers.DateTimeField()
    reminder_count = serializers.IntegerField()
