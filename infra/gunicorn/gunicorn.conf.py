"""StudyHub under gunicorn: 2 worker processes x 2 threads (the original's uWSGI shape).

    studyhub migrate && studyhub seed                  # once per deployment: the application never migrates
    gunicorn -c infra/gunicorn/gunicorn.conf.py        # from the directory holding var/ (or STUDYHUB_VAR_DIR)
    studyhub worker & studyhub beat &                  # the jobs run beside it, as their own services
    studyhub nginx-config > /etc/nginx/conf.d/studyhub.conf   # proxy_pass to 127.0.0.1:8000

Settings come from the environment (DATABASE_URL, REDIS_URL, CELERY_BROKER_URL, JWT_SECRET, ...).
``-b HOST:PORT`` on the command line overrides ``bind``.
"""

wsgi_app = "local.wsgi:application"
bind = ["127.0.0.1:8000"]
workers = 2
threads = 2
worker_class = "gthread"
# Each worker imports the application after the fork (no preload), so no two processes share a
# database, Redis or SQLite connection; none is opened at import either (local/wsgi.py).
preload_app = False
# A request still running after this long gets its worker restarted (the functions answer 503
# after BACKEND_TIMEOUT_SECONDS; this is the last resort, like Lambda's 30 s timeout).
timeout = 30
graceful_timeout = 30
# Idle keep-alive connections from Nginx are closed after this long (Nginx's upstream keepalive
# reuses them meanwhile).
keepalive = 30
# room for long Authorization and Cookie headers
limit_request_field_size = 16384
# Bounds slow leaks: a worker is replaced after about this many requests.
max_requests = 5000
max_requests_jitter = 500
accesslog = "-"
# gunicorn 24+ listens on a control socket at one fixed path per user (~/.gunicorn/gunicorn.ctl):
# a second server of the same user would take it over. Nothing here uses it (older versions
# ignore the name).
control_socket_disable = True


def post_fork(server, worker):  # noqa: ARG001 - gunicorn's hook signature
    """Were ``preload_app`` turned on, the parent's database pool must not be used by a child:
    forget it (without closing the parent's sockets) so the worker opens its own."""
    from studyhub.core.db import dispose_after_fork

    dispose_after_fork()
