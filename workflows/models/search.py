"""Saved case searches: a user's named filter of the case list ("my unit's overdue cases")."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class SavedCaseFilter(models.Model):
    """The query string of a case search (the filters only), under a name the user chose."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="saved_case_filters"
    )
    name = models.CharField(_("name"), max_length=80)
    query = models.CharField(_("filters"), max_length=1000)
    created_at = models.DateTimeField(_("saved"), auto_now_add=True)

    class Meta:
        verbose_name = _("saved case search")
        verbose_name_plural = _("saved case searches")
        ordering = ["name", "id"]
        constraints = [
            models.UniqueConstraint(fields=["user", "name"], name="saved_case_filter_name"),
        ]

    def __str__(self) -> str:
        return self.name
