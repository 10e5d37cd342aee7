"""Demo cases: a few in every stage, so each demo account finds work in its lists."""

from __future__ import annotations

import struct
import zlib

from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile

from .models import Case, CaseTask, Category, TaskStatus
from .services.cases import CaseReport, case_report
from .services.outcomes import task_complete
from .services.tasks import task_claim

# Each walk: (event category code, grid cell, description, steps as (user, outcome, data));
# an outcome of None only claims the task, leaving it in that user's inbox.
_TO_FILING = [("intake", "accept", {})]
_TO_DISPATCH = [*_TO_FILING, ("shiftlead", "file", {})]
_TO_HANDLING = [*_TO_DISPATCH, ("dispatcher", "dispatch", {})]
_DONE = ("done", {"result": "已清理完毕"})


def _handled(handler: str) -> list:
    return [*_TO_HANDLING, (handler, *_DONE)]


WALKS = [
    ("0102", "D01-S01-C1-G1", "人行道上暴露垃圾", []),
    (
        "0505",
        "D02-S01-C2-G3",
        "机动车占用人行道",
        [("intake", None, {})],
    ),
    ("0201", "D01-S02-C1-G2", "电线杆上小广告", [("intake", "verify", {})]),
    ("0104", "D01-S01-C2-G1", "集市散场后道路不洁", _TO_FILING),
    ("0306", "D02-S02-C1-G2", "路面破损", _TO_FILING),
    ("0108", "D02-S01-C1-G1", "废弃沙发", _TO_DISPATCH),
    ("0404", "D01-S02-C2-G3", "下水道堵塞", _TO_DISPATCH),
    (
        "0102",
        "D02-S02-C2-G1",
        "垃圾桶旁垃圾堆放",
        [*_TO_HANDLING, ("handler_sani", None, {})],
    ),
    ("0103", "D01-S01-C1-G3", "渣土堆积", _TO_HANDLING),
    ("0306", "D01-S02-C2-G1", "人行道砖松动", _TO_HANDLING),
    ("0501", "D02-S01-C2-G2", "游商占道", _TO_HANDLING),
    ("0402", "D02-S02-C1-G3", "自来水管破裂", _TO_HANDLING),
    (
        "0104",
        "D02-S01-C1-G2",
        "路面油污",
        [*_TO_HANDLING, ("handler_sani", "return", {"reason": "属市政道路养护范围"})],
    ),
    ("0108", "D01-S01-C2-G2", "废弃床垫", _handled("handler_sani")),
    (
        "0102",
        "D01-S02-C1-G1",
        "绿化带内有垃圾",
        [*_handled("handler_sani"), ("inspector", "pass", {})],
    ),
    (
        "0102",
        "D02-S02-C2-G2",
        "垃圾桶满溢",
        [*_handled("handler_sani"), ("inspector", "pass", {}), ("shiftlead", "close", {})],
    ),
    (
        "0506",
        "D01-S01-C1-G2",
        "共享单车乱停堵塞出入口",
        [("intake", "invalid", {"reason": "电话重复上报"})],
    ),
]


def _chunk(kind: bytes, data: bytes) -> bytes:
    crc = struct.pack(">I", zlib.crc32(kind + data))
    return struct.pack(">I", len(data)) + kind + data + crc


def _png() -> bytes:
    """A real 8x8 grey PNG (so the photo shows in the pages)."""
    raw = b"".join(b"\x00" + b"\x90" * 8 for _ in range(8))
    header = struct.pack(">IIBBBBB", 8, 8, 8, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + _chunk(b"IHDR", header)
        + _chunk(b"IDAT", zlib.compress(raw))
        + _chunk(b"IEND", b"")
    )


def _photo(name: str) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, _png(), content_type="image/png")


def _walk(case: Case, steps: list) -> None:
    users = get_user_model().objects
    for username, outcome, data in steps:
        actor = users.get(username=username)
        task = CaseTask.objects.get(case=case, status=TaskStatus.OPEN)
        task_claim(actor=actor, task=task)
        if outcome is None:
            continue
        photos = [_photo("after.png")] if outcome == "done" else []
        task_complete(actor=actor, task=task, outcome=outcome, data=data, photos=photos)


def seed_cases(*, scheme_id: int) -> int:
    """Report and walk the demo cases once; returns how many were created (0 if present)."""
    if Case.objects.exists():
        return 0
    inspector = get_user_model().objects.get(username="inspector")
    for code, grid, description, steps in WALKS:
        category = Category.objects.get(scheme_id=scheme_id, kind="event", code=code)
        case = case_report(
            actor=inspector,
            report=CaseReport(
                category=category.pk,
                description=description,
                source="inspector",
                grid=grid,
                address=f"{grid} 网格附近",
                photos=[_photo("before.png")],
            ),
        )
        _walk(case, steps)
    return len(WALKS)


DEMO_SHORT_CODE = "0199"


def seed_short_limit_category(*, scheme_id: int) -> Category:
    """A demo-only event category with a 3-minute handling limit, to watch a case turn at
    risk, then overdue, escalate and get a supervision order within minutes."""
    from departments.models import Unit

    category, _ = Category.objects.update_or_create(
        scheme_id=scheme_id,
        kind="event",
        code=DEMO_SHORT_CODE,
        defaults={
            "major_code": "01",
            "major_name": "市容环境",
            "name": "演示：3分钟时限",
            "default_unit": Unit.objects.get(code="SANI"),
            "limit_value": 3,
            "limit_unit": "natural_minutes",
            "urgency": "urgent",
            "filing_conditions": "Demo category (seed_demo): not part of any code scheme.",
        },
    )
    return category
