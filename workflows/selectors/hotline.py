"""Reads of the 12345 hotline: orders a user may see (caller data masked unless their post needs
it), duplicate candidates, and the citizen's progress query."""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass

from django.conf import settings
from django.db.models import QuerySet

from workflows import access

from ..models import (
    Case,
    CaseStatus,
    CaseTask,
    HotlineOrder,
    Stage,
    mask_name,
    mask_phone,
)


def orders_visible(user) -> QuerySet[HotlineOrder]:
    return (
        HotlineOrder.objects.filter(access.hotline_order_visibility_q(user))
        .select_related("case__category", "centre", "lead_unit")
        .order_by("-case__created_at", "-case_id")
    )


def order_for_user(user, case_id: int) -> HotlineOrder | None:
    order = (
        HotlineOrder.objects.select_related(
            "case__category", "case__process", "centre", "lead_unit", "merged_into"
        )
        .filter(pk=case_id)
        .first()
    )
    if order is None or not access.can_view_order(user, order):
        return None
    return order


@dataclass(frozen=True)
class Caller:
    name: str
    phone: str
    masked: bool


def caller_for(user, order: HotlineOrder) -> Caller:
    """The caller as this viewer may see them: in full for the posts that need it."""
    if access.can_see_caller(user, order):
        return Caller(order.caller_name, order.caller_phone, False)
    return Caller(mask_name(order.caller_name), mask_phone(order.caller_phone), True)


def order_tasks(order: HotlineOrder) -> list[CaseTask]:
    return list(
        CaseTask.objects.filter(case_id=order.pk)
        .select_related("unit", "owner")
        .order_by("created_at", "task_id")
    )


def order_page(user, *, before: str | None = None, limit: int = 25):
    """A keyset page of the orders the user may see, newest first: (orders, next cursor)."""
    qs = orders_visible(user)
    if before:
        try:
            stamp, pk = before.rsplit("_", 1)
            when = dt.datetime.fromisoformat(stamp)
            qs = qs.filter(case__created_at__lte=when).exclude(
                case__created_at=when, case_id__gte=int(pk)
            )
        except ValueError:
            pass
    rows = list(qs[: limit + 1])
    more = len(rows) > limit
    rows = rows[:limit]
    cursor = f"{rows[-1].case.created_at.isoformat()}_{rows[-1].pk}" if more and rows else None
    return rows, cursor


# --- duplicates ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Candidate:
    case: Case
    reason: str  # "nearby" | "same_text"
    metres: int | None


def _metres(a_lat, a_lng, b_lat, b_lng) -> float:
    k = 111_320.0
    dx = (a_lng - b_lng) * k * math.cos(math.radians((a_lat + b_lat) / 2))
    return math.hypot((a_lat - b_lat) * k, dx)


def _norm(text: str) -> str:
    return "".join(ch for ch in text.lower() if ch.isalnum())


def duplicate_candidates(case: Case, *, limit: int = 10) -> list[Candidate]:
    """Open cases or orders that may report the same problem: the same category within the
    configured distance and time window, or the same text (whitespace and punctuation aside)
    within the window; nearest and newest first. Uses the (category, status, created_at)
    index (`case_category_open`), also under a prepared statement's generic plan."""
    since = case.created_at - dt.timedelta(days=settings.CITYOPS_DUPLICATE_DAYS)
    radius = settings.CITYOPS_DUPLICATE_METRES
    base = Case.objects.filter(status=CaseStatus.OPEN, created_at__gte=since).exclude(pk=case.pk)
    found: dict[int, Candidate] = {}
    if case.lat is not None and case.lng is not None:
        dlat = radius / 111_320.0
        dlng = dlat / max(math.cos(math.radians(case.lat)), 0.01)
        near = base.filter(
            category_id=case.category_id,
            lat__range=(case.lat - dlat, case.lat + dlat),
            lng__range=(case.lng - dlng, case.lng + dlng),
        ).order_by("-created_at")[: limit * 2]
        for other in near:
            metres = _metres(case.lat, case.lng, other.lat, other.lng)
            if metres <= radius:
                found[other.pk] = Candidate(other, "nearby", round(metres))
    text = _norm(case.description)
    if text:
        # Compare the texts on (id, description) only, then read the few matching rows: the
        # 200 newest whole rows cost more than the search itself.
        same = base.filter(category_id=case.category_id).order_by("-created_at")
        ids = [
            pk
            for pk, description in same.values_list("pk", "description")[:200]
            if pk not in found and _norm(description) == text
        ][:limit]
        rows = {c.pk: c for c in Case.objects.filter(pk__in=ids)}
        for pk in ids:
            found[pk] = Candidate(rows[pk], "same_text", None)
    ordered = sorted(found.values(), key=lambda c: (c.metres is None, c.metres or 0))
    return ordered[:limit]


def repeat_count(case: Case) -> int:
    """How many reports were merged into this case or order."""
    return HotlineOrder.objects.filter(merged_into=case).count()


# --- the citizen's progress query ---------------------------------------------------------------


@dataclass(frozen=True)
class PublicProgress:
    """What a citizen sees of their order: no names, no phones, no internal notes."""

    number: str
    stage: str
    status: str
    reported_at: dt.datetime
    dispatched_at: dt.datetime | None
    replied_at: dt.datetime | None
    closed_at: dt.datetime | None
    reply: str
    answer: str
    can_rate: bool
    rating: str


def order_public(number: str, code: str) -> HotlineOrder | None:
    """The order with this number whose query code (or the phone's last four digits) is
    `code`; None otherwise (a wrong code looks like an unknown number)."""
    number, code = (number or "").strip(), (code or "").strip()
    if not number or not code or len(number) > 20 or len(code) > 8:
        return None
    order = HotlineOrder.objects.select_related("case").filter(case__number=number).first()
    if order is None:
        return None
    phone_tail = order.caller_phone[-4:] if len(order.caller_phone) >= 4 else None
    if code != order.query_code and code != phone_tail:
        return None
    return order


def public_progress(order: HotlineOrder) -> PublicProgress:
    case = order.case
    closed = case.status == CaseStatus.CLOSED
    return PublicProgress(
        number=case.number,
        stage=public_stage(order),
        status=case.status,
        reported_at=case.created_at,
        dispatched_at=order.dispatched_at,
        replied_at=order.replied_at,
        closed_at=case.closed_at,
        reply=order.reply_text,
        answer=order.answer,
        can_rate=closed and not order.citizen_rating,
        rating=order.citizen_rating,
    )


PUBLIC_STAGES = {
    Stage.HL_INTAKE: "received",
    Stage.HL_LEAD_SIGN: "dispatched",
    Stage.HL_LEAD_RULING: "dispatched",
    Stage.HL_LEAD_REPLY: "handling",
    Stage.HL_REHANDLE: "handling",
    Stage.HL_CALLBACK: "replied",
    Stage.ENDED: "closed",
}


def public_stage(order: HotlineOrder) -> str:
    """received · dispatched · handling · replied · closed · merged"""
    if order.merged_into_id:
        return "merged"
    return PUBLIC_STAGES.get(order.case.stage, "handling")


def order_turned_from(case) -> HotlineOrder | None:
    """The 12345 order a 数字城管 case was turned into (its intake's `to_hotline`), if any."""
    return HotlineOrder.objects.select_related("case").filter(from_case=case).first()
