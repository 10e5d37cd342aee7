"""The bulletin example of kpi.md through the real code path: a month of case histories driven
through the engine's services, facts maintained by the catch-up job, the monthly bulletin.

立案 996, 应结案 972 (处置 950 + 超期未处置 22), 结案 911, 按期结案 737 → 结案率 93.72 %,
按期结案率 75.82 %.

Driving ~1,000 cases through the services would take minutes, so each distinct history (a
"template") is driven once through the services at chosen times (tests/indicators/conftest.py),
and then copied: the rows the services wrote for it (its viewflow process and tasks, the case,
its task rows with their SLA due times, its events) are inserted again for a new case,
unchanged but for the ids, the case number and the process's note of its case. The facts of
every case are then derived by the catch-up job from those rows, and the bulletin reads them.
No fact, no due time and no "on time" is written by hand: whether a case is handled or closed
late, or overdue at the month's end, comes from its times against the due times the SLA
recorded, which differ by the category's handling limit (4 or 2 working hours) — the same
actions make one case late and another not.
"""

from __future__ import annotations

import datetime as dt
import re
from io import BytesIO
from urllib.parse import urlsplit

import pytest
from django.contrib.auth import get_user_model
from django.core.management.color import no_style
from django.db import connection
from django.db.models import Max
from django.http import QueryDict
from django.test import Client
from viewflow.workflow.models import Process, Task

from departments.models import Unit
from indicators.bulletin import bulletin_data
from indicators.facts import facts_catch_up, facts_rebuild
from indicators.models import Fact
from indicators.reports import drill_page
from indicators.selectors.periods import period_parse
from indicators.views.params import count_from, counts_q, selection_from
from workflows.access import KpiScope, kpi_scope
from workflows.models import Case, CaseEvent, CaseTask, Category

from .conftest import History, at

pytestmark = pytest.mark.django_db
OCTOBER = "2026-10"


class _Rows:
    """Rows of one table to insert: each a copy of a stored row with some columns changed. The
    copied values are prepared once per stored row and inserted with one executemany (the ORM's
    bulk_create spent several seconds preparing the ~30,000 rows one value at a time)."""

    def __init__(self, model, exclude=()) -> None:
        self.model = model
        self.fields = [
            f
            for f in model._meta.concrete_fields
            if not getattr(f, "generated", False) and f.attname not in exclude
        ]
        self.prepared: dict[int, list] = {}  # by the stored row's id
        self.rows: list[tuple] = []

    def add(self, obj, **changes) -> None:
        key = obj.pk
        if key not in self.prepared:
            self.prepared[key] = [
                f.get_db_prep_save(getattr(obj, f.attname), connection) for f in self.fields
            ]
        values = self.prepared[key]
        if changes:
            values = list(values)
            for i, f in enumerate(self.fields):
                if f.attname in changes:
                    values[i] = f.get_db_prep_save(changes[f.attname], connection)
        self.rows.append(tuple(values))

    def insert(self) -> None:
        quote = connection.ops.quote_name
        columns = ", ".join(quote(f.column) for f in self.fields)
        marks = ", ".join(["%s"] * len(self.fields))
        with connection.cursor() as cursor:
            cursor.executemany(
                f"INSERT INTO {quote(self.model._meta.db_table)} ({columns}) VALUES ({marks})",
                self.rows,
            )


