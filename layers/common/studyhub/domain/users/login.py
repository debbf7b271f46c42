"""The captcha and login: captcha first (single use, any case), then the password, with a
per-username lockout after repeated failures, counted on the name's canonical form."""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from studyhub.clients.cache import get_cache
from studyhub.core import errors
from studyhub.core.config import get_settings
from studyhub.core.security import burn_password_check, issue_token, verify_password
from studyhub.domain.users.accounts import avatar_url
from studyhub.domain.users.captcha import CAPTCHA_KEY, random_code, render
from studyhub.domain.users.usernames import canonical_username
from studyhub.models import utcnow
from studyhub.models.users import User

UUID_PATTERN = re.compile(r"^[0-9a-fA-F]{8}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{12}$")
FAILURES_KEY = "login:failures:{username}"


def new_captcha(uuid: str) -> bytes:
    if not UUID_PATTERN.match(uuid):
        raise errors.Invalid.field("uuid", "uuid 格式不正确。", code="invalid_uuid")
    code = random_code()
    image = render(code)
    get_cache().set(CAPTCHA_KEY.format(uuid=uuid.lower()), code, ttl=get_settings().captcha_expire_seconds)
    return image


def captcha_answer(uuid: str) -> str | None:
    """The answer of a live captcha, left in place (``studyhub captcha-answer``: development and
    end-to-end tests log in without reading the image); ``None`` when unknown or expired."""
    stored = get_cache().get(CAPTCHA_KEY.format(uuid=uuid.strip().lower()))
    return None if stored is None else str(stored)  # the cache decodes its JSON: the plain text


def _check_captcha(uuid: str, verify: str) -> None:
    stored = get_cache().pop(CAPTCHA_KEY.format(uuid=uuid.lower()))  # gone after any attempt
    if stored is None:
        raise errors.Invalid("验证码已过期，请刷新", code="captcha_expired")
    if str(stored).upper() != verify.strip().upper():
        raise errors.Invalid("验证码错误", code="captcha_invalid")


def login(session: Session, body: dict[str, Any]) -> dict[str, Any]:
    settings = get_settings()
    cache = get_cache()
    uuid, verify = body.get("uuid"), body.get("verify")
    if not isinstance(uuid, str) or not isinstance(verify, str) or not uuid or not verify:
        raise errors.Invalid("请输入验证码", code="captcha_required")
    username = body.get("username")
    password = body.get("password")
    if not isinstance(username, str) or not isinstance(password, str) or not username or not password:
        cache.delete(CAPTCHA_KEY.format(uuid=uuid.lower()))
        raise errors.Invalid(
            "请输入用户名和密码",
            code="invalid",
            errors={k: ["该字段是必填项。"] for k in ("username", "password") if not body.get(k)},
        )
    # Every spelling of a name ("name ", "ＮＡＭＥ", "Name") is that one account, with one lockout.
    canonical = canonical_username(username.strip())
    failures_key = FAILURES_KEY.format(username=canonical)
    failures = cache.get(failures_key) or 0
    if failures >= settings.login_max_failures:
        cache.delete(CAPTCHA_KEY.format(uuid=uuid.lower()))
        retry = cache.ttl(failures_key) or settings.login_lockout_seconds
        raise errors.RateLimited("登录失败次数过多，请稍后再试", retry_after=retry, code="too_many_attempts")
    _check_captcha(uuid, verify)

    user = session.scalar(select(User).where(User.username_canonical == canonical))
    # The read's transaction ends before the slow hash (~0.2 s of argon2): on SQLite every
    # transaction holds the one write lock from its BEGIN IMMEDIATE, and a class logging in at
    # once queued behind each other's hashes past the busy timeout (503). The last_login UPDATE
    # below starts a short transaction of its own, committed with the request.
    session.commit()
    if user is None:
        burn_password_check(password)
    if user is None or not verify_password(password, user.password) or not user.is_active:
        cache.incr(failures_key, settings.login_lockout_seconds)
        raise errors.Invalid("用户名或密码错误", code="invalid_credentials")
    cache.delete(failures_key)
    user.last_login = utcnow()
    return {
        "token": issue_token(user),
        "id": user.id,
        "username": user.username,
        "avatar": avatar_url(user.avatar),
    }
