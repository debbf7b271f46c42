"""Nginx config generated from routes.yaml: one upstream per function, ``/api`` stripped,
trailing slash tolerated, upload size limit, keepalive, timeouts, request ids, JSON errors.

Every answer Nginx makes itself (unknown path, body too large, upstream down, missing media
file) is the contract's JSON with ``X-Request-Id``; answers from a function pass through as they
are (``proxy_intercept_errors off``), so its own 404/503 JSON is never rewritten.

The functions are reached over HTTP (``proxy_pass``: ``studyhub serve``, gunicorn, uWSGI's
``http-socket``) or, with ``uwsgi=True``, over the uwsgi protocol (``uwsgi_pass``: uWSGI's
``socket``, ``infra/uwsgi/uwsgi.ini``). With ``static_root`` Nginx also serves a frontend build
(``dist/``) at ``/``, every unknown path falling back to its ``index.html`` (the SPA's router
decides), while ``/api`` stays the functions'.
"""

from __future__ import annotations

import os
from pathlib import Path

from studyhub.core.routing import load_routing

JSON_TYPE = '"application/json; charset=utf-8"'
# Nginx's own answers carry the request id too (a function echoes the one it was given).
REQUEST_ID_HEADER = "add_header X-Request-Id $studyhub_request_id always;"
NOSNIFF_HEADER = "add_header X-Content-Type-Options nosniff always;"
# Nginx's own answers follow the functions' header rules (studyhub.http.response_headers): CORS
# for an allowed origin (the maps below, from the same rule), no-store for authenticated requests.
# An empty value sends no header, so a disallowed origin gets no Access-Control-* header.
EDGE_HEADERS = (
    "add_header Access-Control-Allow-Origin $studyhub_cors_origin always; "
    "add_header Access-Control-Expose-Headers $studyhub_cors_expose always; "
    "add_header Vary Origin always; "
    "add_header Cache-Control $studyhub_no_store always;"
)
# Client connections idle (or sending a request) this long are closed, like the WSGI server's.
CLIENT_IDLE_SECONDS = 30


def _json(error) -> str:
    """The error's contract JSON, quoted for an Nginx ``return``."""
    from studyhub.http.responses import dumps

    body = dumps(error.body())
    if any(c in body for c in "'\\$"):  # quote, escape, variable: would change the text
        raise ValueError(f"can't quote for nginx: {body}")
    return f"'{body}'"


def _json_return(status: int, error) -> str:
    # `return` takes its type from the URI's extension (`/api/media/x.png` -> image/png), else
    # default_type (octet-stream): an empty `types` map makes it always the JSON type.
    return (
        f"types {{ }} default_type {JSON_TYPE}; {REQUEST_ID_HEADER} {NOSNIFF_HEADER} {EDGE_HEADERS} "
        f"return {status} {_json(error)};"
    )


def _edge_header_maps() -> list[str]:
    """The variables of ``EDGE_HEADERS``: the origin echoed when ``CORS_ALLOW_ORIGINS`` allows it
    (its regular expression, as Python matches it), ``no-store`` when ``Authorization`` was sent.

    Preflights are not answered here: they go to the function like any request (its app answers
    them with the route's methods), so every front door answers them the same way."""
    from studyhub.http.cors import EXPOSE_HEADERS, cors_policy

    pattern = cors_policy().pattern
    if pattern is not None and any(c in pattern for c in '"{};'):
        raise ValueError(f"can't quote for nginx: {pattern}")
    allowed = f' "~*{pattern}" $http_origin;' if pattern else ""
    return [
        f'map $http_origin $studyhub_cors_origin {{ default "";{allowed} }}',
        f'map $studyhub_cors_origin $studyhub_cors_expose {{ default "{EXPOSE_HEADERS}"; "" ""; }}',
        'map $http_authorization $studyhub_no_store { default "no-store"; "" ""; }',
        # media from disk: cached a day, except for an authenticated request (no-store instead)
        'map $http_authorization $studyhub_media_expires { default off; "" 1d; }',
    ]


