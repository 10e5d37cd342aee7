"""The 12345 hotline flow (热线工单): intake → dispatch to one lead unit (主办) and any number of
assisting units (协办) working in parallel → sign-for (签收) → assisting feedback and the lead's
reply to the citizen (答复) → callback (回访) → closed, with returns (退单) ruled on by the
hotline centre (终审) and one re-handling (重办) after an unsatisfied callback.

Like the case flow, the graph only routes: services (workflows.services.hotline) check access,
record the outcome (`process.data["outcome"]`, read by each step to pick its next node) and
write the audit events. The dispatch is a parallel split with one branch per unit; the join
fires when the lead has replied and every assisting branch has ended (feedback given, dropped
by a ruling, or cancelled as late when the lead proceeds).
"""

from __future__ import annotations

from viewflow import this
from viewflow.workflow import flow
from viewflow.workflow.activation import Activation
from viewflow.workflow.base import Edge
from viewflow.workflow.nodes.split import SplitActivation

from ..models import HotlineOrder
from ..services.hotline import hotline_task_open
from ..services.transitions import flow_register
from .locking import ProcessRowLock
from .nodes import Begin, BranchJoin, Finish, InsertedFinished, Step, StepActivation
from .views import task_redirect_view


class HotlineStepActivation(StepActivation):
    # An open hotline task is signed for by completing it (services.hotline.hotline_complete
    # sets its owner): the owner is written with the completion.
    completed_fields = ("owner", "status", "started", "finished")

    @Activation.status.super()
    def create_next(self):
        """The next task works in the unit the service chose (`next_unit`, a re-dispatch), or
        in this task's unit: each parallel branch keeps its own unit."""
        node = self.flow_task.route_for(self.process.data.get("outcome"))
        unit = self.process.data.pop("next_unit", None) or self.task.data.get("unit")
        yield node._create(self, self.task.token, data={"unit": unit})


class HotlineStep(Step):
    activation_class = HotlineStepActivation


class DispatchActivation(InsertedFinished, SplitActivation):
    """viewflow 2.4's SplitActivation, with its task row inserted once, finished and linked to
    the task before it, by a compiled statement (flows.nodes.InsertedFinished), where viewflow
    saved the whole row twice. The branches are created after, from its id."""

    @Activation.status.super()
    def complete(self):
        self.insert_finished()

    @Activation.status.super()
    def activate(self):
        """One branch for the lead unit, one per assisting unit (from the dispatch)."""
        data = self.process.data
        self.next_tasks = [(self.flow_task._lead, {"unit": data["lead_unit"]})] + [
            (self.flow_task._assist, {"unit": unit}) for unit in data.get("assist_units", [])
        ]


class DispatchSplit(flow.Split):
    """A parallel split whose branches are chosen by the dispatch: the lead and each
    assisting unit (viewflow 2.4's Split creates each branch once)."""

    activation_class = DispatchActivation

    def __init__(self, lead, assist, **kwargs):
        super().__init__(**kwargs)
        self._lead, self._assist = lead, assist
        self.Next(lead).Next(assist)

    def _resolve(self, instance):
        super()._resolve(instance)
        self._lead = this.resolve(instance, self._lead)
        self._assist = this.resolve(instance, self._assist)

    def _outgoing(self):
        for node in (self._lead, self._assist):
            yield Edge(src=self, dst=node, edge_class="default")


def step() -> HotlineStep:
    return HotlineStep(task_redirect_view).onCreate(this.task_created)


RETURN = "return"


@flow_register("hotline")
class HotlineFlow(flow.Flow):
    process_title = "Hotline order"
    lock_impl = ProcessRowLock(nowait=False)  # lock.SelectForUpdateLock, statement built once

    start = Begin(this.start_order).Next(this.hl_intake)

    hl_intake = step().Route(dispatch=this.dispatch).Otherwise(this.end)
    dispatch = DispatchSplit(lead=this.hl_lead_sign, assist=this.hl_assist_sign)

    hl_lead_sign = step().Route(**{RETURN: this.hl_lead_ruling}).Otherwise(this.hl_lead_reply)
    hl_lead_ruling = step().Route(redispatch=this.hl_lead_sign).Otherwise(this.hl_lead_reply)
    hl_lead_reply = step().Route(**{RETURN: this.hl_lead_ruling}).Otherwise(this.join)

    hl_assist_sign = (
        step().Route(**{RETURN: this.hl_assist_ruling}).Otherwise(this.hl_assist_feedback)
    )
    hl_assist_ruling = (
        step()
        .Route(redispatch=this.hl_assist_sign, drop=this.join)
        .Otherwise(this.hl_assist_feedback)
    )
    hl_assist_feedback = step().Route(**{RETURN: this.hl_assist_ruling}).Otherwise(this.join)

    join = BranchJoin().Next(this.hl_callback)
    hl_callback = step().Route(rehandle=this.hl_rehandle).Otherwise(this.end)
    hl_rehandle = step().Otherwise(this.hl_callback)

    end = Finish()

    def start_order(self, activation, order: HotlineOrder, process_id=None):
        activation.process.pk = process_id  # reserved for it (services.transitions)
        activation.process.data = {"case": order.case_id}
        activation.process.cityops_case = order.case
        activation.process.cityops_order = order
        if hasattr(order, "cityops_reference"):  # read when the order was recorded
            activation.process.cityops_reference = order.cityops_reference
        return activation.process

    def task_created(self, activation):
        hotline_task_open(activation=activation)
