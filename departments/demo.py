"""The demo city's organisation: areas, command centre, handling units, grid, calendar, staff."""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from . import services
from .models import GridCell, Membership, Role, Unit, UnitKind

CITY_CODE = "DEMO"
CENTRE_CODE = "CC"
HOTLINE_CENTRE_CODE = "HOTLINE"  # the 12345 hotline centre

HANDLING_UNITS = [
    ("WATER", "水务局"),
    ("SANI", "环卫处"),
    ("ENF", "城管执法局"),
    ("MUNI", "市政处"),
    ("GREEN", "园林局"),
    ("POLICE", "交警支队"),
    ("HOUSING", "住建局"),
    ("TRANS", "交通局"),
    ("POWER", "供电公司"),
    ("TELECOM", "电信公司"),
    ("GAS", "燃气公司"),
    ("FIRE", "消防救援支队"),
    ("CIVIL", "民政局"),
    ("SPORTS", "体育局"),
]
# Sub-units for second-level dispatch (二级派遣).
SUB_UNITS = [
    ("SANI-E", "SANI", "环卫东城所"),
    ("SANI-W", "SANI", "环卫西城所"),
    ("MUNI-ROAD", "MUNI", "道路养护所"),
    ("ENF-E", "ENF", "东城执法中队"),
]
DISTRICTS = [
    (
        "D01",
        "东城区",
        [("D01-S01", "东华街道"), ("D01-S02", "朝阳门街道")],
    ),
    (
        "D02",
        "西城区",
        [("D02-S01", "金融街街道"), ("D02-S02", "德胜街道")],
    ),
]
# Staff accounts: username -> [(unit code, role, includes sub-units)].
ACCOUNTS = {
    "inspector": [(CITY_CODE, Role.INSPECTOR, True)],
    "intake": [(CENTRE_CODE, Role.INTAKE, False)],
    "shiftlead": [(CENTRE_CODE, Role.SHIFT_LEADER, False)],
    "dispatcher": [(CENTRE_CODE, Role.DISPATCHER, False)],
    "supervisor": [(CITY_CODE, Role.SUPERVISOR, True)],
    "handler_sani": [("SANI", Role.HANDLER, True)],
    "unithead_sani": [("SANI", Role.UNIT_HEAD, True)],
    "handler_muni": [("MUNI", Role.HANDLER, True)],
    "handler_enf": [("ENF", Role.HANDLER, True)],
    "handler_water": [("WATER", Role.HANDLER, True)],
    # The 12345 hotline centre: agents (话务员) and the centre's shift leader (final rulings).
    "agent1": [(HOTLINE_CENTRE_CODE, Role.HOTLINE_AGENT, False)],
    "agent2": [(HOTLINE_CENTRE_CODE, Role.HOTLINE_AGENT, False)],
    "hotlinelead": [
        (HOTLINE_CENTRE_CODE, Role.SHIFT_LEADER, False),
        (HOTLINE_CENTRE_CODE, Role.HOTLINE_AGENT, False),
    ],
    "handler_green": [("GREEN", Role.HANDLER, True)],
}
# The grid: 2 districts x 2 streets x 2 communities x 3 cells = 24 cells, 0.01° squares.
BASE_LAT, BASE_LNG, CELL = 31.20, 121.40, 0.01


@dataclass(frozen=True)
class DemoOrganisation:
    city: Unit
    centre: Unit
    units: dict[str, Unit]
    hotline_centre: Unit | None = None


def _unit(code: str, name: str, kind: str, parent: Unit | None) -> Unit:
    unit, _ = Unit.objects.update_or_create(
        code=code, defaults={"name": name, "kind": kind, "parent": parent, "is_active": True}
    )
    return unit


def _areas(city: Unit) -> list[Unit]:
    """Districts, streets and communities; returns the communities in order."""
    communities = []
    for d_code, d_name, streets in DISTRICTS:
        district = _unit(d_code, d_name, UnitKind.DISTRICT, city)
        for s_code, s_name in streets:
            street = _unit(s_code, s_name, UnitKind.STREET, district)
            for n in (1, 2):
                communities.append(
                    _unit(
                        f"{s_code}-C{n}",
                        f"{s_name}第{n}社区",
                        UnitKind.COMMUNITY,
                        street,
                    )
                )
    return communities


def _grid(communities: list[Unit]) -> None:
    for index, community in enumerate(communities):
        for n in range(3):
            row, col = divmod(index * 3 + n, 6)
            lat, lng = BASE_LAT + row * CELL, BASE_LNG + col * CELL
            ring = [[lng, lat], [lng + CELL, lat], [lng + CELL, lat + CELL], [lng, lat + CELL]]
            GridCell.objects.update_or_create(
                code=f"{community.code}-G{n + 1}",
                defaults={
                    "name": f"{community.name}{n + 1}号网格",
                    "area": community,
                    "polygon": ring,
                    "centre_lat": round(lat + CELL / 2, 6),
                    "centre_lng": round(lng + CELL / 2, 6),
                },
            )


def seed_organisation() -> DemoOrganisation:
    """Create or refresh the demo city's units, grid and calendar (idempotent)."""
    with transaction.atomic():
        city = _unit(CITY_CODE, "示范市", UnitKind.CITY, None)
        centre = _unit(CENTRE_CODE, "城市运行管理服务指挥中心", UnitKind.CENTRE, city)
        hotline_centre = _unit(
            HOTLINE_CENTRE_CODE, "12345政务服务便民热线中心", UnitKind.HOTLINE, city
        )
        units = {code: _unit(code, name, UnitKind.HANDLING, city) for code, name in HANDLING_UNITS}
        for code, parent, name in SUB_UNITS:
            units[code] = _unit(code, name, UnitKind.HANDLING, units[parent])
        _grid(_areas(city))
        calendar = services.calendar_create(unit=city, name="示范市工作日历")
        this_year = timezone.localdate().year
        years = sorted({2025, 2026, this_year, this_year + 1, 2027})
        services.calendar_seed(calendar=calendar, years=years)
    return DemoOrganisation(city=city, centre=centre, units=units, hotline_centre=hotline_centre)


def seed_accounts(password: str) -> list[str]:
    """Create or refresh the demo accounts with their posts; returns the usernames."""
    User = get_user_model()
    with transaction.atomic():
        admin, _ = User.objects.get_or_create(username="admin")
        admin.is_staff = admin.is_superuser = True
        admin.email = "admin@demo.cityops.local"
        admin.set_password(password)
        admin.save()
        Membership.objects.get_or_create(
            user=admin,
            unit=Unit.objects.get(code=CITY_CODE),
            role=Role.ADMIN,
            defaults={"include_subunits": True},
        )
        for username, posts in ACCOUNTS.items():
            user, _ = User.objects.get_or_create(username=username)
            user.email = f"{username}@demo.cityops.local"
            user.is_staff = username == "supervisor"
            user.set_password(password)
            user.save()
            for code, role, subunits in posts:
                Membership.objects.update_or_create(
                    user=user,
                    unit=Unit.objects.get(code=code),
                    role=role,
                    defaults={"include_subunits": subunits},
                )
    return ["admin", *ACCOUNTS]
