"""A human task node that routes by the outcome its completing service recorded.

Viewflow's View node has one `.Next`; branching after it takes a Switch node, which viewflow
stores as a task row of its own (insert, link, update) on every transition. A case step
branches on almost every outcome, so the branch lives on the step: `.Route(outcome=node, …)`
with `.Otherwise(node)`, and the graph (charts, incoming edges) still shows every path.
"""

from __future__ import annotations

from django.db import router, transaction
from django.utils.timezone import now
from viewflow import this
from viewflow.workflow import flow
from viewflow.workflow.activation import Activation
from viewflow.workflow.base import Edge
from viewflow.workflow.exceptions import FlowRuntimeError
from viewflow.workflow.nodes.end import EndActivation
from viewflow.workflow.nodes.join import JoinActivation
from viewflow.workflow.nodes.start import StartHandleActivation
from viewflow.workflow.nodes.view import ViewActivation
from viewflow.workflow.signals import flow_finished, flow_started, task_finished, task_started
from viewflow.workflow.status import STATUS

from cityops.compiled_queries import PendingInsert, insert, save_fields, save_fields_with

from ..sql.flow_tasks import join_arrival, process_end


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


def _link_row(task, previous):
    """The task's link to the task before it (viewflow's `previous`), not written yet."""
    return type(task).previous.through(from_task=task, to_task=previous)


def link(task, previous) -> None:
    """Write the task's link to the task before it: one compiled INSERT instead of the
    many-to-many manager's add()."""
    insert(_link_row(task, previous))


def insert_linked(task, previous):
    """Insert a new task with its link to the task before it: one statement on PostgreSQL
    (the link's INSERT reads the new key in a data-modifying CTE), two elsewhere."""
    return PendingInsert(task).send((_link_row(task, previous), "from_task"))


class TaskInsert:
    """The INSERT of a new human task and its link, held back for the row the node's onCreate
    callback keys by the task (services.transitions.task_row_insert): the three are sent in
    one statement; with no such row, the task and its link are sent alone after the callback.
    The task's values are taken now: its `created` stamp is set for the callback to read."""

    def __init__(self, task, previous) -> None:
        self._pending = PendingInsert(task)
        self._link = (_link_row(task, previous), "from_task")
        self.sent = False

    def __call__(self, *rows) -> None:
        """Send the task, its link and `rows`, each (row, name of its key to the task)."""
        if self.sent:
            raise RuntimeError("The task is already inserted.")
        self.sent = True
        self._pending.send(self._link, *rows)


class InsertedFinished:
    """For the activation of a node that does its work in the same call that creates it (a
    split, the end): its task row is inserted once, finished, when the activation completes
    (`insert_finished`), where viewflow inserts it new and then saves it done. Until then the
    task has no id, so the activation compares and hashes as itself (viewflow's Activation
    goes by its task, which needs an id to hash)."""

    __eq__ = object.__eq__
    __hash__ = object.__hash__

    @classmethod
    def create(cls, flow_task, prev_activation, token, data=None, seed=None):
        activation = cls(new_task(flow_task, prev_activation.process, token, data, seed))
        activation.previous_task = prev_activation.task
        return activation

    def insert_finished(self) -> None:
        """Insert the task, finished (its status is DONE once `complete` runs), linked to
        the task before it."""
        self.task.finished = now()
        insert_linked(self.task, self.previous_task)
        task_finished.send(sender=self.flow_class, process=self.process, task=self.task)


def finish(activation, fields: tuple[str, ...]) -> None:
    """Activation.complete (viewflow 2.4), writing only the columns that change, in the same
    statement as the row the transition service finished with the task, if it gave one
    (`done` of services.transitions.task_advance)."""
    activation.task.finished = now()
    done = activation.task.__dict__.pop("cityops_done", None)
    if done is None:
        save_fields(activation.task, fields)
    else:
        save_fields_with(activation.task, fields, *done)
    task_finished.send(
        sender=activation.flow_class, process=activation.process, task=activation.task
    )


def _partial(model, **values):
    """A row of `model` read with only `values` (the other columns load when first read)."""
    names = [f.attname for f in model._meta.concrete_fields if f.attname in values]
    return model.from_db(router.db_for_read(model), names, [values[n] for n in names])


