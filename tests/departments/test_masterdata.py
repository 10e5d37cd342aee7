"""Master data in and out of files: import_units / import_staff / import_grid and their exports.
Each import is all-or-nothing with errors naming the line or feature; each export re-imports
unchanged."""

import io
import json

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command

from cityops.tabular import RowsRejected
from departments.demo import seed_accounts, seed_organisation
from departments.masterdata import grid_import, staff_import, units_import
from departments.models import GridCell, Membership, Unit
from departments.selectors import grid_cell_at

pytestmark = pytest.mark.django_db

UNITS = """code,name,kind,parent
C,示范市,city,
D1,东城区,district,C
S1,东华街道,street,D1
K1,东华街道第1社区,community,S1
SANI,环卫处,handling,C
"""


def write(tmp_path, name, text):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def run(command, *args):
    out, err = io.StringIO(), io.StringIO()
    call_command(command, *map(str, args), stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


# --- units ---------------------------------------------------------------------------------


def test_units_import_builds_the_tree_in_any_order(tmp_path):
    lines = UNITS.splitlines()
    shuffled = "\n".join([lines[0], *reversed(lines[1:])]) + "\n"
    result = units_import(rows_source=write(tmp_path, "u.csv", shuffled))
    assert (result.created, result.updated, result.unchanged) == (5, 0, 0)
    assert Unit.objects.get(code="K1").parent.code == "S1"
    assert Unit.objects.get(code="C").parent is None


def test_units_import_updates_changed_rows_only(tmp_path):
    units_import(rows_source=write(tmp_path, "u.csv", UNITS))
    changed = UNITS.replace("东城区,district", "东城新区,district")
    result = units_import(rows_source=write(tmp_path, "u2.csv", changed))
    assert (result.created, result.updated, result.unchanged) == (0, 1, 4)
    assert Unit.objects.get(code="D1").name == "东城新区"


def test_units_one_bad_row_imports_nothing_and_names_its_line(tmp_path):
    bad = UNITS.replace("SANI,环卫处,handling,C", "SANI,环卫处,bureau,C")
    with pytest.raises(RowsRejected) as caught:
        units_import(rows_source=write(tmp_path, "u.csv", bad))
    assert caught.value.errors == [
        "line 6: unknown kind “bureau” (expected city, district, street, community, centre, "
        "hotline, handling)"
    ]
    assert Unit.objects.count() == 0


@pytest.mark.parametrize(
    ("row", "message"),
    [
        ("X,某单位,handling,NOWHERE", "line 7: unknown parent “NOWHERE”"),
        ("X,某单位,handling,X", "line 7: a unit cannot be its own parent"),
        ("C,again,city,", "line 7: unit C repeats line 2"),
        (",某单位,handling,C", "line 7: code is required"),
        ("X,,handling,C", "line 7: name is required"),
    ],
)
def test_units_bad_rows(tmp_path, row, message):
    with pytest.raises(RowsRejected) as caught:
        units_import(rows_source=write(tmp_path, "u.csv", UNITS + row + "\n"))
    assert message in "\n".join(caught.value.errors)
    assert not Unit.objects.exists()


def test_units_import_refuses_a_loop_through_stored_units(tmp_path):
    units_import(rows_source=write(tmp_path, "u.csv", UNITS))
    loop = "code,name,kind,parent\nD1,东城区,district,K1\n"
    with pytest.raises(RowsRejected) as caught:
        units_import(rows_source=write(tmp_path, "loop.csv", loop))
    assert caught.value.errors == ["line 2: unit D1 would be below itself"]
    assert Unit.objects.get(code="D1").parent.code == "C"


@pytest.mark.parametrize("suffix", ["csv", "xlsx"])
def test_units_round_trip_export_then_import(tmp_path, suffix):
    seed_organisation()
    path = tmp_path / f"units.{suffix}"
    _out, err = run("export_units", path)
    assert f"to {path}" in err
    out, _err = run("import_units", path)
    count = Unit.objects.count()
    assert out.strip() == (
        f"Imported units.{suffix}: {count} rows — 0 created, 0 updated, {count} unchanged"
    )


def test_units_export_reads_back_into_an_empty_database(tmp_path):
    units_import(rows_source=write(tmp_path, "u.csv", UNITS))
    exported, _err = run("export_units")
    assert exported.splitlines()[0] == "code,name,kind,parent"
    assert sorted(exported.splitlines()) == sorted(UNITS.splitlines())


def test_import_command_lists_errors_and_fails(tmp_path):
    bad = UNITS.replace("D1,东城区,district,C", "D1,东城区,district,NOPE")
    err = io.StringIO()
    with pytest.raises(CommandError, match=r"1 error in u\.csv; nothing was imported"):
        call_command("import_units", str(write(tmp_path, "u.csv", bad)), stderr=err)
    assert "line 3: unknown parent “NOPE”" in err.getvalue()
    assert not Unit.objects.exists()


def test_a_large_import_draws_a_progress_bar(tmp_path):
    rows = ["code,name,kind,parent", "C,示范市,city,"]
    rows += [f"H{n},单位{n},handling,C" for n in range(600)]
    err = io.StringIO()
    call_command(
        "import_units",
        str(write(tmp_path, "big.csv", "\n".join(rows))),
        stdout=io.StringIO(),
        stderr=err,
    )
    assert "units" in err.getvalue() and "601/601" in err.getvalue()
    assert Unit.objects.count() == 601


# --- staff ---------------------------------------------------------------------------------

STAFF = """username,name,unit,role,include_subunits
wang,王芳,SANI,handler,yes
wang,王芳,SANI,unit_head,no
li,李雷,C,inspector,yes
"""


def test_staff_import_creates_people_without_password_and_their_posts(tmp_path):
    units_import(rows_source=write(tmp_path, "u.csv", UNITS))
    result = staff_import(rows_source=write(tmp_path, "s.csv", STAFF))
    assert (result.created, result.updated, result.unchanged) == (3, 0, 0)
    wang = get_user_model().objects.get(username="wang")
    assert wang.first_name == "王芳" and not wang.has_usable_password()
    posts = set(Membership.objects.filter(user=wang).values_list("role", "include_subunits"))
    assert posts == {("handler", True), ("unit_head", False)}
    again = staff_import(
        rows_source=write(tmp_path, "s2.csv", STAFF.replace("head,no", "head,yes"))
    )
    assert (again.created, again.updated, again.unchanged) == (0, 1, 2)


@pytest.mark.parametrize(
    ("row", "message"),
    [
        ("zhao,赵,NOWHERE,handler,no", "line 5: unknown unit “NOWHERE”"),
        ("zhao,赵,SANI,boss,no", "line 5: unknown role “boss”"),
        ("zhao,赵,SANI,handler,maybe", "line 5: include_subunits “maybe” must be yes or no"),
        ("zh ao,赵,SANI,handler,no", "line 5: username “zh ao”"),
        ("wang,王芳,SANI,handler,no", "line 5: wang as handler in SANI repeats line 2"),
        ("wang,王小芳,C,inspector,no", "line 5: wang is named “王小芳” here but “王芳” on line 2"),
    ],
)
def test_staff_one_bad_row_imports_nothing(tmp_path, row, message):
    units_import(rows_source=write(tmp_path, "u.csv", UNITS))
    with pytest.raises(RowsRejected) as caught:
        staff_import(rows_source=write(tmp_path, "s.csv", STAFF + row + "\n"))
    assert message in "\n".join(caught.value.errors)
    assert not get_user_model().objects.exists() and not Membership.objects.exists()


@pytest.mark.parametrize("suffix", ["csv", "xlsx"])
def test_staff_round_trip(tmp_path, suffix):
    seed_organisation()
    seed_accounts("pw")
    path = tmp_path / f"staff.{suffix}"
    run("export_staff", path)
    out, _err = run("import_staff", path)
    count = Membership.objects.count()
    assert f"{count} rows — 0 created, 0 updated, {count} unchanged" in out


# --- grid ----------------------------------------------------------------------------------


def feature(code, area="K1", lng=121.40, lat=31.20, size=0.01):
    ring = [[lng, lat], [lng + size, lat], [lng + size, lat + size], [lng, lat + size]]
    return {
        "type": "Feature",
        "geometry": {"type": "Polygon", "coordinates": [[*ring, ring[0]]]},
        "properties": {"code": code, "name": f"{code}号网格", "area": area},
    }


def geojson(tmp_path, *features, name="grid.geojson"):
    document = {"type": "FeatureCollection", "features": list(features)}
    return write(tmp_path, name, json.dumps(document, ensure_ascii=False))


def test_grid_import_creates_cells_that_locate_points(tmp_path):
    units_import(rows_source=write(tmp_path, "u.csv", UNITS))
    result = grid_import(rows_source=geojson(tmp_path, feature("G1"), feature("G2", lng=121.41)))
    assert (result.created, result.updated, result.unchanged) == (2, 0, 0)
    assert grid_cell_at(31.205, 121.415).code == "G2"  # the bounding box was derived


@pytest.mark.parametrize(
    ("bad", "message"),
    [
        (feature("G3", area="NOWHERE"), "feature 3 (G3): area “NOWHERE” is not the code of"),
        (feature("G3", area="SANI"), "feature 3 (G3): area “SANI” is not the code of"),
        (feature("G1"), "feature 3: grid cell G1 repeats feature 1"),
        ({"type": "Feature", "properties": {"code": "G3"}}, "feature 3 (G3): property “name”"),
    ],
)
def test_grid_one_bad_feature_imports_nothing_and_names_it(tmp_path, bad, message):
    units_import(rows_source=write(tmp_path, "u.csv", UNITS))
    path = geojson(tmp_path, feature("G1"), feature("G2", lng=121.41), bad)
    with pytest.raises(RowsRejected) as caught:
        grid_import(rows_source=path)
    assert message in "\n".join(caught.value.errors)
    assert not GridCell.objects.exists()


def test_grid_import_refuses_what_is_not_geojson(tmp_path):
    with pytest.raises(RowsRejected, match="line 1: not valid JSON"):
        grid_import(rows_source=write(tmp_path, "g.geojson", "{nope"))
    with pytest.raises(RowsRejected, match="not a GeoJSON FeatureCollection"):
        grid_import(rows_source=write(tmp_path, "g.geojson", "[]"))


def test_grid_round_trip(tmp_path):
    seed_organisation()
    before = list(GridCell.objects.values())
    path = tmp_path / "grid.geojson"
    _out, err = run("export_grid", path)
    assert "24 records" in err
    out, _err = run("import_grid", path)
    assert "24 rows — 0 created, 0 updated, 24 unchanged" in out
    assert list(GridCell.objects.values()) == before


def test_grid_export_to_stdout_is_geojson():
    seed_organisation()
    out, _err = run("export_grid")
    document = json.loads(out)
    assert document["type"] == "FeatureCollection" and len(document["features"]) == 24


@pytest.mark.parametrize(
    "command",
    ["import_units", "import_staff", "import_grid", "export_units", "export_staff", "export_grid"],
)
def test_command_help_renders(command, capsys):
    with pytest.raises(SystemExit) as caught:
        call_command(command, "--help")
    assert caught.value.code == 0
    assert "--format" in capsys.readouterr().out