# What uWSGI needs to build the WSGI environ (Nginx's uwsgi_params, inline: the standalone config
# must not depend on where /etc/nginx keeps that file). PATH_INFO is the URI after the rewrite
# that strips the prefix; request headers are passed as HTTP_* by Nginx itself.
UWSGI_PARAMS = (
    ("QUERY_STRING", "$query_string"),
    ("REQUEST_METHOD", "$request_method"),
    ("CONTENT_TYPE", "$content_type"),
    ("CONTENT_LENGTH", "$content_length"),
    ("REQUEST_URI", "$request_uri"),
    ("PATH_INFO", "$document_uri"),
    ("DOCUMENT_ROOT", "$document_root"),
    ("SERVER_PROTOCOL", "$server_protocol"),
    ("REQUEST_SCHEME", "$scheme"),
    ("HTTPS", "$https if_not_empty"),
    ("REMOTE_ADDR", "$remote_addr"),
    ("REMOTE_PORT", "$remote_port"),
    ("SERVER_PORT", "$server_port"),
    ("SERVER_NAME", "$server_name"),
    ("HTTP_X_REQUEST_ID", "$studyhub_request_id"),  # replaces the client's header, like proxy_set_header
    ("HTTP_X_FORWARDED_FOR", "$proxy_add_x_forwarded_for"),
)
# Built frontend files whose names carry a content hash never change: cached for a year. Vite
# puts every hashed file under /assets/; webpack (Vue CLI) names them like app.3f2e1a9b.js.
HASHED_ASSET = r"\.[0-9a-f]{8,}\.(?:js|mjs|css|map|png|jpe?g|gif|svg|webp|avif|ico|woff2?|ttf|eot)$"
IMMUTABLE = 'add_header Cache-Control "public, max-age=31536000, immutable" always;'


def _pass(name: str, uwsgi: bool) -> str:
    """The directive that hands a request to function ``name``'s upstream."""
    return f"uwsgi_pass studyhub_{name};" if uwsgi else f"proxy_pass http://studyhub_{name};"


def _nginx_path(path: Path) -> str:
    """A directory for ``root``/``alias``, refused when Nginx would read it differently."""
    text = path.as_posix().rstrip("/")
    if not text.startswith("/") or any(c in text for c in " \t\n;{}\"'$#\\"):
        raise ValueError(f"can't use this directory in an nginx config: {text!r}")
    return text


def _upstream_directives(uwsgi: bool, timeout: int) -> list[str]:
    """How every function is spoken to: HTTP/1.1 with keepalive, or the uwsgi protocol."""
    if uwsgi:
        return [f"    uwsgi_param {name} {value};" for name, value in UWSGI_PARAMS] + [
            "    uwsgi_connect_timeout 3s;",
            f"    uwsgi_send_timeout {timeout}s;",
            f"    uwsgi_read_timeout {timeout}s;",
            "    uwsgi_intercept_errors off;",
        ]
    return [
        "    proxy_http_version 1.1;",
        '    proxy_set_header Connection "";',
        "    proxy_set_header Host $host;",
        "    proxy_set_header X-Real-IP $remote_addr;",
        "    proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;",
        "    proxy_set_header X-Request-Id $studyhub_request_id;",
        "    proxy_connect_timeout 3s;",
        f"    proxy_send_timeout {timeout}s;",
        f"    proxy_read_timeout {timeout}s;",
    ]


def _static_site(root: Path) -> list[str]:
    """The frontend build at ``/``: files as they are, every other path its ``index.html``
    (never cached, so a deployment shows at once), hashed assets cached for a year. A missing
    asset is the JSON 404, not the HTML page under a script's name."""
    directory = _nginx_path(root)
    from .console import CONTENT_SECURITY_POLICY

    csp = f'add_header Content-Security-Policy "{CONTENT_SECURITY_POLICY}" always;'
    return [
        "    location / {",
        f"        root {directory};",
        "        index index.html;",
        "        try_files $uri $uri/ /index.html;",
        f"        {NOSNIFF_HEADER}",
        # a school's slow network: the console's scripts and styles travel compressed
        "        gzip on;",
        "        gzip_vary on;",
        "        gzip_types text/css application/javascript text/javascript image/svg+xml application/json;",
        # a location's error_page hides the server's: the JSON answers again
        "        error_page 403 404 = @not_found;",
        "        error_page 405 = @not_allowed;",
        "        location /assets/ {",
        "            try_files $uri =404;",
        f"            {IMMUTABLE} {NOSNIFF_HEADER}",
        "        }",
        f'        location ~* "{HASHED_ASSET}" {{',
        "            try_files $uri =404;",
        f"            {IMMUTABLE} {NOSNIFF_HEADER}",
        "        }",
        "    }",
        "    location = /index.html {",
        f"        root {directory};",
        '        add_header Cache-Control "no-cache" always;',
        f"        {csp}",
        f"        {NOSNIFF_HEADER}",
        "        error_page 404 = @not_found;",
        "        error_page 405 = @not_allowed;",
        "        try_files /index.html =404;",  # no build there: the JSON 404, not a redirect loop
        "    }",
    ]


def _upstream_timeout() -> int:
    """How long Nginx waits on a function: its request deadline (``BACKEND_TIMEOUT_SECONDS``, the
    request answers 503 by then) plus room to answer; past that the function is hung: 503."""
    import math

    from studyhub.core.config import get_settings

    return math.ceil(get_settings().backend_timeout_seconds) + 5


