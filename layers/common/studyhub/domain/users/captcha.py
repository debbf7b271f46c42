"""The login captcha: a Pillow PNG of 4 letters/digits with noise, as the seed drew it."""

from __future__ import annotations

import io
import secrets
import string

# Letters and digits that can't be mistaken for one another on a noisy image.
ALPHABET = "".join(c for c in string.ascii_letters + string.digits if c not in "0OoIl1")
CAPTCHA_KEY = "login:verification:{uuid}"


def random_code(length: int = 4) -> str:
    return "".join(secrets.choice(ALPHABET) for _ in range(length))


def render(code: str, width: int = 140, height: int = 40, size: int = 28) -> bytes:
    from PIL import Image, ImageDraw, ImageFilter, ImageFont

    rnd = secrets.SystemRandom()

    def color(lo: int = 64, hi: int = 255) -> tuple[int, int, int]:
        return (rnd.randint(lo, hi), rnd.randint(lo, hi), rnd.randint(lo, hi))

    image = Image.new("RGB", (width, height), (255, 255, 255))
    draw = ImageDraw.Draw(image)
    for _ in range(width * height * 15 // 100):  # noise points
        draw.point((rnd.randrange(width), rnd.randrange(height)), fill=color())
    for _ in range(len(code)):  # interference lines
        draw.line([(rnd.randrange(width), rnd.randrange(height)) for _ in range(2)], fill=color(), width=2)
    font = ImageFont.load_default(size=size)
    step = width // len(code)
    for i, char in enumerate(code):
        draw.text((i * step + rnd.randint(4, 10), rnd.randint(0, 6)), char, fill=color(0, 160), font=font)
    image = image.filter(ImageFilter.SMOOTH)
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()
