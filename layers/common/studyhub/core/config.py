"""Settings: one object built from the environment, read once per process.

Every setting has a default that works on one machine with nothing else installed: embedded
state lives under ``var/`` (or ``STUDYHUB_VAR_DIR``). See API.md §7 and the README table.
"""

from __future__ import annotations

import os
import re
import secrets
from dataclasses import dataclass, field
from ipaddress import IPv4Network, IPv6Network, ip_network
from pathlib import Path

from studyhub.core.lazy import Lazy

_TRUE = {"1", "true", "yes", "on"}


def _bool(value: str | None, default: bool) -> bool:
    if value is None or value == "":
        return default
    return value.strip().lower() in _TRUE


def _int(env: dict[str, str], name: str, default: int) -> int:
    raw = env.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        return int(raw)
    except ValueError:
        raise ValueError(f"setting {name} must be an integer, got {raw!r}") from None


RATE_PERIODS = {"second": 1, "minute": 60, "hour": 3600}


@dataclass(frozen=True)
class RateLimit:
    """At most ``count`` requests per ``window_seconds`` (a fixed window) from one client."""

    count: int
    window_seconds: int


def _rate(env: dict[str, str], name: str, default: str) -> RateLimit:
    """``N/second``, ``N/minute`` or ``N/hour`` with N >= 1."""
    raw = (env.get(name) or default).strip()
    count, _, period = raw.partition("/")
    if not count.strip().isdigit() or int(count) < 1 or period.strip().lower() not in RATE_PERIODS:
        raise ValueError(f"setting {name} must look like 30/minute (N >= 1 per second, minute or hour), got {raw!r}")
    return RateLimit(int(count), RATE_PERIODS[period.strip().lower()])


def _networks(env: dict[str, str], name: str, default: str) -> tuple[IPv4Network | IPv6Network, ...]:
    """Comma-separated addresses or CIDR networks."""
    raw = env.get(name)
    raw = default if raw is None else raw
    try:
        return tuple(ip_network(part.strip(), strict=False) for part in raw.split(",") if part.strip())
    except ValueError:
        raise ValueError(f"setting {name} must be comma-separated IP addresses or networks, got {raw!r}") from None


def _positive_float(env: dict[str, str], name: str, default: float) -> float:
    raw = env.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        value = float(raw)
    except ValueError:
        raise ValueError(f"setting {name} must be a number, got {raw!r}") from None
    if not value > 0:
        raise ValueError(f"setting {name} must be positive, got {raw!r}")
    return value


DEFAULT_CORS_ORIGINS = ("http://localhost:*", "http://127.0.0.1:*")  # a frontend's dev server
_ORIGIN = re.compile(r"^https?://[^/?#\s:*]+(:([0-9]{1,5}|\*))?$")


def parse_cors_origins(raw: str | None) -> tuple[str, ...]:
    """``CORS_ALLOW_ORIGINS``: ``*``, or comma-separated origins (``https://school.example.com``,
    ``http://localhost:*`` for any port); unset or empty: the local dev origins."""
    if raw is None or not raw.strip():  # like every other setting
        return DEFAULT_CORS_ORIGINS
    origins = tuple(part.strip().rstrip("/").lower() for part in raw.split(",") if part.strip())
    for origin in origins:
        if origin != "*" and not _ORIGIN.match(origin):
            raise ValueError(f"setting CORS_ALLOW_ORIGINS: {origin!r} is not an origin like https://host[:port] (or *)")
    return origins


def _base_url(env: dict[str, str], name: str) -> str | None:
    """An absolute http(s) URL without query or fragment, kept without its trailing slash."""
    raw = (env.get(name) or "").strip()
    if not raw:
        return None
    if not re.match(r"^https?://[^/?#\s]+(/[^?#\s]*)?$", raw):
        raise ValueError(f"setting {name} must look like https://school.example.com, got {raw!r}")
    return raw.rstrip("/")


def _gateway_url(env: dict[str, str], name: str) -> str | None:
    """An http(s) URL (``https://openapi.alipay.com/gateway.do``), or None when unset."""
    raw = (env.get(name) or "").strip()
    if not raw:
        return None
    if not re.match(r"^https?://[^/?#\s]+(/[^?#\s]*)?$", raw):
        raise ValueError(f"setting {name} must be an http(s) URL (https://openapi.alipay.com/gateway.do), got {raw!r}")
    return raw


