"""The server-rendered pages, walked as each role with Django's test client: report a case,
take it through every stage and branch, and check what each role may see."""

from __future__ import annotations

import re

import pytest
from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from departments.demo import seed_accounts, seed_organisation
from departments.models import Unit
from tests.images import png_bytes
from workflows.management.commands.seed_demo import DEMO_CATEGORIES, DEMO_SCHEME
from workflows.models import (
    Attachment,
    Case,
    CaseEvent,
    CaseTask,
    Category,
    CategoryScheme,
    TaskStatus,
)
from workflows.services.categories import categories_import

pytestmark = pytest.mark.django_db

GRID = "D01-S01-C1-G1"
PNG = png_bytes()  # a real image: uploads are decoded


@pytest.fixture
def city(settings):
    """The demo city with its real category list and accounts."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    org = seed_organisation()
    categories_import(rows_source=DEMO_CATEGORIES)
    org.city.category_scheme = CategoryScheme.objects.get(code=DEMO_SCHEME)
    org.city.save(update_fields=["category_scheme"])
    seed_accounts("pw")
    return org


@pytest.fixture
def garbage(city) -> Category:
    """暴露垃圾: an event whose default unit is sanitation (SANI)."""
    return Category.objects.get(scheme__code=DEMO_SCHEME, kind="event", code="0102")


@pytest.fixture
def browser_as(city):
    """A logged-in test client per demo account, in English."""
    clients: dict[str, Client] = {}

    def get(username: str) -> Client:
        if username not in clients:
            client = Client(headers={"accept-language": "en"})
            client.force_login(get_user_model().objects.get(username=username))
            clients[username] = client
        return clients[username]

    return get


def png(name: str = "photo.png") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, PNG, content_type="image/png")


def report(browser_as, category: Category, username: str = "inspector", **fields) -> Case:
    data = {
        "category": category.pk,
        "description": "Garbage piled up at the corner",
        "grid": GRID,
        "address": "1 Donghua Road",
        "source": "inspector",
        "reporter_name": "Ms Li",
        "reporter_contact": "13800000000",
        "photos": [png("before.png")],
        **fields,
    }
    response = browser_as(username).post("/cases/new/", data)
    assert response.status_code == 302, response.content.decode()[:3000]
    case = Case.objects.latest("id")
    assert response.url == f"/cases/{case.pk}/"
    return case


def open_task(case: Case) -> CaseTask:
    return CaseTask.objects.get(case=case, status__in=[TaskStatus.OPEN, TaskStatus.CLAIMED])


def claim(browser_as, username: str, case: Case) -> CaseTask:
    task = open_task(case)
    client = browser_as(username)
    page = client.get(f"/tasks/{task.pk}/")
    assert page.status_code == 200
    assert f'action="/tasks/{task.pk}/claim/"' in page.content.decode()
    response = client.post(f"/tasks/{task.pk}/claim/")
    assert response.status_code == 302 and response.url == f"/tasks/{task.pk}/"
    return task


def act(browser_as, username: str, case: Case, outcome: str, **data) -> CaseTask:
    """Claim the case's open task through its page, then complete it with an outcome."""
    task = claim(browser_as, username, case)
    client = browser_as(username)
    page = client.get(f"/tasks/{task.pk}/").content.decode()
    assert f'id="outcome-{outcome}"' in page
    response = client.post(f"/tasks/{task.pk}/complete/", {"outcome": outcome, **data})
    assert response.status_code == 302, response.content.decode()[:3000]
    # The next work: a task of the inbox, else the queue if tasks wait there, else the inbox.
    assert re.fullmatch(r"/tasks/(\d+/|\?scope=(inbox|queue))", response.url), response.url
    case.refresh_from_db()
    return task


def to_handling(browser_as, case: Case) -> None:
    act(browser_as, "intake", case, "accept")
    act(browser_as, "shiftlead", case, "file")
    act(browser_as, "dispatcher", case, "dispatch")


def text(response) -> str:
    return response.content.decode()


# The whole loop ---------------------------------------------------------------------------


