"""GET /api/v1/photos/{id}/: a case's photo, for whoever may see the case (token, session, or
an API key with cases:read); the JPEG itself, not JSON."""

from __future__ import annotations

from django.http import Http404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework.request import Request
from rest_framework.views import APIView

from ..integrations.keys import HasScope
from ..selectors.cases import photo_for_user
from ..views.photos import photo_response


class PhotoView(APIView):
    required_scope = "cases:read"
    # No IsAuthenticated: public photos (access.photo_is_public, Open311's media_url) need no
    # login; any other photo is a 404 to whoever may not see its case.
    permission_classes = (HasScope,)

    @extend_schema(
        responses={(200, "image/jpeg"): OpenApiResponse(OpenApiTypes.BINARY)},
        description="The photo as a JPEG (re-encoded on upload, without metadata).",
    )
    def get(self, request: Request, photo_id: int):
        photo = photo_for_user(request.user, photo_id)
        if photo is None:
            raise Http404
        return photo_response(photo)
