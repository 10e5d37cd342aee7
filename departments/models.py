"""Organisation: units, roles (posts), staff memberships, grid cells, working calendars."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class UnitKind(models.TextChoices):
    CITY = "city", _("City")
    DISTRICT = "district", _("District")
    STREET = "street", _("Street (sub-district)")
    COMMUNITY = "community", _("Community")
    CENTRE = "centre", _("Command centre")
    HOTLINE = "hotline", _("12345 hotline centre")
    HANDLING = "handling", _("Handling unit")


AREA_KINDS = (UnitKind.CITY, UnitKind.DISTRICT, UnitKind.STREET, UnitKind.COMMUNITY)


class Role(models.TextChoices):
    INSPECTOR = "inspector", _("Inspector")
    INTAKE = "intake", _("Intake clerk")
    SHIFT_LEADER = "shift_leader", _("Shift leader")
    DISPATCHER = "dispatcher", _("Dispatcher")
    HANDLER = "handler", _("Handler")
    UNIT_HEAD = "unit_head", _("Unit head")
    SUPERVISOR = "supervisor", _("Supervisor")
    ADMIN = "admin", _("Administrator")
    HOTLINE_AGENT = "hotline_agent", _("Hotline agent (话务员)")


class Unit(models.Model):
    """A node of the organisation tree: an area (city … community) or a working unit."""

    code = models.CharField(_("code"), max_length=40, unique=True)
    name = models.CharField(_("name"), max_length=120)
    kind = models.CharField(_("kind"), max_length=20, choices=UnitKind.choices)
    parent = models.ForeignKey(
        "self",
        verbose_name=_("parent"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="children",
    )
    category_scheme = models.ForeignKey(
        "workflows.CategoryScheme",
        verbose_name=_("active category scheme"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text=_("Cities only: the code scheme whose categories are reported against."),
    )
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("unit")
        verbose_name_plural = _("units")
        ordering = ["code"]
        indexes = [models.Index(fields=["parent", "kind"])]
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(parent=models.F("id")), name="unit_not_own_parent"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.code})"

    @property
    def is_area(self) -> bool:
        return self.kind in AREA_KINDS


class Membership(models.Model):
    """A post held by a user in a unit; `include_subunits` extends it down the tree."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("user"),
        on_delete=models.CASCADE,
        related_name="memberships",
    )
    unit = models.ForeignKey(
        Unit, verbose_name=_("unit"), on_delete=models.CASCADE, related_name="memberships"
    )
    role = models.CharField(_("role"), max_length=20, choices=Role.choices)
    include_subunits = models.BooleanField(_("includes sub-units"), default=False)

    class Meta:
        verbose_name = _("staff membership")
        verbose_name_plural = _("staff memberships")
        constraints = [
            models.UniqueConstraint(fields=["user", "unit", "role"], name="membership_unique"),
        ]
        indexes = [models.Index(fields=["unit", "role"])]

    def __str__(self) -> str:
        return f"{self.user} · {self.get_role_display()} · {self.unit.code}"


class GridCell(models.Model):
    """A unit grid cell (单元网格): the smallest area a case is located in."""

    code = models.CharField(_("code"), max_length=40, unique=True)
    name = models.CharField(_("name"), max_length=120)
    area = models.ForeignKey(
        Unit,
        verbose_name=_("area"),
        on_delete=models.PROTECT,
        related_name="grid_cells",
        limit_choices_to={"kind__in": [UnitKind.COMMUNITY, UnitKind.STREET]},
    )
    polygon = models.JSONField(
        _("polygon"),
        null=True,
        blank=True,
        help_text=_("Outer ring as a list of [lng, lat] pairs (WGS-84)."),
    )
    centre_lat = models.FloatField(_("centre latitude"), null=True, blank=True)
    centre_lng = models.FloatField(_("centre longitude"), null=True, blank=True)
    # Bounding box of the polygon, derived on save: lets a point lookup use an index.
    min_lat = models.FloatField(null=True, blank=True, editable=False)
    max_lat = models.FloatField(null=True, blank=True, editable=False)
    min_lng = models.FloatField(null=True, blank=True, editable=False)
    max_lng = models.FloatField(null=True, blank=True, editable=False)

    class Meta:
        verbose_name = _("grid cell")
        verbose_name_plural = _("grid cells")
        ordering = ["code"]
        indexes = [models.Index(fields=["min_lat", "max_lat", "min_lng", "max_lng"])]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"

    def save(self, *args, **kwargs) -> None:
        # Derived columns only (no side effects): keep the bounding box in step with the polygon.
        self.derive_bounds()
        if kwargs.get("update_fields") is not None and "polygon" in kwargs["update_fields"]:
            kwargs["update_fields"] = {
                *kwargs["update_fields"],
                "min_lat",
                "max_lat",
                "min_lng",
                "max_lng",
            }
        super().save(*args, **kwargs)

    def derive_bounds(self) -> None:
        """Set the bounding box from the polygon (save does; bulk writes call it first)."""
        ring = self.polygon or []
        lats = [float(p[1]) for p in ring]
        lngs = [float(p[0]) for p in ring]
        self.min_lat, self.max_lat = (min(lats), max(lats)) if lats else (None, None)
        self.min_lng, self.max_lng = (min(lngs), max(lngs)) if lngs else (None, None)


