"""Who may see and act on what: the one place where roles and units are checked.

A clerk acts only on tasks of the (unit, role) pairs they hold, extended to sub-units where
the membership says so. Anything else looks exactly like a missing object (404).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db.models import Q

from .models import Membership, Role
from .reference import Snapshot, reference_snapshot
from .selectors import unit_descendant_ids

# Roles whose holders see every case in the units they hold (read access, not task action).
OVERSEEING_ROLES = (Role.SUPERVISOR, Role.ADMIN)


@dataclass(frozen=True)
class StaffScope:
    """The (unit id, role) pairs a user holds, sub-units expanded."""

    user_id: int | None
    pairs: frozenset[tuple[int, str]] = field(default_factory=frozenset)
    is_superuser: bool = False

    def units_for(self, role: str) -> set[int]:
        return {unit for unit, r in self.pairs if r == role}

    def roles(self) -> set[str]:
        return {r for _, r in self.pairs}

    def holds(self, unit_id: int, role: str) -> bool:
        return (unit_id, role) in self.pairs

    def task_q(self, prefix: str = "") -> Q:
        """A filter on task rows (`unit`, `role` columns) matching this scope."""
        q = Q(pk__in=[])
        for role in sorted(self.roles()):
            q |= Q(**{f"{prefix}role": role, f"{prefix}unit_id__in": sorted(self.units_for(role))})
        return q

    @property
    def oversees(self) -> set[int]:
        return {unit for unit, r in self.pairs if r in OVERSEEING_ROLES}


def staff_scope(user) -> StaffScope:
    """The user's scope, computed once per user object (i.e. once per request)."""
    if not getattr(user, "is_authenticated", False):
        return StaffScope(user_id=None)
    cached = getattr(user, "_cityops_scope", None)
    if cached is not None:
        return cached
    memberships = list(
        Membership.objects.filter(user=user).values_list("unit_id", "role", "include_subunits")
    )
    pairs: set[tuple[int, str]] = set()
    for unit_id, role, subunits in memberships:
        units = unit_descendant_ids([unit_id]) if subunits else {unit_id}
        pairs.update((u, role) for u in units)
    scope = StaffScope(user.pk, frozenset(pairs), bool(user.is_superuser))
    user._cityops_scope = scope
    return scope


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
    from workflows.models import CaseTask  # the engine depends on us, not the reverse

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
    from workflows.models import CaseTask

    mine = scope.task_q() | Q(owner_id=scope.user_id)
    return CaseTask.objects.filter(case_id=case.pk).filter(mine).exists()


def can_cancel_case(user, case) -> bool:
    """The shift leader of the case's command centre may cancel it (作废)."""
    return bool(staff_scope(user).units_for(Role.SHIFT_LEADER) & set(centre_ids(case.city_id)))


def centre_ids(city_id: int, snapshot: Snapshot | None = None) -> list[int]:
    """The command centres of a city (in code order)."""
    return (snapshot or reference_snapshot()).units.centre_ids(city_id)
