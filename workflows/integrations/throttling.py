"""Request rates: per API key and per anonymous client address.

Staff (token or session users) are not throttled: they are few, known, and their clients are
ours. Rates come from REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"] (settings, from the environment:
CITYOPS_RATE_APIKEY, CITYOPS_RATE_ANON). A 429 carries `Retry-After` and the common error body
(workflows.api.errors).
"""

from __future__ import annotations

from rest_framework.settings import api_settings
from rest_framework.throttling import AnonRateThrottle, SimpleRateThrottle

from ..models import ApiKey


class _RateFromSettings:
    """Read the rate when a request comes (DRF binds the rates at import: tests and a reload of
    the settings would not see a change)."""

    scope: str

    def get_rate(self) -> str | None:
        return api_settings.DEFAULT_THROTTLE_RATES.get(self.scope)


class ApiKeyRateThrottle(_RateFromSettings, SimpleRateThrottle):
    """Each API key has its own budget (by its prefix); requests not made with a key pass."""

    scope = "apikey"

    def get_cache_key(self, request, view) -> str | None:
        if not isinstance(request.auth, ApiKey):
            return None
        return self.cache_format % {"scope": self.scope, "ident": request.auth.prefix}


class AnonymousRateThrottle(_RateFromSettings, AnonRateThrottle):
    """Unauthenticated requests (the token endpoint, refused calls) by client address."""

    scope = "anon"


class Open311RateThrottle(_RateFromSettings, SimpleRateThrottle):
    """Open311 reads (public, no credentials) by client address, whoever is logged in; the
    address as NUM_PROXIES says (X-Forwarded-For ignored by default)."""

    scope = "open311"

    def get_cache_key(self, request, view) -> str:
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}


def public_query_allowed(ident: str) -> bool:
    """The citizens' progress query (page and API): settings.CITYOPS_PUBLIC_QUERY_RATE
    look-ups per client address and minute, counted in the cache (shared with Redis)."""
    from django.conf import settings
    from django.core.cache import cache

    key = f"cityops:public-query:{ident}"
    count = 1 if cache.add(key, 1, timeout=60) else cache.incr(key)
    return count <= settings.CITYOPS_PUBLIC_QUERY_RATE
