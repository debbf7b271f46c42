"""Multipart bodies (Chalice has none), parsed into fields and ``UploadedFile``s."""

from __future__ import annotations

import io
from dataclasses import dataclass
from typing import TYPE_CHECKING

from studyhub.core import errors

if TYPE_CHECKING:  # python_multipart is imported on the first multipart body
    from python_multipart.multipart import Field, File


@dataclass
class UploadedFile:
    filename: str | None
    content_type: str | None
    data: bytes


def parse_multipart(content_type: str, body: bytes) -> tuple[dict[str, str], dict[str, UploadedFile]]:
    import python_multipart
    from python_multipart.exceptions import FormParserError

    fields: dict[str, str] = {}
    files: dict[str, UploadedFile] = {}

    def on_field(field: Field) -> None:
        name = (field.field_name or b"").decode("utf-8", "replace")
        fields[name] = (field.value or b"").decode("utf-8", "replace")

    def on_file(file: File) -> None:
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
