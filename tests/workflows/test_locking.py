"""Both flows lock the process row the way viewflow's SelectForUpdateLock does (the racing
claims of test_concurrency.py show the lock holds on PostgreSQL)."""

import pytest
from django.db import connection
from viewflow.workflow.lock import SelectForUpdateLock

from workflows.flows.case_flow import CaseFlow
from workflows.flows.review_flow import ReviewFlow
from workflows.sql.locks import process_lock_statement as _lock_statement


@pytest.mark.parametrize("flow_class", [CaseFlow, ReviewFlow])
def test_the_flows_wait_for_the_process_row(flow_class):
    lock = flow_class.lock_impl
    assert isinstance(lock, SelectForUpdateLock) and lock.nowait is False


def test_the_statement_locks_the_row_where_the_database_can():
    sql = _lock_statement(CaseFlow.process_class, False, connection.alias)
    assert sql.startswith('SELECT 1 FROM "viewflow_process" WHERE "id" = %s')
    assert sql.endswith(" FOR UPDATE") == connection.features.has_select_for_update
    nowait = _lock_statement(CaseFlow.process_class, True, connection.alias)
    assert nowait.endswith(" NOWAIT") == connection.features.has_select_for_update_nowait


@pytest.mark.django_db
def test_a_transition_runs_inside_the_lock():
    with CaseFlow.lock(0):  # no such process: the lock statement still runs, in a transaction
        assert connection.in_atomic_block