def test_a_case_walks_from_report_to_closed_through_the_pages(browser_as, garbage):
    case = report(browser_as, garbage)
    assert (case.stage, case.status, case.area.code) == ("intake", "open", "D01-S01-C1")
    assert case.attachments.filter(kind="before").count() == 1

    act(browser_as, "intake", case, "accept")
    assert case.stage == "filing"
    act(browser_as, "shiftlead", case, "file")
    assert case.stage == "dispatch"
    act(browser_as, "dispatcher", case, "dispatch")  # the suggested unit
    assert (case.stage, case.responsible_unit.code) == ("handling", "SANI")
    act(browser_as, "handler_sani", case, "done", result="Cleared", photos=[png("after.png")])
    assert case.stage == "check"
    act(browser_as, "inspector", case, "pass")
    assert case.stage == "closing"
    act(browser_as, "shiftlead", case, "close")
    assert (case.stage, case.status, case.archive_type) == ("ended", "closed", "normal")

    page = text(browser_as("inspector").get(f"/cases/{case.pk}/"))
    timeline = page.split('<ul class="timeline">')[1].split("</ul>")[0]
    claimed = "Claimed"
    assert re.findall(r"<strong>(.*?)</strong>", timeline) == [
        "Reported",
        *(claimed, "Accepted", claimed, "Filed", claimed, "Dispatched"),
        *(claimed, "Handled", claimed, "Check passed"),
        *(claimed, "Closed"),
    ]
    assert "Filing → Dispatch" in timeline
    assert "Cleared" in timeline  # the handler's result
    after = case.attachments.get(kind="after")
    assert f"/photos/{after.pk}/" in page  # served through the access-checked view
    assert page.count('<img src="') == 2
    actions = list(case.events.values_list("action", flat=True))
    assert actions == [
        "report",
        *("claim", "accept", "claim", "file", "claim", "dispatch"),
        *("claim", "done", "claim", "pass", "claim", "close"),
    ]


def test_task_lists_show_queue_inbox_and_done(browser_as, garbage):
    case = report(browser_as, garbage, address="8 Chaoyangmen St")
    client = browser_as("intake")
    queue = text(client.get("/tasks/?scope=queue"))
    task = open_task(case)
    assert case.number in queue and GRID in queue and "8 Chaoyangmen St" in queue
    assert f'action="/tasks/{task.pk}/claim/"' in queue
    assert timezone.localtime(task.due_at).strftime("%Y-%m-%d %H:%M") in queue

    response = client.post(f"/tasks/{task.pk}/claim/", {"next": "/tasks/?scope=queue"})
    assert response.status_code == 302 and response.url == f"/tasks/{task.pk}/"
    inbox = text(client.get("/tasks/?scope=inbox"))
    assert f'href="/tasks/{task.pk}/"' in inbox and f'action="/tasks/{task.pk}/release/"' in inbox
    assert case.number not in text(client.get("/tasks/?scope=queue"))

    response = client.post(f"/tasks/{task.pk}/release/", {"next": "/tasks/?scope=inbox"})
    assert response.status_code == 302 and response.url == "/tasks/?scope=inbox"
    assert open_task(case).status == TaskStatus.OPEN
    assert case.number in text(client.get("/tasks/?scope=queue"))

    act(browser_as, "intake", case, "accept")
    done = text(client.get("/tasks/?scope=done"))
    assert case.number in done and "accept" in done
    assert case.number not in text(client.get("/tasks/"))  # inbox by default


def test_task_lists_page_by_cursor_and_survive_a_bad_one(browser_as, garbage):
    cases = [report(browser_as, garbage, description=f"pile {n}") for n in range(26)]
    client = browser_as("intake")
    first = text(client.get("/tasks/?scope=queue"))
    cursor = re.search(r"cursor=([\w-]+)\">Next page", first)
    assert cursor, "a full page links to the next one"
    assert cases[0].number in first and cases[25].number not in first
    with CaptureQueriesContext(connection) as full_page:
        client.get("/tasks/?scope=queue")
    with CaptureQueriesContext(connection) as one_row:
        second = text(client.get(f"/tasks/?scope=queue&cursor={cursor.group(1)}"))
    assert cases[25].number in second and cases[0].number not in second
    assert len(full_page) == len(one_row), "a row costs no query of its own"
    assert "Next page" not in second

    response = client.get("/tasks/?scope=queue&cursor=not-a-cursor")
    assert response.status_code == 200
    assert "not valid" in text(response) and cases[0].number in text(response)


