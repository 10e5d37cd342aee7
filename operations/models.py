from django.db import models
from django.utils.translation import gettext_lazy as _


class PeriodicRun(models.Model):
    """The last run of one periodic job (cityops.periodic), one row per job name."""

    name = models.CharField(_("job"), max_length=60, primary_key=True)
    started_at = models.DateTimeField(_("last started"))
    finished_at = models.DateTimeField(_("last finished"))
    ok = models.BooleanField(_("succeeded"))
    error = models.TextField(_("error"), blank=True)
    last_ok_at = models.DateTimeField(_("last success"), null=True, blank=True)

    class Meta:
        verbose_name = _("periodic run")
        verbose_name_plural = _("periodic runs")

    def __str__(self) -> str:
        return self.name
