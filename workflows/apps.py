from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class WorkflowsConfig(AppConfig):
    name = "workflows"
    verbose_name = _("Case handling")

    def ready(self) -> None:
        from departments.signals import calendar_changed

        calendar_changed.connect(_recompute_deadlines, dispatch_uid="cityops-deadlines")


def _recompute_deadlines(sender, calendar, **kwargs) -> None:
    from .sla.deadlines import deadlines_recompute

    deadlines_recompute(calendar=calendar)
