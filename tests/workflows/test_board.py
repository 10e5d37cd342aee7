"""The SLA board, its drill-down and the breach list: counts and rows agree with `task_sla` per
open task and with direct ORM counts; ordering, keyset paging, filters, who sees what."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from departments.models import Membership, Role, Unit
from tests.images import png_bytes
from workflows.access import can_see_board as board_access
from workflows.models import (
    Case,
    CaseStatus,
    CaseTask,
    Category,
    OrderStatus,
    SupervisionOrder,
    TaskStatus,
)
from workflows.selectors.sla import (
    BadCursor,
    board_case_list,
    board_counts,
    breaches,
)
from workflows.services.cases import CaseReport, case_report
from workflows.services.outcomes import task_complete
from workflows.services.tasks import task_claim
from workflows.sla.state import task_sla

pytestmark = pytest.mark.django_db

SH = ZoneInfo("Asia/Shanghai")
D01 = "D01-S01-C1-G1"
D02 = "D02-S01-C1-G1"
PNG = png_bytes()  # a real image: uploads are decoded


def at(*args) -> dt.datetime:
    return dt.datetime(*args, tzinfo=SH)


NOW = at(2026, 9, 16, 15, 0)  # a Wednesday; 14-18 September are working days


def user(name: str):
    return get_user_model().objects.get(username=name)


def report(category: Category, when: dt.datetime, grid: str = D01) -> Case:
    with time_machine.travel(when, tick=False):
        return case_report(
            actor=user("inspector"),
            report=CaseReport(category=category.pk, description="d", source="inspector", grid=grid),
        )


def step(case: Case, username: str, outcome: str, when: dt.datetime, **kwargs) -> None:
    with time_machine.travel(when, tick=False):
        task = CaseTask.objects.get(case=case, status=TaskStatus.OPEN)
        task_claim(actor=user(username), task=task)
        task_complete(actor=user(username), task=task, outcome=outcome, **kwargs)


def dispatched(category: Category, when: dt.datetime, grid: str = D01) -> CaseTask:
    """A case whose handling task opened at `when` (the centre's steps a minute apart)."""
    case = report(category, when - dt.timedelta(minutes=3), grid)
    step(case, "intake", "accept", when - dt.timedelta(minutes=2))
    step(case, "shiftlead", "file", when - dt.timedelta(minutes=1))
    step(case, "dispatcher", "dispatch", when)
    return CaseTask.objects.get(case=case, status=TaskStatus.OPEN, stage="handling")


def closed(category: Category, when: dt.datetime) -> Case:
    task = dispatched(category, when)
    photo = SimpleUploadedFile("after.png", PNG, content_type="image/png")
    minute = dt.timedelta(minutes=1)
    step(task.case, "handler_sani", "done", when + minute, data={"result": "ok"}, photos=[photo])
    step(task.case, "inspector", "pass", when + 2 * minute)
    step(task.case, "shiftlead", "close", when + 3 * minute)
    return Case.objects.get(pk=task.case_id)


def order(case: Case, *, status: str = OrderStatus.OPEN) -> SupervisionOrder:
    return SupervisionOrder.objects.create(
        case=case,
        unit=case.responsible_unit,
        reason="r",
        reply_due_at=NOW + dt.timedelta(days=1),
        status=status,
        created_at=NOW - dt.timedelta(hours=1),
    )


@pytest.fixture
def scene(demo):
    """Cases in every state at NOW. 暴露垃圾 (SANI) has 4 working hours; 上水井盖 (WATER) 2
    natural hours."""
    water = Category.objects.get(scheme=demo.scheme, kind="component", code="0101")
    s = SimpleNamespace(demo=demo, water=water, garbage=demo.garbage)
    s.overdue_old = dispatched(demo.garbage, at(2026, 9, 14, 9, 0))  # due 14th 14:30
    s.overdue = dispatched(demo.garbage, at(2026, 9, 15, 9, 0))  # due 15th 14:30
    s.at_risk = dispatched(demo.garbage, at(2026, 9, 16, 10, 0))  # due 15:30: 87 % used
    s.on_track = dispatched(demo.garbage, at(2026, 9, 16, 14, 30))  # due 17th 09:30
    s.paused = dispatched(demo.garbage, at(2026, 9, 15, 10, 0), grid=D02)  # due 15th 15:30
    # The clock stopped before the due time (as workflows.sla.pauses does it).
    CaseTask.objects.filter(pk=s.paused.pk).update(
        paused_since=at(2026, 9, 15, 11, 0), next_threshold_at=None
    )
    s.water_at_risk = dispatched(water, at(2026, 9, 16, 13, 20), grid=D02)  # due 15:20: 83 %
    s.water_on_track = dispatched(water, at(2026, 9, 16, 14, 30))  # due 16:30: 25 %
    s.closed = closed(demo.garbage, at(2026, 9, 14, 9, 0))
    s.intake = report(demo.garbage, at(2026, 9, 16, 14, 0))  # intake due 14:30: overdue
    s.supervised = order(s.at_risk.case)
    order(s.on_track.case, status=OrderStatus.REPLIED)  # answered: not "supervised"
    s.sani = Unit.objects.get(code="SANI")
    s.water_unit = Unit.objects.get(code="WATER")
    return s


def counts(rows) -> dict[str, tuple]:
    return {r.unit.code: (r.open, r.at_risk, r.overdue, r.paused, r.supervised) for r in rows}


def oracle(now: dt.datetime) -> dict[str, Counter]:
    """Per responsible unit, the SLA states of open handling tasks, by task_sla itself."""
    found: dict[str, Counter] = {}
    tasks = CaseTask.objects.filter(
        status__in=[TaskStatus.OPEN, TaskStatus.CLAIMED], stage="handling"
    ).select_related("calendar", "case__responsible_unit")
    for task in tasks:
        code = task.case.responsible_unit.code
        found.setdefault(code, Counter())[task_sla(task, now).state] += 1
    return found


# --- the board -------------------------------------------------------------------------------


def test_board_counts_per_responsible_unit(scene):
    rows = board_counts(user("supervisor"), now=NOW)
    #                          open, at risk, overdue, paused, supervised
    assert counts(rows) == {"SANI": (5, 1, 2, 1, 1), "WATER": (2, 1, 0, 0, 0)}
    assert [r.unit.code for r in rows] == ["SANI", "WATER"]  # the most overdue first


def test_board_agrees_with_task_sla_and_the_database(scene):
    rows = {r.unit.code: r for r in board_counts(user("supervisor"), now=NOW)}
    expected = oracle(NOW)
    assert set(rows) == set(expected)
    for code, states in expected.items():
        row = rows[code]
        assert (row.at_risk, row.overdue, row.paused) == (
            states["at_risk"],
            states["overdue"],
            states["paused"],
        )
        open_cases = Case.objects.filter(status=CaseStatus.OPEN, responsible_unit__code=code)
        assert row.open == open_cases.count()
        overdue = CaseTask.objects.filter(
            status__in=[TaskStatus.OPEN, TaskStatus.CLAIMED],
            stage="handling",
            due_at__lte=NOW,
            paused_since__isnull=True,
            case__responsible_unit__code=code,
        )
        assert row.overdue == overdue.count()
        supervised = open_cases.filter(supervision_orders__status=OrderStatus.OPEN).distinct()
        assert row.supervised == supervised.count()


def test_at_risk_is_counted_in_working_time_not_natural_time(scene):
    # The SANI task opened at 10:00 and is due at 15:30 (lunch 12:00-13:30 excluded). At
    # 14:10 it has used 2 h 40 of its 4 working hours (67 %) although 75 % of the natural
    # span has passed; at 14:30 it has used 3 h (75 %).
    sani = {r.unit.code: r for r in board_counts(user("supervisor"), now=at(2026, 9, 16, 14, 10))}
    assert sani["SANI"].at_risk == 0
    sani = {r.unit.code: r for r in board_counts(user("supervisor"), now=at(2026, 9, 16, 14, 30))}
    assert sani["SANI"].at_risk == 1
    assert task_sla(scene.at_risk, at(2026, 9, 16, 14, 30)).state == "at_risk"


def test_the_board_moves_with_time(scene):
    later = at(2026, 9, 16, 15, 30)  # the at-risk SANI task is due now; WATER's since 15:20
    assert counts(board_counts(user("supervisor"), now=later)) == {
        "SANI": (5, 0, 3, 1, 1),
        "WATER": (2, 0, 1, 0, 0),
    }


def test_board_filters(scene):
    supervisor = user("supervisor")
    by_category = board_counts(supervisor, category_id=scene.water.pk, now=NOW)
    assert counts(by_category) == {"WATER": (2, 1, 0, 0, 0)}
    district = Unit.objects.get(code="D02")  # the area or any area below it
    assert counts(board_counts(supervisor, area_id=district.pk, now=NOW)) == {
        "SANI": (1, 0, 0, 1, 0),
        "WATER": (1, 1, 0, 0, 0),
    }
    since_16th = board_counts(supervisor, since=at(2026, 9, 16, 0, 0), now=NOW)
    assert counts(since_16th) == {"SANI": (2, 1, 0, 0, 1), "WATER": (2, 1, 0, 0, 0)}
    until_15th = board_counts(supervisor, until=at(2026, 9, 15, 0, 0), now=NOW)
    assert counts(until_15th) == {"SANI": (1, 0, 1, 0, 0)}


def test_unit_head_sees_only_their_units_and_others_have_no_board(scene):
    assert counts(board_counts(user("unithead_sani"), now=NOW)) == {"SANI": (5, 1, 2, 1, 1)}
    assert board_access(user("unithead_sani")) and board_access(user("supervisor"))
    assert board_access(user("admin"))
    for name in ("handler_sani", "intake", "dispatcher", "inspector"):
        assert not board_access(user(name))
        assert board_counts(user(name), now=NOW) == []


def test_a_district_supervisor_sees_the_cases_of_their_district(scene):
    chief = get_user_model().objects.create(username="chief_d02")
    Membership.objects.create(
        user=chief, unit=Unit.objects.get(code="D02"), role=Role.SUPERVISOR, include_subunits=True
    )
    assert counts(board_counts(chief, now=NOW)) == {
        "SANI": (1, 0, 0, 1, 0),
        "WATER": (1, 1, 0, 0, 0),
    }


def test_drill_down_lists_the_cases_behind_each_count(scene):
    def numbers(unit, state):
        found = board_case_list(user("supervisor"), unit_id=unit.pk, state=state, now=NOW)
        return [row.case.number for row in found.rows]

    assert numbers(scene.sani, "overdue") == [
        scene.overdue_old.case.number,
        scene.overdue.case.number,
    ]
    assert numbers(scene.sani, "at_risk") == [scene.at_risk.case.number]
    assert numbers(scene.sani, "paused") == [scene.paused.case.number]
    assert numbers(scene.sani, "supervised") == [scene.at_risk.case.number]
    assert numbers(scene.water_unit, "at_risk") == [scene.water_at_risk.case.number]
    assert numbers(scene.water_unit, "overdue") == []
    row = board_case_list(user("supervisor"), unit_id=scene.sani.pk, state="overdue", now=NOW)
    assert [(r.sla.state, r.open_orders) for r in row.rows] == [("overdue", 0)] * 2
    supervised = board_case_list(
        user("supervisor"), unit_id=scene.sani.pk, state="supervised", now=NOW
    ).rows[0]
    assert (supervised.sla.state, supervised.open_orders) == ("at_risk", 1)
    # The same filters as the board.
    filtered = board_case_list(
        user("supervisor"),
        unit_id=scene.sani.pk,
        state="overdue",
        since=at(2026, 9, 15, 0, 0),
        now=NOW,
    )
    assert [r.case.number for r in filtered.rows] == [scene.overdue.case.number]
    with pytest.raises(ValueError):
        board_case_list(user("supervisor"), unit_id=scene.sani.pk, state="closed", now=NOW)
    assert board_case_list(user("handler_sani"), unit_id=scene.sani.pk, state="overdue").rows == []


# --- breaches --------------------------------------------------------------------------------


def test_breaches_are_the_overdue_open_tasks_most_overdue_first(scene):
    page = breaches(user("supervisor"), now=NOW)
    assert [t.pk for t in page.rows] == [
        scene.overdue_old.pk,
        scene.overdue.pk,
        CaseTask.objects.get(case=scene.intake, status=TaskStatus.OPEN).pk,
    ]
    assert page.next_cursor is None
    overdue = [
        t.pk
        for t in CaseTask.objects.filter(status__in=[TaskStatus.OPEN, TaskStatus.CLAIMED])
        .select_related("calendar")
        .order_by("due_at", "task_id")
        if task_sla(t, NOW).state == "overdue"
    ]
    assert [t.pk for t in page.rows] == overdue
    assert [t.open_orders for t in page.rows] == [0, 0, 0]


def test_breaches_page_by_keyset(scene):
    supervisor = user("supervisor")
    first = breaches(supervisor, limit=2, now=NOW)
    assert [t.pk for t in first.rows] == [scene.overdue_old.pk, scene.overdue.pk]
    assert first.next_cursor
    second = breaches(supervisor, limit=2, cursor=first.next_cursor, now=NOW)
    assert [t.case_id for t in second.rows] == [scene.intake.pk]
    assert second.next_cursor is None
    with pytest.raises(BadCursor):
        breaches(supervisor, cursor="not-a-cursor", now=NOW)


def test_breaches_filters_and_who_sees_them(scene):
    supervisor = user("supervisor")
    by_unit = breaches(supervisor, unit_id=scene.sani.pk, now=NOW)
    assert [t.pk for t in by_unit.rows] == [scene.overdue_old.pk, scene.overdue.pk]
    assert breaches(supervisor, category_id=scene.water.pk, now=NOW).rows == []
    district = Unit.objects.get(code="D02")
    assert breaches(supervisor, area_id=district.pk, now=NOW).rows == []  # only paused there
    # The unit head: their units' tasks, not the command centre's overdue intake.
    head = breaches(user("unithead_sani"), now=NOW)
    assert [t.pk for t in head.rows] == [scene.overdue_old.pk, scene.overdue.pk]
    assert breaches(user("handler_sani"), now=NOW).rows == []


# --- the API ---------------------------------------------------------------------------------


def test_api_breaches(scene, api):
    with time_machine.travel(NOW, tick=False):
        response = api("supervisor").get("/api/v1/sla/breaches/", {"limit": 2})
        assert response.status_code == 200, response.content
        body = response.json()
        first = body["results"][0]
        assert first == {
            "task": scene.overdue_old.pk,
            "case": {"id": scene.overdue_old.case_id, "number": scene.overdue_old.case.number},
            "stage": "handling",
            "unit": "SANI",
            "due_at": "2026-09-14T14:30:00+08:00",
            "overdue_seconds": 2 * 86400 + 30 * 60,
            "owner": None,
            "sla_state": "overdue",
            "open_orders": 0,
        }
        assert len(body["results"]) == 2 and body["next"]
        rest = api("supervisor").get(body["next"]).json()
        assert [r["case"]["id"] for r in rest["results"]] == [scene.intake.pk]
        assert rest["next"] is None

        head = api("unithead_sani").get("/api/v1/sla/breaches/").json()
        assert [r["task"] for r in head["results"]] == [scene.overdue_old.pk, scene.overdue.pk]
        bad = api("supervisor").get("/api/v1/sla/breaches/", {"cursor": "x"})
        assert bad.status_code == 400 and bad.json()["error"]["fields"]["cursor"]


def test_api_board(scene, api):
    with time_machine.travel(NOW, tick=False):
        response = api("supervisor").get("/api/v1/sla/board/")
        assert response.status_code == 200, response.content
        body = response.json()
        assert [(r["unit"]["code"], r["overdue"], r["at_risk"]) for r in body["results"]] == [
            ("SANI", 2, 1),
            ("WATER", 0, 1),
        ]
        assert body["totals"] == {
            "open": 7,
            "at_risk": 2,
            "overdue": 2,
            "paused": 1,
            "supervised": 1,
        }
        water = api("supervisor").get("/api/v1/sla/board/", {"category": scene.water.pk})
        assert [r["unit"]["code"] for r in water.json()["results"]] == ["WATER"]
        since = api("supervisor").get("/api/v1/sla/board/", {"since": "2026-09-16T00:00:00+08:00"})
        assert since.json()["totals"]["open"] == 4
        bad = api("supervisor").get("/api/v1/sla/board/", {"since": "yesterday"})
        assert bad.status_code == 400 and "since" in bad.json()["error"]["fields"]


def test_api_without_a_board_role_is_404(scene, api):
    for path in ("/api/v1/sla/board/", "/api/v1/sla/breaches/", "/api/v1/supervision/"):
        response = api("handler_sani").get(path)
        assert response.status_code == 404, path
        assert response.json()["error"]["code"] == "not_found"
    assert Client().get("/api/v1/sla/board/").status_code in (401, 403)


# --- the pages -------------------------------------------------------------------------------


@pytest.fixture
def browser(demo):
    def get(username: str) -> Client:
        client = Client(headers={"accept-language": "en"})
        client.force_login(user(username))
        return client

    return get


def test_board_pages(scene, browser):
    with time_machine.travel(NOW, tick=False):
        page = browser("supervisor").get("/board/")
        assert page.status_code == 200
        body = page.content.decode()
        assert 'href="/board/"' in body and ">Board<" in body  # the nav link
        assert f"/board/cases/?unit={scene.sani.pk}&amp;state=overdue" in body

        drill = browser("supervisor").get(
            "/board/cases/", {"unit": scene.sani.pk, "state": "overdue"}
        )
        assert drill.status_code == 200
        text = drill.content.decode()
        assert scene.overdue_old.case.number in text and scene.overdue.case.number in text
        assert scene.at_risk.case.number not in text

        listing = browser("supervisor").get("/board/breaches/", {"unit": scene.sani.pk})
        assert listing.status_code == 200
        text = listing.content.decode()
        assert text.index(scene.overdue_old.case.number) < text.index(scene.overdue.case.number)
        assert "2\xa0days" in text  # overdue by, humanised
        assert scene.intake.number not in text

        head = browser("unithead_sani").get("/board/").content.decode()
        assert "环卫处" in head and "水务局" not in head

        filtered = browser("supervisor").get("/board/", {"category": scene.water.pk})
        assert "环卫处" not in filtered.content.decode()


def test_board_pages_are_404_without_a_board_role(scene, browser):
    for path in ("/board/", "/board/breaches/"):
        assert browser("handler_sani").get(path).status_code == 404, path
    # The supervision list is everyone's, limited to the orders addressed to them (a handler:
    # about a task they hold; this one holds none).
    orders = browser("handler_sani").get("/supervision/")
    assert orders.status_code == 200 and "No supervision orders." in orders.content.decode()
    assert (
        browser("handler_sani")
        .get("/board/cases/", {"unit": scene.sani.pk, "state": "overdue"})
        .status_code
        == 404
    )
    assert ">Board<" not in browser("handler_sani").get("/tasks/").content.decode()
    assert Client().get("/board/").status_code == 302  # to the login page
    bad = browser("supervisor").get("/board/cases/", {"unit": scene.sani.pk, "state": "nope"})
    assert bad.status_code == 404
    assert (
        browser("supervisor").get("/board/cases/", {"unit": "x", "state": "overdue"}).status_code
        == 404
    )


def test_queries_do_not_grow_with_the_rows(scene):
    supervisor = user("supervisor")

    def queries(read) -> int:
        with CaptureQueriesContext(connection) as captured:
            read()
        return len(captured.captured_queries)

    reads = {
        "board": lambda: board_counts(supervisor, now=NOW),
        "breaches": lambda: breaches(supervisor, now=NOW),
        "drill-down": lambda: board_case_list(
            supervisor, unit_id=scene.sani.pk, state="overdue", now=NOW
        ),
    }
    for read in reads.values():  # the working calendar is loaded once, then cached
        read()
    before = {name: queries(read) for name, read in reads.items()}
    for day in (10, 11):  # two more overdue SANI cases
        dispatched(scene.garbage, at(2026, 9, day, 9, 0))
    assert len(breaches(supervisor, now=NOW).rows) == 5
    assert {name: queries(read) for name, read in reads.items()} == before
