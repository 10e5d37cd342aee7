"""Holiday names are shown in the reader's language, whichever package the year came from."""

import datetime as dt

import pytest
from django.utils import translation

from departments.demo import seed_organisation
from departments.models import HOLIDAY_NAMES, CalendarDay
from departments.services import calendar_seed_year

pytestmark = pytest.mark.django_db


def test_seeded_holidays_read_in_chinese_and_in_english():
    seed_organisation()
    day = CalendarDay.objects.get(date=dt.date(2026, 10, 1))
    with translation.override("zh-hans"):
        assert day.display_name == "国庆节" and "国庆节" in str(day)
    with translation.override("en"):
        assert day.display_name == "National Day"


def test_projected_years_use_the_same_names():
    org = seed_organisation()
    calendar_seed_year(calendar=org.city.calendar, year=2035)
    names = set(CalendarDay.objects.filter(date__year=2035).values_list("name", flat=True))
    assert names and names <= set(HOLIDAY_NAMES), names - set(HOLIDAY_NAMES)


def test_every_stored_name_of_the_packages_has_a_chinese_label():
    with translation.override("zh-hans"):
        labels = [str(label) for label in HOLIDAY_NAMES.values()]
    assert all(not any("a" <= ch <= "z" for ch in label) for label in labels), labels


def test_a_typed_name_is_shown_as_typed():
    org = seed_organisation()
    day = CalendarDay.objects.create(
        calendar=org.city.calendar, date=dt.date(2040, 3, 3), kind="holiday", name="城市节"
    )
    assert day.display_name == "城市节"


def _latin_words(text: str) -> list[str]:
    """Words of Latin letters left in a Chinese name (codes such as D01-S01-C1-G1 aside)."""
    return [w for w in text.replace("-", " ").split() if w.isascii() and w.isalpha()]


def test_the_demo_data_is_in_one_language():
    from departments.models import GridCell, Unit, WorkCalendar
    from workflows.demo import WALKS

    seed_organisation()
    names = [
        *Unit.objects.values_list("name", flat=True),
        *GridCell.objects.values_list("name", flat=True),
        *WorkCalendar.objects.values_list("name", flat=True),
    ]
    texts = [
        t for walk in WALKS for t in (walk[2], *(str(v) for s in walk[3] for v in s[2].values()))
    ]
    mixed = [t for t in names + texts if _latin_words(t)]
    assert not mixed, mixed
    assert Unit.objects.get(code="D01-S01-C1").name == "东华街道第1社区"
