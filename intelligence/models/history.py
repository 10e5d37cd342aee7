"""Cases imported from a legacy system: which case rows came from a history file."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class ImportedCase(models.Model):
    """Marks a closed, read-only case row written by `import_history` (never a live case: it
    has no process and no tasks, so no task list shows it)."""

    case = models.OneToOneField(
        "workflows.Case",
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("case"),
    )
    external_id = models.CharField(_("external id"), max_length=80, null=True, blank=True)
    source_file = models.CharField(_("file"), max_length=255)
    where = models.CharField(_("line"), max_length=40)  # "line 5" (CSV), "row 5" (XLSX)
    has_category = models.BooleanField(
        _("category given"),
        default=True,
        help_text=_("Off: the file gave no category; the case carries the placeholder one."),
    )
    imported_at = models.DateTimeField(_("imported"), auto_now_add=True)

    class Meta:
        verbose_name = _("imported case")
        verbose_name_plural = _("imported cases")
        constraints = [
            models.UniqueConstraint(
                fields=["external_id"],
                name="imported_case_external_id",
                condition=models.Q(external_id__isnull=False),
            )
        ]

    def __str__(self) -> str:
        return f"{self.case_id} ← {self.source_file}, {self.where}"
