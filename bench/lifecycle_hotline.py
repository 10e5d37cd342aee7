"""The hotline mode of bench/lifecycle.py (`--hotline`): 12345 orders with a lead and two
assisting units, against a plain-SQL ceiling of the same lifecycle measured in the same run.

CityOps: an agent records the call (`services.hotline.order_report`) and dispatches it to SANI
(lead) with MUNI and ENF assisting (the parallel split); each unit signs for its task, the two
assisting units give feedback, the lead replies (the join), the agent makes the callback
(satisfied) and the order closes: 8 task completions through `hotline_complete` (an open task
is signed for by completing it), every one through services.transitions.

Plain SQL, same scratch tables as the case mode: per order one transaction for the report
(process, intake task, event); per completion one transaction that locks the process, finishes
the task (conditionally, as its holder), writes an event and opens the next task or tasks;
the dispatch opens three, and the lead's reply and each feedback check (under the lock) whether
any branch task is still open before opening the callback.
"""

from __future__ import annotations

import functools

# (stage, user, outcome, data, the unit whose task it is)
HOTLINE_STEPS = [
    (
        "hl_intake",
        "agent1",
        "dispatch",
        {"lead_unit": "SANI", "assist_units": ["MUNI", "ENF"]},
        "HOTLINE",
    ),
    ("hl_lead_sign", "handler_sani", "sign", {}, "SANI"),
    ("hl_assist_sign", "handler_muni", "sign", {}, "MUNI"),
    ("hl_assist_sign", "handler_enf", "sign", {}, "ENF"),
    ("hl_assist_feedback", "handler_muni", "feedback", {"feedback": "修好了"}, "MUNI"),
    ("hl_assist_feedback", "handler_enf", "feedback", {"feedback": "已处罚"}, "ENF"),
    (
        "hl_lead_reply",
        "handler_sani",
        "reply",
        {"reply": "已清运", "reply_contact": "phone", "reply_result": "solved"},
        "SANI",
    ),
    ("hl_callback", "agent1", "satisfied", {}, "HOTLINE"),
]
HOTLINE_USERNAMES = sorted({s[1] for s in HOTLINE_STEPS})


def hotline_scenario():
    """(centre id, category id, unit ids by code), after loading the category sample."""
    import sys
    from pathlib import Path

    import workflows
    from departments.models import Unit
    from workflows.models import Category
    from workflows.services.hotline import hotline_categories_load

    centre = Unit.objects.filter(code="HOTLINE").first()
    if centre is None:
        sys.exit("The demo city has no hotline centre: run `manage.py seed_demo` first.")
    hotline_categories_load(Path(workflows.__file__).parent / "data" / "hotline_categories.csv")
    category = Category.objects.get(kind="hotline", code="010101")
    units = dict(
        Unit.objects.filter(code__in=["HOTLINE", "SANI", "MUNI", "ENF"]).values_list("code", "pk")
    )
    return centre.pk, category.pk, units


def hotline_users() -> dict:
    from django.contrib.auth import get_user_model

    return {u.username: u for u in get_user_model().objects.filter(username__in=HOTLINE_USERNAMES)}


@functools.cache
def open_task_at(stage: str, unit_id: int):
    """The read of an order's open task of `stage` in `unit_id`, with its case and the case's
    process, compiled once per thread: as the API reads the task it acts on, and as the case
    mode reads a case's open task (lifecycle.open_task_of_case). An order has several open
    tasks at once (the parallel branches), hence one statement per stage and unit."""
    from cityops.compiled_queries import CompiledGet
    from workflows.models import CaseTask, TaskStatus

    return CompiledGet(
        lambda case_id: CaseTask.objects.select_related("case__process").filter(
            case_id=case_id, stage=stage, unit_id=unit_id, status=TaskStatus.OPEN
        )
    )


