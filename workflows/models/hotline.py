"""12345 hotline work orders (工单): the hotline's own record beside the case it shares numbering,
tasks, audit events and SLA with. The caller's name and phone live only here (never on the
case), so that nothing built for cases (Open311, webhooks, exports) can carry them."""

from django.db import models
from django.utils.translation import gettext_lazy as _

from departments.models import Role

from .cases import Stage


class RequestType(models.TextChoices):
    CONSULTATION = "consultation", _("Consultation (咨询)")
    HELP = "help", _("Help (求助)")
    COMPLAINT = "complaint", _("Complaint (投诉)")
    REPORT = "report", _("Report (举报)")
    SUGGESTION = "suggestion", _("Suggestion (建议)")
    PRAISE = "praise", _("Praise (表扬)")


class ReplyChannel(models.TextChoices):
    PHONE = "phone", _("Phone call")
    SMS = "sms", _("SMS")
    EMAIL = "email", _("E-mail")
    NONE = "none", _("No reply wanted")


class ReplyResult(models.TextChoices):
    SOLVED = "solved", _("Solved")
    PARTLY = "partly", _("Partly solved")
    NOT_SOLVABLE = "not_solvable", _("Not solvable (explained)")


class Satisfaction(models.TextChoices):
    SATISFIED = "satisfied", _("Satisfied")
    BASIC = "basic", _("Basically satisfied")
    UNSATISFIED = "unsatisfied", _("Unsatisfied")
    UNREACHABLE = "unreachable", _("Could not reach")


class ReturnReason(models.TextChoices):
    WRONG_AREA = "wrong_area", _("Wrong area (属地不符)")
    UNCLEAR_OWNERSHIP = "unclear_ownership", _("Unclear ownership (权属不清)")
    OVERLAPPING = "overlapping", _("Overlapping duties (职能交叉)")
    NOT_OUR_DUTY = "not_our_duty", _("Not our duty (不属于本单位职责)")
    OTHER = "other", _("Other")


class HotlineOrder(models.Model):
    case = models.OneToOneField(
        "workflows.Case",
        primary_key=True,
        on_delete=models.CASCADE,
        related_name="hotline",
        verbose_name=_("case"),
    )
    centre = models.ForeignKey(
        "departments.Unit",
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("hotline centre"),
    )
    caller_name = models.CharField(_("caller name"), max_length=80, blank=True)
    caller_phone = models.CharField(_("caller phone"), max_length=20, blank=True)
    request_type = models.CharField(_("request type"), max_length=20, choices=RequestType.choices)
    reply_channel = models.CharField(
        _("reply wanted by"), max_length=10, choices=ReplyChannel.choices, default="phone"
    )
    reply_address = models.CharField(_("e-mail for the reply"), max_length=120, blank=True)
    query_code = models.CharField(_("query code"), max_length=8)
    lead_unit = models.ForeignKey(
        "departments.Unit",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("lead unit"),
    )
    assist_units = models.JSONField(_("assisting units"), default=list, blank=True)
    dispatched_at = models.DateTimeField(_("dispatched"), null=True, blank=True)
    handling_due_at = models.DateTimeField(_("handling due"), null=True, blank=True)
    answer = models.TextField(_("answer"), blank=True)
    reply_text = models.TextField(_("reply"), blank=True)
    reply_contact = models.CharField(_("how the citizen was contacted"), max_length=20, blank=True)
    reply_result = models.CharField(
        _("result"), max_length=20, blank=True, choices=ReplyResult.choices
    )
    replied_at = models.DateTimeField(_("replied"), null=True, blank=True)
    satisfaction = models.CharField(
        _("satisfaction"), max_length=20, blank=True, choices=Satisfaction.choices
    )
    callback_notes = models.TextField(_("callback notes"), blank=True)
    rehandle_count = models.PositiveSmallIntegerField(_("re-handlings"), default=0)
    return_count = models.PositiveSmallIntegerField(_("returns"), default=0)
    missing_feedback = models.JSONField(_("missing feedback"), default=list, blank=True)
    merged_into = models.ForeignKey(
        "workflows.Case",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="merged_orders",
        verbose_name=_("merged into"),
    )
    converted_case = models.ForeignKey(
        "workflows.Case",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="hotline_origin",
        verbose_name=_("turned into case"),
    )
    from_case = models.OneToOneField(
        "workflows.Case",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="turned_into_order",
        verbose_name=_("turned from case"),
    )
    citizen_rating = models.CharField(
        _("citizen's rating"), max_length=20, blank=True, choices=Satisfaction.choices
    )

    class Meta:
        verbose_name = _("hotline order")
        verbose_name_plural = _("hotline orders")
        indexes = [models.Index(fields=["merged_into"], name="hotline_merged")]

    def __str__(self) -> str:
        return str(self.case_id)


