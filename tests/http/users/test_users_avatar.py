"""API.md §2 avatar upload: a real image checked by decoding it, size-limited, stored through the
storage layer (local files and moto's S3 server), its URL serving the bytes; nothing left behind
on failure; a replaced avatar's old file is deleted."""

import io
import os

import httpx
import pytest


def png_bytes(size=(32, 32), color="red", fmt="PNG") -> bytes:
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", size, color).save(out, format=fmt)
    return out.getvalue()


def noise_png(size=(200, 200)) -> bytes:
    """Random pixels: a PNG that doesn't compress, for size limits."""
    from PIL import Image

    out = io.BytesIO()
    Image.frombytes("RGB", size, os.urandom(size[0] * size[1] * 3)).save(out, format="PNG")
    return out.getvalue()


def upload(api, user_id, data, filename="a.png", content_type="image/png"):
    return api.post(f"/api/users/users/{user_id}/avatar", files={"file": (filename, data, content_type)})


def stored_files(platform):
    media = platform.var_dir / "media"
    return sorted(p for p in media.rglob("*") if p.is_file()) if media.exists() else []


@pytest.mark.parametrize("fmt,mime", [("PNG", "image/png"), ("JPEG", "image/jpeg"), ("GIF", "image/gif")])
def test_upload_avatar_and_its_url_serves_the_bytes(client, student, fmt, mime):
    data = png_bytes(fmt=fmt)
    response = upload(client.as_user(student), student.id, data, content_type="application/octet-stream")
    assert response.status_code == 200, response.text
    url = response.json()["data"]
    assert url.startswith("/api/media/avatars/")
    served = client.get(url)
    assert served.status_code == 200 and served.content == data and served.headers["content-type"] == mime
    me = client.as_user(student).get(f"/api/users/users/{student.id}").json()
    assert me["avatar"] == url


def test_a_text_file_declared_as_png_is_415_and_nothing_is_stored(client, platform, student):
    response = upload(client.as_user(student), student.id, b"hello, not an image" * 10)
    assert response.status_code == 415 and response.json()["code"] == "unsupported_image"
    assert stored_files(platform) == []


def test_a_truncated_png_is_refused(client, platform, student):
    data = png_bytes(size=(200, 200))
    response = upload(client.as_user(student), student.id, data[: len(data) // 2])
    assert response.status_code == 415
    assert stored_files(platform) == []


def test_other_image_formats_are_415(client, student):
    response = upload(client.as_user(student), student.id, png_bytes(fmt="BMP"), content_type="image/bmp")
    assert response.status_code == 415


def test_too_large_is_413(client, platform, student, monkeypatch):
    monkeypatch.setenv("AVATAR_MAX_BYTES", "1000")
    from conftest import reset_clients

    reset_clients()
    response = upload(client.as_user(student), student.id, noise_png())
    assert response.status_code == 413 and response.json()["code"] == "file_too_large"
    assert stored_files(platform) == []


def test_missing_file_field_is_400_and_json_body_is_415(client, student):
    api = client.as_user(student)
    missing = api.post(f"/api/users/users/{student.id}/avatar", files={"other": ("a.png", png_bytes(), "image/png")})
    assert missing.status_code == 400 and "file" in missing.json()["errors"]
    as_json = api.post(f"/api/users/users/{student.id}/avatar", json={"file": "x"})
    assert as_json.status_code == 415


def test_only_self_or_superuser_may_upload(client, superuser, teacher, student):
    assert upload(client.as_user(teacher), student.id, png_bytes()).status_code == 403
    assert upload(client.as_user(superuser), student.id, png_bytes()).status_code == 200
    assert upload(client, student.id, png_bytes()).status_code == 401


def test_replacing_an_avatar_deletes_the_old_file(client, platform, student):
    api = client.as_user(student)
    first = upload(api, student.id, png_bytes(color="red")).json()["data"]
    second = upload(api, student.id, png_bytes(color="blue")).json()["data"]
    assert first != second
    assert client.get(first).status_code == 404
    assert client.get(second).status_code == 200
    assert len(stored_files(platform)) == 1


def test_media_paths_cannot_escape_the_media_root(client, platform):
    (platform.var_dir / "secret.txt").write_text("top secret")
    assert client.get("/api/media/../secret.txt").status_code == 404
    assert client.get("/api/media/..%2Fsecret.txt").status_code == 404


@pytest.fixture
def s3_storage(platform, s3_server, monkeypatch):
    """STORAGE_URL on moto's S3 server with path-style addressing, as for MinIO."""
    import boto3

    bucket = "studyhub-media"
    s3 = boto3.client("s3", endpoint_url=s3_server, region_name="us-east-1")
    try:
        s3.create_bucket(Bucket=bucket)
    except s3.exceptions.BucketAlreadyOwnedByYou:
        pass
    # What an operator sets on a MinIO/S3 media bucket: anyone may read the stored files.
    import json

    s3.put_bucket_policy(
        Bucket=bucket,
        Policy=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Effect": "Allow",
                        "Principal": "*",
                        "Action": "s3:GetObject",
                        "Resource": f"arn:aws:s3:::{bucket}/*",
                    }
                ],
            }
        ),
    )
    monkeypatch.setenv("STORAGE_URL", f"s3://{bucket}?endpoint={s3_server}&region=us-east-1")
    monkeypatch.delenv("MEDIA_URL", raising=False)
    from conftest import reset_clients

    reset_clients()
    yield s3, bucket
    reset_clients()


def test_avatar_on_s3_is_served_by_its_url_and_replacing_deletes_the_old_object(client, student, s3_storage):
    s3, bucket = s3_storage
    api = client.as_user(student)
    data = png_bytes(color="green")
    first = upload(api, student.id, data)
    assert first.status_code == 200, first.text
    url = first.json()["data"]
    assert url.startswith(s3.meta.endpoint_url + f"/{bucket}/avatars/")
    assert httpx.get(url).content == data  # a real HTTP GET on the object URL
    second = upload(api, student.id, png_bytes(color="blue")).json()["data"]
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket=bucket, Prefix=f"avatars/{student.id}/").get("Contents", [])]
    assert keys == [second.split(f"/{bucket}/", 1)[1]]


def test_s3_unreachable_is_503_not_500(client, student, monkeypatch):
    from conftest import free_port, reset_clients

    monkeypatch.setenv("STORAGE_URL", f"s3://bucket?endpoint=http://127.0.0.1:{free_port()}")
    os.environ.setdefault("AWS_ACCESS_KEY_ID", "testing")
    os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "testing")
    reset_clients()
    response = upload(client.as_user(student), student.id, png_bytes())
    assert response.status_code == 503 and response.json()["code"] == "service_unavailable"
    reset_clients()
