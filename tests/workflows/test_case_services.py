"""Services of the case loop: reporting, numbering, routing, photos, second-level dispatch."""

from types import SimpleNamespace

import pytest
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from viewflow.workflow.models import Task as FlowTask

from departments.demo import seed_accounts, seed_organisation
from departments.models import GridCell, Unit
from departments.reference import reference_changed
from workflows.demo import _png
from workflows.models import Case, CaseEvent, CaseTask, Category, RoutingRule, TaskStatus
from workflows.services.cases import CaseReport, case_report
from workflows.services.errors import Conflict, Http404
from workflows.services.outcomes import task_complete
from workflows.services.routing import route_suggest
from workflows.services.tasks import task_claim, task_subdispatch

pytestmark = pytest.mark.django_db
GRID = "D01-S01-C1-G1"


@pytest.fixture
def city():
    org = seed_organisation()
    seed_accounts("pw")
    from workflows.models import CategoryScheme

    scheme = CategoryScheme.objects.create(code="T")
    org.city.category_scheme = scheme
    org.city.save()

    def make(code, unit):
        return Category.objects.create(
            scheme=scheme,
            kind="event",
            major_code=code[:2],
            major_name="m",
            code=code,
            name=f"c{code}",
            default_unit=Unit.objects.get(code=unit) if unit else None,
            limit_value=4,
            limit_unit="working_hours",
        )

    return SimpleNamespace(garbage=make("0102", "SANI"), orphan=make("0199", None), org=org)


def user(name):
    return get_user_model().objects.get(username=name)


def report(category, **kw):
    fields = {"description": "d", "source": "inspector", "grid": GRID, **kw}
    return case_report(actor=user("inspector"), report=CaseReport(category=category.pk, **fields))


def walk(case, *steps):
    for username, outcome, data in steps:
        task = CaseTask.objects.get(case=case, status=TaskStatus.OPEN)
        task_claim(actor=user(username), task=task)
        photos = [SimpleUploadedFile("a.png", _png())] if outcome == "done" else []
        task_complete(actor=user(username), task=task, outcome=outcome, data=data, photos=photos)


def test_numbers_are_sequential_per_year(city):
    a, b = report(city.garbage), report(city.garbage)
    year = a.created_at.astimezone().year
    assert a.number == f"{year}-000001" and b.number == f"{year}-000002"


def test_location_by_point_finds_the_grid_cell_and_area(city):
    cell = GridCell.objects.get(code=GRID)
    case = report(city.garbage, grid=None, lat=cell.centre_lat, lng=cell.centre_lng)
    assert case.grid == cell and case.area == cell.area and case.city == city.org.city


@pytest.mark.parametrize(
    "fields, error",
    [
        ({"grid": None}, "location"),
        ({"grid": None, "lat": 10.0, "lng": 10.0}, "location"),
        ({"grid": "NOPE"}, "grid"),
        ({"description": "   "}, "description"),
        ({"photos": [SimpleUploadedFile("x.png", b"not an image")]}, "photos"),
    ],
)
def test_bad_reports_save_nothing(city, fields, error):
    with pytest.raises(ValidationError) as exc:
        report(city.garbage, **fields)
    assert error in exc.value.message_dict
    assert not Case.objects.exists() and not CaseEvent.objects.exists()


def test_category_outside_the_active_scheme_is_refused(city):
    from workflows.models import CategoryScheme

    other = Category.objects.create(
        scheme=CategoryScheme.objects.create(code="OTHER"),
        kind="event",
        major_code="01",
        major_name="m",
        code="0101",
        name="x",
        limit_value=1,
        limit_unit="working_days",
    )
    with pytest.raises(ValidationError, match="category"):
        report(other)


def test_oversized_photo_is_refused(city, settings):
    settings.CITYOPS_PHOTO_MAX_BYTES = 10
    with pytest.raises(ValidationError, match="larger"):
        report(city.garbage, photos=[SimpleUploadedFile("a.png", _png())])


def test_routing_most_specific_rule_wins_and_is_recorded(city):
    case = report(city.garbage)
    assert route_suggest(case).basis == "category_default"
    area = case.area
    street, district = area.parent, area.parent.parent
    muni, enf, green = (Unit.objects.get(code=c) for c in ("MUNI", "ENF", "GREEN"))
    RoutingRule.objects.create(area=district, unit=green)  # any category in the district
    assert route_suggest(case).unit == green
    RoutingRule.objects.create(category=city.garbage, area=district, unit=muni)
    assert route_suggest(case).unit == muni  # a category beats any category
    rule = RoutingRule.objects.create(category=city.garbage, area=street, unit=enf)
    suggestion = route_suggest(case)
    assert (suggestion.unit, suggestion.rule, suggestion.basis) == (enf, rule, "rule")
    RoutingRule.objects.create(category=city.garbage, grid=case.grid, unit=green)
    assert route_suggest(case).unit == green  # the grid cell is most specific
    RoutingRule.objects.filter(grid=case.grid).update(is_active=False)
    reference_changed()  # a bulk update sends no signal (as another process's write)
    assert route_suggest(case).unit == enf

    walk(case, ("intake", "accept", {}), ("shiftlead", "file", {}))
    dispatch = CaseTask.objects.get(case=case, stage="dispatch")
    assert dispatch.payload["rule"] == rule.pk and dispatch.payload["suggested_unit_code"] == "ENF"


