"""Case search by number (issue 10): a number or its start lists the cases by number, newest
number first, in the API list, on the page and in the export alike; keyset pages follow the
number; access limits are those of every search; on PostgreSQL the number's index serves the
prefix and the order, also through generic prepared plans."""

from __future__ import annotations

import csv
import datetime as dt
import io

import pytest
from django.db import connection
from django.utils import timezone

from workflows.models import Case

from . import test_case_search as search_tests
from .test_case_search import URL, found

cases, browser = search_tests.cases, search_tests.browser  # the fixtures of the search tests

pytestmark = pytest.mark.django_db


@pytest.fixture
def numbered(cases):
    """The five cases numbered out of their report order: by number (newest first) they are
    C, A, E, D, B, which neither the report time nor the id gives. Another year's case (X) does
    not share the prefix."""
    year = timezone.localdate().year
    order = {"B": 7, "D": 12, "E": 40, "A": 41, "C": 300}
    now = timezone.now()
    created = {"B": 1, "D": 2, "A": 3, "C": 4, "E": 5}  # days ago
    for key, seq in order.items():
        Case.objects.filter(pk=cases[key]).update(
            number=f"{year}-{seq:06d}", created_at=now - dt.timedelta(days=created[key])
        )
    return {"prefix": f"{year}-", "by_number": [cases[k] for k in ("C", "A", "E", "D", "B")]}


def test_a_number_search_lists_by_number_newest_first(api, cases, numbered):
    by_number = numbered["by_number"]
    assert found(api, "supervisor", number=numbered["prefix"]) == by_number
    # "Oldest first" is by number too; "Due soonest" stays by due time.
    assert found(api, "supervisor", number=numbered["prefix"], sort="created") == by_number[::-1]
    Case.objects.filter(pk=cases["D"]).update(due_at=timezone.now())
    due = found(api, "supervisor", number=numbered["prefix"], sort="due")
    assert due[:2] == [cases["E"], cases["D"]]  # E (closed) was due 38 days ago
    # a longer prefix: 0000 matches B, D (000007, 000012) and E, A (000040, 000041)
    prefix = numbered["prefix"] + "0000"
    assert found(api, "supervisor", number=prefix) == [
        cases["A"],
        cases["E"],
        cases["D"],
        cases["B"],
    ]
    assert found(api, "supervisor", number=prefix + "4") == [cases["A"], cases["E"]]
    # without a number the list stays newest first by report time
    assert found(api, "supervisor")[:2] == [cases["B"], cases["D"]]


def test_number_pages_follow_the_number_across_pages(api, cases, numbered):
    for sort in ("", "created"):
        seen, url = [], f"{URL}?limit=2&number={numbered['prefix']}&sort={sort}"
        while url:
            body = api("supervisor").get(url).json()
            seen += [row["id"] for row in body["results"]]
            url = body["next"]
        expected = numbered["by_number"] if sort == "" else numbered["by_number"][::-1]
        assert seen == expected


def test_a_cursor_of_another_sort_is_refused(api, cases, numbered):
    body = api("supervisor").get(URL, {"limit": 2}).json()  # a report-time cursor
    created_cursor = body["next"].split("cursor=")[1].split("&")[0]
    response = api("supervisor").get(URL, {"number": numbered["prefix"], "cursor": created_cursor})
    assert response.status_code == 400
    assert "cursor" in response.json()["error"]["fields"]
    body = api("supervisor").get(URL, {"limit": 2, "number": numbered["prefix"]}).json()
    number_cursor = body["next"].split("cursor=")[1].split("&")[0]
    assert api("supervisor").get(URL, {"cursor": number_cursor}).status_code == 400


def test_the_page_and_the_export_list_by_number_like_the_api(browser, cases, numbered):
    numbers = dict(Case.objects.values_list("pk", "number"))
    expected = [numbers[pk] for pk in numbered["by_number"]]
    page = browser("supervisor").get("/cases/", {"number": numbered["prefix"]})
    assert page.status_code == 200
    positions = [page.text.index(n) for n in expected]
    assert positions == sorted(positions)
    response = browser("supervisor").get("/cases/export.csv", {"number": numbered["prefix"]})
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode("utf-8-sig"))))
    assert [r[0] for r in rows[1:]] == expected


def test_a_number_search_finds_only_visible_cases(api, browser, cases, numbered):
    # handler_sani holds A's handling task only: the prefix of every case finds A alone.
    assert found(api, "handler_sani", number=numbered["prefix"]) == [cases["A"]]
    assert found(api, "handler_muni", number=numbered["prefix"]) == []
    response = browser("handler_sani").get("/cases/export.csv", {"number": numbered["prefix"]})
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode("utf-8-sig"))))
    assert [r[0] for r in rows[1:]] == [Case.objects.get(pk=cases["A"]).number]
    # the reporter (inspector) finds what they reported, in number order
    mine = found(api, "inspector", number=numbered["prefix"])
    assert mine == [pk for pk in numbered["by_number"] if pk in mine]
    assert set(mine) >= {cases["A"], cases["B"], cases["C"]}


def generic_plan(qs) -> str:
    """EXPLAIN of the queryset's statement as a generic prepared plan (no parameter values
    known when planning, which is what a statement prepared by the server uses)."""
    from psycopg import sql

    text, params = qs.query.sql_with_params()
    parts = text.split("%s")
    numbered = parts[0] + "".join(f"${i}{part}" for i, part in enumerate(parts[1:], 1))
    values = sql.SQL(", ").join(sql.Literal(v) for v in params)
    with connection.cursor() as cursor:
        cursor.execute("PREPARE number_page AS " + numbered.replace("%%", "%"))
        cursor.execute("SET plan_cache_mode = force_generic_plan")
        cursor.execute("SET enable_seqscan = off")  # a table this small is read whole otherwise
        cursor.execute("SET enable_sort = off")
        try:
            explain = sql.SQL("EXPLAIN EXECUTE number_page({})").format(values)
            cursor.execute(explain.as_string(connection.connection))
            return "\n".join(row[0] for row in cursor.fetchall())
        finally:
            for setting in ("plan_cache_mode", "enable_seqscan", "enable_sort"):
                cursor.execute(f"RESET {setting}")
            cursor.execute("DEALLOCATE number_page")


@pytest.mark.postgres
def test_the_number_index_serves_prefix_and_order_in_a_generic_plan(users, cases, numbered):
    """The project binds parameters on the server: a LIKE pattern bound as a parameter is not
    turned into an index range in a generic plan, the range written out is."""
    from django.http import QueryDict

    from workflows.selectors.case_search import _ordered, case_search, case_search_page

    supervisor = users("supervisor")
    seen, cursor_value = [], None
    while True:
        search = case_search(supervisor, QueryDict(f"number={numbered['prefix']}"))
        assert search.is_valid()
        page = case_search_page(search, cursor=cursor_value, limit=2)
        seen += [case.pk for case in page.rows]
        if page.next_cursor is None:
            break
        cursor_value = page.next_cursor
    assert seen == numbered["by_number"]
    search = case_search(users("intake"), QueryDict(f"number={numbered['prefix']}0"))
    assert search.is_valid()
    lines = generic_plan(_ordered(search)[:26]).splitlines()
    scan = next(i for i, line in enumerate(lines) if "using case_number_c" in line)
    assert "Index Scan Backward" in lines[scan]  # the order, newest number first
    assert "Index Cond" in lines[scan + 1] and ">=" in lines[scan + 1]  # the prefix as a range
    assert not any(line.strip().startswith("->  Sort") for line in lines)
