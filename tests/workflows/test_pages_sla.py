"""Requests about a handling task through the pages, as each role: more time (延期) decided by
the shift leader, parking (挂账) and resuming, waiting for the reporter; bad input and the
wrong unit."""

from __future__ import annotations

import datetime as dt
import re
from zoneinfo import ZoneInfo

import pytest
import time_machine

from workflows.models import (
    Case,
    CaseEvent,
    CaseRequest,
    CaseTask,
    PauseInterval,
    TaskStatus,
)

from .test_pages import browser_as, city, claim, garbage, report, text, to_handling  # noqa: F401

pytestmark = pytest.mark.django_db
SH = ZoneInfo("Asia/Shanghai")
# A Tuesday; the working day is 08:30–12:00 and 13:30–17:30.
REPORTED = dt.datetime(2026, 9, 22, 9, 0, tzinfo=SH)


def at(hour: int, minute: int = 0, day: int = 22) -> dt.datetime:
    return dt.datetime(2026, 9, day, hour, minute, tzinfo=SH)


def hm(moment: dt.datetime) -> str:
    return moment.astimezone(SH).strftime("%Y-%m-%d %H:%M")


@pytest.fixture
def clock():
    """Time stands still at REPORTED until a test moves it."""
    with time_machine.travel(REPORTED, tick=False) as traveller:
        yield traveller


@pytest.fixture
def handling(browser_as, garbage, clock) -> CaseTask:  # noqa: F811
    """A case of 暴露垃圾 (4 working hours) dispatched to SANI at 09:00 (due 14:30), its
    handling task claimed by handler_sani through the task page."""
    case = report(browser_as, garbage)
    to_handling(browser_as, case)
    task = claim(browser_as, "handler_sani", case)
    task.refresh_from_db()
    assert task.due_at == at(14, 30)
    return task


def review_task(case: Case, stage: str) -> CaseTask:
    return CaseTask.objects.get(case=case, stage=stage, status__in=["open", "claimed"])


def section(page: str, element_id: str) -> str:
    """The HTML from the element with this id to the end of its card or details."""
    rest = page.split(f'id="{element_id}"', 1)[1]
    return re.split(r"</details>|<div class=\"card", rest, maxsplit=1)[0]


def decide(browser_as, username: str, task: CaseTask, outcome: str, **data):  # noqa: F811
    """Claim the review task from its page and complete it with the outcome."""
    client = browser_as(username)
    assert client.post(f"/tasks/{task.pk}/claim/").status_code == 302
    page = text(client.get(f"/tasks/{task.pk}/"))
    assert f'id="outcome-{outcome}"' in page
    response = client.post(f"/tasks/{task.pk}/complete/", {"outcome": outcome, **data})
    assert response.status_code == 302, text(response)[:3000]
    assert response.url == "/tasks/?scope=inbox"


# More time ----------------------------------------------------------------------------------


def test_more_time_is_decided_by_the_shift_leader_and_moves_the_due_time(
    browser_as,  # noqa: F811
    handling,
    clock,
):
    handler = browser_as("handler_sani")
    page = text(handler.get(f"/tasks/{handling.pk}/"))
    assert "4 working hours" in page and "2026-09-22 14:30" in page
    for name in ("extension", "parking", "waiting-info"):
        assert f'action="/tasks/{handling.pk}/{name}/"' in page
    assert 'id="outcome-done"' in page

    clock.move_to(at(10))
    response = handler.post(
        f"/tasks/{handling.pk}/extension/",
        {"amount": "2", "unit": "working_hours", "reason": "Crane needed"},
    )
    assert response.status_code == 302 and response.url == f"/tasks/{handling.pk}/"
    page = text(handler.get(response.url))
    assert "Asked for 2 working hours more" in page
    assert "2026-09-22 10:00 · Extension request awaiting a decision" in section(
        page, "paused-since"
    )
    assert "Awaiting decision" in page and "Extension: 2 working hours" in page
    # The clock is stopped: no outcome or other request is offered meanwhile.
    assert 'id="outcome-done"' not in page and 'id="outcomes-paused"' in page
    assert f'action="/tasks/{handling.pk}/parking/"' not in page
    request = CaseRequest.objects.get()
    assert (request.kind, request.status, request.amount, request.task) == (
        "extension",
        "pending",
        2,
        handling,
    )

    review = review_task(handling.case, "extension_review")
    leader = browser_as("shiftlead")
    queue = text(leader.get("/tasks/?scope=queue"))
    assert f'action="/tasks/{review.pk}/claim/"' in queue and handling.case.number in queue
    assert "Extension decision" in queue
    page = text(leader.get(f"/tasks/{review.pk}/"))
    card = section(page, "review-request")
    for shown in ("Extension", "2 working hours", "Crane needed", "handler_sani"):
        assert shown in card
    assert "2026-09-22 14:30" in card  # the handling task's current due time
    assert f'href="/cases/{handling.case_id}/"' in card

    clock.move_to(at(11))
    decide(browser_as, "shiftlead", review, "approve")
    handling.refresh_from_db()
    # 14:30 + 60 paused working minutes + 2 working hours.
    assert handling.due_at == at(17, 30) and handling.paused_since is None
    page = text(handler.get(f"/tasks/{handling.pk}/"))
    assert "2026-09-22 17:30" in page
    assert "60 minutes" in page  # paused so far
    assert f'action="/tasks/{handling.pk}/extension/"' in page
    history = section(page, "case-sla")
    assert "Approved" in history and "Crane needed" in history and "shiftlead" in history
    assert "Extension request awaiting a decision" in history  # the pause, now ended


