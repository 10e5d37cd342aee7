"""Case search (issue 10): every filter of GET /api/v1/cases/ and the /cases/ page, the access
limits (a handler finds only the cases they may see), sorting and keyset pages, the CSV/XLSX
export and saved searches."""

from __future__ import annotations

import csv
import datetime as dt
import io

import pytest
from django.db import connection
from django.db.models import Q
from django.test import Client
from django.utils import timezone
from openpyxl import load_workbook

from workflows.models import Case, CaseStatus, CaseTask, Category, SavedCaseFilter

pytestmark = pytest.mark.django_db

URL = "/api/v1/cases/"


@pytest.fixture
def cases(walk, demo):
    """Five cases: A (garbage, hotline, phone, at SANI in handling), B (manhole, D02, urgent),
    C (garbage, inspector), D (text in the address only), E (closed long ago)."""
    manhole = Category.objects.get(scheme=demo.scheme, kind="component", code="0101")
    a = walk.report(
        description="小区门口堆放垃圾，气味难闻",
        address="东华路12号",
        source="hotline",
        reporter_contact="13800138000",
    )
    walk.to_handling(a["id"])
    b = walk.report(
        category=manhole.pk,
        description="井盖缺失 manhole cover missing",
        address="金融街8号",
        grid="D02-S01-C1-G1",
        urgency="urgent",
        source="public_app",
        reporter_contact="13900139000",
    )
    c = walk.report(description="人行道上暴露垃圾", address="解放路3号")
    d = walk.report(description="路灯不亮", address="垃圾站旁 人民路5号")
    e = walk.report(description="广告乱贴 50% off", address="中山路1号")
    Case.objects.filter(pk=e["id"]).update(
        status=CaseStatus.CLOSED,
        stage="ended",
        created_at=timezone.now() - dt.timedelta(days=40),
        due_at=timezone.now() - dt.timedelta(days=38),
        closed_at=timezone.now() - dt.timedelta(days=39),
    )
    return {"A": a["id"], "B": b["id"], "C": c["id"], "D": d["id"], "E": e["id"]}


def few_task_case_ids(scope) -> list[int] | None:
    """The case ids the few-task form of the search rule reads for `scope`, or None when the
    scope holds more than FEW_TASKS tasks (and the rule probes each case instead)."""
    from workflows import access

    if not access.holds_few_tasks(scope):
        return None
    return sorted({row["case_id"] for row in access._held_case_ids(scope)})


def found(api, username: str, **params) -> list[int]:
    response = api(username).get(URL, {"limit": 100, **params})
    assert response.status_code == 200, response.content
    return [row["id"] for row in response.json()["results"]]


def names(cases: dict, ids: list[int]) -> set[str]:
    by_id = {v: k for k, v in cases.items()}
    return {by_id[i] for i in ids if i in by_id}


def test_free_text_finds_chinese_words_of_any_length_in_description_and_address(api, cases):
    assert names(cases, found(api, "supervisor", q="垃圾")) == {"A", "C", "D"}
    assert names(cases, found(api, "supervisor", q="垃")) == {"A", "C", "D"}
    assert names(cases, found(api, "supervisor", q="堆放垃圾")) == {"A"}
    assert names(cases, found(api, "supervisor", q="东华路")) == {"A"}  # the address
    assert names(cases, found(api, "supervisor", q="垃圾 人民路")) == {"D"}  # every word
    assert names(cases, found(api, "supervisor", q="MANHOLE")) == {"B"}  # any case
    assert names(cases, found(api, "supervisor", q="50%")) == {"E"}  # % is a character
    assert found(api, "supervisor", q="5_%") == []
    assert found(api, "supervisor", q="垃圾 井盖") == []


def test_number_finds_a_case_by_its_number_or_its_start(api, cases):
    number = Case.objects.get(pk=cases["B"]).number
    assert found(api, "supervisor", number=number) == [cases["B"]]
    assert set(found(api, "supervisor", number=number[:4])) == set(cases.values())
    assert found(api, "supervisor", number="1999-") == []


def test_reporter_phone_is_exact_and_only_for_posts_that_see_reporters(api, cases):
    assert found(api, "intake", phone="13800138000") == [cases["A"]]
    assert found(api, "intake", phone="1380013800") == []  # exact, not a prefix
    response = api("supervisor").get(URL, {"phone": "13800138000"})
    assert response.status_code == 400
    assert "phone" in response.json()["error"]["fields"]
    # without the filter the same user lists normally
    assert api("supervisor").get(URL).status_code == 200


