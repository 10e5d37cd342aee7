"""Open311 GeoReport v2: every response validates against the published JSON Schemas, XML carries
the same data as JSON, reporting needs a key with cases:report and leaves nothing on bad input."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from xml.etree import ElementTree as ET

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django.utils import timezone
from jsonschema import Draft7Validator, FormatChecker
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT7

from departments.demo import seed_accounts, seed_organisation
from workflows.integrations.keys import api_key_issue, api_key_revoke
from workflows.models import Case, CaseStatus, Category, CategoryScheme
from workflows.open311 import views as open311_views
from workflows.services.cases import CaseReport, case_report
from workflows.services.categories import categories_import

# The published GeoReport v2 JSON Schemas, vendored with their source (tests/fixtures/open311/).
SCHEMAS = Path(__file__).resolve().parents[1] / "fixtures/open311"
CATEGORIES_CSV = Path(__file__).resolve().parents[2] / "workflows/data/categories.csv"
BASE = "/open311/v2/"
INSIDE = {"lat": "31.205", "long": "121.405"}  # inside the demo grid cell D01-S01-C1-G1

pytestmark = pytest.mark.django_db


# Schemas -----------------------------------------------------------------------------------

_formats = FormatChecker()


@_formats.checks("date-time", raises=ValueError)
def _date_time(value) -> bool:
    """RFC 3339: a full date and time with its offset (jsonschema only checks this with an extra
    package installed, so the check is spelt out here)."""
    if not isinstance(value, str):
        return True
    parsed = dt.datetime.fromisoformat(value)
    return "T" in value and parsed.tzinfo is not None


def _registry() -> Registry:
    resources = []
    for name in ("service", "services", "service-definition", "request", "requests"):
        contents = json.loads((SCHEMAS / f"{name}.json").read_text())
        resources.append((f"{name}.json", Resource.from_contents(contents, DRAFT7)))
    return Registry().with_resources(resources)


REGISTRY = _registry()


def assert_valid(schema: str, data) -> None:
    """Raise on the first schema error (the schemas declare no $schema: Draft 7)."""
    contents = REGISTRY[f"{schema}.json"].contents
    Draft7Validator(contents, registry=REGISTRY, format_checker=_formats).validate(data)


def test_schema_check_can_fail():
    with pytest.raises(Exception, match="is not one of"):
        assert_valid(
            "requests",
            [
                {
                    "service_request_id": "1",
                    "status": "pending",
                    "service_code": "x",
                    "requested_datetime": "2026-01-01T10:00:00+08:00",
                }
            ],
        )
    with pytest.raises(Exception, match="date-time"):
        assert_valid(
            "request",
            {
                "service_request_id": "1",
                "status": "open",
                "service_code": "x",
                "requested_datetime": "2026-01-01 10:00",
            },
        )
    with pytest.raises(Exception, match="required"):
        assert_valid("services", [{"service_code": "x"}])


# XML ---------------------------------------------------------------------------------------


def _scalar(value) -> str | None:
    if value is None or value == []:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def assert_same(element: ET.Element, data) -> None:
    """The XML element carries exactly the JSON value, field by field and in order."""
    if isinstance(data, dict):
        assert [child.tag for child in element] == list(data), element.tag
        for child, value in zip(element, data.values(), strict=True):
            assert_same(child, value)
    elif isinstance(data, list) and data:
        assert len(element) == len(data), element.tag
        for child, value in zip(element, data, strict=True):
            assert_same(child, value)
    else:
        assert len(element) == 0, element.tag
        assert (element.text or None) == _scalar(data), (element.tag, element.text, data)


def get_both(client: Client, path: str, params=None, status: int = 200):
    """GET path.json and path.xml; both answer `status` with the same data. Returns (data, xml)."""
    as_json = client.get(f"{BASE}{path}.json", params or {})
    as_xml = client.get(f"{BASE}{path}.xml", params or {})
    assert as_json.status_code == status, as_json.content
    assert as_xml.status_code == status, as_xml.content
    assert as_json["Content-Type"].startswith("application/json")
    assert as_xml["Content-Type"].startswith("text/xml")
    data = as_json.json()
    root = ET.fromstring(as_xml.content)
    assert_same(root, data)
    return data, root


def assert_error(response, status: int, fmt: str = "json", contains: str = "") -> str:
    """The spec's error body with the status as its code; returns the description."""
    assert response.status_code == status, response.content
    if fmt == "xml":
        root = ET.fromstring(response.content)
        assert root.tag == "errors"
        [error] = root.findall("error")
        assert error.findtext("code") == str(status)
        description = error.findtext("description")
    else:
        [error] = response.json()
        assert set(error) == {"code", "description"}
        assert error["code"] == status
        description = error["description"]
    assert description and contains.lower() in description.lower(), description
    return description


