"""Photos, served only through here (pages: /photos/<id>/; API: /api/v1/photos/<id>/): the
viewer must be allowed to see it (access.can_view_photo), or it is a 404. Stored photos are
JPEGs re-encoded by services.photos; the answer says so (image/jpeg, nosniff, a sandboxing
CSP) whatever the file. In production nginx sends the bytes (X-Accel-Redirect to its internal
/protected-media/ location, CITYOPS_MEDIA_ACCEL_REDIRECT); otherwise Django streams the file.
"""

from __future__ import annotations

from urllib.parse import quote

from django.conf import settings
from django.http import FileResponse, Http404, HttpResponse
from django.views.decorators.http import require_GET

from ..selectors.cases import photo_for_user

IMAGE_TYPES = {"image/jpeg", "image/png", "image/webp"}


def photo_response(photo) -> HttpResponse:
    content_type = photo.content_type if photo.content_type in IMAGE_TYPES else "image/jpeg"
    accel = settings.CITYOPS_MEDIA_ACCEL_REDIRECT
    if accel:
        response = HttpResponse(content_type=content_type)
        response["X-Accel-Redirect"] = accel.rstrip("/") + "/" + quote(photo.file.name)
    else:
        try:
            handle = photo.file.open("rb")
        except (FileNotFoundError, ValueError) as exc:
            raise Http404 from exc
        response = FileResponse(handle, content_type=content_type)
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Disposition"] = f'inline; filename="photo-{photo.pk}.jpg"'
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response["Cache-Control"] = "private, max-age=3600"
    return response


@require_GET
def photo_view(request, photo_id: int) -> HttpResponse:
    photo = photo_for_user(request.user, photo_id)
    if photo is None:
        raise Http404
    return photo_response(photo)