def test_category_unit_area_stage_status_source_urgency(api, cases, demo):
    manhole = Case.objects.get(pk=cases["B"]).category_id
    assert found(api, "supervisor", category=manhole) == [cases["B"]]
    assert found(api, "supervisor", unit="SANI") == [cases["A"]]
    assert found(api, "supervisor", unit="MUNI") == []
    # area at any level: district, street, community
    assert found(api, "supervisor", area="D02") == [cases["B"]]
    assert found(api, "supervisor", area="D02-S01") == [cases["B"]]
    assert found(api, "supervisor", area="D02-S01-C1") == [cases["B"]]
    assert cases["B"] not in found(api, "supervisor", area="D01")
    assert found(api, "supervisor", stage="handling") == [cases["A"]]
    assert found(api, "supervisor", status="closed") == [cases["E"]]
    assert found(api, "supervisor", source="public_app") == [cases["B"]]
    assert found(api, "supervisor", urgency="urgent") == [cases["B"]]
    assert names(cases, found(api, "supervisor", source="hotline", q="垃圾")) == {"A"}


def test_sub_units_are_part_of_a_unit(api, cases, demo):
    Case.objects.filter(pk=cases["C"]).update(responsible_unit=demo.org.units["SANI-E"])
    assert set(found(api, "supervisor", unit="SANI")) == {cases["A"], cases["C"]}
    assert found(api, "supervisor", unit="SANI-E") == [cases["C"]]


def test_sla_states(api, cases):
    now = timezone.now()
    Case.objects.filter(pk=cases["A"]).update(due_at=now - dt.timedelta(hours=1))
    Case.objects.filter(pk=cases["B"]).update(
        created_at=now - dt.timedelta(hours=9), due_at=now + dt.timedelta(hours=1)
    )
    Case.objects.filter(pk=cases["C"]).update(
        created_at=now - dt.timedelta(hours=1), due_at=now + dt.timedelta(hours=9)
    )
    assert found(api, "supervisor", sla="overdue") == [cases["A"]]
    assert found(api, "supervisor", sla="at_risk") == [cases["B"]]
    assert found(api, "supervisor", sla="on_track") == [cases["C"]]
    assert found(api, "supervisor", sla="met") == [cases["E"]]
    assert set(found(api, "supervisor", sla="none")) == {cases["D"]}
    Case.objects.filter(pk=cases["E"]).update(closed_at=now - dt.timedelta(days=1))
    assert found(api, "supervisor", sla="missed") == [cases["E"]]
    CaseTask.objects.filter(case_id=cases["A"], stage="handling").update(paused_since=now)
    assert found(api, "supervisor", sla="paused") == [cases["A"]]
    assert found(api, "supervisor", sla="overdue") == []


def test_date_ranges_are_days_of_the_city(api, cases):
    today = timezone.localdate()
    old = timezone.localtime(Case.objects.get(pk=cases["E"]).created_at).date()
    assert cases["E"] not in found(api, "supervisor", reported_after=today.isoformat())
    assert found(api, "supervisor", reported_before=old.isoformat()) == [cases["E"]]
    assert found(
        api, "supervisor", reported_after=old.isoformat(), reported_before=old.isoformat()
    ) == [cases["E"]]
    ended = timezone.localtime(Case.objects.get(pk=cases["E"]).closed_at).date()
    assert found(api, "supervisor", closed_after=ended.isoformat()) == [cases["E"]]


def test_a_handler_finds_only_the_cases_they_may_see(api, cases):
    # handler_sani holds A's handling task; B, C, D, E are not theirs.
    assert found(api, "handler_sani") == [cases["A"]]
    assert found(api, "handler_sani", q="垃圾") == [cases["A"]]
    assert found(api, "handler_sani", q="井盖") == []
    number = Case.objects.get(pk=cases["B"]).number
    assert found(api, "handler_sani", number=number) == []
    assert found(api, "handler_muni", q="垃圾") == []
    # the reporter (inspector, city-wide) finds what they reported
    assert set(found(api, "inspector")) >= {cases["A"], cases["B"], cases["C"]}


