"""Integrating systems: API keys with scopes (a key acts as its own service user)."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class Scope(models.TextChoices):
    CASES_REPORT = "cases:report", _("Report cases")
    CASES_READ = "cases:read", _("Read cases and categories")
    TASKS_ACT = "tasks:act", _("Act on tasks (as the key's unit and role)")
    WEBHOOKS_MANAGE = "webhooks:manage", _("Manage webhooks")


class ApiKey(models.Model):
    """A key for another system (12345 platform, citizen app, sensors …); shown once, stored
    as a SHA-256 hash. Requests with it act as `user`, a service account whose memberships
    give the unit and role for `tasks:act`."""

    name = models.CharField(_("system"), max_length=120)
    prefix = models.CharField(_("prefix"), max_length=12, unique=True)
    key_hash = models.CharField(max_length=64)
    scopes = models.JSONField(_("scopes"), default=list)
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="api_key",
        verbose_name=_("acts as"),
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    last_used_at = models.DateTimeField(_("last used"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("revoked"), null=True, blank=True)

    class Meta:
        verbose_name = _("API key")
        verbose_name_plural = _("API keys")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None

    def allows(self, scope: str) -> bool:
        return scope in self.scopes
