"""SLA through the API: due times and states on tasks and cases, extension and parking."""

from datetime import datetime

import pytest

pytestmark = pytest.mark.django_db


def test_tasks_and_cases_show_due_time_and_state(walk):
    case_id = walk.report()["id"]
    task = walk.queued("intake", case_id)
    assert task["sla_state"] == "on_track" and task["sla_used_percent"] == 0
    walk.to_handling(case_id)
    handling = walk.queued("handler_sani", case_id)
    case = walk.case(case_id)
    assert case["due_at"] == handling["due_at"] and case["sla_state"] == "on_track"
    assert [t["sla_state"] for t in case["open_tasks"]] == ["on_track"]


def test_extension_request_and_decision(walk, api):
    case_id = walk.report()["id"]
    walk.to_handling(case_id)
    task = walk.claim("handler_sani", walk.queued("handler_sani", case_id)["id"])
    due_before = datetime.fromisoformat(task["due_at"])

    bad = api("handler_sani").post(
        f"/api/v1/tasks/{task['id']}/extension/", {"amount": 0, "unit": "weeks"}, format="json"
    )
    assert bad.status_code == 400
    assert set(bad.json()["error"]["fields"]) == {"amount", "unit", "reason"}
    made = api("handler_sani").post(
        f"/api/v1/tasks/{task['id']}/extension/",
        {"amount": 1, "unit": "working_days", "reason": "r"},
        format="json",
    )
    assert made.status_code == 201 and made.json()["status"] == "pending"
    paused = api("handler_sani").get(f"/api/v1/tasks/{task['id']}/").json()
    assert paused["sla_state"] == "paused"
    again = api("handler_sani").post(
        f"/api/v1/tasks/{task['id']}/extension/",
        {"amount": 1, "unit": "working_days", "reason": "r"},
        format="json",
    )
    assert again.status_code == 409
    other = api("handler_muni").post(
        f"/api/v1/tasks/{task['id']}/extension/",
        {"amount": 1, "unit": "working_days", "reason": "r"},
        format="json",
    )
    assert other.status_code == 404

    review = walk.queued("shiftlead", case_id)
    assert review["stage"] == "extension_review"
    walk.claim("shiftlead", review["id"])
    decided = walk.complete("shiftlead", review["id"], "approve")
    assert decided.status_code == 200
    after = api("handler_sani").get(f"/api/v1/tasks/{task['id']}/").json()
    assert after["sla_state"] == "on_track"
    assert datetime.fromisoformat(after["due_at"]) > due_before
    actions = [e["action"] for e in walk.timeline(case_id)]
    assert "extension_request" in actions and "extension_review_approve" in actions


def test_parking_and_waiting_for_information(walk, api):
    case_id = walk.report()["id"]
    walk.to_handling(case_id)
    task = walk.claim("handler_sani", walk.queued("handler_sani", case_id)["id"])
    wait = api("handler_sani").post(
        f"/api/v1/tasks/{task['id']}/waiting-info/", {"reason": "地址不详"}, format="json"
    )
    assert wait.status_code == 200 and wait.json()["sla_state"] == "paused"
    resumed = api("handler_sani").post(f"/api/v1/tasks/{task['id']}/info-received/")
    assert resumed.status_code == 200 and resumed.json()["sla_state"] == "on_track"
    assert api("handler_sani").post(f"/api/v1/tasks/{task['id']}/info-received/").status_code == 409
    parked = api("handler_sani").post(
        f"/api/v1/tasks/{task['id']}/parking/", {"reason": "待拆迁"}, format="json"
    )
    assert parked.status_code == 201
    walk.act("shiftlead", case_id, "approve")
    assert api("handler_sani").get(f"/api/v1/tasks/{task['id']}/").json()["sla_state"] == "paused"
    walk.act("shiftlead", case_id, "resume")
    assert api("handler_sani").get(f"/api/v1/tasks/{task['id']}/").json()["sla_state"] == "on_track"