def cityops_order(scenario, users: dict, mark=lambda _: None) -> None:
    """One order from the call to its close through the services."""
    from workflows.models import CaseTask
    from workflows.services.hotline import OrderReport, hotline_complete, order_report

    centre_id, category_id, units = scenario
    mark("report")
    order = order_report(
        actor=users["agent1"],
        report=OrderReport(
            centre=centre_id,
            category=category_id,
            request_type="complaint",
            text="bench hotline lifecycle",
            caller_name="张三",
            caller_phone="13812341234",
        ),
    )
    for stage, username, outcome, data, unit in HOTLINE_STEPS:
        mark(f"{stage} lookup")
        try:
            task = open_task_at(stage, units[unit]).get(order.pk)
        except CaseTask.DoesNotExist:
            raise RuntimeError(f"order {order.pk}: no open {stage} task of {unit}") from None
        mark(f"{stage} complete")
        hotline_complete(actor=users[username], task=task, outcome=outcome, data=dict(data))
    mark("")


# (stage, role, unit, actor, outcome, what opens next)
PLAIN_HOTLINE = [
    ("hl_intake", "hotline_agent", 1, 11, "dispatch", "split"),
    ("hl_lead_sign", "handler", 2, 12, "sign", "hl_lead_reply"),
    ("hl_assist_sign", "handler", 3, 13, "sign", "hl_assist_feedback"),
    ("hl_assist_sign", "handler", 4, 14, "sign", "hl_assist_feedback"),
    ("hl_assist_feedback", "handler", 3, 13, "feedback", "join"),
    ("hl_assist_feedback", "handler", 4, 14, "feedback", "join"),
    ("hl_lead_reply", "handler", 2, 12, "reply", "join"),
    ("hl_callback", "hotline_agent", 1, 11, "satisfied", "end"),
]
_OPEN_TASK = (
    "INSERT INTO bench_task (process_id, stage, role, unit_id, status, created)"
    " VALUES (%s, %s, %s, %s, 'open', now()) RETURNING id"
)


def plain_order(db) -> None:
    """One order in plain SQL, the same lifecycle and branches."""
    with db.transaction(), db.cursor() as c:
        c.execute("INSERT INTO bench_process (status, created) VALUES ('NEW', now()) RETURNING id")
        process_id = c.fetchone()[0]
        c.execute(_OPEN_TASK, (process_id, "hl_intake", "hotline_agent", 1))
        tasks = {("hl_intake", 1): c.fetchone()[0]}
        c.execute(
            "INSERT INTO bench_event (process_id, action, created, payload)"
            " VALUES (%s, 'hl_report', now(), '{}')",
            (process_id,),
        )
    for stage, _role, unit, actor, outcome, then in PLAIN_HOTLINE:
        task_id = tasks.pop((stage, unit))
        with db.transaction(), db.cursor() as c:
            c.execute("SELECT id FROM bench_process WHERE id = %s FOR UPDATE", (process_id,))
            c.execute(
                "UPDATE bench_task SET status = 'done', owner_id = %s, outcome = %s,"
                " finished = now() WHERE id = %s AND status = 'open'",
                (actor, outcome, task_id),
            )
            if c.rowcount != 1:
                raise RuntimeError(f"task {task_id} is not open")
            c.execute(
                "INSERT INTO bench_event (process_id, task_id, actor_id, action, created)"
                " VALUES (%s, %s, %s, %s, now())",
                (process_id, task_id, actor, f"hl_{outcome}"),
            )
            opening = []
            if then == "split":
                opening = [("hl_lead_sign", "handler", 2), ("hl_assist_sign", "handler", 3)]
                opening.append(("hl_assist_sign", "handler", 4))
            elif then == "join":
                c.execute(
                    "SELECT count(*) FROM bench_task WHERE process_id = %s AND status = 'open'",
                    (process_id,),
                )
                if c.fetchone()[0] == 0:
                    opening = [("hl_callback", "hotline_agent", 1)]
            elif then == "end":
                c.execute(
                    "UPDATE bench_process SET status = 'DONE', finished = now() WHERE id = %s",
                    (process_id,),
                )
            else:
                opening = [(then, "handler", unit)]
            for nstage, nrole, nunit in opening:
                c.execute(_OPEN_TASK, (process_id, nstage, nrole, nunit))
                tasks[(nstage, nunit)] = c.fetchone()[0]
