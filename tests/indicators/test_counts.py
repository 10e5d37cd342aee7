"""Every count and rate of kpi.md against hand-made histories driven through the real services:
on time / late, returns, reworks, extensions, parking, cancellation, zero denominators."""

import datetime as dt

import pytest

from indicators.facts import facts_catch_up, facts_rebuild
from indicators.models import Fact, Indicator
from indicators.registry import formula_value
from indicators.selectors.periods import period_parse
from indicators.selectors.values import Selection, base_counts, indicator_values

from .conftest import at

pytestmark = pytest.mark.django_db
M = dt.timedelta(minutes=1)


@pytest.fixture
def october(history):
    """Eight cases reported on Tuesday 2026-10-13 from 09:00 (dispatched 09:0x, due 14:3x)."""
    h = history
    day = at(2026, 10, 13, 9, 0)
    cases = {name: h.report(day + i * M * 10) for i, name in enumerate("ABCDEFGH")}
    for name in "ABCDEFG":
        h.to_handling(cases[name], day + "ABCDEFG".index(name) * M * 10)
    # A: handled on time, checked, closed on time.
    h.handle(cases["A"], at(2026, 10, 13, 11, 0))
    h.act(cases["A"], "inspector", "pass", at(2026, 10, 13, 11, 30))
    h.act(cases["A"], "shiftlead", "close", at(2026, 10, 13, 11, 40))
    # B: handled late (due ~14:43), closed late.
    h.handle(cases["B"], at(2026, 10, 13, 16, 0))
    h.act(cases["B"], "inspector", "pass", at(2026, 10, 13, 16, 30))
    h.act(cases["B"], "shiftlead", "close", at(2026, 10, 13, 16, 40))
    # C: returned as mis-dispatched (approved), dispatched again, then left overdue.
    h.act(cases["C"], "handler_sani", "return", at(2026, 10, 13, 10, 0), reason="not ours")
    h.act(cases["C"], "shiftlead", "approve", at(2026, 10, 13, 10, 10))
    # The unit that returned it is no longer suggested (issue 10): chosen again by hand.
    h.act(cases["C"], "dispatcher", "dispatch", at(2026, 10, 13, 10, 20), unit="SANI")
    # D: 2 working hours' extension approved, handled after the first due but within it.
    h.extend(cases["D"], at(2026, 10, 13, 10, 0), hours=2)
    h.handle(cases["D"], at(2026, 10, 13, 16, 0))
    # E: parked, never resumed in October.
    h.park(cases["E"], at(2026, 10, 13, 10, 0))
    # F: cancelled while in handling.
    h.cancel(cases["F"], at(2026, 10, 13, 10, 0))
    # G: handled, check failed (rework by the same unit), handled again, closed on time.
    h.handle(cases["G"], at(2026, 10, 13, 10, 0))
    h.act(cases["G"], "inspector", "fail", at(2026, 10, 13, 10, 30), reason="still dirty")
    h.handle(cases["G"], at(2026, 10, 13, 11, 0))
    h.act(cases["G"], "inspector", "pass", at(2026, 10, 13, 11, 10))
    h.act(cases["G"], "shiftlead", "close", at(2026, 10, 13, 11, 20))
    # H: not accepted at intake.
    h.act(cases["H"], "intake", "invalid", at(2026, 10, 13, 10, 0), reason="dup")
    assert facts_catch_up(settle_seconds=0) > 0
    return cases


def values(period="2026-10", group=None):
    indicators = list(Indicator.objects.all())
    vals, raw = indicator_values(indicators, Selection(period_parse("month", period)), group)
    return vals.get(None, {}), raw.get(None, {}).get((), {})


def test_counts_of_kpi_md(october):
    v, counts = values()
    expected = {
        "reported": 8,
        "valid": 7,
        "filed": 7,
        "filed_on_time": 7,
        "dispatch_due": 8,
        "dispatched": 8,
        "dispatched_accurate": 7,
        "handling_due": 7,  # A B C C' D F G: E is parked at the period's end
        "handled": 4,  # A B D G (G's second feedback is the same dispatch)
        "handled_on_time": 3,  # A D (thanks to the extension) G
        "handled_late": 1,  # B
        "overdue_unhandled": 1,  # C' (C's first dispatch ended with the approved return)
        "closed": 3,
        "closed_on_time": 2,
        "rework": 1,
        "extension": 1,
        "extension_hours": 2,
        "parked": 1,
    }
    assert {k: counts.get(k, 0) for k in expected} == expected
    assert v["due_closing"] == 5
    assert v["handling_rate"] == pytest.approx(400 / 7)
    assert v["handled_on_time_rate"] == pytest.approx(300 / 7)
    assert v["accurate_dispatch_rate"] == pytest.approx(700 / 8)
    assert v["closing_rate"] == pytest.approx(60.0)
    assert v["closed_on_time_rate"] == pytest.approx(40.0)
    assert v["rework_rate"] == pytest.approx(20.0)
    assert v["extension_rate"] == pytest.approx(100 / 7)
    assert v["overdue_unhandled_rate"] == pytest.approx(100 / 7)
    assert v["valid_rate"] == pytest.approx(87.5)
    assert v["filing_rate"] == pytest.approx(100.0)
    # Zero denominators are "—" (None), never 0 % or 100 %.
    assert v["verified_on_time_rate"] is None and v["satisfaction_rate"] is None


