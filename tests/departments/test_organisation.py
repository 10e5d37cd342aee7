import pytest
from django.contrib.auth import get_user_model

from departments.models import GridCell, Membership, Role, Unit, UnitKind
from departments.selectors import grid_cell_at, unit_ancestors, unit_descendant_ids
from workflows.access import can_act_on_task, staff_scope

pytestmark = pytest.mark.django_db


@pytest.fixture
def tree():
    city = Unit.objects.create(code="C", name="City", kind=UnitKind.CITY)
    district = Unit.objects.create(code="D", name="District", kind=UnitKind.DISTRICT, parent=city)
    street = Unit.objects.create(code="S", name="Street", kind=UnitKind.STREET, parent=district)
    community = Unit.objects.create(code="K", name="Comm", kind=UnitKind.COMMUNITY, parent=street)
    sani = Unit.objects.create(code="SANI", name="Sanitation", kind=UnitKind.HANDLING, parent=city)
    station = Unit.objects.create(code="SANI-E", name="East", kind=UnitKind.HANDLING, parent=sani)
    return {u.code: u for u in (city, district, street, community, sani, station)}


def test_descendants_include_the_unit_and_everything_below(tree):
    ids = unit_descendant_ids([tree["D"].pk])
    assert ids == {tree["D"].pk, tree["S"].pk, tree["K"].pk}
    assert unit_descendant_ids([]) == set()


def test_ancestors_nearest_first(tree):
    assert [u.code for u in unit_ancestors(tree["K"])] == ["K", "S", "D", "C"]


def test_grid_lookup_by_polygon(tree):
    square = [[121.0, 31.0], [121.1, 31.0], [121.1, 31.1], [121.0, 31.1]]
    triangle = [[121.1, 31.0], [121.2, 31.0], [121.1, 31.1]]
    a = GridCell.objects.create(code="G1", name="A", area=tree["K"], polygon=square)
    b = GridCell.objects.create(code="G2", name="B", area=tree["K"], polygon=triangle)
    assert (a.min_lat, a.max_lat, a.min_lng, a.max_lng) == (31.0, 31.1, 121.0, 121.1)
    assert grid_cell_at(31.05, 121.05) == a
    assert grid_cell_at(31.01, 121.11) == b
    # Inside the triangle's bounding box but outside the triangle itself.
    assert grid_cell_at(31.09, 121.19) is None
    assert grid_cell_at(40.0, 116.0) is None


def test_cell_without_polygon_is_never_matched(tree):
    GridCell.objects.create(code="G3", name="C", area=tree["K"], centre_lat=31.0, centre_lng=121.0)
    assert grid_cell_at(31.0, 121.0) is None


def test_scope_extends_to_subunits_only_when_the_membership_says_so(tree):
    user = get_user_model().objects.create_user("h")
    Membership.objects.create(
        user=user, unit=tree["SANI"], role=Role.HANDLER, include_subunits=True
    )
    Membership.objects.create(user=user, unit=tree["S"], role=Role.INSPECTOR)
    scope = staff_scope(user)
    assert scope.holds(tree["SANI-E"].pk, Role.HANDLER)
    assert scope.holds(tree["S"].pk, Role.INSPECTOR)
    assert not scope.holds(tree["K"].pk, Role.INSPECTOR)
    assert not scope.holds(tree["SANI"].pk, Role.INSPECTOR)


class _Task:
    def __init__(self, unit, role):
        self.unit_id, self.role = unit.pk, role


def test_acting_on_a_task_needs_the_role_in_the_unit(tree):
    user = get_user_model().objects.create_user("m")
    Membership.objects.create(user=user, unit=tree["SANI"], role=Role.HANDLER)
    assert can_act_on_task(user, _Task(tree["SANI"], Role.HANDLER))
    assert not can_act_on_task(user, _Task(tree["SANI-E"], Role.HANDLER))
    assert not can_act_on_task(user, _Task(tree["SANI"], Role.UNIT_HEAD))


def test_anonymous_scope_is_empty():
    from django.contrib.auth.models import AnonymousUser

    assert staff_scope(AnonymousUser()).pairs == frozenset()
