"""The REST API for reporters and case readers: tokens, categories, reporting, reading a case
and its timeline, cancelling; status codes and error bodies."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from rest_framework.test import APIClient

from departments.models import GridCell
from workflows.models import Case, CaseEvent, Category

pytestmark = pytest.mark.django_db


def missing(client, url: str = "/api/v1/cases/999999/") -> dict:
    """The body of a 404 for an id that does not exist: "not yours" must look the same."""
    response = client.get(url)
    assert response.status_code == 404 and response.json()["error"]["code"] == "not_found"
    return response.json()


# --- authentication --------------------------------------------------------------------------


def test_a_token_is_issued_for_good_credentials_only(demo):
    client = APIClient()
    bad = client.post(
        "/api/v1/auth/token/", {"username": "intake", "password": "nope"}, format="json"
    )
    assert bad.status_code == 400
    assert bad.json()["error"]["code"] == "invalid"
    assert bad.json()["error"]["fields"]["non_field_errors"]
    missing = client.post("/api/v1/auth/token/", {"username": "intake"}, format="json")
    assert missing.status_code == 400 and "password" in missing.json()["error"]["fields"]

    good = client.post(
        "/api/v1/auth/token/", {"username": "intake", "password": "pw"}, format="json"
    )
    assert good.status_code == 200
    client.credentials(HTTP_AUTHORIZATION=f"Token {good.json()['token']}")
    assert client.get("/api/v1/tasks/").status_code == 200


@pytest.mark.parametrize(
    "method, url",
    [
        ("get", "/api/v1/categories/"),
        ("post", "/api/v1/cases/"),
        ("get", "/api/v1/cases/1/"),
        ("get", "/api/v1/tasks/"),
        ("post", "/api/v1/tasks/1/claim/"),
    ],
)
def test_without_a_token_the_answer_is_401(demo, method, url):
    response = getattr(APIClient(), method)(url)
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "not_authenticated"
    assert response["WWW-Authenticate"] == "Token"


def test_a_wrong_token_is_401(demo):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Token 0123456789abcdef")
    response = client.get("/api/v1/tasks/")
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "authentication_failed"


def test_session_login_also_works(demo, users):
    client = APIClient()
    client.force_login(users("intake"))
    assert client.get("/api/v1/categories/").status_code == 200


# --- categories ------------------------------------------------------------------------------


def test_categories_are_those_of_the_citys_scheme(demo, api):
    Category.objects.filter(scheme=demo.scheme, code="0103", kind="event").update(is_active=False)
    response = api("inspector").get("/api/v1/categories/")
    assert response.status_code == 200
    rows = response.json()
    assert rows and {r["scheme"] for r in rows} == {"GB/T 30428.2"}
    garbage = next(r for r in rows if r["id"] == demo.garbage.pk)
    assert garbage == {
        "id": demo.garbage.pk,
        "scheme": "GB/T 30428.2",
        "kind": "event",
        "major_code": "01",
        "major_name": "市容环境",
        "code": "0102",
        "name": "暴露垃圾",
        "default_unit": "SANI",
        "limit_value": 4,
        "limit_unit": "working_hours",
        "urgency": "normal",
    }
    assert not [r for r in rows if r["kind"] == "event" and r["code"] == "0103"]


def test_without_a_chosen_scheme_every_active_category_is_listed(demo, api):
    demo.city.category_scheme = None
    demo.city.save(update_fields=["category_scheme"])
    rows = api("inspector").get("/api/v1/categories/").json()
    assert len(rows) == Category.objects.filter(is_active=True).count()
    assert {r["scheme"] for r in rows} == {"GB/T 30428.2", "GB/T 47678.5-2026"}


# --- reporting -------------------------------------------------------------------------------


def test_report_by_point_as_json(demo, api):
    cell = GridCell.objects.get(code="D01-S02-C1-G2")
    response = api("inspector").post(
        "/api/v1/cases/",
        {
            "category": demo.garbage.pk,
            "description": "垃圾 Garbage",
            "lat": cell.centre_lat,
            "lng": cell.centre_lng,
            "address": "东华路 1 号",
        },
        format="json",
    )
    assert response.status_code == 201, response.content
    case = response.json()
    assert case["number"].endswith("-000001")
    assert (case["stage"], case["status"], case["source"]) == ("intake", "open", "api")
    assert case["grid"] == cell.code and case["area"]["code"] == cell.area.code
    assert case["category"] == {
        "id": demo.garbage.pk,
        "code": "0102",
        "name": "暴露垃圾",
        "kind": "event",
    }
    assert case["urgency"] == "normal" and case["responsible_unit"] is None
    assert [(t["stage"], t["role"], t["unit"]) for t in case["open_tasks"]] == [
        ("intake", "intake", "CC")
    ]
    assert Case.objects.get(pk=case["id"]).reported_by.username == "inspector"


def test_report_with_grid_and_photos_as_multipart(walk, png):
    case = walk.report(
        photos=[png("a.png"), png("b.png")],
        urgency="urgent",
        reporter_name="李女士 Ms Li",
        reporter_contact="13800000000",
    )
    assert case["urgency"] == "urgent" and case["grid"] == walk.demo.grid
    assert [p["kind"] for p in case["photos"]] == ["before", "before"]
    assert all(p["url"].startswith("http://testserver/") for p in case["photos"])
    assert case["reporter_contact"] == "13800000000"


def test_reporter_contact_is_for_the_reporter_and_intake_only(walk):
    case = walk.report(reporter_name="李女士", reporter_contact="13800000000")
    walk.act("intake", case["id"], "accept")
    for username in ("inspector", "intake"):
        seen = walk.case(case["id"], username)
        assert (seen["reporter_name"], seen["reporter_contact"]) == ("李女士", "13800000000")
    for username in ("shiftlead", "supervisor"):
        seen = walk.case(case["id"], username)
        assert "reporter_contact" not in seen and "reporter_name" not in seen


def _bad_reports(demo):
    ok = {"category": demo.garbage.pk, "description": "d", "grid": demo.grid}
    other_scheme = Category.objects.exclude(scheme=demo.scheme).first().pk
    return [
        ({**ok, "category": 999999}, "category"),
        ({**ok, "category": other_scheme}, "category"),
        ({**ok, "category": "abc"}, "category"),
        ({**ok, "category": [1]}, "category"),
        ({**ok, "category": 10**30}, "category"),
        ({k: v for k, v in ok.items() if k != "category"}, "category"),
        ({k: v for k, v in ok.items() if k != "grid"}, "location"),
        ({**ok, "grid": None, "lat": 31.2}, "location"),
        ({**ok, "grid": None, "lat": 10.0, "lng": 10.0}, "location"),
        ({**ok, "grid": "NOPE"}, "grid"),
        ({**ok, "lat": 91, "lng": 0}, "lat"),
        ({**ok, "lat": "north", "lng": 0}, "lat"),
        ({**ok, "description": "   "}, "description"),
        ({**ok, "source": "pigeon"}, "source"),
        ({**ok, "urgency": "yesterday"}, "urgency"),
        ({**ok, "photos": "a.png"}, "photos"),
    ]


def test_bad_reports_are_400_and_save_nothing(demo, api):
    for data, field in _bad_reports(demo):
        response = api("inspector").post("/api/v1/cases/", data, format="json")
        assert response.status_code == 400, (data, response.content)
        error = response.json()["error"]
        assert error["code"] == "invalid" and field in error["fields"], (data, error)
        assert all(isinstance(m, str) for ms in error["fields"].values() for m in ms)
    assert not Case.objects.exists() and not CaseEvent.objects.exists()


def test_a_text_file_named_png_is_refused_and_nothing_is_saved(demo, api, png):
    fake = SimpleUploadedFile("evil.png", b"just some text, not an image", "image/png")
    response = api("inspector").post(
        "/api/v1/cases/",
        {
            "category": demo.garbage.pk,
            "description": "d",
            "grid": demo.grid,
            "photos": [png(), fake],
        },
        format="multipart",
    )
    assert response.status_code == 400
    assert "evil.png" in response.json()["error"]["fields"]["photos"][0]
    assert not Case.objects.exists() and not CaseEvent.objects.exists()


def test_malformed_json_is_400(demo, api):
    response = api("inspector").post(
        "/api/v1/cases/", data='{"category": 1,', content_type="application/json"
    )
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "parse_error"
    response = api("inspector").post(
        "/api/v1/cases/", data="[1, 2]", content_type="application/json"
    )
    assert response.status_code == 400
    assert "non_field_errors" in response.json()["error"]["fields"]
    assert not Case.objects.exists()


def test_wrong_method_and_media_type(demo, api):
    assert api("inspector").delete("/api/v1/cases/").status_code == 405  # GET lists (search)
    response = api("inspector").post("/api/v1/cases/", data="x", content_type="text/plain")
    assert response.status_code == 415
    assert response.json()["error"]["code"] == "unsupported_media_type"


# --- reading ---------------------------------------------------------------------------------


def test_a_case_of_another_unit_looks_missing(walk, api):
    case = walk.report()
    walk.to_handling(case["id"])  # now a SANI case
    assert walk.case(case["id"], "handler_sani")["responsible_unit"]["code"] == "SANI"
    muni = api("handler_muni")
    for path in ("", "timeline/"):
        response = muni.get(f"/api/v1/cases/{case['id']}/{path}")
        assert response.status_code == 404
        assert response.json() == missing(muni, f"/api/v1/cases/999999/{path}")
    assert api("handler_muni").get("/api/v1/cases/abc/").status_code == 404
    assert api("handler_muni").get(f"/api/v1/cases/{10**30}/").status_code == 404


def test_the_case_shows_its_open_tasks_with_the_readers_outcomes(walk, api):
    case = walk.report()
    task = walk.queued("intake", case["id"])
    walk.claim("intake", task["id"])
    as_intake = walk.case(case["id"], "intake")["open_tasks"]
    as_supervisor = walk.case(case["id"], "supervisor")["open_tasks"]
    assert [t["id"] for t in as_intake] == [task["id"]]
    assert as_intake[0]["owner"] == "intake" and as_intake[0]["status"] == "claimed"
    assert as_intake[0]["outcomes"] == ["accept", "invalid", "duplicate", "verify"]
    assert as_supervisor[0]["outcomes"] == []


# --- cancelling ------------------------------------------------------------------------------


def test_the_shift_leader_cancels_with_a_reason(walk, api):
    case = walk.report()
    walk.act("intake", case["id"], "accept")
    url = f"/api/v1/cases/{case['id']}/cancel/"

    response = api("intake").post(url, {"reason": "x"}, format="json")  # sees it, may not
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "not_allowed"
    response = api("handler_muni").post(url, {"reason": "x"}, format="json")
    assert (response.status_code, response.json()) == (404, missing(api("handler_muni")))
    response = api("shiftlead").post(url, {}, format="json")
    assert response.status_code == 400 and "reason" in response.json()["error"]["fields"]
    assert walk.case(case["id"])["status"] == "open"

    response = api("shiftlead").post(url, {"reason": "重复上报 Reported twice"}, format="json")
    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["status"], body["stage"], body["open_tasks"]) == ("cancelled", "ended", [])
    assert body["closed_at"]
    again = api("shiftlead").post(url, {"reason": "again"}, format="json")
    assert again.status_code == 409 and again.json()["error"]["code"] == "case_not_open"
    events = walk.timeline(case["id"])
    assert events[-1]["action"] == "cancel" and events[-1]["actor"] == "shiftlead"
    assert events[-1]["payload"] == {"reason": "重复上报 Reported twice"}
    queue = api("shiftlead").get("/api/v1/tasks/", {"scope": "queue"}).json()["results"]
    assert case["id"] not in [t["case"]["id"] for t in queue]


@pytest.mark.django_db
def test_unmatched_api_urls_answer_in_json(client):
    response = client.get("/api/v1/tasks/abc/")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"
    assert client.get("/no-such-page/").status_code == 404
