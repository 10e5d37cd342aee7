"""The suggestion acceptance rate in the indicator center: each choice recorded after a
suggestion on a case's page is a fact (first, another, none) of the case's handling unit and
the deciding user; the rates per unit and person, the drill-down to the cases, the rebuild
check agreeing with the catch-up."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.test import Client

from indicators.facts import facts_catch_up, facts_rebuild
from indicators.reports import indicators_by_code
from indicators.selectors.periods import Period
from indicators.selectors.values import (
    Selection,
    drill_case_ids,
    drill_q,
    indicator_values,
)
from indicators.services import registry_sync
from intelligence.services.feedback import suggestion_choice_record, suggestion_shown

from .conftest import at, handling_task, user

pytestmark = pytest.mark.django_db
CODES = ["suggestion_first_rate", "suggestion_taken_rate"]
NOVEMBER = Selection(Period("custom", dt.date(2026, 11, 1), dt.date(2026, 11, 30)))


def decide(case, chosen, when, surface="dispatch"):
    with time_machine.travel(when, tick=False):
        log = suggestion_shown(
            actor=user("dispatcher"),
            surface=surface,
            kind="unit",
            suggested=["SANI", "MUNI", "ENF"],
            model_version="v1",
            case=case,
        )
        return suggestion_choice_record(actor=user("dispatcher"), log=log, chosen=chosen)


def test_acceptance_rates_per_unit_and_person_with_their_cases(category):
    registry_sync()
    first = handling_task(category, at(2026, 11, 3, 10)).case
    second = handling_task(category, at(2026, 11, 4, 10)).case
    decide(first, "SANI", at(2026, 11, 3, 9, 59))  # the first suggestion
    decide(second, "MUNI", at(2026, 11, 4, 9, 59))  # another one
    decide(second, "WATER", at(2026, 11, 4, 10, 1))  # none of them
    decide(None, "SANI", at(2026, 11, 4, 10, 2), surface="report")  # no case: not counted
    with time_machine.travel(at(2026, 11, 4, 10, 3), tick=False):
        suggestion_shown(  # shown, nothing decided yet: not counted
            actor=user("dispatcher"),
            surface="dispatch",
            kind="unit",
            suggested=["SANI"],
            model_version="v1",
            case=first,
        )
    facts_catch_up(settle_seconds=0)
    indicators = indicators_by_code(CODES)
    assert [i.code for i in indicators] == CODES

    by_unit, raw = indicator_values(indicators, NOVEMBER, "unit")
    sani = first.responsible_unit_id
    assert first.responsible_unit.code == "SANI"
    assert by_unit[sani]["suggestion_first_rate"] == pytest.approx(100 / 3)
    assert by_unit[sani]["suggestion_taken_rate"] == pytest.approx(200 / 3)
    assert raw[sani][()]["suggestions_decided"] == 3

    by_person, _raw = indicator_values(indicators, NOVEMBER, "person")
    assert by_person[user("dispatcher").pk]["suggestion_first_rate"] == pytest.approx(100 / 3)

    q = drill_q("suggestions_first", NOVEMBER, "unit", sani)
    assert {row["case_id"] for row in drill_case_ids(q)} == {first.pk}
    q = drill_q("suggestions_decided", NOVEMBER, "unit", sani)
    assert {row["case_id"] for row in drill_case_ids(q)} == {first.pk, second.pk}

    # Shown in the indicator center's analysis per unit, each figure opening its cases.
    client = Client()
    client.force_login(user("supervisor"))
    response = client.get(
        "/indicators/analysis/?period=month&key=2026-11&group=unit"
        "&ind=suggestion_first_rate&ind=suggestion_taken_rate"
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert "33.33 %" in html and "66.67 %" in html
    assert "/indicators/cases/?" in html and "count=suggestions_first" in html

    report = facts_rebuild()
    assert (report["missing"], report["extra"]) == (0, 0)


def test_no_decision_leaves_the_rate_empty(category):
    registry_sync()
    handling_task(category, at(2026, 11, 3, 10))
    facts_catch_up(settle_seconds=0)
    values, _raw = indicator_values(indicators_by_code(CODES), NOVEMBER)
    assert values.get(None, {}).get("suggestion_first_rate") is None
