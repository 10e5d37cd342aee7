"""GET /api/v1/grid/ and /api/v1/units/: the city's master data for maps and integrators."""

import pytest

from departments.models import GridCell, Unit

pytestmark = pytest.mark.django_db


def test_grid_is_a_feature_collection_of_every_cell(api, demo):
    response = api("intake").get("/api/v1/grid/")
    assert response.status_code == 200
    body = response.json()
    assert body["type"] == "FeatureCollection"
    codes = [f["properties"]["code"] for f in body["features"]]
    assert codes == sorted(GridCell.objects.values_list("code", flat=True))
    first = body["features"][0]
    assert first["geometry"]["type"] == "Polygon"
    assert set(first["properties"]) == {"code", "name", "area", "area_name", "centre"}


@pytest.mark.parametrize(
    ("area", "count"), [("DEMO", 24), ("D01", 12), ("D01-S01", 6), ("D01-S01-C1", 3)]
)
def test_grid_filters_by_area_at_any_level(api, demo, area, count):
    features = api("intake").get("/api/v1/grid/", {"area": area}).json()["features"]
    assert len(features) == count
    assert all(f["properties"]["code"].startswith(area.replace("DEMO", "D")) for f in features)


def test_grid_area_by_id_too(api, demo):
    unit = Unit.objects.get(code="D02")
    features = api("intake").get("/api/v1/grid/", {"area": unit.pk}).json()["features"]
    assert len(features) == 12 and all(f["id"].startswith("D02") for f in features)


@pytest.mark.parametrize("area", ["NOPE", "SANI"])
def test_grid_refuses_what_is_not_an_area(api, demo, area):
    response = api("intake").get("/api/v1/grid/", {"area": area})
    assert response.status_code == 400
    assert "area" in response.json()["error"]["fields"]


def test_grid_is_cacheable_until_the_grid_changes(api, demo):
    client = api("intake")
    first = client.get("/api/v1/grid/")
    etag = first["ETag"]
    assert "max-age" in first["Cache-Control"]
    assert client.get("/api/v1/grid/", HTTP_IF_NONE_MATCH=etag).status_code == 304
    cell = GridCell.objects.get(code="D01-S01-C1-G1")
    cell.name = "新名字"
    cell.save()
    again = client.get("/api/v1/grid/", HTTP_IF_NONE_MATCH=etag)
    assert again.status_code == 200 and again["ETag"] != etag


def test_grid_needs_credentials(client, demo):
    assert client.get("/api/v1/grid/").status_code in (401, 403)


def test_units_are_a_tree_in_depth_first_order(api, demo):
    response = api("intake").get("/api/v1/units/")
    assert response.status_code == 200
    nodes = response.json()["results"]
    assert len(nodes) == Unit.objects.filter(is_active=True).count()
    assert nodes[0] == {
        "code": "DEMO",
        "name": Unit.objects.get(code="DEMO").name,
        "kind": "city",
        "kind_display": "City",
        "parent": None,
        "depth": 0,
    }
    seen = set()
    for node in nodes:
        assert node["parent"] is None or node["parent"] in seen  # parents come first
        seen.add(node["code"])
    by_code = {n["code"]: n for n in nodes}
    assert by_code["SANI-E"]["parent"] == "SANI" and by_code["SANI-E"]["depth"] == 2
    assert by_code["D01-S01-C1"]["depth"] == 3


def test_units_leave_out_inactive_ones(api, demo):
    Unit.objects.filter(code="SANI-W").update(is_active=False)
    codes = {n["code"] for n in api("intake").get("/api/v1/units/").json()["results"]}
    assert "SANI-W" not in codes and "SANI-E" in codes


def test_master_data_is_in_the_openapi_schema(client):
    schema = client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()
    assert "/api/v1/grid/" in schema["paths"] and "/api/v1/units/" in schema["paths"]
    params = {p["name"] for p in schema["paths"]["/api/v1/grid/"]["get"]["parameters"]}
    assert "area" in params
