"""Open311 GeoReport v2 views (http://wiki.open311.org/GeoReport_v2).

Decisions (see also tests/workflows/test_open311.py):
- service_code is "{kind}-{code}" (e.g. "event-0102"): component 0102 and event 0102 share a
  code, so the kind is part of the identity; `group` is the major class name.
- service_request_id is the case number (e.g. "2026-000123"); requests get it at once, so a
  token equals the service_request_id and POST returns no token.
- POST needs `api_key` (a key with the "cases:report" scope; the case is reported as the key's
  service user, source "api") and a location as lat/long inside the city's grid: a case is
  routed by its grid cell, and an address_string alone cannot be geocoded here, so it is kept
  as the case's address but is not enough on its own (400). media_url is ignored on POST
  (photos are uploaded through /api/v1/ only); attribute[…], address_id, device_id, account_id and
  jurisdiction_id are accepted and ignored (one jurisdiction, no service attributes).
- GETs are public and never show the reporter's name or contact. A request's media_url is the
  URL of the case's first "before" photo (/api/v1/photos/<id>/) only when that photo is public
  (workflows.access.photo_is_public: CITYOPS_OPEN311_PUBLIC_PHOTOS on, the case listed): the
  same rule the photo view applies, so the URL works for anyone who gets it; null otherwise.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Callable
from functools import wraps

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db.models import OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods

from .. import access
from ..access import photo_is_public
from ..integrations.keys import api_key_authenticate
from ..models import (
    DESCRIPTION_MAX_LENGTH,
    ApiKey,
    Attachment,
    Case,
    CaseStatus,
    CaseTask,
    Category,
    CategoryKind,
    PhotoKind,
    Scope,
    Source,
    TaskStatus,
)
from ..selectors.categories import reportable_categories
from ..services.cases import CaseReport, case_report
from ..services.errors import Conflict
from .render import FORMATS, iso, render, render_error

SPECIFICATION = "http://wiki.open311.org/GeoReport_v2"
CHANGESET = "2026-11-24T00:00:00+08:00"  # when this endpoint's behaviour last changed
REQUESTS_LIMIT = 1000  # GET requests returns at most this many, newest first
DEFAULT_WINDOW = dt.timedelta(days=90)  # GET requests without dates: the last 90 days
DESCRIPTION_MAX = DESCRIPTION_MAX_LENGTH  # also request.json's maxLength
ADDRESS_MAX = Case._meta.get_field("address").max_length
NAME_MAX = Case._meta.get_field("reporter_name").max_length
CONTACT_MAX = Case._meta.get_field("reporter_contact").max_length


class Open311Error(Exception):
    """Answered as the spec's error body with this status."""

    def __init__(self, status: int, description: str) -> None:
        super().__init__(description)
        self.status, self.description = status, str(description)


