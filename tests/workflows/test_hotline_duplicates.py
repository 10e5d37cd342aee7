"""Duplicate candidates of a new order: the same category nearby within the window, or the
same text (punctuation aside); not closed ones, not another category."""

import pytest

from tests.workflows.test_hotline import hotline  # noqa: F401  (fixture)
from workflows.models import CaseStatus, Category
from workflows.selectors.hotline import duplicate_candidates
from workflows.services.hotline import OrderReport, order_report

pytestmark = pytest.mark.django_db


def take_call(users, centre, *, text="楼下垃圾三天没人清运", code="010101", **where):
    return order_report(
        actor=users("agent1"),
        report=OrderReport(
            centre=centre,
            category=Category.objects.get(kind="hotline", code=code),
            request_type="complaint",
            text=text,
            caller_phone="13812341234",
            **where,
        ),
    )


def test_nearby_and_same_text_candidates(hotline, users):  # noqa: F811
    first = take_call(users, hotline, lat=31.2300, lng=121.4700)
    far_same_text = take_call(users, hotline, text="路灯不亮，快修！", lat=31.30, lng=121.60)
    other_category = take_call(users, hotline, code="010102", lat=31.2301, lng=121.4701)
    closed = take_call(users, hotline, lat=31.2300, lng=121.4700)
    closed.case.status = CaseStatus.CLOSED
    closed.case.save(update_fields=["status"])
    new = take_call(users, hotline, text="路灯不亮 快修", lat=31.2305, lng=121.4702)
    found = {c.case.pk: c for c in duplicate_candidates(new.case)}
    assert found[first.pk].reason == "nearby" and 40 < found[first.pk].metres < 80
    assert found[far_same_text.pk].reason == "same_text" and found[far_same_text.pk].metres is None
    assert other_category.pk not in found and closed.pk not in found
    assert next(iter(found)) == first.pk  # nearest first, same-text ones after
