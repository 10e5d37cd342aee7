"""Item 8 of issue 10: one description limit (4,000 characters) on every way in, and a user
claiming their own task twice is told they already hold it."""

import pytest
from django.core.exceptions import ValidationError
from django.test import Client

from workflows.integrations.keys import api_key_issue
from workflows.models import DESCRIPTION_MAX_LENGTH, Case
from workflows.services.cases import CaseReport, case_report

pytestmark = pytest.mark.django_db

LONGEST = "垃" * DESCRIPTION_MAX_LENGTH
TOO_LONG = LONGEST + "圾"


def test_the_limit_is_4000_and_the_model_says_so():
    assert DESCRIPTION_MAX_LENGTH == 4000
    assert Case._meta.get_field("description").max_length == 4000


def api_report(api, demo, description):
    data = {"category": demo.garbage.pk, "description": description, "grid": demo.grid,
            "source": "inspector"}  # fmt: skip
    return api("inspector").post("/api/v1/cases/", data, format="json")


def test_the_api_takes_4000_characters_and_refuses_more(api, demo):
    assert api_report(api, demo, LONGEST).status_code == 201
    response = api_report(api, demo, TOO_LONG)
    assert response.status_code == 400 and "description" in response.json()["error"]["fields"]
    assert Case.objects.count() == 1


def test_the_service_refuses_more_than_4000(demo, users):
    report = CaseReport(category=demo.garbage.pk, description=TOO_LONG, grid=demo.grid,
                        source="inspector")  # fmt: skip
    with pytest.raises(ValidationError) as caught:
        case_report(actor=users("inspector"), report=report)
    assert "description" in caught.value.message_dict
    assert not Case.objects.exists()


def test_the_report_form_refuses_more_than_4000(demo, users):
    client = Client()
    client.force_login(users("inspector"))
    data = {"category": demo.garbage.pk, "grid": demo.grid, "source": "inspector"}
    response = client.post("/cases/new/", {**data, "description": TOO_LONG})
    assert response.status_code in (200, 400) and not Case.objects.exists()
    assert "at most 4000 characters" in response.content.decode()
    form = response.context["form"]
    assert form.fields["description"].max_length == 4000


@pytest.mark.parametrize(("description", "status"), [(LONGEST, 200), (TOO_LONG, 400)])
def test_open311_takes_4000_characters_and_refuses_more(demo, users, description, status):
    _record, raw = api_key_issue(actor=users("admin"), name="app", scopes=["cases:report"])
    response = Client().post(
        "/open311/v2/requests.json",
        {"api_key": raw, "service_code": "event-0102", "description": description,
         "lat": "31.205", "long": "121.405"},
    )  # fmt: skip
    assert response.status_code == status, response.content[:300]


@pytest.mark.parametrize(
    ("language", "message"),
    [("en", "You already hold this task."), ("zh-hans", "您已领取此任务。")],
)
def test_claiming_your_own_task_twice_says_you_hold_it(walk, api, language, message):
    case_id = walk.report()["id"]
    task = walk.queued("intake", case_id)
    walk.claim("intake", task["id"])
    response = api("intake").post(
        f"/api/v1/tasks/{task['id']}/claim/", headers={"Accept-Language": language}
    )
    assert response.status_code == 409
    assert response.json()["error"] == {"code": "task_already_yours", "message": message}


def test_the_task_page_says_so_too(walk, users):
    case_id = walk.report()["id"]
    task = walk.queued("intake", case_id)
    walk.claim("intake", task["id"])
    client = Client()
    client.force_login(users("intake"))
    response = client.post(f"/tasks/{task['id']}/claim/", follow=True, HTTP_ACCEPT_LANGUAGE="en")
    assert "You already hold this task." in response.content.decode()
