"""Who may see and act on what in the engine: the one place where cases, tasks, orders,
boards, KPIs and webhooks are checked, for pages, API, Open311 and exports.

Built on the organisation's staff scope (`departments.access.staff_scope`): a clerk acts only
on tasks of the (unit, role) pairs they hold, extended to sub-units where the membership says
so. Anything else looks exactly like a missing object (404): "not found" and "not yours" are
indistinguishable from outside.
"""

from __future__ import annotations

import time

from django.db.models import BooleanField, Exists, OuterRef, Q
from django.db.models.expressions import RawSQL

from departments.access import centre_ids, staff_scope
from departments.models import Role
from workflows.models import CaseTask, Scope, Stage

__all__ = [
    "agent_centre_ids",
    "api_key_allows",
    "can_act_on_task",
    "can_cancel_case",
    "can_issue_order",
    "can_manage_webhooks",
    "can_reply_order",
    "can_search_reporter",
    "can_see_board",
    "can_see_reporter",
    "can_subdispatch_task",
    "can_take_calls_at",
    "can_view_case",
    "can_view_task",
    "case_oversight_q",
    "case_search_visibility_q",
    "case_visibility_q",
    "lands_on_dashboard",
    "order_visibility_q",
    "queue_pairs",
    "queue_q",
    "shared_view_q",
    "staff_scope",
    "subdispatch_q",
    "task_oversight_q",
]


def can_act_on_task(user, task) -> bool:
    """Claim/release/complete: the task's (unit, role) is one the user holds."""
    return staff_scope(user).holds(task.unit_id, task.role)


def queue_pairs(user) -> list[tuple[int, str]]:
    """The (unit id, role) pairs whose open tasks are in the user's queue (what
    `can_act_on_task` allows), in a stable order: the queue reads one index probe per pair."""
    return sorted(staff_scope(user).pairs)


def queue_q(user) -> Q:
    """The same rule as `queue_pairs`, as a filter on task rows."""
    return staff_scope(user).task_q()


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
    """A filter on cases the user may see: any task of theirs, cases they reported, or the
    cases on their board (`case_oversight_q`: areas and units they oversee or head)."""
    scope = staff_scope(user)
    if scope.is_superuser:
        return Q()
    tasks = CaseTask.objects.filter(scope.task_q() | Q(owner_id=scope.user_id))
    q = Q(**{f"{prefix}pk__in": tasks.values("case_id")})
    q |= Q(**{f"{prefix}reported_by_id": scope.user_id})
    for part in _oversight_parts(scope, prefix):
        q |= part
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


def can_remind_case(user, case) -> bool:
    """催办 comes from the command centre: a shift leader of the case's centre, or a
    supervisor overseeing its city, area or responsible unit."""
    scope = staff_scope(user)
    if scope.units_for(Role.SHIFT_LEADER) & set(centre_ids(case.city_id)):
        return True
    return bool(
        scope.units_for(Role.SUPERVISOR) & {case.city_id, case.area_id, case.responsible_unit_id}
    )


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

    def case_q(self, prefix: str = "") -> Q:
        """The same scope as a filter on cases: their responsible unit or their area."""
        if self.everything:
            return Q()
        return Q(**{f"{prefix}responsible_unit_id__in": sorted(self.unit_ids)}) | Q(
            **{f"{prefix}area_id__in": sorted(self.area_ids)}
        )

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


def lands_on_dashboard(user) -> bool:
    """Supervisors, admins and unit heads start at the indicator dashboard, the others at
    their task lists."""
    scope = staff_scope(user)
    return bool(scope.oversees or scope.units_for(Role.UNIT_HEAD))


def shared_view_q(user) -> Q:
    """Saved analysis views the user may open: their own, or shared with a unit or a role they
    hold (a filter on the `owner`, `shared_unit`, `shared_role` columns)."""
    scope = staff_scope(user)
    units = sorted({unit for unit, _role in scope.pairs})
    return (
        Q(owner_id=scope.user_id)
        | Q(shared_unit_id__in=units)
        | Q(shared_role__in=sorted(scope.roles()))
    )


# --- structure (issue 9): boards, supervision orders, sub-dispatch, webhooks, API keys ---------


def can_subdispatch_task(user, task) -> bool:
    """Second-level dispatch (二级派遣): the head of the unit holding the task."""
    return staff_scope(user).holds(task.unit_id, Role.UNIT_HEAD)


