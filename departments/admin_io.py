"""Import and export in the admin (django-import-export) of the same master data, in the same
columns as the commands (departments.masterdata): units (code, name, kind, parent), staff
posts (username, name, unit, role, include_subunits) and grid cells (GeoJSON, or a table).

The admin shows a preview and imports nothing while any row has an error (transactions; every
instance is validated with full_clean, so kinds, roles and the grid's areas are checked).
"""

from __future__ import annotations

import json
from typing import Any

import tablib
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.contrib.auth.validators import UnicodeUsernameValidator
from django.utils.translation import gettext as _
from import_export import fields, resources, widgets
from import_export.admin import ImportExportModelAdmin
from import_export.formats import base_formats

from cityops.tabular import RowsRejected, parse_flag

from .geojson import FeatureError, cell_fields, feature_list, make_feature
from .masterdata import STAFF_COLUMNS, UNIT_COLUMNS
from .models import GridCell, Membership, Unit
from .selectors import unit_tree

GRID_COLUMNS = ("code", "name", "area", "polygon", "centre_lat", "centre_lng")


class YesNoWidget(widgets.Widget):
    """include_subunits as the commands write it: yes / no (also true/false, 1/0, 是/否)."""

    def clean(self, value, row=None, **kwargs) -> bool:
        flag = parse_flag(str(value if value is not None else ""))
        if flag is None:
            raise ValueError(_("include_subunits “%(value)s” must be yes or no") % {"value": value})
        return flag

    def render(self, value, obj=None, **kwargs) -> str:
        return "yes" if value else "no"


class _Options:
    """Every master-data resource: unchanged rows skipped and shown, instances validated."""

    skip_unchanged = True
    report_skipped = True
    clean_model_instances = True


class UnitResource(resources.ModelResource):
    parent = fields.Field(
        attribute="parent", column_name="parent", widget=widgets.ForeignKeyWidget(Unit, "code")
    )

    class Meta(_Options):
        model = Unit
        fields = export_order = UNIT_COLUMNS
        import_id_fields = ("code",)

    def filter_export(self, queryset, **kwargs):
        """Parents before their children, so the file imports into an empty database."""
        wanted = set(queryset.values_list("pk", flat=True))
        return [unit for unit, _depth in unit_tree(active_only=False) if unit.pk in wanted]


class StaffResource(resources.ModelResource):
    username = fields.Field(
        attribute="user",
        column_name="username",
        widget=widgets.ForeignKeyWidget(get_user_model(), "username"),
    )
    name = fields.Field(column_name="name", readonly=True)
    unit = fields.Field(
        attribute="unit", column_name="unit", widget=widgets.ForeignKeyWidget(Unit, "code")
    )
    include_subunits = fields.Field(
        attribute="include_subunits", column_name="include_subunits", widget=YesNoWidget()
    )

    class Meta(_Options):
        model = Membership
        fields = export_order = STAFF_COLUMNS
        import_id_fields = ("username", "unit", "role")

    def dehydrate_name(self, membership: Membership) -> str:
        return membership.user.get_full_name()

    def before_import_row(self, row, **kwargs) -> None:
        """A person not known yet is created (no usable password); a changed name is kept."""
        username = str(row.get("username") or "").strip()
        name = str(row.get("name") or "").strip()
        if not username:
            return  # the username field reports it
        UnicodeUsernameValidator()(username)
        user, created = get_user_model().objects.get_or_create(
            username=username, defaults={"first_name": name, "password": make_password(None)}
        )
        if not created and user.get_full_name() != name:
            user.first_name, user.last_name = name, ""
            user.save(update_fields=["first_name", "last_name"])

    def filter_export(self, queryset, **kwargs):
        return queryset.select_related("user", "unit").order_by(
            "user__username", "unit__code", "role"
        )


class GridResource(resources.ModelResource):
    area = fields.Field(
        attribute="area", column_name="area", widget=widgets.ForeignKeyWidget(Unit, "code")
    )
    polygon = fields.Field(attribute="polygon", column_name="polygon", widget=widgets.JSONWidget())

    class Meta(_Options):
        model = GridCell
        fields = export_order = GRID_COLUMNS
        import_id_fields = ("code",)

    def filter_export(self, queryset, **kwargs):
        return queryset.select_related("area").order_by("code")


class GeoJSONFormat(base_formats.Format):
    """Grid cells as a GeoJSON FeatureCollection, read and written by departments.geojson."""

    def __init__(self, encoding: str | None = None) -> None:
        self.encoding = encoding  # GeoJSON is UTF-8 (RFC 7946); kept as the admin passes it

    def get_title(self) -> str:
        return "geojson"

    def get_extension(self) -> str:
        return "geojson"

    def get_content_type(self) -> str:
        return "application/geo+json"

    def is_binary(self) -> bool:
        return False

    def get_read_mode(self) -> str:
        return "r"

    def can_import(self) -> bool:
        return True

    def can_export(self) -> bool:
        return True

    def create_dataset(self, in_stream, **kwargs) -> tablib.Dataset:
        text = in_stream.decode("utf-8-sig") if isinstance(in_stream, bytes) else in_stream
        try:
            document = json.loads(text)
        except json.JSONDecodeError as exc:
            message = _("line %(line)d: not valid JSON (%(error)s)")
            raise RowsRejected([message % {"line": exc.lineno, "error": exc.msg}]) from exc
        dataset = tablib.Dataset(headers=list(GRID_COLUMNS))
        errors: list[str] = []
        for number, feature in enumerate(feature_list(document), start=1):
            try:
                cell = cell_fields(feature, where=_("feature %(number)d") % {"number": number})
            except FeatureError as exc:
                errors += exc.errors
                continue
            polygon = json.dumps(cell.polygon) if cell.polygon else ""
            dataset.append(
                [cell.code, cell.name, cell.area_code, polygon, cell.centre_lat, cell.centre_lng]
            )
        if errors:
            raise RowsRejected(errors)
        return dataset

    def export_data(self, dataset: tablib.Dataset, **kwargs) -> str:
        features = [_row_feature(dict(zip(dataset.headers, row, strict=True))) for row in dataset]
        return json.dumps({"type": "FeatureCollection", "features": features}, ensure_ascii=False)


def _number(value: Any) -> float | None:
    return None if value in (None, "") else float(value)


def _row_feature(row: dict[str, Any]) -> dict[str, Any]:
    polygon = row.get("polygon")
    return make_feature(
        code=row["code"],
        name=row["name"],
        area=row["area"],
        polygon=json.loads(polygon) if isinstance(polygon, str) and polygon else polygon or None,
        centre_lat=_number(row.get("centre_lat")),
        centre_lng=_number(row.get("centre_lng")),
    )


TABLE_FORMATS = [base_formats.CSV, base_formats.XLSX]


GRID_FORMATS = [GeoJSONFormat, *TABLE_FORMATS]


class MasterDataAdmin(ImportExportModelAdmin):
    """Import/export in the admin; a file that cannot be read shows each of its errors."""

    formats = TABLE_FORMATS

    def add_data_read_fail_error_to_form(self, form, e) -> None:
        if isinstance(e, RowsRejected):
            for error in e.errors:
                form.add_error("import_file", error)
        else:
            super().add_data_read_fail_error_to_form(form, e)
