"""Demo cases: a few in every stage, so each demo account finds work in its lists."""

from __future__ import annotations

import struct
import zlib
from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test.utils import override_settings

import workflows

from .models import Case, CaseTask, Category, HotlineOrder, TaskStatus
from .services.cases import CaseReport, case_report
from .services.hotline import OrderReport, hotline_categories_load, hotline_complete, order_report
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
    """A real 240x180 PNG of a street (sky, road, lane marks), big enough to be seen as a
    photo in the pages."""
    width, height = 240, 180
    sky, road, mark = b"\x9f\xc5\xe8", b"\x8a\x8f\x98", b"\xf5\xf5\xf5"
    rows = []
    for y in range(height):
        if y < height // 2:
            row = sky * width
        elif height * 3 // 4 - 2 <= y <= height * 3 // 4 + 2:
            row = b"".join(mark if (x // 20) % 2 == 0 else road for x in range(width))
        else:
            row = road * width
        rows.append(b"\x00" + row)
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + _chunk(b"IHDR", header)
        + _chunk(b"IDAT", zlib.compress(b"".join(rows)))
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


# Demo cases a citizen reported through the public app, with a name and phone to find them by.
CITIZEN_REPORTS = {
    "废弃沙发": ("李娜", "13911112222"),
    "垃圾桶旁垃圾堆放": ("周杰", "13922223333"),
    "自来水管破裂": ("吴敏", "13933334444"),
    "共享单车乱停堵塞出入口": ("郑浩", "13944445555"),
}


def seed_cases(*, scheme_id: int) -> int:
    """Report and walk the demo cases once; returns how many were created (0 if present)."""
    if Case.objects.exists():
        return 0
    inspector = get_user_model().objects.get(username="inspector")
    for code, grid, description, steps in WALKS:
        category = Category.objects.get(scheme_id=scheme_id, kind="event", code=code)
        name, phone = CITIZEN_REPORTS.get(description, ("", ""))
        case = case_report(
            actor=inspector,
            report=CaseReport(
                category=category.pk,
                description=description,
                source="public_app" if phone else "inspector",
                reporter_name=name,
                reporter_contact=phone,
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
            "filing_conditions": "演示类别（由演示数据生成），不属于任何编码标准。",
        },
    )
    return category


# --- the 12345 hotline: one order in every stage -------------------------------------------------
HOTLINE_CSV = Path(workflows.__file__).resolve().parent / "data" / "hotline_categories.csv"
REPLY = {"reply": "已派人处理完毕", "reply_contact": "phone", "reply_result": "solved"}
_DISPATCH = ("agent1", "hl_intake", "dispatch", {"lead_unit": "SANI", "assist_units": []})
_SIGNED = [_DISPATCH, ("handler_sani", "hl_lead_sign", "sign", {})]
_REPLIED = [*_SIGNED, ("handler_sani", "hl_lead_reply", "reply", REPLY)]

# (category, request type, text, caller, phone, steps as (user, stage, outcome, data))
ORDERS = [
    (
        "050101",
        "consultation",
        "低保怎么申请？",
        "王芳",
        "13900001111",
        [],
    ),
    (
        "050101",
        "consultation",
        "社保卡在哪里补办？",
        "赵强",
        "13900002222",
        [
            (
                "agent1",
                "hl_intake",
                "answer",
                {"answer": "携带身份证到区政务服务中心窗口办理。"},
            )
        ],
    ),
    (
        "010101",
        "complaint",
        "小区门口垃圾三天未清运，路面也破损",
        "张伟",
        "13812341234",
        [
            (
                "agent1",
                "hl_intake",
                "dispatch",
                {"lead_unit": "SANI", "assist_units": ["MUNI", "ENF"]},
            ),
            ("handler_sani", "hl_lead_sign", "sign", {}),
            ("handler_muni", "hl_assist_sign", "sign", {}),
            (
                "handler_muni",
                "hl_assist_feedback",
                "feedback",
                {"feedback": "路面已修补"},
            ),
        ],
    ),
    (
        "010401",
        "help",
        "大树倒在路中间，影响通行",
        "刘洋",
        "13700003333",
        [
            ("agent1", "hl_intake", "dispatch", {"lead_unit": "MUNI", "assist_units": []}),
            ("handler_muni", "hl_lead_sign", "return", {"reason_code": "not_our_duty"}),
        ],
    ),
    ("010102", "complaint", "道路保洁不到位", "陈静", "13600004444", _REPLIED),
    (
        "010103",
        "complaint",
        "公厕长期不开放",
        "杨帆",
        "13500005555",
        [
            *_REPLIED,
            (
                "agent2",
                "hl_callback",
                "unsatisfied",
                {"notes": "公厕仍未开放", "unit_fault": "1"},
            ),
        ],
    ),
    (
        "010101",
        "complaint",
        "小区门口垃圾三天未清运，路面也破损",
        "黄磊",
        "13400006666",
        [("agent2", "hl_intake", "merge", {"merge_into": "@2"})],
    ),
]


def _walk_order(order: HotlineOrder, steps, numbers: list[str]) -> None:
    users = get_user_model().objects
    for username, stage, outcome, data in steps:
        actor = users.get(username=username)
        task = (
            CaseTask.objects.filter(case_id=order.pk, stage=stage, status=TaskStatus.OPEN)
            .filter(unit__in=[m.unit_id for m in actor.memberships.all()])
            .first()
        )
        data = {k: numbers[int(v[1:])] if str(v).startswith("@") else v for k, v in data.items()}
        hotline_complete(actor=actor, task=task, outcome=outcome, data=data)


@override_settings(CITYOPS_HOTLINE_CALLBACK_NEXT_DAY=False)
def seed_orders() -> int:
    """Load the category sample and walk the demo orders once; returns how many were made."""
    from departments.models import Unit

    hotline_categories_load(HOTLINE_CSV)
    if HotlineOrder.objects.exists():
        return 0
    agent = get_user_model().objects.get(username="agent1")
    centre = Unit.objects.get(code="HOTLINE")
    numbers: list[str] = []
    for code, kind, text, name, phone, steps in ORDERS:
        order = order_report(
            actor=agent,
            report=OrderReport(
                centre=centre,
                category=Category.objects.get(kind="hotline", code=code),
                request_type=kind,
                text=text,
                caller_name=name,
                caller_phone=phone,
                address="东华街道",
            ),
        )
        numbers.append(order.case.number)
        _walk_order(order, steps, numbers)
    return len(ORDERS)