def test_sorting_and_keyset_pages_cover_every_case_once(api, cases):
    newest = found(api, "supervisor")
    assert newest[-1] == cases["E"]  # reported 40 days ago
    assert found(api, "supervisor", sort="created") == newest[::-1]
    Case.objects.filter(pk=cases["C"]).update(due_at=timezone.now())
    assert found(api, "supervisor", sort="due")[:2] == [cases["E"], cases["C"]]
    seen, url = [], f"{URL}?limit=2&sort=due"
    while url:
        body = api("supervisor").get(url).json()
        seen += [row["id"] for row in body["results"]]
        url = body["next"]
    assert seen == found(api, "supervisor", sort="due")
    assert len(seen) == len(set(seen)) == 5


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"unit": "NOPE"}, "unit"),
        ({"area": "99999999999999999999"}, "area"),
        ({"stage": "flying"}, "stage"),
        ({"sla": "late"}, "sla"),
        ({"reported_after": "yesterday"}, "reported"),
        ({"sort": "random"}, "sort"),
        ({"category": "abc"}, "category"),
        ({"q": "x" * 101}, "q"),
        ({"cursor": "bm90IGEgY3Vyc29y"}, "cursor"),
        ({"limit": "0"}, "limit"),
    ],
)
def test_bad_filters_are_400_naming_the_field(api, demo, params, field):
    response = api("supervisor").get(URL, params)
    assert response.status_code == 400, response.content
    assert field in response.json()["error"]["fields"]


def test_the_list_needs_the_read_scope_and_reporting_still_needs_report(api, cases):
    rows = api("supervisor").get(URL).json()["results"]
    row = next(r for r in rows if r["id"] == cases["A"])
    assert row["responsible_unit"]["code"] == "SANI"
    assert row["category"]["code"] == "0102"
    assert "reporter_contact" not in row


def test_the_list_reads_a_constant_number_of_queries(api, cases, django_assert_max_num_queries):
    api("supervisor").get(URL)  # token and caches warm
    with django_assert_max_num_queries(8):
        assert len(api("supervisor").get(URL, {"limit": 100}).json()["results"]) == 5


# --- the page, the export, saved searches --------------------------------------------------------


@pytest.fixture
def browser(users):
    def get(username: str) -> Client:
        client = Client()
        client.force_login(users(username))
        return client

    return get


def test_the_page_filters_and_shows_only_visible_cases(browser, cases):
    number_a = Case.objects.get(pk=cases["A"]).number
    number_b = Case.objects.get(pk=cases["B"]).number
    page = browser("intake").get("/cases/", {"phone": "13800138000"})
    assert page.status_code == 200
    assert number_a in page.text and number_b not in page.text
    page = browser("handler_sani").get("/cases/", {"q": "井盖"})
    assert number_b not in page.text
    assert 'name="phone"' not in page.text  # handlers do not search by reporters
    page = browser("handler_sani").get("/cases/", {"phone": "13900139000"})
    assert page.status_code == 400 and number_b not in page.text
    page = browser("supervisor").get("/cases/", {"area": "NOPE"})
    assert page.status_code == 400 and "Unknown unit or area." in page.text


def test_the_page_pages_by_cursor(browser, cases):
    page = browser("supervisor").get("/cases/", {"q": "垃圾"})
    assert page.status_code == 200
    for key in ("A", "C", "D"):
        assert Case.objects.get(pk=cases[key]).number in page.text
    bad = browser("supervisor").get("/cases/", {"cursor": "garbage"})
    assert bad.status_code == 200  # an old link shows the first page


def test_export_csv_and_xlsx_hold_the_filtered_visible_list(browser, cases, settings):
    Case.objects.filter(pk=cases["D"]).update(description="=HYPERLINK(1) 垃圾")
    response = browser("supervisor").get("/cases/export.csv", {"q": "垃圾"})
    assert response.status_code == 200 and response.streaming
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode("utf-8-sig"))))
    assert rows[0][0] == "Case number"
    numbers = {r[0] for r in rows[1:]}
    assert numbers == {Case.objects.get(pk=cases[k]).number for k in "ACD"}
    assert any(r[4].startswith("'=HYPERLINK") for r in rows)  # not run as a formula
    # a handler's export holds only their cases
    response = browser("handler_sani").get("/cases/export.xlsx")
    assert response.status_code == 200
    book = load_workbook(io.BytesIO(b"".join(response.streaming_content)))
    sheet = book.active
    values = [[c.value for c in row] for row in sheet.iter_rows()]
    assert values[0][0] == "Case number"
    assert [v[0] for v in values[1:]] == [Case.objects.get(pk=cases["A"]).number]
    # bounded
    settings.CITYOPS_CASE_EXPORT_MAX = 2
    response = browser("supervisor").get("/cases/export.csv")
    assert len(b"".join(response.streaming_content).decode("utf-8-sig").splitlines()) == 3
    assert browser("supervisor").get("/cases/export.csv", {"sla": "?"}).status_code == 400