class StepActivation(ViewActivation):
    # The columns `complete` writes (a flow whose tasks are taken by completing them adds the
    # owner: one UPDATE where taking and finishing took two).
    completed_fields: tuple[str, ...] = ("status", "started", "finished")

    @classmethod
    def create(cls, flow_task, prev_activation, token, data=None, seed=None):
        """ViewActivation.create (viewflow 2.4), with the task row, its link to the previous
        task and the row the onCreate callback writes for it (its CaseTask) inserted by one
        compiled statement (see TaskInsert), instead of save(), the many-to-many manager's
        add() and a third INSERT."""
        task = new_task(flow_task, prev_activation.process, token, data, seed)
        activation = cls(task)
        owner_permission = flow_task.calc_owner_permission(activation)
        if owner_permission:
            task.owner_permission = owner_permission
            task.owner_permission_obj = flow_task.calc_owner_permission_obj(activation)
        owner = flow_task.calc_owner(activation)
        if owner:
            task.owner, task.status = owner, STATUS.ASSIGNED
        activation.insert_task = TaskInsert(task, prev_activation.task)
        if flow_task._on_create is not None:
            flow_task._on_create(activation)
        if not activation.insert_task.sent:
            activation.insert_task()
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
        arrived = prev_activation.task
        base = token.get_base_split_token() if token.is_split_token() else token
        prefix = arrived.token.get_common_split_prefix(base, arrived.pk)
        try:
            # The running join (linked to the arriving task) and whether a branch still
            # runs, in one statement.
            found = join_arrival(task_class, process.pk, flow_task, prefix, arrived.pk)
        except LookupError as error:
            raise FlowRuntimeError(str(error)) from None
        if found.join is not None:
            pk, status, started = found.join
            # The columns the activation reads and writes; the others load if asked for.
            task = _partial(
                task_class,
                id=pk,
                flow_task=flow_task,
                status=status,
                flow_task_type=flow_task.task_type,
                started=started,
                token=base,
            )
            task.process = process  # the locked process, not a second read of it
            if not found.linked:
                link(task, arrived)
        else:
            # Inserted started: what activate() would write next, in the same statement.
            task = new_task(
                flow_task, process, base, data, seed, status=STATUS.STARTED, started=now()
            )
            insert_linked(task, arrived)
        activation = cls(task)
        activation.branch_prefix = prefix
        activation._done = not found.branches_running
        return activation

    def _join_token_prefixes(self):
        prefix = getattr(self, "branch_prefix", None)
        return {prefix} if prefix is not None else super()._join_token_prefixes()

    def is_done(self):
        """No task of the branches is still running (the arriving one has finished), as
        read when the branch arrived: under the process lock the transition service holds,
        the answer cannot change before the join completes."""
        if not hasattr(self, "_done"):  # not created by an arrival (e.g. viewflow's admin)
            return super().is_done()
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


class FinishActivation(InsertedFinished, EndActivation):
    """viewflow 2.4's EndActivation, with its rows written by compiled statements: the end
    task inserted once, finished, with its link to the task before it (InsertedFinished), the
    process marked done by one conditional UPDATE instead of a count and a whole-row save, and
    no savepoint (the transition service runs the step in its own transaction, and an error
    there rolls the whole step back)."""

    @Activation.status.super()
    def activate(self):
        """Finish the process when no other task of it is running (viewflow's rule): one
        conditional UPDATE (sql.flow_tasks.process_end; the end task is not written yet)."""
        self.task.started = now()
        task_started.send(sender=self.flow_class, process=self.process, task=self.task)
        self.ended = process_end(self.process, self.flow_class.task_class, None, now())

    @Activation.status.super()
    def complete(self):
        self.insert_finished()
        if self.ended:
            flow_finished.send(sender=self.flow_class, process=self.process, task=self.task)


class Finish(flow.End):
    """The end of a flow (see FinishActivation)."""

    activation_class = FinishActivation


class BeginActivation(StartHandleActivation):
    """viewflow 2.4's StartHandleActivation, with the process and the start task inserted by
    one compiled statement, and without the two savepoints and the lock viewflow takes on the
    process it has just inserted: no other transaction can see that row before the caller's
    transaction commits, and an error anywhere in the start rolls all of it back."""

    @Activation.status.super()
    def execute(self):
        task_started.send(sender=self.flow_class, process=self.process, task=self.task)
        with transaction.atomic(savepoint=False):  # the caller's transaction, if any
            self.complete()
            flow_started.send(sender=self.flow_class, process=self.process, task=self.task)
            self.activate_next()

    @Activation.status.super()
    def complete(self):
        """Insert the process and its start task, finished: one statement on PostgreSQL.
        The task's type is filled in as Task.save() would (viewflow's start leaves it to
        save(), which the compiled INSERT does not call)."""
        self.task.flow_task_type = self.task.flow_task_type or self.flow_task.task_type
        self.task.finished = now()
        PendingInsert(self.process).send((self.task, "process"))
        task_finished.send(sender=self.flow_class, process=self.process, task=self.task)


class Begin(flow.StartHandle):
    """The start of a flow, run by a service (see BeginActivation)."""

    activation_class = BeginActivation
