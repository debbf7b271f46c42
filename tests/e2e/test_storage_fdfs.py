"""FastDFS storage (``fdfs://``) through py3Fdfs.

The first tests always run: URL parsing, the client.conf generated for py3Fdfs (read back by
py3Fdfs' own parser), the wiring in ``make_storage``, public URLs, and what happens when the
tracker can't be reached (real sockets, real py3Fdfs: ``Unavailable`` quickly, a 503 through HTTP).

The integration tests talk to a real FastDFS tracker + storage (e.g. the seed's
``delron/fastdfs`` containers): set ``FDFS_TRACKER=host:22122`` and, to check the public URL
through the storage server's Nginx, ``FDFS_MEDIA_URL=http://host:8888/``. No FastDFS server can
be installed here (no Debian package, no PyPI package, no Docker engine), so they skip here.
"""

from __future__ import annotations

import os
import socket
import threading
import time
import uuid
from pathlib import Path

import pytest
from conftest import free_port, missing

FDFS_TRACKER = os.environ.get("FDFS_TRACKER")
FDFS_MEDIA_URL = os.environ.get("FDFS_MEDIA_URL")


def _png() -> bytes:
    import io

    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (2, 2), (200, 30, 30)).save(out, format="PNG")
    return out.getvalue()


PNG = _png()


# --- the URL -------------------------------------------------------------------------------


def test_one_tracker_with_the_default_port():
    from studyhub.clients.storage_fdfs import parse_fdfs_url

    config = parse_fdfs_url("fdfs://tracker")

    assert config.trackers == (("tracker", 22122),)
    assert config.media_url is None
    assert config.connect_timeout == 5


def test_several_trackers_media_url_and_timeouts():
    from studyhub.clients.storage_fdfs import parse_fdfs_url

    config = parse_fdfs_url(
        "fdfs://10.0.0.1:22122,10.0.0.2:22122?media_url=http://storage-nginx:8888/&connect_timeout=2&network_timeout=20"
    )

    assert config.trackers == (("10.0.0.1", 22122), ("10.0.0.2", 22122))
    assert config.media_url == "http://storage-nginx:8888/"
    assert (config.connect_timeout, config.network_timeout) == (2, 20)


@pytest.mark.parametrize(
    "url",
    [
        "fdfs://",  # no tracker
        "fdfs://:22122",  # no host
        "fdfs://tracker:port",  # port not a number
        "fdfs://t1:22122,t2:22123",  # client.conf has one port for all trackers
        "fdfs://tracker:22122?bucket=x",  # unknown option
        "fdfs://tracker:22122?connect_timeout=0",
        "s3://tracker:22122",
    ],
)
def test_a_bad_fdfs_url_is_refused_at_startup(url):
    from studyhub.clients.storage_fdfs import parse_fdfs_url

    with pytest.raises(ValueError):
        parse_fdfs_url(url)


# --- the client.conf py3Fdfs reads ---------------------------------------------------------


def test_generated_client_conf_is_what_py3fdfs_reads(tmp_path):
    from fdfs_client.client import get_tracker_conf

    from studyhub.clients.storage_fdfs import parse_fdfs_url, render_client_conf

    config = parse_fdfs_url("fdfs://10.0.0.1:22122,10.0.0.2:22122?connect_timeout=3")
    conf = tmp_path / "client.conf"
    conf.write_text(render_client_conf(config, tmp_path))

    tracker = get_tracker_conf(str(conf))

    assert tracker["host_tuple"] == ("10.0.0.1", "10.0.0.2")
    assert tracker["port"] == 22122
    assert tracker["timeout"] == 3
    assert f"base_path = {tmp_path}" in conf.read_text()


def test_make_storage_builds_fastdfs_storage_with_a_private_conf_file():
    from studyhub.clients.storage import make_storage
    from studyhub.clients.storage_fdfs import FastDFSStorage

    storage = make_storage("fdfs://tracker.example:22122")

    assert isinstance(storage, FastDFSStorage)
    conf = storage.conf_path
    assert conf.name == "client.conf" and conf.parent.name.startswith("studyhub-fdfs-")
    assert "tracker_server = tracker.example:22122" in conf.read_text()
    assert storage.tracker_conf()["host_tuple"] == ("tracker.example",)


def test_public_url_is_the_storage_nginx_plus_the_file_id():
    from studyhub.clients.storage_fdfs import FastDFSStorage

    storage = FastDFSStorage("fdfs://tracker:22122?media_url=http://storage-nginx:8888/")

    assert storage.url("group1/M00/00/00/wKgAAWNQ.png") == "http://storage-nginx:8888/group1/M00/00/00/wKgAAWNQ.png"


def test_without_media_url_the_public_url_follows_media_url_setting(monkeypatch):
    from studyhub.clients.storage_fdfs import FastDFSStorage
    from studyhub.core import config

    monkeypatch.setenv("MEDIA_URL", "https://cdn.example.com/media/")
    config.reset()
    try:
        url = FastDFSStorage("fdfs://tracker:22122").url("group1/M00/00/00/a.jpg")
    finally:
        monkeypatch.undo()
        config.reset()

    assert url == "https://cdn.example.com/media/group1/M00/00/00/a.jpg"