def subdispatch_q(user) -> Q:
    """The second-level dispatch queue as a filter on task rows: open handling tasks of the
    units the user heads (what `can_subdispatch_task` allows)."""
    headed = sorted(staff_scope(user).units_for(Role.UNIT_HEAD))
    return Q(stage=Stage.HANDLING, role=Role.HANDLER, unit_id__in=headed)


def can_see_board(user) -> bool:
    """Supervisors, admins and unit heads have a board (SLA board, breaches, supervision
    orders); for anyone else those pages answer 404."""
    scope = staff_scope(user)
    return scope.is_superuser or bool(scope.oversees or scope.units_for(Role.UNIT_HEAD))


def _oversight_parts(scope, prefix: str) -> list[Q]:
    """Cases whose responsible unit the user heads, and cases in the cities, areas and units
    they oversee (supervisor, admin)."""
    parts = []
    headed = sorted(scope.units_for(Role.UNIT_HEAD))
    if headed:
        parts.append(Q(**{f"{prefix}responsible_unit_id__in": headed}))
    if scope.oversees:
        units = sorted(scope.oversees)
        for column in ("city_id", "area_id", "responsible_unit_id"):
            parts.append(Q(**{f"{prefix}{column}__in": units}))
    return parts


def case_oversight_q(user, prefix: str = "") -> Q:
    """Cases on the user's board: the part of `case_visibility_q` that comes from overseeing
    (by city, area or responsible unit) or heading (the responsible unit)."""
    scope = staff_scope(user)
    if scope.is_superuser:
        return Q()
    q = Q(**{f"{prefix}pk__in": []})
    for part in _oversight_parts(scope, prefix):
        q |= part
    return q


def task_oversight_q(user) -> Q:
    """Tasks on the user's breach list: of overseen cases, or held by (or handled for) a unit
    they head."""
    scope = staff_scope(user)
    if scope.is_superuser:
        return Q()
    q = Q(pk__in=[])
    headed = sorted(scope.units_for(Role.UNIT_HEAD))
    if headed:
        q |= Q(unit_id__in=headed) | Q(stage=Stage.HANDLING, case__responsible_unit_id__in=headed)
    if scope.oversees:
        units = sorted(scope.oversees)
        q |= Q(unit_id__in=units)
        for column in ("city_id", "area_id", "responsible_unit_id"):
            q |= Q(**{f"case__{column}__in": units})
    return q


def order_visibility_q(user) -> Q:
    """Supervision orders (督办) on the user's list: addressed to them (a unit they head, a task
    they hold), or on a case on their board."""
    scope = staff_scope(user)
    if scope.is_superuser:
        return Q()
    q = order_addressee_q(user)  # to a unit they head, or about a task they hold
    if scope.oversees:
        q |= case_oversight_q(user, "case__") | Q(unit_id__in=sorted(scope.oversees))
    return q


def can_issue_order(user, case) -> bool:
    """A supervisor whose posts cover the case's city, area or responsible unit."""
    units = staff_scope(user).units_for(Role.SUPERVISOR)
    return bool(units & {case.city_id, case.area_id, case.responsible_unit_id})


def can_reply_order(user, order) -> bool:
    """The head of the unit the order is addressed to."""
    return staff_scope(user).holds(order.unit_id, Role.UNIT_HEAD)


def api_key_allows(key, scope: str | None) -> bool:
    """An active API key granted `scope` (an API view naming no scope is for staff only)."""
    return scope is not None and key.is_active and key.allows(scope)


def can_manage_webhooks(user) -> bool:
    """Staff users, and API keys granted `webhooks:manage`, manage their own subscriptions."""
    if not getattr(user, "is_authenticated", False):
        return False
    if user.is_staff:
        return True
    key = getattr(user, "api_key", None)
    return key is not None and api_key_allows(key, Scope.WEBHOOKS_MANAGE)


# --- the 12345 hotline (issue 12) --------------------------------------------------------------
# Orders are cases (the rules above hold for their tasks); the hotline centre's agents and shift
# leaders see every order of their centre. The caller's name and phone are for the posts that
# need them: the centre's agents and shift leaders (calls, callbacks, rulings) and the lead
# unit's handlers (who contact the citizen for the reply); everyone else sees them masked.

