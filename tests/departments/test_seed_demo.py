import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command

from departments.models import CalendarYear, GridCell, Membership, Role, Unit, UnitKind
from workflows.models import Category

pytestmark = pytest.mark.django_db
ACCOUNTS = [
    "admin",
    "inspector",
    "intake",
    "shiftlead",
    "dispatcher",
    "supervisor",
    "handler_sani",
    "unithead_sani",
    "handler_muni",
    "handler_enf",
    "handler_water",
]


def _counts():
    return (
        Unit.objects.count(),
        GridCell.objects.count(),
        Category.objects.count(),
        Membership.objects.count(),
        get_user_model().objects.count(),
    )


def test_seed_demo_builds_the_city_and_is_idempotent(settings):
    settings.DEBUG = True
    call_command("seed_demo", password="pw")
    first = _counts()
    call_command("seed_demo", password="pw")
    assert _counts() == first
    handling = set(Unit.objects.filter(kind=UnitKind.HANDLING).values_list("code", flat=True))
    assert {"WATER", "SANI", "ENF", "MUNI", "GREEN", "POLICE", "HOUSING", "TRANS"} <= handling
    assert Unit.objects.filter(kind=UnitKind.DISTRICT).count() == 2
    assert Unit.objects.filter(kind=UnitKind.STREET).count() >= 4
    assert Unit.objects.filter(kind=UnitKind.CENTRE).count() == 1
    assert GridCell.objects.exclude(polygon=None).count() >= 20
    # the reference rows + the demo's 3-minute one, and the hotline's 30-row category sample
    assert Category.objects.exclude(kind="hotline").count() == 69 + 1
    assert Category.objects.filter(kind="hotline").count() == 30
    assert Unit.objects.filter(kind=UnitKind.HOTLINE).count() == 1
    assert CalendarYear.objects.get(year=2027).provisional
    assert not CalendarYear.objects.get(year=2026).provisional


def test_demo_accounts_log_in_with_their_posts(settings, client):
    settings.DEBUG = True
    call_command("seed_demo", password="pw")
    for username in ACCOUNTS:
        assert client.login(username=username, password="pw"), username
    User = get_user_model()
    assert User.objects.get(username="admin").is_superuser
    sani = Membership.objects.get(user__username="handler_sani")
    assert (sani.unit.code, sani.role, sani.include_subunits) == ("SANI", Role.HANDLER, True)
    assert Membership.objects.filter(user__username="unithead_sani", role=Role.UNIT_HEAD).exists()


def test_demo_password_comes_from_the_environment_setting(settings, client):
    settings.DEBUG = True
    settings.DEMO_PASSWORD = "from-env"
    call_command("seed_demo")
    assert client.login(username="inspector", password="from-env")


def test_refuses_without_debug_unless_forced(settings):
    settings.DEBUG = False
    with pytest.raises(CommandError, match="--force"):
        call_command("seed_demo")
    assert not get_user_model().objects.exists()
    call_command("seed_demo", "--force", password="pw")
    assert get_user_model().objects.filter(username="inspector").exists()


def test_admin_lists_the_demo_data(settings, client):
    settings.DEBUG = True
    call_command("seed_demo", password="pw")
    client.login(username="admin", password="pw")
    pages = {
        "/admin/departments/unit/": "SANI",
        "/admin/departments/gridcell/": "D01-S01-C1-G1",
        "/admin/workflows/category/": "暴露垃圾",
        "/admin/departments/workcalendar/": "示范市工作日历",
        "/admin/departments/membership/": "handler_sani",
    }
    for url, text in pages.items():
        response = client.get(url)
        assert response.status_code == 200, url
        assert text in response.content.decode(), url


def test_the_demo_city_speaks_chinese_only(settings):
    """The demo's own texts (requests, replies, notes, addresses, categories) are Chinese, not
    Chinese followed by an English gloss: the English interface translates the interface, not
    the city's data, and the Chinese one must not show English."""
    import re

    from workflows.models import Case, HotlineOrder

    settings.DEBUG = True
    call_command("seed_demo", password="pw")
    english = re.compile(r"[A-Za-z]{4,}")
    texts = []
    for case in Case.objects.all():
        texts += [case.description, case.address]
    for order in HotlineOrder.objects.all():
        texts += [order.answer, order.reply_text, order.callback_notes]
    for category in Category.objects.all():
        texts += [category.name, category.major_name, category.filing_conditions]
    assert HotlineOrder.objects.exists() and Case.objects.exists()
    mixed = sorted({text for text in texts if text and english.search(text)})
    assert mixed == []


def test_some_demo_cases_come_from_citizens_who_can_be_found_by_phone(settings, client):
    """A clerk trying the demo can look a case up by the reporter's phone."""
    from workflows.models import Case

    settings.DEBUG = True
    call_command("seed_demo", password="pw")
    reported = Case.objects.exclude(reporter_contact="").filter(source="public_app")
    assert reported.count() >= 3
    case = reported.order_by("pk").first()
    assert client.login(username="intake", password="pw")
    page = client.get("/cases/", {"phone": case.reporter_contact}).content.decode()
    assert case.number in page
