"""Labels: everyone signed in reads them, teachers+ create them, the owner or a superuser
changes or deletes them. Renaming or deleting a label re-indexes its topics (label_name and the
exam rule live in the search index too); deleting a label deletes its topics."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select, select, update
from sqlalchemy.orm import Session

from studyhub.clients.queue import enqueue
from studyhub.core import errors
from studyhub.core.times import isoformat
from studyhub.domain.access import Caller, require_owner_or_superuser, require_teacher
from studyhub.domain.work.task_names import INDEX_LABEL
from studyhub.models.base import utcnow
from studyhub.models.work import Label, Topic

from .schemas import LabelIn


def serialize(label: Label) -> dict[str, Any]:
    return {
        "id": label.id,
        "name": label.name,
        "user": label.user_id,
        "create_time": isoformat(label.create_time),
        "update_time": isoformat(label.update_time),
    }


def list_query() -> Select[Label]:
    return select(Label).where(Label.is_delete.is_(False)).order_by(Label.update_time.desc(), Label.id.desc())


def get_label(session: Session, label_id: int) -> Label:
    label = session.get(Label, label_id)
    if label is None or label.is_delete:
        raise errors.NotFound("标签不存在")
    return label


def create(session: Session, caller: Caller, body: LabelIn) -> dict[str, Any]:
    require_teacher(caller)
    label = Label(name=body.name, user_id=caller.id)
    session.add(label)
    session.flush()
    return serialize(label)


def update_label(session: Session, caller: Caller, label_id: int, body: LabelIn) -> dict[str, Any]:
    label = get_label(session, label_id)
    require_owner_or_superuser(caller, label.user_id)
    if body.name != label.name:
        label.name = body.name
        session.flush()
        # the topics' label_name (and maybe the exam rule) changed in the index
        enqueue(session, INDEX_LABEL, label.id)
    return serialize(label)


def delete(session: Session, caller: Caller, label_id: int) -> None:
    label = get_label(session, label_id)
    require_owner_or_superuser(caller, label.user_id)
    label.is_delete = True
    # the label's topics go with it (soft delete, like the label), and out of the index
    session.execute(
        update(Topic)
        .where(Topic.label_id == label.id, Topic.is_delete.is_(False))
        .values(is_delete=True, update_time=utcnow())
        .execution_options(synchronize_session=False)
    )
    enqueue(session, INDEX_LABEL, label.id)
