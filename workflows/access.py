"""Who may see and act on what in the engine: the one place where cases, tasks, orders,
boards, KPIs and webhooks are checked, for pages, API, Open311 and exports.

Built on the organisation's staff scope (`departments.access.staff_scope`): a clerk acts only
on tasks of the (unit, role) pairs they hold, extended to sub-units where the membership says
so. Anything else looks exactly like a missing object (404): "not found" and "not yours" are
indistinguishable from outside.
"""

from __future__ import annotations

from django.db.models import Exists, OuterRef, Q

from departments.access import centre_ids, staff_scope
from departments.models import Role
from workflows.models import CaseTask

__all__ = [
    "can_act_on_task",
    "can_cancel_case",
    "can_search_reporter",
    "can_see_reporter",
    "can_view_case",
    "can_view_task",
    "case_search_visibility_q",
    "case_visibility_q",
    "staff_scope",
]


def can_act_on_task(user, task) -> bool:
    """Claim/release/complete: the task's (unit, role) is one the user holds."""
    return staff_scope(user).holds(task.unit_id, task.role)


def can_view_task(user, task) -> bool:
    """Those who may act on it, and the head of the unit holding a handling task (who may
    dispatch it on to a sub-unit)."""
    scope = staff_scope(user)
    return scope.holds(task.unit_id, task.role) or (
        task.stage == "handling" and scope.holds(task.unit_id, Role.UNIT_HEAD)
    )


def can_see_reporter(user, case) -> bool:
    """Reporter name and contact are private: for the reporter and the intake clerks only."""
    scope = staff_scope(user)
    return (
        scope.is_superuser or case.reported_by_id == scope.user_id or (Role.INTAKE in scope.roles())
    )


def case_visibility_q(user, prefix: str = "") -> Q:
    """A filter on cases the user may see: any task of theirs, cases they reported,
    or any case in an area or unit they oversee (supervisor, admin)."""
    scope = staff_scope(user)
    if scope.is_superuser:
        return Q()
    tasks = CaseTask.objects.filter(scope.task_q() | Q(owner_id=scope.user_id))
    q = Q(**{f"{prefix}pk__in": tasks.values("case_id")})
    q |= Q(**{f"{prefix}reported_by_id": scope.user_id})
    headed = scope.units_for(Role.UNIT_HEAD)
    if headed:
        q |= Q(**{f"{prefix}responsible_unit_id__in": sorted(headed)})
    if scope.oversees:
        units = sorted(scope.oversees)
        q |= Q(**{f"{prefix}city_id__in": units}) | Q(**{f"{prefix}area_id__in": units})
        q |= Q(**{f"{prefix}responsible_unit_id__in": units})
    return q


def can_view_case(user, case) -> bool:
    """Checked per case through the task index of that case (cheap at any table size)."""
    scope = staff_scope(user)
    if scope.is_superuser or (scope.user_id and case.reported_by_id == scope.user_id):
        return True
    if scope.oversees & {case.city_id, case.area_id, case.responsible_unit_id}:
        return True
    if case.responsible_unit_id in scope.units_for(Role.UNIT_HEAD):
        return True
    mine = scope.task_q() | Q(owner_id=scope.user_id)
    return CaseTask.objects.filter(case_id=case.pk).filter(mine).exists()


def can_cancel_case(user, case) -> bool:
    """The shift leader of the case's command centre may cancel it (作废)."""
    return bool(staff_scope(user).units_for(Role.SHIFT_LEADER) & set(centre_ids(case.city_id)))


# --- No dead ends (issue 10): rework, second-level dispatch queue, orders, reminders (催办) ---


def may_take_rework(user, task) -> bool:
    """The handler of a handling task refused by the check gets its rework while they are
    active and still hold the handling post in the task's unit."""
    return bool(user.is_active) and staff_scope(user).holds(task.unit_id, task.role)


def heads_a_unit(user) -> bool:
    """Unit heads have the second-level dispatch queue (and reply to supervision orders)."""
    return bool(staff_scope(user).units_for(Role.UNIT_HEAD))


