"""Cases (案卷): the concrete, indexed record of a reported problem, linked to its process."""

import datetime as dt
import secrets

from django.conf import settings
from django.db import models
from django.db.models.functions import Coalesce
from django.utils.translation import gettext_lazy as _

from .categories import Urgency

# One limit for a case's description on every way in: pages, API, Open311 (its request.json's
# maxLength), and the service that records it.
DESCRIPTION_MAX_LENGTH = 4000
# The due time of cases that have none, in the "due soonest" sort key (they sort last).
NO_DUE = dt.datetime(9000, 1, 1, tzinfo=dt.UTC)


class Source(models.TextChoices):
    INSPECTOR = "inspector", _("Inspector")
    HOTLINE = "hotline", _("12345 hotline")
    PUBLIC_APP = "public_app", _("Public app")
    SENSOR = "sensor", _("Sensor")
    UPPER_LEVEL = "upper_level", _("Upper-level assignment")
    API = "api", _("API")


class Stage(models.TextChoices):
    INTAKE = "intake", _("Intake (受理)")
    VERIFY = "verify", _("Verification (核实)")
    FILING = "filing", _("Filing (立案)")
    DISPATCH = "dispatch", _("Dispatch (派遣)")
    HANDLING = "handling", _("Handling (处置)")
    RETURN_REVIEW = "return_review", _("Return review (回退审核)")
    CHECK = "check", _("Check (核查)")
    CLOSING = "closing", _("Closing (结案)")
    ENDED = "ended", _("Ended")
    # Review tasks beside the main flow (their own small flow, same case):
    EXTENSION_REVIEW = "extension_review", _("Extension decision (延期审批)")
    PARKING_REVIEW = "parking_review", _("Parking decision (挂账审批)")
    PARKED = "parked", _("Parked: resume (挂账恢复)")
    # The 12345 hotline flow (workflows.flows.hotline):
    HL_INTAKE = "hl_intake", _("Hotline intake (受理)")
    HL_LEAD_SIGN = "hl_lead_sign", _("Sign-for, lead unit (主办签收)")
    HL_ASSIST_SIGN = "hl_assist_sign", _("Sign-for, assisting unit (协办签收)")
    HL_LEAD_REPLY = "hl_lead_reply", _("Handling and reply (办理答复)")
    HL_ASSIST_FEEDBACK = "hl_assist_feedback", _("Assisting feedback (协办反馈)")
    HL_LEAD_RULING = "hl_lead_ruling", _("Return ruling, lead (退单终审)")
    HL_ASSIST_RULING = "hl_assist_ruling", _("Return ruling, assisting (协办退单终审)")
    HL_CALLBACK = "hl_callback", _("Callback (回访)")
    HL_REHANDLE = "hl_rehandle", _("Re-handling (重办)")


class CaseStatus(models.TextChoices):
    OPEN = "open", _("Open")
    CLOSED = "closed", _("Closed")
    INVALID = "invalid", _("Not accepted (不受理)")
    DUPLICATE = "duplicate", _("Duplicate")
    REFUSED = "refused", _("Not filed (不予立案)")
    CANCELLED = "cancelled", _("Cancelled (作废)")


class ArchiveType(models.TextChoices):
    NORMAL = "normal", _("Normal (正常结案)")
    OVERDUE = "overdue", _("Overdue (超时结案)")
    ERRONEOUS = "erroneous", _("Erroneous (差错结案)")
    SPECIAL = "special", _("Special (特殊结案)")


