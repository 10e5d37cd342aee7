"""The staff scope: which (unit, role) pairs a user holds, sub-units expanded.

The organisation knows nothing of the engine; the rules on who may see or act on a case, task,
order, board or KPI are in `workflows.access`, built on this scope.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db.models import Q

from .models import Membership, Role
from .reference import Snapshot, reference_snapshot

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
    memberships = Membership.objects.filter(user=user).values_list(
        "unit_id", "role", "include_subunits"
    )
    return staff_scope_remember(user, list(memberships))


def staff_scope_remember(
    user, memberships: list[tuple[int, str, bool]], snapshot: Snapshot | None = None
) -> StaffScope:
    """The scope of `user` from its membership rows `(unit id, role, include sub-units)`,
    remembered on the user object for the rest of the request.

    Sub-units come from the reference snapshot's unit tree. Callers that read the memberships
    with something else (the API's token statement reads them with the token, and the
    reference generation with them) pass the `snapshot` of that generation.
    """
    if snapshot is None and any(subunits for _unit, _role, subunits in memberships):
        snapshot = reference_snapshot()
    pairs: set[tuple[int, str]] = set()
    for unit_id, role, subunits in memberships:
        units = snapshot.units.descendant_ids([unit_id]) if subunits else {unit_id}
        pairs.update((u, role) for u in units)
    scope = StaffScope(user.pk, frozenset(pairs), bool(user.is_superuser))
    user._cityops_scope = scope
    return scope


def centre_ids(city_id: int, snapshot: Snapshot | None = None) -> list[int]:
    """The command centres of a city (in code order)."""
    return (snapshot or reference_snapshot()).units.centre_ids(city_id)
