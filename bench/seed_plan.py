"""What bench/seed_tasks.py loads, decided case by case: the city's reference data and bench
staff, the mix of paths and stages, the texts, and each case's plan (its steps, units, owners
and times), drawn from a seeded random generator so that a load is repeatable."""

from __future__ import annotations

import random
import sys
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))


FLOW_CLASS = "workflows/flows.case_flow.CaseFlow"
DAY = 86400.0

# Human paths of finished cases: ([(stage, outcome)], weight); outcome None = cancelled (作废).
STANDARD = [
    ("intake", "accept"),
    ("filing", "file"),
    ("dispatch", "dispatch"),
    ("handling", "done"),
    ("check", "pass"),
    ("closing", "close"),
]
VERIFIED = [("intake", "verify"), ("verify", "verified"), *STANDARD]
REWORK = [*STANDARD[:4], ("check", "fail"), ("handling", "done"), *STANDARD[4:]]
RETURNED = [
    *STANDARD[:3],
    ("handling", "return"),
    ("return_review", "approve"),
    ("dispatch", "dispatch"),
    *STANDARD[3:],
]
CLOSED_PATHS = [
    (STANDARD, 66),
    (VERIFIED, 9),
    (REWORK, 9),
    (RETURNED, 6),
    ([("intake", "invalid")], 4),
    ([("intake", "duplicate")], 2),
    ([("intake", "accept"), ("filing", "refuse")], 2),
    ([*STANDARD[:3], ("handling", None)], 2),
]
# Open cases follow one of these paths up to their open task, chosen by where backlogs build.
OPEN_PATHS = [(STANDARD, 75), (VERIFIED, 8), (REWORK, 9), (RETURNED, 8)]
OPEN_STAGE_WEIGHT = {
    "handling": 50,
    "check": 12,
    "dispatch": 12,
    "intake": 8,
    "filing": 6,
    "closing": 6,
    "verify": 3,
    "return_review": 3,
}
# Typical time a stage's task takes, seconds (scaled per task by a log-normal factor).
STAGE_SECONDS = {
    "intake": 300,
    "verify": 4 * 3600,
    "filing": 600,
    "dispatch": 480,
    "handling": 1.5 * DAY,
    "return_review": 3600,
    "check": 3 * 3600,
    "closing": 2 * 3600,
}
# Share of handling cases per responsible unit (a city's typical mix).
UNIT_WEIGHT = {
    "SANI": 24,
    "ENF": 18,
    "MUNI": 14,
    "WATER": 10,
    "GREEN": 8,
    "POLICE": 5,
    "HOUSING": 5,
    "TRANS": 4,
    "POWER": 3,
    "GAS": 3,
    "TELECOM": 2,
    "CIVIL": 2,
    "FIRE": 1,
    "SPORTS": 1,
}
TOP_UNIT_SHARE = 0.4  # handling tasks kept by a unit that has sub-units (rest: 二级派遣)
SOURCES = [("inspector", 50), ("hotline", 30), ("public_app", 12), ("api", 5), ("sensor", 3)]
BENCH_STAFF = {"centre": 7, "street": 5, "handling": 5}  # bench users per (unit, role)
TABLES = [
    "viewflow_process",
    "viewflow_task",
    "workflows_case",
    "workflows_casetask",
    "workflows_caseevent",
]
TRUNCATED = [
    "viewflow_task_previous",
    "workflows_attachment",
    *TABLES,
    "workflows_casesequence",
    "indicators_factrollup",  # the facts go with the cases (CASCADE); their rollup and position
    "indicators_factcursor",
]


# Case texts for the search benchmark: a description of a few phrases around the category's
# name, a street address and, for hotline and app reports, a mobile number.
PLACES = ["人行道", "小区门口", "公交站旁", "路口", "绿化带", "菜市场", "学校附近", "河道边",
          "停车场", "桥下", "广场", "商铺前", "居民楼下", "地铁站出口", "公园东门"]  # fmt: skip
PROBLEMS = ["堆放垃圾", "井盖缺失", "路面破损", "违章停车", "占道经营", "污水外溢", "树木倒伏",
            "路灯不亮", "噪声扰民", "乱贴广告", "围挡破损", "积水严重", "护栏损坏", "油烟扰民",
            "共享单车乱停"]  # fmt: skip
DETAILS = ["已持续三天", "影响行人通行", "群众多次反映", "夜间尤其明显", "存在安全隐患",
           "请尽快处理", "气味难闻", "面积约十平方米", "周边商户反映", ""]  # fmt: skip
STREETS = ["东华路", "西湖大道", "解放路", "人民路", "建设街", "中山路", "和平街", "新华路",
           "光明巷", "朝阳路", "滨江大道", "文化路", "长江路", "黄河街", "青年路",
           "胜利街"]  # fmt: skip


