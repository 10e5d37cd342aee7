"""Bulk-load a city's worth of cases and tasks for the task-list and lifecycle benchmarks.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/cityops_bench \
        .venv/bin/python bench/seed_tasks.py --tasks 1000000 --reset

Writes straight into viewflow_process, viewflow_task, workflows_case, workflows_casetask and
workflows_caseevent with COPY, the rows shaped exactly as the services and the flow write them
one START row per process, one HUMAN row per stage task (with its workflows_casetask
twin sharing the id; the flow's steps route by outcome, with no Switch rows between them) and
an END row per finished case. Secondary indexes and foreign keys of those tables are dropped
for the load and re-created (and the foreign keys validated) in the same transaction; then
VACUUM ANALYZE. With --facts, the indicator facts and their rollup are written afterwards by
the real rebuild (`rebuild_indicator_facts`), so that bench/indicators.py reads real figures.

The mix (see README.md): ~1M human tasks over ~200k cases, 2 years of history, ~12% of the
tasks open or claimed (one per open case), handling spread over the demo handling units and
their sub-units, intake/filing/dispatch/return review/closing in the command centre CC,
verification and check at the street of the case's community. Every (unit, role) a task can
sit in is staffed: besides the demo accounts, `bench_<role>_<unit>_<n>` users (unusable
passwords) with memberships; owners of claimed and done tasks are drawn from those staff.
"""

from __future__ import annotations

import argparse
import datetime as dt
import io
import json
import random
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parent))
from harness import database_label, django_setup

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


# --- rows ----------------------------------------------------------------------------------


def ts(value: float | None) -> str:
    if value is None:
        return r"\N"
    return dt.datetime.fromtimestamp(value, dt.UTC).isoformat(sep=" ")


def text(value: object) -> str:
    """A value in COPY text format."""
    if value is None:
        return r"\N"
    if isinstance(value, dict):
        value = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    value = str(value)
    if any(c in value for c in "\\\t\n\r"):
        value = value.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n")
        value = value.replace("\r", "\\r")
    return value


def row(*values: object) -> str:
    return "\t".join(v if isinstance(v, str) and v in (r"\N",) else text(v) for v in values)


COLUMNS = {
    "viewflow_process": "id, flow_class, status, created, finished, data",
    "viewflow_task": (
        "id, flow_task, flow_task_type, status, created, started, finished, token, owner_id,"
        " process_id, data"
    ),
    "workflows_case": (
        "id, number, description, lat, lng, address, source, reporter_name, reporter_contact,"
        " urgency, stage, status, rework_count, archive_type, archive_reason, due_at,"
        " created_at, updated_at, closed_at, area_id, city_id, duplicate_of_id, grid_id,"
        " process_id, reported_by_id, responsible_unit_id, category_id, extension_count"
    ),
    "workflows_casetask": (
        "task_id, stage, role, status, outcome, payload, created_at, claimed_at, finished_at,"
        " due_at, case_id, owner_id, unit_id, limit_unit, thresholds_fired, paused_minutes"
    ),
    "workflows_caseevent": (
        "id, action, stage_from, stage_to, payload, created_at, actor_id, case_id, unit_id, task_id"
    ),
}
VF_STATUS = {"open": "NEW", "claimed": "ASSIGNED", "done": "DONE", "cancelled": "CANCELED"}
ENDING = {"invalid": "invalid", "duplicate": "duplicate", "refuse": "refused", "close": "closed"}
REASONS = {
    "invalid": "不属于受理范围 not in scope",
    "refuse": "不符合立案条件 filing conditions not met",
    "return": "非本单位职责 not our responsibility",
    "fail": "现场仍未处置到位 still not fixed on site",
}


