"""What every CityOps flow shares: the process lock (its statement built once) and human
tasks that route by outcome and are opened by the transition service.

A new flow subclasses `CityFlow`, declares its human nodes with `step()`, and registers itself
with `@flow_register("<name>")` (services.transitions).
"""

from viewflow import this
from viewflow.workflow import flow

from ..services.transitions import task_open
from .locking import ProcessRowLock
from .nodes import Step
from .views import task_redirect_view


def step() -> Step:
    """A human task: CityOps' task page is its view; `task_created` indexes it."""
    return Step(task_redirect_view).onCreate(this.task_created)


class CityFlow(flow.Flow):
    """The base of the CityOps flows (it has no nodes of its own)."""

    lock_impl = ProcessRowLock(nowait=False)  # lock.SelectForUpdateLock, statement built once

    def task_created(self, activation):
        task_open(activation=activation)