def _own_error_pages() -> list[str]:
    """The errors Nginx raises itself in the contract's JSON instead of its HTML pages.

    414/494: request line or headers too long (494 answers as 431); 501: an unknown
    Transfer-Encoding (499 is only logged: the client is gone, and Nginx refuses to map it). The request may
    have no valid URI, so the answer comes from an internal URI location (a named location
    answers 500 there)."""
    from studyhub.core.errors import Invalid, StudyHubError

    bad_request = Invalid("请求格式错误", code="bad_request")
    errors = {
        400: (400, bad_request),
        414: (414, Invalid("请求地址过长", code="uri_too_long")),
        431: (431, Invalid("请求头过大", code="headers_too_large")),
        494: (431, Invalid("请求头过大", code="headers_too_large")),
        500: (500, StudyHubError()),
        501: (501, StudyHubError("不支持的传输编码", code="not_implemented")),
    }
    pages = [f"    error_page {status} = /studyhub-errors/{status};" for status in errors]
    for status, (answer, error) in errors.items():
        pages.append(f"    location = /studyhub-errors/{status} {{ internal; {_json_return(answer, error)} }}")
    return pages


def _bare_prefix(prefix: str, function_prefix: str, name: str, not_found: str, uwsgi: bool = False) -> list[str]:
    """``/api/users`` (no slash) names no route: 404. The root function (meta, empty prefix) gets
    ``/api`` itself, as ``/`` (discovery); it also answers every unknown path under ``/api/``."""
    if function_prefix:
        return [f"    location = {prefix}{function_prefix} {{ {not_found} }}"]
    return [
        f"    location = {prefix} {{",
        "        rewrite ^ / break;",
        f"        {_pass(name, uwsgi)}",
        f"        error_page 502 503 504 = @unavailable_{name};",
        "    }",
    ]


def _media_location(prefix: str, media_root: Path | None, media_function: str | None, uwsgi: bool) -> list[str]:
    """``/api/media/``: files from disk (``media_root``), else the first function's front door."""
    lines: list[str] = []
    add = lines.append
    if media_root is not None:
        add(f"    location {prefix}/media/ {{")
        add(f"        alias {media_root.as_posix().rstrip('/')}/;")
        add("        autoindex off;")
        add("        add_header X-Content-Type-Options nosniff always;")
        add(f"        {REQUEST_ID_HEADER}")
        add(f"        {EDGE_HEADERS}")
        add("        expires $studyhub_media_expires;")
        # a missing file (or directory) is the contract's 404, not Nginx's HTML page
        add("        error_page 403 404 = @not_found;")
        add("        error_page 405 = @not_allowed;")
        add("        error_page 413 = @too_large;")  # a location's error_page hides the server's
        add("    }")
    elif media_function is not None:
        add(f"    location {prefix}/media/ {{")
        add("        limit_except GET { deny all; }")  # GET implies HEAD
        add(f"        rewrite ^{prefix}(/.*)$ $1 break;")
        add(f"        {_pass(media_function, uwsgi)}")
        add("        error_page 403 = @not_allowed;")
        add(f"        error_page 502 503 504 = @unavailable_{media_function};")
        add("        error_page 413 = @too_large;")
        add("    }")
    return lines


