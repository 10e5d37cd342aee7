from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


def _sync_registry(sender, **kwargs) -> None:
    from .services import registry_sync

    registry_sync()


class IndicatorsConfig(AppConfig):
    name = "indicators"
    verbose_name = _("Indicators")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from cityops.labels import label_models

        label_models(self.get_models())  # translatable labels for the admin
        # The built-in definitions (kpi.md) are data: synced after every migrate (idempotent).
        post_migrate.connect(_sync_registry, sender=self)
