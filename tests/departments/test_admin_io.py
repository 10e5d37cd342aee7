"""The admin imports and exports the same master data as the commands (django-import-export):
a preview, nothing imported while a row is wrong, and files the commands read back."""

import io
import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command

from departments.demo import seed_accounts, seed_organisation
from departments.models import GridCell, Membership, Unit

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client):
    seed_organisation()
    seed_accounts("pw")
    client.login(username="admin", password="pw")
    return client


def upload(client, model, name, content, fmt):
    data = {"resource": "0", "format": fmt, "import_file": SimpleUploadedFile(name, content)}
    return client.post(f"/admin/departments/{model}/import/", data)


def confirm(client, model, response):
    form = response.context["confirm_form"]
    data = {name: field.initial if field.initial is not None else form.initial.get(name)
            for name, field in form.fields.items()}  # fmt: skip
    return client.post(f"/admin/departments/{model}/process_import/", data, follow=True)


ADMIN_MODELS = {"unit": "unit", "staff": "membership", "grid": "gridcell"}


def export(client, resource, fmt, fields):
    """POST the export form: `resource` is the resource's name (unit, staff, grid)."""
    data = {"resource": "0", "format": fmt, **{f"{resource}resource_{f}": "on" for f in fields}}
    response = client.post(f"/admin/departments/{ADMIN_MODELS[resource]}/export/", data)
    assert response.status_code == 200, response.content[:500]
    return response.content


def test_the_import_page_offers_the_table_formats(admin_client):
    response = admin_client.get("/admin/departments/unit/import/")
    assert response.status_code == 200
    assert [c for _v, c in response.context["form"].fields["format"].choices][1:] == ["csv", "xlsx"]
    grid = admin_client.get("/admin/departments/gridcell/import/").context["form"]
    assert [c for _v, c in grid.fields["format"].choices][1:] == ["geojson", "csv", "xlsx"]


def test_units_preview_then_import(admin_client):
    csv = "code,name,kind,parent\nNEWD,新区,district,DEMO\nNEWS,新街道,street,NEWD\n"
    preview = upload(admin_client, "unit", "u.csv", csv.encode(), "0")
    assert preview.status_code == 200 and not Unit.objects.filter(code="NEWD").exists()
    confirm(admin_client, "unit", preview)
    assert Unit.objects.get(code="NEWS").parent.code == "NEWD"


def test_a_bad_unit_row_imports_nothing_and_shows_the_row(admin_client):
    csv = "code,name,kind,parent\nNEWD,新区,district,DEMO\nNEWS,新街道,bureau,NEWD\n"
    response = upload(admin_client, "unit", "u.csv", csv.encode(), "0")
    body = response.content.decode()
    assert response.context["result"].has_validation_errors()
    assert "bureau" in body and "confirm_form" not in response.context
    assert not Unit.objects.filter(code__in=["NEWD", "NEWS"]).exists()


def test_units_exported_by_the_admin_import_with_the_command(admin_client, tmp_path):
    content = export(admin_client, "unit", "0", ["code", "name", "kind", "parent"])
    lines = content.decode("utf-8-sig").splitlines()
    assert lines[0] == "code,name,kind,parent"
    assert lines[1].startswith("DEMO,")  # parents first
    path = tmp_path / "units.csv"
    path.write_bytes(content)
    out = io.StringIO()
    call_command("import_units", str(path), stdout=out)
    count = Unit.objects.count()
    assert f"{count} rows — 0 created, 0 updated, {count} unchanged" in out.getvalue()


def test_staff_import_creates_the_person_and_post(admin_client):
    csv = "username,name,unit,role,include_subunits\nzhao,赵敏,SANI-E,handler,no\n"
    confirm(admin_client, "membership", upload(admin_client, "membership", "s.csv",
                                               csv.encode(), "0"))  # fmt: skip
    post = Membership.objects.get(user__username="zhao")
    assert (post.unit.code, post.role, post.include_subunits) == ("SANI-E", "handler", False)
    assert post.user.first_name == "赵敏" and not post.user.has_usable_password()


def test_staff_bad_flag_imports_nothing(admin_client):
    csv = "username,name,unit,role,include_subunits\nzhao,赵敏,SANI-E,handler,maybe\n"
    response = upload(admin_client, "membership", "s.csv", csv.encode(), "0")
    assert "must be yes or no" in response.content.decode()
    assert not Membership.objects.filter(user__username="zhao").exists()


def test_staff_exported_by_the_admin_import_with_the_command(admin_client, tmp_path):
    fields = ["username", "name", "unit", "role", "include_subunits"]
    path = tmp_path / "staff.csv"
    path.write_bytes(export(admin_client, "staff", "0", fields))
    out = io.StringIO()
    call_command("import_staff", str(path), stdout=out)
    count = Membership.objects.count()
    assert f"{count} rows — 0 created, 0 updated, {count} unchanged" in out.getvalue()


def test_grid_geojson_export_reads_back_with_the_command(admin_client, tmp_path):
    fields = ["code", "name", "area", "polygon", "centre_lat", "centre_lng"]
    content = export(admin_client, "grid", "0", fields)
    document = json.loads(content)
    assert document["type"] == "FeatureCollection" and len(document["features"]) == 24
    path = tmp_path / "grid.geojson"
    path.write_bytes(content)
    out = io.StringIO()
    call_command("import_grid", str(path), stdout=out)
    assert "24 rows — 0 created, 0 updated, 24 unchanged" in out.getvalue()


def exported_grid(tmp_path) -> dict:
    path = tmp_path / "grid.geojson"
    call_command("export_grid", str(path), stderr=io.StringIO())
    return json.loads(path.read_text())


def test_grid_geojson_import_in_the_admin(admin_client, tmp_path):
    document = exported_grid(tmp_path)
    document["features"][0]["properties"]["name"] = "改名网格"
    preview = upload(admin_client, "gridcell", "g.geojson", json.dumps(document).encode(), "0")
    confirm(admin_client, "gridcell", preview)
    cell = GridCell.objects.get(code=document["features"][0]["properties"]["code"])
    assert cell.name == "改名网格" and cell.min_lat is not None


def test_grid_bad_feature_is_named_and_nothing_imported(admin_client):
    bad = {"type": "FeatureCollection", "features": [{"type": "Feature", "properties": {}}]}
    response = upload(admin_client, "gridcell", "g.geojson", json.dumps(bad).encode(), "0")
    assert "feature 1: property “code” is required" in response.content.decode()
    assert GridCell.objects.count() == 24


def test_grid_area_must_be_a_community_or_street(admin_client, tmp_path):
    document = exported_grid(tmp_path)
    document["features"][0]["properties"]["area"] = "SANI"
    response = upload(admin_client, "gridcell", "g.geojson", json.dumps(document).encode(), "0")
    assert response.context["result"].has_validation_errors()
    assert GridCell.objects.filter(area__code="SANI").count() == 0