def test_saved_searches_are_per_user(browser, cases, users):
    client = browser("handler_sani")
    response = client.post("/cases/saved/", {"name": "我的超期", "query": "sla=overdue&junk=1"})
    assert response.status_code == 302
    saved = SavedCaseFilter.objects.get(user=users("handler_sani"))
    assert saved.query == "sla=overdue"  # only the filters are kept
    assert "我的超期" in client.get("/cases/").text
    assert "我的超期" not in browser("handler_muni").get("/cases/").text
    # the same name replaces; a blank name or no filter is refused
    client.post("/cases/saved/", {"name": "我的超期", "query": "stage=handling"})
    assert SavedCaseFilter.objects.get(pk=saved.pk).query == "stage=handling"
    assert client.post("/cases/saved/", {"name": " ", "query": "stage=handling"}).status_code == 400
    assert client.post("/cases/saved/", {"name": "x", "query": "sla=?"}).status_code == 400
    # someone else cannot delete it; its owner can
    other = browser("handler_muni").post(f"/cases/saved/{saved.pk}/delete/")
    assert other.status_code == 404
    assert client.post(f"/cases/saved/{saved.pk}/delete/").status_code == 302
    assert not SavedCaseFilter.objects.exists()


def test_a_unit_member_gets_their_units_overdue_search(browser, cases):
    page = browser("handler_sani").get("/cases/")
    assert "unit=SANI&amp;status=open&amp;sla=overdue" in page.text


def test_the_openapi_schema_describes_the_filters(api, demo):
    schema = api("supervisor").get("/api/schema/", {"format": "json"}).json()
    operation = schema["paths"]["/api/v1/cases/"]["get"]
    params = {p["name"]: p for p in operation["parameters"]}
    for name in ("q", "number", "phone", "category", "unit", "area", "stage", "status"):
        assert name in params
    for name in ("source", "urgency", "sla", "reported_after", "closed_before", "sort", "cursor"):
        assert name in params
    assert "overdue" in params["sla"]["schema"]["enum"]


@pytest.mark.postgres
def test_free_text_uses_the_ngram_index_on_postgresql(api, cases):
    from workflows.selectors.case_search import text_q

    qs = Case.objects.filter(text_q(["垃圾"])).order_by()
    with connection.cursor() as cursor:  # a table this small is read whole unless told not to
        cursor.execute("SET enable_seqscan = off; SET enable_indexscan = off")
        plan = qs.explain()
        cursor.execute("RESET enable_seqscan; RESET enable_indexscan")
    assert "case_search_ngrams" in plan
    assert {c.pk for c in qs} == {cases["A"], cases["C"], cases["D"]}


# --- the access rule's two forms: the id list (few tasks) and the probe (many) -------------------

ACCOUNTS = ("handler_sani", "handler_muni", "unithead_sani", "intake", "dispatcher", "inspector")
SEARCHES = ({}, {"q": "垃圾"}, {"sort": "due"}, {"status": "open"})


def listings(api) -> dict:
    return {(u, str(p)): found(api, u, **p) for u in ACCOUNTS for p in SEARCHES}


def test_a_post_with_few_tasks_finds_the_same_cases_by_id(api, cases, users, monkeypatch):
    from workflows import access

    # B's intake task is owned by handler_muni, whose posts hold nothing of B: seen as owner.
    CaseTask.objects.filter(case_id=cases["B"]).update(owner=users("handler_muni"))
    scope = access.staff_scope(users("handler_sani"))
    assert few_task_case_ids(scope) == [cases["A"]]
    assert few_task_case_ids(access.staff_scope(users("handler_muni"))) == [cases["B"]]
    by_id = listings(api)
    assert by_id[("handler_muni", "{}")] == [cases["B"]]
    assert by_id[("handler_sani", "{}")] == [cases["A"]]
    monkeypatch.setattr(access, "FEW_TASKS", 0)  # every post with a task probes instead
    assert few_task_case_ids(scope) is None
    assert listings(api) == by_id


