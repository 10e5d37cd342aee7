"""One case at handling and every action people can take on it, for the invariant tests
(hypothesis on SQLite, threads on PostgreSQL). Each action calls the public service and
returns its name, or the refusal a person would see (Conflict, bad input, not found)."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.http import Http404

from departments.demo import seed_accounts, seed_organisation
from departments.models import Unit
from workflows.demo import _png
from workflows.flows.stages import REVIEW_STAGES
from workflows.models import Case, CaseTask, Category, CategoryScheme, Stage, TaskStatus
from workflows.services.cases import CaseReport, case_cancel, case_report
from workflows.services.errors import Conflict
from workflows.services.outcomes import task_complete
from workflows.services.requests import (
    extension_request,
    info_received,
    info_wait,
    parking_request,
    request_withdraw,
)
from workflows.services.tasks import task_claim, task_release

REFUSED = (Conflict, ValidationError, Http404)
OPEN = (TaskStatus.OPEN, TaskStatus.CLAIMED)
# Who decides a review task, by the role it was given.
DECIDER = {"shift_leader": "shiftlead", "supervisor": "supervisor"}
# Who acts on the main flow's tasks after handling, and with which outcome.
NEXT = {
    Stage.CHECK: ("inspector", "pass"),
    Stage.CLOSING: ("shiftlead", "close"),
    Stage.RETURN_REVIEW: ("shiftlead", "reject"),
    Stage.DISPATCH: ("dispatcher", "dispatch"),
}


def city(limit_value: int = 3, limit_unit: str = "natural_hours") -> Category:
    """The demo organisation and accounts (password "pw") with one category, 0102 暴露垃圾,
    handled by SANI within the limit (by default three hours ahead whatever the clock says)."""
    org = seed_organisation()
    seed_accounts("pw")
    scheme = CategoryScheme.objects.create(code="T")
    org.city.category_scheme = scheme
    org.city.save()
    return Category.objects.create(
        scheme=scheme,
        kind="event",
        major_code="01",
        major_name="m",
        code="0102",
        name="暴露垃圾",
        default_unit=Unit.objects.get(code="SANI"),
        limit_value=limit_value,
        limit_unit=limit_unit,
    )


def user(name: str):
    return get_user_model().objects.get(username=name)


def to_handling(category: Category, *, claimed: bool = True) -> Case:
    """A reported case walked to handling (claimed by handler_sani when `claimed`)."""
    case = case_report(
        actor=user("inspector"),
        report=CaseReport(
            category=category.pk, description="d", source="inspector", grid="D01-S01-C1-G1"
        ),
    )
    steps = (("intake", "accept"), ("shiftlead", "file"), ("dispatcher", "dispatch"))
    for username, outcome in steps:
        task = CaseTask.objects.get(case=case, status=TaskStatus.OPEN)
        task_claim(actor=user(username), task=task)
        task_complete(actor=user(username), task=task, outcome=outcome)
    if claimed:
        task_claim(actor=user("handler_sani"), task=_handling(case))
    return case


def _handling(case: Case) -> CaseTask | None:
    return CaseTask.objects.filter(case=case, stage=Stage.HANDLING).order_by("-created_at").first()


def _review(case: Case) -> CaseTask | None:
    return (
        CaseTask.objects.filter(case=case, stage__in=REVIEW_STAGES, status__in=OPEN)
        .order_by("created_at")
        .first()
    )


def _attempt(name: str, call) -> str:
    try:
        call()
    except REFUSED as exc:
        return f"{name}: refused ({getattr(exc, 'code', type(exc).__name__)})"
    return name


def _handler_does(name: str, case: Case, service, **kw) -> str:
    task = _handling(case)
    return _attempt(name, lambda: service(actor=user("handler_sani"), task=task, **kw))


def claim(case):
    return _handler_does("claim", case, task_claim)


def release(case):
    return _handler_does("release", case, task_release)


def complete(case):
    photo = SimpleUploadedFile("after.png", _png())
    return _handler_does(
        "complete", case, task_complete, outcome="done", data={"result": "ok"}, photos=[photo]
    )


def return_(case):
    return _handler_does("return", case, task_complete, outcome="return", data={"reason": "no"})


def parking(case):
    return _handler_does("parking", case, parking_request, reason="road works")


def extension(case):
    return _handler_does(
        "extension", case, extension_request, amount=2, unit="natural_hours", reason="more"
    )


def wait_info(case):
    return _handler_does("wait_info", case, info_wait, reason="call back")


def info_arrived(case):
    return _handler_does("info_received", case, info_received)


def withdraw(case):
    return _handler_does("withdraw", case, request_withdraw)


def cancel(case):
    return _attempt(
        "cancel", lambda: case_cancel(actor=user("shiftlead"), case=case, reason="report error")
    )


def decide(case, outcome: str = "approve"):
    """The reviewer decides the case's oldest open review task (approve, reject or resume)."""
    task = _review(case)
    if task is None:
        return "decide: nothing to decide"
    actor = user(DECIDER.get(task.role, "shiftlead"))
    outcome = "resume" if task.stage == Stage.PARKED else outcome

    def run():
        if task.status == TaskStatus.OPEN:
            task_claim(actor=actor, task=task)
        data = {"reason": "no"} if outcome == "reject" else {}
        task_complete(actor=actor, task=task, outcome=outcome, data=data)

    return _attempt(f"decide {outcome}", run)


def advance(case):
    """The next person completes the main flow's open task after handling (check, closing,
    return review, dispatch)."""
    task = (
        CaseTask.objects.filter(case=case, status__in=OPEN)
        .exclude(stage__in=[*REVIEW_STAGES, Stage.HANDLING])
        .first()
    )
    if task is None or task.stage not in NEXT:
        return "advance: nothing to advance"
    username, outcome = NEXT[task.stage]

    def run():
        if task.status == TaskStatus.OPEN:
            task_claim(actor=user(username), task=task)
        task_complete(actor=user(username), task=task, outcome=outcome)

    return _attempt(f"advance {outcome}", run)


# The conflicting actions on one task, raced in pairs (complete / parking / extension /
# return / cancel / release / claim, and the decisions).
ACTIONS = {
    "complete": complete,
    "parking": parking,
    "extension": extension,
    "return": return_,
    "cancel": cancel,
    "release": release,
    "claim": claim,
    "decide": decide,
    "withdraw": withdraw,
    "wait_info": wait_info,
}
