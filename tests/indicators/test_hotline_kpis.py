"""The 12345 hotline's KPIs against hand-made order histories driven through the real hotline
services at chosen times: each KPI per unit and request type, zero denominators ("—"), the
catch-up and the rebuild check agreeing, and a unit head seeing only their unit."""

from __future__ import annotations

import datetime as dt
import re
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.test import Client

from indicators.facts import facts_catch_up, facts_rebuild
from indicators.reports import fmt, indicators_by_code
from indicators.selectors.periods import Period
from indicators.selectors.values import Selection, indicator_values
from indicators.services import registry_sync
from tests.workflows.conftest import demo, users  # noqa: F401  (fixtures)
from tests.workflows.test_hotline import HOTLINE_CSV, REPLY, open_task, take_call
from workflows.models import Stage
from workflows.services.hotline import (
    hotline_categories_load,
    hotline_complete,
    order_rate,
    order_unmerge,
)

pytestmark = pytest.mark.django_db
SH = ZoneInfo("Asia/Shanghai")
CODES = [
    "hl_response_rate",
    "hl_on_time_rate",
    "hl_replied",
    "hl_solved_rate",
    "satisfaction_rate",
    "hl_rating_rate",
    "hl_overall_satisfaction",
    "hl_rehandle_rate",
    "hl_return_rate",
    "hl_repeats",
]
NOV = Selection(Period("custom", dt.date(2026, 10, 1), dt.date(2026, 12, 31)))


def at(day, hour, minute=0):
    return dt.datetime(2026, 11, day, hour, minute, tzinfo=SH)  # 2026-11-02 is a Monday


@pytest.fixture
def centre(demo, settings):  # noqa: F811
    from departments.models import Unit

    settings.CITYOPS_HOTLINE_CALLBACK_NEXT_DAY = False
    hotline_categories_load(HOTLINE_CSV)
    registry_sync()
    return Unit.objects.get(code="HOTLINE")


def step(users, who, order, stage, outcome, when, unit=None, **data):  # noqa: F811
    with time_machine.travel(when, tick=False):
        hotline_complete(
            actor=users(who), task=open_task(order, stage, unit), outcome=outcome, data=data
        )


def call(users, centre, when, **kw):  # noqa: F811
    with time_machine.travel(when, tick=False):
        return take_call(users, centre, **kw)


def dispatched(users, centre, when, lead="SANI", assist=(), **kw):  # noqa: F811
    order = call(users, centre, when, **kw)
    step(
        users,
        "agent1",
        order,
        Stage.HL_INTAKE,
        "dispatch",
        when + dt.timedelta(minutes=1),
        lead_unit=lead,
        assist_units=list(assist),
    )
    return order


