"""The task-list read side: one indexed row per human viewflow task."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from departments.models import Role

from .cases import Stage


class TaskStatus(models.TextChoices):
    OPEN = "open", _("Open")
    CLAIMED = "claimed", _("Claimed")
    DONE = "done", _("Done")
    CANCELLED = "cancelled", _("Cancelled")


class CaseTask(models.Model):
    """A role-owned task of a case, in a unit; shares its primary key with the viewflow task.

    Viewflow's own queue query cannot use an index; task lists read these real columns instead.
    """

    task = models.OneToOneField(
        "viewflow.Task", primary_key=True, on_delete=models.CASCADE, related_name="case_task"
    )
    case = models.ForeignKey(
        "workflows.Case",
        on_delete=models.CASCADE,
        related_name="tasks",
        db_index=False,  # led by casetask_case
    )
    stage = models.CharField(_("stage"), max_length=20, choices=Stage.choices)
    role = models.CharField(_("role"), max_length=20, choices=Role.choices)
    unit = models.ForeignKey(
        "departments.Unit",
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("unit"),
        db_index=False,  # led by casetask_unit_role_case
    )
    status = models.CharField(
        _("status"), max_length=10, choices=TaskStatus.choices, default=TaskStatus.OPEN
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    outcome = models.CharField(_("outcome"), max_length=20, blank=True)
    payload = models.JSONField(_("details"), default=dict, blank=True)
    created_at = models.DateTimeField(_("created"))
    claimed_at = models.DateTimeField(_("claimed"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)
    due_at = models.DateTimeField(_("due"), null=True, blank=True)
    # SLA: the limit the due time came from, on which calendar, and the escalation state.
    limit_value = models.PositiveIntegerField(_("time limit"), null=True, blank=True)
    limit_unit = models.CharField(_("limit unit"), max_length=20, blank=True)
    calendar = models.ForeignKey(
        "departments.WorkCalendar",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    paused_since = models.DateTimeField(_("paused since"), null=True, blank=True)
    paused_minutes = models.PositiveIntegerField(
        _("paused minutes"), default=0, help_text=_("Finished pauses, in the limit's terms.")
    )
    thresholds_fired = models.PositiveSmallIntegerField(_("escalation levels fired"), default=0)
    next_threshold_at = models.DateTimeField(_("next escalation"), null=True, blank=True)

    class Meta:
        verbose_name = _("task")
        verbose_name_plural = _("tasks")
        indexes = [
            # Queue: open tasks of a (unit, role), oldest first, keyset on (created_at, task).
            models.Index(
                fields=["unit", "role", "created_at", "task"],
                condition=models.Q(status="open"),
                name="casetask_queue",
            ),
            # Inbox: tasks claimed by a user.
            models.Index(
                fields=["owner", "created_at", "task"],
                condition=models.Q(status="claimed"),
                name="casetask_inbox",
            ),
            # Done: tasks a user completed, newest first.
            models.Index(
                fields=["owner", "finished_at", "task"],
                condition=models.Q(status="done"),
                name="casetask_done",
            ),
            models.Index(fields=["case", "status"], name="casetask_case"),
            # Case visibility: the cases of the tasks of a user's (unit, role) pairs, read from
            # the index alone (workflows.access.case_search_visibility_q).
            models.Index(fields=["unit", "role", "case"], name="casetask_unit_role_case"),
            # The "clock stopped" search: the few paused open handling tasks, by case.
            models.Index(
                fields=["case"],
                name="casetask_paused",
                condition=models.Q(
                    stage="handling",
                    status__in=["open", "claimed"],
                    paused_since__isnull=False,
                ),
            ),
            # The SLA sweep: open tasks whose next escalation is due, earliest first.
            models.Index(
                fields=["next_threshold_at", "task"],
                name="casetask_sweep",
                condition=models.Q(status__in=["open", "claimed"], next_threshold_at__isnull=False),
            ),
            # Breach lists and the board: open tasks by due time.
            models.Index(
                fields=["due_at", "task"],
                name="casetask_due",
                condition=models.Q(status__in=["open", "claimed"]),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.case_id}/{self.stage}#{self.pk}"

    @property
    def id(self) -> int:
        return self.task_id

    @property
    def is_open(self) -> bool:
        return self.status in (TaskStatus.OPEN, TaskStatus.CLAIMED)