def test_the_open_dispatch_is_carried_over_into_the_next_month(october):
    v, counts = values("2026-11")
    # C' is still open: due for handling in November too, and overdue at its end.
    assert counts["handling_due"] == 1 and counts["overdue_unhandled"] == 1
    assert v["handling_rate"] == 0.0 and v["overdue_unhandled_rate"] == 100.0
    v, counts = values("2026-09")
    assert counts.get("handling_due", 0) == 0 and v["handling_rate"] is None  # "—"


def test_facts_per_unit_and_area(october):
    from departments.models import Unit

    sani = Unit.objects.get(code="SANI")
    city = Unit.objects.get(code=october["A"].city.code)
    _, raw = indicator_values(
        list(Indicator.objects.filter(code="handling_rate")),
        Selection(period_parse("month", "2026-10")),
        "unit",
    )
    assert raw[sani.pk][()]["handled"] == 4
    assert raw[city.pk][()]["handled"] == 4  # rolled up into the city (its ancestor)
    by_area = base_counts(Selection(period_parse("month", "2026-10")), {"reported"}, "district")
    assert sum(c[()]["reported"] for c in by_area.values()) == 8


def test_rebuild_equals_the_maintained_facts(october):
    report = facts_rebuild()
    assert (report["missing"], report["extra"]) == (0, 0)
    assert report["facts"] == Fact.objects.count() > 0
    Fact.objects.filter(kind="handled").first().delete()
    report = facts_rebuild()
    assert (report["missing"], report["extra"]) == (1, 0)
    facts_rebuild(apply=True)
    assert facts_rebuild()["missing"] == 0


def test_the_registry_formulas_give_the_arithmetic_of_kpi_md_s_bulletin_example():
    """The formulas alone, over given base counts: 应结案 972 (处置 950 + 超期未处置 22),
    结案 911 → 93.72 %, 按期结案 737 → 75.82 %. The same example through the real code path
    (histories, facts, the bulletin) is tests/indicators/test_bulletin_example.py."""
    closing = Indicator.objects.get(code="closing_rate").formula
    on_time = Indicator.objects.get(code="closed_on_time_rate").formula
    due_closing = Indicator.objects.get(code="due_closing").formula
    counts = {
        (): {
            "filed": 996,
            "handled": 950,
            "overdue_unhandled": 22,
            "closed": 911,
            "closed_on_time": 737,
        }
    }
    assert formula_value(due_closing, counts) == 972
    assert round(formula_value(closing, counts), 2) == 93.72
    assert round(formula_value(on_time, counts), 2) == 75.82


def test_a_sum_of_counts_opens_all_the_cases_it_counts(october):
    """应结案 (处置 + 超期未处置) links to both: A B D G handled and C overdue, not only the
    handled four (the link used to open the formula's first count only)."""
    from django.contrib.auth import get_user_model
    from django.test import Client

    from indicators.reports import table

    cell = table(Selection(period_parse("month", "2026-10")), None, ["due_closing"])["rows"][0]
    assert cell["cells"][0]["text"] == "5"
    supervisor = Client()
    supervisor.force_login(get_user_model().objects.get(username="supervisor"))
    page = supervisor.get(cell["cells"][0]["url"]).content.decode()
    shown = {case.number for case in october.values() if f">{case.number}<" in page}
    assert shown == {october[n].number for n in "ABCDG"}


@pytest.mark.parametrize(
    ("formula", "text"),
    [
        ({"numerator": [{"count": "reported", "filters": {"source": "hotline"}}]}, "2"),
        (
            {
                "numerator": [{"count": "reported", "filters": {"source": "hotline"}}],
                "denominator": [{"count": "reported"}],
                "scale": 100,
            },
            "40.00 %",
        ),
    ],
    ids=["count", "rate"],
)
def test_a_figure_with_term_filters_opens_only_the_cases_its_terms_count(history, formula, text):
    """An indicator whose terms carry filters (here: reported through the hotline) links to
    the cases those terms count, not to every case of the base count."""
    from django.contrib.auth import get_user_model
    from django.test import Client

    from indicators.reports import table

    day = at(2026, 10, 13, 9, 0)
    sources = ["inspector", "hotline", "inspector", "hotline", "inspector"]
    cases = [history.report(day + i * M * 10, source=s) for i, s in enumerate(sources)]
    facts_catch_up(settle_seconds=0)
    unit = "count" if "denominator" not in formula else "percent"
    Indicator.objects.create(
        code="hotline_reported",
        name_zh="热线上报",
        name_en="Reported by the hotline",
        definition_zh="热线上报的案卷",
        definition_en="Cases reported by the hotline",
        formula=formula,
        unit=unit,
        direction="up",
    )

    cell = table(Selection(period_parse("month", "2026-10")), None, ["hotline_reported"])
    cell = cell["rows"][0]["cells"][0]
    assert cell["text"] == text
    assert "f_source=hotline" in cell["url"]
    supervisor = Client()
    supervisor.force_login(get_user_model().objects.get(username="supervisor"))
    page = supervisor.get(cell["url"]).content.decode()
    shown = {c.number for c in cases if f">{c.number}<" in page}
    assert shown == {c.number for c, s in zip(cases, sources, strict=True) if s == "hotline"}
