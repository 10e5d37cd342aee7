"""Races on PostgreSQL with real transactions and threads (SQLite has no row locks)."""

import pytest
from django.contrib.auth import get_user_model

from departments.demo import seed_accounts, seed_organisation
from workflows.models import Case, CaseEvent, CaseTask, Category, Stage, TaskStatus
from workflows.services.cases import CaseReport, case_report
from workflows.services.errors import Conflict
from workflows.services.outcomes import task_complete
from workflows.services.tasks import task_claim

from .racing import race_n

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def _invariants_hold_afterwards():
    """After each race, `check_invariants` finds no case half-open (issue 14)."""
    yield
    from workflows.selectors.invariants import invariant_violations

    total, found = invariant_violations()
    assert total == 0, found


@pytest.fixture
def city():
    seed_organisation()
    seed_accounts("pw")
    from departments.models import Unit
    from workflows.models import CategoryScheme

    scheme = CategoryScheme.objects.create(code="T")
    return Category.objects.create(
        scheme=scheme,
        kind="event",
        major_code="01",
        major_name="市容",
        code="0102",
        name="暴露垃圾",
        default_unit=Unit.objects.get(code="SANI"),
        limit_value=4,
        limit_unit="working_hours",
    )


def _user(name):
    return get_user_model().objects.get(username=name)


def _report(category):
    return case_report(
        actor=_user("inspector"),
        report=CaseReport(
            category=category.pk, description="race", source="inspector", grid="D01-S01-C1-G1"
        ),
    )


def test_eight_racing_claims_one_wins(city):
    case = _report(city)
    task = CaseTask.objects.get(case=case, status=TaskStatus.OPEN)
    intake = _user("intake")

    results = race_n(8, lambda i: task_claim(actor=intake, task=task))

    wins = [r for r in results if isinstance(r, CaseTask)]
    conflicts = [r for r in results if isinstance(r, Conflict)]
    assert len(wins) == 1, results
    assert len(conflicts) == 7, results
    assert CaseEvent.objects.filter(case=case, action="claim").count() == 1
    task.refresh_from_db()
    assert task.status == TaskStatus.CLAIMED


def test_fifty_parallel_completions_lose_no_update(city):
    intake = _user("intake")
    tasks = []
    for _ in range(50):
        case = _report(city)
        tasks.append(task_claim(actor=intake, task=CaseTask.objects.get(case=case)))

    results = race_n(50, lambda i: task_complete(actor=intake, task=tasks[i], outcome="accept"))

    assert all(isinstance(r, CaseTask) for r in results), [
        r for r in results if not isinstance(r, CaseTask)
    ]
    case_ids = [t.case_id for t in tasks]
    assert Case.objects.filter(pk__in=case_ids, stage=Stage.FILING).count() == 50
    assert (
        CaseTask.objects.filter(
            case_id__in=case_ids, stage=Stage.FILING, status=TaskStatus.OPEN
        ).count()
        == 50
    )
    assert (
        CaseTask.objects.filter(
            case_id__in=case_ids, stage=Stage.INTAKE, status=TaskStatus.DONE
        ).count()
        == 50
    )
    assert CaseEvent.objects.filter(case_id__in=case_ids, action="accept").count() == 50