def test_home_sends_staff_to_their_tasks_and_others_to_log_in(browser_as, city):
    assert Client().get("/").url.startswith("/accounts/login/")
    assert Client().get("/tasks/").url.startswith("/accounts/login/")
    assert Client().get("/cases/new/").url.startswith("/accounts/login/")
    assert browser_as("inspector").get("/").url == "/tasks/"
    page = text(browser_as("supervisor").get("/tasks/"))
    assert 'href="/cases/new/"' in page and 'href="/cases/"' in page and 'href="/admin/"' in page
    assert 'href="/admin/"' not in text(browser_as("inspector").get("/tasks/"))


# Reporting --------------------------------------------------------------------------------


def test_the_report_form_groups_categories_and_defaults_the_source(browser_as, garbage):
    page = text(browser_as("inspector").get("/cases/new/"))
    assert "<optgroup" in page and f'value="{garbage.pk}"' in page
    assert GRID in page
    assert re.search(r'<option value="inspector" selected>', page)
    page = text(browser_as("intake").get("/cases/new/"))
    assert re.search(r'<option value="hotline" selected>', page)


def test_a_report_located_by_coordinates_finds_its_grid_cell(browser_as, garbage):
    case = report(browser_as, garbage, grid="", lat="31.205", lng="121.405", photos=[])
    assert case.grid.code == GRID and case.lat == 31.205


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"grid": ""}, "Give lat and lng, or a grid cell code."),
        ({"photos": [SimpleUploadedFile("x.png", b"not an image")]}, "is not a JPEG, PNG"),
        ({"description": ""}, "This field is required."),
        ({"lat": "north"}, "Enter a number."),
    ],
)
def test_a_bad_report_shows_the_error_and_saves_nothing(browser_as, garbage, fields, message):
    data = {
        "category": garbage.pk,
        "description": "d",
        "grid": GRID,
        "source": "inspector",
        "photos": [png()],
        **fields,
    }
    response = browser_as("inspector").post("/cases/new/", data)
    assert response.status_code == 400
    assert message in text(response)
    assert not Case.objects.exists() and not Attachment.objects.exists()


# Branches ---------------------------------------------------------------------------------


def test_intake_sends_to_verification_and_gets_it_back(browser_as, garbage):
    case = report(browser_as, garbage)
    act(browser_as, "intake", case, "verify")
    assert case.stage == "verify" and open_task(case).unit.code == "D01-S01"
    act(browser_as, "inspector", case, "verified", result="Seen on site")
    assert case.stage == "intake"
    act(browser_as, "intake", case, "accept")
    assert case.stage == "filing"
    assert "Seen on site" in text(browser_as("intake").get(f"/cases/{case.pk}/"))


def test_intake_marks_a_duplicate_by_case_number(browser_as, garbage):
    original = report(browser_as, garbage)
    case = report(browser_as, garbage)
    act(browser_as, "intake", case, "duplicate", duplicate_of=original.number)
    assert (case.status, case.stage, case.duplicate_of) == ("duplicate", "ended", original)
    assert original.number in text(browser_as("inspector").get(f"/cases/{case.pk}/"))


def test_a_duplicate_of_an_unknown_case_is_refused_with_the_error(browser_as, garbage):
    case = report(browser_as, garbage)
    task = claim(browser_as, "intake", case)
    response = browser_as("intake").post(
        f"/tasks/{task.pk}/complete/", {"outcome": "duplicate", "duplicate_of": "2000-999999"}
    )
    assert response.status_code == 400
    assert "Give the number of another existing case." in text(response)
    case.refresh_from_db()
    assert (case.status, case.stage) == ("open", "intake")