# --- an unreachable or broken tracker --------------------------------------------------------


def closed_port_url() -> str:
    return f"fdfs://127.0.0.1:{free_port()}?connect_timeout=1"


@pytest.mark.parametrize("operation", ["save", "open", "delete", "ping"])
def test_tracker_down_is_unavailable_storage_within_a_second(operation):
    from studyhub.clients.storage_fdfs import FastDFSStorage
    from studyhub.core.errors import Unavailable

    storage = FastDFSStorage(closed_port_url())
    calls = {
        "save": lambda: storage.save(PNG, prefix="avatars/1", extension="png", content_type="image/png"),
        "open": lambda: storage.open("group1/M00/00/00/a.png"),
        "delete": lambda: storage.delete("group1/M00/00/00/a.png"),
        "ping": storage.ping,
    }
    started = time.monotonic()

    with pytest.raises(Unavailable) as raised:
        calls[operation]()

    assert raised.value.body()["code"] == "service_unavailable"
    assert time.monotonic() - started < 1.5


@pytest.fixture
def not_a_tracker():
    """A real TCP server that accepts and answers garbage (a wrong port, another service)."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen()
    stop = threading.Event()

    def serve():
        server.settimeout(0.2)
        while not stop.is_set():
            try:
                conn, _ = server.accept()
            except OSError:
                continue
            with conn:
                conn.sendall(b"HTTP/1.1 400 Bad Request\r\n\r\n")

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield f"fdfs://127.0.0.1:{server.getsockname()[1]}?connect_timeout=1"
    stop.set()
    thread.join(2)
    server.close()


def test_a_server_that_is_not_a_tracker_is_unavailable_storage(not_a_tracker):
    from studyhub.clients.storage_fdfs import FastDFSStorage
    from studyhub.core.errors import Unavailable

    with pytest.raises(Unavailable):
        FastDFSStorage(not_a_tracker).save(PNG, prefix="avatars/1", extension="png", content_type="image/png")


def test_avatar_upload_answers_503_when_the_fastdfs_tracker_is_down(client, student, monkeypatch):
    from studyhub.clients import storage
    from studyhub.core import config

    monkeypatch.setenv("STORAGE_URL", closed_port_url())
    config.reset()
    storage.reset()
    try:
        response = client.as_user(student).post(
            f"/api/users/users/{student.id}/avatar", files={"file": ("a.png", PNG, "image/png")}
        )
    finally:
        monkeypatch.undo()
        config.reset()
        storage.reset()

    assert response.status_code == 503, response.text
    assert response.json()["code"] == "service_unavailable"


# --- a real FastDFS (only where one runs) ---------------------------------------------------


@pytest.fixture
def fastdfs():
    if not FDFS_TRACKER:
        missing("no FastDFS server can be installed here: set FDFS_TRACKER=host:22122 to run it", installable=False)
    from studyhub.clients.storage_fdfs import FastDFSStorage

    url = f"fdfs://{FDFS_TRACKER}"
    if FDFS_MEDIA_URL:
        url += f"?media_url={FDFS_MEDIA_URL}"
    return FastDFSStorage(url)


def test_fastdfs_saves_opens_and_deletes_a_file(fastdfs):
    from studyhub.core.errors import NotFound

    data = PNG + uuid.uuid4().bytes
    fastdfs.ping()

    key = fastdfs.save(data, prefix="avatars/1", extension="png", content_type="image/png")

    assert key.startswith("group") and key.endswith(".png")
    assert fastdfs.open(key) == data
    fastdfs.delete(key)
    with pytest.raises(NotFound):
        fastdfs.open(key)
    fastdfs.delete(key)  # deleting twice is fine


@pytest.fixture
def fastdfs_behind_nginx(fastdfs):
    """The real FastDFS whose storage server's Nginx serves the public URLs (``FDFS_MEDIA_URL``)."""
    if not FDFS_MEDIA_URL:
        missing("set FDFS_MEDIA_URL to the FastDFS storage server's Nginx to run it", installable=False)
    return fastdfs


def test_fastdfs_public_url_serves_the_bytes_through_the_storage_nginx(fastdfs_behind_nginx):
    fastdfs = fastdfs_behind_nginx
    import httpx

    data = PNG + uuid.uuid4().bytes
    key = fastdfs.save(data, prefix="avatars/1", extension="png", content_type="image/png")
    try:
        response = httpx.get(fastdfs.url(key), timeout=5)
    finally:
        fastdfs.delete(key)

    assert response.status_code == 200
    assert response.content == data


def test_conf_dir_is_private_to_the_process():
    from studyhub.clients.storage_fdfs import FastDFSStorage

    conf = FastDFSStorage("fdfs://tracker:22122").conf_path

    assert Path(conf).parent.stat().st_mode & 0o077 == 0  # mkdtemp: 0700
