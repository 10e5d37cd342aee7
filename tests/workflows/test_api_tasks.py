"""The REST API for task work: the standard flow walked end to end as each role, every branch,
the wrong role, conflicts, bad input, and the task lists' paging and query count."""

from __future__ import annotations

import base64
from datetime import datetime, timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext

from departments.models import Membership, Role, Unit
from workflows.models import CaseEvent

pytestmark = pytest.mark.django_db


def forged_cursor(raw: str) -> str:
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def actions(events: list[dict]) -> list[tuple]:
    return [(e["action"], e["actor"], e["stage_from"], e["stage_to"]) for e in events]


def _step(actor, outcome, stage, to) -> list[tuple]:
    """The two events of one task: claimed, then completed with the outcome."""
    return [("claim", actor, stage, stage), (outcome, actor, stage, to)]


# --- the happy path --------------------------------------------------------------------------


def test_the_happy_path_as_each_role(walk, api, png):
    case = walk.report(photos=[png("before.png")])
    case_id = case["id"]
    assert case["stage"] == "intake"

    walk.act("intake", case_id, "accept")
    assert walk.case(case_id)["stage"] == "filing"
    walk.act("shiftlead", case_id, "file")

    dispatch = walk.queued("dispatcher", case_id)
    assert dispatch["stage"] == "dispatch" and dispatch["outcomes"] == []
    assert dispatch["suggestion"]["suggested_unit_code"] == "SANI"
    assert dispatch["suggestion"]["basis"] == "category_default"
    assert "0102" in dispatch["suggestion"]["explanation"]
    walk.act("dispatcher", case_id, "dispatch")  # confirms the suggestion
    assert walk.case(case_id)["responsible_unit"]["code"] == "SANI"

    handling = walk.queued("handler_sani", case_id)
    assert (handling["unit"], handling["role"], handling["suggestion"]) == ("SANI", "handler", None)
    done = walk.act("handler_sani", case_id, "done", result="已清理 Cleaned")
    assert (done["outcome"], done["outcomes"]) == ("done", [])
    walk.act("inspector", case_id, "pass")
    walk.act("shiftlead", case_id, "close")

    final = walk.case(case_id)
    assert (final["status"], final["stage"], final["archive_type"]) == ("closed", "ended", "normal")
    assert final["open_tasks"] == [] and final["closed_at"] and final["rework_count"] == 0
    assert [p["kind"] for p in final["photos"]] == ["before", "after"]

    events = walk.timeline(case_id)
    assert actions(events) == [
        ("report", "inspector", "", "intake"),
        *_step("intake", "accept", "intake", "filing"),
        *_step("shiftlead", "file", "filing", "dispatch"),
        *_step("dispatcher", "dispatch", "dispatch", "handling"),
        *_step("handler_sani", "done", "handling", "check"),
        *_step("inspector", "pass", "check", "closing"),
        *_step("shiftlead", "close", "closing", "ended"),
    ]
    assert [e["id"] for e in events] == sorted(e["id"] for e in events)
    assert [e["created_at"] for e in events] == sorted(e["created_at"] for e in events)
    by_action = {e["action"]: e for e in events}
    assert by_action["dispatch"]["payload"] == {"unit": "SANI"}
    assert by_action["done"]["payload"] == {"result": "已清理 Cleaned", "photos": 1}
    assert by_action["done"]["unit"] == "SANI" and by_action["accept"]["unit"] == "CC"