def test_intake_rejects_an_invalid_report(browser_as, garbage):
    case = report(browser_as, garbage)
    act(browser_as, "intake", case, "invalid", reason="Not in our city")
    assert (case.status, case.stage) == ("invalid", "ended")
    assert "Not in our city" in text(browser_as("inspector").get(f"/cases/{case.pk}/"))


def test_a_missing_reason_is_shown_and_nothing_changes(browser_as, garbage):
    case = report(browser_as, garbage)
    task = claim(browser_as, "intake", case)
    events = CaseEvent.objects.count()
    response = browser_as("intake").post(
        f"/tasks/{task.pk}/complete/", {"outcome": "invalid", "reason": "  "}
    )
    assert response.status_code == 400
    page = text(response)
    assert "This field is required." in page
    # The error sits on the outcome's own form, which is shown again.
    outcome_card = page.split('id="outcome-invalid"')[1].split('class="card')[0]
    assert "This field is required." in outcome_card
    task.refresh_from_db()
    case.refresh_from_db()
    assert (task.status, task.owner.username) == ("claimed", "intake")
    assert (case.status, case.stage) == ("open", "intake")
    assert CaseEvent.objects.count() == events


def test_the_shift_leader_refuses_to_file(browser_as, garbage):
    case = report(browser_as, garbage)
    act(browser_as, "intake", case, "accept")
    act(browser_as, "shiftlead", case, "refuse", reason="Private land")
    assert (case.status, case.stage) == ("refused", "ended")


def test_dispatch_offers_the_suggested_unit_and_takes_another(browser_as, garbage):
    case = report(browser_as, garbage)
    act(browser_as, "intake", case, "accept")
    act(browser_as, "shiftlead", case, "file")
    task = claim(browser_as, "dispatcher", case)
    page = text(browser_as("dispatcher").get(f"/tasks/{task.pk}/"))
    sani = Unit.objects.get(code="SANI")
    assert f'<option value="{sani.pk}" selected>' in page
    assert "Default unit of category 0102" in page
    muni = Unit.objects.get(code="MUNI")
    response = browser_as("dispatcher").post(
        f"/tasks/{task.pk}/complete/", {"outcome": "dispatch", "unit": muni.pk}
    )
    assert response.status_code == 302
    case.refresh_from_db()
    assert case.responsible_unit == muni and open_task(case).unit == muni


def test_an_approved_return_goes_back_to_dispatch(browser_as, garbage):
    case = report(browser_as, garbage)
    to_handling(browser_as, case)
    act(browser_as, "handler_sani", case, "return", reason="Not ours: a water pipe")
    assert case.stage == "return_review"
    act(browser_as, "shiftlead", case, "approve")
    assert case.stage == "dispatch"
    act(browser_as, "dispatcher", case, "dispatch", unit=Unit.objects.get(code="WATER").pk)
    assert case.responsible_unit.code == "WATER"


def test_a_rejected_return_goes_back_to_the_same_unit(browser_as, garbage):
    case = report(browser_as, garbage)
    to_handling(browser_as, case)
    act(browser_as, "handler_sani", case, "return", reason="Too far")
    act(browser_as, "shiftlead", case, "reject", reason="It is yours")
    assert case.stage == "handling" and open_task(case).unit.code == "SANI"
    assert "It is yours" in text(browser_as("handler_sani").get(f"/cases/{case.pk}/"))


def test_done_needs_an_after_photo(browser_as, garbage):
    case = report(browser_as, garbage)
    to_handling(browser_as, case)
    task = claim(browser_as, "handler_sani", case)
    response = browser_as("handler_sani").post(
        f"/tasks/{task.pk}/complete/", {"outcome": "done", "result": "Cleared"}
    )
    assert response.status_code == 400
    assert "Add a photo of the result" in text(response)
    case.refresh_from_db()
    assert case.stage == "handling" and not case.attachments.filter(kind="after").exists()


