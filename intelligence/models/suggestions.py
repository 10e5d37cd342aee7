"""Dispatch suggestions (智能分派): trained model versions and what users did with them."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class SuggestionModel(models.Model):
    """One trained version of the dispatch-suggestion model, with its held-out figures; at
    most one is active (suggestions use it), an older one can be made active again."""

    version = models.CharField(_("version"), max_length=40, unique=True)
    algorithm = models.CharField(_("algorithm"), max_length=120)
    is_active = models.BooleanField(_("active"), default=False)
    cases = models.PositiveIntegerField(_("cases trained on"))
    held_out = models.PositiveIntegerField(_("cases held out"))
    units = models.PositiveIntegerField(_("units"))
    categories = models.PositiveIntegerField(_("categories"))
    # {"unit": {"top1", "top3", "baseline"}, "category": {...}}: fractions of the held-out cases.
    metrics = models.JSONField(_("held-out figures"), default=dict)
    seconds = models.FloatField(_("training time (s)"), default=0)
    artifact = models.BinaryField(_("artifact"))
    size = models.PositiveIntegerField(_("size (bytes)"), default=0)
    trained_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("trained by"),
    )
    created_at = models.DateTimeField(_("trained"), auto_now_add=True)

    class Meta:
        verbose_name = _("suggestion model version")
        verbose_name_plural = _("suggestion model versions")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["is_active"],
                condition=models.Q(is_active=True),
                name="one_active_suggestion_model",
            )
        ]

    def __str__(self) -> str:
        return self.version


class Surface(models.TextChoices):
    REPORT = "report", _("Report form")
    INTAKE = "intake", _("Intake")
    DISPATCH = "dispatch", _("Dispatch")
    HOTLINE = "hotline", _("Hotline")


class Taken(models.TextChoices):
    FIRST = "first", _("The first suggestion")
    OTHER = "other", _("Another suggestion")
    NONE = "none", _("None of them")


class SuggestionLog(models.Model):
    """A suggestion shown on a page, and which choice the user then submitted."""

    surface = models.CharField(_("page"), max_length=10, choices=Surface.choices)
    kind = models.CharField(_("choice of"), max_length=10, default="unit")  # unit | category
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("user"),
    )
    case = models.ForeignKey(
        "workflows.Case",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("case"),
    )
    model_version = models.CharField(_("model"), max_length=40)
    suggested = models.JSONField(_("suggested"), default=list)  # codes, best first
    chosen = models.CharField(_("chosen"), max_length=40, blank=True)
    taken = models.CharField(_("taken"), max_length=10, choices=Taken.choices, blank=True)
    created_at = models.DateTimeField(_("shown"), auto_now_add=True)
    decided_at = models.DateTimeField(_("decided"), null=True, blank=True)

    class Meta:
        verbose_name = _("suggestion shown")
        verbose_name_plural = _("suggestions shown")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["created_at"])]

    def __str__(self) -> str:
        return f"{self.get_surface_display()} {self.created_at:%Y-%m-%d %H:%M}"