HOTLINE_CENTRE_ROLES = (Role.HOTLINE_AGENT, Role.SHIFT_LEADER)


def hotline_centres(user) -> set[int]:
    """The hotline centres in which the user works as agent or shift leader."""
    scope = staff_scope(user)
    return scope.units_for(Role.HOTLINE_AGENT) | scope.units_for(Role.SHIFT_LEADER)


def can_view_order(user, order) -> bool:
    scope = staff_scope(user)
    if scope.is_superuser or order.centre_id in hotline_centres(user):
        return True
    return can_view_case(user, order.case)


def can_see_caller(user, order) -> bool:
    scope = staff_scope(user)
    if scope.is_superuser or order.centre_id in hotline_centres(user):
        return True
    return order.lead_unit_id is not None and scope.holds(order.lead_unit_id, Role.HANDLER)


def can_take_calls(user) -> bool:
    return bool(agent_centre_ids(user))


def agent_centre_ids(user) -> list[int]:
    """The hotline centres in which the user takes calls (agent), in id order."""
    return sorted(staff_scope(user).units_for(Role.HOTLINE_AGENT))


def can_take_calls_at(user, centre_id: int) -> bool:
    """Orders are taken at a centre by its agents (and superusers)."""
    scope = staff_scope(user)
    return scope.is_superuser or scope.holds(centre_id, Role.HOTLINE_AGENT)


def can_unmerge(user, order) -> bool:
    """Undoing a merge is for the hotline centre's shift leader."""
    scope = staff_scope(user)
    return scope.is_superuser or scope.holds(order.centre_id, Role.SHIFT_LEADER)


def hotline_order_visibility_q(user, prefix: str = "") -> Q:
    """A filter on hotline orders the user may see (their centre's, or their cases')."""
    scope = staff_scope(user)
    if scope.is_superuser:
        return Q()
    q = Q(**{f"{prefix}centre_id__in": sorted(hotline_centres(user))})
    return q | case_visibility_q(user, prefix=f"{prefix}case__")


# --- harden (issue 14): photos ---------------------------------------------------------------


def photo_is_public(photo) -> bool:
    """A photo anyone may see, without logging in: only when the city publishes photos
    (CITYOPS_OPEN311_PUBLIC_PHOTOS, default off), only the reporter's "before" photos, and only
    of a case Open311 lists publicly (open311_lists_case)."""
    from django.conf import settings

    from workflows.models import PhotoKind

    return (
        getattr(settings, "CITYOPS_OPEN311_PUBLIC_PHOTOS", False)
        and photo.kind == PhotoKind.BEFORE
        and open311_lists_case(photo.case)
    )


# Cases Open311 never lists: cancelled (作废) or not accepted (invalid, duplicate, refused).
OPEN311_HIDDEN_STATUSES = ("cancelled", "invalid", "duplicate", "refused")


def open311_lists_case(case) -> bool:
    """Open311 GET shows a case unless it was cancelled or not accepted, or its category is
    not public (Category.public)."""
    return case.status not in OPEN311_HIDDEN_STATUSES and case.category.public


def open311_listed_q(prefix: str = "") -> Q:
    """open311_lists_case as a filter on cases."""
    return Q(**{f"{prefix}category__public": True}) & ~Q(
        **{f"{prefix}status__in": OPEN311_HIDDEN_STATUSES}
    )


def can_view_photo(user, photo) -> bool:
    """A case's photos: whoever may see the case (can_view_case), or anyone if it is public."""
    return photo_is_public(photo) or (
        getattr(user, "is_authenticated", False) and can_view_case(user, photo.case)
    )


# --- case search (issue 10, search) ------------------------------------------------------------


def can_search_reporter(user) -> bool:
    """Finding cases by the reporter's phone: the posts that see reporters and callers (intake
    clerks and hotline agents, who take the calls; superusers); a reporter finds their own
    cases otherwise."""
    scope = staff_scope(user)
    return scope.is_superuser or bool({Role.INTAKE, Role.HOTLINE_AGENT} & scope.roles())


class ProbedExists(Exists):
    """EXISTS checked row by row through the index on PostgreSQL: `OFFSET 0` keeps the planner
    from turning it into a hash of every matching row (which it prefers whenever it expects
    to check many rows, not knowing that a LIMIT stops it after a page)."""

    def as_postgresql(self, compiler, connection, **extra_context):
        return self.as_sql(
            compiler, connection, template="EXISTS(%(subquery)s OFFSET 0)", **extra_context
        )