def test_a_rejected_request_keeps_the_limit_and_shows_the_reason(
    browser_as,  # noqa: F811
    handling,
    clock,
):
    clock.move_to(at(10))
    browser_as("handler_sani").post(
        f"/tasks/{handling.pk}/extension/",
        {"amount": "2", "unit": "working_days", "reason": "Holiday traffic"},
    )
    review = review_task(handling.case, "extension_review")
    clock.move_to(at(10, 30))
    page = text(browser_as("shiftlead").get(f"/tasks/{review.pk}/"))
    assert "2 working days" in section(page, "review-request")

    response = browser_as("shiftlead").post(f"/tasks/{review.pk}/claim/")
    assert response.status_code == 302
    response = browser_as("shiftlead").post(
        f"/tasks/{review.pk}/complete/", {"outcome": "reject", "reason": ""}
    )
    assert response.status_code == 400 and "This field is required." in text(response)
    decide(browser_as, "shiftlead", review, "reject", reason="Do it today")
    handling.refresh_from_db()
    assert handling.due_at == at(15) and CaseRequest.objects.get().status == "rejected"


def test_more_time_is_not_offered_once_overdue(browser_as, handling, clock):  # noqa: F811
    clock.move_to(at(15))
    handler = browser_as("handler_sani")
    page = text(handler.get(f"/tasks/{handling.pk}/"))
    assert "too late to ask for more time" in page
    assert f'action="/tasks/{handling.pk}/extension/"' not in page
    assert f'action="/tasks/{handling.pk}/parking/"' in page
    response = handler.post(
        f"/tasks/{handling.pk}/extension/",
        {"amount": "2", "unit": "working_hours", "reason": "Late"},
    )
    assert response.status_code == 302 and response.url == f"/tasks/{handling.pk}/"
    assert "too late to ask for more time" in text(handler.get(response.url))
    assert not CaseRequest.objects.exists()


# Parking and waiting ------------------------------------------------------------------------


def test_a_parked_case_stops_the_clock_until_the_shift_leader_resumes_it(
    browser_as,  # noqa: F811
    handling,
    clock,
):
    handler, leader = browser_as("handler_sani"), browser_as("shiftlead")
    clock.move_to(at(10))
    response = handler.post(f"/tasks/{handling.pk}/parking/", {"reason": "Road works until May"})
    assert response.status_code == 302
    page = text(handler.get(response.url))
    assert "Parking requested" in page and "Parking" in page
    # The clock runs until the parking is approved; one request at a time, and no outcome
    # until it is decided or withdrawn (issue 14).
    assert 'id="paused-since"' not in page and 'id="outcome-done"' not in page
    assert "A request awaits a decision" in section(page, "outcomes-paused")
    assert f'action="/tasks/{handling.pk}/parking/"' not in page
    assert f'action="/tasks/{handling.pk}/extension/"' not in page
    assert f'action="/tasks/{handling.pk}/withdraw-request/"' in page

    review = review_task(handling.case, "parking_review")
    card = section(text(leader.get(f"/tasks/{review.pk}/")), "review-request")
    assert "Parking" in card and "Road works until May" in card
    clock.move_to(at(11))
    decide(browser_as, "shiftlead", review, "approve")

    handling.refresh_from_db()
    assert handling.paused_since == at(11)
    page = text(handler.get(f"/tasks/{handling.pk}/"))
    assert "Parked" in section(page, "paused-since")
    assert "the shift leader resumes it" in page and 'id="outcome-done"' not in page
    assert "request-info-received" not in page  # only the shift leader resumes

    parked = review_task(handling.case, "parked")
    page = text(leader.get(f"/tasks/{parked.pk}/"))
    assert "Road works until May" in section(page, "review-request")
    clock.move_to(at(14))  # 11:00–12:00 and 13:30–14:00: 90 working minutes
    assert leader.post(f"/tasks/{parked.pk}/claim/").status_code == 302
    assert "Resume handling" in text(leader.get(f"/tasks/{parked.pk}/"))
    decide(browser_as, "shiftlead", parked, "resume")

    handling.refresh_from_db()
    assert handling.paused_since is None and handling.due_at == at(16)
    assert CaseRequest.objects.get().status == "resumed"
    page = text(handler.get(f"/tasks/{handling.pk}/"))
    assert "2026-09-22 16:00" in page and 'id="outcome-done"' in page
    assert "<td>90</td>" in section(page, "case-sla")