def test_a_failed_check_is_reworked_by_the_same_unit(browser_as, garbage):
    case = report(browser_as, garbage)
    to_handling(browser_as, case)
    act(browser_as, "handler_sani", case, "done", result="Cleared", photos=[png()])
    act(browser_as, "inspector", case, "fail", reason="Still dirty")
    assert (case.stage, case.rework_count) == ("handling", 1)
    rework = open_task(case)
    assert (rework.unit.code, rework.status, rework.owner.username) == (
        "SANI",
        "claimed",
        "handler_sani",
    )
    # Nothing to claim: the rework is already the handler's.
    response = browser_as("handler_sani").post(
        f"/tasks/{rework.pk}/complete/",
        {"outcome": "done", "result": "Cleared again", "photos": [png()]},
    )
    assert response.status_code == 302, text(response)[:2000]
    act(browser_as, "inspector", case, "pass")
    act(browser_as, "shiftlead", case, "close", archive_type="special", reason="Festival")
    assert (case.status, case.archive_type, case.rework_count) == ("closed", "special", 1)
    page = text(browser_as("shiftlead").get(f"/cases/{case.pk}/"))
    assert "Still dirty" in page and "Festival" in page


def test_the_shift_leader_cancels_a_case(browser_as, garbage):
    case = report(browser_as, garbage)
    act(browser_as, "intake", case, "accept")
    page = text(browser_as("shiftlead").get(f"/cases/{case.pk}/"))
    assert f'action="/cases/{case.pk}/cancel/"' in page

    response = browser_as("shiftlead").post(f"/cases/{case.pk}/cancel/", {"reason": ""})
    assert response.status_code == 400 and "Give the reason for cancelling." in text(response)
    case.refresh_from_db()
    assert case.status == "open"

    response = browser_as("shiftlead").post(f"/cases/{case.pk}/cancel/", {"reason": "Test data"})
    assert response.status_code == 302 and response.url == f"/cases/{case.pk}/"
    case.refresh_from_db()
    assert (case.status, case.stage) == ("cancelled", "ended")
    assert not CaseTask.objects.filter(case=case, status__in=["open", "claimed"]).exists()
    page = text(browser_as("shiftlead").get(f"/cases/{case.pk}/"))
    assert "Cancelled" in page and "Test data" in page
    assert f'action="/cases/{case.pk}/cancel/"' not in page


def test_only_the_shift_leader_may_cancel(browser_as, garbage):
    case = report(browser_as, garbage)
    page = text(browser_as("inspector").get(f"/cases/{case.pk}/"))
    assert "/cancel/" not in page
    response = browser_as("inspector").post(f"/cases/{case.pk}/cancel/", {"reason": "Mine"})
    assert response.status_code == 302
    assert "Only the shift leader" in text(browser_as("inspector").get(response.url))
    case.refresh_from_db()
    assert case.status == "open"


# Who sees what ----------------------------------------------------------------------------


def test_another_unit_gets_404_on_the_task_and_the_case(browser_as, garbage):
    case = report(browser_as, garbage)
    to_handling(browser_as, case)
    task = open_task(case)
    muni = browser_as("handler_muni")
    assert muni.get(f"/tasks/{task.pk}/").status_code == 404
    assert muni.get(f"/cases/{case.pk}/").status_code == 404
    assert muni.post(f"/tasks/{task.pk}/claim/").status_code == 404
    assert muni.post(f"/tasks/{task.pk}/complete/", {"outcome": "done"}).status_code == 404
    assert muni.post(f"/cases/{case.pk}/cancel/", {"reason": "x"}).status_code == 404
    assert muni.get("/tasks/999999/").status_code == 404
    assert case.number not in text(muni.get("/tasks/?scope=queue"))
    assert case.number not in text(muni.get("/cases/"))
    task.refresh_from_db()
    assert task.status == TaskStatus.OPEN