def open311_view(view: Callable) -> Callable:
    """Unknown format → 404; Open311Error / ValidationError / Conflict → the spec's error body."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args, fmt: str, **kwargs) -> HttpResponse:
        if fmt not in FORMATS:
            return render_error(404, _("Unknown format: use .json or .xml."))
        try:
            return view(request, *args, fmt=fmt, **kwargs)
        except Open311Error as exc:
            return render_error(exc.status, exc.description, fmt)
        except ValidationError as exc:
            return render_error(400, _validation_description(exc), fmt)
        except Conflict as exc:
            return render_error(409, exc.message, fmt)

    # Nothing here authenticates by the session cookie (POST uses api_key), so no CSRF token:
    # other systems post without one, and GET-only endpoints answer POST with 405, not 403.
    return csrf_exempt(wrapper)


# Reads (candidates for workflows/selectors/open311.py) -----------------------------------------


def service_code_of(category: Category) -> str:
    return f"{category.kind}-{category.code}"


def _code_q(service_code: str, prefix: str = "") -> Q | None:
    """The filter for one "{kind}-{code}", or None if it cannot name a category."""
    kind, _sep, code = service_code.strip().partition("-")
    if kind not in CategoryKind.values or not code:
        return None
    return Q(**{f"{prefix}kind": kind, f"{prefix}code": code})


def category_for_code(service_code: str) -> Category | None:
    q = _code_q(service_code)
    return None if q is None else reportable_categories().filter(q).first()


def cases_open311() -> QuerySet[Case]:
    """Cases with what a public request row shows, in one query (expected_due: the case's due
    time, else its earliest open task's)."""
    task_due = (
        CaseTask.objects.filter(
            case=OuterRef("pk"), status__in=[TaskStatus.OPEN, TaskStatus.CLAIMED]
        )
        .exclude(due_at=None)
        .order_by("due_at")
        .values("due_at")[:1]
    )
    return (
        Case.objects.select_related("category", "responsible_unit")
        .annotate(expected_due=Coalesce("due_at", Subquery(task_due)))
        .order_by("-created_at", "-id")
    )


# Rendering of rows -------------------------------------------------------------------------


def service_data(category: Category) -> dict:
    return {
        "service_code": service_code_of(category),
        "service_name": category.name,
        "description": f"{category.name} ({category.limit_display})",
        "metadata": False,  # no category has extra attributes yet
        "type": "realtime",
        "keywords": f"{category.kind},{category.get_kind_display()}",
        "group": category.major_name,
    }


def public_media_urls(request: HttpRequest, cases: list[Case]) -> dict[int, str]:
    """Case id → absolute URL of its first "before" photo, for the cases whose photo is public
    (one query for the whole page, none while photos are not published)."""
    if not settings.CITYOPS_OPEN311_PUBLIC_PHOTOS or not cases:
        return {}
    first: dict[int, Attachment] = {}
    by_id = {case.pk: case for case in cases}
    photos = Attachment.objects.filter(case_id__in=list(by_id), kind=PhotoKind.BEFORE)
    for photo in photos.order_by("case_id", "created_at", "id").only("id", "case_id", "kind"):
        first.setdefault(photo.case_id, photo)
    urls = {}
    for case_id, photo in first.items():
        photo.case = by_id[case_id]
        if photo_is_public(photo):
            path = reverse("api:photo", kwargs={"photo_id": photo.pk})
            urls[case_id] = request.build_absolute_uri(path)
    return urls


def request_data(case: Case, media_url: str | None = None) -> dict:
    closed = case.status != CaseStatus.OPEN
    updated = (case.closed_at or case.updated_at) if closed else case.updated_at
    return {
        "service_request_id": case.number,
        "status": "closed" if closed else "open",
        "status_notes": str(case.get_stage_display()),
        "service_name": case.category.name,
        "service_code": service_code_of(case.category),
        "description": case.description,
        "agency_responsible": case.responsible_unit.name if case.responsible_unit else None,
        "service_notice": None,
        "requested_datetime": iso(case.created_at),
        "updated_datetime": iso(updated),
        "expected_datetime": iso(case.expected_due),
        "address": case.address or None,
        "address_id": None,
        "zipcode": None,
        "lat": case.lat,
        "long": case.lng,
        "media_url": media_url,
    }


def _requests(fmt: str, rows: list[dict]) -> HttpResponse:
    return render(rows, fmt, root="service_requests", item="request")


# Endpoints ---------------------------------------------------------------------------------


@require_GET
@open311_view
def discovery_view(request: HttpRequest, fmt: str) -> HttpResponse:
    services_path = reverse("open311:services", kwargs={"fmt": "json"})
    base = request.build_absolute_uri(services_path.rsplit("/", 1)[0] + "/")
    data = {
        "changeset": CHANGESET,
        "contact": getattr(settings, "OPEN311_CONTACT", "") or settings.DEFAULT_FROM_EMAIL,
        "key_service": _(
            "Ask the city's administrators for an API key with the cases:report scope."
        ),
        "endpoints": [
            {
                "specification": SPECIFICATION,
                "url": base,
                "changeset": CHANGESET,
                "type": "production",
                "formats": ["text/xml", "application/json"],
            }
        ],
    }
    return render(data, fmt, root="discovery")


@require_GET
@open311_view
def services_view(request: HttpRequest, fmt: str) -> HttpResponse:
    rows = [service_data(category) for category in reportable_categories()]
    return render(rows, fmt, root="services", item="service")


@require_GET
@open311_view
def service_definition_view(request: HttpRequest, service_code: str, fmt: str) -> HttpResponse:
    category = category_for_code(service_code)
    if category is None:
        raise Open311Error(404, _("Unknown service_code %(code)s.") % {"code": service_code})
    data = {"service_code": service_code_of(category), "attributes": []}
    return render(data, fmt, root="service_definition")


@require_http_methods(["GET", "POST"])
@open311_view
def requests_view(request: HttpRequest, fmt: str) -> HttpResponse:
    if request.method == "POST":
        return _request_create(request, fmt)
    cases = list(cases_open311().filter(_requests_filter(request.GET))[:REQUESTS_LIMIT])
    return _request_rows(request, fmt, cases)


@require_GET
@open311_view
def request_view(request: HttpRequest, request_id: str, fmt: str) -> HttpResponse:
    case = cases_open311().filter(number=request_id).first()
    if case is None:
        raise Open311Error(404, _("Unknown service_request_id %(id)s.") % {"id": request_id})
    return _request_rows(request, fmt, [case])


def _request_rows(request: HttpRequest, fmt: str, cases: list[Case]) -> HttpResponse:
    media = public_media_urls(request, cases)
    return _requests(fmt, [request_data(case, media.get(case.pk)) for case in cases])


@require_GET
@open311_view
def token_view(request: HttpRequest, token: str, fmt: str) -> HttpResponse:
    """Requests get their id at once, so a token is the service_request_id."""
    if not Case.objects.filter(number=token).exists():
        raise Open311Error(404, _("Unknown token %(token)s.") % {"token": token})
    return render(
        [{"service_request_id": token, "token": token}],
        fmt,
        root="service_requests",
        item="request",
    )


# GET requests: filters ---------------------------------------------------------------------

_SPACED_OFFSET = re.compile(r" (\d{2}(:?\d{2})?)$")


def _datetime_param(params, name: str) -> dt.datetime | None:
    raw = params.get(name, "").strip()
    if not raw:
        return None
    # An unencoded "+08:00" arrives as " 08:00".
    raw = _SPACED_OFFSET.sub(r"+\1", raw)
    try:
        value = parse_datetime(raw)
    except ValueError:
        value = None
    if value is None:
        raise Open311Error(400, _("%(name)s must be an ISO 8601 date and time.") % {"name": name})
    if timezone.is_naive(value):
        value = timezone.make_aware(value)
    return value


def _requests_filter(params) -> Q:
    """The spec's filters; service_request_id overrides all the others."""
    numbers = [n.strip() for n in params.get("service_request_id", "").split(",") if n.strip()]
    if numbers:
        return Q(number__in=numbers)
    q = Q()
    codes = [c for c in params.get("service_code", "").split(",") if c.strip()]
    if codes:
        code_qs = [_code_q(code, "category__") for code in codes]
        q &= _any([c for c in code_qs if c is not None])
    start, end = _datetime_param(params, "start_date"), _datetime_param(params, "end_date")
    if start and end and start > end:
        raise Open311Error(400, _("start_date must not be after end_date."))
    if start is None:
        start = (end or timezone.now()) - DEFAULT_WINDOW
    q &= Q(created_at__gte=start)
    if end is not None:
        q &= Q(created_at__lte=end)
    statuses = {s.strip() for s in params.get("status", "").split(",") if s.strip()}
    if statuses - {"open", "closed"}:
        raise Open311Error(400, _("status must be open or closed."))
    if statuses == {"open"}:
        q &= Q(status=CaseStatus.OPEN)
    elif statuses == {"closed"}:
        q &= ~Q(status=CaseStatus.OPEN)
    return q


def _any(qs: list[Q]) -> Q:
    """OR of the filters; none (only unknown codes) matches nothing."""
    if not qs:
        return Q(pk__in=[])
    combined = qs[0]
    for q in qs[1:]:
        combined |= q
    return combined


# POST requests -----------------------------------------------------------------------------


def _reporting_key(params) -> ApiKey:
    raw = params.get("api_key", "").strip()
    if not raw:
        raise Open311Error(400, _("api_key is required."))
    key = api_key_authenticate(raw)
    if key is None or not access.api_key_allows(key, Scope.CASES_REPORT):
        raise Open311Error(403, _("The api_key is invalid, revoked or may not report requests."))
    return key


def _coordinate(params, name: str, bound: float) -> float | None:
    raw = params.get(name, "").strip()
    if not raw:
        return None
    try:
        value = float(raw)
    except ValueError:
        value = math.nan
    if not math.isfinite(value) or abs(value) > bound:
        raise Open311Error(400, _("%(name)s must be a WGS84 coordinate.") % {"name": name})
    return value


def _text(params, name: str, limit: int) -> str:
    value = params.get(name, "").strip()
    if len(value) > limit:
        raise Open311Error(
            400, _("%(name)s is longer than %(n)d characters.") % {"name": name, "n": limit}
        )
    return value


def _report_from(params) -> CaseReport:
    service_code = params.get("service_code", "").strip()
    if not service_code:
        raise Open311Error(400, _("service_code is required."))
    category = category_for_code(service_code)
    if category is None:
        raise Open311Error(400, _("Unknown service_code %(code)s.") % {"code": service_code})
    lat, lng = _coordinate(params, "lat", 90), _coordinate(params, "long", 180)
    if lat is None or lng is None:
        raise Open311Error(400, _("location required as lat/long."))
    name = " ".join(
        part
        for part in (_text(params, "first_name", NAME_MAX), _text(params, "last_name", NAME_MAX))
        if part
    )
    contact = " / ".join(
        part
        for part in (_text(params, "email", CONTACT_MAX), _text(params, "phone", CONTACT_MAX))
        if part
    )
    if len(name) > NAME_MAX or len(contact) > CONTACT_MAX:
        raise Open311Error(400, _("The reporter's name or contact is too long."))
    return CaseReport(
        category=category.pk,
        description=_text(params, "description", DESCRIPTION_MAX),
        source=Source.API,
        lat=lat,
        lng=lng,
        address=_text(params, "address_string", ADDRESS_MAX),
        reporter_name=name,
        reporter_contact=contact,
    )


def _validation_description(exc: ValidationError) -> str:
    """The service's messages in Open311 terms (its `location` means our lat/long)."""
    if not hasattr(exc, "error_dict"):
        return " ".join(str(m) for m in exc.messages)
    if "location" in exc.error_dict or "grid" in exc.error_dict:
        return _("lat/long is outside the city's service area.")
    names = {"category": "service_code"}
    return "; ".join(
        f"{names.get(field, field)}: {' '.join(str(m) for m in messages)}"
        for field, messages in exc.message_dict.items()
    )


def _request_create(request: HttpRequest, fmt: str) -> HttpResponse:
    key = _reporting_key(request.POST)
    case = case_report(actor=key.user, report=_report_from(request.POST))
    notice = _("Received as case %(number)s; handling time limit %(limit)s.") % {
        "number": case.number,
        "limit": case.category.limit_display,
    }
    data = [{"service_request_id": case.number, "service_notice": notice, "account_id": None}]
    return _requests(fmt, data)
