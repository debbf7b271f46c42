"""File storage: local files (``file://``), the S3 API (``s3://``: AWS, MinIO, moto).

``save`` returns the key; ``url`` the public URL under ``MEDIA_URL``. boto3 is imported and
its client created on first use. S3-compatible stores (MinIO) need path-style addressing and
reject boto3's default checksum headers, so both are set for custom endpoints.
"""

from __future__ import annotations

import errno
import os
import re
import threading
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol, TypeVar
from urllib.parse import parse_qs, urlparse

from studyhub.core.config import get_settings
from studyhub.core.errors import NotFound, Unavailable
from studyhub.core.lazy import Lazy

T = TypeVar("T")


class Storage(Protocol):
    def save(self, data: bytes, *, prefix: str, extension: str, content_type: str) -> str: ...
    def open(self, key: str) -> bytes: ...
    def delete(self, key: str) -> None: ...
    def url(self, key: str) -> str: ...
    def ping(self) -> None: ...


def new_key(prefix: str, extension: str) -> str:
    return f"{prefix.strip('/')}/{uuid.uuid4().hex}.{extension}"


KEY_MAX = 500  # the longest URL column a key is stored in
_BAD_KEY = re.compile("[\x00-\x1f\x7f\\\\\ud800-\udfff]|(^|/)\\.\\.(/|$)")


def check_key(key: str) -> str:
    """A key as this platform writes them, else ``404``: no control character or NUL (no file
    system or object store takes it), no lone surrogate, no ``..`` step, not absurdly long."""
    if not key or len(key) > KEY_MAX or _BAD_KEY.search(key):
        raise NotFound()
    return key


def _media_url(key: str) -> str:
    from studyhub.core.urls import absolute

    base = get_settings().media_url
    return absolute(base.rstrip("/") + "/" + key)  # on PUBLIC_BASE_URL when set


class FileStorage:
    def __init__(self, root: str) -> None:
        self.root = Path(root)

    def _path(self, key: str) -> Path:
        path = (self.root / check_key(key)).resolve()
        if self.root.resolve() not in path.parents:
            raise NotFound()  # no ../ escapes
        return path

    def save(self, data: bytes, *, prefix: str, extension: str, content_type: str) -> str:
        key = new_key(prefix, extension)
        path = self._path(key)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_suffix(path.suffix + ".part")
            tmp.write_bytes(data)
            os.replace(tmp, path)  # readers never see half a file
        except OSError as error:
            raise Unavailable("storage") from error
        return key

    def open(self, key: str) -> bytes:
        try:
            return self._path(key).read_bytes()
        except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
            raise NotFound() from None
        except OSError as error:
            if error.errno == errno.ENAMETOOLONG:
                raise NotFound() from None
            raise Unavailable("storage") from error

    def delete(self, key: str) -> None:
        try:
            self._path(key).unlink()
        except FileNotFoundError:
            pass

    def url(self, key: str) -> str:
        return _media_url(key)

    def ping(self) -> None:
        if not self.root.exists():
            self.root.mkdir(parents=True, exist_ok=True)


class S3Storage:
    """``s3://bucket?endpoint=http://host:9000&region=us-east-1`` (credentials from the usual AWS
    environment/variables or ``access_key``/``secret_key`` in the query)."""

    def __init__(self, url: str) -> None:
        parsed = urlparse(url)
        query = {k: v[0] for k, v in parse_qs(parsed.query).items()}
        self.bucket = parsed.netloc
        self.endpoint = query.get("endpoint")
        self.region = query.get("region", os.environ.get("AWS_DEFAULT_REGION", "us-east-1"))
        self._access_key = query.get("access_key")
        self._secret_key = query.get("secret_key")
        self._client: Any = None  # a boto3 S3 client (boto3 is untyped)
        self._lock = threading.Lock()

    @property
    def client(self) -> Any:
        if self._client is None:
            with self._lock:
                if self._client is None:
                    import boto3
                    from botocore.config import Config

                    config = Config(
                        # one attempt within BACKEND_TIMEOUT_SECONDS: a PUT waits twice on a stalled
                        # store (for "100 Continue", then for the answer), so half of it per wait
                        connect_timeout=get_settings().backend_timeout_seconds / 2,
                        read_timeout=get_settings().backend_timeout_seconds / 2,
                        retries={"total_max_attempts": 1, "mode": "standard"},
                        s3={"addressing_style": "path" if self.endpoint else "auto"},
                        request_checksum_calculation="when_required",
                        response_checksum_validation="when_required",
                    )
                    self._client = boto3.client(
                        "s3",
                        endpoint_url=self.endpoint,
                        region_name=self.region,
                        aws_access_key_id=self._access_key,
                        aws_secret_access_key=self._secret_key,
                        config=config,
                    )
        return self._client

    def _call(self, fn: Callable[..., T], **kwargs: Any) -> T:
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            return fn(**kwargs)
        except ClientError as error:
            code = error.response.get("Error", {}).get("Code")
            if code in ("NoSuchKey", "404", "NotFound"):
                raise NotFound() from None
            raise Unavailable("storage") from error
        except BotoCoreError as error:
            raise Unavailable("storage") from error

    def save(self, data: bytes, *, prefix: str, extension: str, content_type: str) -> str:
        key = new_key(prefix, extension)
        self._call(self.client.put_object, Bucket=self.bucket, Key=key, Body=data, ContentType=content_type)
        return key

    def open(self, key: str) -> bytes:
        return self._call(self.client.get_object, Bucket=self.bucket, Key=key)["Body"].read()

    def delete(self, key: str) -> None:
        self._call(self.client.delete_object, Bucket=self.bucket, Key=key)

    def url(self, key: str) -> str:
        if os.environ.get("MEDIA_URL"):
            return _media_url(key)
        if self.endpoint:
            return f"{self.endpoint.rstrip('/')}/{self.bucket}/{key}"
        return f"https://{self.bucket}.s3.{self.region}.amazonaws.com/{key}"

    def ping(self) -> None:
        self._call(self.client.head_bucket, Bucket=self.bucket)


def make_storage(url: str) -> Storage:
    scheme = url.split("://", 1)[0]
    if scheme == "file":
        return FileStorage(url[len("file://") :])
    if scheme == "s3":
        return S3Storage(url)
    if scheme == "fdfs":
        from studyhub.clients.storage_fdfs import FastDFSStorage  # py3Fdfs only where FastDFS is used

        return FastDFSStorage(url)
    raise ValueError(f"unsupported STORAGE_URL scheme: {scheme}")


_storage: Lazy[Storage] = Lazy(lambda: make_storage(get_settings().storage_url))
get_storage = _storage.get
reset = _storage.reset
