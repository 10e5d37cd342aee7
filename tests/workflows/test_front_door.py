"""The front-door helpers every interface uses: cursor pages of the API's list endpoints
(workflows.api.pagination), page actions calling a service (workflows.views.actions), and ids
in URLs (workflows.converters)."""

import pytest
from django.contrib.auth import get_user_model
from django.contrib.messages import get_messages
from django.contrib.messages.middleware import MessageMiddleware
from django.contrib.sessions.middleware import SessionMiddleware
from django.core.exceptions import PermissionDenied, ValidationError
from django.test import RequestFactory

from workflows.services.errors import Conflict
from workflows.views.actions import next_or, service_action

pytestmark = pytest.mark.django_db

LISTS = [
    "/api/v1/tasks/",
    "/api/v1/notifications/",
    "/api/v1/sla/breaches/",
    "/api/v1/supervision/",
]


@pytest.mark.parametrize("url", LISTS)
@pytest.mark.parametrize("cursor", ["garbage", "MjAyNi0wMS0wMXwx", "eHx5", "²"])
def test_a_cursor_we_did_not_make_is_400_on_the_cursor_field(api, url, cursor):
    response = api("supervisor").get(url, {"cursor": cursor})
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "invalid"
    assert list(error["fields"]) == ["cursor"]
    assert "not valid" in error["fields"]["cursor"][0]


@pytest.mark.parametrize("url", LISTS)
def test_every_list_answers_results_and_next(api, url):
    body = api("supervisor").get(url, {"limit": 1}).json()
    assert {"results", "next"} <= set(body)


def test_next_keeps_the_query_and_reads_the_following_page(api, walk):
    first, second = walk.report()["id"], walk.report()["id"]
    intake = api("intake")
    page = intake.get("/api/v1/tasks/", {"scope": "queue", "limit": 1}).json()
    assert [t["case"]["id"] for t in page["results"]] == [first]
    assert "scope=queue" in page["next"] and "limit=1" in page["next"]
    following = intake.get(page["next"]).json()
    assert [t["case"]["id"] for t in following["results"]] == [second]
    assert following["next"] is None


# --- page actions ----------------------------------------------------------------------------


@pytest.fixture
def post(demo):
    """post(data) → a POST request with a session, messages and a user, as a page gets it."""

    def make(data=None):
        request = RequestFactory().post("/somewhere/", data or {})
        SessionMiddleware(lambda r: None).process_request(request)
        MessageMiddleware(lambda r: None).process_request(request)
        request.user = get_user_model().objects.get(username="intake")
        return request

    return make


def _raise(exc):
    def call():
        raise exc

    return call


@pytest.mark.parametrize(
    ("exc", "said"),
    [
        (Conflict("Someone else holds the task."), "Someone else holds the task."),
        (PermissionDenied("Not your unit's."), "Not your unit's."),
        (PermissionDenied(), "You may not do this."),
        (ValidationError("Give a reason."), "Give a reason."),
    ],
)
def test_a_refused_action_is_a_message_and_back(post, exc, said):
    request = post()
    response = service_action(request, _raise(exc), success="done", then="/ok/", back="/back/")
    assert (response.status_code, response["Location"]) == (302, "/back/")
    assert [str(m) for m in get_messages(request)] == [said]


def test_a_successful_action_says_so_and_redirects_by_its_result(post):
    request = post()
    response = service_action(
        request, lambda: 7, success=lambda n: f"made {n}", then=lambda n: f"/made/{n}/"
    )
    assert (response.status_code, response["Location"]) == (302, "/made/7/")
    assert [str(m) for m in get_messages(request)] == ["made 7"]


def test_service_errors_land_on_the_form_and_the_page_is_shown_again(post):
    from django import forms
    from django.http import HttpResponse

    class ReasonForm(forms.Form):
        reason = forms.CharField(required=False)

    request = post({"reason": ""})
    form = ReasonForm(request.POST)
    called = []
    response = service_action(
        request,
        _raise(ValidationError({"reason": "Give a reason.", "other": "Not on the form."})),
        form=form,
        invalid=lambda: HttpResponse(status=400),
        success="done",
        then="/ok/",
    )
    assert response.status_code == 400
    assert form.errors == {"reason": ["Give a reason."], "__all__": ["Not on the form."]}
    conflicted = ReasonForm(request.POST)
    service_action(
        request,
        _raise(Conflict("Closed meanwhile.")),
        form=conflicted,  # no `back`: the refusal is shown above the form
        invalid=lambda: called.append("again") or HttpResponse(status=400),
        success="done",
        then="/ok/",
    )
    assert conflicted.non_field_errors() == ["Closed meanwhile."] and called == ["again"]


def test_an_invalid_form_does_not_call_the_service(post):
    from django import forms
    from django.http import HttpResponse

    class NeedsNumber(forms.Form):
        n = forms.IntegerField()

    called = []
    response = service_action(
        post(),
        lambda: called.append(1),
        form=NeedsNumber({"n": "x"}),
        invalid=lambda: HttpResponse(status=400),
        success="done",
        then="/ok/",
    )
    assert response.status_code == 400 and called == []


def test_next_or_only_follows_our_own_pages(post):
    assert next_or(post({"next": "/tasks/?scope=queue"}), "/x/") == "/tasks/?scope=queue"
    assert next_or(post({"next": "https://evil.example/"}), "/x/") == "/x/"
    assert next_or(post(), "/x/") == "/x/"


# --- ids in URLs -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "/tasks/99999999999999999999/",
        "/tasks/9223372036854775808/",
        "/cases/9223372036854775808/",
        "/api/v1/tasks/9223372036854775808/",
        "/api/v1/cases/99999999999999999999/",
    ],
)
def test_an_id_no_row_can_have_is_404_not_an_overflow(client, users, url):
    client.force_login(users("supervisor"))
    assert client.get(url).status_code == 404