def test_waiting_for_the_reporter_stops_the_clock_until_the_information_arrives(
    browser_as,  # noqa: F811
    handling,
    clock,
):
    handler = browser_as("handler_sani")
    clock.move_to(at(10))
    response = handler.post(
        f"/tasks/{handling.pk}/waiting-info/", {"reason": "Which corner exactly?"}
    )
    assert response.status_code == 302
    page = text(handler.get(response.url))
    assert "Waiting for the reporter: the clock stands still." in page
    assert "Waiting for information from the reporter" in section(page, "paused-since")
    assert f'action="/tasks/{handling.pk}/info-received/"' in page
    assert f'action="/tasks/{handling.pk}/waiting-info/"' not in page
    assert 'id="outcome-done"' not in page

    clock.move_to(at(10, 45))
    response = handler.post(f"/tasks/{handling.pk}/info-received/")
    assert response.status_code == 302 and response.url == f"/tasks/{handling.pk}/"
    page = text(handler.get(response.url))
    assert "Information received: the clock runs again, due 2026-09-22 15:15." in page
    assert 'id="outcome-done"' in page and "info-received" not in page
    handling.refresh_from_db()
    assert handling.due_at == at(15, 15) and handling.paused_minutes == 45
    pause = PauseInterval.objects.get()
    assert (pause.reason, pause.paused_minutes) == ("waiting_info", 45)

    response = handler.post(f"/tasks/{handling.pk}/info-received/")
    assert response.status_code == 302
    assert "not waiting for information" in text(handler.get(response.url))


# Bad input and the wrong people -------------------------------------------------------------


@pytest.mark.parametrize(
    ("route", "data", "field", "message"),
    [
        (
            "extension",
            {"amount": "0", "unit": "working_hours", "reason": "r"},
            "amount",
            "A whole number from 1 to 480.",
        ),
        (
            "extension",
            {"amount": "abc", "unit": "working_hours", "reason": "r"},
            "amount",
            "Enter a whole number.",
        ),
        (
            "extension",
            {"amount": "2", "unit": "working_hours", "reason": "  "},
            "reason",
            "This field is required.",
        ),
        ("parking", {"reason": ""}, "reason", "This field is required."),
        ("waiting-info", {}, "reason", "This field is required."),
    ],
)
def test_bad_input_is_shown_on_its_form_and_nothing_is_saved(
    browser_as,  # noqa: F811
    handling,
    route,
    data,
    field,
    message,
):
    events = CaseEvent.objects.count()
    response = browser_as("handler_sani").post(f"/tasks/{handling.pk}/{route}/", data)
    assert response.status_code == 400
    form = section(text(response), f"request-{route}")
    assert message in form and f"id_{route}_{field}" in form
    assert form.startswith(" open>")  # the form with the error is unfolded
    assert not CaseRequest.objects.exists() and not PauseInterval.objects.exists()
    assert CaseEvent.objects.count() == events
    handling.refresh_from_db()
    assert handling.paused_since is None and handling.due_at == at(14, 30)


def test_another_unit_gets_404_and_an_unclaimed_task_is_refused(
    browser_as,  # noqa: F811
    handling,
):
    muni = browser_as("handler_muni")
    posts = {
        "extension": {"amount": "2", "unit": "working_hours", "reason": "r"},
        "parking": {"reason": "r"},
        "waiting-info": {"reason": "r"},
        "info-received": {},
    }
    for route, data in posts.items():
        assert muni.post(f"/tasks/{handling.pk}/{route}/", data).status_code == 404
        assert muni.post(f"/tasks/999999/{route}/", data).status_code == 404
    assert browser_as("handler_sani").get(f"/tasks/{handling.pk}/extension/").status_code == 405

    handler = browser_as("handler_sani")
    assert handler.post(f"/tasks/{handling.pk}/release/").status_code == 302
    page = text(handler.get(f"/tasks/{handling.pk}/"))
    assert "/extension/" not in page and "/parking/" not in page
    response = handler.post(f"/tasks/{handling.pk}/parking/", {"reason": "r"})
    assert response.status_code == 302 and response.url == f"/tasks/{handling.pk}/"
    assert "Claim the task first." in text(handler.get(response.url))
    assert not CaseRequest.objects.exists() and not PauseInterval.objects.exists()
    handling.refresh_from_db()
    assert handling.status == TaskStatus.OPEN


def test_the_review_task_is_the_reviewers_only(browser_as, handling):  # noqa: F811
    browser_as("handler_sani").post(
        f"/tasks/{handling.pk}/extension/",
        {"amount": "2", "unit": "working_hours", "reason": "r"},
    )
    review = review_task(handling.case, "extension_review")
    assert browser_as("handler_sani").get(f"/tasks/{review.pk}/").status_code == 404
    assert browser_as("handler_sani").post(f"/tasks/{review.pk}/claim/").status_code == 404
    # A review task is not a handling task: no requests about it.
    leader = browser_as("shiftlead")
    assert leader.post(f"/tasks/{review.pk}/claim/").status_code == 302
    page = text(leader.get(f"/tasks/{review.pk}/"))
    assert "/extension/" not in page
    response = leader.post(f"/tasks/{review.pk}/parking/", {"reason": "r"})
    assert response.status_code == 302
    assert "Only a handling task can ask for this." in text(leader.get(response.url))
    assert CaseRequest.objects.count() == 1
