"""The board's predicted-to-breach and hotspot lists: shown to supervisors and unit heads with
probability, reason and drill-down; 404 for anyone else."""

import datetime as dt
import re

import pytest
from django.test import Client

from intelligence.models import HotspotAlert
from intelligence.services.breach import breach_sweep
from intelligence.services.hotspots import hotspot_scan
from workflows.models import Case

from .conftest import at, handling_task, report, user
from .test_breach_sweep import history


def client(username):
    c = Client(headers={"accept-language": "en"})
    c.force_login(user(username))
    return c


@pytest.fixture
def scene(category):
    task = handling_task(category, at(2026, 9, 22, 9, 0))
    history(task)
    breach_sweep(now=at(2026, 9, 22, 10, 30))
    now = at(2026, 9, 24, 18, 0)
    for week in range(1, 9):
        Case.objects.filter(pk=report(category, now).pk).update(
            created_at=now - dt.timedelta(weeks=week, hours=3)
        )
    for h in range(1, 11):  # with the handling task's case: 11 in the window
        report(category, now - dt.timedelta(hours=h))
    hotspot_scan(now=now)
    return task


@pytest.mark.django_db
def test_the_board_shows_predicted_breaches_and_hotspots(scene):
    for username in ("supervisor", "unithead_sani"):
        page = client(username).get("/board/").content.decode()
        assert "Predicted to breach" in page
        assert scene.case.number in page
        assert "SANI usually needs 6.0 working h for 暴露垃圾" in page
        assert "11 reports of 暴露垃圾 in 3 days against 1.0 expected." in page or (
            username == "unithead_sani"
        )


@pytest.mark.django_db
def test_the_predicted_page_lists_the_task_with_its_probability(scene):
    page = client("supervisor").get("/intelligence/predicted/").content.decode()
    assert scene.case.number in page and "99 %" in page
    assert "2.5 working h left; 1 open tasks at the unit" in page


@pytest.mark.django_db
def test_the_hotspot_page_drills_down_to_the_case_search(scene):
    c = client("supervisor")
    page = c.get("/intelligence/hotspots/").content.decode()
    assert "11 reports of 暴露垃圾 in 3 days against 1.0 expected." in page
    link = page.split('href="/cases/?')[1].split('"')[0].replace("&amp;", "&")
    assert "reported_after=2026-09-22" in link and "reported_before=2026-09-24" in link
    listing = c.get(f"/cases/?{link}").content.decode()
    shown = set(re.findall(r'href="/cases/(\d+)/"', listing))
    alert = HotspotAlert.objects.get()
    assert shown == {str(pk) for pk in alert.case_ids} and len(shown) == 11


@pytest.mark.django_db
def test_others_get_404(scene):
    for path in ("/intelligence/predicted/", "/intelligence/hotspots/"):
        assert client("handler_sani").get(path).status_code == 404
        assert client("intake").get(path).status_code == 404
