from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class WorkflowsConfig(AppConfig):
    name = "workflows"
    verbose_name = _("Case handling")

    def ready(self) -> None:
        from django.db.models.signals import post_delete, post_save

        from cityops.labels import label_models
        from departments.reference import reference_changed
        from departments.signals import calendar_changed

        from .flows import case_flow, hotline, review_flow  # noqa: F401  they register themselves
        from .models import Category, RoutingRule, ThresholdRule

        calendar_changed.connect(_recompute_deadlines, dispatch_uid="cityops-deadlines")
        # Escalation and routing rules (with the categories they name) are part of the
        # processes' reference snapshot.
        for model in (ThresholdRule, RoutingRule, Category):
            for signal in (post_save, post_delete):
                signal.connect(reference_changed, sender=model, dispatch_uid=f"ref-{model}")
        label_models(self.get_models())  # translatable labels for the admin


def _recompute_deadlines(sender, calendar, **kwargs) -> None:
    from .sla.deadlines import deadlines_recompute

    deadlines_recompute(calendar=calendar)
