from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class IntelligenceConfig(AppConfig):
    name = "intelligence"
    verbose_name = _("Intelligence")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from cityops.labels import label_models

        label_models(self.get_models())  # translatable labels for the admin
