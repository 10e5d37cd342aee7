"""The demo history: ended cases whose facts the rebuild finds identical, with realistic shares."""

import pytest

from indicators.demo import seed_history
from indicators.facts import facts_rebuild
from indicators.models import Fact, Indicator
from indicators.selectors.periods import Period
from indicators.selectors.values import Selection, indicator_values
from workflows.models import Case, CaseEvent

pytestmark = pytest.mark.django_db


def test_history_is_ended_cases_with_events_and_consistent_facts(history):
    n = seed_history(days=25, per_day=(8, 12))
    assert n > 100 and Case.objects.filter(status="open").count() == 0
    assert CaseEvent.objects.filter(action="report").count() == n
    assert facts_rebuild()["missing"] == facts_rebuild()["extra"] == 0
    assert seed_history(days=25) == 0  # idempotent
    first = Fact.objects.order_by("day").first().day
    last = Fact.objects.order_by("-day").first().day
    vals, _ = indicator_values(
        list(Indicator.objects.filter(code__in=["handled_on_time_rate", "valid_rate"])),
        Selection(Period("custom", first, last)),
    )
    assert 60 < vals[None]["handled_on_time_rate"] < 100
    assert 80 < vals[None]["valid_rate"] < 100
