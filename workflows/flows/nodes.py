"""A human task node that routes by the outcome its completing service recorded.

Viewflow's View node has one `.Next`; branching after it takes a Switch node, which viewflow
stores as a task row of its own (insert, link, update) on every transition. A case step
branches on almost every outcome, so the branch lives on the step: `.Route(outcome=node, …)`
with `.Otherwise(node)`, and the graph (charts, incoming edges) still shows every path.
"""

from __future__ import annotations

from django.utils.timezone import now
from viewflow import this
from viewflow.workflow import flow
from viewflow.workflow.activation import Activation
from viewflow.workflow.base import Edge
from viewflow.workflow.exceptions import FlowRuntimeError
from viewflow.workflow.nodes.end import EndActivation
from viewflow.workflow.nodes.join import JoinActivation
from viewflow.workflow.nodes.view import ViewActivation
from viewflow.workflow.signals import flow_finished, task_finished, task_started
from viewflow.workflow.status import STATUS

from cityops.compiled_queries import insert, save_fields


def new_task(flow_task, process, token, data=None, seed=None, **fields):
    """A task row of `flow_task`, filled in as Task.save() would, not written yet."""
    task = flow_task.flow_class.task_class(
        process=process,
        flow_task=flow_task,
        flow_task_type=flow_task.task_type,
        token=token,
        **fields,
    )
    task.data = data if data is not None else {}
    task.seed = seed
    return task


def link(task, previous) -> None:
    """The task's link to the task before it (viewflow's `previous`), one compiled INSERT
    instead of the many-to-many manager's add()."""
    insert(type(task).previous.through(from_task=task, to_task=previous))


def finish(activation, fields: tuple[str, ...]) -> None:
    """Activation.complete (viewflow 2.4), writing only the columns that change."""
    activation.task.finished = now()
    save_fields(activation.task, fields)
    task_finished.send(
        sender=activation.flow_class, process=activation.process, task=activation.task
    )


class StepActivation(ViewActivation):
    # The columns `complete` writes (a flow whose tasks are taken by completing them adds the
    # owner: one UPDATE where taking and finishing took two).
    completed_fields: tuple[str, ...] = ("status", "started", "finished")

    @classmethod
    def create(cls, flow_task, prev_activation, token, data=None, seed=None):
        """ViewActivation.create (viewflow 2.4), with the task row and its link to the
        previous task written by cityops.compiled_queries.insert: one statement each,
        built once, instead of save() and the many-to-many manager's add()."""
        task = new_task(flow_task, prev_activation.process, token, data, seed)
        activation = cls(task)
        owner_permission = flow_task.calc_owner_permission(activation)
        if owner_permission:
            task.owner_permission = owner_permission
            task.owner_permission_obj = flow_task.calc_owner_permission_obj(activation)
        owner = flow_task.calc_owner(activation)
        if owner:
            task.owner, task.status = owner, STATUS.ASSIGNED
        insert(task)
        link(task, prev_activation.task)
        if flow_task._on_create is not None:
            flow_task._on_create(activation)
        return activation

    @Activation.status.super()
    def complete(self):
        """Finish the task, writing only the columns that change (viewflow saves them all)."""
        finish(self, self.completed_fields)

    @Activation.status.super()
    def create_next(self):
        node = self.flow_task.route_for(self.process.data.get("outcome"))
        yield node._create(self, self.task.token)


class Step(flow.View):
    """A role-owned task of the case flow; the next node follows from its outcome."""

    activation_class = StepActivation

    def __init__(self, view, **kwargs):
        super().__init__(view, **kwargs)
        self._routes: dict[str, object] = {}
        self._otherwise = None

    def Route(self, **routes) -> Step:
        """Outcome name → next node (`this.<node>` references are resolved later)."""
        self._routes.update(routes)
        return self

    def Otherwise(self, node) -> Step:
        self._otherwise = node
        return self

    def route_for(self, outcome: str | None):
        return self._routes.get(outcome or "", self._otherwise)

    def _resolve(self, instance) -> None:
        super()._resolve(instance)
        self._routes = {k: this.resolve(instance, v) for k, v in self._routes.items()}
        self._otherwise = this.resolve(instance, self._otherwise)

    def _outgoing(self):
        targets = [*self._routes.values(), self._otherwise]
        seen = []
        for node in targets:
            if node is not None and node not in seen:
                seen.append(node)
                yield Edge(src=self, dst=node, edge_class="next")