def mask_phone(phone: str) -> str:
    """138****1234: the first three and last four digits of a phone, the rest starred."""
    digits = phone.strip()
    if len(digits) <= 7:
        return "*" * len(digits)
    return f"{digits[:3]}{'*' * (len(digits) - 7)}{digits[-4:]}"


def mask_name(name: str) -> str:
    """张** : the first character, the rest starred."""
    name = name.strip()
    return f"{name[:1]}{'*' * (len(name) - 1)}" if name else ""


# --- the flow's stages: who works each one, where, and its outcomes with their required input --
# (flows.stages adds them to the stage policy table; the hotline services read them here.)

_RETURN = ("return", ("reason_code",))
_RULING = (("accept", ()), ("reject", ("reason",)))
_REPLY = ("reply", ("reply", "reply_contact", "reply_result"))
HOTLINE_POLICIES: dict[str, tuple[str, str, tuple[tuple[str, tuple[str, ...]], ...]]] = {
    Stage.HL_INTAKE: (
        Role.HOTLINE_AGENT,
        "hotline_centre",
        (
            ("dispatch", ("lead_unit",)),
            ("answer", ("answer",)),
            ("merge", ("merge_into",)),
            ("convert", ("category", "grid")),
        ),
    ),
    Stage.HL_LEAD_SIGN: (Role.HANDLER, "lead", (("sign", ()), _RETURN)),
    Stage.HL_ASSIST_SIGN: (Role.HANDLER, "assisting", (("sign", ()), _RETURN)),
    Stage.HL_LEAD_REPLY: (Role.HANDLER, "lead", (_REPLY, _RETURN)),
    Stage.HL_ASSIST_FEEDBACK: (Role.HANDLER, "assisting", (("feedback", ("feedback",)), _RETURN)),
    Stage.HL_LEAD_RULING: (Role.SHIFT_LEADER, "hotline_centre", _RULING),
    Stage.HL_ASSIST_RULING: (Role.SHIFT_LEADER, "hotline_centre", _RULING),
    Stage.HL_CALLBACK: (
        Role.HOTLINE_AGENT,
        "hotline_centre",
        (
            ("satisfied", ()),
            ("basic", ()),
            ("unsatisfied", ("notes",)),
            ("unreachable", ("attempts",)),
        ),
    ),
    Stage.HL_REHANDLE: (Role.HANDLER, "lead", (_REPLY,)),
}
HOTLINE_STAGES = tuple(HOTLINE_POLICIES)
ASSIST_STAGES = (Stage.HL_ASSIST_SIGN, Stage.HL_ASSIST_FEEDBACK)


def hotline_role(stage: str) -> str:
    return HOTLINE_POLICIES[stage][0]


def hotline_lives_in(stage: str) -> str:
    return HOTLINE_POLICIES[stage][1]


def hotline_outcomes(stage: str) -> list[str]:
    return [name for name, _requires in HOTLINE_POLICIES[stage][2]]
