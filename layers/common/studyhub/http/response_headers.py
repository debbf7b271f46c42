"""The headers every answer carries, whoever makes it (a view, an error, a preflight, a front
door's own 404 or media file): API.md §1 Headers and CORS.

- ``X-Content-Type-Options: nosniff`` always;
- ``Cache-Control: no-store`` when the request was authenticated (it sent ``Authorization``):
  a shared cache never keeps one user's answer;
- ``Vary: Origin`` always (the CORS headers depend on it), and the CORS headers of
  ``studyhub.http.cors`` for an allowed origin.

``X-Request-Id`` is the binder's and the front doors' (they know the request's id).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from studyhub.http.cors import cors_policy

NOSNIFF = ("X-Content-Type-Options", "nosniff")


def for_request(request_headers: Mapping[str, str]) -> dict[str, str]:
    """The headers an answer to a request with these (lower-cased) headers must carry."""
    out = {NOSNIFF[0]: NOSNIFF[1], "Vary": "Origin"}
    if request_headers.get("authorization"):
        out["Cache-Control"] = "no-store"
    out.update(cors_policy().headers(request_headers.get("origin")))
    return out


def preflight(request_headers: Mapping[str, str], methods: Iterable[str]) -> dict[str, str]:
    """A ``204`` answer to ``OPTIONS`` on a route serving ``methods``: ``Allow`` for anyone, the
    CORS preflight headers for an allowed origin."""
    methods = list(methods)
    allow = {"Allow": ", ".join([*methods, "OPTIONS"])}
    return {**allow, **cors_policy().preflight_headers(request_headers.get("origin"), methods)}


def merge(headers: Iterable[tuple[str, str]], extra: Mapping[str, str]) -> list[tuple[str, str]]:
    """``headers`` with ``extra`` set: a header of the same name is replaced (names compare
    case-insensitively), except ``Vary``, whose values are joined."""
    out: list[tuple[str, str]] = []
    vary: list[str] = []
    replaced = {name.lower() for name in extra}
    for name, value in headers:
        if name.lower() == "vary":
            vary.extend(v.strip() for v in value.split(",") if v.strip())
        elif name.lower() not in replaced:
            out.append((name, value))
    for name, value in extra.items():
        if name.lower() == "vary":
            vary.extend(v.strip() for v in value.split(",") if v.strip())
        else:
            out.append((name, value))
    if vary:
        seen: dict[str, str] = {}
        for value in vary:
            seen.setdefault(value.lower(), value)
        out.append(("Vary", ", ".join(seen.values())))
    return out