# Fixtures ----------------------------------------------------------------------------------


@pytest.fixture
def city():
    org = seed_organisation()
    categories_import(rows_source=CATEGORIES_CSV)
    org.city.category_scheme = CategoryScheme.objects.get(code="GB/T 30428.2")
    org.city.save(update_fields=["category_scheme"])
    seed_accounts("pw")
    return org.city


@pytest.fixture
def admin(city):
    return get_user_model().objects.get(username="admin")


@pytest.fixture
def key(admin):
    record, raw = api_key_issue(actor=admin, name="app", scopes=["cases:report"])
    record.raw = raw
    return record


@pytest.fixture
def client():
    return Client(enforce_csrf_checks=True)  # POST must work without a CSRF token


def post(client: Client, fmt: str = "json", **fields):
    return client.post(f"{BASE}requests.{fmt}", fields)


def report(key, **fields) -> dict:
    return {
        "api_key": key.raw,
        "service_code": "event-0102",
        "description": "人行道上暴露垃圾 Exposed garbage",
        **INSIDE,
        **fields,
    }


def make_case(actor, code: str = "0102", kind: str = "event", **fields) -> Case:
    category = Category.objects.get(scheme__code="GB/T 30428.2", kind=kind, code=code)
    data = {"description": "Garbage", "source": "api", "lat": 31.205, "lng": 121.405, **fields}
    return case_report(actor=actor, report=CaseReport(category=category.pk, **data))


# Discovery and services --------------------------------------------------------------------


def test_discovery(client, city):
    data, root = get_both(client, "discovery")
    [endpoint] = data["endpoints"]
    assert endpoint["url"] == "http://testserver/open311/v2/"
    assert endpoint["specification"] == "http://wiki.open311.org/GeoReport_v2"
    assert endpoint["type"] == "production"
    assert endpoint["formats"] == ["text/xml", "application/json"]
    assert data["changeset"] and data["contact"] and data["key_service"]
    assert [f.text for f in root.find("endpoints/endpoint/formats")] == endpoint["formats"]


def test_services_are_the_active_scheme_with_kind_in_the_code(client, city):
    data, _root = get_both(client, "services")
    assert_valid("services", data)
    active = Category.objects.filter(scheme=city.category_scheme, is_active=True)
    assert len(data) == active.count()
    codes = [s["service_code"] for s in data]
    assert len(set(codes)) == len(codes)
    # Component 0102 and event 0102 both exist and stay apart.
    by_code = {s["service_code"]: s for s in data}
    garbage = active.get(kind="event", code="0102")
    assert by_code["event-0102"]["service_name"] == garbage.name
    assert by_code["event-0102"]["group"] == garbage.major_name
    assert by_code["component-0102"]["service_name"] != garbage.name
    assert by_code["event-0102"]["metadata"] is False
    assert by_code["event-0102"]["type"] == "realtime"
    assert "event" in by_code["event-0102"]["keywords"]
    assert garbage.name in by_code["event-0102"]["description"]
    assert not any(s["service_code"].startswith("matter-") for s in data)  # other scheme


def test_service_definition(client, city):
    data, root = get_both(client, "services/event-0102")
    assert_valid("service-definition", data)
    assert data == {"service_code": "event-0102", "attributes": []}
    assert root.tag == "service_definition"


@pytest.mark.parametrize("code", ["event-9999", "nope", "matter-01001", "event-"])
def test_service_definition_unknown_is_404(client, city, code):
    assert_error(client.get(f"{BASE}services/{code}.json"), 404, contains="service_code")
    assert_error(client.get(f"{BASE}services/{code}.xml"), 404, "xml", "service_code")


@pytest.mark.parametrize(
    "path", ["discovery.html", "services.csv", "services/event-0102.yaml", "requests.txt"]
)
def test_unknown_format_is_404(client, city, path):
    assert_error(client.get(f"{BASE}{path}"), 404, contains="format")


