"""Multipart bodies (Chalice has none) and image checks by content, not by declared type."""
from __future__ import annotations

import io
from typing import TYPE_CHECKING

from . import errors

if TYPE_CHECKING:
    from .web import UploadedFile

IMAGE_FORMATS = {"JPEG": ("jpg", "image/jpeg"), "PNG": ("png", "image/png"), "GIF": ("gif", "image/gif")}


def parse_multipart(content_type: str, body: bytes) -> tuple[dict[str, str], dict[str, "UploadedFile"]]:
    import python_multipart
    from python_multipart.exceptions import FormParserError

    from .web import UploadedFile

    fields: dict[str, str] = {}
    files: dict[str, UploadedFile] = {}

    def on_field(field) -> None:
        name = (field.field_name or b"").decode("utf-8", "replace")
        fields[name] = (field.value or b"").decode("utf-8", "replace")

    def on_file(file) -> None:
        name = (file.field_name or b"").decode("utf-8", "replace")
        fh = file.file_object
        fh.seek(0)
        filename = file.file_name.decode("utf-8", "replace") if file.file_name else None
        files[name] = UploadedFile(filename, getattr(file, "content_type", None), fh.read())
        file.close()

    headers = {"Content-Type": content_type.encode("latin-1"), "Content-Length": str(len(body)).encode()}
    try:
        python_multipart.parse_form(headers, io.BytesIO(body), on_field, on_file)
    except (FormParserError, ValueError) as error:
        raise errors.Invalid("multipart 请求体格式错误", code="parse_error") from error
    return fields, files


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
