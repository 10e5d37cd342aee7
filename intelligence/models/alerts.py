"""Breach predictions (预测超期) per open task and hotspot alerts (热点) per category and area."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class BreachPrediction(models.Model):
    """The latest probability that an open task misses its due time, with what it rests on.

    One row per scored open task, rewritten by the scoring sweep; the row of a task that
    ended is removed. `warned_at` records the one early warning the task's unit head got.
    """

    task = models.OneToOneField(
        "workflows.CaseTask",
        primary_key=True,
        on_delete=models.CASCADE,
        related_name="breach_prediction",
        verbose_name=_("task"),
    )
    case = models.ForeignKey(
        "workflows.Case", on_delete=models.CASCADE, related_name="+", verbose_name=_("case")
    )
    unit = models.ForeignKey(
        "departments.Unit", on_delete=models.CASCADE, related_name="+", verbose_name=_("unit")
    )
    probability = models.FloatField(_("probability of missing the due time"))
    typical_minutes = models.FloatField(
        _("typical time to complete (minutes)"), null=True, blank=True
    )
    left_minutes = models.FloatField(_("time left (minutes)"))
    used_percent = models.PositiveSmallIntegerField(_("share of the time used (%)"))
    working = models.BooleanField(_("working time"), default=True)
    backlog = models.PositiveIntegerField(_("open tasks of the unit"))
    typical_backlog = models.FloatField(_("usual open tasks of the unit"))
    basis = models.CharField(_("history group"), max_length=30)
    samples = models.PositiveIntegerField(_("past tasks in the group"))
    scored_at = models.DateTimeField(_("scored"))
    warned_at = models.DateTimeField(_("early warning sent"), null=True, blank=True)

    class Meta:
        verbose_name = _("breach prediction")
        verbose_name_plural = _("breach predictions")
        indexes = [models.Index(fields=["-probability", "task"], name="breachpred_prob")]

    def __str__(self) -> str:
        return f"{self.task_id}: {self.probability:.2f}"


class HotspotStatus(models.TextChoices):
    ACTIVE = "active", _("Active")
    ENDED = "ended", _("Ended")


class HotspotAlert(models.Model):
    """A surge of one category in one area against its own baseline; one row per surge
    (re-detected surges update it, a surge that subsides ends it)."""

    category = models.ForeignKey(
        "workflows.Category", on_delete=models.CASCADE, related_name="+", verbose_name=_("category")
    )
    area = models.ForeignKey(
        "departments.Unit", on_delete=models.CASCADE, related_name="+", verbose_name=_("area")
    )
    status = models.CharField(
        _("status"), max_length=10, choices=HotspotStatus.choices, default=HotspotStatus.ACTIVE
    )
    window_start = models.DateTimeField(_("window start"))
    window_days = models.PositiveSmallIntegerField(_("window (days)"))
    observed = models.PositiveIntegerField(_("reports in the window"))
    expected = models.FloatField(_("expected reports"))
    p_value = models.FloatField(_("p-value"))
    case_ids = models.JSONField(_("cases"), default=list, blank=True)
    detected_at = models.DateTimeField(_("detected"))
    last_seen_at = models.DateTimeField(_("last confirmed"))
    ended_at = models.DateTimeField(_("ended"), null=True, blank=True)

    class Meta:
        verbose_name = _("hotspot alert")
        verbose_name_plural = _("hotspot alerts")
        constraints = [
            models.UniqueConstraint(
                fields=["category", "area"],
                condition=models.Q(status="active"),
                name="hotspot_one_active",
            ),
        ]
        indexes = [models.Index(fields=["status", "-detected_at"], name="hotspot_recent")]

    def __str__(self) -> str:
        return f"{self.category_id}@{self.area_id}: {self.observed}/{self.expected:.1f}"
