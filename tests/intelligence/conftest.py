import datetime as dt
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.contrib.auth import get_user_model
from viewflow.workflow.models import Task

from departments.demo import seed_accounts, seed_organisation
from departments.models import Unit
from intelligence.services.breach import breach_model_forget
from workflows.models import CaseTask, Category, CategoryScheme, TaskStatus
from workflows.services.cases import CaseReport, case_report
from workflows.services.outcomes import task_complete
from workflows.services.tasks import task_claim

SH = ZoneInfo("Asia/Shanghai")


def at(*args):
    return dt.datetime(*args, tzinfo=SH)


@pytest.fixture(autouse=True)
def _fresh_model():
    breach_model_forget()
    yield
    breach_model_forget()


@pytest.fixture
def category(db):
    org = seed_organisation()
    seed_accounts("pw")
    scheme = CategoryScheme.objects.create(code="T")
    org.city.category_scheme = scheme
    org.city.save()
    return Category.objects.create(
        scheme=scheme,
        kind="event",
        major_code="01",
        major_name="m",
        code="0102",
        name="暴露垃圾",
        default_unit=Unit.objects.get(code="SANI"),
        limit_value=4,
        limit_unit="working_hours",
    )


def user(name):
    return get_user_model().objects.get(username=name)


def report(category, when, grid="D01-S01-C1-G1"):
    with time_machine.travel(when, tick=False):
        return case_report(
            actor=user("inspector"),
            report=CaseReport(category=category.pk, description="d", source="inspector", grid=grid),
        )


def handling_task(category, when):
    """A case dispatched to SANI at `when` (the command-centre steps a minute apart before)."""
    case = report(category, when - dt.timedelta(minutes=3))
    for offset, (username, outcome) in zip(
        (2, 1, 0),
        (("intake", "accept"), ("shiftlead", "file"), ("dispatcher", "dispatch")),
        strict=True,
    ):
        with time_machine.travel(when - dt.timedelta(minutes=offset), tick=False):
            task = CaseTask.objects.get(case=case, status=TaskStatus.OPEN)
            task_claim(actor=user(username), task=task)
            task_complete(actor=user(username), task=task, outcome=outcome)
    return CaseTask.objects.get(case=case, status=TaskStatus.OPEN)


def past_tasks(template: CaseTask, spans: list[tuple[dt.datetime, dt.datetime, dt.datetime]]):
    """Finished copies of `template` (same case, unit, stage, calendar and limit), one per
    (created, finished, due): history rows written directly, as an import would."""
    rows = []
    for created, finished, due in spans:
        flow_task = Task.objects.create(
            process=template.task.process,
            flow_task=template.task.flow_task,
            flow_task_type="HUMAN",
            status="DONE",
            created=created,
            finished=finished,
        )
        rows.append(
            CaseTask(
                task=flow_task,
                case=template.case,
                stage=template.stage,
                role=template.role,
                unit=template.unit,
                status=TaskStatus.DONE,
                created_at=created,
                finished_at=finished,
                due_at=due,
                limit_value=template.limit_value,
                limit_unit=template.limit_unit,
                calendar=template.calendar,
            )
        )
    return CaseTask.objects.bulk_create(rows)