def _read_key(value: str | None) -> str | None:
    """PEM text, or ``@/path/to/file``."""
    if not value:
        return None
    if value.startswith("@"):
        return Path(value[1:]).read_text()
    return value.replace("\\n", "\n")


@dataclass(frozen=True)
class Settings:
    var_dir: Path
    database_url: str
    database_tls: bool
    redis_url: str | None
    cache_key_prefix: str
    elasticsearch_url: str | None
    storage_url: str
    media_url: str
    celery_broker_url: str | None
    smtp_url: str | None
    mail_from: str
    jwt_secret: str = field(repr=False)
    jwt_expire_seconds: int
    captcha_expire_seconds: int
    login_max_failures: int
    login_lockout_seconds: int
    avatar_max_bytes: int
    max_body_bytes: int
    time_zone: str
    log_level: str
    log_format: str  # "text" or "json"
    log_file: Path | None
    alipay_app_id: str | None
    alipay_app_private_key: str | None = field(repr=False, default=None)
    alipay_public_key: str | None = field(repr=False, default=None)
    alipay_sandbox: bool = True
    alipay_return_url: str | None = None
    alipay_notify_url: str | None = None
    alipay_gateway: str | None = None  # unset: Alipay's sandbox or production gateway (ALIPAY_SANDBOX)
    order_pay_timeout_seconds: int = 1800
    order_auto_receive_days: int = 14  # shipped orders are marked received after this
    db_retry_attempts: int = 5  # run_in_transaction's tries on deadlock; 10 on Galera (README)
    backend_timeout_seconds: float = 5.0  # the longest wait on a backing service before 503
    rate_limit_captcha: RateLimit = RateLimit(30, 60)
    rate_limit_login: RateLimit = RateLimit(20, 60)
    trusted_proxies: tuple[IPv4Network | IPv6Network, ...] = ()
    image_max_pixels: int = 16_000_000
    # origins a browser may call from (API.md §1 CORS): exact origins, ``scheme://host:*`` for any
    # port, or ``*``; unset or empty: the local dev origins
    cors_allow_origins: tuple[str, ...] = DEFAULT_CORS_ORIGINS
    public_base_url: str | None = None  # makes next/previous and media URLs absolute


def _jwt_secret(var_dir: Path, env: dict[str, str]) -> str:
    """``JWT_SECRET`` or a secret generated once into ``var/`` (shared by every local process)."""
    if env.get("JWT_SECRET"):
        return env["JWT_SECRET"]
    path = var_dir / "jwt_secret"
    try:
        return path.read_text().strip()
    except FileNotFoundError:
        pass
    var_dir.mkdir(parents=True, exist_ok=True)
    candidate = secrets.token_urlsafe(48)
    try:
        # O_EXCL: when two processes start at once, exactly one secret wins.
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(candidate)
        return candidate
    except FileExistsError:
        return path.read_text().strip()


def _var_dir(env: dict[str, str]) -> Path:
    """``STUDYHUB_VAR_DIR``; else on Lambda ``/tmp/studyhub`` (its only writable place, private to
    the container); under the Chalice CLI (``chalice local``) a directory of this user's, shared
    by the functions they run but never by everyone on the host; else ``var/`` here."""
    if env.get("STUDYHUB_VAR_DIR"):
        return Path(env["STUDYHUB_VAR_DIR"]).expanduser().resolve()
    if env.get("AWS_LAMBDA_FUNCTION_NAME"):
        return Path("/tmp/studyhub")
    if env.get("AWS_CHALICE_CLI_MODE"):
        return user_state_dir(env)
    return Path("var").resolve()


def user_state_dir(env: dict[str, str]) -> Path:
    """``$XDG_STATE_HOME/studyhub`` (``~/.local/state/studyhub``); without a home directory,
    ``<tmp>/studyhub-<uid>``, refused if another user owns it."""
    import tempfile

    home = env.get("HOME") or ""
    base = env.get("XDG_STATE_HOME") or (str(Path(home) / ".local" / "state") if home else "")
    if base:
        return Path(base).expanduser().resolve() / "studyhub"
    path = Path(tempfile.gettempdir()) / f"studyhub-{os.getuid()}"
    path.mkdir(mode=0o700, exist_ok=True)
    if path.stat().st_uid != os.getuid():  # created first by someone else: not ours to use
        raise ValueError(f"{path} belongs to another user: set STUDYHUB_VAR_DIR")
    return path


