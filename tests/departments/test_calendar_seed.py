import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from django.contrib.auth import get_user_model
from django.core import checks

from departments import services
from departments.calendars import add_working_time
from departments.models import CalendarDay, CalendarYear, DayKind, Unit, UnitKind
from departments.selectors import working_calendar_for_unit

pytestmark = pytest.mark.django_db
SH = ZoneInfo("Asia/Shanghai")


@pytest.fixture
def city():
    return Unit.objects.create(code="C", name="City", kind=UnitKind.CITY)


@pytest.fixture
def calendar(city):
    calendar = services.calendar_create(unit=city, name="City calendar")
    services.calendar_seed(calendar=calendar, years=[2026, 2027])
    return calendar


def test_2026_comes_from_chinese_calendar_with_make_up_days(calendar):
    days = dict(calendar.days.filter(date__year=2026).values_list("date", "kind"))
    for d in [
        *(dt.date(2026, 9, n) for n in (25, 26, 27)),
        *(dt.date(2026, 10, n) for n in range(1, 8)),
    ]:
        assert days[d] == DayKind.HOLIDAY
    assert days[dt.date(2026, 9, 20)] == DayKind.WORKDAY
    assert days[dt.date(2026, 10, 10)] == DayKind.WORKDAY
    assert not CalendarYear.objects.get(calendar=calendar, year=2026).provisional


def test_2027_is_provisional_and_projected_without_make_up_days(calendar):
    year = CalendarYear.objects.get(calendar=calendar, year=2027)
    assert year.provisional
    assert calendar.days.filter(date__year=2027, kind=DayKind.HOLIDAY).exists()
    assert not calendar.days.filter(date__year=2027, kind=DayKind.WORKDAY).exists()


def test_check_warns_until_the_year_is_confirmed(calendar):
    warnings = [m for m in checks.run_checks() if m.id == "departments.W001"]
    assert len(warnings) == 1 and "2027" in warnings[0].msg
    admin = get_user_model().objects.create_superuser("root", password="x")
    services.calendar_year_confirm(year=CalendarYear.objects.get(year=2027), actor=admin)
    assert not [m for m in checks.run_checks() if m.id == "departments.W001"]


def test_reseeding_keeps_a_confirmed_year(calendar):
    admin = get_user_model().objects.create_superuser("root", password="x")
    year = CalendarYear.objects.get(year=2027)
    services.calendar_year_confirm(year=year, actor=admin)
    CalendarDay.objects.create(
        calendar=calendar, date=dt.date(2027, 2, 20), kind=DayKind.WORKDAY, name="调休"
    )
    services.calendar_seed(calendar=calendar, years=[2027])
    assert calendar.days.filter(date=dt.date(2027, 2, 20)).exists()
    assert not CalendarYear.objects.get(year=2027).provisional


def test_district_calendar_overrides_the_city(city, calendar):
    district = Unit.objects.create(code="D", name="D", kind=UnitKind.DISTRICT, parent=city)
    street = Unit.objects.create(code="S", name="S", kind=UnitKind.STREET, parent=district)
    start = dt.datetime(2026, 9, 30, 15, 0, tzinfo=SH)
    city_cal = working_calendar_for_unit(street)
    assert add_working_time(city_cal, start, 1, "working_days") == dt.datetime(
        2026, 10, 8, 15, 0, tzinfo=SH
    )
    own = services.calendar_create(
        unit=district, name="District", periods=((dt.time(9, 0), dt.time(17, 0)),)
    )
    assert working_calendar_for_unit(street).periods_on(dt.date(2026, 9, 30)) == (
        (dt.time(9, 0), dt.time(17, 0)),
    )
    assert own.periods.count() == 5


def test_editing_a_day_changes_the_cached_calendar(city, calendar):
    before = working_calendar_for_unit(city)
    assert before.is_working_day(dt.date(2026, 11, 25))
    CalendarDay.objects.create(
        calendar=calendar, date=dt.date(2026, 11, 25), kind=DayKind.HOLIDAY, name="local"
    )
    services.calendar_touch(calendar=calendar)
    calendar.refresh_from_db()
    assert not working_calendar_for_unit(city).is_working_day(dt.date(2026, 11, 25))


def test_calendar_admin_pages_warn_about_provisional_years(client, calendar):
    get_user_model().objects.create_superuser("root", password="pw")
    client.login(username="root", password="pw")
    for url in (
        "/admin/departments/workcalendar/",
        f"/admin/departments/workcalendar/{calendar.pk}/change/",
        "/admin/departments/calendaryear/",
    ):
        response = client.get(url)
        assert response.status_code == 200
        assert "2027" in response.content.decode() and "provisional" in response.content.decode()


def test_confirm_action_in_admin(client, calendar):
    get_user_model().objects.create_superuser("root", password="pw")
    client.login(username="root", password="pw")
    year = CalendarYear.objects.get(year=2027)
    client.post(
        "/admin/departments/calendaryear/",
        {"action": "confirm_years", "_selected_action": [year.pk]},
    )
    year.refresh_from_db()
    assert not year.provisional and year.confirmed_by.username == "root"
