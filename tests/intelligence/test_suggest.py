"""Dispatch suggestions: a model trained on a small history suggests the right unit for texts
it never saw, with its reasons; held-out figures; versions and roll-back; the cold start; the
routing rules beside the model; no lock taken."""

from __future__ import annotations

import io
from unittest import mock

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from intelligence.models import SuggestionModel
from intelligence.services.suggest import COLD_START, dispatch_suggest
from intelligence.services.train import suggestion_model_activate, suggestion_model_train
from workflows.models import Case, Category, RoutingRule

from .conftest import UNSEEN, history_rows, write_csv

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(("text", "unit"), list(UNSEEN.items()))
def test_unseen_texts_get_the_right_unit_with_reasons(trained, text, unit):
    suggestion = dispatch_suggest(text=text)
    assert suggestion.model == trained.version and not suggestion.cold_start
    best = suggestion.units[0]
    assert best.code == unit, [(u.code, u.score) for u in suggestion.units]
    assert best.score > suggestion.units[1].score
    assert 0 < best.score <= 1
    kinds = [r["kind"] for r in best.reasons]
    assert kinds[0] == "words" and best.reasons[0]["words"]
    similar = [r for r in best.reasons if r["kind"] == "similar_case"]
    assert similar, best.reasons
    # The similar case is a real past case handled by that unit.
    past = Case.objects.get(number=similar[0]["case"])
    assert past.responsible_unit.code == unit
    assert suggestion.categories[0].reasons


def test_english_text_works_too(demo, tmp_path):
    from intelligence.services.history import history_import

    rows = history_rows()
    english = {
        "SANI": "rubbish piled up on the pavement",
        "MUNI": "street light is out at night",
        "ENF": "restaurant puts tables on the sidewalk",
        "WATER": "drain blocked and sewage overflowing",
    }
    for i, row in enumerate(rows):
        if i % 2:
            row["text"] = f"{english[row['unit']]} near {['the park', 'school', 'market'][i % 3]}"
    history_import(path=write_csv(tmp_path / "mixed.csv", rows))
    suggestion_model_train()
    assert dispatch_suggest(text="the street light is broken").units[0].code == "MUNI"
    assert dispatch_suggest(text="sewage overflowing from a drain").units[0].code == "WATER"


def test_training_prints_held_out_figures_beside_the_baseline(demo, history_file):
    from intelligence.services.history import history_import

    history_import(path=history_file)
    out = io.StringIO()
    call_command("suggestions_train", stdout=out)
    text = out.getvalue()
    model = SuggestionModel.objects.get(is_active=True)
    assert (model.cases, model.held_out, model.units) == (200, 40, 4)
    figures = model.metrics["unit"]
    assert figures["top1"] > figures["baseline"] + 0.3  # 4 balanced units: baseline ~25 %
    assert figures["top3"] >= figures["top1"]
    assert f"top-1 {figures['top1'] * 100:.1f} %" in text
    assert f"majority-class baseline top-1 {figures['baseline'] * 100:.1f} %" in text
    assert "Categories (40 labelled)" in text


def test_evaluate_prints_the_figures_for_a_labelled_file(trained, tmp_path):
    rows = [
        {"reported_at": "2026-06-01 09:00", "text": t, "unit": u, "category": ""}
        for t, u in UNSEEN.items()
    ]
    for row in rows:
        row.update(closed_at="", lat="", lng="", external_id="")
    out = io.StringIO()
    call_command("suggestions_evaluate", str(write_csv(tmp_path / "l.csv", rows)), stdout=out)
    assert "Units (4 labelled): top-1 100.0 %" in out.getvalue()
    assert "Categories (0 labelled): top-1 —" in out.getvalue()


def test_new_version_becomes_active_and_an_old_one_can_come_back(trained):
    second = suggestion_model_train()
    trained.refresh_from_db()
    assert second.is_active and not trained.is_active
    assert dispatch_suggest(text="路灯不亮").model == second.version
    suggestion_model_activate(actor=None, model=trained)
    assert SuggestionModel.objects.filter(is_active=True).get() == trained
    assert dispatch_suggest(text="路灯不亮").model == trained.version


def test_cold_start_matches_category_names_and_routing(demo):
    out = io.StringIO()
    with pytest.raises(CommandError, match="Only 0 closed cases"):
        call_command("suggestions_train", stdout=out)
    suggestion = dispatch_suggest(text="小区门口的路灯坏了，晚上不亮")
    assert suggestion.model == COLD_START and suggestion.cold_start
    assert "Too little history" in suggestion.note
    best = suggestion.categories[0]
    assert best.name == "0118 路灯"
    assert "路灯" in best.reasons[0]["words"]
    assert suggestion.units[0].code == "MUNI"  # the category's default unit
    assert "Default unit of category 0118" in suggestion.units[0].reasons[0]["label"]


def test_the_routing_rule_is_returned_beside_the_model(trained, demo):
    lamp = Category.objects.get(scheme=demo.scheme, kind="component", code="0118")
    street = demo.org.units["SANI"]  # any unit: the rule decides, whatever the model says
    RoutingRule.objects.create(category=lamp, unit=street)
    suggestion = dispatch_suggest(text="路灯晚上不亮", category=lamp)
    assert suggestion.units[0].code == "MUNI"
    assert suggestion.rule["unit"] == "SANI" and suggestion.rule["basis"] == "rule"


def _no_flow_lock(*args, **kwargs):
    raise AssertionError("a suggestion took the process lock")


def test_a_suggestion_takes_no_lock_and_opens_no_transaction(trained):
    dispatch_suggest(text="预热")  # the model is loaded once per process
    with (
        mock.patch("viewflow.workflow.lock.SelectForUpdateLock.__call__", _no_flow_lock),
        mock.patch("viewflow.workflow.lock.NoLock.__call__", _no_flow_lock),
        CaptureQueriesContext(connection) as queries,
    ):
        in_block = connection.in_atomic_block
        suggestion = dispatch_suggest(text="下水道堵了", lat=39.93, lng=116.43)
    assert suggestion.units
    sql = [q["sql"].upper() for q in queries.captured_queries]
    assert sql, "the suggestion reads the active version"
    assert not [s for s in sql if "FOR UPDATE" in s or "SAVEPOINT" in s or "BEGIN" in s], sql
    assert all(s.lstrip().startswith("SELECT") for s in sql), sql
    assert in_block == connection.in_atomic_block
