"""SLA records: escalation rules, supervision orders (督办), notifications and the outbox."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class ThresholdRule(models.Model):
    """Escalation levels for tasks of a category and/or area (most specific rule wins).

    `levels` is a list of {"percent": 50, "action": "remind"} entries in rising order; the
    actions are remind (assignee, or the unit's queue), warn (assignee + unit head), overdue
    (unit head + supervisor + a supervision order) and leadership (city leadership notice).
    A level may instead say {"after_due": [1, "working_days"], "action": "leadership"}.
    """

    category = models.ForeignKey(
        "workflows.Category", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    area = models.ForeignKey(
        "departments.Unit", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    levels = models.JSONField(_("levels"))
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("escalation rule")
        verbose_name_plural = _("escalation rules")

    def __str__(self) -> str:
        return f"{self.category or '*'} · {self.area or '*'}: {self.levels}"


class OrderStatus(models.TextChoices):
    OPEN = "open", _("Awaiting reply")
    REPLIED = "replied", _("Replied")


class SupervisionOrder(models.Model):
    """A supervision order (督办): the unit head must reply by the deadline."""

    case = models.ForeignKey(
        "workflows.Case", on_delete=models.CASCADE, related_name="supervision_orders"
    )
    task = models.ForeignKey(
        "workflows.CaseTask", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    unit = models.ForeignKey(
        "departments.Unit",
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("unit to reply"),
    )
    issued_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text=_("Empty when the system issued it on a breach."),
    )
    reason = models.TextField(_("reason"))
    reply_due_at = models.DateTimeField(_("reply due"))
    status = models.CharField(
        _("status"), max_length=10, choices=OrderStatus.choices, default=OrderStatus.OPEN
    )
    reply = models.TextField(_("reply"), blank=True)
    replied_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    replied_at = models.DateTimeField(_("replied"), null=True, blank=True)
    created_at = models.DateTimeField(_("issued"))

    class Meta:
        verbose_name = _("supervision order")
        verbose_name_plural = _("supervision orders")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["unit", "status", "reply_due_at"], name="order_unit_status"),
            models.Index(fields=["case", "status"], name="order_case"),
        ]

    def __str__(self) -> str:
        return f"督办 {self.case_id} → {self.unit_id} ({self.status})"


class Notification(models.Model):
    """An in-app notification (the bell); email copies go through the outbox."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="cityops_notifications"
    )
    kind = models.CharField(_("kind"), max_length=30)
    title = models.CharField(_("title"), max_length=200)
    body = models.TextField(_("text"), blank=True)
    case = models.ForeignKey(
        "workflows.Case", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    created_at = models.DateTimeField(_("time"))
    read_at = models.DateTimeField(_("read"), null=True, blank=True)

    class Meta:
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["user", "created_at", "id"], name="notification_user"),
            models.Index(
                fields=["user"],
                condition=models.Q(read_at__isnull=True),
                name="notification_unread",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user_id}: {self.title}"


class OutboxMessage(models.Model):
    """A side effect (email, webhook) written in the state change's transaction and delivered
    afterwards by a worker, with retries: nothing is lost between commit and delivery."""

    channel = models.CharField(_("channel"), max_length=20)  # "email" | "webhook" …
    payload = models.JSONField(_("payload"))
    created_at = models.DateTimeField(_("created"))
    available_at = models.DateTimeField(_("next attempt"))
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    delivered_at = models.DateTimeField(_("delivered"), null=True, blank=True)
    failed_at = models.DateTimeField(_("given up"), null=True, blank=True)
    last_error = models.TextField(_("last error"), blank=True)
    # Who receives it, for per-receiver limits ("webhook:<subscription id>"; empty: the
    # channel), and the lease of the worker delivering it (a crashed worker's rows are taken
    # again once it expires).
    target = models.CharField(_("target"), max_length=40, blank=True, default="")
    claimed_until = models.DateTimeField(_("claimed until"), null=True, blank=True)

    class Meta:
        verbose_name = _("outbox message")
        verbose_name_plural = _("outbox")
        indexes = [
            models.Index(
                fields=["available_at", "id"],
                name="outbox_pending",
                condition=models.Q(delivered_at__isnull=True, failed_at__isnull=True),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.channel} #{self.pk}"


class PauseReason(models.TextChoices):
    PARKED = "parked", _("Parked (挂账)")
    EXTENSION = "extension", _("Extension request awaiting a decision")
    WAITING_INFO = "waiting_info", _("Waiting for information from the reporter")


class PauseInterval(models.Model):
    """A stretch of time a task's clock stood still; its due time moved by exactly this."""

    case = models.ForeignKey("workflows.Case", on_delete=models.CASCADE, related_name="pauses")
    task = models.ForeignKey("workflows.CaseTask", on_delete=models.CASCADE, related_name="pauses")
    reason = models.CharField(_("reason"), max_length=20, choices=PauseReason.choices)
    started_at = models.DateTimeField(_("from"))
    ended_at = models.DateTimeField(_("until"), null=True, blank=True)
    paused_minutes = models.PositiveIntegerField(
        _("paused minutes"),
        null=True,
        blank=True,
        help_text=_("In the limit's terms: working minutes for working-time limits."),
    )

    class Meta:
        verbose_name = _("pause")
        verbose_name_plural = _("pauses")
        ordering = ["started_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["task"],
                condition=models.Q(ended_at__isnull=True),
                name="one_open_pause_per_task",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.task_id} {self.reason} {self.started_at:%Y-%m-%d %H:%M}"


class RequestKind(models.TextChoices):
    EXTENSION = "extension", _("Extension (延期)")
    PARKING = "parking", _("Parking (挂账)")


class RequestStatus(models.TextChoices):
    PENDING = "pending", _("Awaiting decision")
    APPROVED = "approved", _("Approved")
    REJECTED = "rejected", _("Rejected")
    RESUMED = "resumed", _("Resumed")
    WITHDRAWN = "withdrawn", _("Withdrawn")
    CANCELLED = "cancelled", _("Cancelled with the case")


class CaseRequest(models.Model):
    """A handler's request about their task (more time, or parking), decided by a reviewer
    through a review task in the reviewer's lists."""

    case = models.ForeignKey("workflows.Case", on_delete=models.CASCADE, related_name="requests")
    task = models.ForeignKey(
        "workflows.CaseTask",
        on_delete=models.CASCADE,
        related_name="requests",
        help_text=_("The task concerned."),
    )
    kind = models.CharField(_("kind"), max_length=10, choices=RequestKind.choices)
    status = models.CharField(
        _("status"), max_length=10, choices=RequestStatus.choices, default=RequestStatus.PENDING
    )
    amount = models.PositiveIntegerField(_("amount"), null=True, blank=True)
    amount_unit = models.CharField(_("unit"), max_length=20, blank=True)
    reason = models.TextField(_("reason"))
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(_("requested"))

    class Meta:
        verbose_name = _("request")
        verbose_name_plural = _("requests")
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["case", "kind", "status"], name="request_case")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.case_id} ({self.status})"