def copy_cases(plan) -> None:
    """For each (case, n) of the plan, n more cases with the rows the services wrote for that
    case, times unchanged: its viewflow process and tasks (the foreign keys of the case and of
    its task rows), the case, its task rows, its events; new ids and case numbers. Not copied:
    what no indicator reads (photos, the flow's task-to-task links, notifications)."""
    next_id = {
        m: (m.objects.aggregate(top=Max("pk"))["top"] or 0) + 1 for m in (Process, Task, Case)
    }

    def new_id(model) -> int:
        next_id[model] += 1
        return next_id[model] - 1

    processes, flow_tasks, cases = _Rows(Process), _Rows(Task), _Rows(Case)
    task_rows, events = _Rows(CaseTask), _Rows(CaseEvent, exclude=("id",))
    for template, copies in plan:
        case = Case.objects.get(pk=template.pk)
        process = Process.objects.get(pk=case.process_id)
        its_flow_tasks = list(Task.objects.filter(process=process).order_by("pk"))
        its_rows = list(CaseTask.objects.filter(case=case).order_by("pk"))
        its_events = list(CaseEvent.objects.filter(case=case).order_by("pk"))
        assert {r.pk for r in its_rows} <= {t.pk for t in its_flow_tasks}  # no sub-process
        for n in range(copies):
            process_id, case_id = new_id(Process), new_id(Case)
            data = {**process.data, "case": case_id} if "case" in process.data else process.data
            processes.add(process, id=process_id, data=data)
            cases.add(case, id=case_id, process_id=process_id, number=f"{case.number}.{n}")
            task_of = {}
            for task in its_flow_tasks:
                task_of[task.pk] = new_id(Task)
                flow_tasks.add(task, id=task_of[task.pk], process_id=process_id)
            for row in its_rows:
                task_rows.add(row, task_id=task_of[row.pk], case_id=case_id)
            for event in its_events:
                task_id = task_of[event.task_id] if event.task_id else None
                events.add(event, case_id=case_id, task_id=task_id)
    for rows in (processes, cases, flow_tasks, task_rows, events):
        rows.insert()
    with connection.cursor() as cursor:  # PostgreSQL: the id sequences past the copies' ids
        for sql in connection.ops.sequence_reset_sql(no_style(), [Process, Task, Case]):
            cursor.execute(sql)


def _closed(h: History, case, handled, passed, closed) -> None:
    h.handle(case, handled)
    h.act(case, "inspector", "pass", passed)
    h.act(case, "shiftlead", "close", closed)


def _filed(h: History, when) -> Case:
    case = h.report(when)
    h.to_handling(case, when)  # accepted +1 min, filed +2, dispatched +3
    return case


# Each history: (name, category limit in working hours, how many cases have it).
# The comments say what the SLA makes of it; the test checks that from the facts.
HISTORIES = [
    # Tue 13 Oct, dispatched 09:03 (due 14:33 / 11:03), handled 10:30, closed 11:00: on time.
    ("quick", 4, 280),
    ("quick", 2, 240),
    # The same, but the first feedback fails the check (a rework), handled again, on time.
    ("rework", 4, 17),
    # Wed 14 Oct, handled 13:45, closed 14:15: on time within 4 h; handled and closed late
    # within 2 h.
    ("afternoon", 4, 200),
    ("afternoon", 2, 96),
    # Thu 15 Oct, handled 10:30, checked 14:00, closed 15:00: handled on time, closed late.
    ("slow_close", 4, 48),
    ("slow_close", 2, 30),
    # Fri 30 Oct, handled 11:30 (late within 2 h), checked on Sat 31 Oct 23:40, closed ten
    # minutes after midnight: November's closing in the city's time zone (October's in UTC).
    ("handled_at_month_end", 4, 23),
    ("handled_at_month_end", 2, 16),
    # Thu 29 Oct, dispatched, not handled before Mon 2 Nov: overdue at the month's end.
    ("left_over", 4, 9),
    ("left_over", 2, 5),
    # Fri 30 Oct 14:03 dispatched: due 16:03 (2 h) — overdue at the month's end — or on
    # Monday (4 h) — not yet due; handled on Mon 2 Nov.
    ("friday_afternoon", 4, 15),
    ("friday_afternoon", 2, 8),
    # Tue 20 Oct, dispatched, then cancelled (作废): filed, neither handled nor overdue.
    ("cancelled", 4, 9),
    # Tue 20 Oct, not accepted at intake: reported, not filed.
    ("invalid", 4, 4),
    # Tue 15 Sep, closed on time the same day: September's, none of October's figures.
    ("september", 4, 30),
]


