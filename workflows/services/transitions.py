"""The transition service: how every flow's tasks change state, whatever the flow.

A transition locks the process, re-reads the task under the lock, runs the viewflow
activation and opens the next tasks. Nothing here names a flow: the lock comes from the
process's own flow class (`Process.flow_class`, viewflow's reference column), and flows are
started by the name they register under. A flow with parallel branches (Split/Join) uses it
unchanged: each task it creates is opened by `task_open`, a Join waits under the same lock.

Public API (services of any flow call these; flows call `flow_register` and `task_open`):

- `flow_register(name)`: class decorator, `@flow_register("case") class CaseFlow(flow.Flow)`.
  The flows package registers its flows when the app is ready (`WorkflowsConfig.ready`), so
  services start and look up flows without importing the layer above them.
- `flow_start(name, node="start", **kwargs) -> Process`: run a registered flow's start node
  (`flow_start("review", "start_parking", case=…, request=…)`).
- `flow_process_id(name) -> int | None`: reserve the id of a flow's next process, so that a
  case is inserted with it, not updated later; `case_flow_start(name, case, saved, **kwargs)`
  then starts the flow under that id (or, where none could be reserved, tells the case its
  process, saving `saved` with it).
- `task_open(*, activation) -> CaseTask`: the flows' `onCreate` callback for a human task: its
  `workflows_casetask` row (stage, role, unit, SLA fields, routing suggestion; written by
  `task_row_insert`, in one statement with the flow task's own row) and the case's stage.
  The task's stage is the node's name (a key of `flows.stages.STAGES`); a process may say the
  role and unit itself (`process.data["role"]`, `["unit"]`).
- `task_actor_check(actor, task)`: not found unless `access.can_act_on_task` (a task the
  actor may not act on and a missing one look the same).
- `task_locked(task)`: context manager; takes the lock of the case's process (its own flow
  class's `lock`, which opens the transaction), re-reads the task with its flow task,
  process, case and category in one statement, and yields `(task, flow_task)`, fresh.
  Everything inside commits or rolls back together.
- `task_advance(flow_task, outcome, done)`: inside `task_locked`: records the outcome on the
  process (the steps route by it), finishes the flow task (with `done`, the task's own row,
  in the same statement) and lets the flow create the next tasks.

A transition writes its rows (the `workflows_casetask` row, its `viewflow_task` twin, the case)
one way: only the columns it changes, with `cityops.compiled_queries.save_fields`.
- `process_locked(process)` and `process_cancel(process)`: a whole-process change (cancelling
  a case) under the same lock, through the process's flow class.
"""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import contextmanager
from contextvars import ContextVar

from django.db.models.expressions import RawSQL

from cityops.compiled_queries import CompiledGet, insert, reserve_id, save_fields
from departments.access import centre_ids
from departments.models import UnitKind
from departments.reference import GENERATION_SQL, Snapshot, reference_snapshot
from workflows import access

from ..flows.stages import REVIEW_STAGES, STAGES
from ..models import Case, CaseTask, Stage
from ..sla.deadlines import task_sla_fields
from .errors import not_found
from .invariants import OUTSTANDING_REQUEST, outstanding_request_annotation
from .redispatch import dispatch_payload
from .rework import rework_assign, rework_previous

# --- flows by name ----------------------------------------------------------------------------

_FLOWS: dict[str, type] = {}


def flow_register(name: str):
    """Class decorator: the flow class services start as `name`."""

    def register(flow_class: type) -> type:
        _FLOWS[name] = flow_class
        return flow_class

    return register


def flow_class(name: str) -> type:
    """The flow registered as `name` (LookupError when none is)."""
    try:
        return _FLOWS[name]
    except KeyError:
        raise LookupError(f"No flow registered as {name!r} (is workflows.flows loaded?)") from None


def flow_start(name: str, node: str = "start", **kwargs):
    """Run the start node `node` of the flow registered as `name`; returns its process."""
    return getattr(flow_class(name), node).run(**kwargs)


def flow_process_id(name: str) -> int | None:
    """The id the next process of the flow registered as `name` will have, reserved now
    (None where the database cannot: SQLite): a case is then inserted with its process,
    and the flow's start node (`process_id=`) inserts the process under that id."""
    return reserve_id(flow_class(name).process_class)


def case_flow_start(name: str, case: Case, saved: Sequence[str], /, **kwargs):
    """Start the flow registered as `name` for a case inserted with `flow_process_id(name)`:
    its process takes that id; where none could be reserved (SQLite), the case is told its
    process now, with the fields `saved`. Returns the process."""
    process = flow_start(name, process_id=case.process_id, **kwargs)
    if case.process_id is None:
        case.process = process
        save_fields(case, ["process", *saved])
    return process


# --- opening a task ---------------------------------------------------------------------------


def _task_unit_id(case: Case, stage: str, snapshot: Snapshot) -> int:
    lives_in = STAGES[stage].lives_in
    if lives_in == "centre":
        return centre_ids(case.city_id, snapshot)[0]
    if lives_in == "responsible":
        return case.responsible_unit_id
    units, area_id = snapshot.units, case.area_id
    if area_id is not None and units.kind_of.get(area_id) == UnitKind.COMMUNITY:
        return units.parent_of[area_id] or area_id  # inspectors work by street
    return area_id or case.city_id


def task_row_insert(activation, row: CaseTask) -> CaseTask:
    """Insert a new task's row (the flows' onCreate callbacks): in the same statement as the
    flow task's own row when the node has held that back for it (`activation.insert_task`,
    flows.nodes.StepActivation), else alone."""
    send = getattr(activation, "insert_task", None)
    if send is None or send.sent:
        insert(row)
    else:
        send((row, "task"))
    return row


