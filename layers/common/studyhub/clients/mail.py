"""Email: rendering the credentials email, and sending it through ``SMTP_URL`` or into ``var/mail/``.

``SMTP_URL`` is ``smtp://[user:pass@]host[:port]`` (STARTTLS whenever the server offers it; port
25 by default) or ``smtps://...`` (TLS from the first byte; port 465). Unset, every email is
written as an ``.eml`` file under ``var/mail/`` (development: open it with any mail client).

``seal``/``unseal`` keep a secret (a new student's initial password) encrypted at rest until the
send job reads it: Fernet with a key derived from ``JWT_SECRET``.
"""

from __future__ import annotations

import base64
import html
import os
import smtplib
import ssl
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from studyhub.core.config import get_settings
from studyhub.core.lazy import Lazy

SMTP_TIMEOUT_SECONDS = 20


class PermanentMailError(Exception):
    """The server refused this email for good (bad address, 5xx): retrying will not help."""


# --- rendering -------------------------------------------------------------------------------


def render_credentials(*, to: str, username: str, password: str, class_name: str) -> EmailMessage:
    """The seed's ``send_mail_task`` email: the class, the username and the initial password. A
    user in no class (a password reset of a teacher, say) gets it without the class line."""
    settings = get_settings()
    e = html.escape
    welcome_text = f"欢迎进入【{class_name}】！\n\n" if class_name else ""
    welcome_html = f"<h2>欢迎进入【{e(class_name)}】</h2>\n" if class_name else ""
    message = EmailMessage()
    message["Subject"] = f"欢迎加入【{class_name}】：您的 StudyHub 登录账号" if class_name else "您的 StudyHub 登录账号"
    message["From"] = settings.mail_from
    message["To"] = to
    message["Date"] = formatdate(localtime=True)
    message["Message-ID"] = make_msgid(domain="studyhub.local")
    message.set_content(
        f"{welcome_text}"
        f"老师已为您开通 StudyHub 账号：\n"
        f"  登录用户名：{username}\n"
        f"  初始密码：{password}\n\n"
        f"请登录后尽快修改密码。\n",
        charset="utf-8",
    )
    message.add_alternative(
        f"""<html><body>
{welcome_html}<p>老师已为您开通 StudyHub 账号。</p>
<p>您的登录用户名为 <span style="color: #116bb7">{e(username)}</span></p>
<p>您的初始密码为 <span style="color: #116bb7">{e(password)}</span></p>
<p>请登录后尽快修改密码。</p>
</body></html>""",
        subtype="html",
        charset="utf-8",
    )
    return message


# --- sending ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class SmtpTarget:
    tls: bool  # smtps://
    host: str
    port: int
    username: str | None
    password: str | None

    @classmethod
    def parse(cls, url: str) -> SmtpTarget:
        parts = urlsplit(url)
        if parts.scheme not in ("smtp", "smtps") or not parts.hostname:
            raise ValueError("SMTP_URL must look like smtp://user:pass@host:port or smtps://...")
        tls = parts.scheme == "smtps"
        return cls(
            tls=tls,
            host=parts.hostname,
            port=parts.port or (465 if tls else 25),
            username=unquote(parts.username) if parts.username else None,
            password=unquote(parts.password) if parts.password else None,
        )


def send(message: EmailMessage) -> str:
    """Send ``message``; returns where it went (``smtp://host:port`` or the .eml path).

    Raises ``PermanentMailError`` when the server refuses it for good; any other
    ``smtplib.SMTPException`` or ``OSError`` is worth retrying later.
    """
    settings = get_settings()
    if not settings.smtp_url:
        return str(write_eml(message, settings.var_dir / "mail"))
    target = SmtpTarget.parse(settings.smtp_url)
    context = ssl.create_default_context()
    try:
        if target.tls:
            client: smtplib.SMTP = smtplib.SMTP_SSL(
                target.host, target.port, timeout=SMTP_TIMEOUT_SECONDS, context=context
            )
        else:
            client = smtplib.SMTP(target.host, target.port, timeout=SMTP_TIMEOUT_SECONDS)
        with client:
            client.ehlo()
            if not target.tls and client.has_extn("starttls"):
                client.starttls(context=context)
                client.ehlo()
            if target.username:
                client.login(target.username, target.password or "")
            client.send_message(message)
    except smtplib.SMTPRecipientsRefused as error:
        raise PermanentMailError(f"recipient refused: {sorted(error.recipients)}") from None
    except (smtplib.SMTPDataError, smtplib.SMTPSenderRefused) as error:
        if 500 <= error.smtp_code < 600:
            raise PermanentMailError(f"refused with {error.smtp_code}") from None
        raise
    return f"smtp{'s' if target.tls else ''}://{target.host}:{target.port}"


def write_eml(message: EmailMessage, directory: Path) -> Path:
    """Development delivery: one ``.eml`` file per email, written atomically, readable by its owner."""
    directory.mkdir(parents=True, exist_ok=True)
    name = f"{datetime.now(UTC):%Y%m%d-%H%M%S}-{uuid.uuid4().hex[:12]}.eml"
    path = directory / name
    tmp = directory / f".{name}.tmp"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(message.as_bytes())
    os.replace(tmp, path)
    return path


# --- secrets at rest until the job sends them ------------------------------------------------


def _build_box() -> Any:  # cryptography.fernet.Fernet, imported on first use
    from cryptography.fernet import Fernet
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.kdf.hkdf import HKDF

    key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=b"studyhub credentials mail v1").derive(
        get_settings().jwt_secret.encode()
    )
    return Fernet(base64.urlsafe_b64encode(key))


_fernet: Lazy[Any] = Lazy(_build_box)
_box = _fernet.get


def seal(secret: str) -> str:
    return _box().encrypt(secret.encode()).decode("ascii")


def unseal(token: str) -> str:
    """The secret; ``ValueError`` if ``JWT_SECRET`` changed since it was sealed (or it was tampered)."""
    from cryptography.fernet import InvalidToken

    try:
        return _box().decrypt(token.encode("ascii")).decode()
    except InvalidToken:
        raise ValueError("sealed secret can't be opened with the current JWT_SECRET") from None


reset = _fernet.reset
