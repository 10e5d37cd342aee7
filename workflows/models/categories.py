"""Case categories: components (部件), events (事件) and matters (事项), as versioned data."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class CategoryKind(models.TextChoices):
    COMPONENT = "component", _("Component (部件)")
    EVENT = "event", _("Event (事件)")
    MATTER = "matter", _("Matter (事项)")
    HOTLINE = "hotline", _("Hotline request (热线诉求)")


class LimitUnit(models.TextChoices):
    NATURAL_MINUTES = "natural_minutes", _("natural minutes")
    NATURAL_HOURS = "natural_hours", _("natural hours")
    WORKING_HOURS = "working_hours", _("working hours")
    WORKING_DAYS = "working_days", _("working days")


class Urgency(models.TextChoices):
    NORMAL = "normal", _("Normal")
    URGENT = "urgent", _("Urgent")


class CategoryScheme(models.Model):
    """A code scheme, e.g. GB/T 30428.2 (2+2 digits) or GB/T 47678.5-2026 (2+3 digits)."""

    code = models.CharField(_("code"), max_length=60, unique=True)
    name = models.CharField(_("name"), max_length=160, blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("category scheme")
        verbose_name_plural = _("category schemes")
        ordering = ["code"]

    def __str__(self) -> str:
        return self.code


class Category(models.Model):
    """A minor class (小类) with its major class (大类), responsible unit and time limit."""

    scheme = models.ForeignKey(
        CategoryScheme,
        verbose_name=_("scheme"),
        on_delete=models.PROTECT,
        related_name="categories",
    )
    kind = models.CharField(_("kind"), max_length=10, choices=CategoryKind.choices)
    major_code = models.CharField(_("major code"), max_length=4)
    major_name = models.CharField(_("major class"), max_length=80)
    # Three-level schemes (the hotline's 大类/中类/小类, GB/T 39666-2020 style) only.
    middle_code = models.CharField(_("middle code"), max_length=6, blank=True)
    middle_name = models.CharField(_("middle class"), max_length=80, blank=True)
    code = models.CharField(_("code"), max_length=8)
    name = models.CharField(_("name"), max_length=120)
    default_unit = models.ForeignKey(
        "departments.Unit",
        verbose_name=_("default responsible unit"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    filing_conditions = models.TextField(_("filing conditions"), blank=True)
    closing_conditions = models.TextField(_("closing conditions"), blank=True)
    limit_value = models.PositiveIntegerField(_("handling time limit"))
    limit_unit = models.CharField(_("limit unit"), max_length=20, choices=LimitUnit.choices)
    urgency = models.CharField(
        _("urgency"), max_length=10, choices=Urgency.choices, default=Urgency.NORMAL
    )
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("category")
        verbose_name_plural = _("categories")
        ordering = ["scheme", "kind", "code"]
        constraints = [
            models.UniqueConstraint(fields=["scheme", "kind", "code"], name="category_identity"),
            models.CheckConstraint(
                condition=models.Q(limit_value__gt=0), name="category_limit_positive"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.name} ({self.get_kind_display()})"

    @property
    def limit_display(self) -> str:
        return f"{self.limit_value} {self.get_limit_unit_display()}"
