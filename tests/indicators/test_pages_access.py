"""Pages, exports and API: a unit head sees only their unit's figures and drill-downs, a
supervisor sees all; every number links to the cases it counts; bad input is a 400."""

import re

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from rest_framework.test import APIClient

from departments.models import Membership, Role, Unit
from indicators.demo import seed_history
from indicators.models import Fact
from indicators.rollup import rollup_rebuild
from workflows.integrations.keys import api_key_issue

pytestmark = pytest.mark.django_db


@pytest.fixture
def city(history):
    """History for SANI (with its stations) and a MUNI unit head."""
    seed_history(days=20, per_day=(6, 8))
    muni = Unit.objects.get(code="MUNI")
    head = get_user_model().objects.create_user("unithead_muni", password="pw")
    Membership.objects.create(user=head, unit=muni, role=Role.UNIT_HEAD, include_subunits=True)
    # Give MUNI a few facts of its own: move some SANI assignments to MUNI.
    latest = Fact.objects.filter(kind="assignment").order_by("-at")
    some = list(latest.values_list("case_id", flat=True)[:3])
    Fact.objects.filter(case_id__in=some, unit_id__isnull=False).update(unit_id=muni.pk)
    rollup_rebuild(apply=True)  # facts edited by hand: the rollup follows them
    return history


def client(username):
    c = Client()
    assert c.login(username=username, password="pw")
    return c


def month_of_history():
    day = Fact.objects.order_by("-day").first().day
    return f"{day:%Y-%m}"


def test_supervisor_sees_every_unit_and_numbers_open_their_cases(city):
    page = client("supervisor").get(f"/indicators/?period=month&key={month_of_history()}")
    assert page.status_code == 200
    html = page.content.decode()
    assert "环卫处" in html and "市政处" in html
    links = re.findall(r'href="(/indicators/cases/\?[^"]+)"', html)
    assert links
    first = client("supervisor").get(links[0].replace("&amp;", "&"))
    assert first.status_code == 200 and "/cases/" in first.content.decode()


def test_unit_head_sees_only_their_unit_in_pages_exports_and_drill_down(city):
    month = month_of_history()
    muni = client("unithead_muni")
    html = muni.get(f"/indicators/?period=month&key={month}").content.decode()
    assert "市政处" in html and "环卫处" not in html
    csv = muni.get(f"/indicators/?period=month&key={month}&export=csv").content.decode()
    assert "市政处" in csv and "环卫处" not in csv
    sani = Unit.objects.get(code="SANI")
    drill = muni.get(
        f"/indicators/cases/?count=handling_due&period=month&key={month}&group=unit&value={sani.pk}"
    )
    assert drill.status_code == 200  # but no SANI case is listed for MUNI's head
    assert not re.search(r'href="/cases/\d+/"', drill.content.decode())
    everyone = client("supervisor").get(
        f"/indicators/cases/?count=handling_due&period=month&key={month}&group=unit&value={sani.pk}"
    )
    assert re.search(r'href="/cases/\d+/"', everyone.content.decode())


def test_staff_without_a_kpi_post_get_404_and_home_redirects(city):
    assert client("handler_sani").get("/indicators/").status_code == 404
    assert client("handler_sani").get("/screen/").status_code == 404
    assert client("supervisor").get("/")["Location"] == "/indicators/"
    assert client("intake").get("/")["Location"] == "/tasks/"


@pytest.mark.parametrize(
    "url",
    [
        "/indicators/?period=bogus",
        "/indicators/?period=month&key=2026-13",
        "/indicators/?period=custom&from=2026-02-01&to=2026-01-01",
        "/indicators/?unit=abc",
        "/indicators/cases/?count=nope",
        "/indicators/cases/?count=handled&group=nope",
        "/indicators/cases/?count=handled&cursor=garbage",
        "/indicators/bulletin/?month=x",
    ],
)
def test_bad_input_is_a_clear_400(city, url):
    response = client("supervisor").get(url)
    assert response.status_code == 400


def test_other_pages_and_files(city):
    c = client("supervisor")
    month = month_of_history()
    for url in [
        "/indicators/dictionary/",
        "/indicators/bottlenecks/",
        "/screen/",
        "/indicators/analysis/?group=major&chart=pie",
        f"/indicators/bulletin/?month={month}",
    ]:
        assert c.get(url).status_code == 200, url
    pdf = c.get(f"/indicators/bulletin/?month={month}&format=pdf")
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    xlsx = c.get(f"/indicators/bulletin/?month={month}&format=xlsx")
    assert xlsx.content.startswith(b"PK")
    from io import BytesIO

    from openpyxl import load_workbook

    headline = load_workbook(BytesIO(xlsx.content)).worksheets[0]
    figures = [row[1] for row in headline.iter_rows(min_row=2, values_only=True)]
    assert figures and all(isinstance(v, int | float) or v == "—" for v in figures)  # numbers
    data = c.get("/screen/data/").json()
    assert {"today", "recent", "map", "overdue_by_unit"} <= set(data)


def test_api_values_follow_the_same_rules_and_need_the_scope(city):
    month = month_of_history()
    query = f"indicator=handling_rate,handled&object=unit&period=month&key={month}"
    sup = APIClient()
    sup.force_authenticate(get_user_model().objects.get(username="supervisor"))
    rows = sup.get(f"/api/v1/indicators/values/?{query}").json()["rows"]
    sani, muni = Unit.objects.get(code="SANI"), Unit.objects.get(code="MUNI")
    assert {sani.pk, muni.pk} <= {r["key"] for r in rows}
    head = APIClient()
    head.force_authenticate(get_user_model().objects.get(username="unithead_muni"))
    rows = head.get(f"/api/v1/indicators/values/?{query}").json()["rows"]
    muni_units = set(Unit.objects.filter(code__startswith="MUNI").values_list("pk", flat=True))
    assert rows and {r["key"] for r in rows} <= muni_units
    bad = sup.get("/api/v1/indicators/values/?indicator=nope")
    assert bad.status_code == 400 and "error" in bad.json()
    assert sup.get("/api/v1/indicators/").status_code == 200
    admin = get_user_model().objects.get(username="admin")
    _key, secret = api_key_issue(actor=admin, name="bi", scopes=["cases:read"])
    keyed = APIClient()
    keyed.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")
    assert keyed.get("/api/v1/indicators/").status_code == 403
    city_unit = Unit.objects.get(code="DEMO")
    _key, secret = api_key_issue(
        actor=admin, name="bi", scopes=["indicators:read"], unit=city_unit, role=Role.SUPERVISOR
    )
    keyed.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")
    assert keyed.get(f"/api/v1/indicators/values/?{query}").status_code == 200
    cases = keyed.get(f"/api/v1/indicators/cases/?count=handled&period=month&key={month}")
    assert cases.status_code == 200


def test_period_pickers_and_the_bulletin_name_things_in_the_language(city):
    """The period kinds are named (月, not "month"), and the bulletin's indicator versions
    name the indicators (上报数 v1), not their codes."""
    supervisor = client("supervisor")
    supervisor.cookies["django_language"] = "zh-hans"
    month = month_of_history()
    for url in (f"/indicators/?period=month&key={month}", "/indicators/analysis/"):
        html = supervisor.get(url).content.decode()
        assert '<option value="month" selected>月</option>' in html
        assert ">month<" not in html and ">custom<" not in html
    bulletin = supervisor.get(f"/indicators/bulletin/?month={month}").content.decode()
    versions = bulletin.split("所用指标版本：")[1]
    assert "上报数 v1" in versions and "reported v1" not in versions