def render_config(
    upstreams: dict[str, list[str]],
    *,
    listen: str = "8080",
    max_body: str | int | None = None,
    media_root: Path | None = None,
    prefix_dir: Path | None = None,
    standalone: bool = False,
    server_options: str = "max_fails=3 fail_timeout=10s",
    uwsgi: bool = False,
    static_root: Path | None = None,
) -> str:
    """The ``http``-level config; with ``standalone`` a whole nginx.conf for ``nginx -c``.

    ``upstreams`` maps every function of routes.yaml to its ``host:port`` servers.
    ``max_body`` defaults to ``MAX_BODY_BYTES``, so Nginx and the functions agree on the limit.
    ``media_root`` (storage on local files) makes Nginx serve ``/api/media/`` from disk; without
    it ``/api/media/`` goes to the first function's upstream, whose front door serves the files
    from the storage layer (local files or S3). ``server_options`` follow every upstream server
    (``studyhub serve --processes`` uses ``max_fails=0``: its worker ports never refuse a connection).
    ``uwsgi``: speak the uwsgi protocol to the upstreams (``uwsgi_pass``) instead of HTTP.
    ``static_root``: a frontend build served at ``/`` with the SPA fallback to its ``index.html``
    (without it, ``/`` and every path outside ``/api`` is the JSON 404).
    """
    routing = load_routing()
    missing = sorted(set(routing.functions) - set(upstreams))
    if missing:
        raise ValueError(f"no upstream given for function(s): {', '.join(missing)}")
    if max_body is None:
        from studyhub.core.config import get_settings

        max_body = get_settings().max_body_bytes
    prefix = routing.prefix
    lines: list[str] = []
    add = lines.append
    add("# Generated from routes.yaml by `studyhub nginx-config`; do not edit by hand.")
    add("log_format studyhub '$remote_addr [$time_iso8601] \"$request\" $status $body_bytes_sent '")
    add("                    'rid=$studyhub_request_id upstream=$upstream_addr rt=$request_time';")
    add("map $http_x_request_id $studyhub_request_id { default $http_x_request_id; '' $request_id; }")
    lines.extend(_edge_header_maps())
    for name in routing.functions:
        add(f"upstream studyhub_{name} {{")
        for server in upstreams[name]:
            add(f"    server {server} {server_options};")
        if not uwsgi:  # uWSGI closes a uwsgi-protocol connection after each request
            add("    keepalive 32;")
        add("}")
    add("server {")
    add(f"    listen {listen};")
    add("    server_tokens off;")
    add(f"    client_max_body_size {max_body};")
    lines.extend(_upstream_directives(uwsgi, _upstream_timeout()))
    add(f"    client_header_timeout {CLIENT_IDLE_SECONDS}s;")
    add(f"    client_body_timeout {CLIENT_IDLE_SECONDS}s;")
    add(f"    keepalive_timeout {CLIENT_IDLE_SECONDS}s;")
    if not uwsgi:
        add("    proxy_intercept_errors off;")
    if prefix_dir is not None:
        add(f"    access_log {prefix_dir}/access.log studyhub;")
    else:
        add("    access_log /var/log/nginx/studyhub.access.log studyhub;")
    from studyhub.core.errors import MethodNotAllowed, NotFound, PayloadTooLarge, Unavailable

    not_found = NotFound("接口不存在", code="not_found")
    # 400 e.g. for a path climbing above / (`/../../etc/passwd`), 414, 431, 501, ...
    lines.extend(_own_error_pages())
    # 413: client_max_body_size (Nginx answers before the body reaches a function).
    add("    error_page 404 = @not_found;")
    add("    error_page 413 = @too_large;")
    add("    error_page 502 503 504 = @unavailable;")
    add(f"    location @not_found {{ {_json_return(404, not_found)} }}")
    # only media locations answer 405 themselves (functions answer their own, with their Allow)
    add(f'    location @not_allowed {{ add_header Allow "GET, HEAD" always; {_json_return(405, MethodNotAllowed())} }}')
    add(f"    location @too_large {{ {_json_return(413, PayloadTooLarge())} }}")
    add(f"    location @unavailable {{ {_json_return(503, Unavailable('upstream'))} }}")
    lines.extend(_media_location(prefix, media_root, next(iter(routing.functions), None), uwsgi))
    for name, fn in routing.functions.items():
        # /api/users/login/ -> /users/login/ (the function's front door drops the trailing slash)
        add(f"    location {prefix}{fn.prefix}/ {{")
        add(f"        rewrite ^{prefix}(/.*)$ $1 break;")
        add(f"        {_pass(name, uwsgi)}")
        # the function is down or too slow: 503 naming it (its own 503s pass through untouched)
        add(f"        error_page 502 503 504 = @unavailable_{name};")
        add("        error_page 413 = @too_large;")  # a location's error_page hides the server's
        add("    }")
        add(f"    location @unavailable_{name} {{ {_json_return(503, Unavailable(name))} }}")
        lines.extend(_bare_prefix(prefix, fn.prefix, name, _json_return(404, not_found), uwsgi))
    lines.extend(
        _static_site(static_root)
        if static_root
        else ["    location / {", f"        {_json_return(404, not_found)}", "    }"]
    )
    add("}")
    body = "\n".join(lines) + "\n"
    if not standalone:
        return body
    base = prefix_dir or Path("/tmp/studyhub-nginx")
    indented = "\n".join("    " + line if line else line for line in body.splitlines())
    # Started by root, Nginx's workers would run as `nobody` and could read neither the media
    # files nor its own temp dirs under a private directory: run them as the owner instead.
    user = "user root;\n" if os.geteuid() == 0 else ""
    return (
        user + "worker_processes 1;\n"
        f"pid {base}/nginx.pid;\n"
        f"error_log {base}/error.log warn;\n"
        "daemon off;\n"
        "events { worker_connections 1024; }\n"
        "http {\n"
        "    include /etc/nginx/mime.types;\n"
        "    default_type application/octet-stream;\n"
        "    charset utf-8;\n"
        f"    client_body_temp_path {base}/client_body;\n"
        f"    proxy_temp_path {base}/proxy;\n"
        f"    fastcgi_temp_path {base}/fastcgi;\n"
        f"    uwsgi_temp_path {base}/uwsgi;\n"
        f"    scgi_temp_path {base}/scgi;\n"
        f"{indented}\n"
        "}\n"
    )
