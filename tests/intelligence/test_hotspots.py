"""Hotspot alerts: a known surge raises one alert (not one per scan) with its cases and a
notice to the supervisors; an ordinary week does not; a surge that subsides ends."""

import datetime as dt
import math

import pytest

from departments.models import Unit
from intelligence.models import HotspotAlert, HotspotStatus
from intelligence.services.hotspots import hotspot_scan, surge_test
from workflows.models import Case, Notification

from .conftest import at, report

NOW = at(2026, 9, 24, 18, 0)  # a Thursday; the window is Tue 00:00 → Thu 18:00
GRID = "D01-S01-C1-G1"


def backdate(case, when):
    Case.objects.filter(pk=case.pk).update(created_at=when)


def baseline(category, per_week: int, weeks: int = 8):
    """`per_week` reports in the same stretch (Tue–Thu) of each of the previous weeks."""
    for week in range(1, weeks + 1):
        for i in range(per_week):
            backdate(report(category, NOW), NOW - dt.timedelta(weeks=week, hours=5 + i))


def test_the_poisson_test():
    expected, p = surge_test(12, [2, 2, 3, 1, 2, 2, 3, 2])
    assert expected == pytest.approx(2.125)
    assert p < 1e-5
    assert surge_test(3, [2, 2, 3, 1, 2, 2, 3, 2])[1] > 0.3
    # Never seen before: the rate is one report over the baseline weeks, not zero.
    rate = 1 / 8
    tail = 1 - sum(math.exp(-rate) * rate**k / math.factorial(k) for k in range(5))
    assert surge_test(5, [0] * 8)[1] == pytest.approx(tail, rel=1e-6)


@pytest.mark.django_db
def test_a_surge_raises_one_alert_with_its_cases(category):
    baseline(category, per_week=2)
    surge = [report(category, NOW - dt.timedelta(hours=h)) for h in range(1, 13)]
    result = hotspot_scan(now=NOW)
    assert (result.raised, result.updated) == (1, 0)
    alert = HotspotAlert.objects.get()
    street = Unit.objects.get(pk=Case.objects.get(pk=surge[0].pk).area_id)
    assert street.kind in ("street", "community")
    assert alert.category == category and alert.status == HotspotStatus.ACTIVE
    assert (alert.observed, alert.expected) == (12, 2.0)
    assert sorted(alert.case_ids) == sorted(c.pk for c in surge)
    notice = Notification.objects.get(kind="hotspot")
    assert notice.user.username == "supervisor"
    assert notice.body == "12 reports of 暴露垃圾 in 3 days against 2.0 expected."

    # The next scans confirm the same surge: no second alert, no second notice.
    report(category, NOW + dt.timedelta(minutes=30))
    result = hotspot_scan(now=NOW + dt.timedelta(hours=1))
    assert (result.raised, result.updated) == (0, 1)
    assert HotspotAlert.objects.count() == 1 and HotspotAlert.objects.get().observed == 13
    assert Notification.objects.filter(kind="hotspot").count() == 1


@pytest.mark.django_db
def test_an_ordinary_week_is_no_hotspot(category):
    baseline(category, per_week=6)
    for h in range(1, 8):  # 7 against 6 expected
        report(category, NOW - dt.timedelta(hours=h))
    assert hotspot_scan(now=NOW).raised == 0
    assert not HotspotAlert.objects.exists()
    assert not Notification.objects.filter(kind="hotspot").exists()


@pytest.mark.django_db
def test_a_surge_that_subsides_ends(category):
    baseline(category, per_week=1)
    for h in range(1, 9):
        report(category, NOW - dt.timedelta(hours=h))
    assert hotspot_scan(now=NOW).raised == 1
    # A week later the window holds nothing new.
    result = hotspot_scan(now=NOW + dt.timedelta(days=7))
    assert result.ended == 1
    assert HotspotAlert.objects.get().status == HotspotStatus.ENDED
