"""PNG files that declare more than they weigh: decompression bombs for the image-limit tests."""

from __future__ import annotations

import functools
import struct
import zlib

SIGNATURE = b"\x89PNG\r\n\x1a\n"
RGBA = 6  # PNG colour type: red, green, blue, alpha


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def png(width: int, height: int, *, bit_depth: int = 16, color_type: int = RGBA, pixels: bytes | None = None) -> bytes:
    """A PNG declaring ``width`` × ``height``; ``pixels`` is the IDAT payload (default: a real,
    all-zero image, compressed ~1000:1, so 6300 × 6300 16-bit RGBA is about 300 KB)."""
    header = struct.pack(">IIBBBBB", width, height, bit_depth, color_type, 0, 0, 0)
    if pixels is None:
        pixels = _zero_pixels(width, height, bit_depth)
    return SIGNATURE + _chunk(b"IHDR", header) + _chunk(b"IDAT", pixels) + _chunk(b"IEND", b"")


@functools.cache
def _zero_pixels(width: int, height: int, bit_depth: int) -> bytes:
    row = b"\x00" * (1 + width * 4 * bit_depth // 8)  # filter byte + RGBA samples
    compressor = zlib.compressobj(9)
    parts = [compressor.compress(row) for _ in range(height)]
    return b"".join(parts) + compressor.flush()


def bomb() -> bytes:
    """Issue 11's file: 6300 × 6300 16-bit RGBA (~300 KB, 318 MB of samples, 159 MB decoded by Pillow)."""
    return png(6300, 6300)
