"""Photo uploads: only real JPEG, PNG or WebP images within the size limit are kept."""

from __future__ import annotations

from collections.abc import Iterable

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.utils.translation import gettext as _

from ..models import Attachment, Case, CaseTask

SIGNATURES = (
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"\x89PNG\r\n\x1a\n", "image/png"),
)
MAX_PHOTOS = 9


def sniff_image_type(head: bytes) -> str | None:
    """The image type from the file's first bytes, whatever its name or declared type says."""
    for signature, content_type in SIGNATURES:
        if head.startswith(signature):
            return content_type
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp"
    return None


def photos_validate(photos: Iterable[UploadedFile], field: str = "photos") -> list[tuple]:
    """Check every photo before anything is saved; returns (file, content type) pairs."""
    checked, errors = [], []
    photos = list(photos)
    if len(photos) > MAX_PHOTOS:
        raise ValidationError({field: _("At most %(n)d photos.") % {"n": MAX_PHOTOS}})
    for photo in photos:
        if photo.size > settings.CITYOPS_PHOTO_MAX_BYTES:
            errors.append(
                _("%(name)s is larger than %(mb)d MB.")
                % {"name": photo.name, "mb": settings.CITYOPS_PHOTO_MAX_BYTES // (1024 * 1024)}
            )
            continue
        photo.seek(0)
        content_type = sniff_image_type(photo.read(16))
        photo.seek(0)
        if content_type is None:
            errors.append(_("%(name)s is not a JPEG, PNG or WebP image.") % {"name": photo.name})
            continue
        checked.append((photo, content_type))
    if errors:
        raise ValidationError({field: errors})
    return checked


def photos_attach(
    *, case: Case, checked: list[tuple], kind: str, actor, task: CaseTask | None = None
) -> list[Attachment]:
    return [
        Attachment.objects.create(
            case=case,
            task=task,
            kind=kind,
            file=photo,
            content_type=content_type,
            size=photo.size,
            uploaded_by=actor if getattr(actor, "pk", None) else None,
        )
        for photo, content_type in checked
    ]