def test_each_list_shows_the_right_tasks(walk, api):
    case_id = walk.report()["id"]
    task = walk.queued("intake", case_id)
    assert task["case"] == {
        "id": case_id,
        "number": walk.case(case_id)["number"],
        "category_name": "暴露垃圾",
        "address": "",
        "area_name": walk.case(case_id)["area"]["name"],
        "grid_code": walk.demo.grid,
    }
    assert task["age_seconds"] >= 0 and task["owner"] is None
    # Intake is due 30 natural minutes after the report.
    created, due = (datetime.fromisoformat(task[k]) for k in ("created_at", "due_at"))
    assert due - created == timedelta(minutes=30)

    def ids(scope):
        response = api("intake").get("/api/v1/tasks/", {"scope": scope})
        assert response.status_code == 200
        return [t["id"] for t in response.json()["results"]]

    assert (ids("queue"), ids("inbox"), ids("done")) == ([task["id"]], [], [])
    assert api("intake").get("/api/v1/tasks/").json()["results"][0]["id"] == task["id"]
    claimed = walk.claim("intake", task["id"])
    assert claimed["owner"] == "intake" and claimed["status"] == "claimed"
    assert (ids("queue"), ids("inbox"), ids("done")) == ([], [task["id"]], [])

    released = api("intake").post(f"/api/v1/tasks/{task['id']}/release/")
    assert released.status_code == 200
    assert (released.json()["status"], released.json()["owner"]) == ("open", None)
    assert released.json()["outcomes"] == []
    again = api("intake").post(f"/api/v1/tasks/{task['id']}/release/")
    assert again.status_code == 409 and again.json()["error"]["code"] == "not_holder"

    walk.act("intake", case_id, "accept")
    assert (ids("queue"), ids("inbox"), ids("done")) == ([], [], [task["id"]])
    assert api("intake").get(f"/api/v1/tasks/{task['id']}/").json()["outcome"] == "accept"


# --- the branches ----------------------------------------------------------------------------


def test_verify_sends_the_inspector_then_back_to_intake(walk):
    case_id = walk.report()["id"]
    walk.act("intake", case_id, "verify")
    assert walk.case(case_id)["stage"] == "verify"
    task = walk.queued("inspector", case_id)
    assert task["unit"] == "D01-S01"  # inspectors work by street
    walk.act("inspector", case_id, "verified", result="属实 Confirmed")
    assert walk.case(case_id)["stage"] == "intake"
    walk.act("intake", case_id, "accept")
    assert walk.case(case_id)["stage"] == "filing"
    assert actions(walk.timeline(case_id))[1:] == [
        *_step("intake", "verify", "intake", "verify"),
        *_step("inspector", "verified", "verify", "intake"),
        *_step("intake", "accept", "intake", "filing"),
    ]


def test_duplicate_of_another_case_by_number(walk, api):
    original = walk.report()
    case_id = walk.report()["id"]
    task = walk.queued("intake", case_id)
    walk.claim("intake", task["id"])
    response = walk.complete("intake", task["id"], "duplicate")
    assert response.status_code == 400 and "duplicate_of" in response.json()["error"]["fields"]
    for bad in ("2000-999999", "999999", "9" * 30, "²", str(case_id)):
        response = walk.complete("intake", task["id"], "duplicate", duplicate_of=bad)
        assert response.status_code == 400, (bad, response.content)
        assert "duplicate_of" in response.json()["error"]["fields"]
    response = walk.complete("intake", task["id"], "duplicate", duplicate_of=original["number"])
    assert response.status_code == 200, response.content
    case = walk.case(case_id)
    assert (case["status"], case["stage"], case["duplicate_of"]) == (
        "duplicate",
        "ended",
        original["number"],
    )
    assert walk.timeline(case_id)[-1]["payload"] == {"duplicate_of": original["number"]}
    assert walk.case(original["id"])["status"] == "open"


def test_invalid_needs_a_reason(walk):
    case_id = walk.report()["id"]
    task = walk.queued("intake", case_id)
    walk.claim("intake", task["id"])
    response = walk.complete("intake", task["id"], "invalid", reason="  ")
    assert response.status_code == 400
    assert list(response.json()["error"]["fields"]) == ["reason"]
    response = walk.complete("intake", task["id"], "invalid", reason="不属实 Not true")
    assert response.status_code == 200
    case = walk.case(case_id)
    assert (case["status"], case["stage"], case["open_tasks"]) == ("invalid", "ended", [])


def test_refuse_to_file(walk):
    case_id = walk.report()["id"]
    walk.act("intake", case_id, "accept")
    walk.act("shiftlead", case_id, "refuse", reason="不属于立案范围 Out of scope")
    case = walk.case(case_id)
    assert (case["status"], case["stage"]) == ("refused", "ended")


