"""The audit trail: an append-only event per state change, written in the same transaction."""

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.utils.translation import gettext_lazy as _


class CaseEvent(models.Model):
    case = models.ForeignKey(
        "workflows.Case",
        on_delete=models.PROTECT,  # cases are never deleted, only cancelled; events are kept
        related_name="events",
        db_index=False,  # led by caseevent_timeline
    )
    task = models.ForeignKey(
        "workflows.CaseTask",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="events",
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text=_("Empty when the system acted."),
    )
    action = models.CharField(_("action"), max_length=30)
    stage_from = models.CharField(_("stage from"), max_length=20, blank=True)
    stage_to = models.CharField(_("stage to"), max_length=20, blank=True)
    unit = models.ForeignKey(
        "departments.Unit", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    payload = models.JSONField(default=dict, blank=True, encoder=DjangoJSONEncoder)
    created_at = models.DateTimeField(_("time"), db_index=True)

    class Meta:
        verbose_name = _("case event")
        verbose_name_plural = _("case events")
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["case", "created_at", "id"], name="caseevent_timeline")]

    def __str__(self) -> str:
        return f"{self.case_id} {self.action} {self.created_at:%Y-%m-%d %H:%M}"
