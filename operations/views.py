"""GET /healthz: 200 when the database, the broker and the SLA sweep are fine, 503 otherwise,
with the checks in a small JSON body (no secrets, no host names)."""

from django.http import JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from .health import health


@never_cache
@require_GET
def healthz(request):
    ok, body = health()
    return JsonResponse(body, status=200 if ok else 503)
