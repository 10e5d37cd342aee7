"""The 12345 hotline's facts, derived per order from its task rows, its order row and the
citizen's rating event (a pure function of them, like every case's facts).

Mapping (the hotline KPIs of issue 12):
- hl_sign — each sign-for task (lead or assisting) a unit received, at its opening; on time =
  signed for (not returned) by its due time. A sign-for task cancelled before its due time
  (the case was cancelled, or the lead went on without a late assisting unit) is not counted.
- hl_return — each return (退单) by a unit; flag = the final ruling accepted it.
- hl_due — each dispatched order, at its handling due time (the clock starts at dispatch), for
  the lead unit; on time = the lead unit's first reply came by then. Cancelled orders leave.
- hl_reply — each order the lead unit replied to (答复办结), at its first reply; flag = the
  result that stands (of the latest reply, after a re-handling) is "solved".
- hl_rehandle — each re-handling (重办) after an unsatisfied callback, for the lead unit.
- callback — the order's deciding callback that reached the citizen (the latest one), for the
  lead unit; flag = satisfied or basically satisfied. hl_unreached — the latest callback could
  not reach the citizen.
- hl_rating — the citizen's own rating on the public query page; flag = satisfied or basically.
- hl_repeat — an order merged into another (重复件), at the merge, for the hotline centre.
"""

from __future__ import annotations

from collections.abc import Callable

from workflows.models import CaseStatus, CaseTask, HotlineOrder, Stage, TaskStatus

SIGN_STAGES = (Stage.HL_LEAD_SIGN, Stage.HL_ASSIST_SIGN)
RULING_OF = {
    Stage.HL_LEAD_SIGN: Stage.HL_LEAD_RULING,
    Stage.HL_LEAD_REPLY: Stage.HL_LEAD_RULING,
    Stage.HL_ASSIST_SIGN: Stage.HL_ASSIST_RULING,
    Stage.HL_ASSIST_FEEDBACK: Stage.HL_ASSIST_RULING,
}
REACHED = ("satisfied", "basic", "unsatisfied")
CONTENT = ("satisfied", "basic")
RATING_ACTION = "hl_citizen_rating"


def _done(task: CaseTask, *outcomes: str) -> bool:
    return (
        task.status == TaskStatus.DONE
        and task.finished_at is not None
        and (not outcomes or task.outcome in outcomes)
    )


def _sign_facts(tasks: list[CaseTask], add: Callable) -> None:
    for task in tasks:
        if task.stage not in SIGN_STAGES:
            continue
        late_cancel = bool(task.due_at and task.finished_at and task.finished_at > task.due_at)
        if task.status == TaskStatus.CANCELLED and not late_cancel:
            continue
        if task.status in (TaskStatus.OPEN, TaskStatus.CLAIMED):
            on_time = None  # not decided yet: counted as due, not as signed on time
        else:
            on_time = _done(task, "sign") and (
                task.due_at is None or task.finished_at <= task.due_at
            )
        add(
            "hl_sign",
            task.created_at,
            unit_id=task.unit_id,
            actor_id=task.owner_id,
            role=task.role,
            stage=task.stage,
            on_time=on_time,
            due_at=task.due_at,
            end_at=task.finished_at,
        )


def _return_facts(tasks: list[CaseTask], add: Callable) -> None:
    for n, task in enumerate(tasks):
        if not _done(task, "return"):
            continue
        ruling = next(
            (
                t
                for t in tasks[n + 1 :]
                if t.stage == RULING_OF.get(task.stage)
                and t.payload.get("returned_by") in (None, task.unit_id)
            ),
            None,
        )
        accepted = ruling.outcome == "accept" if ruling is not None and _done(ruling) else None
        add(
            "hl_return",
            task.finished_at,
            unit_id=task.unit_id,
            actor_id=task.owner_id,
            role=task.role,
            stage=task.stage,
            flag=accepted,
        )


def _handling_facts(case, order: HotlineOrder, tasks: list[CaseTask], add: Callable) -> int | None:
    """hl_due, hl_reply and hl_rehandle; returns the unit the order's replies count for."""
    replies = [
        t
        for t in tasks
        if t.stage in (Stage.HL_LEAD_REPLY, Stage.HL_REHANDLE) and _done(t, "reply")
    ]
    first = next((t for t in replies if t.stage == Stage.HL_LEAD_REPLY), None)
    unit_id = first.unit_id if first else order.lead_unit_id
    if order.handling_due_at is not None and case.status != CaseStatus.CANCELLED:
        add(
            "hl_due",
            order.handling_due_at,
            unit_id=unit_id,
            on_time=first is not None and first.finished_at <= order.handling_due_at,
            due_at=order.handling_due_at,
            end_at=first.finished_at if first else None,
        )
    if first is not None:
        add(
            "hl_reply",
            first.finished_at,
            unit_id=unit_id,
            actor_id=first.owner_id,
            role=first.role,
            stage=first.stage,
            on_time=first.finished_at <= order.handling_due_at if order.handling_due_at else None,
            flag=replies[-1].payload.get("reply_result") == "solved",
        )
    for task in tasks:
        if task.stage == Stage.HL_REHANDLE:
            add("hl_rehandle", task.created_at, unit_id=task.unit_id, role=task.role)
    return unit_id


def _satisfaction_facts(
    order: HotlineOrder, tasks: list[CaseTask], unit_id, rated_at, add: Callable
) -> None:
    callbacks = [t for t in tasks if t.stage == Stage.HL_CALLBACK and _done(t)]
    reached = [t for t in callbacks if t.outcome in REACHED]
    if reached:
        last = reached[-1]
        add(
            "callback",
            last.finished_at,
            unit_id=unit_id,
            actor_id=last.owner_id,
            role=last.role,
            stage=last.stage,
            flag=last.outcome in CONTENT,
        )
    if callbacks and callbacks[-1].outcome == "unreachable":
        last = callbacks[-1]
        add("hl_unreached", last.finished_at, unit_id=unit_id, actor_id=last.owner_id)
    if order.citizen_rating and rated_at is not None:
        add("hl_rating", rated_at, unit_id=unit_id, flag=order.citizen_rating in CONTENT)


def hotline_facts(
    case, order: HotlineOrder, tasks: list[CaseTask], rated_at, add: Callable
) -> None:
    """Every hotline fact of one order; `tasks` ordered by id, `add(kind, at, **fields)`."""
    _sign_facts(tasks, add)
    _return_facts(tasks, add)
    unit_id = _handling_facts(case, order, tasks, add)
    _satisfaction_facts(order, tasks, unit_id, rated_at, add)
    if order.merged_into_id is not None:
        merge = next((t for t in reversed(tasks) if _done(t, "merge")), None)
        at = merge.finished_at if merge else case.closed_at
        if at is not None:
            add(
                "hl_repeat",
                at,
                unit_id=merge.unit_id if merge else order.centre_id,
                actor_id=merge.owner_id if merge else None,
            )
