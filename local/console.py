"""The console's built bundle (``console/dist``) as the front door serves it at ``/``.

A path whose first segment is an API word (a group of routes.yaml, ``media``, ``api``, or a
top-level route of the meta function such as ``health``) is never the console's: the front door
also takes API paths without the ``/api`` prefix (Nginx forwards them so). Everything else asked
for by a browser (``Accept: text/html``) is the single-page app's ``index.html`` (no-cache), its
client-side router shows the page or its own "not found"; ``/assets/*`` are hashed, immutable
files. Other clients keep the JSON 404 they had.
"""

from __future__ import annotations

import gzip
import threading
from pathlib import Path

from studyhub.core.routing import Routing

from .gateway import GatewayResponse

CONSOLE_DIST = Path(__file__).resolve().parent.parent / "console" / "dist"
ASSETS = "/assets/"
IMMUTABLE = "public, max-age=31536000, immutable"
TYPES = {
    "html": "text/html; charset=utf-8",
    "js": "text/javascript; charset=utf-8",
    "css": "text/css; charset=utf-8",
    "svg": "image/svg+xml",
    "png": "image/png",
    "jpg": "image/jpeg",
    "ico": "image/x-icon",
    "webp": "image/webp",
    "woff2": "font/woff2",
    "json": "application/json; charset=utf-8",
    "txt": "text/plain; charset=utf-8",
}
# The page runs only its own scripts and talks only to its own origin; images may come from the
# storage's public URLs (S3, PUBLIC_BASE_URL) and from the page itself (previews: blob:).
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data: blob: https: http:; "
    "connect-src 'self'; object-src 'none'; base-uri 'self'; frame-ancestors 'none'"
)
COMPRESSIBLE = {"html", "js", "css", "svg", "json", "txt"}
MISSING_BUILD = """<!doctype html>
<html lang="zh-CN"><head><meta charset="utf-8"><title>StudyHub</title></head>
<body style="font-family: system-ui, sans-serif; max-width: 40rem; margin: 3rem auto; padding: 0 1rem">
<h1>StudyHub</h1>
<p>The API is running at <a href="/api/">/api/</a> (docs: <a href="/api/docs">/api/docs</a>), but the
web console's build is missing from <code>{root}</code>.</p>
<p>Build it with Node 20: <code>cd console &amp;&amp; npm ci &amp;&amp; npm run build</code>, or use a
checkout that ships <code>console/dist</code>.</p>
<p>控制台尚未构建：请在 <code>console</code> 目录执行 <code>npm ci &amp;&amp; npm run build</code>。</p>
</body></html>
"""


def api_segments(routing: Routing) -> frozenset[str]:
    """First path segments that belong to the API, never to the console (one rule for both:
    the front door and ``tests/unit/test_console_routes.py``, which checks the console's routes)."""
    words = {"api", "media", routing.prefix.strip("/")}
    for function in routing.functions.values():
        words.add(function.prefix.strip("/"))
        for route_path, _methods in function.routes:
            words.add(route_path.strip("/").split("/", 1)[0])
    words.discard("")
    return frozenset(words)


class ConsoleFiles:
    """Reads the bundle from disk on each request (a rebuild shows at once) and keeps gzip copies
    of the text files in memory, keyed by size and mtime (a school's slow network: about 45 kB
    instead of 120 kB for the first load)."""

    def __init__(self, root: Path, reserved: frozenset[str]) -> None:
        self.root = root
        self.reserved = reserved
        self._gzipped: dict[Path, tuple[tuple[int, int], bytes]] = {}
        self._lock = threading.Lock()

    def owns(self, method: str, path: str, accept: str) -> bool:
        """Is this request the console's? ``path`` is as received (``/api`` not yet removed)."""
        if method not in ("GET", "HEAD"):
            return False
        first = path.lstrip("/").split("/", 1)[0]
        if first in self.reserved:
            return False
        return path.startswith(ASSETS) or "text/html" in accept.lower()

    def serve(self, path: str, accept_encoding: str = "") -> GatewayResponse | None:
        """The file or the app's page; None: no such asset (the caller's JSON 404)."""
        if path.startswith(ASSETS):
            target = self._inside(path[len(ASSETS) :], self.root / "assets")
            if target is None or not target.is_file():
                return None
            return self._file(target, IMMUTABLE, accept_encoding)
        index = self.root / "index.html"
        if not index.is_file():
            body = MISSING_BUILD.format(root=self.root).encode()
            return GatewayResponse(404, [("Content-Type", TYPES["html"]), ("Cache-Control", "no-cache")], body)
        page = self._file(index, "no-cache", accept_encoding)
        page.headers.append(("Content-Security-Policy", CONTENT_SECURITY_POLICY))
        return page

    @staticmethod
    def _inside(name: str, base: Path) -> Path | None:
        if not name or "\x00" in name or "\\" in name or any(part in ("", ".", "..") for part in name.split("/")):
            return None
        return base / name

    def _file(self, target: Path, cache: str, accept_encoding: str) -> GatewayResponse:
        suffix = target.suffix.lstrip(".").lower()
        headers = [
            ("Content-Type", TYPES.get(suffix, "application/octet-stream")),
            ("Cache-Control", cache),
            ("Vary", "Accept-Encoding"),
        ]
        if suffix in COMPRESSIBLE and "gzip" in accept_encoding.lower():
            headers.append(("Content-Encoding", "gzip"))
            return GatewayResponse(200, headers, self._gzip(target))
        return GatewayResponse(200, headers, target.read_bytes())

    def _gzip(self, target: Path) -> bytes:
        stat = target.stat()
        key = (stat.st_size, stat.st_mtime_ns)
        with self._lock:
            cached = self._gzipped.get(target)
        if cached and cached[0] == key:
            return cached[1]
        body = gzip.compress(target.read_bytes(), compresslevel=9, mtime=0)
        with self._lock:
            self._gzipped[target] = (key, body)
        return body
