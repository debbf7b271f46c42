"""``studyhub serve`` with waitress's own loop as its HTTP server (the engine it uses where there is
no epoll), for bench/run.py's "waitress loop" row: the epoll engine's before and after in one run.

    python bench/serve_waitress_loop.py serve --port 8000 ...   (the arguments of ``studyhub``)
"""

from __future__ import annotations

import sys

import local.wsgi_server as wsgi_server

wsgi_server.default_engine = lambda: "waitress"  # serve (and its connection share) ask this

from studyhub.ops.cli import main  # noqa: E402 - after the engine is chosen

if __name__ == "__main__":
    sys.argv = ["studyhub", *sys.argv[1:]]
    main()