def test_return_approved_goes_back_to_dispatch(walk, api):
    case_id = walk.report()["id"]
    walk.to_handling(case_id)
    walk.act("handler_sani", case_id, "return", reason="属市政 Municipal's")
    assert walk.case(case_id)["stage"] == "return_review"
    walk.act("shiftlead", case_id, "approve")
    assert walk.case(case_id)["stage"] == "dispatch"
    task = walk.claim("dispatcher", walk.queued("dispatcher", case_id)["id"])
    for bad in ("NOPE", "²", "CC"):  # the centre is not a handling unit
        response = walk.complete("dispatcher", task["id"], "dispatch", unit=bad)
        assert response.status_code == 400 and "unit" in response.json()["error"]["fields"]
    response = walk.complete("dispatcher", task["id"], "dispatch", unit="MUNI")
    assert response.status_code == 200, response.content
    case = walk.case(case_id)
    assert (case["stage"], case["responsible_unit"]["code"]) == ("handling", "MUNI")
    assert walk.queued("handler_muni", case_id)["unit"] == "MUNI"
    walk.act("handler_muni", case_id, "done")
    assert walk.case(case_id)["stage"] == "check"


def test_return_rejected_goes_back_to_handling(walk):
    case_id = walk.report()["id"]
    walk.to_handling(case_id)
    walk.act("handler_sani", case_id, "return", reason="不归我们 Not ours")
    walk.act("shiftlead", case_id, "reject", reason="就是你们的 It is yours")
    case = walk.case(case_id)
    assert (case["stage"], case["responsible_unit"]["code"]) == ("handling", "SANI")
    walk.act("handler_sani", case_id, "done")
    assert walk.case(case_id)["stage"] == "check"


def test_failed_check_is_rework_for_the_same_handler(walk, api, png):
    case_id = walk.report()["id"]
    walk.to_handling(case_id)
    walk.act("handler_sani", case_id, "done")
    walk.act("inspector", case_id, "fail", reason="仍有垃圾 Still dirty")
    case = walk.case(case_id)
    assert (case["stage"], case["rework_count"]) == ("handling", 1)
    # Already in the handler's inbox, nothing to claim: the queue does not have it.
    queue = api("handler_sani").get("/api/v1/tasks/", {"scope": "queue"}).json()["results"]
    assert [t for t in queue if t["case"]["id"] == case_id] == []
    inbox = api("handler_sani").get("/api/v1/tasks/", {"scope": "inbox"}).json()["results"]
    (rework,) = [t for t in inbox if t["case"]["id"] == case_id]
    assert rework["unit"] == "SANI" and rework["status"] == "claimed"
    response = walk.complete(
        "handler_sani", rework["id"], "done", result="再清理 Cleaned again", photos=[png()]
    )
    assert response.status_code == 200, response.content
    walk.act("inspector", case_id, "pass")
    walk.act("shiftlead", case_id, "close")
    case = walk.case(case_id)
    assert (case["status"], case["rework_count"]) == ("closed", 1)
    assert [e["action"] for e in walk.timeline(case_id) if e["action"] != "claim"] == [
        "report",
        "accept",
        "file",
        "dispatch",
        "done",
        # The rework task opens (in the handler's inbox) while the check completes.
        "rework_assign",
        "fail",
        "done",
        "pass",
        "close",
    ]


