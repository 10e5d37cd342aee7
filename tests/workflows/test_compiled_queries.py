"""CompiledGet, save_fields and insert do what Django's get(), save(update_fields) and
save(force_insert) would, in one statement each; save_fields_with, insert_saving and
PendingInsert write two rows, a new row with rows it moved, or a row and those keyed by it, in
one statement on PostgreSQL."""

import pytest
from django.db import DatabaseError, connection, transaction
from django.db.models.signals import post_save, pre_save
from django.utils.timezone import now
from viewflow.workflow.models import Process, Task

from cityops.compiled_queries import (
    CompiledGet,
    PendingInsert,
    insert,
    insert_saving,
    save_fields,
    save_fields_with,
)
from workflows.models import Case, CaseEvent, CaseTask, HotlineOrder
from workflows.services.cases import CaseReport, case_report

pytestmark = pytest.mark.django_db


@pytest.fixture
def task(demo, users):
    """The intake task of a case just reported in the demo city."""
    report = CaseReport(category=demo.garbage.pk, description="d", source="api", grid=demo.grid)
    case = case_report(actor=users("inspector"), report=report)
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


def test_save_fields_writes_what_save_would(task, django_assert_num_queries):
    case = task.case
    before = case.updated_at
    case.stage, case.rework_count = "check", 2
    with django_assert_num_queries(1):
        save_fields(case, ["stage", "rework_count", "updated_at"])
    stored = Case.objects.get(pk=case.pk)
    assert (stored.stage, stored.rework_count) == ("check", 2)
    assert stored.updated_at == case.updated_at > before  # auto_now ran, as in save()


def test_save_fields_on_a_missing_row_raises():
    with pytest.raises(DatabaseError):
        save_fields(Case(pk=987_654), ["stage"])


def test_insert_returns_the_new_id_and_a_saved_instance(task, django_assert_num_queries):
    event = CaseEvent(case=task.case, action="note", payload={"a": [1, "二"]}, created_at=now())
    with django_assert_num_queries(1):
        insert(event)
    assert event.pk and not event._state.adding
    stored = CaseEvent.objects.get(pk=event.pk)
    assert (stored.case_id, stored.action, stored.payload) == (
        task.case_id,
        "note",
        {"a": [1, "二"]},
    )


def test_the_models_written_this_way_have_no_save_listeners():
    """save_fields/insert send no signals: a receiver added later would be skipped."""
    for model in (Case, CaseTask, CaseEvent, HotlineOrder, Process, Task, Task.previous.through):
        assert not pre_save.has_listeners(model), model
        assert not post_save.has_listeners(model), model


def _round_trips(rows: int) -> int:
    """Statements for `rows` rows written together: one on PostgreSQL, one each elsewhere."""
    return 1 if connection.vendor == "postgresql" else rows


def test_save_fields_with_writes_both_rows(task, django_assert_num_queries):
    flow_task, case = task.task, task.case
    flow_task.status, case.stage = "DONE", "check"
    with django_assert_num_queries(_round_trips(2)):
        save_fields_with(flow_task, ["status"], case, ["stage", "updated_at"])
    assert Task.objects.get(pk=flow_task.pk).status == "DONE"
    assert Case.objects.get(pk=case.pk).stage == "check"


def test_save_fields_with_a_missing_row_raises(task):
    """Either row missing raises (the caller's transaction then rolls the other back)."""
    case = task.case
    with pytest.raises(DatabaseError):
        save_fields_with(Case(pk=987_654), ["stage"], case, ["stage"])
    with pytest.raises(DatabaseError):
        save_fields_with(case, ["stage"], Case(pk=987_654), ["stage"])


def test_insert_saving_writes_the_row_and_the_saves_together(task, django_assert_num_queries):
    flow_task, case = task.task, task.case
    flow_task.status, case.stage = "DONE", "check"
    event = CaseEvent(case=case, action="bench", stage_to="check", created_at=now())
    with django_assert_num_queries(_round_trips(3)):
        insert_saving(event, (case, ["stage", "updated_at"]), (flow_task, ["status"]))
    assert event.pk and not event._state.adding
    assert CaseEvent.objects.get(pk=event.pk).stage_to == "check"
    assert Case.objects.get(pk=case.pk).stage == "check"
    assert Task.objects.get(pk=flow_task.pk).status == "DONE"


def test_insert_saving_with_a_missing_row_raises_and_writes_nothing(task):
    case = task.case
    events = CaseEvent.objects.count()
    for saves in (
        [(Case(pk=987_654), ["stage"])],
        [(case, ["stage"]), (Case(pk=987_654), ["stage"])],
    ):
        case.stage = "check"
        with pytest.raises(DatabaseError), transaction.atomic():
            insert_saving(CaseEvent(case=case, action="bench", created_at=now()), *saves)
        assert CaseEvent.objects.count() == events
        assert Case.objects.get(pk=case.pk).stage == "intake"


def test_a_pending_insert_stamps_now_and_sends_its_dependents_with_it(
    task, django_assert_num_queries
):
    flow_task = task.task
    new = Task(process=flow_task.process, flow_task=flow_task.flow_task, token=flow_task.token)
    new.flow_task_type = flow_task.flow_task_type
    pending = PendingInsert(new)
    assert new.created is not None and new.pk is None  # auto_now_add ran: readable already
    stamped = new.created
    link = Task.previous.through(from_task=new, to_task=flow_task)
    row = CaseTask(task=new, case=task.case, stage="check", role="inspector", unit=task.unit)
    row.created_at = stamped
    with django_assert_num_queries(_round_trips(3)):
        pending.send((link, "from_task"), (row, "task"))
    assert new.pk and row.pk == new.pk and link.from_task_id == new.pk and link.pk
    stored = Task.objects.get(pk=new.pk)
    assert stored.created == stamped and list(stored.previous.all()) == [flow_task]
    assert CaseTask.objects.get(pk=new.pk).stage == "check"
