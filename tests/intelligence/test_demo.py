"""`seed_demo` leaves a few predicted breaches and one hotspot on the supervisor's board, and
seeding again adds neither a second burst nor a second alert.

The demo's burst came in over the last working hours, and a hotspot is a surge within the last
three calendar days: early on a Monday the burst is Friday's and no longer a hotspot. The test
seeds on the last Wednesday afternoon (local time), whatever the day it runs."""

import datetime as dt
import io

import pytest
import time_machine
from django.core.management import call_command
from django.test import Client
from django.utils import timezone

from intelligence.models import BreachPrediction, HotspotAlert
from workflows.models import Case


def last_wednesday_afternoon() -> dt.datetime:
    local = timezone.localtime()
    day = local.date() - dt.timedelta(days=(local.weekday() - 2) % 7 or 7)
    return timezone.make_aware(dt.datetime.combine(day, dt.time(15, 0)))


@pytest.mark.django_db
def test_the_demo_shows_predicted_breaches_and_a_hotspot(settings):
    settings.DEBUG = True
    with time_machine.travel(last_wednesday_afternoon(), tick=True):
        seed_and_look(settings)


def seed_and_look(settings):
    call_command("seed_demo", stdout=io.StringIO())
    level = settings.CITYOPS_BREACH_WARN_PROBABILITY
    predicted = BreachPrediction.objects.filter(probability__gte=level)
    assert predicted.count() >= 2
    assert predicted.filter(warned_at__isnull=False).exists()
    assert HotspotAlert.objects.filter(status="active").count() == 1

    client = Client(headers={"accept-language": "en"})
    client.login(username="supervisor", password=settings.DEMO_PASSWORD)
    page = client.get("/board/").content.decode()
    assert "SANI usually needs" in page and "reports of 暴露垃圾 in 3 days" in page

    cases = Case.objects.count()
    call_command("seed_demo", stdout=io.StringIO())
    assert Case.objects.count() == cases
    assert HotspotAlert.objects.count() == 1
