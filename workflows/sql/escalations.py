"""The escalation sweep's progress: `thresholds_fired` and `next_threshold_at` of a whole
batch of tasks in one statement.

On PostgreSQL one `UPDATE … FROM unnest(ids, fired, next)` writes the batch (500 rows by
default) in one round trip with three array parameters, the same statement text for any batch
size; `bulk_update` sends a `CASE WHEN id = … THEN …` per row and column, a statement that
grows with the batch (bench/sla_sweep.py, "10,000 due", counts the sweep's statements per
level). Other databases (SQLite in development) use `bulk_update`.
"""

from __future__ import annotations

from django.db import connection

from ..models import CaseTask


def escalation_progress_write(tasks: list[CaseTask]) -> None:
    """Write each task's `thresholds_fired` and `next_threshold_at`."""
    if not tasks:
        return
    if connection.vendor != "postgresql":
        CaseTask.objects.bulk_update(tasks, ["thresholds_fired", "next_threshold_at"])
        return
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {CaseTask._meta.db_table} AS t SET thresholds_fired = v.fired,"
            " next_threshold_at = v.next FROM unnest(%s::bigint[], %s::int[],"
            " %s::timestamptz[]) AS v(id, fired, next) WHERE t.task_id = v.id",
            [
                [t.task_id for t in tasks],
                [t.thresholds_fired for t in tasks],
                [t.next_threshold_at for t in tasks],
            ],
        )
