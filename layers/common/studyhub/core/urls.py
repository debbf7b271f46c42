"""Public URLs: with ``PUBLIC_BASE_URL`` set, a path on this site (``/api/...``) becomes an
absolute URL on it, as DRF gives (API.md §1 Absolute URLs); unset, paths stay paths."""

from __future__ import annotations

from studyhub.core.config import get_settings


def absolute(url: str) -> str:
    """``/api/users/users?page=2`` → ``https://school.example.com/api/users/users?page=2``.

    URLs that already name a host (``https://bucket.s3...``, a ``MEDIA_URL`` on a CDN) and
    relative ones are left as they are."""
    base = get_settings().public_base_url
    if base and url.startswith("/") and not url.startswith("//"):
        return base + url
    return url
