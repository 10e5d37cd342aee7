"""Demo 12345 orders: one in every stage (seed_demo), so agents, units and the hotline
centre's shift leader find work: a call at intake, a direct answer, a lead with two assisting
units (one fed back, one pending), a return awaiting the final ruling, a reply awaiting the
callback, an unsatisfied callback being re-handled, and a merged duplicate."""

from __future__ import annotations

from pathlib import Path

from django.contrib.auth import get_user_model
from django.test.utils import override_settings

import workflows

from ..models import CaseTask, Category, HotlineOrder, TaskStatus
from ..services.hotline import OrderReport, hotline_categories_load, hotline_complete
from .hotline import order_report

HOTLINE_CSV = Path(workflows.__file__).resolve().parent / "data" / "hotline_categories.csv"
REPLY = {"reply": "已派人处理完毕 Dealt with", "reply_contact": "phone", "reply_result": "solved"}
_DISPATCH = ("agent1", "hl_intake", "dispatch", {"lead_unit": "SANI", "assist_units": []})
_SIGNED = [_DISPATCH, ("handler_sani", "hl_lead_sign", "sign", {})]
_REPLIED = [*_SIGNED, ("handler_sani", "hl_lead_reply", "reply", REPLY)]

# (category, request type, text, caller, phone, steps as (user, stage, outcome, data))
ORDERS = [
    (
        "050101",
        "consultation",
        "低保怎么申请？ How to apply for basic allowance?",
        "王芳",
        "13900001111",
        [],
    ),
    (
        "050101",
        "consultation",
        "社保卡在哪里补办？ Where to replace a social security card?",
        "赵强",
        "13900002222",
        [
            (
                "agent1",
                "hl_intake",
                "answer",
                {"answer": "携带身份证到区政务服务中心 At the district service centre"},
            )
        ],
    ),
    (
        "010101",
        "complaint",
        "小区门口垃圾三天未清运，路面也破损 Garbage not collected for three days, road broken",
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
                {"feedback": "路面已修补 Road patched"},
            ),
        ],
    ),
    (
        "010401",
        "help",
        "大树倒在路中间 A fallen tree blocks the road",
        "刘洋",
        "13700003333",
        [
            ("agent1", "hl_intake", "dispatch", {"lead_unit": "MUNI", "assist_units": []}),
            ("handler_muni", "hl_lead_sign", "return", {"reason_code": "not_our_duty"}),
        ],
    ),
    ("010102", "complaint", "道路保洁不到位 Street not swept", "陈静", "13600004444", _REPLIED),
    (
        "010103",
        "complaint",
        "公厕长期不开放 Public toilet always closed",
        "杨帆",
        "13500005555",
        [
            *_REPLIED,
            (
                "agent2",
                "hl_callback",
                "unsatisfied",
                {"notes": "仍未开放 Still closed", "unit_fault": "1"},
            ),
        ],
    ),
    (
        "010101",
        "complaint",
        "小区门口垃圾三天未清运，路面也破损 Garbage not collected for three days, road broken",
        "黄磊",
        "13400006666",
        [("agent2", "hl_intake", "merge", {"merge_into": "@2"})],
    ),
]


def _walk(order: HotlineOrder, steps, numbers: list[str]) -> None:
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
                address="东华街道 Donghua Street",
            ),
        )
        numbers.append(order.case.number)
        _walk(order, steps, numbers)
    return len(ORDERS)
