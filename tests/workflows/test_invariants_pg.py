"""Threads racing every pair of conflicting actions on one task, on PostgreSQL with real
transactions; `check_invariants` finds nothing afterwards."""

import io
import itertools

import pytest
from django.core.management import call_command

from workflows.selectors.invariants import invariant_violations

from . import case_scene as scene
from .racing import race

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


STATES = {"claimed": [], "parking pending": ["parking"], "extension pending": ["extension"]}


@pytest.mark.parametrize("state", sorted(STATES))
def test_every_pair_of_actions_raced_keeps_every_case_whole(state):
    category = scene.city()
    names = sorted(scene.ACTIONS)
    pairs = list(itertools.combinations_with_replacement(names, 2))
    if state != "claimed":  # from a pending request: the pairs that decide its fate
        pairs = [p for p in pairs if {"decide", "withdraw", "cancel"} & set(p)]
    seen = []
    for a, b in pairs:
        case = scene.to_handling(category)
        for step in STATES[state]:
            scene.ACTIONS[step](case)
        results = race(
            lambda a=a, case=case: scene.ACTIONS[a](case),
            lambda b=b, case=case: scene.ACTIONS[b](case),
        )
        assert all(isinstance(r, str) for r in results), (a, b, results)
        seen.append(results)
        scene.decide(case)  # a decision still due is taken afterwards
    total, found = invariant_violations()
    assert total == 0, found
    out = io.StringIO()
    call_command("check_invariants", stdout=out)
    assert "0 violations" in out.getvalue()
    # Both of a pair went through somewhere: the races were real, not always refused.
    assert any(all(": refused" not in r for r in results) for results in seen)
