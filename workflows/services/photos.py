"""Photo uploads: only real images are kept, and never as sent.

Every upload is decoded with Pillow (JPEG, PNG or WebP; anything Pillow cannot decode as one
of those is refused, whatever its name, declared type or first bytes say), checked against the
byte and pixel limits, turned upright by its EXIF orientation, shrunk to at most
CITYOPS_PHOTO_MAX_SIDE pixels on its longer side and re-encoded as a JPEG without any metadata
(EXIF, GPS, comments, ICC profiles, trailing bytes are all dropped). The stored file gets a
random name with the fixed extension `.jpg` (models.cases._photo_path); the original name is
not kept anywhere. Photos are served only through workflows.views.photos (access checked).
"""

from __future__ import annotations

import io
import warnings
from collections.abc import Iterable

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import UploadedFile
from django.utils.translation import gettext as _
from PIL import Image, ImageOps, UnidentifiedImageError

from ..models import Attachment, Case, CaseTask

MAX_PHOTOS = 9
ACCEPTED_FORMATS = ("JPEG", "PNG", "WEBP")
STORED_CONTENT_TYPE = "image/jpeg"
JPEG_QUALITY = 85


class NotAnImage(Exception):
    pass


def _reencoded(photo: UploadedFile) -> ContentFile:
    """The photo decoded and written again as a bare JPEG; NotAnImage if it is not one."""
    max_pixels = settings.CITYOPS_PHOTO_MAX_PIXELS
    photo.seek(0)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(photo, formats=ACCEPTED_FORMATS) as image:
                width, height = image.size
                if width * height > max_pixels:
                    raise NotAnImage("too many pixels")
                image.load()  # decodes everything: truncated or forged data fails here
                image = ImageOps.exif_transpose(image)
                if image.mode not in ("RGB", "L"):
                    background = Image.new("RGB", image.size, "white")
                    rgba = image.convert("RGBA")
                    background.paste(rgba, mask=rgba.getchannel("A"))
                    image = background
                side = settings.CITYOPS_PHOTO_MAX_SIDE
                image.thumbnail((side, side))
                image.info.clear()  # Pillow would write a JPEG comment, ICC profile, DPI back
                out = io.BytesIO()
                image.save(out, "JPEG", quality=JPEG_QUALITY, optimize=True)
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError, Image.DecompressionBombError,
            Image.DecompressionBombWarning) as exc:  # fmt: skip
        raise NotAnImage(str(exc)) from exc
    finally:
        photo.seek(0)
    return ContentFile(out.getvalue(), name="photo.jpg")


def photos_validate(photos: Iterable[UploadedFile], field: str = "photos") -> list[tuple]:
    """Check and re-encode every photo before anything is saved; returns (file, content type)
    pairs of the re-encoded files."""
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
        try:
            checked.append((_reencoded(photo), STORED_CONTENT_TYPE))
        except NotAnImage:
            errors.append(_("%(name)s is not a JPEG, PNG or WebP image.") % {"name": photo.name})
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