# A user whose posts hold at most this many tasks finds their cases by id (one index read of
# at most this many rows); above it, each candidate case's tasks are probed (ProbedExists).
FEW_TASKS = 2000
# How many tasks a post holds is counted again after this long, per process: both forms of
# the rule find the same cases, so a stale verdict costs time, never rows.
TASK_COUNT_SECONDS = 300.0
_FEW_TASKS: dict[tuple, tuple[bool, float]] = {}  # (user, pairs, FEW_TASKS) → (few, until)


def _pairs_sql(scope) -> str:
    """The scope's (unit, role) pairs as a condition on task rows with the values written in,
    not bound: a prepared statement's generic plan would not know them, guess that a role
    matches a large share of the tasks, and read the whole table for a post holding none."""
    parts = []
    for role in sorted(scope.roles()):
        units = ",".join(str(int(u)) for u in sorted(scope.units_for(role)))
        quoted = "'" + role.replace("'", "''").replace("%", "%%") + "'"
        parts.append(f"(role = {quoted} AND unit_id IN ({units}))")
    return " OR ".join(parts) or "FALSE"


def forget_task_counts() -> None:
    """Count every post's tasks again on its next search."""
    _FEW_TASKS.clear()


def _held_tasks(scope):
    """The tasks in `scope`: its (unit, role) pairs, and the tasks it owns elsewhere."""
    in_pairs = RawSQL(_pairs_sql(scope), (), BooleanField())
    in_posts = CaseTask.objects.filter(in_pairs)
    owned = CaseTask.objects.filter(owner_id=scope.user_id).exclude(in_pairs)
    return in_posts, owned


def holds_few_tasks(scope) -> bool:
    """Whether the scope holds at most FEW_TASKS tasks; counted once per TASK_COUNT_SECONDS.

    Each part is counted on its own index with a LIMIT (an intake clerk's posts hold a task
    of nearly every case: reading 2,001 rows through an OR of both parts on every search cost
    a bitmap of all of them)."""
    key = (scope.user_id, _pairs_sql(scope), FEW_TASKS)
    now = time.monotonic()
    known = _FEW_TASKS.get(key)
    if known is not None and known[1] > now:
        return known[0]
    in_posts, owned = _held_tasks(scope)
    held = in_posts[: FEW_TASKS + 1].count()
    few = held <= FEW_TASKS and held + owned[: FEW_TASKS + 1].count() <= FEW_TASKS
    if len(_FEW_TASKS) > 10_000:
        _FEW_TASKS.clear()
    _FEW_TASKS[key] = (few, now + TASK_COUNT_SECONDS)
    return few


def _held_case_ids(scope):
    """The ids of the cases of the scope's tasks, as a subquery (one statement with the
    search; a list of up to 2,000 bound values cost its planning on every search)."""
    in_posts, owned = _held_tasks(scope)
    return in_posts.values("case_id").union(owned.values("case_id"), all=True)


def case_search_visibility_q(user) -> Q:
    """`case_visibility_q` for searches and maps: the same cases, with the task rule written
    for a search that reads one page. A user whose posts hold few tasks (a handler of a small
    unit) gets the ids of their cases as a subquery, which the planner hashes once and checks
    while it walks the cases in the page's order. Otherwise the rule is a correlated EXISTS
    on the case's own tasks, so that a selective filter (a number, a phone, rare words) or a
    LIMIT reads only the candidate rows instead of every task of the user's posts first (an
    intake clerk holds an intake task of nearly every case); walking the cases newest first
    for a user who sees one case in a hundred would probe thousands of them for one page,
    hence the ids."""
    scope = staff_scope(user)
    if scope.is_superuser:
        return Q()
    if holds_few_tasks(scope):
        q = Q(pk__in=_held_case_ids(scope))
    else:
        tasks = CaseTask.objects.filter(case_id=OuterRef("pk")).filter(
            scope.task_q() | Q(owner_id=scope.user_id)
        )
        q = Q(ProbedExists(tasks))
    q |= Q(reported_by_id=scope.user_id)
    for part in _oversight_parts(scope, ""):
        q |= part
    return q
