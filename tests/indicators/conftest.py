"""Hand-made case histories driven through the engine's real services at chosen times."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile

from departments.models import Role
from tests.images import png_bytes
from tests.workflows.case_scene import city as city_with_category
from workflows.models import Case, CaseTask, TaskStatus
from workflows.services.cases import CaseReport, case_cancel, case_report
from workflows.services.outcomes import task_complete
from workflows.services.requests import extension_request, parking_request
from workflows.services.tasks import task_claim

SH = ZoneInfo("Asia/Shanghai")


def at(*args) -> dt.datetime:
    return dt.datetime(*args, tzinfo=SH)


def _png():
    return SimpleUploadedFile("after.png", png_bytes(), "image/png")  # uploads are decoded


def user(name: str):
    return get_user_model().objects.get(username=name)


class History:
    """Drives cases through the real services; every step at a given time."""

    def __init__(self, category) -> None:
        self.category = category

    def report(self, when, source="inspector", grid="D01-S01-C1-G1") -> Case:
        with time_machine.travel(when, tick=False):
            return case_report(
                actor=user("inspector"),
                report=CaseReport(
                    category=self.category.pk, description="d", source=source, grid=grid
                ),
            )

    def open_task(self, case, stage=None) -> CaseTask:
        tasks = CaseTask.objects.filter(case=case, status__in=[TaskStatus.OPEN, "claimed"])
        if stage:
            tasks = tasks.filter(stage=stage)
        return tasks.order_by("-task_id").first()

    def act(self, case, username, outcome, when, stage=None, **data) -> None:
        task = self.open_task(case, stage)
        with time_machine.travel(when, tick=False):
            if task.status == TaskStatus.OPEN:
                task_claim(actor=user(username), task=task)
            photos = [_png()] if outcome == "done" else []
            task_complete(
                actor=user(username), task=task, outcome=outcome, data=data, photos=photos
            )

    def to_handling(self, case, when) -> None:
        for minutes, (username, outcome) in enumerate(
            (("intake", "accept"), ("shiftlead", "file"), ("dispatcher", "dispatch")), 1
        ):
            self.act(case, username, outcome, when + dt.timedelta(minutes=minutes))

    def handle(self, case, when) -> None:
        self.act(case, "handler_sani", "done", when, result="ok")

    def extend(self, case, when, hours=2) -> None:
        task = self.open_task(case, "handling")
        with time_machine.travel(when, tick=False):
            if task.status == TaskStatus.OPEN:
                task_claim(actor=user("handler_sani"), task=task)
            extension_request(
                actor=user("handler_sani"),
                task=task,
                amount=hours,
                unit="working_hours",
                reason="r",
            )
        # The shift leader decides a case's first request, the supervisor any later one.
        review = self.open_task(case, "extension_review")
        decider = "supervisor" if review.role == Role.SUPERVISOR else "shiftlead"
        self.act(case, decider, "approve", when + dt.timedelta(minutes=5), "extension_review")

    def park(self, case, when) -> None:
        task = self.open_task(case, "handling")
        with time_machine.travel(when, tick=False):
            if task.status == TaskStatus.OPEN:
                task_claim(actor=user("handler_sani"), task=task)
            parking_request(actor=user("handler_sani"), task=task, reason="r")
        self.act(case, "shiftlead", "approve", when + dt.timedelta(minutes=5), "parking_review")

    def cancel(self, case, when) -> None:
        with time_machine.travel(when, tick=False):
            case_cancel(actor=user("shiftlead"), case=case, reason="作废 void")


@pytest.fixture
def history(db):
    """The demo organisation with one category: SANI handles it in 4 working hours."""
    category = city_with_category(limit_value=4, limit_unit="working_hours")
    return History(category)
