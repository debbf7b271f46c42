"""Uploaded images are checked by their content, not by the type a client declares."""

from __future__ import annotations

import io

from studyhub.core import errors

IMAGE_FORMATS = {"JPEG": ("jpg", "image/jpeg"), "PNG": ("png", "image/png"), "GIF": ("gif", "image/gif")}


def check_image(data: bytes, *, max_bytes: int) -> tuple[str, str]:
    """Decode the bytes with Pillow; ``(extension, mime)`` of a real JPEG, PNG or GIF.

    413 when too big, 415 when not one of those images (whatever its declared type says).
    """
    if len(data) > max_bytes:
        raise errors.PayloadTooLarge(f"文件不能超过 {max_bytes // 1024} KiB", code="file_too_large")
    if not data:
        raise errors.Invalid.field("file", "上传的文件为空。", code="empty_file")
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(io.BytesIO(data)) as image:
            fmt = image.format
            image.verify()  # checks the structure without decoding everything
        with Image.open(io.BytesIO(data)) as image:
            if image.width * image.height > 40_000_000:  # decompression-bomb guard
                raise errors.Invalid.field("file", "图片尺寸过大。", code="image_too_large")
            image.load()  # a truncated or corrupt file fails here
    except errors.StudyHubError:
        raise
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombError):
        raise errors.UnsupportedMediaType("请上传 JPEG、PNG 或 GIF 图片", code="unsupported_image") from None
    if fmt not in IMAGE_FORMATS:
        raise errors.UnsupportedMediaType("请上传 JPEG、PNG 或 GIF 图片", code="unsupported_image")
    return IMAGE_FORMATS[fmt]
