"""Re-dispatch with context: when a case comes back to dispatch after a handling unit
returned it (回退), the dispatch task carries who returned it and why, and the units that
returned it are not suggested again (the dispatcher may still choose one by hand)."""

from __future__ import annotations

from django.utils.translation import gettext as _

from departments.reference import Snapshot

from ..models import Case, CaseTask, Stage
from .routing import route_suggest


def returned_tasks(case: Case) -> list[CaseTask]:
    """The case's handling tasks that ended in a return, latest first."""
    return list(
        CaseTask.objects.filter(case=case, stage=Stage.HANDLING, outcome="return")
        .select_related("owner", "unit")
        .order_by("-finished_at", "-task_id")
    )


def dispatch_payload(case: Case, snapshot: Snapshot, previous: CaseTask | None) -> dict:
    """What a new dispatch task stores: the route suggestion and, after an approved return,
    the return (reason, who, which unit) with the returning units left out of the suggestion."""
    if previous is None or previous.stage != Stage.RETURN_REVIEW:
        return route_suggest(case, snapshot).as_payload()
    returned = returned_tasks(case)
    exclude = {t.unit_id for t in returned}
    if case.responsible_unit_id:  # the unit that returned it (the task may sit in a sub-unit)
        exclude.add(case.responsible_unit_id)
    payload = route_suggest(case, snapshot, frozenset(exclude)).as_payload()
    if returned:
        last = returned[0]
        payload["returned"] = {
            "task": last.pk,
            "reason": last.payload.get("reason", ""),
            "by": last.owner.get_username() if last.owner_id else "",
            "unit": last.unit.code,
            "unit_name": last.unit.name,
            "at": last.finished_at.isoformat() if last.finished_at else None,
        }
        payload["explanation"] = " ".join(
            [
                payload["explanation"],
                _("Units that returned the case are not suggested again."),
            ]
        )
    return payload
