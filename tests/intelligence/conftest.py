"""Fixtures of the intelligence tests: for breach prediction and hotspots, a category and
hand-written task histories; for dispatch suggestions, the demo city (tests.workflows), a small
labelled history as a file in the import_history format, and a model trained on it."""

from __future__ import annotations

import csv
import datetime as dt
import random
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.contrib.auth import get_user_model
from viewflow.workflow.models import Task

from intelligence.services.breach import breach_model_forget
from intelligence.services.history import history_import
from intelligence.services.train import suggestion_model_train
from tests.workflows.case_scene import city as city_with_category
from tests.workflows.conftest import (  # noqa: F401  (fixtures)
    api,
    chromium,
    demo,
    png,
    staff_client,
    users,
    walk,
)
from workflows.models import CaseTask, TaskStatus
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
    return city_with_category(limit_value=4, limit_unit="working_hours")


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


COLUMNS = ["reported_at", "text", "unit", "category", "closed_at", "lat", "lng", "external_id"]
PHRASES = {
    "SANI": (
        "GB/T 30428.2/event/0102",
        [
            "路边堆着一大堆生活垃圾",
            "垃圾桶满了没人清理",
            "绿化带里有很多垃圾袋",
            "人行道上垃圾很多很脏",
            "门口的垃圾发臭了",
        ],
    ),
    "MUNI": (
        "GB/T 30428.2/component/0118",
        ["路灯晚上不亮", "这条路的路灯坏了", "路灯一直闪烁", "路灯杆歪了灯也不亮"],
    ),
    "ENF": (
        "GB/T 30428.2/event/0504",
        [
            "店家把桌子摆到人行道上经营",
            "饭店占用人行道摆摊经营",
            "商户在门外经营占道",
            "水果店把货摆在店外经营",
        ],
    ),
    "WATER": (
        "GB/T 30428.2/event/0404",
        ["下水道堵了污水冒出来", "排水管道堵塞返水", "雨水井堵塞积水", "下水道返臭水"],
    ),
}
PLACES = ["东街", "西街", "人民路", "解放路", "菜市场", "学校门口", "公园旁边", "地铁口"]
ENDINGS = ["", "，请尽快处理", "，好几天了", "。"]
# Unseen texts (no phrase above word for word) and the unit that handles each.
UNSEEN = {
    "菜市场后面的下水道又堵住了，污水流了一地": "WATER",
    "晚上整条街的路灯都不亮，太黑了": "MUNI",
    "烧烤店把桌椅摆到人行道上经营": "ENF",
    "楼下的生活垃圾三天没人清理了": "SANI",
}


def history_rows(per_unit: int = 50, seed: int = 7, start: dt.datetime | None = None):
    rng = random.Random(seed)
    start = start or dt.datetime(2026, 1, 5, 9, 0)
    rows = []
    for i in range(per_unit * len(PHRASES)):
        unit = list(PHRASES)[i % len(PHRASES)]
        category, phrases = PHRASES[unit]
        at = start + dt.timedelta(hours=5 * i)
        text = f"{rng.choice(PLACES)}{rng.choice(phrases)}{rng.choice(ENDINGS)}"
        rows.append(
            {
                "reported_at": at.strftime("%Y-%m-%d %H:%M"),
                "text": text,
                "unit": unit,
                "category": category,
                "closed_at": (at + dt.timedelta(hours=20)).strftime("%Y-%m-%d %H:%M"),
                "lat": "",
                "lng": "",
                "external_id": f"LEGACY-{i:05d}",
            }
        )
    return rows


def write_csv(path: Path, rows: list[dict], encoding: str = "utf-8") -> Path:
    with path.open("w", newline="", encoding=encoding) as f:
        writer = csv.DictWriter(f, fieldnames=COLUMNS)
        writer.writeheader()
        writer.writerows(rows)
    return path


@pytest.fixture
def history_file(tmp_path):
    return write_csv(tmp_path / "history.csv", history_rows())


@pytest.fixture
def trained(demo, history_file):  # noqa: F811  (the imported fixture)
    """The demo city with 200 imported closed cases and a model trained on them (active)."""
    history_import(path=history_file)
    return suggestion_model_train()
