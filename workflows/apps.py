from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class WorkflowsConfig(AppConfig):
    name = "workflows"
    verbose_name = _("Case handling")

    def ready(self) -> None:
        from django.db.models.signals import post_delete, post_save

        from departments.reference import reference_changed
        from departments.signals import calendar_changed

        from .models import ThresholdRule

        calendar_changed.connect(_recompute_deadlines, dispatch_uid="cityops-deadlines")
        # Escalation rules are part of the processes' reference snapshot.
        for signal in (post_save, post_delete):
            signal.connect(reference_changed, sender=ThresholdRule, dispatch_uid="ref-rules")


def _recompute_deadlines(sender, calendar, **kwargs) -> None:
    from .sla.deadlines import deadlines_recompute

    deadlines_recompute(calendar=calendar)
