"""Hotspot alerts (热点): a surge of one category in one street against its own baseline.

The window is the last `CITYOPS_HOTSPOT_WINDOW_DAYS` local days up to now; the baseline is the
same stretch of time (same weekdays, same hours) in each of the `CITYOPS_HOTSPOT_BASELINE_WEEKS`
weeks before. With λ the baseline's mean (at least one report over all the baseline weeks, so a
category never seen in a street is not a surge on its second report), a window with at least
`CITYOPS_HOTSPOT_MIN_REPORTS` reports and P(X ≥ observed | Poisson λ) below
`CITYOPS_HOTSPOT_P_VALUE` is a surge. Reports are counted at their street (a community's
reports count for its street).

One alert per surge: a surge already alerted is updated (counts, cases), not alerted again;
it ends when its tail probability rises above `END_P_VALUE`, so a surge hovering at the edge
does not alert on every scan. Repeated reports at one spot are the hotline's duplicate
merging (workflows.services.hotline: supervisors are told at CITYOPS_DUPLICATE_HOTSPOT
repeats); the hotspot page lists those spots beside the surges, nothing is counted twice.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.db.models import Count, Q
from django.utils import timezone
from django.utils.translation import gettext as _
from scipy.stats import poisson

from departments.models import Role, Unit, UnitKind
from workflows.models import Case, Category
from workflows.services.notifications import Notice, notify_many, users_holding

from ..explain import hotspot_reason
from ..models import HotspotAlert, HotspotStatus

END_P_VALUE = 0.05
MAX_CASES = 200


@dataclass(frozen=True)
class Surge:
    category_id: int
    street_id: int
    observed: int
    expected: float
    p_value: float


@dataclass(frozen=True)
class ScanResult:
    raised: int
    updated: int
    ended: int


def window_start(now: dt.datetime, days: int) -> dt.datetime:
    """Local midnight `days - 1` days before today: the window is whole days plus today."""
    local = timezone.localtime(now)
    start = local.replace(hour=0, minute=0, second=0, microsecond=0)
    return start - dt.timedelta(days=days - 1)


def _streets() -> dict[int, int]:
    """Area unit → its street (a street itself; a community's parent)."""
    rows = Unit.objects.values_list("pk", "parent_id", "kind")
    return {
        pk: pk if kind == UnitKind.STREET else parent
        for pk, parent, kind in rows
        if kind in (UnitKind.STREET, UnitKind.COMMUNITY) and (kind == UnitKind.STREET or parent)
    }


def area_counts(now: dt.datetime) -> dict[tuple[int, int], list[int]]:
    """(category, street) → [reports in the window, then in each baseline week's window]."""
    days, weeks = settings.CITYOPS_HOTSPOT_WINDOW_DAYS, settings.CITYOPS_HOTSPOT_BASELINE_WEEKS
    start = window_start(now, days)
    shifts = [dt.timedelta(weeks=k) for k in range(weeks + 1)]
    counts = {
        f"w{k}": Count("pk", filter=Q(created_at__gte=start - shift, created_at__lt=now - shift))
        for k, shift in enumerate(shifts)
    }
    rows = (
        Case.objects.filter(
            created_at__gte=start - shifts[-1],
            created_at__lt=now,
            category__isnull=False,
            area__isnull=False,
        )
        .values("category_id", "area_id")
        .annotate(**counts)
        .order_by()
    )
    street_of = _streets()
    out: dict[tuple[int, int], list[int]] = {}
    for row in rows:
        street = street_of.get(row["area_id"])
        if street is None:
            continue
        total = out.setdefault((row["category_id"], street), [0] * len(shifts))
        for k in range(len(shifts)):
            total[k] += row[f"w{k}"]
    return out


def surge_test(observed: int, baseline: list[int]) -> tuple[float, float]:
    """(expected, tail probability P(X ≥ observed)) under Poisson(mean of the baseline)."""
    weeks = max(len(baseline), 1)
    expected = sum(baseline) / weeks
    rate = max(expected, 1.0 / weeks)
    return expected, float(poisson.sf(observed - 1, rate)) if observed > 0 else 1.0


def surges(now: dt.datetime) -> tuple[list[Surge], dict[tuple[int, int], float]]:
    """The surges now, and the tail probability of every (category, street) seen."""
    found, tails = [], {}
    for (category, street), (observed, *baseline) in area_counts(now).items():
        expected, p = surge_test(observed, baseline)
        tails[(category, street)] = p
        if (
            observed >= settings.CITYOPS_HOTSPOT_MIN_REPORTS
            and p < settings.CITYOPS_HOTSPOT_P_VALUE
        ):
            found.append(Surge(category, street, observed, round(expected, 2), p))
    return found, tails


def surge_case_ids(
    category_id: int, street_id: int, start: dt.datetime, now: dt.datetime
) -> list[int]:
    areas = [street_id, *Unit.objects.filter(parent_id=street_id).values_list("pk", flat=True)]
    rows = Case.objects.filter(
        category_id=category_id, area_id__in=areas, created_at__gte=start, created_at__lt=now
    ).order_by("-created_at", "-pk")
    return list(rows.values_list("pk", flat=True)[:MAX_CASES])


def _raise(surge: Surge, start: dt.datetime, now: dt.datetime, days: int) -> HotspotAlert:
    return HotspotAlert.objects.create(
        category_id=surge.category_id,
        area_id=surge.street_id,
        window_start=start,
        window_days=days,
        observed=surge.observed,
        expected=surge.expected,
        p_value=surge.p_value,
        case_ids=surge_case_ids(surge.category_id, surge.street_id, start, now),
        detected_at=now,
        last_seen_at=now,
    )


def _refresh(alert: HotspotAlert, surge: Surge, now: dt.datetime) -> None:
    """A surge seen again: the alert keeps its start and takes the larger counts."""
    alert.observed = max(alert.observed, surge.observed)
    alert.expected, alert.p_value, alert.last_seen_at = surge.expected, surge.p_value, now
    cases = surge_case_ids(surge.category_id, surge.street_id, alert.window_start, now)
    alert.case_ids = cases
    alert.save(update_fields=["observed", "expected", "p_value", "last_seen_at", "case_ids"])


def _notice(alert: HotspotAlert) -> Notice:
    title = _("Hotspot: %(category)s in %(area)s") % {
        "category": alert.category.name,
        "area": alert.area.name,
    }
    latest = Case.objects.filter(pk__in=alert.case_ids[:1]).first()
    users = tuple(users_holding(Role.SUPERVISOR, [alert.area_id]).values_list("pk", flat=True))
    return Notice(users=users, kind="hotspot", title=title, body=hotspot_reason(alert), case=latest)


@transaction.atomic
def hotspot_scan(*, now: dt.datetime | None = None) -> ScanResult:
    """Raise an alert per new surge (supervisors are notified), refresh the alerts of surges
    still going, end those that subsided. Running it twice changes nothing more."""
    now = now or timezone.now()
    days = settings.CITYOPS_HOTSPOT_WINDOW_DAYS
    start = window_start(now, days)
    found, tails = surges(now)
    active = {
        (a.category_id, a.area_id): a
        for a in HotspotAlert.objects.select_for_update().filter(status=HotspotStatus.ACTIVE)
    }
    raised, updated = [], 0
    for surge in found:
        alert = active.pop((surge.category_id, surge.street_id), None)
        if alert is None:
            raised.append(_raise(surge, start, now, days))
        else:
            _refresh(alert, surge, now)
            updated += 1
    ended = 0
    for key, alert in active.items():
        if tails.get(key, 1.0) >= END_P_VALUE:
            alert.status, alert.ended_at = HotspotStatus.ENDED, now
            alert.save(update_fields=["status", "ended_at"])
            ended += 1
    notify_many([_notice(a) for a in _with_names(raised)])
    return ScanResult(len(raised), updated, ended)


def _with_names(alerts: list[HotspotAlert]) -> list[HotspotAlert]:
    categories = Category.objects.in_bulk([a.category_id for a in alerts])
    units = Unit.objects.in_bulk([a.area_id for a in alerts])
    for alert in alerts:
        alert.category, alert.area = categories[alert.category_id], units[alert.area_id]
    return alerts


def hotspot_scan_job() -> None:
    """The periodic job (cityops.periodic)."""
    hotspot_scan()
