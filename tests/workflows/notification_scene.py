"""What the notification tests share: an organisation, a case, two people, and the outbox's
pending rows (tests/workflows/test_notifications.py, test_notification_delivery.py)."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.core.mail.backends.locmem import EmailBackend as LocmemBackend
from django.test import Client
from django.utils import timezone
from rest_framework.test import APIClient

from departments.models import Unit, UnitKind
from workflows.models import Case, Category, CategoryScheme, OutboxMessage

User = get_user_model()

# --- fixtures -----------------------------------------------------------------------------------


def _user(username: str, *, email: str | None = None, active: bool = True):
    address = f"{username}@city.test" if email is None else email
    return User.objects.create_user(username, email=address, password="pw", is_active=active)


@pytest.fixture
def org():
    """city → district → street; sanitation → its east station."""
    city = Unit.objects.create(code="C", name="City", kind=UnitKind.CITY)
    district = Unit.objects.create(code="D", name="District", kind=UnitKind.DISTRICT, parent=city)
    street = Unit.objects.create(code="S", name="Street", kind=UnitKind.STREET, parent=district)
    sani = Unit.objects.create(code="SANI", name="Sanitation", kind=UnitKind.HANDLING, parent=city)
    east = Unit.objects.create(code="SANI-E", name="East", kind=UnitKind.HANDLING, parent=sani)
    return dict(city=city, district=district, street=street, sani=sani, east=east)


@pytest.fixture
def case(org):
    scheme = CategoryScheme.objects.create(code="T")
    category = Category.objects.create(
        scheme=scheme,
        kind="event",
        major_code="01",
        major_name="市容",
        code="0102",
        name="暴露垃圾",
        default_unit=org["sani"],
        limit_value=4,
        limit_unit="working_hours",
    )
    return Case.objects.create(
        number="2026-000042",
        city=org["city"],
        category=category,
        description="garbage",
        source="inspector",
        created_at=timezone.now(),
    )


@pytest.fixture
def alice(db):
    return _user("alice")


@pytest.fixture
def bob(db):
    return _user("bob")


def _browser(user) -> Client:
    client = Client(headers={"accept-language": "en"})
    client.force_login(user)
    return client


def _api(user=None) -> APIClient:
    client = APIClient()
    if user is not None:
        client.force_authenticate(user)
    return client


def _pending():
    return OutboxMessage.objects.filter(delivered_at__isnull=True, failed_at__isnull=True)


def _fail_sending(monkeypatch, error: str = "SMTP down") -> None:
    def refuse(self, messages):
        raise ConnectionRefusedError(error)

    monkeypatch.setattr(LocmemBackend, "send_messages", refuse)
