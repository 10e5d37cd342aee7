"""The flows' process lock: viewflow's SelectForUpdateLock with its statement built once.

`SelectForUpdateLock` takes `SELECT … FOR UPDATE` on the process row and retries on a
database error; it builds the statement through the ORM
(`filter(pk=…).select_for_update().exists()`) for every transition, about a tenth of a
transition's CPU (bench/lifecycle.py). `ProcessRowLock` runs the same statement, written
once per process model (workflows.sql.locks), with the same waiting, retries and errors.
"""

from __future__ import annotations

import random
import time
from contextlib import contextmanager

from django.db import DatabaseError, connections, router, transaction
from viewflow.workflow import lock
from viewflow.workflow.exceptions import FlowLockFailed

from ..sql.locks import process_lock_statement


class ProcessRowLock(lock.SelectForUpdateLock):
    """SELECT … FOR UPDATE on the process row (NOWAIT if asked), retried like viewflow's."""

    @contextmanager
    def __call__(self, flow_class, process_pk):
        model = flow_class.process_class
        connection = connections[router.db_for_write(model)]
        sql = process_lock_statement(model, self.nowait, connection.alias)
        for attempt in range(self.attempts):
            with transaction.atomic(using=connection.alias):
                try:
                    with connection.cursor() as cursor:
                        cursor.execute(sql, [process_pk])
                except DatabaseError:
                    if attempt != self.attempts - 1:
                        time.sleep((((attempt + 1) * random.random()) + 2**attempt) / 2.5)
                    else:
                        raise FlowLockFailed(f"Lock failed for {flow_class}") from None
                else:
                    yield
                    break
