from django.apps import AppConfig
from django.db.models.signals import post_delete, post_save
from django.utils.translation import gettext_lazy as _


class DepartmentsConfig(AppConfig):
    name = "departments"
    verbose_name = _("Organisation")

    def ready(self) -> None:
        from cityops.labels import label_models

        from . import checks  # noqa: F401  (registers the provisional-calendar check)
        from .models import CalendarDay, GridCell, Unit, WorkCalendar, WorkingPeriod
        from .reference import reference_changed

        # Processes hold a snapshot of these (departments.reference): a change moves its
        # generation. Bulk writes call reference_changed themselves.
        for model in (Unit, GridCell, WorkCalendar, WorkingPeriod, CalendarDay):
            for signal in (post_save, post_delete):
                signal.connect(reference_changed, sender=model, dispatch_uid=f"ref-{model}")
        label_models(self.get_models())  # translatable labels for the admin
