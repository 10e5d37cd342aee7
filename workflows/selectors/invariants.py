"""Cases whose open tasks, pending requests and stage disagree (`manage.py check_invariants`).

Each rule is one set-based statement (joins and GROUP BY over the open tasks and the requests
still in effect), so a scan of a million tasks is a few hash aggregates, never a loop per case.
The rules, all of which hold for every case the services leave behind:

- an ended case (closed, cancelled, invalid …) has no open task and no pending request, and its
  stage is "ended"; an open case's stage is not "ended";
- an open case has exactly one open task of the main flow (review tasks aside), at its stage;
- a task has at most one request in effect (pending, or an approved parking not yet resumed);
- a pending request belongs to an open task, and each has its open review task: per case as
  many open extension/parking decisions as pending requests, and as many open "parked" tasks
  as approved parkings of open tasks.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db import connection

from ..models import Case, CaseRequest, CaseTask, Stage

OPEN = "('open', 'claimed')"
# flows.stages.REVIEW_STAGES (selectors sit below the flows package).
REVIEW_STAGES = (Stage.EXTENSION_REVIEW, Stage.PARKING_REVIEW, Stage.PARKED)


@dataclass(frozen=True)
class Violation:
    case_id: int
    number: str
    rule: str


def _rules() -> dict[str, str]:
    case, task, req = Case._meta.db_table, CaseTask._meta.db_table, CaseRequest._meta.db_table
    review = ", ".join(f"'{s}'" for s in REVIEW_STAGES)
    # Requests in effect: pending, or an approved parking (until resumed).
    in_effect = "(r.status = 'pending' OR (r.kind = 'parking' AND r.status = 'approved'))"
    return {
        "ended case with an open task": f"""
            SELECT DISTINCT t.case_id AS case_id FROM {task} t JOIN {case} c ON c.id = t.case_id
            WHERE t.status IN {OPEN} AND c.status <> 'open'""",
        "ended case with a pending request": f"""
            SELECT DISTINCT r.case_id AS case_id FROM {req} r JOIN {case} c ON c.id = r.case_id
            WHERE r.status = 'pending' AND c.status <> 'open'""",
        "stage and status disagree": f"""
            SELECT id AS case_id FROM {case}
            WHERE (status = 'open' AND stage = 'ended')
               OR (status <> 'open' AND stage <> 'ended')""",
        "open case without exactly one open task at its stage": f"""
            SELECT c.id AS case_id FROM {case} c
            LEFT JOIN {task} t ON t.case_id = c.id AND t.status IN {OPEN}
                AND t.stage NOT IN ({review})
            WHERE c.status = 'open'
            GROUP BY c.id, c.stage
            HAVING COUNT(t.task_id) <> 1 OR MAX(t.stage) <> c.stage""",
        "task with more than one request in effect": f"""
            SELECT MIN(r.case_id) AS case_id FROM {req} r WHERE {in_effect}
            GROUP BY r.task_id HAVING COUNT(*) > 1""",
        "pending request on a finished task": f"""
            SELECT DISTINCT r.case_id AS case_id FROM {req} r JOIN {task} t ON t.task_id = r.task_id
            WHERE r.status = 'pending' AND t.status NOT IN {OPEN}""",
        "pending requests and open decisions disagree": f"""
            SELECT case_id FROM (
                SELECT r.case_id, 1 AS pending, 0 AS deciding FROM {req} r
                WHERE r.status = 'pending'
                UNION ALL
                SELECT t.case_id, 0, 1 FROM {task} t
                WHERE t.status IN {OPEN} AND t.stage IN ('extension_review', 'parking_review')
            ) x GROUP BY case_id HAVING SUM(pending) <> SUM(deciding)""",
        "parked tasks and approved parkings disagree": f"""
            SELECT case_id FROM (
                SELECT r.case_id, 1 AS parking, 0 AS parked FROM {req} r
                JOIN {task} h ON h.task_id = r.task_id
                WHERE r.kind = 'parking' AND r.status = 'approved' AND h.status IN {OPEN}
                UNION ALL
                SELECT t.case_id, 0, 1 FROM {task} t
                WHERE t.status IN {OPEN} AND t.stage = 'parked'
            ) x GROUP BY case_id HAVING SUM(parking) <> SUM(parked)""",
    }


def invariant_violations(limit: int = 1000) -> tuple[int, list[Violation]]:
    """(how many (case, rule) pairs break a rule, the first `limit` of them by case)."""
    rules = _rules()
    union = " UNION ALL ".join(
        f"SELECT case_id, %s AS rule FROM ({sql}) AS v{i}" for i, sql in enumerate(rules.values())
    )
    case = Case._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"WITH bad AS ({union}) SELECT (SELECT COUNT(*) FROM bad), b.case_id, c.number,"
            f" b.rule FROM bad b JOIN {case} c ON c.id = b.case_id"
            " ORDER BY b.case_id, b.rule LIMIT %s",
            [*rules.keys(), limit],
        )
        rows = cursor.fetchall()
    total = rows[0][0] if rows else 0
    return total, [Violation(case_id, number, rule) for _total, case_id, number, rule in rows]
