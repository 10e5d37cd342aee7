"""The indicator center's tables: the registry (口径) with its versions, the facts maintained from
the case events and task rows, the catch-up position, per-city composite weights, saved views."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class Direction(models.TextChoices):
    UP = "up", _("Higher is better")
    DOWN = "down", _("Lower is better")


class MeasureUnit(models.TextChoices):
    COUNT = "count", _("count")
    PERCENT = "percent", _("%")
    HOURS = "hours", _("hours")
    POINTS = "points", _("points")


class Indicator(models.Model):
    """One indicator's current definition. `formula` is data (see indicators.registry):
    {"numerator": [terms], "denominator": [terms] | absent, "scale": 100}, each term
    {"count": <base count>, "weight": 1, "filters": {"source": …, "urgency": …, "kind": …}}."""

    code = models.CharField(_("code"), max_length=40, unique=True)
    name_zh = models.CharField(_("name (Chinese)"), max_length=80)
    name_en = models.CharField(_("name (English)"), max_length=120)
    definition_zh = models.TextField(_("definition (Chinese)"))
    definition_en = models.TextField(_("definition (English)"))
    formula = models.JSONField(_("formula"))
    unit = models.CharField(_("unit"), max_length=10, choices=MeasureUnit.choices)
    direction = models.CharField(_("direction"), max_length=4, choices=Direction.choices)
    owner = models.CharField(_("owner"), max_length=80, blank=True)
    version = models.PositiveIntegerField(_("version"), default=1)
    builtin = models.BooleanField(_("built in"), default=False)
    position = models.PositiveIntegerField(_("position"), default=1000)
    is_active = models.BooleanField(_("active"), default=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("indicator")
        verbose_name_plural = _("indicators")
        ordering = ["position", "code"]

    def __str__(self) -> str:
        return f"{self.code} v{self.version}"


class IndicatorVersion(models.Model):
    """A definition as it was: every change of definition is a new version, kept forever."""

    indicator = models.ForeignKey(Indicator, on_delete=models.CASCADE, related_name="versions")
    version = models.PositiveIntegerField(_("version"))
    definition = models.JSONField(_("definition"))
    note = models.TextField(_("change note"), blank=True)
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(_("time"))

    class Meta:
        verbose_name = _("indicator version")
        verbose_name_plural = _("indicator versions")
        ordering = ["indicator", "-version"]
        constraints = [
            models.UniqueConstraint(fields=["indicator", "version"], name="indicator_version_once")
        ]

    def __str__(self) -> str:
        return f"{self.indicator_id} v{self.version}"


# The rollup's grains: which evaluation dimensions a grain keeps (the others are 0 there).
ROLLUP_GRAINS = {
    "unit": ("unit_id",),
    "area": ("unit_id", "city_id", "district_id", "street_id", "community_id", "grid_id"),
}
ROLLUP_DIMS = ROLLUP_GRAINS["area"]
# What identifies a rollup row (FactRollup.KEY, its unique constraint and the upserts).
ROLLUP_KEY = ("grain", "span", "day", "kind", "stage", "on_time", "flag", *ROLLUP_DIMS)
# The assignments' state counts as day-indexed steps (selectors.rollup sums them up to a day):
# due for handling from its dispatch day to its end day; overdue from the later of the
# dispatch day and the due day to the day before the end's (exclusive) day.
STATE_KINDS = ("@due+", "@due-", "@over+", "@over-")
# The facts the rollup leaves out (counted from the facts): parked ones (whether they count
# depends on the period's end) and assignments that end before they start (no day interval).
ROLLUP_EXCLUDED_Q = models.Q(parked_at__isnull=False) | models.Q(
    kind="assignment", end_at__lt=models.F("at")
)


class Fact(models.Model):
    """One countable occurrence of a case, with its evaluation dimensions denormalised.

    Derived from a case's task rows and case row only (indicators.facts.case_facts); replaced
    per case whenever an event of that case arrives. kind: reported, valid, filed, dispatched,
    assignment (one per dispatch to a unit), handled, closed, rework, extension, parked, task;
    the 12345 hotline's (indicators.hotline_facts): hl_sign, hl_return, hl_due, hl_reply,
    hl_rehandle, callback, hl_unreached, hl_rating, hl_repeat.
    """

    case = models.ForeignKey("workflows.Case", on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=12)
    at = models.DateTimeField()
    day = models.DateField()  # `at` in the city's time zone
    unit_id = models.IntegerField(null=True)  # the handling (or task) unit
    city_id = models.IntegerField(null=True)
    district_id = models.IntegerField(null=True)
    street_id = models.IntegerField(null=True)
    community_id = models.IntegerField(null=True)
    grid_id = models.IntegerField(null=True)
    category_id = models.IntegerField(null=True)
    major_code = models.CharField(max_length=8, blank=True)
    category_kind = models.CharField(max_length=12, blank=True)
    source = models.CharField(max_length=20, blank=True)
    urgency = models.CharField(max_length=10, blank=True)
    request_type = models.CharField(max_length=20, blank=True)  # a hotline order's (诉求类型)
    actor_id = models.IntegerField(null=True)
    role = models.CharField(max_length=20, blank=True)
    stage = models.CharField(max_length=20, blank=True)
    on_time = models.BooleanField(null=True)
    flag = models.BooleanField(null=True)  # dispatched: accurate (not returned as mis-dispatched)
    due_at = models.DateTimeField(null=True)
    end_at = models.DateTimeField(null=True)
    parked_at = models.DateTimeField(null=True)
    resumed_at = models.DateTimeField(null=True)
    value = models.FloatField(null=True)  # extension hours; handled: working minutes
    wait_minutes = models.FloatField(null=True)
    work_minutes = models.FloatField(null=True)

    class Meta:
        verbose_name = _("indicator fact")
        verbose_name_plural = _("indicator facts")
        indexes = [
            models.Index(fields=["kind", "day"], name="fact_kind_day"),
            models.Index(fields=["case", "kind"], name="fact_case"),
            models.Index(
                fields=["due_at"],
                name="fact_open_assignment",
                condition=models.Q(kind="assignment"),
            ),
            # Dispatches active in a period: those ended after its start (or not ended).
            models.Index(
                fields=["end_at"],
                name="fact_assignment_end",
                condition=models.Q(kind="assignment"),
            ),
            models.Index(fields=["day"], name="fact_rollup_excluded", condition=ROLLUP_EXCLUDED_Q),
        ]

    def __str__(self) -> str:
        return f"{self.case_id} {self.kind} {self.day}"


class FactRollup(models.Model):
    """Base counts of the facts per day and per month (span "d" / "m", `day` the month's
    first day): n facts and the sum of their values in hundredths, per kind, stage, on_time,
    flag and the dimensions of a grain; assignments as the steps of STATE_KINDS.

    Kept equal to the facts by indicators.rollup in the same transaction as they change;
    parked facts and assignments that end before they start are not in it (the reads count
    them from the facts). No NULLs, so that one unique key identifies a row: 0 is "none"
    for ids and for a dimension the grain does not keep; on_time / flag 1, 0, -1 (unknown)."""

    grain = models.CharField(_("grain"), max_length=8)
    span = models.CharField(_("span"), max_length=1)
    day = models.DateField()
    kind = models.CharField(max_length=12)
    stage = models.CharField(max_length=20)
    on_time = models.SmallIntegerField()
    flag = models.SmallIntegerField()
    unit_id = models.IntegerField()
    city_id = models.IntegerField()
    district_id = models.IntegerField()
    street_id = models.IntegerField()
    community_id = models.IntegerField()
    grid_id = models.IntegerField()
    n = models.BigIntegerField(_("facts counted"))
    s = models.BigIntegerField(_("sum of values × 100"))  # values carry two decimals

    KEY = ROLLUP_KEY

    class Meta:
        verbose_name = _("indicator rollup row")
        verbose_name_plural = _("indicator rollup rows")
        constraints = [models.UniqueConstraint(fields=list(ROLLUP_KEY), name="fact_rollup_key")]
        indexes = [
            models.Index(fields=["grain", "span", "kind", "day"], name="fact_rollup_read"),
            models.Index(fields=["id"], name="fact_rollup_empty", condition=models.Q(n=0)),
        ]

    def __str__(self) -> str:
        return f"{self.grain} {self.span} {self.day} {self.kind}"


class FactCursor(models.Model):
    """How far the catch-up job has read the case events (the last event id applied)."""

    name = models.CharField(max_length=40, primary_key=True)
    last_event_id = models.BigIntegerField(default=0)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"{self.name}: {self.last_event_id}"


class CompositeWeights(models.Model):
    """The composite score's terms for a city (the preset of kpi.md when absent): a list of
    {"indicator": code, "weight": points, "invert": bool}."""

    city = models.OneToOneField("departments.Unit", on_delete=models.CASCADE, related_name="+")
    terms = models.JSONField(_("terms"))

    class Meta:
        verbose_name = _("composite score weights")
        verbose_name_plural = _("composite score weights")

    def __str__(self) -> str:
        return f"{self.city_id}"


class SavedView(models.Model):
    """A self-service analysis saved under a name, shareable with a unit or a role."""

    name = models.CharField(_("name"), max_length=120)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    spec = models.JSONField(_("analysis"))
    shared_unit = models.ForeignKey(
        "departments.Unit",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("shared with unit"),
    )
    shared_role = models.CharField(_("shared with role"), max_length=20, blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("saved analysis")
        verbose_name_plural = _("saved analyses")
        ordering = ["name", "id"]

    def __str__(self) -> str:
        return self.name


class ViewComment(models.Model):
    view = models.ForeignKey(SavedView, on_delete=models.CASCADE, related_name="comments")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    text = models.TextField(_("comment"))
    created_at = models.DateTimeField(_("time"), auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"{self.view_id}: {self.text[:30]}"