def task_open(*, activation) -> CaseTask:
    """Called by the flow when a human task is created: index it for the task lists."""
    process = activation.process
    process_context(process)
    case = getattr(process, "cityops_case", None) or Case.objects.select_related(
        "area", "category__default_unit"
    ).get(pk=process.data["case"])
    snapshot = getattr(process, "cityops_reference", None) or reference_snapshot()
    stage = activation.flow_task.name
    start = activation.task.created
    previous = getattr(process, "cityops_previous", None)
    payload = dispatch_payload(case, snapshot, previous) if stage == Stage.DISPATCH else {}
    # A failed check: the rework goes back to whoever did the work (services.rework).
    rework_of = (
        rework_previous(case)
        if stage == Stage.HANDLING and previous is not None and previous.stage == Stage.CHECK
        else None
    )
    task = CaseTask(
        task=activation.task,
        case=case,
        stage=stage,
        role=process.data.get("role") or STAGES[stage].role,
        unit_id=rework_of.unit_id
        if rework_of
        else process.data.get("unit") or _task_unit_id(case, stage, snapshot),
        created_at=start,
        payload=payload,
        **task_sla_fields(case, stage, start, previous, snapshot),
    )
    task_row_insert(activation, task)
    if rework_of is not None:
        rework_assign(task=task, flow_task=activation.task, previous=rework_of)
    if stage in REVIEW_STAGES:
        return task
    case.stage = stage
    if stage == Stage.HANDLING:
        case.due_at = task.due_at
    if getattr(process, "cityops_case", None) is None:
        save_fields(case, ["stage", "due_at", "updated_at"])
    return task


# --- a transition -----------------------------------------------------------------------------


def task_actor_check(actor, task: CaseTask) -> None:
    """Not found unless the actor may act on the task (missing and not-yours look the same)."""
    if not access.can_act_on_task(actor, task):
        raise not_found()


# The re-read under the lock: the task, its flow task and process, the case, its category with
# the category's default unit (routing), and the reference-data generation
# (departments.reference); compiled once per thread. A flow reading rows of its own with it
# builds its own with `locked_read(<more select_related paths>)`.
def locked_read(*also: str) -> CompiledGet:
    return CompiledGet(
        lambda pk: (
            CaseTask.objects.select_related("task__process", "case__category__default_unit", *also)
            .annotate(
                reference_generation=RawSQL(f"({GENERATION_SQL})", ()),
                **{OUTSTANDING_REQUEST: outstanding_request_annotation()},
            )
            .filter(pk=pk)
        )
    )


_LOCKED_READ = locked_read()


@contextmanager
def process_locked(process):
    """The process's lock, taken through its own flow class (it opens the transaction)."""
    with process.flow_class.lock(process.pk):
        yield


# The locked process of the transition running in this thread/task: nodes that read the
# process row again (a Join's new task) get the same case, order and reference snapshot
# instead of reading them again (`process_context`).
_LOCKED_PROCESS: ContextVar = ContextVar("cityops_locked_process", default=None)
PROCESS_CONTEXT = ("cityops_case", "cityops_previous", "cityops_reference", "cityops_order")


def process_context(process) -> None:
    """Give a re-read copy of the locked process the objects the transition already holds."""
    locked = _LOCKED_PROCESS.get()
    if locked is None or locked is process or locked.pk != process.pk:
        return
    for name in PROCESS_CONTEXT:
        if not hasattr(process, name) and hasattr(locked, name):
            setattr(process, name, getattr(locked, name))


@contextmanager
def task_locked(task: CaseTask, read: CompiledGet | None = None):
    """Lock the case's process, then yield fresh copies of the task and its viewflow task.

    The lock is the case's main process's (review tasks run in processes of their own, but a
    review and the case's own tasks never change at the same time). The API reads the task
    with its case and the case's process (`selectors.tasks.task_to_act_on`); otherwise the
    process is read here, before the lock (only its flow class and id are used). A flow
    that needs more rows of its own passes `read`, a CompiledGet of the task by id that
    selects at least what `_LOCKED_READ` does.
    """
    # The lock opens the transaction (SELECT … FOR UPDATE on the process row): everything
    # below commits or rolls back together. One query fetches what the transition needs.
    with process_locked(task.case.process):
        fresh = (read or _LOCKED_READ).get(task.pk)
        flow_task = fresh.task
        flow_task.process.cityops_case = fresh.case
        flow_task.process.cityops_previous = fresh
        flow_task.process.cityops_reference = reference_snapshot(fresh.reference_generation)
        token = _LOCKED_PROCESS.set(flow_task.process)
        try:
            yield fresh, flow_task
        finally:
            _LOCKED_PROCESS.reset(token)


def task_advance(flow_task, outcome: str, done: tuple[CaseTask, Sequence[str]] | None = None):
    """Finish the flow task with `outcome` and let the flow open the next tasks (under
    `task_locked`): the steps route by the outcome recorded on the process. `done` is the
    task's own row, already given its finished values, and the columns to write: the flow's
    node writes it with the flow task (one statement, flows.nodes.finish), else it is written
    here once the flow has moved."""
    flow_task.process.data["outcome"] = outcome
    if done is not None:
        flow_task.cityops_done = done
    activation = flow_task.flow_task.activation_class(flow_task)
    activation.start(None)
    activation.execute()
    left = flow_task.__dict__.pop("cityops_done", None)
    if left is not None:
        save_fields(*left)


def process_cancel(process) -> None:
    """Cancel the process and its open tasks through its own flow (under `process_locked`)."""
    process.flow_class.instance.cancel(process)