@dataclass
class Writer:
    """Appends the rows of each table to its own file (one COPY per table later)."""

    directory: Path
    full_events: bool
    flow_nodes: bool
    ids: dict[str, int]
    numbers: dict[int, int]  # year -> last number used
    files: dict[str, io.TextIOWrapper] = field(default_factory=dict)
    counts: dict[str, int] = field(default_factory=dict)
    case_numbers: list[str] = field(default_factory=list)
    case_ids: list[int] = field(default_factory=list)

    def __post_init__(self) -> None:
        for t in TABLES:
            self.files[t] = open(self.directory / f"{t}.copy", "w", encoding="utf-8")  # noqa: SIM115
            self.counts[t] = 0

    def put(self, table: str, line: str) -> None:
        self.files[table].write(line)
        self.files[table].write("\n")
        self.counts[table] += 1

    def next_id(self, table: str) -> int:
        self.ids[table] += 1
        return self.ids[table]

    def close(self) -> None:
        for f in self.files.values():
            f.close()

    def node(self, process_id: int, name: str, kind: str, at: float, status="DONE") -> float:
        if self.flow_nodes:
            task_id = self.next_id("viewflow_task")
            self.put(
                "viewflow_task",
                row(
                    task_id,
                    f"{FLOW_CLASS}.{name}",
                    kind,
                    status,
                    ts(at),
                    ts(at),
                    ts(at + 0.001),
                    "start",
                    None,
                    process_id,
                    {},
                ),
            )
        return at + 0.001

    def case(self, plan: Plan, rng: random.Random, tz: ZoneInfo, seed: int = 0) -> None:
        case_id, process_id = self.next_id("workflows_case"), self.next_id("viewflow_process")
        year = dt.datetime.fromtimestamp(plan.created, tz).year
        self.numbers[year] = self.numbers.get(year, 0) + 1
        number = f"{year}-{self.numbers[year]:06d}"
        self.case_ids.append(case_id)
        self.case_numbers.append(number)
        cat_id, cat_code, cat_name, urgency = plan.category
        description, address, phone = case_texts(seed, cat_name, plan.source)
        self.node(process_id, "start", "START", plan.created)
        self.put(
            "workflows_caseevent",
            row(
                self.next_id("workflows_caseevent"),
                "report",
                "",
                "intake",
                {"source": plan.source, "category": cat_code},
                ts(plan.created),
                plan.reporter_id,
                case_id,
                plan.grid[1],
                None,
            ),
        )
        case_status, stage, last_outcome = "open", None, None
        end, rework, duplicate_of = None, 0, None
        for i, step in enumerate(plan.steps):
            stage = step.stage
            payload = self._payload(step, plan, rng)
            if step.outcome == "duplicate" and len(self.case_ids) > 1:
                j = max(0, len(self.case_ids) - 1 - rng.randint(1, 500))
                duplicate_of = self.case_ids[j]
                payload["duplicate_of"] = self.case_numbers[j]
            task_id = self.next_id("viewflow_task")
            self.put(
                "viewflow_task",
                row(
                    task_id,
                    f"{FLOW_CLASS}.{step.stage}",
                    "HUMAN",
                    VF_STATUS[step.status],
                    ts(step.created),
                    ts(step.finished if step.status == "done" else None),
                    ts(step.finished),
                    "start",
                    step.owner_id,
                    process_id,
                    {},
                ),
            )
            self.put(
                "workflows_casetask",
                row(
                    task_id,
                    step.stage,
                    step.role,
                    step.status,
                    step.outcome or "",
                    payload,
                    ts(step.created),
                    ts(step.claimed),
                    ts(step.finished),
                    None,
                    case_id,
                    step.owner_id,
                    step.unit_id,
                    "",
                    0,
                    0,
                ),
            )
            nxt = plan.steps[i + 1].stage if i + 1 < len(plan.steps) else None
            if self.full_events:
                self._events(case_id, task_id, step, payload, nxt)
            if step.status != "done":
                if step.status == "cancelled":
                    case_status, stage, end = "cancelled", "ended", step.finished
                continue
            last_outcome = step.outcome
            rework += step.outcome == "fail"
            t = step.finished + 0.001
            if step.outcome in ENDING:
                case_status, stage = ENDING[step.outcome], "ended"
                end = self.node(process_id, "end", "END", t)
        proc_status = {"open": "NEW", "cancelled": "CANCELED"}.get(case_status, "DONE")
        data = {"case": case_id} | ({"outcome": last_outcome} if last_outcome else {})
        self.put(
            "viewflow_process",
            row(process_id, FLOW_CLASS, proc_status, ts(plan.created), ts(end), data),
        )
        archive = ("overdue" if plan.overdue else "normal") if case_status == "closed" else ""
        updated = end or max(s.claimed or s.created for s in plan.steps)
        # The case's overall due time is set when it is dispatched (3 days here).
        dispatched = [s.finished for s in plan.steps if s.stage == "dispatch" and s.finished]
        due = dispatched[-1] + 3 * DAY if dispatched else None
        self.put(
            "workflows_case",
            row(
                case_id,
                number,
                description,
                round(plan.lat, 6),
                round(plan.lng, 6),
                address,
                plan.source,
                "市民" if phone else "",
                phone,
                urgency,
                stage,
                case_status,
                rework,
                archive,
                "作废 bench" if case_status == "cancelled" else "",
                ts(due),
                ts(plan.created),
                ts(updated),
                ts(end),
                plan.grid[1],
                CITY.city_id,
                duplicate_of,
                plan.grid[0],
                process_id,
                plan.reporter_id,
                plan.responsible_id,
                cat_id,
                0,
            ),
        )

    def _payload(self, step: Step, plan: Plan, rng: random.Random) -> dict:
        payload: dict = {}
        if step.stage == "dispatch":
            _cat_id, cat_code, cat_name, _ = plan.category
            code = CODES[plan.suggested_id]
            payload = {
                "rule": None,
                "basis": "category_default",
                "explanation": f"Default unit of category {cat_code} {cat_name}",
                "suggested_unit": plan.suggested_id,
                "suggested_unit_code": code,
            }
            if step.outcome:
                payload["unit"] = code
        if step.outcome in REASONS:
            payload["reason"] = REASONS[step.outcome]
        if step.outcome in ("done", "verified"):
            payload["result"] = "已处置 handled" if step.outcome == "done" else "属实 confirmed"
        if step.outcome == "done":
            payload["photos"] = 1
        return payload

    def _events(self, case_id, task_id, step: Step, payload: dict, nxt: str | None) -> None:
        if step.claimed is not None:
            self.put(
                "workflows_caseevent",
                row(
                    self.next_id("workflows_caseevent"),
                    "claim",
                    step.stage,
                    step.stage,
                    {},
                    ts(step.claimed),
                    step.owner_id,
                    case_id,
                    step.unit_id,
                    task_id,
                ),
            )
        if step.status == "done":
            stage_to = "ended" if step.outcome in ENDING else (nxt or "ended")
            self.put(
                "workflows_caseevent",
                row(
                    self.next_id("workflows_caseevent"),
                    step.outcome,
                    step.stage,
                    stage_to,
                    payload,
                    ts(step.finished),
                    step.owner_id,
                    case_id,
                    step.unit_id,
                    task_id,
                ),
            )


