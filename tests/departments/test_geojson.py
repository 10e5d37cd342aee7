"""Grid cells to GeoJSON features and back (departments.geojson)."""

import copy

import pytest

from departments.demo import seed_organisation
from departments.geojson import FeatureError, cell_feature, cell_fields, feature_list
from departments.models import GridCell

RING = [[121.4, 31.2], [121.41, 31.2], [121.41, 31.21], [121.4, 31.21]]


def feature(**properties):
    props = {"code": "X-G1", "name": "一号网格", "area": "D01-S01-C1", **properties}
    return {
        "type": "Feature",
        "geometry": {"type": "Polygon", "coordinates": [[*RING, RING[0]]]},
        "properties": props,
    }


@pytest.mark.django_db
def test_a_cell_becomes_a_feature_with_a_closed_ring_and_reads_back_the_same():
    seed_organisation()
    cell = GridCell.objects.select_related("area").get(code="D01-S01-C1-G1")
    out = cell_feature(cell)
    assert out["type"] == "Feature" and out["id"] == cell.code
    ring = out["geometry"]["coordinates"][0]
    assert ring[0] == ring[-1] and len(ring) == len(cell.polygon) + 1
    assert out["properties"]["area"] == "D01-S01-C1"
    back = cell_fields(out, where="feature 1")
    assert back.code == cell.code and back.name == cell.name and back.area_code == "D01-S01-C1"
    assert back.polygon == cell.polygon
    assert (back.centre_lat, back.centre_lng) == (cell.centre_lat, cell.centre_lng)


def test_a_feature_without_centre_gets_the_mean_of_its_ring():
    fields = cell_fields(feature(), where="feature 1")
    assert fields.polygon == RING
    assert fields.centre_lng == pytest.approx(121.405) and fields.centre_lat == pytest.approx(
        31.205
    )


def test_a_feature_without_geometry_is_a_cell_without_polygon():
    data = feature()
    data["geometry"] = None
    fields = cell_fields(data, where="feature 1")
    assert fields.polygon is None and fields.centre_lat is None


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda f: f["properties"].pop("code"), "property “code” is required"),
        (lambda f: f["properties"].update(area=""), "property “area” is required"),
        (lambda f: f["properties"].update(name="x" * 121), "longer than 120"),
        (lambda f: f.update(geometry={"type": "Point", "coordinates": [1, 2]}), "Point"),
        (lambda f: f["geometry"]["coordinates"].append(RING), "exactly one ring"),
        (lambda f: f["geometry"]["coordinates"][0].pop(), "not closed"),
        (lambda f: f["geometry"]["coordinates"][0][1].__setitem__(1, 95), "position(s) 2"),
        (lambda f: f["geometry"]["coordinates"][0][1].__setitem__(0, "x"), "position(s) 2"),
        (lambda f: f["properties"].update(centre=[200, 1]), "“centre”"),
        (lambda f: f.update(type="Polygon"), "not a GeoJSON Feature"),
    ],
)
def test_a_bad_feature_is_refused_naming_it(change, message):
    data = copy.deepcopy(feature())
    change(data)
    with pytest.raises(FeatureError) as caught:
        cell_fields(data, where="feature 7")
    assert all(error.startswith("feature 7") for error in caught.value.errors)
    assert message in str(caught.value)


def test_feature_list_takes_a_collection_or_one_feature():
    assert feature_list({"type": "FeatureCollection", "features": [feature()]}) == [feature()]
    assert feature_list(feature()) == [feature()]
    with pytest.raises(FeatureError):
        feature_list({"type": "FeatureCollection"})
    with pytest.raises(FeatureError):
        feature_list([])