class BranchJoinActivation(JoinActivation):
    """viewflow 2.4's JoinActivation for a join closing one parallel split whose branches keep
    their token to the end (the hotline's dispatch: a branch re-dispatched after a ruling stays
    the same branch), with no `continue_on_condition`.

    viewflow re-reads every task that arrived at the join to work out the branches' token
    prefix each time it asks whether the join is done (twice on the last arrival) and again
    when it completes, in a savepoint, and saves whole rows. Here the prefix comes from the
    arriving task's token, so an arrival asks one question, whether a task of the branches is
    still running, under the process lock the transition service holds; the join row is
    inserted already started, and written with the columns that change (compiled statements,
    as StepActivation does)."""

    @classmethod
    def create(cls, flow_task, prev_activation, token, data=None, seed=None):
        process, task_class = prev_activation.process, flow_task.flow_class.task_class
        running = list(
            task_class._default_manager.filter(
                flow_task=flow_task, process=process, status__in=[STATUS.NEW, STATUS.STARTED]
            )[:2]
        )
        if len(running) > 1:
            raise FlowRuntimeError("More than one join instance for process found")
        if running:
            task = running[0]
            task.process = process  # the locked process, not a second read of it
        else:
            base = token.get_base_split_token() if token.is_split_token() else token
            # Inserted started: what activate() would write next, in the same statement.
            task = new_task(
                flow_task, process, base, data, seed, status=STATUS.STARTED, started=now()
            )
            insert(task)
        arrived = prev_activation.task
        link(task, arrived)
        activation = cls(task)
        activation.branch_prefix = arrived.token.get_common_split_prefix(task.token, arrived.pk)
        return activation

    def _join_token_prefixes(self):
        prefix = getattr(self, "branch_prefix", None)
        return {prefix} if prefix is not None else super()._join_token_prefixes()

    def is_done(self):
        """No task of the branches is still running (the arriving one has finished). Asked
        when the arrival may complete the join and again as it does: the answer, under the
        process lock, cannot change in between."""
        prefix = getattr(self, "branch_prefix", None)
        if prefix is None:  # not created by an arrival (e.g. viewflow's admin): its own rule
            return super().is_done()
        if not hasattr(self, "_done"):
            self._done = not self._active_join_tasks(prefix).exists()
        return self._done

    @Activation.status.super()
    def complete(self):
        """Finish the join, writing the columns that change."""
        finish(self, ("status", "finished"))


class BranchJoin(flow.Join):
    """A parallel join of one split's branches (see BranchJoinActivation)."""

    activation_class = BranchJoinActivation

    def __init__(self, **kwargs):
        if kwargs.get("continue_on_condition") is not None:
            raise ValueError("BranchJoin waits for every branch: no continue_on_condition")
        super().__init__(**kwargs)


class FinishActivation(EndActivation):
    """viewflow 2.4's EndActivation, with its rows written by compiled statements: the end
    task inserted (with its link to the task before it) as StepActivation does, the process
    written with the columns that change instead of a whole-row save, and no savepoint (the
    transition service runs the step in its own transaction, and an error there rolls the
    whole step back)."""

    @classmethod
    def create(cls, flow_task, prev_activation, token, data=None, seed=None):
        task = insert(new_task(flow_task, prev_activation.process, token, data, seed))
        link(task, prev_activation.task)
        return cls(task)

    @Activation.status.super()
    def activate(self):
        """Finish the process when no other task of it is running (viewflow's rule)."""
        self.task.started = now()
        task_started.send(sender=self.flow_class, process=self.process, task=self.task)
        running = (
            self.flow_class.task_class._default_manager.filter(
                process=self.process, finished__isnull=True
            )
            .exclude(pk=self.task.pk)
            .exists()
        )
        if not running:
            self.process.status, self.process.finished = STATUS.DONE, now()
            save_fields(self.process, ("status", "finished", "data"))
        task_finished.send(sender=self.flow_class, process=self.process, task=self.task)
        if not running:
            flow_finished.send(sender=self.flow_class, process=self.process, task=self.task)

    @Activation.status.super()
    def complete(self):
        finish(self, ("status", "started", "finished"))


class Finish(flow.End):
    """The end of a flow (see FinishActivation)."""

    activation_class = FinishActivation
