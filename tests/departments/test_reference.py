"""The per-process reference snapshot: reused while its generation stands, read again when
any process changes the data, never kept when the generation row is missing."""

import pytest
from django.db import connection
from django.db.models import Q

from departments.access import centre_ids
from departments.demo import seed_organisation
from departments.models import ReferenceGeneration, Unit, UnitKind
from departments.reference import reference_generation, reference_snapshot
from departments.selectors import calendar_record_for_unit
from workflows.models import Case, ThresholdRule
from workflows.sla.thresholds import levels_for

pytestmark = pytest.mark.django_db

LEVELS = [{"percent": 60, "action": "remind"}, {"percent": 100, "action": "overdue"}]


@pytest.fixture
def org():
    return seed_organisation()


def _other_process_bumps(value: int) -> None:
    """What another process's commit looks like from here: the row moved, our copy did not."""
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE departments_referencegeneration SET value = %s WHERE id = 1", [value]
        )


def test_the_snapshot_is_reused_while_the_generation_stands(org, django_assert_num_queries):
    first = reference_snapshot()
    assert centre_ids(org.city.pk, first) == [org.centre.pk]
    with django_assert_num_queries(1):  # the generation only: units come from the snapshot
        again = reference_snapshot()
        assert centre_ids(org.city.pk, again) == [org.centre.pk]
    assert again is first


def test_saving_a_unit_moves_the_generation_and_the_next_read_sees_it(org):
    before = reference_generation()
    snapshot = reference_snapshot()
    assert centre_ids(org.city.pk, snapshot) == [org.centre.pk]
    second = Unit.objects.create(code="CC2", name="Second centre", kind=UnitKind.CENTRE)
    second.parent = org.city
    second.save()
    assert reference_generation() != before
    assert centre_ids(org.city.pk) == sorted([org.centre.pk, second.pk], key=_code)


def _code(pk: int) -> str:
    return Unit.objects.get(pk=pk).code


def test_a_rule_changed_by_another_process_is_seen_after_its_bump(org):
    case = Case(area_id=org.city.pk)  # levels_for reads the category and area ids only
    rule = ThresholdRule.objects.create(levels=LEVELS)
    assert levels_for(case) == LEVELS
    changed = [{"percent": 90, "action": "overdue"}]
    # A write without signals (another process's bulk write) is not seen until the bump ...
    ThresholdRule.objects.filter(Q(pk=rule.pk)).update(levels=changed)
    assert levels_for(case) == LEVELS
    # ... and is seen once the generation moved.
    _other_process_bumps(reference_generation() + 1)
    assert levels_for(case) == changed


def test_nothing_is_kept_without_a_generation_row(org, django_assert_num_queries):
    ReferenceGeneration.objects.all().delete()
    assert reference_generation() is None
    assert reference_snapshot() is not reference_snapshot()
    with django_assert_num_queries(3):  # generation, unit tree, calendars: read every time
        assert calendar_record_for_unit(org.city.pk) == org.city.calendar
