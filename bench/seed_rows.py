"""The rows bench/seed_tasks.py loads, in PostgreSQL's COPY text format: one file per table,
written by `Writer` from each case's plan (bench/seed_plan.py) exactly as the services and the
flow would write them."""

from __future__ import annotations

import datetime as dt
import io
import json
import random
import sys
from dataclasses import dataclass, field
from pathlib import Path
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parent))
from seed_plan import DAY, FLOW_CLASS, TABLES, City, Plan, Step, case_texts

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
    city: City
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
                self.city.city_id,
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


CODES: dict[int, str] = {}  # unit code by id, filled by seed_tasks.main