CITY: City
CODES: dict[int, str] = {}
STAGES: dict = {}  # workflows.flows.stages.STAGES, once Django is set up


# --- loading -------------------------------------------------------------------------------


def _reset(cursor) -> None:
    cursor.execute(f"TRUNCATE {', '.join(TRUNCATED)} RESTART IDENTITY CASCADE")


def _current_ids(cursor) -> dict[str, int]:
    ids = {}
    for t in TABLES:
        pk = "task_id" if t == "workflows_casetask" else "id"
        cursor.execute(f"SELECT COALESCE(MAX({pk}), 0) FROM {t}")
        ids[t] = cursor.fetchone()[0]
    ids["viewflow_task"] = max(ids["viewflow_task"], ids["workflows_casetask"])
    return ids


def _drop_secondary(cursor) -> list[str]:
    """Drop foreign keys and plain indexes of the loaded tables; return the SQL to restore them."""
    cursor.execute(
        """
        SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid)
        FROM pg_constraint WHERE contype = 'f' AND conrelid = ANY(%s::regclass[])
        """,
        [TABLES],
    )
    fks = cursor.fetchall()
    cursor.execute(
        """
        SELECT i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid)
        FROM pg_index i
        WHERE i.indrelid = ANY(%s::regclass[])
          AND NOT EXISTS (SELECT 1 FROM pg_constraint c
                          WHERE c.conindid = i.indexrelid AND c.contype IN ('p', 'u', 'x'))
        """,
        [TABLES],
    )
    indexes = cursor.fetchall()
    for table, name, _ in fks:
        cursor.execute(f'ALTER TABLE {table} DROP CONSTRAINT "{name}"')
    for name, _ in indexes:
        cursor.execute(f"DROP INDEX {name}")
    restore = [definition for _, definition in indexes]
    restore += [f'ALTER TABLE {t} ADD CONSTRAINT "{n}" {d}' for t, n, d in fks]
    return restore