@pytest.fixture
def orders(centre, users):  # noqa: F811
    """A: SANI lead + MUNI assisting; SANI signs in time, MUNI returns (accepted: dropped),
    SANI replies solved, callback satisfied; the citizen rates it unsatisfied.
    B (help): SANI signs late, replies solved, unsatisfied callback through its fault →
    re-handling replied "partly", second callback unsatisfied (not its fault).
    D: SANI in time, solved, basically satisfied.  E: ENF, callback could not reach.
    C: a consultation answered directly.  G: merged into E (a repeat), H: merged, unmerged."""
    S, L = Stage, "handler_sani"
    a = dispatched(users, centre, at(2, 9), assist=("MUNI",))
    step(users, L, a, S.HL_LEAD_SIGN, "sign", at(2, 9, 30))
    step(
        users,
        "handler_muni",
        a,
        S.HL_ASSIST_SIGN,
        "return",
        at(2, 9, 40),
        reason_code="not_our_duty",
    )
    step(users, "hotlinelead", a, S.HL_ASSIST_RULING, "accept", at(2, 9, 50))
    step(users, L, a, S.HL_LEAD_REPLY, "reply", at(2, 10), **REPLY)
    step(users, "agent1", a, S.HL_CALLBACK, "satisfied", at(3, 9))
    with time_machine.travel(at(4, 9), tick=False):
        order_rate(order=a, rating="unsatisfied")

    b = dispatched(users, centre, at(2, 9), request_type="help")
    step(users, L, b, S.HL_LEAD_SIGN, "sign", at(3, 10))  # due 11:00 on the 2nd: late
    step(users, L, b, S.HL_LEAD_REPLY, "reply", at(3, 11), **REPLY)
    step(users, "agent1", b, S.HL_CALLBACK, "unsatisfied", at(4, 9), notes="没修", unit_fault="1")
    step(users, L, b, S.HL_REHANDLE, "reply", at(5, 9), **{**REPLY, "reply_result": "partly"})
    step(users, "agent1", b, S.HL_CALLBACK, "unsatisfied", at(6, 9), notes="还是没修")

    d = dispatched(users, centre, at(2, 14))
    step(users, L, d, S.HL_LEAD_SIGN, "sign", at(2, 14, 30))
    step(users, L, d, S.HL_LEAD_REPLY, "reply", at(2, 15), **REPLY)
    step(users, "agent1", d, S.HL_CALLBACK, "basic", at(3, 9))

    e = dispatched(users, centre, at(2, 14), lead="ENF")
    step(users, "handler_enf", e, S.HL_LEAD_SIGN, "sign", at(2, 14, 30))
    g = call(users, centre, at(2, 15))
    step(users, "agent1", g, S.HL_INTAKE, "merge", at(2, 15, 5), merge_into=e.case.number)
    h = call(users, centre, at(2, 15))
    step(users, "agent1", h, S.HL_INTAKE, "merge", at(2, 15, 5), merge_into=e.case.number)
    h.refresh_from_db()
    with time_machine.travel(at(2, 16), tick=False):
        order_unmerge(actor=users("hotlinelead"), order=h)
    step(users, "handler_enf", e, S.HL_LEAD_REPLY, "reply", at(2, 16), **REPLY)
    step(users, "agent1", e, S.HL_CALLBACK, "unreachable", at(3, 9), attempts="3")

    c = call(users, centre, at(2, 9), request_type="consultation")
    step(users, "agent1", c, S.HL_INTAKE, "answer", at(2, 9, 5), answer="周一办理")
    assert facts_catch_up(settle_seconds=0) > 0
    return {"A": a, "B": b, "C": c, "D": d, "E": e, "G": g, "H": h}


def values(group=None, selection=NOV):
    out, _raw = indicator_values(indicators_by_code(CODES), selection, group)
    return out


def rounded(row):
    return {k: None if v is None else round(v, 2) for k, v in row.items()}


def unit_pk(code):
    from departments.models import Unit

    return Unit.objects.get(code=code).pk


def test_each_hotline_kpi_per_unit(orders):
    by_unit = values("unit")
    assert rounded(by_unit[unit_pk("SANI")]) == {
        "hl_response_rate": 66.67,  # A, D in time; B late
        "hl_on_time_rate": 100.0,  # all three replied within the 15 working days
        "hl_replied": 3,
        "hl_solved_rate": 66.67,  # B's re-handled reply "partly" stands
        "satisfaction_rate": 66.67,  # A satisfied, D basically, B's deciding unsatisfied
        "hl_rating_rate": 0.0,  # the citizen's own rating of A
        "hl_overall_satisfaction": 50.0,  # (2 + 0) / (3 + 1)
        "hl_rehandle_rate": 33.33,
        "hl_return_rate": 0.0,
        "hl_repeats": 0,
    }
    muni = rounded(by_unit[unit_pk("MUNI")])
    assert muni["hl_response_rate"] == 0.0 and muni["hl_return_rate"] == 100.0
    # MUNI replied to nothing and had no callbacks: zero denominators, never 0 % or 100 %.
    assert muni["hl_solved_rate"] is None and muni["satisfaction_rate"] is None
    assert muni["hl_on_time_rate"] is None and muni["hl_rehandle_rate"] is None
    enf = rounded(by_unit[unit_pk("ENF")])
    assert enf["hl_response_rate"] == 100.0 and enf["hl_replied"] == 1
    assert enf["satisfaction_rate"] is None  # could not reach: no callback reached
    assert by_unit[unit_pk("HOTLINE")]["hl_repeats"] == 1  # G; H was unmerged


