"""Audit events are append-only in the database (issue 14): on PostgreSQL a trigger refuses
UPDATE and DELETE on the events table; cases are never deleted (PROTECT), only cancelled."""

import pytest
from django.db import DatabaseError, connection, transaction
from django.db.models import ProtectedError

from workflows.models import Case, CaseEvent

pytestmark = pytest.mark.django_db


@pytest.fixture
def case(walk):
    return Case.objects.get(pk=walk.report()["id"])


def test_a_case_with_events_cannot_be_deleted(case):
    assert case.events.exists()
    with pytest.raises(ProtectedError):
        case.delete()
    assert Case.objects.filter(pk=case.pk).exists()


@pytest.mark.postgres
def test_the_trigger_refuses_update_and_delete_of_events(case):
    event = case.events.first()
    for statement in (
        "UPDATE workflows_caseevent SET action = 'forged' WHERE id = %s",
        "DELETE FROM workflows_caseevent WHERE id = %s",
    ):
        with (
            pytest.raises(DatabaseError, match="append-only"),
            transaction.atomic(),
            connection.cursor() as cursor,
        ):
            cursor.execute(statement, [event.pk])
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        CaseEvent.objects.filter(pk=event.pk).update(action="forged")
    event.refresh_from_db()
    assert event.action != "forged"
    # inserting stays possible (the services append events)
    count = case.events.count()
    CaseEvent.objects.create(case=case, action="note", created_at=event.created_at)
    assert case.events.count() == count + 1


@pytest.mark.postgres
def test_maintenance_must_say_so_in_its_transaction(case):
    event = case.events.first()
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL cityops.audit_maintenance = 'on'")
        cursor.execute("DELETE FROM workflows_caseevent WHERE id = %s", [event.pk])
    assert not CaseEvent.objects.filter(pk=event.pk).exists()
