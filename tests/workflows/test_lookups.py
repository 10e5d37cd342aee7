"""The one id-or-code parser (workflows.selectors.lookups) and the lookups built on it."""

import pytest

from departments.models import Unit
from workflows.models import Case
from workflows.selectors.lookups import MAX_DB_ID, case_by_ref, parse_id, parse_ref, unit_by_ref


@pytest.mark.parametrize(
    ("ref", "parsed"),
    [
        ("42", 42),
        (42, 42),
        (" 42 ", 42),
        ("007", 7),
        ("SANI", "SANI"),
        (" SANI-1 ", "SANI-1"),
        ("2026-000123", "2026-000123"),
        (str(MAX_DB_ID), MAX_DB_ID),
        # Not ids: Unicode digits are digits to Python, not to the database.
        ("²", "²"),
        ("٤٢", "٤٢"),
        ("-5", "-5"),
        ("4.2", "4.2"),
        # Nothing to look up: blank, or an id no row can have.
        ("", None),
        ("   ", None),
        (None, None),
        ("0", None),
        (str(MAX_DB_ID + 1), None),
        ("9" * 40, None),
    ],
)
def test_parse_ref(ref, parsed):
    assert parse_ref(ref) == parsed
    assert type(parse_ref(ref)) is type(parsed)


def test_parse_id_takes_ids_only():
    assert parse_id("17") == 17
    assert parse_id("SANI") is None
    assert parse_id("²") is None
    assert parse_id(str(2**63)) is None
    assert parse_id("") is None


@pytest.mark.django_db
def test_unit_by_ref_finds_by_id_or_code_among_active_units(demo):
    sani = Unit.objects.get(code="SANI")
    assert unit_by_ref("SANI") == sani
    assert unit_by_ref(str(sani.pk)) == sani
    assert unit_by_ref(f" {sani.pk} ") == sani
    for nothing in ("", "NOPE", "²", str(2**63), "999999999"):
        assert unit_by_ref(nothing) is None, nothing
    Unit.objects.filter(pk=sani.pk).update(is_active=False)
    assert unit_by_ref("SANI") is None
    assert unit_by_ref("SANI", queryset=Unit.objects.all()) == sani


@pytest.mark.django_db
def test_case_by_ref_finds_by_id_or_number(demo, walk):
    case = Case.objects.get(pk=walk.report()["id"])
    assert case_by_ref(case.number) == case
    assert case_by_ref(str(case.pk)) == case
    assert case_by_ref(case.pk) == case
    assert case_by_ref("2026-999999") is None
    assert case_by_ref(str(2**64)) is None
    assert case_by_ref(case.number, queryset=Case.objects.exclude(pk=case.pk)) is None