# POST requests -----------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_post_creates_a_case_seen_in_get_and_in_cityops(client, key, fmt):
    response = post(
        client,
        fmt,
        **report(
            key,
            first_name="San",
            last_name="Zhang",
            email="zs@example.com",
            phone="13800000000",
            address_string="人民路 1 号",
            media_url="http://example.com/photo.jpg",
        ),
    )
    assert response.status_code == 200, response.content
    if fmt == "json":
        [body] = response.json()
    else:
        root = ET.fromstring(response.content)
        assert root.tag == "service_requests"
        [request] = root.findall("request")
        body = {child.tag: child.text for child in request}
    assert set(body) == {"service_request_id", "service_notice", "account_id"}
    assert body["account_id"] is None
    number = body["service_request_id"]
    assert isinstance(number, str) and body["service_notice"]

    case = Case.objects.get(number=number)
    assert (case.category.kind, case.category.code) == ("event", "0102")
    assert case.source == "api"
    assert case.reported_by == key.user
    assert case.reporter_name == "San Zhang"
    assert case.reporter_contact == "zs@example.com / 13800000000"
    assert case.address == "人民路 1 号"
    assert (case.lat, case.lng) == (31.205, 121.405)
    assert not case.attachments.exists()  # media_url is ignored
    assert case.process_id is not None

    listed, _root = get_both(client, "requests")
    assert_valid("requests", listed)
    assert [r["service_request_id"] for r in listed] == [number]
    row = listed[0]
    assert row["status"] == "open"
    assert row["service_code"] == "event-0102"
    assert row["address"] == "人民路 1 号"
    assert row["media_url"] is None
    text = json.dumps(listed, ensure_ascii=False)
    assert "San" not in text and "zs@example.com" not in text and "13800000000" not in text


def test_post_needs_no_csrf_token(client, key):
    # enforce_csrf_checks=True on the client: a CSRF failure would be 403 before the view.
    assert post(client, **report(key)).status_code == 200


def _nothing_saved(before: int) -> None:
    assert Case.objects.count() == before


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_post_without_api_key_is_400(client, key, fmt):
    fields = report(key)
    del fields["api_key"]
    assert_error(post(client, fmt, **fields), 400, fmt, "api_key")
    _nothing_saved(0)


def test_post_with_unknown_revoked_or_unscoped_key_is_403(client, key, admin):
    assert_error(post(client, **report(key, api_key="co_nope_nope")), 403, contains="api_key")
    assert_error(post(client, **report(key, api_key="garbage")), 403)
    _reader, reader_raw = api_key_issue(actor=admin, name="reader", scopes=["cases:read"])
    assert_error(post(client, **report(key, api_key=reader_raw)), 403)
    api_key_revoke(actor=admin, key=key)
    assert_error(post(client, "xml", **report(key)), 403, "xml", "api_key")
    _nothing_saved(0)


@pytest.mark.parametrize(
    ("fields", "contains"),
    [
        ({"service_code": ""}, "service_code"),
        ({"service_code": "event-9999"}, "service_code"),
        ({"service_code": "0102"}, "service_code"),
        ({"service_code": "matter-01001"}, "service_code"),  # not the city's scheme
        ({"lat": "", "long": "", "address_string": "人民路 1 号"}, "lat/long"),
        ({"lat": "", "long": ""}, "lat/long"),
        ({"long": ""}, "lat/long"),
        ({"lat": "north"}, "lat"),
        ({"lat": "nan"}, "lat"),
        ({"long": "181"}, "long"),
        ({"lat": "10", "long": "10"}, "service area"),  # outside the city's grid
        ({"description": "   "}, "description"),
        ({"description": "x" * 4001}, "description"),
        ({"address_string": "x" * 256}, "address_string"),
        ({"first_name": "x" * 81}, "first_name"),
    ],
)
def test_post_bad_input_is_400_and_saves_nothing(client, key, fields, contains):
    assert_error(post(client, **report(key, **fields)), 400, contains=contains)
    assert_error(post(client, "xml", **report(key, **fields)), 400, "xml", contains)
    _nothing_saved(0)


def test_get_style_methods_only(client, city):
    assert client.put(f"{BASE}requests.json").status_code == 405
    assert client.post(f"{BASE}services.json").status_code == 405


# GET requests ------------------------------------------------------------------------------


