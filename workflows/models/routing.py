"""Routing rules: (category, area or grid) → responsible unit."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class RoutingRule(models.Model):
    """Suggests the unit for a case; the most specific matching rule wins."""

    category = models.ForeignKey(
        "workflows.Category",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="routing_rules",
        help_text=_("Empty: any category."),
    )
    area = models.ForeignKey(
        "departments.Unit",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
        help_text=_("Empty: any area. Matches the area and everything below it."),
    )
    grid = models.ForeignKey(
        "departments.GridCell",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="routing_rules",
    )
    unit = models.ForeignKey(
        "departments.Unit",
        on_delete=models.CASCADE,
        related_name="+",
        verbose_name=_("responsible unit"),
    )
    priority = models.IntegerField(
        _("priority"), default=0, help_text=_("Breaks ties between equally specific rules.")
    )
    is_active = models.BooleanField(_("active"), default=True)
    note = models.CharField(_("note"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("routing rule")
        verbose_name_plural = _("routing rules")
        indexes = [models.Index(fields=["category", "is_active"])]

    def __str__(self) -> str:
        parts = [
            str(self.category or _("any category")),
            str(self.grid or self.area or _("anywhere")),
        ]
        return f"{' · '.join(parts)} → {self.unit.code}"
