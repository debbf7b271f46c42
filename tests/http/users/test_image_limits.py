"""API.md §1 Limits on input: an image upload is refused (400, nothing stored) before decoding when
its header declares more than IMAGE_MAX_PIXELS pixels or more than 64 MiB decoded (width × height ×
bands × bytes per sample). Issue 11 #6: a 301 KB PNG declaring 6300 × 6300 16-bit RGBA."""

import pytest
from image_bombs import bomb, png


def upload(client, user, data):
    return client.as_user(user).post(f"/api/users/users/{user.id}/avatar", files={"file": ("a.png", data, "image/png")})


def assert_refused_and_nothing_stored(client, platform, user, response):
    assert response.status_code == 400, response.text
    assert response.json() == {
        "detail": "图片尺寸过大。",
        "code": "image_too_large",
        "errors": {"file": ["图片尺寸过大。"]},
    }
    media = platform.var_dir / "media"
    assert not media.exists() or not [p for p in media.rglob("*") if p.is_file()]
    assert client.as_user(user).get(f"/api/users/users/{user.id}").json()["avatar"] is None


def test_a_small_png_declaring_6300_by_6300_16_bit_rgba_is_400_and_nothing_is_stored(client, platform, student):
    data = bomb()
    assert len(data) < 400_000
    assert_refused_and_nothing_stored(client, platform, student, upload(client, student, data))


def test_the_declared_size_is_refused_before_anything_is_decoded(client, platform, student):
    # The header declares 6000 × 6000 (within the old 40-megapixel guard); the pixel data is not
    # even valid zlib, so a decoder would answer 415: 400 means the header alone decided.
    data = png(6000, 6000, bit_depth=8, pixels=b"not zlib at all")
    assert_refused_and_nothing_stored(client, platform, student, upload(client, student, data))


def test_a_header_beyond_twice_the_limit_is_400_not_415(client, platform, student):
    data = png(50_000, 50_000, bit_depth=8, pixels=b"not zlib at all")  # Pillow's own guard fires at open
    assert_refused_and_nothing_stored(client, platform, student, upload(client, student, data))


def test_16_megapixels_of_16_bit_rgba_is_over_64_mib_decoded(client, platform, student):
    # 4000 × 4000 is exactly IMAGE_MAX_PIXELS, but 4 bands × 2 bytes make 128 MB decoded
    assert_refused_and_nothing_stored(client, platform, student, upload(client, student, png(4000, 4000)))


@pytest.fixture
def max_pixels_10000(platform, monkeypatch):
    from studyhub.core import config

    monkeypatch.setenv("IMAGE_MAX_PIXELS", "10000")
    config.reset()
    yield
    monkeypatch.undo()
    config.reset()


def test_image_max_pixels_is_the_setting(client, platform, student, max_pixels_10000):
    assert upload(client, student, png(100, 100, bit_depth=8)).status_code == 200
    platform_media = platform.var_dir / "media"
    before = sorted(p for p in platform_media.rglob("*") if p.is_file())
    response = upload(client, student, png(101, 100, bit_depth=8))
    assert response.status_code == 400 and response.json()["code"] == "image_too_large"
    assert sorted(p for p in platform_media.rglob("*") if p.is_file()) == before