def drive(h: History, name: str) -> Case:
    """One history through the services."""
    if name == "september":
        case = _filed(h, at(2026, 9, 15, 9, 0))
        _closed(h, case, at(2026, 9, 15, 10, 30), at(2026, 9, 15, 10, 50), at(2026, 9, 15, 11))
    elif name == "quick":
        case = _filed(h, at(2026, 10, 13, 9, 0))
        _closed(h, case, at(2026, 10, 13, 10, 30), at(2026, 10, 13, 10, 50), at(2026, 10, 13, 11))
    elif name == "rework":
        case = _filed(h, at(2026, 10, 13, 9, 0))
        h.handle(case, at(2026, 10, 13, 10, 0))
        h.act(case, "inspector", "fail", at(2026, 10, 13, 10, 20), reason="still dirty")
        _closed(h, case, at(2026, 10, 13, 10, 40), at(2026, 10, 13, 10, 50), at(2026, 10, 13, 11))
    elif name == "afternoon":
        case = _filed(h, at(2026, 10, 14, 9, 0))
        _closed(h, case, at(2026, 10, 14, 13, 45), at(2026, 10, 14, 14), at(2026, 10, 14, 14, 15))
    elif name == "slow_close":
        case = _filed(h, at(2026, 10, 15, 9, 0))
        _closed(h, case, at(2026, 10, 15, 10, 30), at(2026, 10, 15, 14), at(2026, 10, 15, 15))
    elif name == "handled_at_month_end":
        case = _filed(h, at(2026, 10, 30, 9, 0))
        _closed(h, case, at(2026, 10, 30, 11, 30), at(2026, 10, 31, 23, 40), at(2026, 11, 1, 0, 10))
    elif name == "left_over":
        case = _filed(h, at(2026, 10, 29, 9, 0))
        _closed(h, case, at(2026, 11, 2, 10), at(2026, 11, 2, 10, 20), at(2026, 11, 2, 10, 40))
    elif name == "friday_afternoon":
        case = _filed(h, at(2026, 10, 30, 14, 0))
        _closed(h, case, at(2026, 11, 2, 9, 20), at(2026, 11, 2, 9, 40), at(2026, 11, 2, 9, 50))
    elif name == "cancelled":
        case = _filed(h, at(2026, 10, 20, 9, 0))
        h.cancel(case, at(2026, 10, 20, 10, 0))
    elif name == "invalid":
        case = h.report(at(2026, 10, 20, 9, 30))
        h.act(case, "intake", "invalid", at(2026, 10, 20, 9, 40), reason="dup")
    return case


# What the facts must say of each October history, from its times and the SLA's due times:
# (handled on time?, closed on time?, overdue and not handled at the month's end?); None: no
# such fact in October.
OCTOBER_OUTCOMES = {
    ("quick", 4): (True, True, False),
    ("quick", 2): (True, True, False),
    ("rework", 4): (True, True, False),
    ("afternoon", 4): (True, True, False),
    ("afternoon", 2): (False, False, False),
    ("slow_close", 4): (True, False, False),
    ("slow_close", 2): (True, False, False),
    ("handled_at_month_end", 4): (True, None, False),
    ("handled_at_month_end", 2): (False, None, False),
    ("left_over", 4): (None, None, True),
    ("left_over", 2): (None, None, True),
    ("friday_afternoon", 4): (None, None, False),
    ("friday_afternoon", 2): (None, None, True),
    ("cancelled", 4): (None, None, False),
    ("invalid", 4): (None, None, False),
}


def _outcomes(case: Case) -> tuple:
    facts = Fact.objects.filter(
        case=case, day__gte=dt.date(2026, 10, 1), day__lte=dt.date(2026, 10, 31)
    )
    handled = facts.filter(kind="handled").values_list("on_time", flat=True)
    closed = facts.filter(kind="closed").values_list("on_time", flat=True)
    month_end = at(2026, 11, 1, 0, 0)
    overdue = Fact.objects.filter(
        case=case, kind="assignment", due_at__lt=month_end, at__lt=month_end
    ).exclude(end_at__lte=month_end)
    return (
        handled[0] if handled else None,
        closed[0] if closed else None,
        overdue.exists(),
    )