class Weekday(models.IntegerChoices):
    MONDAY = 0, _("Monday")
    TUESDAY = 1, _("Tuesday")
    WEDNESDAY = 2, _("Wednesday")
    THURSDAY = 3, _("Thursday")
    FRIDAY = 4, _("Friday")
    SATURDAY = 5, _("Saturday")
    SUNDAY = 6, _("Sunday")


class WorkCalendar(models.Model):
    """The working calendar of a city; a district may have its own to override it."""

    unit = models.OneToOneField(
        Unit,
        verbose_name=_("area"),
        on_delete=models.CASCADE,
        related_name="calendar",
        limit_choices_to={"kind__in": [UnitKind.CITY, UnitKind.DISTRICT]},
    )
    name = models.CharField(_("name"), max_length=120)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("working calendar")
        verbose_name_plural = _("working calendars")

    def __str__(self) -> str:
        return self.name


class WorkingPeriod(models.Model):
    """Working hours on a weekday; make-up working days use Monday's periods."""

    calendar = models.ForeignKey(WorkCalendar, on_delete=models.CASCADE, related_name="periods")
    weekday = models.PositiveSmallIntegerField(_("weekday"), choices=Weekday.choices)
    start = models.TimeField(_("start"))
    end = models.TimeField(_("end"))

    class Meta:
        verbose_name = _("working period")
        verbose_name_plural = _("working hours")
        ordering = ["weekday", "start"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(start__lt=models.F("end")), name="period_start_before_end"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_weekday_display()} {self.start:%H:%M}–{self.end:%H:%M}"


class DayKind(models.TextChoices):
    HOLIDAY = "holiday", _("Public holiday (day off)")
    WORKDAY = "workday", _("Make-up working day (调休)")


# Holiday names as the calendar packages give them (the stored name), shown in the reader's
# language; a name an administrator typed is shown as typed.
HOLIDAY_NAMES = {
    "New Year's Day": _("New Year's Day"),
    "Spring Festival Eve": _("Spring Festival Eve"),
    "Spring Festival": _("Spring Festival"),
    "Tomb-sweeping Day": _("Tomb-sweeping Day"),
    "Labour Day": _("Labour Day"),
    "Dragon Boat Festival": _("Dragon Boat Festival"),
    "Mid-autumn Festival": _("Mid-autumn Festival"),
    "National Day": _("National Day"),
    "Anti-Fascist 70th Day": _("Victory Day (70th anniversary)"),
}


class CalendarDay(models.Model):
    """A date that departs from the weekly pattern: a holiday, or a make-up working day."""

    calendar = models.ForeignKey(WorkCalendar, on_delete=models.CASCADE, related_name="days")
    date = models.DateField(_("date"))
    kind = models.CharField(_("kind"), max_length=10, choices=DayKind.choices)
    name = models.CharField(_("name"), max_length=80, blank=True)

    class Meta:
        verbose_name = _("holiday or make-up day")
        verbose_name_plural = _("holidays and make-up days")
        ordering = ["date"]
        constraints = [
            models.UniqueConstraint(fields=["calendar", "date"], name="calendar_day_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.date} {self.get_kind_display()} {self.display_name}".strip()

    @property
    def display_name(self) -> str:
        return str(HOLIDAY_NAMES.get(self.name, self.name))


class CalendarYear(models.Model):
    """Where a calendar year's days came from, and whether an admin has confirmed them."""

    calendar = models.ForeignKey(WorkCalendar, on_delete=models.CASCADE, related_name="years")
    year = models.PositiveSmallIntegerField(_("year"))
    source = models.CharField(_("source"), max_length=40)
    provisional = models.BooleanField(
        _("provisional"),
        default=False,
        help_text=_(
            "Projected holidays without make-up days: check against the State "
            "Council's published schedule, edit, then confirm."
        ),
    )
    confirmed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("confirmed by"),
    )
    confirmed_at = models.DateTimeField(_("confirmed at"), null=True, blank=True)

    class Meta:
        verbose_name = _("calendar year")
        verbose_name_plural = _("calendar years")
        ordering = ["year"]
        constraints = [
            models.UniqueConstraint(fields=["calendar", "year"], name="calendar_year_unique"),
        ]

    def __str__(self) -> str:
        state = _("provisional") if self.provisional else _("confirmed")
        return f"{self.calendar} {self.year} ({state})"


class ReferenceGeneration(models.Model):
    """One row whose value changes whenever reference data (units, calendars, escalation
    rules) changes, so that processes holding a copy read it again (departments.reference)."""

    value = models.BigIntegerField(_("value"))

    class Meta:
        verbose_name = _("reference data generation")
        verbose_name_plural = _("reference data generations")

    def __str__(self) -> str:
        return str(self.value)