def order_addressee_q(user) -> Q:
    """Supervision orders addressed to the user: to a unit they head (who replies), or about a
    task they hold (the handler doing the work, who reads it)."""
    scope = staff_scope(user)
    held = CaseTask.objects.filter(status="claimed", owner_id=scope.user_id).values("pk")
    return Q(unit_id__in=sorted(scope.units_for(Role.UNIT_HEAD))) | Q(task_id__in=held)


# --- Indicators (issue 11): who may view which unit's and area's numbers ----------------------


class KpiScope:
    """Whose figures a user may see: everything (supervisors, admins, leaders of the city),
    or their units and sub-units (unit heads), or their areas (district / street staff)."""

    def __init__(self, everything: bool, unit_ids=(), area_ids=()) -> None:
        self.everything = everything
        self.unit_ids = frozenset(unit_ids)
        self.area_ids = frozenset(area_ids)

    @property
    def any(self) -> bool:
        return self.everything or bool(self.unit_ids or self.area_ids)

    def fact_q(self, prefix: str = "") -> Q:
        """A filter on indicator facts (unit_id and the area columns)."""
        if self.everything:
            return Q()
        q = Q(**{f"{prefix}pk__in": []})
        if self.unit_ids:
            q |= Q(**{f"{prefix}unit_id__in": sorted(self.unit_ids)})
        for level in ("district_id", "street_id", "community_id"):
            if self.area_ids:
                q |= Q(**{f"{prefix}{level}__in": sorted(self.area_ids)})
        return q

    def sees_unit(self, unit_id) -> bool:
        return self.everything or unit_id in self.unit_ids

    def sees_area(self, area_id) -> bool:
        return self.everything or area_id in self.area_ids


def kpi_scope(user) -> KpiScope:
    """Supervisors and admins (of a city or centre) see everything; a unit head their unit and
    its sub-units; anyone holding a role in a district or street their area and below."""
    from departments.models import Unit, UnitKind
    from departments.selectors import unit_descendant_ids

    scope = staff_scope(user)
    if scope.is_superuser or scope.oversees:
        return KpiScope(True)
    units = unit_descendant_ids(scope.units_for(Role.UNIT_HEAD))
    held = {unit for unit, _ in scope.pairs}
    areas = set(
        Unit.objects.filter(
            pk__in=sorted(held), kind__in=[UnitKind.DISTRICT, UnitKind.STREET, UnitKind.COMMUNITY]
        ).values_list("pk", flat=True)
    )
    return KpiScope(False, units, unit_descendant_ids(areas) if areas else ())


def can_view_kpis(user) -> bool:
    return kpi_scope(user).any


# --- case search (issue 10, search) ------------------------------------------------------------


def can_search_reporter(user) -> bool:
    """Finding cases by the reporter's phone: the posts that see reporters (intake clerks, who
    take the hotline's calls, and superusers); a reporter's own cases are found otherwise."""
    scope = staff_scope(user)
    return scope.is_superuser or Role.INTAKE in scope.roles()


class ProbedExists(Exists):
    """EXISTS checked row by row through the index on PostgreSQL: `OFFSET 0` keeps the planner
    from turning it into a hash of every matching row (which it prefers whenever it expects
    to check many rows, not knowing that a LIMIT stops it after a page)."""

    def as_postgresql(self, compiler, connection, **extra_context):
        return self.as_sql(
            compiler, connection, template="EXISTS(%(subquery)s OFFSET 0)", **extra_context
        )


def case_search_visibility_q(user) -> Q:
    """case_visibility_q for searches and maps: the same cases, with the task rule as a
    correlated EXISTS on the case's own tasks, so that a selective filter (a number, a phone,
    rare words) or a LIMIT reads only the candidate rows instead of every task of the user's
    posts first (an intake clerk holds an intake task of nearly every case)."""
    scope = staff_scope(user)
    if scope.is_superuser:
        return Q()
    tasks = CaseTask.objects.filter(case_id=OuterRef("pk")).filter(
        scope.task_q() | Q(owner_id=scope.user_id)
    )
    return (
        Q(city_id__in=sorted(scope.oversees))
        | Q(area_id__in=sorted(scope.oversees))
        | Q(responsible_unit_id__in=sorted(scope.oversees | scope.units_for(Role.UNIT_HEAD)))
        | Q(reported_by_id=scope.user_id)
        | Q(ProbedExists(tasks))
    )
