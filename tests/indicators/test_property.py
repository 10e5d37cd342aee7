"""Property: whatever the history, the facts maintained by the catch-up job (applied in small
batches after every step) equal the facts computed from scratch, the rollup maintained with
them equals one computed from scratch, and every base count read through it equals the same
count read from the facts."""

import contextlib
import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from indicators.facts import facts_catch_up, facts_rebuild
from workflows.models import CaseTask, TaskStatus
from workflows.services.errors import Conflict

from .conftest import at
from .test_rollup import assert_rollup_equals_facts

pytestmark = pytest.mark.django_db

# Which user completes a stage's task with which outcomes (data the outcome needs).
MOVES = {
    "intake": [("intake", "accept", {}), ("intake", "invalid", {"reason": "x"})],
    "filing": [("shiftlead", "file", {}), ("shiftlead", "refuse", {"reason": "x"})],
    "dispatch": [("dispatcher", "dispatch", {})],
    "handling": [("handler_sani", "done", {"result": "ok"}),
                 ("handler_sani", "return", {"reason": "x"}), "extend", "park"],
    "return_review": [("shiftlead", "approve", {}), ("shiftlead", "reject", {"reason": "x"})],
    "check": [("inspector", "pass", {}), ("inspector", "fail", {"reason": "x"})],
    "closing": [("shiftlead", "close", {})],
    "extension_review": [("shiftlead", "approve", {}), ("shiftlead", "reject", {"reason": "x"})],
    "parking_review": [("shiftlead", "approve", {}), ("shiftlead", "reject", {"reason": "x"})],
    "parked": [("shiftlead", "resume", {})],
}  # fmt: skip

steps = st.lists(
    st.tuples(st.integers(0, 2), st.integers(0, 3), st.integers(5, 400), st.booleans()),
    min_size=3,
    max_size=14,
)


# No shrinking (each example drives real services: shrinking takes minutes); a failure prints
# its example and the seed to replay it.
@settings(
    max_examples=10,
    deadline=None,
    phases=[Phase.explicit, Phase.reuse, Phase.generate],
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(steps=steps, batch=st.integers(1, 4))
def test_maintained_facts_equal_a_rebuild(history, steps, batch):
    when = at(2026, 10, 13, 9, 0)
    cases = [history.report(when + dt.timedelta(minutes=n)) for n in range(3)]
    for which, choice, minutes, cancel in steps:
        when += dt.timedelta(minutes=minutes)
        case = cases[which]
        case.refresh_from_db()
        if not case.is_open:
            continue
        task = (
            CaseTask.objects.filter(case=case, status__in=[TaskStatus.OPEN, TaskStatus.CLAIMED])
            .order_by("-task_id")
            .first()
        )
        if task is None or (task.paused_since is not None and task.stage == "handling"):
            continue
        with contextlib.suppress(Conflict, ValidationError):  # a refused step changes nothing
            _move(history, case, task, choice, cancel, when)
        while facts_catch_up(batch=batch, max_batches=2, settle_seconds=0):
            pass
    report = facts_rebuild()
    assert (report["missing"], report["extra"]) == (0, 0), report
    assert (report["rollup"]["missing"], report["rollup"]["extra"]) == (0, 0), report
    assert_rollup_equals_facts()  # and the reads through it equal the reads of the facts


def _move(history, case, task, choice, cancel, when):
    if cancel and choice == 3 and task.stage in ("filing", "dispatch", "handling"):
        history.cancel(case, when)
    else:
        move = MOVES[task.stage][choice % len(MOVES[task.stage])]
        if move == "extend":
            history.extend(case, when, hours=1 + choice)
        elif move == "park":
            history.park(case, when)
        else:
            username, outcome, data = move
            history.act(case, username, outcome, when, task.stage, **data)
