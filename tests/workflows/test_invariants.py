"""A case never ends half-open (issue 14): requests block completion, return and release until
decided or withdrawn; cancelling ends tasks and requests; closing needs no other open task;
`check_invariants` finds what breaks the rules; a hypothesis state machine plays any sequence
of the conflicting actions on one task and checks the rules after every step."""

import io

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

from workflows.models import (
    Case,
    CaseRequest,
    CaseTask,
    PauseInterval,
    RequestStatus,
    Stage,
    TaskStatus,
)
from workflows.selectors.invariants import invariant_violations
from workflows.services.errors import Conflict
from workflows.services.escalations import sla_sweep
from workflows.services.invariants import refuse_if_other_tasks_open

from . import case_scene as scene

pytestmark = pytest.mark.django_db


@pytest.fixture
def category():
    return scene.city()


def handling(case):
    return CaseTask.objects.get(case=case, stage=Stage.HANDLING, status__in=scene.OPEN)


def test_a_pending_parking_request_blocks_complete_return_and_release(category):
    case = scene.to_handling(category)
    assert scene.parking(case) == "parking"
    assert scene.complete(case) == "complete: refused (request_pending)"
    assert scene.return_(case) == "return: refused (request_pending)"
    assert scene.release(case) == "release: refused (request_pending)"
    assert scene.extension(case) == "extension: refused (pending)"
    assert scene.wait_info(case) == "wait_info: refused (pending)"
    assert scene.decide(case) == "decide approve"  # parked: the clock stops
    assert scene.complete(case) == "complete: refused (paused)"
    assert scene.release(case) == "release: refused (parked)"
    assert scene.decide(case) == "decide resume"
    assert scene.complete(case) == "complete"
    assert invariant_violations() == (0, [])


def test_a_withdrawn_request_frees_the_task(category):
    case = scene.to_handling(category)
    assert scene.extension(case) == "extension"
    assert scene.release(case) == "release: refused (request_pending)"
    assert scene.withdraw(case) == "withdraw"
    request = CaseRequest.objects.get(case=case)
    assert request.status == RequestStatus.WITHDRAWN
    reviews = CaseTask.objects.filter(case=case, stage=Stage.EXTENSION_REVIEW)
    assert not reviews.filter(status__in=scene.OPEN).exists()
    assert handling(case).paused_since is None
    assert scene.withdraw(case) == "withdraw: refused (not_pending)"
    assert scene.release(case) == "release"
    assert invariant_violations() == (0, [])


def test_the_api_answers_409_and_the_page_says_why(category, client):
    case = scene.to_handling(category)
    scene.parking(case)
    task = handling(case)
    client.force_login(scene.user("handler_sani"))
    from rest_framework.test import APIClient

    api = APIClient()
    api.force_authenticate(scene.user("handler_sani"))
    answer = api.post(f"/api/v1/tasks/{task.pk}/release/")
    assert answer.status_code == 409 and answer.json()["error"]["code"] == "request_pending"
    page = client.post(f"/tasks/{task.pk}/release/", follow=True)
    assert "awaits a decision" in page.content.decode()
    withdrawn = api.post(f"/api/v1/tasks/{task.pk}/withdraw-request/")
    assert withdrawn.status_code == 200, withdrawn.content


def test_cancelling_ends_open_tasks_pending_requests_and_pauses(category):
    case = scene.to_handling(category)
    assert scene.extension(case) == "extension"
    assert scene.cancel(case) == "cancel"
    assert not CaseTask.objects.filter(case=case, status__in=scene.OPEN).exists()
    assert CaseRequest.objects.get(case=case).status == RequestStatus.CANCELLED
    assert not PauseInterval.objects.filter(case=case, ended_at__isnull=True).exists()
    assert not CaseTask.objects.filter(case=case, paused_since__isnull=False).exists()
    assert invariant_violations() == (0, [])


def test_a_case_does_not_end_with_another_task_open(category):
    case = scene.to_handling(category)
    scene.parking(case)  # its decision is an open task of the case
    with pytest.raises(Conflict) as refused:
        refuse_if_other_tasks_open(handling(case))
    assert refused.value.code == "open_tasks"