def test_second_level_dispatch_by_the_unit_head(walk, api):
    case_id = walk.report()["id"]
    walk.to_handling(case_id)
    task = walk.queued("handler_sani", case_id)
    url = f"/api/v1/tasks/{task['id']}/subdispatch/"

    response = api("handler_sani").post(url, {"unit": "SANI-E"}, format="json")
    assert response.status_code == 409 and response.json()["error"]["code"] == "not_allowed"
    response = api("handler_muni").post(url, {"unit": "SANI-E"}, format="json")
    assert response.status_code == 404
    for bad in ("MUNI-ROAD", "NOPE", "99999999999999999999", "²", ""):
        response = api("unithead_sani").post(url, {"unit": bad}, format="json")
        assert response.status_code == 400, (bad, response.content)
        assert "unit" in response.json()["error"]["fields"]
    # The unit head sees the task (to dispatch it on) but may not act on it as a handler.
    seen = api("unithead_sani").get(f"/api/v1/tasks/{task['id']}/")
    assert seen.status_code == 200 and seen.json()["outcomes"] == []
    assert api("unithead_sani").post(f"/api/v1/tasks/{task['id']}/claim/").status_code == 404

    east = Unit.objects.get(code="SANI-E")
    response = api("unithead_sani").post(url, {"unit": east.pk}, format="json")
    assert response.status_code == 200, response.content
    assert (response.json()["unit"], response.json()["status"]) == ("SANI-E", "open")
    event = walk.timeline(case_id)[-1]
    assert (event["action"], event["actor"], event["unit"]) == (
        "subdispatch",
        "unithead_sani",
        "SANI-E",
    )

    # handler_sani holds SANI with its sub-units, so the task is still in their queue.
    assert walk.queued("handler_sani", case_id)["unit"] == "SANI-E"
    walk.act("handler_sani", case_id, "done")
    case = walk.case(case_id)
    assert (case["stage"], case["responsible_unit"]["code"]) == ("check", "SANI")


# --- the wrong role --------------------------------------------------------------------------


def test_a_task_of_another_unit_looks_missing(walk, api):
    case_id = walk.report()["id"]
    walk.to_handling(case_id)
    task = walk.queued("handler_sani", case_id)
    muni = api("handler_muni")

    def body(method, path, task_id, **kw):
        response = getattr(muni, method)(f"/api/v1/tasks/{task_id}/{path}", **kw)
        assert response.status_code == 404, (path, response.content)
        return response.json()

    done = {"data": {"outcome": "done", "result": "x"}, "format": "json"}
    for method, path, kw in [("get", "", {}), ("post", "claim/", {}), ("post", "complete/", done)]:
        assert body(method, path, task["id"], **kw) == body(method, path, 999999, **kw)
    assert body("get", "", task["id"])["error"]["code"] == "not_found"
    assert walk.queued("handler_sani", case_id)["status"] == "open"


# --- conflicts and bad input -----------------------------------------------------------------


def test_claiming_a_claimed_task_is_409(walk, api, users):
    Membership.objects.create(
        user=users("dispatcher"), unit=Unit.objects.get(code="CC"), role=Role.INTAKE
    )
    case_id = walk.report()["id"]
    task = walk.queued("intake", case_id)
    walk.claim("intake", task["id"])
    for username in ("intake", "dispatcher"):
        response = api(username).post(f"/api/v1/tasks/{task['id']}/claim/")
        assert response.status_code == 409
        assert response.json()["error"]["code"] == "task_taken"
    response = walk.complete("dispatcher", task["id"], "accept")
    assert response.status_code == 409 and response.json()["error"]["code"] == "task_taken"


def test_completing_an_unclaimed_task_is_409(walk):
    case_id = walk.report()["id"]
    task = walk.queued("intake", case_id)
    response = walk.complete("intake", task["id"], "accept")
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "not_holder"
    assert walk.case(case_id)["stage"] == "intake"


def _claimed_handling_task(walk) -> tuple[int, int]:
    case_id = walk.report()["id"]
    walk.to_handling(case_id)
    task = walk.queued("handler_sani", case_id)
    walk.claim("handler_sani", task["id"])
    return case_id, task["id"]


