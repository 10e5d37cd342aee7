"""The maps (issue 10): the case points of a search as GeoJSON (visible cases only, grid-only
cases at their cell's centre, a box, the open cases near a case, bounded), the grid the maps
draw, and the pages that carry a map."""

from __future__ import annotations

import pytest
from django.test import Client

from workflows.models import Case, CaseTask

pytestmark = pytest.mark.django_db

URL = "/api/v1/cases/map/"


@pytest.fixture
def located(walk):
    """A: at a point in D01-S01-C1-G1 (open, in handling at SANI); B: by grid cell only, in
    D02; C: a point next to A, closed."""
    a = walk.report(lat=31.2051, lng=121.4052, grid="", description="垃圾 A")
    walk.to_handling(a["id"])
    b = walk.report(grid="D02-S01-C1-G1", description="井盖 B")
    c = walk.report(lat=31.2049, lng=121.4047, grid="", description="垃圾 C")
    Case.objects.filter(pk=c["id"]).update(status="closed", stage="ended")
    return {"A": a["id"], "B": b["id"], "C": c["id"]}


def points(api, username: str, **params) -> dict:
    response = api(username).get(URL, params)
    assert response.status_code == 200, response.content
    return response.json()


def test_the_map_gives_the_visible_cases_as_geojson_points(api, located):
    body = points(api, "supervisor")
    assert body["type"] == "FeatureCollection" and body["truncated"] is False
    by_id = {f["id"]: f for f in body["features"]}
    assert set(by_id) == set(located.values())
    a = by_id[located["A"]]
    assert a["geometry"] == {"type": "Point", "coordinates": [121.4052, 31.2051]}
    assert a["properties"]["url"] == f"/cases/{located['A']}/"
    assert a["properties"]["stage"] == "handling"
    b = Case.objects.select_related("grid").get(pk=located["B"])
    assert by_id[b.pk]["geometry"]["coordinates"] == [b.grid.centre_lng, b.grid.centre_lat]
    # the search's filters apply, and the access rules: a handler sees only A
    assert [f["id"] for f in points(api, "supervisor", q="井盖")["features"]] == [b.pk]
    assert [f["id"] for f in points(api, "handler_sani")["features"]] == [located["A"]]


def test_a_box_and_the_open_cases_near_a_case(api, located):
    box = points(api, "supervisor", bbox="121.40,31.20,121.41,31.21")
    assert {f["id"] for f in box["features"]} == {located["A"], located["C"]}
    other = points(api, "supervisor", near=located["C"])
    assert [f["id"] for f in other["features"]] == [located["A"]]  # open, C itself left out
    assert points(api, "supervisor", near=located["A"])["features"] == []  # C is closed
    # near a case one may not see: 404, like the case itself
    assert api("handler_sani").get(URL, {"near": located["B"]}).status_code == 404


def test_the_map_is_bounded(api, located, settings):
    settings.CITYOPS_MAP_MAX_POINTS = 2
    body = points(api, "supervisor")
    assert len(body["features"]) == 2 and body["truncated"] is True


@pytest.mark.parametrize(
    "params",
    [{"bbox": "1,2,3"}, {"bbox": "a,b,c,d"}, {"bbox": "10,10,0,0"}, {"near": "x"}, {"sla": "?"}],
)
def test_bad_map_queries_are_400(api, located, params):
    assert api("supervisor").get(URL, params).status_code == 400


def test_the_grid_the_maps_draw(api, demo):
    body = api("dispatcher").get("/api/v1/grid/").json()
    assert body["type"] == "FeatureCollection" and len(body["features"]) == 24
    assert {"code", "name", "area_name"} <= set(body["features"][0]["properties"])


def test_the_pages_carry_their_maps(users, located, walk):
    client = Client()
    client.force_login(users("supervisor"))
    page = client.get(f"/cases/{located['A']}/").text
    assert 'data-map="case"' in page and 'data-lat="31.2051"' in page
    assert 'data-grid-url="/api/v1/grid/"' in page
    assert 'data-map="results"' in client.get("/cases/", {"q": "垃圾"}).text
    # the report form: the map, the device position button, the camera
    client.force_login(users("inspector"))
    page = client.get("/cases/new/").text
    assert 'data-map="report"' in page and "data-locate" in page
    assert 'capture="environment"' in page and 'data-resize="1600"' in page
    # the dispatcher's task page shows the open cases nearby
    walk.act("intake", located["B"], "accept")
    walk.act("shiftlead", located["B"], "file")
    task = CaseTask.objects.get(case_id=located["B"], stage="dispatch", status="open")
    client.force_login(users("dispatcher"))
    page = client.get(f"/tasks/{task.pk}/").text
    assert 'data-map="nearby"' in page
    assert f'data-points-url="/api/v1/cases/map/?near={located["B"]}"' in page


def test_no_tile_server_unless_configured(users, located, settings):
    client = Client()
    client.force_login(users("supervisor"))
    assert 'data-tiles=""' in client.get(f"/cases/{located['A']}/").text
    settings.MAP_TILE_URL = "https://gis.example.gov.cn/tiles/{z}/{x}/{y}.png"
    page = client.get(f"/cases/{located['A']}/").text
    assert 'data-tiles="https://gis.example.gov.cn/tiles/{z}/{x}/{y}.png"' in page
