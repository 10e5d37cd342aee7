"""CompiledGet fills the objects Django's own get() would, in one query."""

import pytest
from django.contrib.auth import get_user_model

from cityops.compiled_queries import CompiledGet
from departments.demo import seed_accounts, seed_organisation
from departments.models import Unit
from workflows.models import CaseTask, Category, CategoryScheme
from workflows.services.cases import CaseReport, case_report

pytestmark = pytest.mark.django_db


@pytest.fixture
def task():
    org = seed_organisation()
    seed_accounts("pw")
    inspector = get_user_model().objects.get(username="inspector")
    scheme = CategoryScheme.objects.create(code="T")
    category = Category.objects.create(
        scheme=scheme,
        kind="event",
        major_code="01",
        major_name="m",
        code="0102",
        name="c0102",
        default_unit=Unit.objects.get(code="SANI"),
        limit_value=4,
        limit_unit="working_hours",
    )
    org.city.category_scheme = scheme
    org.city.save()
    report = CaseReport(category=category.pk, description="d", source="api", grid="D01-S01-C1-G1")
    case = case_report(actor=inspector, report=report)
    return CaseTask.objects.get(case=case)


def _shape(pk):
    return CaseTask.objects.select_related("task__process", "case__category").filter(pk=pk)


def test_the_same_objects_as_the_orm_in_one_query(task, django_assert_num_queries):
    read = CompiledGet(_shape)
    expected = _shape(task.pk).get()
    read.get(task.pk)  # compiled on first use
    with django_assert_num_queries(1):
        got = read.get(task.pk)
        assert got.case.category.name == expected.case.category.name  # related objects filled
        assert got.task.process.data == expected.task.process.data == {"case": task.case_id}
    pairs = [(got, expected), (got.task, expected.task), (got.case, expected.case)]
    pairs += [
        (got.task.process, expected.task.process),
        (got.case.category, expected.case.category),
    ]
    for obj, orm in pairs:
        fields = [f.attname for f in type(obj)._meta.concrete_fields]
        assert [getattr(obj, f) for f in fields] == [getattr(orm, f) for f in fields]
    assert got.task.flow_task is expected.task.flow_task  # converted, not the raw column


def test_a_missing_row_raises_does_not_exist(task):
    with pytest.raises(CaseTask.DoesNotExist):
        CompiledGet(_shape).get(task.pk + 10_000)


def test_the_value_must_appear_once():
    with pytest.raises(ValueError):
        CompiledGet(lambda pk: CaseTask.objects.filter(pk=pk) | CaseTask.objects.filter(pk=pk)).get(
            1
        )
