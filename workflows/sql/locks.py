"""The process lock's statement: `SELECT 1 FROM viewflow_process WHERE id = %s FOR UPDATE`.

Viewflow's `SelectForUpdateLock` builds it through the ORM
(`filter(pk=…).select_for_update().exists()`) on every transition, about a tenth of a
transition's CPU (bench/lifecycle.py); written once per (process model, NOWAIT, database) it
costs nothing to build. Run by workflows.flows.locking.ProcessRowLock.
"""

from __future__ import annotations

from functools import lru_cache

from django.db import connections


@lru_cache(maxsize=8)
def process_lock_statement(model, nowait: bool, alias: str) -> str:
    """The row lock on one process of `model` (a parameter: its id)."""
    features, quote = connections[alias].features, connections[alias].ops.quote_name
    sql = f"SELECT 1 FROM {quote(model._meta.db_table)} WHERE {quote(model._meta.pk.column)} = %s"
    if features.has_select_for_update:  # SQLite has no row locks: its writes are serialised
        sql += " FOR UPDATE"
        if nowait and features.has_select_for_update_nowait:
            sql += " NOWAIT"
    return sql
