"""Changing the registry: the built-in definitions synced from data, derived indicators added by
an admin without code, and every change of definition kept as a new version."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from .models import Direction, Indicator, IndicatorVersion, MeasureUnit
from .registry import FormulaError, builtin_data, formula_check

DEFINITION_FIELDS = (
    "name_zh",
    "name_en",
    "definition_zh",
    "definition_en",
    "formula",
    "unit",
    "direction",
    "owner",
)


def _definition(indicator: Indicator) -> dict:
    return {name: getattr(indicator, name) for name in DEFINITION_FIELDS}


def indicator_save(
    *, code: str, definition: dict, actor=None, note: str = "", builtin: bool = False
) -> Indicator:
    """Create an indicator or change its definition: a different definition is a new
    version (the old one is kept); the same definition changes nothing. FormulaError or
    ValueError on bad input, nothing saved."""
    definition = {k: definition.get(k, "") for k in DEFINITION_FIELDS}
    definition["formula"] = formula_check(definition["formula"])
    if definition["unit"] not in MeasureUnit.values:
        raise FormulaError(_("Unknown unit."))
    if definition["direction"] not in Direction.values:
        raise FormulaError(_("Unknown direction."))
    if not code or not definition["name_zh"] or not definition["name_en"]:
        raise FormulaError(_("Give the code and both names."))
    with transaction.atomic():
        indicator = Indicator.objects.select_for_update().filter(code=code).first()
        if indicator is not None and _definition(indicator) == definition:
            return indicator
        if indicator is None:
            indicator = Indicator(code=code, builtin=builtin, version=1, **definition)
        else:
            for name, value in definition.items():
                setattr(indicator, name, value)
            indicator.version += 1
        indicator.save()
        IndicatorVersion.objects.create(
            indicator=indicator,
            version=indicator.version,
            definition=definition,
            note=note,
            changed_by=actor if getattr(actor, "is_authenticated", False) else None,
            created_at=timezone.now(),
        )
    return indicator


def registry_sync() -> int:
    """The built-in indicators from data/indicators.json (idempotent); returns how many
    were created or given a new version."""
    changed = 0
    for position, item in enumerate(builtin_data()["indicators"]):
        before = Indicator.objects.filter(code=item["code"]).values_list("version", flat=True)
        indicator = indicator_save(
            code=item["code"],
            definition={"owner": "指挥中心 Command centre", **item},
            note="kpi.md",
            builtin=True,
        )
        if indicator.position != position:
            Indicator.objects.filter(pk=indicator.pk).update(position=position)
        changed += list(before) != [indicator.version]
    return changed