def test_requests_validate_and_match_cityops(client, key):
    first = make_case(key.user, address="人民路 1 号")
    second = make_case(
        key.user, code="0101", kind="component", lat=None, lng=None, grid="D01-S01-C1-G1"
    )
    second.due_at = timezone.now() + dt.timedelta(days=2)
    second.save(update_fields=["due_at"])
    data, _root = get_both(client, "requests")
    assert_valid("requests", data)
    assert [r["service_request_id"] for r in data] == [second.number, first.number]
    newest, oldest = data
    assert newest["service_code"] == "component-0101"
    assert newest["lat"] is None and newest["long"] is None
    assert newest["expected_datetime"] == timezone.localtime(second.due_at).isoformat(
        timespec="seconds"
    )
    assert newest["requested_datetime"].endswith("+08:00")
    # No case due time yet: the open intake task's due time.
    task = first.tasks.get(status="open")
    assert oldest["expected_datetime"] == timezone.localtime(task.due_at).isoformat(
        timespec="seconds"
    )
    assert oldest["status_notes"] == str(first.get_stage_display())
    assert oldest["description"] == first.description
    assert oldest["address"] == "人民路 1 号"
    assert oldest["agency_responsible"] is None
    first.responsible_unit = first.category.default_unit
    first.save(update_fields=["responsible_unit"])
    data, _root = get_both(client, "requests")
    assert data[1]["agency_responsible"] == first.category.default_unit.name


def test_requests_is_one_query(client, key, django_assert_num_queries):
    for _ in range(4):
        make_case(key.user)
    with django_assert_num_queries(1):
        response = client.get(f"{BASE}requests.json")
    assert len(response.json()) == 4


def test_single_request_and_token(client, key):
    case = make_case(key.user)
    data, root = get_both(client, f"requests/{case.number}")
    assert_valid("requests", data)
    assert_valid("request", data[0])
    assert [r["service_request_id"] for r in data] == [case.number]
    assert root.tag == "service_requests"
    tokens, _root = get_both(client, f"tokens/{case.number}")
    assert tokens == [{"service_request_id": case.number, "token": case.number}]
    assert_error(client.get(f"{BASE}requests/2000-000001.json"), 404)
    assert_error(client.get(f"{BASE}requests/2000-000001.xml"), 404, "xml")
    assert_error(client.get(f"{BASE}tokens/2000-000001.json"), 404, contains="token")


def test_closed_status_and_filters(client, key):
    opened = make_case(key.user)
    closed = make_case(key.user, code="0101", kind="component")
    # Closed (结案) is "closed" in Open311; cancelled and not-accepted cases are not listed
    # at all (test_open311_public.py).
    Case.objects.filter(pk=closed.pk).update(
        status=CaseStatus.CLOSED, stage="ended", closed_at=timezone.now()
    )
    closed.refresh_from_db()

    def ids(**params) -> list[str]:
        data, _root = get_both(client, "requests", params)
        if data:
            assert_valid("requests", data)
        return [r["service_request_id"] for r in data]

    data, _root = get_both(client, f"requests/{closed.number}")
    assert data[0]["status"] == "closed"
    assert data[0]["updated_datetime"] == timezone.localtime(closed.closed_at).isoformat(
        timespec="seconds"
    )
    assert ids(status="open") == [opened.number]
    assert ids(status="closed") == [closed.number]
    assert ids(status="open,closed") == [closed.number, opened.number]
    assert ids(service_code="event-0102") == [opened.number]
    assert ids(service_code="event-0102,component-0101") == [closed.number, opened.number]
    assert ids(service_code="event-9999") == []
    assert ids(service_request_id=f"{opened.number}, {closed.number}") == [
        closed.number,
        opened.number,
    ]
    # service_request_id overrides the other filters.
    assert ids(service_request_id=opened.number, status="closed") == [opened.number]
    assert_error(client.get(f"{BASE}requests.json", {"status": "pending"}), 400, contains="status")


def test_date_filters_and_default_window(client, key):
    now = timezone.now()
    old = make_case(key.user)
    Case.objects.filter(pk=old.pk).update(created_at=now - dt.timedelta(days=120))
    recent = make_case(key.user)
    Case.objects.filter(pk=recent.pk).update(created_at=now - dt.timedelta(days=10))

    def ids(**params) -> list[str]:
        data, _root = get_both(client, "requests", params)
        return [r["service_request_id"] for r in data]

    assert ids() == [recent.number]  # the last 90 days by default
    start = (now - dt.timedelta(days=200)).isoformat()
    assert ids(start_date=start) == [recent.number, old.number]
    end = (now - dt.timedelta(days=100)).isoformat()
    assert ids(start_date=start, end_date=end) == [old.number]
    assert ids(end_date=end) == [old.number]  # 90 days before end_date
    # An offset whose "+" arrived unencoded as a space.
    local = timezone.localtime(now - dt.timedelta(days=20)).isoformat(timespec="seconds")
    assert ids(start_date=local.replace("+", " ")) == [recent.number]
    assert ids(start_date=(now - dt.timedelta(days=20)).date().isoformat()) == [recent.number]