def test_without_rule_or_default_the_dispatcher_must_choose(city):
    case = report(city.orphan)
    walk(case, ("intake", "accept", {}), ("shiftlead", "file", {}))
    task = task_claim(
        actor=user("dispatcher"), task=CaseTask.objects.get(case=case, stage="dispatch")
    )
    assert task.payload["basis"] == "none"
    with pytest.raises(ValidationError, match="unit"):
        task_complete(actor=user("dispatcher"), task=task, outcome="dispatch", data={})
    task_complete(actor=user("dispatcher"), task=task, outcome="dispatch", data={"unit": "WATER"})
    case.refresh_from_db()
    assert case.responsible_unit.code == "WATER" and case.stage == "handling"


def test_second_level_dispatch_by_the_unit_head(city):
    case = report(city.garbage)
    walk(case, ("intake", "accept", {}), ("shiftlead", "file", {}), ("dispatcher", "dispatch", {}))
    task = CaseTask.objects.get(case=case, stage="handling")
    station = Unit.objects.get(code="SANI-E")
    with pytest.raises(Conflict):
        task_subdispatch(actor=user("handler_sani"), task=task, unit=station)
    with pytest.raises(ValidationError):
        task_subdispatch(actor=user("unithead_sani"), task=task, unit=Unit.objects.get(code="MUNI"))
    task_subdispatch(actor=user("unithead_sani"), task=task, unit=station)
    task.refresh_from_db()
    assert task.unit == station
    event = CaseEvent.objects.get(case=case, action="subdispatch")
    assert event.payload == {"from_unit": station.parent_id, "to_unit": station.pk}
    walk(case, ("handler_sani", "done", {"result": "ok"}))
    case.refresh_from_db()
    assert case.stage == "check" and case.responsible_unit.code == "SANI"


def test_rework_goes_back_to_the_same_unit_and_is_counted(city):
    case = report(city.garbage)
    walk(
        case,
        ("intake", "accept", {}),
        ("shiftlead", "file", {}),
        ("dispatcher", "dispatch", {"unit": "ENF"}),
        ("handler_enf", "done", {"result": "x"}),
        ("inspector", "fail", {"reason": "still there"}),
    )
    case.refresh_from_db()
    handling = CaseTask.objects.filter(case=case, stage="handling").order_by("created_at")
    assert case.rework_count == 1 and case.stage == "handling"
    assert [t.unit.code for t in handling] == ["ENF", "ENF"]


def test_closing_with_a_chosen_archive_type_needs_a_reason(city):
    case = report(city.garbage)
    walk(
        case,
        ("intake", "accept", {}),
        ("shiftlead", "file", {}),
        ("dispatcher", "dispatch", {}),
        ("handler_sani", "done", {"result": "x"}),
        ("inspector", "pass", {}),
    )
    task = task_claim(
        actor=user("shiftlead"), task=CaseTask.objects.get(case=case, status=TaskStatus.OPEN)
    )
    for data in ({"archive_type": "special"}, {"archive_type": "overdue", "reason": "r"}):
        with pytest.raises(ValidationError):
            task_complete(actor=user("shiftlead"), task=task, outcome="close", data=data)
    task_complete(
        actor=user("shiftlead"),
        task=task,
        outcome="close",
        data={"archive_type": "special", "reason": "上级交办"},
    )
    case.refresh_from_db()
    assert (case.status, case.stage, case.archive_type) == ("closed", "ended", "special")
    assert case.process.status == "DONE"
    # viewflow's rows as viewflow would leave them: typed, done, each linked to the one before.
    rows = list(FlowTask.objects.filter(process_id=case.process_id).order_by("pk"))
    assert [r.flow_task_type for r in rows] == ["START", *["HUMAN"] * 6, "END"]
    assert all(r.status == "DONE" and r.finished is not None for r in rows)
    assert [list(r.previous.all()) for r in rows[1:]] == [[r] for r in rows[:-1]]


def test_unit_head_sees_the_units_cases_and_handling_tasks_but_cannot_claim(city):
    from workflows.access import can_view_case
    from workflows.selectors.tasks import task_for_user

    case = report(city.garbage)
    head = user("unithead_sani")
    assert not can_view_case(head, case)
    walk(case, ("intake", "accept", {}), ("shiftlead", "file", {}), ("dispatcher", "dispatch", {}))
    case.refresh_from_db()
    task = CaseTask.objects.get(case=case, stage="handling")
    assert can_view_case(head, case)
    assert task_for_user(head, task.pk) == task
    assert task_for_user(user("handler_muni"), task.pk) is None
    with pytest.raises(Http404):
        task_claim(actor=head, task=task)
