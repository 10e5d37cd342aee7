"""The API's task lists read plain rows (workflows.sql.task_rows) and render them with
`task_row_output`: the same tasks, pages, cursors and JSON as the model path (`task_list` and
the TaskOutput serializer) that the pages and single-task answers use."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.utils import timezone
from rest_framework.test import APIRequestFactory

from departments.models import Membership, Role, Unit
from workflows.api.serializers import TaskOutput, task_row_output
from workflows.models import Case, CaseTask, Stage
from workflows.selectors.tasks import SCOPES, task_list
from workflows.sql.task_rows import TaskRow, task_rows

pytestmark = pytest.mark.django_db


@pytest.fixture
def varied(walk, api, users):
    """Tasks in many states: open intake and dispatch tasks (a suggestion), claimed ones (with
    outcomes), a paused handling task, a handling task in a sub-unit, done ones; and an intake
    clerk who is also a dispatcher, so their queue merges two (unit, role) pairs."""
    first, second, third, fourth, fifth = (walk.report()["id"] for _ in range(5))
    walk.act("intake", first, "accept")
    walk.act("shiftlead", first, "file")  # first: open dispatch task (suggestion)
    walk.to_handling(second)
    waiting = walk.claim("handler_sani", walk.queued("handler_sani", second)["id"])
    paused = api("handler_sani").post(
        f"/api/v1/tasks/{waiting['id']}/waiting-info/", {"reason": "地址不详"}, format="json"
    )
    assert paused.status_code == 200 and paused.json()["sla_state"] == "paused"
    walk.to_handling(third)
    handling = walk.queued("handler_sani", third)["id"]
    east = Unit.objects.get(code="SANI-E")
    moved = api("unithead_sani").post(
        f"/api/v1/tasks/{handling}/subdispatch/", {"unit": east.pk}, format="json"
    )
    assert moved.status_code == 200, moved.content
    walk.claim("intake", walk.queued("intake", fourth)["id"])  # fourth: claimed intake task
    # fifth: open intake task of a case without grid cell or area (older data): null names.
    Case.objects.filter(pk=fifth).update(grid=None, area=None, address="人民路 1 号")
    intake = users("intake")
    centre = Membership.objects.get(user=intake).unit
    Membership.objects.create(user=intake, unit=centre, role=Role.DISPATCHER)
    return users


USERNAMES = ("intake", "shiftlead", "dispatcher", "handler_sani", "unithead_sani", "inspector")


def _pages(read, user, scope: str, limit: int) -> list:
    pages, cursor = [], None
    while True:
        page = read(user, scope, cursor, limit)
        pages.append(page)
        if page.next_cursor is None:
            return pages
        cursor = page.next_cursor


def _row_of(task: CaseTask) -> TaskRow:
    """The row of a task loaded as a model (with `task_for_user`'s select_related)."""
    case = task.case
    return TaskRow(
        task_id=task.pk,
        stage=task.stage,
        role=task.role,
        unit_id=task.unit_id,
        status=task.status,
        outcome=task.outcome,
        owner_id=task.owner_id,
        payload=task.payload if task.stage == Stage.DISPATCH else None,
        created_at=task.created_at,
        finished_at=task.finished_at,
        due_at=task.due_at,
        limit_unit=task.limit_unit,
        calendar_id=task.calendar_id,
        paused_since=task.paused_since,
        paused_minutes=task.paused_minutes,
        case_id=case.pk,
        case_number=case.number,
        case_address=case.address,
        case_source=case.source,
        category_name=case.category.name,
        area_name=case.area.name if case.area_id else None,
        grid_code=case.grid.code if case.grid_id else None,
        unit_code=task.unit.code,
        owner_username=task.owner.username if task.owner_id else None,
        calendar_updated_at=task.calendar.updated_at if task.calendar_id else None,
    )


@pytest.mark.parametrize("limit", [1, 2, 25])
def test_rows_are_the_tasks_and_pages_of_task_list(varied, limit):
    seen = 0
    for username in USERNAMES:
        user = varied(username)
        for scope in SCOPES:
            models = _pages(task_list, user, scope, limit)
            rows = _pages(task_rows, user, scope, limit)
            assert [p.next_cursor for p in rows] == [p.next_cursor for p in models]
            for model_page, row_page in zip(models, rows, strict=True):
                assert row_page.rows == [_row_of(t) for t in model_page.rows]
                seen += len(row_page.rows)
    assert seen >= 12


def test_the_merged_queue_is_oldest_first(varied):
    user = varied("intake")
    rows = [row for page in _pages(task_rows, user, "queue", 1) for row in page.rows]
    assert {row.role for row in rows} == {Role.INTAKE, Role.DISPATCHER}
    assert [(row.created_at, row.task_id) for row in rows] == sorted(
        (row.created_at, row.task_id) for row in rows
    )


@pytest.mark.parametrize("later", [timedelta(0), timedelta(hours=1), timedelta(days=40)])
def test_row_output_is_what_the_task_serializer_gives(varied, later):
    now = timezone.now() + later
    states, shown = set(), 0
    for username in USERNAMES:
        user = varied(username)
        request = APIRequestFactory().get("/")
        request.user = user
        for scope in SCOPES:
            tasks = task_list(user, scope, limit=100).rows
            expected = TaskOutput(tasks, many=True, context={"request": request, "now": now}).data
            rows = task_rows(user, scope, limit=100).rows
            got = [task_row_output(row, user=user, now=now) for row in rows]
            assert json.dumps(got, sort_keys=True) == json.dumps(expected, sort_keys=True)
            assert [list(item) for item in got] == [list(item) for item in expected]
            states |= {
                (item["sla_state"], bool(item["outcomes"]), bool(item["suggestion"]))
                for item in got
            }
            shown += len(got)
    assert shown >= 12
    assert {state for state, _outcomes, _suggestion in states} >= (
        {"on_track", "paused"} if not later else {"overdue", "paused"}
    )
    assert any(outcomes for _state, outcomes, _s in states)
    assert any(suggestion for _state, _o, suggestion in states)


@pytest.mark.parametrize("zone", ["UTC", "Asia/Shanghai", "America/New_York"])
def test_times_are_rendered_as_drf_renders_them(varied, zone):
    user, now = varied("handler_sani"), timezone.now()
    request = APIRequestFactory().get("/")
    request.user = user
    with timezone.override(zone):
        tasks = task_list(user, "inbox").rows
        expected = TaskOutput(tasks, many=True, context={"request": request, "now": now}).data
        got = [task_row_output(row, user=user, now=now) for row in task_rows(user, "inbox").rows]
    assert got and json.dumps(got) == json.dumps(expected)
    assert got[0]["created_at"].endswith("Z") == (zone == "UTC")


def test_done_tasks_and_their_sla(walk, varied):
    case_id = walk.report()["id"]
    walk.act("intake", case_id, "accept")
    user = varied("intake")
    newest = task_rows(user, "done").rows[0]  # newest first
    assert (newest.case_id, newest.status) == (case_id, "done")
    assert task_row_output(newest, user=user, now=timezone.now())["sla_state"] == "met"
    CaseTask.objects.filter(pk=newest.pk).update(due_at=newest.created_at)
    missed = task_rows(user, "done").rows[0]
    assert task_row_output(missed, user=user, now=timezone.now())["sla_state"] == "missed"


def test_a_user_without_posts_has_an_empty_queue(demo, django_user_model):
    nobody = django_user_model.objects.create_user("nobody")
    page = task_rows(nobody, "queue")
    assert (page.rows, page.next_cursor) == ([], None)