@pytest.mark.parametrize(
    "params",
    [
        {"start_date": "yesterday"},
        {"end_date": "2026-13-45T00:00:00+08:00"},
        {"start_date": "2026-05-02T00:00:00+08:00", "end_date": "2026-05-01T00:00:00+08:00"},
    ],
)
def test_bad_dates_are_400(client, city, params):
    assert_error(client.get(f"{BASE}requests.json", params), 400, contains="date")
    assert_error(client.get(f"{BASE}requests.xml", params), 400, "xml", "date")


def test_requests_are_capped_newest_first(client, key, monkeypatch):
    cases = [make_case(key.user) for _ in range(3)]
    monkeypatch.setattr(open311_views, "REQUESTS_LIMIT", 2)
    data, _root = get_both(client, "requests")
    assert [r["service_request_id"] for r in data] == [cases[2].number, cases[1].number]
    assert open311_views.REQUESTS_LIMIT == 2 and len(data) == 2


def test_default_limit_is_1000():
    assert open311_views.REQUESTS_LIMIT == 1000


# What is published (issue 14): throttled GETs, public categories only, no cancelled or
# not-accepted reports, coordinates optionally rounded --------------------------------------


def _numbers(client=None, **params) -> list[str]:
    response = (client or Client()).get(f"{BASE}requests.json", params)
    assert response.status_code == 200, response.content
    return [row["service_request_id"] for row in response.json()]


def test_cancelled_and_not_accepted_reports_are_left_out(key):
    shown = make_case(key.user)
    hidden = {}
    for status in (CaseStatus.CANCELLED, CaseStatus.INVALID, CaseStatus.DUPLICATE):
        case = make_case(key.user)
        Case.objects.filter(pk=case.pk).update(status=status)
        hidden[status] = case.number
    closed = make_case(key.user)
    Case.objects.filter(pk=closed.pk).update(status=CaseStatus.CLOSED)
    assert sorted(_numbers()) == sorted([shown.number, closed.number])
    for number in hidden.values():
        assert Client().get(f"{BASE}requests/{number}.json").status_code == 404
        assert _numbers(service_request_id=number) == []


def test_a_category_can_be_kept_out(key):
    garbage = make_case(key.user)
    other = make_case(key.user, code="0101")
    Category.objects.filter(pk=garbage.category_id).update(public=False)
    assert _numbers() == [other.number]
    codes = [s["service_code"] for s in Client().get(f"{BASE}services.json").json()]
    assert "event-0102" not in codes and "event-0101" in codes
    assert Client().get(f"{BASE}services/event-0102.json").status_code == 404
    response = Client().post(f"{BASE}requests.json", report(key))
    assert response.status_code in (400, 404)  # not offered, so not reportable here
    assert Case.objects.count() == 2


def test_coordinates_can_be_rounded(key, settings):
    make_case(key.user, lat=31.205678, lng=121.405432)
    row = Client().get(f"{BASE}requests.json").json()[0]
    assert (row["lat"], row["long"]) == (31.205678, 121.405432)
    settings.CITYOPS_OPEN311_COORDINATE_DECIMALS = 3
    row = Client().get(f"{BASE}requests.json").json()[0]
    assert (row["lat"], row["long"]) == (31.206, 121.405)


def test_gets_are_throttled_per_client_address_ignoring_x_forwarded_for(city, settings):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {
            **settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"],
            "open311": "3/min",
        },
    }
    client = Client(REMOTE_ADDR="10.7.0.1")
    for n in range(3):
        response = client.get(f"{BASE}services.json", HTTP_X_FORWARDED_FOR=f"192.0.2.{n}")
        assert response.status_code == 200
    response = client.get(f"{BASE}requests.xml", HTTP_X_FORWARDED_FOR="192.0.2.99")
    assert response.status_code == 429
    assert int(response["Retry-After"]) >= 1
    assert b"<errors>" in response.content
    assert Client(REMOTE_ADDR="10.7.0.2").get(f"{BASE}services.json").status_code == 200