class Case(models.Model):
    number = models.CharField(_("number"), max_length=20, unique=True)
    process = models.OneToOneField(
        "viewflow.Process",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="case",
        verbose_name=_("process"),
    )
    city = models.ForeignKey("departments.Unit", on_delete=models.PROTECT, related_name="+")
    category = models.ForeignKey(
        "workflows.Category",
        on_delete=models.PROTECT,
        related_name="cases",
        verbose_name=_("category"),
        db_index=False,  # led by the (…, created_at) / (…, status) index in Meta
    )
    description = models.TextField(_("description"), max_length=DESCRIPTION_MAX_LENGTH)
    lat = models.FloatField(_("latitude"), null=True, blank=True)
    lng = models.FloatField(_("longitude"), null=True, blank=True)
    address = models.CharField(_("address"), max_length=255, blank=True)
    grid = models.ForeignKey(
        "departments.GridCell",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="cases",
        verbose_name=_("grid cell"),
    )
    area = models.ForeignKey(
        "departments.Unit",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("area"),
        db_index=False,  # led by the (…, created_at) / (…, status) index in Meta
    )
    source = models.CharField(_("source"), max_length=20, choices=Source.choices)
    reporter_name = models.CharField(_("reporter name"), max_length=80, blank=True)
    reporter_contact = models.CharField(_("reporter contact"), max_length=120, blank=True)
    urgency = models.CharField(
        _("urgency"), max_length=10, choices=Urgency.choices, default=Urgency.NORMAL
    )
    stage = models.CharField(_("stage"), max_length=20, choices=Stage.choices, default=Stage.INTAKE)
    status = models.CharField(
        _("status"), max_length=20, choices=CaseStatus.choices, default=CaseStatus.OPEN
    )
    responsible_unit = models.ForeignKey(
        "departments.Unit",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("responsible unit"),
        db_index=False,  # led by the (…, created_at) / (…, status) index in Meta
    )
    duplicate_of = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="duplicates",
    )
    rework_count = models.PositiveIntegerField(_("reworks"), default=0)
    extension_count = models.PositiveIntegerField(_("approved extensions"), default=0)
    archive_type = models.CharField(
        _("archive type"), max_length=10, blank=True, choices=ArchiveType.choices
    )
    archive_reason = models.TextField(_("archive reason"), blank=True)
    reported_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    due_at = models.DateTimeField(_("due"), null=True, blank=True)
    # The "due soonest" sort key, kept by the database: the due time, or NO_DUE. A column
    # rather than the expression in the query, so that an index serves the sort whichever way
    # the statement is bound (a prepared statement would pass NO_DUE as a parameter, and an
    # expression index on COALESCE(due_at, <constant>) would not match it).
    due_sort = models.GeneratedField(
        expression=Coalesce("due_at", models.Value(NO_DUE, output_field=models.DateTimeField())),
        output_field=models.DateTimeField(),
        db_persist=True,
        verbose_name=_("due (sort key)"),
    )
    created_at = models.DateTimeField(_("reported"), db_index=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)
    closed_at = models.DateTimeField(_("ended"), null=True, blank=True)

    class Meta:
        verbose_name = _("case")
        verbose_name_plural = _("cases")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["status", "stage"]),
            models.Index(fields=["responsible_unit", "status"]),
            models.Index(fields=["area", "created_at"]),
            models.Index(fields=["category", "created_at"]),
            # Case search: a caller's cases by phone (exact), the open cases by due time.
            models.Index(
                fields=["reporter_contact"],
                name="case_reporter_contact",
                condition=~models.Q(reporter_contact=""),
            ),
            models.Index(fields=["status", "due_at"], name="case_status_due"),
            # "Due soonest": every visible case, or the cases in one status (open).
            models.Index(fields=["due_sort", "id"], name="case_due_sort"),
            models.Index(fields=["status", "due_sort", "id"], name="case_status_due_sort"),
            # Duplicate candidates: a category's open cases, newest first. A prepared statement
            # gets a generic plan after five runs, which without the status in this index
            # ANDed the (status, stage) index's 400k open rows in: 34 ms against 1.4 ms.
            models.Index(fields=["category", "status", "created_at"], name="case_category_open"),
        ]

    def __str__(self) -> str:
        return self.number

    @property
    def is_open(self) -> bool:
        return self.status == CaseStatus.OPEN


class CaseSequence(models.Model):
    """The last case number handed out in a year (numbers are sequential per year)."""

    year = models.PositiveSmallIntegerField(primary_key=True)
    last = models.PositiveIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.year}: {self.last}"


class PhotoKind(models.TextChoices):
    BEFORE = "before", _("Before")
    AFTER = "after", _("After")


def _photo_path(instance: "Attachment", filename: str) -> str:
    """A random name with a fixed extension: the uploaded name is never used (photos are
    re-encoded as JPEG by services.photos and served only through an access-checked view)."""
    return f"cases/{instance.case.number[:4]}/{secrets.token_hex(16)}.jpg"


class Attachment(models.Model):
    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="attachments")
    task = models.ForeignKey(
        "workflows.CaseTask",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="attachments",
    )
    kind = models.CharField(_("kind"), max_length=10, choices=PhotoKind.choices)
    file = models.FileField(_("file"), upload_to=_photo_path)
    content_type = models.CharField(max_length=40)
    size = models.PositiveIntegerField()
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("photo")
        verbose_name_plural = _("photos")
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"{self.case} {self.kind} {self.file.name}"