def load_settings(env: dict[str, str] | None = None) -> Settings:
    from studyhub.core.aws_secrets import resolve

    env = resolve(dict(os.environ if env is None else env))  # <NAME>_SSM / <NAME>_SECRET_ID (AWS)
    var_dir = _var_dir(env)
    storage_url = env.get("STORAGE_URL") or f"file://{var_dir / 'media'}"
    if storage_url.startswith("file://") and not storage_url.startswith("file:///"):
        # file://var/media is relative to the working directory, like the other embedded state
        storage_url = "file://" + str(Path(storage_url[len("file://") :]).resolve())
    log_file = env.get("LOG_FILE")
    return Settings(
        var_dir=var_dir,
        database_url=env.get("DATABASE_URL") or f"sqlite:///{var_dir / 'studyhub.sqlite3'}",
        database_tls=_bool(env.get("DATABASE_TLS"), False),
        redis_url=env.get("REDIS_URL") or None,
        cache_key_prefix=env.get("CACHE_KEY_PREFIX", "studyhub:"),
        elasticsearch_url=env.get("ELASTICSEARCH_URL") or None,
        storage_url=storage_url,
        media_url=env.get("MEDIA_URL") or "/api/media/",
        celery_broker_url=env.get("CELERY_BROKER_URL") or None,
        smtp_url=env.get("SMTP_URL") or None,
        mail_from=env.get("MAIL_FROM", "StudyHub <noreply@studyhub.local>"),
        jwt_secret=_jwt_secret(var_dir, env),
        jwt_expire_seconds=_int(env, "JWT_EXPIRE_SECONDS", 86400),
        captcha_expire_seconds=_int(env, "CAPTCHA_EXPIRE_SECONDS", 180),
        login_max_failures=_int(env, "LOGIN_MAX_FAILURES", 5),
        login_lockout_seconds=_int(env, "LOGIN_LOCKOUT_SECONDS", 900),
        avatar_max_bytes=_int(env, "AVATAR_MAX_BYTES", 2 * 1024 * 1024),
        max_body_bytes=_int(env, "MAX_BODY_BYTES", 10 * 1024 * 1024),
        time_zone=env.get("TIME_ZONE", "Asia/Shanghai"),
        log_level=env.get("LOG_LEVEL", "INFO").upper(),
        log_format=env.get("LOG_FORMAT", "text").lower(),
        log_file=Path(log_file) if log_file else var_dir / "logs" / "studyhub.log",
        alipay_app_id=env.get("ALIPAY_APP_ID") or None,
        alipay_app_private_key=_read_key(env.get("ALIPAY_APP_PRIVATE_KEY")),
        alipay_public_key=_read_key(env.get("ALIPAY_PUBLIC_KEY")),
        alipay_sandbox=_bool(env.get("ALIPAY_SANDBOX"), True),
        alipay_return_url=env.get("ALIPAY_RETURN_URL") or None,
        alipay_notify_url=env.get("ALIPAY_NOTIFY_URL") or None,
        alipay_gateway=_gateway_url(env, "ALIPAY_GATEWAY"),
        order_pay_timeout_seconds=_int(env, "ORDER_PAY_TIMEOUT_SECONDS", 1800),
        order_auto_receive_days=max(1, _int(env, "ORDER_AUTO_RECEIVE_DAYS", 14)),
        db_retry_attempts=max(1, _int(env, "DB_RETRY_ATTEMPTS", 5)),
        backend_timeout_seconds=_positive_float(env, "BACKEND_TIMEOUT_SECONDS", 5.0),
        rate_limit_captcha=_rate(env, "RATE_LIMIT_CAPTCHA", "30/minute"),
        rate_limit_login=_rate(env, "RATE_LIMIT_LOGIN", "20/minute"),
        trusted_proxies=_networks(env, "TRUSTED_PROXIES", "127.0.0.1,::1"),
        image_max_pixels=max(1, _int(env, "IMAGE_MAX_PIXELS", 16_000_000)),
        cors_allow_origins=parse_cors_origins(env.get("CORS_ALLOW_ORIGINS")),
        public_base_url=_base_url(env, "PUBLIC_BASE_URL"),
    )


_settings: Lazy[Settings] = Lazy(load_settings)
get_settings = _settings.get
#: Forget the cached settings (tests change the environment).
reset = _settings.reset
