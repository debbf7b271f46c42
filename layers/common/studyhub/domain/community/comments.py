"""Threaded comments: a page of an article's top-level comments, each carrying every reply of its
thread, loaded in a fixed number of queries however many comments there are.

Every reply stores its thread's top-level comment (``root_comment_id``), so a reply to a reply
hangs under the same top-level comment and the replies of a whole page come from one query. The
authors of the page (commenters and the people they answer) come from one more query.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from studyhub.core import errors
from studyhub.core.times import isoformat
from studyhub.domain.access import Caller, require_owner_or_superuser
from studyhub.domain.users.accounts import avatar_url
from studyhub.models.community import Article, Comment
from studyhub.models.users import User

from .schemas import CommentEdit, CommentIn, CommentPatch

# By creation (API.md §5), never by update_time: an edited comment keeps its place in its thread.
NEWEST_FIRST = (Comment.create_time.desc(), Comment.id.desc())


def _no_such(field: str, value: Any, code: str) -> errors.Invalid:
    # DRF's PrimaryKeyRelatedField message, as the old frontend shows it
    return errors.Invalid.field(field, f"无效主键 “{value}” － 对象不存在。", code=code)


def article_for_comments(session: Session, raw: Any) -> int:
    """The ``article`` of a comment list or a new comment: a live article's id, else 400 (as
    DRF's filter and PrimaryKeyRelatedField answer an unknown id)."""
    if raw is None or raw == "":
        raise errors.Invalid.field("article", "该字段是必填项。", code="article_required")
    try:
        article_id = int(raw)
    except (TypeError, ValueError):
        raise errors.Invalid.field("article", "请填写合法的整数值。", code="invalid") from None
    found = session.scalar(select(Article.id).where(Article.id == article_id, Article.is_delete.is_(False)))
    if found is None:
        raise _no_such("article", raw, "article_not_found")
    return found


def top_level_query(article_id: int) -> Select[Comment]:
    return (
        select(Comment)
        .where(
            Comment.article_id == article_id,
            Comment.root_comment_id.is_(None),
            Comment.is_delete.is_(False),
        )
        .order_by(*NEWEST_FIRST)
    )


# --- rendering -------------------------------------------------------------------------------


def _authors(session: Session, user_ids: set[int]) -> dict[int, tuple[str, str | None]]:
    """``{id: (username, avatar url)}`` in one query of three columns (no User rows, no groups)."""
    if not user_ids:
        return {}
    rows = session.execute(select(User.id, User.username, User.avatar).where(User.id.in_(user_ids)))
    return {uid: (name, avatar_url(avatar)) for uid, name, avatar in rows}


def _fields(comment: Comment, authors: dict[int, tuple[str, str | None]]) -> dict[str, Any]:
    name, avatar = authors.get(comment.user_id, (None, None))
    return {
        "id": comment.id,
        "article": comment.article_id,
        "content": comment.content,
        "user": comment.user_id,
        "user_name": name,
        "user_avatar": avatar,
        "parent_comment": comment.parent_comment_id,
        "create_time": isoformat(comment.create_time),
    }


def _reply(reply: Comment, answered: Comment | None, authors: dict[int, tuple[str, str | None]]) -> dict[str, Any]:
    body = _fields(reply, authors)
    # The author of the comment being answered (the original returned the replier's own name).
    body["reply_username"] = authors.get(answered.user_id, (None, None))[0] if answered else None
    return body


def serialize_page(session: Session, roots: list[Comment]) -> list[dict[str, Any]]:
    """Top-level comments with ``sonComments`` (newest first): two queries for any page size.

    Replies are loaded with the deleted ones too: a deleted reply is not shown, but a reply
    answering it still names its author.
    """
    if not roots:
        return []
    replies = list(
        session.scalars(
            select(Comment).where(Comment.root_comment_id.in_([c.id for c in roots])).order_by(*NEWEST_FIRST)
        )
    )
    # keyed by nullable ids too: a root has no parent, and every reply here has a root
    by_id: dict[int | None, Comment] = {c.id: c for c in (*roots, *replies)}
    live = [r for r in replies if not r.is_delete]
    user_ids = {c.user_id for c in roots} | {r.user_id for r in live}
    user_ids |= {by_id[r.parent_comment_id].user_id for r in live if r.parent_comment_id in by_id}
    authors = _authors(session, user_ids)
    threads: dict[int | None, list[dict[str, Any]]] = {c.id: [] for c in roots}
    for reply in live:
        threads[reply.root_comment_id].append(_reply(reply, by_id.get(reply.parent_comment_id), authors))
    return [{**_fields(c, authors), "sonComments": threads[c.id]} for c in roots]


# --- writes ----------------------------------------------------------------------------------


def _live_comment(session: Session, comment_id: int | None) -> Comment | None:
    comment = session.get(Comment, comment_id) if comment_id is not None else None
    if comment is None or comment.is_delete:
        return None
    return comment


def create(session: Session, caller: Caller, body: CommentIn) -> dict[str, Any]:
    """A top-level comment, or a reply hung under the top-level comment of the one it answers."""
    article_id = article_for_comments(session, body.article)
    parent = root_id = None
    if body.parent_comment is not None:
        parent = _live_comment(session, body.parent_comment)
        if parent is None:
            raise _no_such("parent_comment", body.parent_comment, "parent_comment_not_found")
        if parent.article_id != article_id:
            raise errors.Invalid.field("parent_comment", "回复的评论不属于该文章。", code="parent_comment_mismatch")
        root_id = parent.root_comment_id or parent.id
        if root_id != parent.id and _live_comment(session, root_id) is None:
            # the thread was deleted: nobody would ever see this reply
            raise _no_such("parent_comment", body.parent_comment, "parent_comment_not_found")
    comment = Comment(
        article_id=article_id,
        user_id=caller.id,
        content=body.content,
        parent_comment_id=parent.id if parent else None,
        root_comment_id=root_id,
    )
    session.add(comment)
    session.flush()
    authors = _authors(session, {caller.id} | ({parent.user_id} if parent else set()))
    if parent is None:
        return {**_fields(comment, authors), "sonComments": []}
    return _reply(comment, parent, authors)


def _visible_comment(session: Session, comment_id: int) -> Comment:
    """A live comment of a live article, else 404."""
    comment = _live_comment(session, comment_id)
    if (
        comment is None
        or session.scalar(select(Article.is_delete).where(Article.id == comment.article_id)) is not False
    ):
        raise errors.NotFound()
    return comment


def update(session: Session, caller: Caller, comment_id: int, body: CommentEdit | CommentPatch) -> dict[str, Any]:
    """The author changes the text (others 403, a superuser too: it's the author's words); the
    comment stays where it is, and comes back as the list shows it (a thread, or a reply)."""
    comment = _visible_comment(session, comment_id)
    if comment.user_id != caller.id:
        raise errors.Forbidden("只能修改自己的评论")
    if "content" in body.model_fields_set:
        if body.content is None:
            raise errors.Invalid.field("content", "该字段不能为空。")
        comment.content = body.content
        session.flush()
    if comment.root_comment_id is None:
        return serialize_page(session, [comment])[0]
    parent = session.get(Comment, comment.parent_comment_id) if comment.parent_comment_id is not None else None
    authors = _authors(session, {comment.user_id} | ({parent.user_id} if parent else set()))
    return _reply(comment, parent, authors)


def delete(session: Session, caller: Caller, comment_id: int) -> None:
    """Soft delete; a deleted top-level comment takes its thread out of the list with it."""
    comment = _visible_comment(session, comment_id)
    require_owner_or_superuser(caller, comment.user_id)
    comment.is_delete = True
