"""Times as people read them: the city's time zone, one readable format, on the timeline too."""

import datetime as dt

import pytest
from django.template import Context, Template
from django.test import Client
from django.utils import timezone

from cityops.display import when
from workflows.models import Case, CaseEvent

UTC = dt.UTC


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        # 22:34 UTC on 1 December is 06:34 on 2 December in Shanghai (the wrong day in UTC).
        ("2026-12-01T22:34:31.787583+00:00", "2026-12-02 06:34"),
        (dt.datetime(2026, 12, 1, 22, 34, 31, tzinfo=UTC), "2026-12-02 06:34"),
        ("2026-12-02T06:34:00+08:00", "2026-12-02 06:34"),
        (dt.date(2026, 5, 1), "2026-05-01"),
        (None, "—"),
        ("", "—"),
        ("2026-12-01T22:34", "2026-12-01T22:34"),  # no offset: not a moment, shown as given
        ("SANI", "SANI"),
        (3, "3"),
    ],
)
def test_when_shows_local_readable_time(settings, value, shown):
    settings.TIME_ZONE = "Asia/Shanghai"
    with timezone.override("Asia/Shanghai"):
        assert when(value) == shown


def test_the_when_filter(settings):
    template = Template("{% load display %}{{ due|when }}")
    with timezone.override("Asia/Shanghai"):
        out = template.render(Context({"due": "2026-12-01T22:34:31.787583+00:00"}))
    assert out == "2026-12-02 06:34"


@pytest.mark.django_db
def test_the_timeline_shows_payload_deadlines_in_local_time(walk, users):
    case = Case.objects.get(pk=walk.report()["id"])
    CaseEvent.objects.create(
        case=case,
        action="sla_warn",
        stage_from=case.stage,
        stage_to=case.stage,
        created_at=timezone.now(),
        payload={"due_at": "2026-12-01T22:34:31.787583+00:00", "amount_unit": "working_hours"},
    )
    client = Client()
    client.force_login(users("supervisor"))
    body = client.get(f"/cases/{case.pk}/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "2026-12-02 06:34" in body
    assert "+00:00" not in body and "T22:34" not in body
    assert "working hours" in body and "working_hours" not in body
