from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class OperationsConfig(AppConfig):
    name = "operations"
    verbose_name = _("Operations")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from cityops.labels import label_models
        from cityops.periodic import job_finished

        from .runs import record_run

        job_finished.connect(record_run, dispatch_uid="operations.record_run")
        label_models(self.get_models())  # translatable labels for the admin
