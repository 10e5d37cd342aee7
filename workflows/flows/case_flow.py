"""The standard case flow (数字城管): report → intake → filing → dispatch → handling → check →
closing, with verification, returns and rework as loops.

The graph only routes. Every transition is started by a service in workflows.services, which
checks access, records the outcome on the process (read by the switches below) and writes the
audit event; the nodes' callbacks call services and nothing else.
"""

from viewflow import this
from viewflow.workflow import flow, lock

from .views import task_redirect_view


def outcome_is(*names: str):
    """Switch condition: the outcome the completing service recorded on the process."""
    return lambda activation: activation.process.data.get("outcome") in names


class CaseFlow(flow.Flow):
    process_title = "Case"
    lock_impl = lock.SelectForUpdateLock(nowait=False)

    start = flow.StartHandle(this.start_case).Next(this.intake)

    intake = flow.View(task_redirect_view).onCreate(this.task_created).Next(this.after_intake)
    after_intake = (
        flow.Switch()
        .Case(this.filing, outcome_is("accept"))
        .Case(this.verify, outcome_is("verify"))
        .Default(this.end)
    )
    verify = flow.View(task_redirect_view).onCreate(this.task_created).Next(this.intake)

    filing = flow.View(task_redirect_view).onCreate(this.task_created).Next(this.after_filing)
    after_filing = flow.Switch().Case(this.dispatch, outcome_is("file")).Default(this.end)

    dispatch = flow.View(task_redirect_view).onCreate(this.task_created).Next(this.handling)

    handling = flow.View(task_redirect_view).onCreate(this.task_created).Next(this.after_handling)
    after_handling = flow.Switch().Case(this.check, outcome_is("done")).Default(this.return_review)
    return_review = (
        flow.View(task_redirect_view).onCreate(this.task_created).Next(this.after_return_review)
    )
    after_return_review = (
        flow.Switch().Case(this.dispatch, outcome_is("approve")).Default(this.handling)
    )

    check = flow.View(task_redirect_view).onCreate(this.task_created).Next(this.after_check)
    after_check = flow.Switch().Case(this.closing, outcome_is("pass")).Default(this.handling)

    closing = flow.View(task_redirect_view).onCreate(this.task_created).Next(this.end)

    end = flow.End()

    def start_case(self, activation, case):
        activation.process.data = {"case": case.pk}
        activation.process.cityops_case = case
        return activation.process

    def task_created(self, activation):
        from ..services.tasks import task_open

        task_open(activation=activation)