def test_completing_without_claiming_is_refused(browser_as, garbage):
    case = report(browser_as, garbage)
    task = open_task(case)
    client = browser_as("intake")
    page = text(client.get(f"/tasks/{task.pk}/"))
    assert 'id="outcome-accept"' not in page  # no outcome forms before claiming
    response = client.post(f"/tasks/{task.pk}/complete/", {"outcome": "accept"})
    assert response.status_code == 302 and response.url == f"/tasks/{task.pk}/"
    assert "Claim the task before completing it." in text(client.get(response.url))
    case.refresh_from_db()
    assert case.stage == "intake"


def test_claiming_your_own_task_again_says_you_hold_it(browser_as, garbage):
    case = report(browser_as, garbage)
    task = claim(browser_as, "intake", case)
    response = browser_as("intake").post(
        f"/tasks/{task.pk}/claim/", {"next": "/tasks/?scope=queue"}
    )
    assert response.status_code == 302 and response.url == "/tasks/?scope=queue"
    assert "You already hold this task." in text(browser_as("intake").get(response.url))


def test_reporter_contact_is_for_the_reporter_and_intake_only(browser_as, garbage):
    case = report(browser_as, garbage)
    act(browser_as, "intake", case, "accept")
    assert "13800000000" in text(browser_as("inspector").get(f"/cases/{case.pk}/"))
    assert "13800000000" in text(browser_as("intake").get(f"/cases/{case.pk}/"))
    assert "13800000000" not in text(browser_as("shiftlead").get(f"/cases/{case.pk}/"))


def test_the_case_list_shows_visible_cases_filtered_by_status(browser_as, garbage):
    open_case = report(browser_as, garbage)
    ended = report(browser_as, garbage)
    act(browser_as, "intake", ended, "invalid", reason="No")
    client = browser_as("inspector")
    page = text(client.get("/cases/"))
    assert f'href="/cases/{open_case.pk}/"' in page and f'href="/cases/{ended.pk}/"' in page
    page = text(client.get("/cases/?status=open"))
    assert open_case.number in page and ended.number not in page
    page = text(client.get("/cases/?status=invalid"))
    assert ended.number in page and open_case.number not in page
    response = client.get("/cases/?cursor=garbage!")
    assert response.status_code == 200 and open_case.number in text(response)


def test_the_case_list_pages_newest_first(browser_as, garbage):
    cases = [report(browser_as, garbage, photos=[]) for _ in range(27)]
    client = browser_as("supervisor")
    first = text(client.get("/cases/"))
    assert cases[-1].number in first and cases[1].number not in first
    cursor = re.search(r"cursor=([\w-]+)\">Next page", first).group(1)
    second = text(client.get(f"/cases/?cursor={cursor}"))
    assert cases[1].number in second and cases[0].number in second
    assert cases[-1].number not in second and "Next page" not in second


def test_the_unit_head_sends_a_handling_task_to_a_sub_unit(browser_as, garbage):
    case = report(browser_as, garbage)
    to_handling(browser_as, case)
    task = open_task(case)
    head = browser_as("unithead_sani")
    page = text(head.get(f"/tasks/{task.pk}/"))
    east, road = Unit.objects.get(code="SANI-E"), Unit.objects.get(code="MUNI-ROAD")
    assert f'action="/tasks/{task.pk}/subdispatch/"' in page
    assert f'value="{east.pk}"' in page and f'value="{road.pk}"' not in page
    assert 'id="outcome-' not in page

    response = head.post(f"/tasks/{task.pk}/subdispatch/", {"unit": road.pk})
    assert response.status_code == 400
    task.refresh_from_db()
    assert task.unit.code == "SANI"

    response = head.post(f"/tasks/{task.pk}/subdispatch/", {"unit": east.pk})
    assert response.status_code == 302
    task.refresh_from_db()
    assert task.unit == east
    # The sanitation handler (posted with sub-units) still has it in the queue.
    assert case.number in text(browser_as("handler_sani").get("/tasks/?scope=queue"))
    assert "/subdispatch/" not in text(browser_as("handler_sani").get(f"/tasks/{task.pk}/"))
    assert browser_as("handler_muni").post(f"/tasks/{task.pk}/subdispatch/").status_code == 404