def case_texts(seed: int, category_name: str, source: str) -> tuple[str, str, str]:
    """(description, address, reporter contact) of a case, from its own seed."""
    rng = random.Random(seed ^ 0x7E47)
    description = "，".join(
        filter(
            None,
            [
                rng.choice(PLACES) + rng.choice(PROBLEMS),
                category_name,
                rng.choice(DETAILS),
                rng.choice(DETAILS),
            ],
        )
    )
    address = f"{rng.choice(STREETS)}{rng.randint(1, 999)}号"
    if rng.random() < 0.4:
        address += f"{rng.choice(PLACES)}"
    phone = f"1{rng.choice('3578')}{rng.randint(0, 999_999_999):09d}"
    return description, address, phone if source in ("hotline", "public_app") else ""


def weighted(rng: random.Random, choices: list[tuple[object, float]]):
    values, weights = zip(*choices, strict=True)
    return rng.choices(values, weights)[0]


# --- reference data ------------------------------------------------------------------------


@dataclass
class City:
    city_id: int
    centre_id: int
    scheme_id: int | None
    units: dict[str, int]  # code -> id
    children: dict[int, list[int]]  # unit id -> sub-unit ids
    categories: dict[int, list[tuple]]  # default unit id -> [(id, code, name, urgency)]
    grids: list[tuple]  # (id, area id, street id, lat, lng)
    pools: dict[tuple[int, str], list[int]] = field(default_factory=dict)  # staff per pair
    unit_choices: list[tuple[int, float]] = field(default_factory=list)


def load_city() -> City:
    from departments.models import GridCell, Unit, UnitKind
    from workflows.models import Category

    units = {u.code: u for u in Unit.objects.all()}
    city = units.get("DEMO")
    if city is None or "CC" not in units:
        sys.exit("The demo city is missing: run `manage.py seed_demo` first.")
    children: dict[int, list[int]] = {}
    for u in units.values():
        if u.parent_id and u.kind == UnitKind.HANDLING and units.get(u.code):
            children.setdefault(u.parent_id, []).append(u.pk)
    categories: dict[int, list[tuple]] = {}
    cats = Category.objects.filter(is_active=True, default_unit__isnull=False)
    if city.category_scheme_id:
        cats = cats.filter(scheme_id=city.category_scheme_id)
    for c in cats.order_by("id"):
        categories.setdefault(c.default_unit_id, []).append((c.pk, c.code, c.name, c.urgency))
    by_id = {u.pk: u for u in units.values()}
    grids = []
    for g in GridCell.objects.order_by("id"):
        area = by_id[g.area_id]
        street = area.parent_id if area.kind == UnitKind.COMMUNITY and area.parent_id else area.pk
        grids.append((g.pk, g.area_id, street, g.centre_lat or 31.2, g.centre_lng or 121.4))
    result = City(
        city_id=city.pk,
        centre_id=units["CC"].pk,
        scheme_id=city.category_scheme_id,
        units={code: u.pk for code, u in units.items()},
        children={k: sorted(v) for k, v in children.items()},
        categories=categories,
        grids=grids,
    )
    result.unit_choices = [
        (units[code].pk, w)
        for code, w in UNIT_WEIGHT.items()
        if code in units and units[code].pk in categories
    ]
    return result


def ensure_staff(city: City) -> None:
    """Bench staff for every (unit, role) a task can sit in; pools of who holds each pair."""
    from django.contrib.auth import get_user_model

    from departments.access import staff_scope
    from departments.models import Membership, Role, Unit, UnitKind

    User = get_user_model()
    wanted: list[tuple[Unit, str, int]] = []
    centre = Unit.objects.get(pk=city.centre_id)
    for role in (Role.INTAKE, Role.SHIFT_LEADER, Role.DISPATCHER):
        wanted.append((centre, role, BENCH_STAFF["centre"]))
    streets = Unit.objects.filter(pk__in={g[2] for g in city.grids})
    wanted += [(s, Role.INSPECTOR, BENCH_STAFF["street"]) for s in streets]
    handling = Unit.objects.filter(kind=UnitKind.HANDLING, is_active=True)
    wanted += [(u, Role.HANDLER, BENCH_STAFF["handling"]) for u in handling]
    names = {
        f"bench_{role}_{unit.code.lower()}_{n}": (unit, role)
        for unit, role, count in wanted
        for n in range(1, count + 1)
    }
    User.objects.bulk_create(
        [User(username=name, password="!", is_active=True) for name in names],
        ignore_conflicts=True,
    )
    ids = dict(User.objects.filter(username__in=names).values_list("username", "id"))
    Membership.objects.bulk_create(
        [
            Membership(user_id=ids[name], unit=unit, role=role, include_subunits=False)
            for name, (unit, role) in names.items()
        ],
        ignore_conflicts=True,
    )
    holders = User.objects.filter(memberships__isnull=False, is_active=True).distinct()
    pools: dict[tuple[int, str], list[int]] = {}
    for user in holders:
        for pair in staff_scope(user).pairs:
            pools.setdefault(pair, []).append(user.pk)
    city.pools = {pair: sorted(users) for pair, users in pools.items()}


