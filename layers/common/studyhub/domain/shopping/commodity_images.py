"""A commodity's image uploaded as a file (the same checks as an avatar); ``image`` becomes its URL.

The new file is stored before the row changes and deleted if the transaction fails; the file it
replaces is deleted only once the transaction commits, so a failure leaves the old image in place
and nothing new behind.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from studyhub.core import errors
from studyhub.core.config import get_settings
from studyhub.core.db import on_rollback
from studyhub.domain.access import Caller, require_superuser
from studyhub.domain.images import check_image

from .commodities import forget_uploaded, get_live


def upload_image(session: Session, caller: Caller, commodity_id: int, files: dict[str, Any]) -> dict[str, str]:
    from studyhub.clients.storage import get_storage

    require_superuser(caller)
    commodity = get_live(session, commodity_id)
    upload = files.get("file")
    if upload is None:
        raise errors.Invalid.field("file", "没有提交文件。", code="file_required")
    extension, mime = check_image(upload.data, max_bytes=get_settings().avatar_max_bytes)
    storage = get_storage()
    key = storage.save(upload.data, prefix=f"commodities/{commodity.id}", extension=extension, content_type=mime)
    on_rollback(session, lambda: storage.delete(key))
    url = storage.url(key)
    forget_uploaded(session, commodity)
    commodity.image, commodity.image_key = url, key
    session.flush()
    return {"data": url}
