"""``studyhub nginx-config --uwsgi --static-root DIR`` (issue 13, Operating): the functions over
the uwsgi protocol, a frontend build at ``/`` with the SPA fallback; the default render is the
committed ``infra/nginx/studyhub.conf`` unchanged. Served for real in tests/e2e/test_wsgi_servers.py."""

from __future__ import annotations

from click.testing import CliRunner

from studyhub.ops.cli import main


def nginx_config(*args: str):
    return CliRunner().invoke(main, ["nginx-config", *args], catch_exceptions=False)


def test_uwsgi_speaks_the_uwsgi_protocol_to_every_function():
    result = nginx_config("--uwsgi")
    assert result.exit_code == 0, result.output
    text = result.output
    for name in ("users", "school", "work", "community", "shopping", "meta"):
        assert f"uwsgi_pass studyhub_{name};" in text
    assert "proxy_pass" not in text and "proxy_set_header" not in text
    assert "keepalive 32;" not in text  # uWSGI closes each uwsgi-protocol connection
    assert "uwsgi_param PATH_INFO $document_uri;" in text  # the URI after /api is stripped
    assert "uwsgi_param HTTP_X_REQUEST_ID $studyhub_request_id;" in text


def test_static_root_serves_the_build_with_the_spa_fallback_and_keeps_api_proxied(tmp_path):
    result = nginx_config("--static-root", str(tmp_path))
    assert result.exit_code == 0, result.output
    text = result.output
    assert f"root {tmp_path};" in text
    assert "try_files $uri $uri/ /index.html;" in text
    assert 'add_header Cache-Control "public, max-age=31536000, immutable" always;' in text
    assert "location /api/users/ {" in text and "proxy_pass http://studyhub_users;" in text
    # no JSON 404 catch-all at / any more: the build's index answers unknown paths
    assert "location / {\n        types { }" not in text


def test_without_the_options_every_path_outside_api_is_the_json_404():
    text = nginx_config().output
    assert "location / {\n        types { } default_type" in text
    assert "try_files" not in text and "uwsgi_pass" not in text


def test_a_static_root_nginx_would_misread_is_refused():
    result = CliRunner().invoke(main, ["nginx-config", "--static-root", "/srv/my site;"])
    assert result.exit_code == 1
    assert "can't use this directory in an nginx config" in result.output