def test_the_sweep_never_escalates_an_ended_case(category):
    case = scene.to_handling(category)
    task = handling(case)
    # A case ended behind the services' back, its task still open and overdue.
    Case.objects.filter(pk=case.pk).update(status="closed", stage="ended")
    CaseTask.objects.filter(pk=task.pk).update(next_threshold_at=timezone.now())
    sla_sweep(now=timezone.now() + timezone.timedelta(days=3))
    task.refresh_from_db()
    assert task.thresholds_fired == 0 and task.next_threshold_at is None


def test_check_invariants_lists_what_disagrees(category):
    ok = scene.to_handling(category)
    out = io.StringIO()
    call_command("check_invariants", stdout=out)
    assert "0 violations" in out.getvalue()
    scene.parking(ok)
    # The old bug: handling completed while parking waited, the parking then approved.
    CaseTask.objects.filter(pk=handling(ok).pk).update(status=TaskStatus.DONE)
    ended = scene.to_handling(category)
    Case.objects.filter(pk=ended.pk).update(status="cancelled")
    total, found = invariant_violations()
    rules = {(v.case_id, v.rule) for v in found}
    assert (ok.pk, "pending request on a finished task") in rules
    assert (ok.pk, "open case without exactly one open task at its stage") in rules
    assert (ended.pk, "ended case with an open task") in rules
    assert (ended.pk, "stage and status disagree") in rules
    assert total == len(found)
    out = io.StringIO()
    with pytest.raises(CommandError) as failed:
        call_command("check_invariants", stdout=out)
    assert failed.value.returncode == 1
    assert ended.number in out.getvalue() and ok.number in out.getvalue()


class OneTask(RuleBasedStateMachine):
    """Any sequence of the conflicting actions on one handling task keeps every rule."""

    category = None

    @initialize()
    def start(self):
        self.case = scene.to_handling(self.category)
        self.seen = []

    # One rule per action, so that each is drawn as often as any other.
    @rule()
    def do_cancel(self):
        self.seen.append(scene.cancel(self.case))

    @rule()
    def do_claim(self):
        self.seen.append(scene.claim(self.case))

    @rule()
    def do_complete(self):
        self.seen.append(scene.complete(self.case))

    @rule()
    def do_extension(self):
        self.seen.append(scene.extension(self.case))

    @rule()
    def do_parking(self):
        self.seen.append(scene.parking(self.case))

    @rule()
    def do_release(self):
        self.seen.append(scene.release(self.case))

    @rule()
    def do_return(self):
        self.seen.append(scene.return_(self.case))

    @rule()
    def do_wait_info(self):
        self.seen.append(scene.wait_info(self.case))

    @rule()
    def do_withdraw(self):
        self.seen.append(scene.withdraw(self.case))

    @rule(outcome=st.sampled_from(["approve", "reject"]))
    def decide(self, outcome):
        self.seen.append(scene.decide(self.case, outcome))

    @rule()
    def info_arrived(self):
        self.seen.append(scene.info_arrived(self.case))

    @rule()
    def advance(self):
        self.seen.append(scene.advance(self.case))

    @invariant()
    def whole(self):
        if hasattr(self, "case"):  # earlier examples' cases stay in the database
            _total, found = invariant_violations()
            mine = [v for v in found if v.case_id == self.case.pk]
            assert not mine, (self.seen, mine)


# States a handling task can be in, reached from "claimed" by these actions.
STATES = {
    "claimed": [],
    "parking pending": ["parking"],
    "extension pending": ["extension"],
    "parked": ["parking", "decide"],
    "waiting info": ["wait_info"],
    "released": ["release"],
}


@pytest.mark.parametrize("state", sorted(STATES))
def test_every_action_from_every_request_state_keeps_the_case_whole(category, state):
    """Each pair of conflicting actions, in turn from each state of the task."""
    for action in sorted(scene.ACTIONS):
        case = scene.to_handling(category)
        said = [scene.ACTIONS[a](case) for a in STATES[state]]
        said.append(scene.ACTIONS[action](case))
        said.append(scene.decide(case))
        total, found = invariant_violations()
        assert total == 0, (state, said, found)


def test_every_sequence_of_conflicting_actions_keeps_the_case_whole(category):
    OneTask.category = category
    OneTask.TestCase.settings = settings(
        max_examples=40,
        stateful_step_count=8,
        deadline=None,
        suppress_health_check=list(HealthCheck),
        database=None,
    )
    from hypothesis.stateful import run_state_machine_as_test

    run_state_machine_as_test(OneTask, settings=OneTask.TestCase.settings)