@pytest.fixture
def bulletin_month(history):
    """The month of kpi.md's bulletin example: October 2026 (and some September)."""
    short = Category.objects.create(
        scheme=history.category.scheme,
        kind="event",
        major_code="01",
        major_name="m",
        code="0103",
        name="道路积水",
        default_unit=history.category.default_unit,
        limit_value=2,
        limit_unit="working_hours",
    )
    histories = {4: history, 2: History(short)}
    templates = {(name, hours): drive(histories[hours], name) for name, hours, _ in HISTORIES}
    copy_cases([(templates[name, hours], count - 1) for name, hours, count in HISTORIES])
    while facts_catch_up(batch=5000, settle_seconds=0):
        pass
    return templates


def test_the_bulletin_example_of_kpi_md_through_the_real_code_path(bulletin_month):
    """The bulletin of a month of histories: 立案 996, 应结案 972, 结案 911, 按期结案 737,
    结案率 93.72 %, 按期结案率 75.82 % (kpi.md's example), from the facts the catch-up job
    derived from the rows the services wrote."""
    outcomes = {
        key: _outcomes(case) for key, case in bulletin_month.items() if key[0] != "september"
    }
    assert outcomes == OCTOBER_OUTCOMES
    assert Case.objects.count() == sum(count for _, _, count in HISTORIES)
    report = facts_rebuild()  # the maintained facts are those of a from-scratch derivation
    assert (report["missing"], report["extra"]) == (0, 0)

    data = bulletin_data(period_parse("month", OCTOBER), KpiScope(everything=True))
    shown = {h["code"]: h["text"] for h in data["headline"]}
    assert {code: shown[code] for code in ("filed", "due_closing", "closed", "closed_on_time")} == {
        "filed": "996",
        "due_closing": "972",
        "closed": "911",
        "closed_on_time": "737",
    }
    assert shown["handled"] == "950" and shown["overdue_unhandled"] == "22"
    assert shown["closing_rate"] == "93.72 %"
    assert shown["closed_on_time_rate"] == "75.82 %"
    assert shown["reported"] == "1,000"  # with the 4 not accepted at intake
    # Dispatches active in October: the 996 (the cancelled ones too); 838 handled on time.
    assert shown["handling_due"] == "996" and shown["handling_rate"] == "95.38 %"
    assert shown["handled_on_time_rate"] == "84.14 %"
    previous = {h["code"]: h["previous"] for h in data["headline"]}
    assert previous["closed"] == "30" and previous["closing_rate"] == "100.00 %"  # September

    # The page and the XLSX export show the same figures.
    supervisor = Client()
    supervisor.force_login(get_user_model().objects.get(username="supervisor"))
    page = supervisor.get(f"/indicators/bulletin/?month={OCTOBER}").content.decode()
    names = {h["code"]: h["name"] for h in data["headline"]}
    for code, text in [
        ("filed", "996"),
        ("due_closing", "972"),
        ("closed", "911"),
        ("closed_on_time", "737"),
        ("closing_rate", "93.72 %"),
        ("closed_on_time_rate", "75.82 %"),
    ]:
        row = rf'<td>{re.escape(names[code])}</td><td class="num"><a href="[^"]*">{text}</a>'
        assert re.search(row, page), (code, text)
    from openpyxl import load_workbook

    xlsx = supervisor.get(f"/indicators/bulletin/?month={OCTOBER}&format=xlsx").content
    sheet = load_workbook(BytesIO(xlsx)).worksheets[0]
    figures = {row[0]: row[1] for row in sheet.iter_rows(min_row=2, values_only=True)}
    assert figures[names["closing_rate"]] == 93.72
    assert figures[names["closed_on_time_rate"]] == 75.82
    assert figures[names["closed_on_time"]] == 737 and figures[names["due_closing"]] == 972

    # Each figure's link opens the cases it counts (the drill view's own reading of the link).
    user = get_user_model().objects.get(username="supervisor")
    for code, cases in [("due_closing", 972), ("closed", 911), ("closed_on_time", 737)]:
        url = next(h["url"] for h in data["headline"] if h["code"] == code)
        params = QueryDict(urlsplit(url).query)
        q = counts_q(count_from(params), selection_from(params, kpi_scope(user)), None, None)
        assert len(drill_page(user, q, limit=2000).rows) == cases, code

    # The SANI unit (all of these cases) ranks with the same month.
    sani = Unit.objects.get(code="SANI")
    assert sani.pk in {row["key"] for row in data["units"]["rows"]}
