"""Uploaded images are checked by their content, not by the type a client declares.

A small file can declare a huge image (a decompression bomb: 300 KB of PNG that decodes to
300 MB). Pillow's ``Image.open`` only reads the header, so the declared size is checked there,
before anything is decoded (API.md §1 Limits on input).
"""

from __future__ import annotations

import io
import math
from typing import TYPE_CHECKING

from studyhub.core import errors
from studyhub.core.config import get_settings

if TYPE_CHECKING:
    from PIL.Image import Image as PILImage

IMAGE_FORMATS = {"JPEG": ("jpg", "image/jpeg"), "PNG": ("png", "image/png"), "GIF": ("gif", "image/gif")}
MAX_DECODED_BYTES = 64 * 1024 * 1024
PNG_BIT_DEPTH_OFFSET = 24  # signature (8), IHDR length and type (8), width and height (8)


def _too_large() -> errors.Invalid:
    return errors.Invalid.field("file", "图片尺寸过大。", code="image_too_large")


def _bytes_per_sample(image: PILImage, data: bytes) -> int:
    """What the header declares: a 16-bit PNG says so in its IHDR even when Pillow's mode is 8-bit."""
    from PIL import ImageMode

    size = int(ImageMode.getmode(image.mode).typestr[-1])
    if image.format == "PNG" and len(data) > PNG_BIT_DEPTH_OFFSET:
        size = max(size, math.ceil(data[PNG_BIT_DEPTH_OFFSET] / 8))
    return size


def check_declared_size(image: PILImage, data: bytes) -> None:
    """400 when the header declares more than ``IMAGE_MAX_PIXELS`` pixels or 64 MiB decoded."""
    pixels = image.width * image.height
    decoded = pixels * len(image.getbands()) * _bytes_per_sample(image, data)
    if pixels > get_settings().image_max_pixels or decoded > MAX_DECODED_BYTES:
        raise _too_large()


def check_image(data: bytes, *, max_bytes: int) -> tuple[str, str]:
    """Decode the bytes with Pillow; ``(extension, mime)`` of a real JPEG, PNG or GIF.

    413 when too big, 400 when its header declares too large an image, 415 when not one of those
    images (whatever its declared type says).
    """
    if len(data) > max_bytes:
        raise errors.PayloadTooLarge(f"文件不能超过 {max_bytes // 1024} KiB", code="file_too_large")
    if not data:
        raise errors.Invalid.field("file", "上传的文件为空。", code="empty_file")
    from PIL import Image, UnidentifiedImageError

    # Pillow's own guard, from the same setting: whatever opens an image raises past twice this
    # (DecompressionBombError) instead of allocating; below that the header check here decides.
    Image.MAX_IMAGE_PIXELS = get_settings().image_max_pixels
    try:
        with Image.open(io.BytesIO(data)) as image:  # lazy: reads the header only
            fmt = image.format
            check_declared_size(image, data)
            image.verify()  # checks the structure without decoding everything
        with Image.open(io.BytesIO(data)) as image:
            image.load()  # a truncated or corrupt file fails here
    except errors.StudyHubError:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):  # the warning, if warnings are errors
        raise _too_large() from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError):
        raise errors.UnsupportedMediaType("请上传 JPEG、PNG 或 GIF 图片", code="unsupported_image") from None
    if fmt not in IMAGE_FORMATS:
        raise errors.UnsupportedMediaType("请上传 JPEG、PNG 或 GIF 图片", code="unsupported_image")
    return IMAGE_FORMATS[fmt]
