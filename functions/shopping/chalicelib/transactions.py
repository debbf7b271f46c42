"""Routes that write through ``run_in_transaction`` (retried whole on deadlock, each attempt its
own session) instead of the binder's per-request session: the caller is read in a short
transaction of its own, and exhausted retries become the contract's 503."""
from __future__ import annotations

from sqlalchemy.exc import DBAPIError, IntegrityError

from studyhub import db, errors
from studyhub.web import Req


def transaction_caller(req: Req):
    """The authenticated caller, read in a short transaction of its own (not ``req.session``)."""
    from studyhub.auth import token_from_header, user_from_token

    token = token_from_header(req.headers.get("authorization"))
    if token is None:
        raise errors.Unauthorized()
    with db.session_scope() as session:
        user = user_from_token(session, token)
    req.user_id = user.id
    return user


def in_transaction(work, *, again_on_duplicate: bool = False):
    """``work(session)`` retried whole on deadlock; retries used up → 503, never a 500.

    ``again_on_duplicate``: a duplicate-key error means a concurrent request inserted the row
    this one wanted to insert; running the work again finds it.
    """
    try:
        try:
            return db.run_in_transaction(work)
        except IntegrityError:
            if not again_on_duplicate:
                raise
            return db.run_in_transaction(work)
    except DBAPIError as error:
        if db.is_retryable(error):
            raise errors.Unavailable("database", "系统繁忙，请稍后重试") from error
        raise
