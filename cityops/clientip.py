"""The client's address, trusting X-Forwarded-For only as far as NUM_PROXIES says.

REST_FRAMEWORK["NUM_PROXIES"] (environment NUM_PROXIES, default 0) is the number of reverse
proxies in front of gunicorn that append to X-Forwarded-For (deploy/nginx: 1, and it replaces
what the client sent). 0: the header is ignored, the address is the connection's. N: the N-th
address from the right of the header. DRF's throttles read the same setting; django-axes uses
this function (AXES_CLIENT_IP_CALLABLE), so logins and API rates key on the same address.
"""

from __future__ import annotations

from django.conf import settings


def client_ip(request) -> str:
    remote = request.META.get("REMOTE_ADDR", "") or ""
    proxies = settings.REST_FRAMEWORK.get("NUM_PROXIES") or 0
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
    if proxies <= 0 or not forwarded:
        return remote
    hops = [hop.strip() for hop in forwarded.split(",") if hop.strip()]
    if not hops:
        return remote
    return hops[-min(proxies, len(hops))]
