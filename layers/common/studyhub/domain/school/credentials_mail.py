"""A new student's credentials email: sent from an outbox row, exactly once, retried.

The job gets the id of a ``CredentialsMail`` outbox row, never the password (which stays sealed
in that row until the server accepted the email, then the row is deleted). Idempotent: a row is
claimed before sending (two jobs for one row never both send), and a row that is gone means the
email went out already. SMTP failures retry with exponential backoff (1 s, 2 s, 4 s ... 10 min);
the sweep picks up rows whose job was lost (broker down at queue time, retries spent).

A row of a roster import carries no password yet (``PASSWORD_PENDING``): hashing a thousand
argon2 passwords would take minutes inside the import's request. The first attempt generates
the password, stores its hash on the account and seals it into the row, in the claim's
transaction; retries then send that same password. The account can't log in before then.
"""

from __future__ import annotations

import logging
from datetime import timedelta

log = logging.getLogger("studyhub.jobs.school")

CLAIM_SECONDS = 120  # longer than one SMTP conversation (20 s timeouts)
MAX_BACKOFF_SECONDS = 600
PASSWORD_PENDING = ""  # ``secret`` of a row whose password the first attempt generates
MAX_RETRIES = 15  # 1 s ... 512 s, then 10 min: about an hour; the sweep takes over after that
LOST_AFTER = timedelta(minutes=2)
GIVE_UP_AFTER = timedelta(days=7)


def backoff(retries: int) -> int:
    return min(MAX_BACKOFF_SECONDS, 2**retries)


def _drop(mail_id: int) -> None:
    from sqlalchemy import delete

    from studyhub.core.db import session_scope
    from studyhub.models.school import CredentialsMail

    with session_scope() as session:
        session.execute(delete(CredentialsMail).where(CredentialsMail.id == mail_id))


def deliver(mail_id: int, *, retry_in: int = 60) -> str:
    """Send outbox row ``mail_id``: ``"sent"``, ``"gone"`` (sent already), ``"busy"`` (another
    job holds it) or ``"dropped"`` (can never be sent). A transient SMTP failure (``OSError``,
    which includes every ``smtplib`` error) releases the row, due again in ``retry_in`` s, and is re-raised.
    """
    from sqlalchemy import or_, update

    from studyhub.clients.mail import PermanentMailError, render_credentials, seal, send, unseal
    from studyhub.core.db import rows_matched, session_scope
    from studyhub.core.security import hash_password
    from studyhub.domain.school.students import generate_password
    from studyhub.domain.users.accounts import PASSWORD_NOT_SET
    from studyhub.models.base import utcnow
    from studyhub.models.school import CredentialsMail
    from studyhub.models.users import User

    now = utcnow()
    with session_scope() as session:
        claimed = rows_matched(
            session,
            update(CredentialsMail)
            .where(
                CredentialsMail.id == mail_id,
                or_(CredentialsMail.claimed_until.is_(None), CredentialsMail.claimed_until < now),
            )
            .values(claimed_until=now + timedelta(seconds=CLAIM_SECONDS), attempts=CredentialsMail.attempts + 1),
        )
        if not claimed:
            return "busy" if session.get(CredentialsMail, mail_id) is not None else "gone"
        row = session.get_one(CredentialsMail, mail_id)  # claimed just now: it is there
        user = session.get(User, row.user_id)
        username = user.username if user is not None and user.is_active else None
        already_set = False
        if user is not None and username is not None and row.secret == PASSWORD_PENDING:
            # Set meanwhile (an operator's set-password or reset): that one stands, nothing to send.
            already_set = user.password != PASSWORD_NOT_SET
            if not already_set:
                first_password = generate_password()
                user.password = hash_password(first_password)  # the account's first: no token to revoke
                row.secret = seal(first_password)
                del first_password
        user_id, email, class_name, sealed, attempt = row.user_id, row.email, row.class_name, row.secret, row.attempts

    if username is None or already_set:
        _drop(mail_id)
        reason = "password set otherwise" if already_set else "user gone or inactive"
        log.warning("credentials email dropped mail_id=%s user_id=%s: %s", mail_id, user_id, reason)
        return "dropped"
    try:
        password = unseal(sealed)
    except ValueError:
        _drop(mail_id)
        log.error(
            "credentials email dropped mail_id=%s user_id=%s: JWT_SECRET changed since registration", mail_id, user_id
        )
        return "dropped"

    message = render_credentials(to=email, username=username, password=password, class_name=class_name)
    del password
    try:
        where = send(message)
    except PermanentMailError as error:
        _drop(mail_id)
        log.warning("credentials email dropped mail_id=%s user_id=%s: %s", mail_id, user_id, error)
        return "dropped"
    except OSError as error:
        with session_scope() as session:
            session.execute(
                update(CredentialsMail)
                .where(CredentialsMail.id == mail_id)
                .values(
                    claimed_until=None,
                    next_attempt_at=utcnow() + timedelta(seconds=retry_in),
                    last_error=f"{type(error).__name__}: {error}"[:200],
                )
            )
        log.warning(
            "credentials email failed mail_id=%s user_id=%s attempt=%d (%s); retry in %ss",
            mail_id,
            user_id,
            attempt,
            type(error).__name__,
            retry_in,
        )
        raise
    _drop(mail_id)
    log.info("credentials email sent mail_id=%s user_id=%s attempt=%d via %s", mail_id, user_id, attempt, where)
    return "sent"


def lost_mail_ids(limit: int = 500) -> list[int]:
    """Rows overdue by ``LOST_AFTER`` and not held by a job; rows past ``GIVE_UP_AFTER`` are deleted."""
    from sqlalchemy import delete, or_, select

    from studyhub.core.db import session_scope
    from studyhub.models.base import utcnow
    from studyhub.models.school import CredentialsMail

    now = utcnow()
    with session_scope() as session:
        expired = list(
            session.scalars(select(CredentialsMail.user_id).where(CredentialsMail.create_time < now - GIVE_UP_AFTER))
        )
        if expired:
            session.execute(delete(CredentialsMail).where(CredentialsMail.create_time < now - GIVE_UP_AFTER))
            log.error("credentials emails abandoned after %s for user ids %s", GIVE_UP_AFTER, expired)
        return list(
            session.scalars(
                select(CredentialsMail.id)
                .where(
                    CredentialsMail.next_attempt_at < now - LOST_AFTER,
                    or_(CredentialsMail.claimed_until.is_(None), CredentialsMail.claimed_until < now),
                )
                .order_by(CredentialsMail.id)
                .limit(limit)
            )
        )