def test_bad_completions_are_400_and_change_nothing(walk, api, png):
    case_id, task_id = _claimed_handling_task(walk)
    events_before = CaseEvent.objects.count()
    text_png = SimpleUploadedFile("after.png", b"hello, not an image", "image/png")
    bad = [
        ({"outcome": "accept"}, "outcome"),  # an outcome of another stage
        ({"outcome": "explode"}, "outcome"),
        ({}, "outcome"),
        ({"outcome": "return"}, "reason"),
        ({"outcome": "done", "result": "ok"}, "photos"),
        ({"outcome": "done", "photos": [png()]}, "result"),
        ({"outcome": "done", "result": "ok", "photos": [text_png]}, "photos"),
        ({"outcome": "done", "result": "ok", "photos": "after.png"}, "photos"),
        ({"outcome": ["done"], "result": "ok"}, "outcome"),
        ({"outcome": "return", "reason": {"a": 1}}, "reason"),
    ]
    for data, field in bad:
        fmt = "multipart" if "photos" in data else "json"
        response = api("handler_sani").post(f"/api/v1/tasks/{task_id}/complete/", data, format=fmt)
        assert response.status_code == 400, (data, response.content)
        error = response.json()["error"]
        assert error["code"] == "invalid" and field in error["fields"], (data, error)
    response = api("handler_sani").post(
        f"/api/v1/tasks/{task_id}/complete/", data="{oops", content_type="application/json"
    )
    assert response.status_code == 400 and response.json()["error"]["code"] == "parse_error"

    task = api("handler_sani").get(f"/api/v1/tasks/{task_id}/").json()
    assert (task["status"], task["owner"]) == ("claimed", "handler_sani")
    assert task["outcomes"] == ["done", "return"]
    assert CaseEvent.objects.count() == events_before
    case = walk.case(case_id)
    assert case["stage"] == "handling" and case["photos"] == []


@pytest.mark.parametrize(
    "query, field",
    [
        ({"scope": "everything"}, "scope"),
        ({"limit": 0}, "limit"),
        ({"limit": "ten"}, "limit"),
        ({"limit": 1000}, "limit"),
        ({"cursor": "not-a-cursor"}, "cursor"),
        ({"cursor": forged_cursor("2026-01-01T00:00:00|1")}, "cursor"),  # naive time
        ({"cursor": forged_cursor("2026-01-01T00:00:00+00:00|" + "9" * 25)}, "cursor"),
        ({"cursor": forged_cursor("0001-01-01T00:00:00+14:00|1")}, "cursor"),
        ({"cursor": forged_cursor("2026-01-01T00:00:00+00:00|²")}, "cursor"),
    ],
)
def test_bad_list_queries_are_400(demo, api, query, field):
    response = api("intake").get("/api/v1/tasks/", query)
    assert response.status_code == 400
    assert field in response.json()["error"]["fields"]


def test_non_numeric_and_huge_ids_are_404(demo, api):
    assert api("intake").get("/api/v1/tasks/abc/").status_code == 404
    for huge in (2**63 - 1, 2**63, 10**30):
        assert api("intake").post(f"/api/v1/tasks/{huge}/claim/").status_code == 404
        assert api("intake").get(f"/api/v1/cases/{huge}/").status_code == 404


# --- lists: paging and query count ------------------------------------------------------------


def test_the_queue_pages_by_cursor(walk, api):
    case_ids = [walk.report()["id"] for _ in range(7)]
    url, pages, seen = "/api/v1/tasks/?scope=queue&limit=3", [], []
    while url:
        response = api("intake").get(url)
        assert response.status_code == 200, response.content
        body = response.json()
        pages.append(len(body["results"]))
        seen += body["results"]
        url = body["next"]
        assert url is None or url.startswith("http://testserver/api/v1/tasks/?")
    assert pages == [3, 3, 1]
    assert len({t["id"] for t in seen}) == 7
    assert [t["case"]["id"] for t in seen] == case_ids  # oldest first


def test_the_task_list_costs_the_same_queries_for_any_page_size(walk, api):
    for _ in range(6):
        walk.report()
    client = api("intake")

    def count(limit: int) -> int:
        with CaptureQueriesContext(connection) as queries:
            response = client.get("/api/v1/tasks/", {"scope": "queue", "limit": limit})
        assert response.status_code == 200
        assert len(response.json()["results"]) == min(limit, 6)
        return len(queries)

    assert count(2) == count(20)
