"""Real images for upload tests (uploads are decoded and re-encoded: a signature followed by
junk is refused)."""

from __future__ import annotations

import io

from PIL import Image


def image_bytes(fmt: str = "PNG", size: tuple[int, int] = (8, 8), exif=None, **options) -> bytes:
    image = Image.new("RGB", size, (144, 144, 144))
    out = io.BytesIO()
    if exif is not None:
        options["exif"] = exif
    image.save(out, fmt, **options)
    return out.getvalue()


def png_bytes() -> bytes:
    return image_bytes("PNG")