# --- one case ------------------------------------------------------------------------------


@dataclass
class Step:
    stage: str
    outcome: str | None  # None: open, claimed or cancelled
    status: str  # casetask status: open / claimed / done / cancelled
    unit_id: int
    role: str
    created: float
    claimed: float | None = None
    finished: float | None = None
    owner_id: int | None = None


@dataclass
class Plan:
    created: float
    is_open: bool
    steps: list[Step]
    category: tuple
    grid: tuple
    responsible_id: int | None
    suggested_id: int
    source: str
    reporter_id: int | None
    overdue: bool
    lat: float
    lng: float


def _path(rng: random.Random, is_open: bool) -> tuple[list, int | None]:
    """The human path and, for an open case, the index of its open task."""
    if not is_open:
        return weighted(rng, CLOSED_PATHS), None
    path = weighted(rng, OPEN_PATHS)
    slots = [(i, OPEN_STAGE_WEIGHT[stage]) for i, (stage, _) in enumerate(path)]
    open_index = weighted(rng, slots)
    return path[: open_index + 1], open_index


def _units(rng: random.Random, city: City) -> tuple[int, int, int]:
    """(responsible unit, unit its handling task sits in, wrong unit for a returned task)."""
    top = weighted(rng, city.unit_choices)
    subs = city.children.get(top, [])
    handling = top if not subs or rng.random() < TOP_UNIT_SHARE else rng.choice(subs)
    wrong = weighted(rng, [c for c in city.unit_choices if c[0] != top])
    return top, handling, wrong


def plan_case(seed: int, is_open: bool, city: City, now: float, span: float) -> Plan:
    """Everything about one case, drawn from its own seed (so two passes agree)."""
    rng = random.Random(seed)
    path, open_index = _path(rng, is_open)
    top, handling_unit, wrong_unit = _units(rng, city)
    category = rng.choice(city.categories[top])
    grid = rng.choice(city.grids)
    returned_before = max(
        (
            i
            for i, (s, o) in enumerate(path)
            if s == "handling" and o == "return" and i != open_index
        ),
        default=-1,
    )
    durations = [STAGE_SECONDS[stage] * rng.lognormvariate(0, 0.7) for stage, _ in path]
    if is_open:
        wait = span * rng.random() ** 3
        open_created = now - wait
        created = open_created - sum(durations[:-1]) - 0.01 * len(path)
    else:
        total = sum(durations) + 0.01 * len(path)
        created = now - span + rng.random() * max(span - total, 0.0)
        if created + total > now:
            created = now - total
    steps, t = [], created + 0.003
    responsible = None
    for i, ((stage, outcome), took) in enumerate(zip(path, durations, strict=True)):
        role, unit = _where(stage, city, grid, handling_unit if i > returned_before else wrong_unit)
        pool = city.pools.get((unit, role)) or [None]
        step = Step(stage, outcome, "done", unit, role, created=t)
        if stage == "dispatch" and i != open_index:
            responsible = top if i > returned_before else wrong_unit
        if i == open_index:
            step.outcome = None
            if rng.random() < CLAIMED_SHARE:
                step.status, step.owner_id = "claimed", rng.choice(pool)
                step.claimed = t + (now - t) * rng.random() * 0.5
            else:
                step.status = "open"
        elif outcome is None:
            step.status, step.finished = "cancelled", t + took
        else:
            step.owner_id = rng.choice(pool)
            step.claimed, step.finished = t + took * 0.2, t + took
        steps.append(step)
        t = (step.finished or t) + 0.002
    source = weighted(rng, SOURCES)
    reporter = (
        rng.choice(city.pools.get((grid[2], "inspector")) or [None])
        if source == "inspector"
        else None
    )
    return Plan(
        created=created,
        is_open=is_open,
        steps=steps,
        category=category,
        grid=grid,
        responsible_id=responsible,
        suggested_id=top,
        source=source,
        reporter_id=reporter,
        overdue=rng.random() < 0.1,
        lat=grid[3] + rng.uniform(-0.004, 0.004),
        lng=grid[4] + rng.uniform(-0.004, 0.004),
    )


CLAIMED_SHARE = 0.3  # of open cases, the share whose task is claimed (set from --claimed-share)


def _where(stage: str, city: City, grid: tuple, handling_unit: int) -> tuple[str, int]:
    policy = STAGES[stage]
    if policy.lives_in == "centre":
        return policy.role, city.centre_id
    if policy.lives_in == "responsible":
        return policy.role, handling_unit
    return policy.role, grid[2]


STAGES: dict = {}  # workflows.flows.stages.STAGES, once Django is set up
