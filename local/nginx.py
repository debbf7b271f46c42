"""Nginx config generated from routes.yaml: one upstream per function, ``/api`` stripped,
trailing slash tolerated, upload size limit, keepalive, timeouts, request ids, JSON errors."""
from __future__ import annotations

from pathlib import Path

from .routes import load_routing

ERROR_404 = '{"detail":"接口不存在","code":"not_found"}'
ERROR_413 = '{"detail":"请求体过大","code":"payload_too_large"}'
ERROR_502 = '{"detail":"服务暂不可用，请稍后再试","code":"service_unavailable"}'


def render_config(
    upstreams: dict[str, list[str]],
    *,
    listen: str = "8080",
    max_body: str = "12m",
    media_root: Path | None = None,
    prefix_dir: Path | None = None,
    standalone: bool = False,
) -> str:
    """The ``http``-level config; with ``standalone`` a whole nginx.conf for ``nginx -c``."""
    routing = load_routing()
    prefix = routing.prefix
    lines: list[str] = []
    add = lines.append
    add("# Generated from routes.yaml by `studyhub nginx-config`; do not edit by hand.")
    add("log_format studyhub '$remote_addr [$time_iso8601] \"$request\" $status $body_bytes_sent '")
    add("                    'rid=$request_id upstream=$upstream_addr rt=$request_time';")
    add("map $http_x_request_id $studyhub_request_id { default $http_x_request_id; '' $request_id; }")
    for name, fn in routing.functions.items():
        add(f"upstream studyhub_{name} {{")
        for server in upstreams[name]:
            add(f"    server {server} max_fails=3 fail_timeout=10s;")
        add("    keepalive 32;")
        add("}")
    add("server {")
    add(f"    listen {listen};")
    add(f"    client_max_body_size {max_body};")
    add("    proxy_http_version 1.1;")
    add('    proxy_set_header Connection "";')
    add("    proxy_set_header Host $host;")
    add("    proxy_set_header X-Real-IP $remote_addr;")
    add("    proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;")
    add("    proxy_set_header X-Request-Id $studyhub_request_id;")
    add("    proxy_connect_timeout 3s;")
    add("    proxy_send_timeout 60s;")
    add("    proxy_read_timeout 60s;")
    add("    proxy_intercept_errors off;")
    if prefix_dir is not None:
        add(f"    access_log {prefix_dir}/access.log studyhub;")
    else:
        add("    access_log /var/log/nginx/studyhub.access.log studyhub;")
    add("    error_page 413 = @too_large;")
    add("    error_page 502 503 504 = @unavailable;")
    add("    location @too_large { default_type application/json; return 413 '" + ERROR_413 + "'; }")
    add("    location @unavailable { default_type application/json; return 503 '" + ERROR_502 + "'; }")
    if media_root is not None:
        add(f"    location {prefix}/media/ {{")
        add(f"        alias {media_root.as_posix().rstrip('/')}/;")
        add("        add_header X-Content-Type-Options nosniff;")
        add("        expires 1d;")
        add("    }")
    for name, fn in routing.functions.items():
        # /api/users/login/ -> /users/login (the trailing slash is tolerated by the function too)
        add(f"    location {prefix}{fn.prefix}/ {{")
        add(f"        rewrite ^{prefix}(/.*)$ $1 break;")
        add(f"        proxy_pass http://studyhub_{name};")
        add("    }")
        add(f"    location = {prefix}{fn.prefix} {{ return 404 '{ERROR_404}'; }}")
    add("    location / {")
    add("        default_type application/json;")
    add(f"        return 404 '{ERROR_404}';")
    add("    }")
    add("}")
    body = "\n".join(lines) + "\n"
    if not standalone:
        return body
    base = prefix_dir or Path("/tmp/studyhub-nginx")
    indented = "\n".join("    " + line if line else line for line in body.splitlines())
    return (
        "worker_processes 1;\n"
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