def test_the_id_list_is_used_up_to_the_threshold_and_not_beyond(cases, users, monkeypatch):
    from workflows import access

    intake = users("intake")
    scope = access.staff_scope(intake)
    held = CaseTask.objects.filter(scope.task_q() | Q(owner_id=intake.pk))
    tasks, visible = held.count(), sorted(set(held.values_list("case_id", flat=True)))
    assert tasks >= 5
    monkeypatch.setattr(access, "FEW_TASKS", tasks)
    assert few_task_case_ids(scope) == visible
    rule = access.case_search_visibility_q(intake)
    assert "ProbedExists" not in str(rule)
    at_threshold = set(Case.objects.filter(rule).values_list("pk", flat=True))
    monkeypatch.setattr(access, "FEW_TASKS", tasks - 1)
    assert few_task_case_ids(scope) is None
    rule = access.case_search_visibility_q(intake)
    assert "ProbedExists" in str(rule)
    assert set(Case.objects.filter(rule).values_list("pk", flat=True)) == at_threshold
    assert at_threshold == set(visible)


@pytest.mark.postgres
def test_due_soonest_pages_through_prepared_statements_and_its_index(api, cases, users):
    """The project binds parameters on the server and prepares repeated statements: the sort
    and its cursor must work as generic prepared plans, and the index must serve the sort."""
    from django.http import QueryDict

    from workflows.selectors.case_search import case_search as search_of
    from workflows.selectors.case_search import case_search_page

    assert connection.settings_dict["OPTIONS"].get("server_side_binding")
    Case.objects.filter(pk=cases["C"]).update(due_at=timezone.now())
    expected = found(api, "supervisor", sort="due")
    connection.ensure_connection()
    connection.connection.prepare_threshold = 0  # prepare every statement at once
    supervisor = users("supervisor")
    with connection.cursor() as cursor:
        cursor.execute("SET plan_cache_mode = force_generic_plan")
    try:
        for _run in range(3):
            seen, cursor_value = [], None
            while True:
                search = search_of(supervisor, QueryDict("sort=due"))
                assert search.is_valid()
                page = case_search_page(search, cursor=cursor_value, limit=2)
                seen += [case.pk for case in page.rows]
                if page.next_cursor is None:
                    break
                cursor_value = page.next_cursor
            assert seen == expected
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT sum(generic_plans) FROM pg_prepared_statements WHERE statement LIKE %s",
                ['%ORDER BY "workflows_case"."due_sort" ASC%'],
            )
            assert cursor.fetchone()[0] >= 3
    finally:
        with connection.cursor() as cursor:
            cursor.execute("RESET plan_cache_mode")
        connection.connection.prepare_threshold = connection.settings_dict["OPTIONS"].get(
            "prepare_threshold"
        )
    qs = Case.objects.filter(status="open").order_by("due_sort", "id")[:2]
    with connection.cursor() as cursor:  # a table this small is read whole unless told not to
        cursor.execute("SET enable_seqscan = off; SET enable_sort = off")
        plan = qs.explain()
        cursor.execute("RESET enable_seqscan; RESET enable_sort")
    assert "case_status_due_sort" in plan


def test_a_post_counted_as_many_is_not_counted_again_and_finds_the_same(
    cases, users, monkeypatch, django_assert_num_queries
):
    from workflows import access

    intake = users("intake")
    before = set(
        Case.objects.filter(access.case_search_visibility_q(intake)).values_list("pk", flat=True)
    )
    monkeypatch.setattr(access, "FEW_TASKS", 1)
    scope = access.staff_scope(intake)
    assert few_task_case_ids(scope) is None
    with django_assert_num_queries(0):
        assert few_task_case_ids(scope) is None  # the verdict, not another count
    assert (
        set(
            Case.objects.filter(access.case_search_visibility_q(intake)).values_list(
                "pk", flat=True
            )
        )
        == before
    )
    access.forget_task_counts()
    monkeypatch.setattr(access, "FEW_TASKS", 10_000)
    assert few_task_case_ids(scope) is not None