def _copy(cursor, directory: Path, table: str) -> None:
    with (
        open(directory / f"{table}.copy", "rb") as f,
        cursor.cursor.copy(f"COPY {table} ({COLUMNS[table]}) FROM STDIN") as copy,
    ):
        while chunk := f.read(1 << 20):
            copy.write(chunk)


def _finish_ids(cursor, numbers: dict[int, int]) -> None:
    for t in TABLES:
        if t == "workflows_casetask":
            continue
        cursor.execute(
            f"SELECT setval(pg_get_serial_sequence('{t}', 'id'), "
            f"(SELECT GREATEST(COALESCE(MAX(id), 0), 1) FROM {t}))"
        )
    for year, last in numbers.items():
        cursor.execute(
            """
            INSERT INTO workflows_casesequence (year, last) VALUES (%s, %s)
            ON CONFLICT (year) DO UPDATE SET last = GREATEST(workflows_casesequence.last,
                                                             EXCLUDED.last)
            """,
            [year, last],
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--tasks", type=int, default=1_000_000, help="human tasks, roughly")
    parser.add_argument("--cases", type=int, help="cases (default: tasks / 4.9)")
    parser.add_argument(
        "--open-share",
        type=float,
        default=0.12,
        help="share of tasks open or claimed (one per open case)",
    )
    parser.add_argument(
        "--claimed-share", type=float, default=0.3, help="of those, the share already claimed"
    )
    parser.add_argument("--years", type=float, default=2.0, help="history span")
    parser.add_argument("--seed", type=int, default=20260101)
    parser.add_argument(
        "--events",
        choices=["report", "full"],
        default="report",
        help="report: one event per case; full: also claim + outcome per task",
    )
    parser.add_argument(
        "--no-flow-nodes",
        action="store_true",
        help="skip the START/END rows of viewflow_task",
    )
    parser.add_argument(
        "--reset", action="store_true", help="truncate cases, tasks, processes and events first"
    )
    parser.add_argument("--tmpdir", default=None, help="where the COPY files are staged")
    parser.add_argument(
        "--facts",
        action="store_true",
        help="then write the indicator facts and their rollup (the real rebuild; ~15 min at 1M)",
    )
    args = parser.parse_args()
    django_setup()

    global CITY, CLAIMED_SHARE
    from django.conf import settings
    from django.db import connection, transaction

    started = time.perf_counter()
    CLAIMED_SHARE = args.claimed_share
    cases = args.cases or round(args.tasks / 4.9)  # the mix averages ~4.9 tasks a case
    open_cases = min(cases, round(args.open_share * args.tasks))
    print(
        f"Database {database_label()}: {cases} cases, {open_cases} open, target ~{args.tasks} tasks"
    )

    with connection.cursor() as c:
        c.execute("SELECT COUNT(*) FROM workflows_casetask")
        existing = c.fetchone()[0]
    if existing and not args.reset:
        print(f"Note: {existing} tasks already loaded; appending (use --reset to start over).")

    from workflows.flows.stages import STAGES as stages

    STAGES.update(stages)
    CITY = load_city()
    ensure_staff(CITY)
    CODES.update({pk: code for code, pk in CITY.units.items()})
    tz = ZoneInfo(settings.TIME_ZONE)
    now, span = time.time(), args.years * 365 * DAY

    # Pass 1: when each case was reported (ids and numbers follow report time).
    master = random.Random(args.seed)
    flags = [True] * open_cases + [False] * (cases - open_cases)
    master.shuffle(flags)
    seeds = [master.getrandbits(62) for _ in range(cases)]
    order = sorted(
        range(cases), key=lambda i: plan_case(seeds[i], flags[i], CITY, now, span).created
    )
    planned = time.perf_counter()

    with (
        tempfile.TemporaryDirectory(dir=args.tmpdir, prefix="cityops-seed-") as tmp,
        transaction.atomic(),
        connection.cursor() as c,
    ):
        if args.reset:
            _reset(c)
        c.execute("SELECT year, last FROM workflows_casesequence")
        numbers = dict(c.fetchall())  # appending continues each year's case numbers
        writer = Writer(
            Path(tmp), args.events == "full", not args.no_flow_nodes, _current_ids(c), numbers
        )
        # Pass 2: the rows, case by case in report order.
        for i in order:
            plan = plan_case(seeds[i], flags[i], CITY, now, span)
            writer.case(plan, random.Random(seeds[i] ^ 0x5EED), tz, seeds[i])
        writer.close()
        written = time.perf_counter()
        c.execute("SET LOCAL maintenance_work_mem = '512MB'")
        restore = _drop_secondary(c)
        for t in TABLES:
            _copy(c, Path(tmp), t)
        copied = time.perf_counter()
        for sql in restore:
            c.execute(sql)
        _finish_ids(c, writer.numbers)
        indexed = time.perf_counter()
    with connection.cursor() as c:
        for t in TABLES:
            c.execute(f"VACUUM (ANALYZE) {t}")
    done = time.perf_counter()

    print(
        f"Loaded in {done - started:.1f} s: plan {planned - started:.1f} s, rows "
        f"{written - planned:.1f} s, COPY {copied - written:.1f} s, indexes + foreign keys "
        f"{indexed - copied:.1f} s, VACUUM ANALYZE {done - indexed:.1f} s"
    )
    print("Rows written: " + ", ".join(f"{t} {n}" for t, n in writer.counts.items()))
    if args.facts:
        _write_facts()
    report()


def _write_facts() -> None:
    """The indicator facts of every case and their rollup, by the rebuild the command runs."""
    from indicators.facts import facts_rebuild

    started = time.perf_counter()
    done = facts_rebuild(apply=True)
    print(
        f"Facts: {done['facts']} for {done['cases']} cases, rollup {done['rollup']['rows']} "
        f"rows, in {time.perf_counter() - started:.0f} s"
    )


def report() -> None:
    """What is in the database now: tasks by status and stage, and the demo users' lists."""
    from django.contrib.auth import get_user_model
    from django.db import connection

    from departments.access import staff_scope
    from workflows.models import CaseTask

    with connection.cursor() as c:
        c.execute("SELECT status, COUNT(*) FROM workflows_casetask GROUP BY 1 ORDER BY 2 DESC")
        by_status = c.fetchall()
        c.execute("SELECT COUNT(*), COUNT(*) FILTER (WHERE status = 'open') FROM workflows_case")
        n_cases, n_open = c.fetchone()
        c.execute("SELECT pg_size_pretty(pg_database_size(current_database()))")
        size = c.fetchone()[0]
    total = sum(n for _, n in by_status)
    print(
        f"Tasks: {total} ("
        + ", ".join(f"{s} {n} = {100 * n / total:.1f}%" for s, n in by_status)
        + f"); cases {n_cases} "
        f"({n_open} open); database size {size}"
    )
    users = get_user_model().objects.filter(
        username__in=["dispatcher", "handler_sani", "handler_muni", "intake", "inspector"]
    )
    for user in users.order_by("username"):
        pairs = staff_scope(user).pairs
        q = staff_scope(user).task_q()
        queue = CaseTask.objects.filter(q, status="open").count()
        inbox = CaseTask.objects.filter(owner=user, status="claimed").count()
        done = CaseTask.objects.filter(owner=user, status="done").count()
        print(
            f"  {user.username:13} {len(pairs):2} (unit, role) pairs: queue {queue}, "
            f"inbox {inbox}, done {done}"
        )


if __name__ == "__main__":
    main()