def test_per_request_type_and_city(orders):
    by_type = values("type")
    assert by_type["help"]["hl_replied"] == 1 and by_type["help"]["hl_solved_rate"] == 0.0
    assert round(by_type["complaint"]["hl_solved_rate"], 2) == 100.0  # A, D, E
    city = rounded(values()[None])
    assert city["hl_replied"] == 4 and city["hl_repeats"] == 1
    assert city["hl_response_rate"] == 60.0  # A lead, D, E in time; A assist returned, B late
    # The category dimension carries the hotline category of the order.
    by_major = values("major")
    assert sum(v["hl_replied"] for v in by_major.values()) == 4


def test_zero_denominators_show_a_dash(orders):
    empty = Selection(Period("custom", dt.date(2025, 1, 1), dt.date(2025, 1, 31)))
    row = values(selection=empty).get(None, {})
    for ind in indicators_by_code(CODES):
        if ind.unit == "percent":
            assert row.get(ind.code) is None
            assert fmt(row.get(ind.code), ind.unit) == "—"


def test_rebuild_check_finds_no_difference(orders):
    report = facts_rebuild()
    assert (report["missing"], report["extra"]) == (0, 0)
    assert report["facts"] > 0


def login(username):
    c = Client()
    assert c.login(username=username, password="pw")
    return c


def test_pages_drill_down_and_unit_head_limits(orders):
    q = "period=custom&from=2026-10-01&to=2026-12-31"
    sup = login("supervisor").get(f"/indicators/hotline/?{q}")
    assert sup.status_code == 200
    html = sup.content.decode()
    assert "环卫处" in html and "市政处" in html
    head = login("unithead_sani").get(f"/indicators/hotline/?{q}")
    assert head.status_code == 200
    html = head.content.decode()
    assert "环卫处" in html and "市政处" not in html
    links = re.findall(r'href="(/indicators/cases/\?count=hl_replied[^"]*)"', html)
    assert links
    page = login("unithead_sani").get(links[0].replace("&amp;", "&")).content.decode()
    for name in "ABD":
        assert orders[name].case.number in page
    assert orders["E"].case.number not in page  # ENF's reply: not the unit head's
    # Asking for another unit's orders directly shows none of them.
    muni = unit_pk("MUNI")
    other = login("unithead_sani").get(f"/indicators/cases/?count=hl_returns&{q}&f_unit={muni}")
    assert other.status_code == 200 and orders["A"].case.number not in other.content.decode()
    sup_muni = login("supervisor").get(f"/indicators/cases/?count=hl_returns&{q}&f_unit={muni}")
    assert orders["A"].case.number in sup_muni.content.decode()
    by_type = login("supervisor").get(f"/indicators/hotline/?{q}&group=type")
    assert by_type.status_code == 200
    assert login("supervisor").get(f"/indicators/hotline/?{q}&group=nope").status_code == 400
    assert login("handler_sani").get(f"/indicators/hotline/?{q}").status_code == 404


def test_after_the_join_the_case_shows_the_callback_stage(centre, users):  # noqa: F811
    """The join's callback task opens on the transition's own case object (it used to be
    opened on a copy, so the case kept showing the reply stage)."""
    order = dispatched(users, centre, at(2, 9), assist=("MUNI",))
    step(users, "handler_sani", order, Stage.HL_LEAD_SIGN, "sign", at(2, 9, 30))
    step(users, "handler_muni", order, Stage.HL_ASSIST_SIGN, "sign", at(2, 9, 31), unit="MUNI")
    step(
        users,
        "handler_muni",
        order,
        Stage.HL_ASSIST_FEEDBACK,
        "feedback",
        at(2, 9, 40),
        unit="MUNI",
        feedback="ok",
    )
    step(users, "handler_sani", order, Stage.HL_LEAD_REPLY, "reply", at(2, 10), **REPLY)
    order.case.refresh_from_db()
    assert order.case.stage == Stage.HL_CALLBACK
