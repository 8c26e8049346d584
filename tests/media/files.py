"""Files a brand might upload, good and bad, made here (no binary fixtures in the tree)."""

from __future__ import annotations

import struct
import zlib
from io import BytesIO

from PIL import Image

CAMERA = "ACME Camera Co"
# EXIF tags: Make, Model, Orientation, and the GPS block (a pointer to its IFD).
MAKE, MODEL, ORIENTATION, GPS_IFD = 0x010F, 0x0110, 0x0112, 0x8825


def photo_with_exif(width: int = 1600, height: int = 1200, orientation: int = 6) -> bytes:
    """A JPEG as a phone takes it: sideways pixels with an EXIF orientation (6: turn 90°
    clockwise to view), the camera's make and model, and where it was taken."""
    image = Image.new("RGB", (width, height), (180, 40, 40))
    image.paste((30, 30, 200), (0, 0, width // 2, height))  # left half blue
    exif = Image.Exif()
    exif[MAKE] = CAMERA
    exif[MODEL] = "Pocket 9"
    exif[ORIENTATION] = orientation
    exif.get_ifd(GPS_IFD).update({1: "N", 2: (24.0, 42.0, 0.0), 3: "E", 4: (46.0, 40.0, 0.0)})
    out = BytesIO()
    image.save(out, "JPEG", exif=exif.tobytes(), quality=90)
    return out.getvalue()


def png(width: int = 800, height: int = 500, *, transparent: bool = True) -> bytes:
    image = Image.new("RGBA", (width, height), (20, 160, 90, 255))
    if transparent:
        image.paste((0, 0, 0, 0), (0, 0, width // 4, height))
    out = BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


def webp(width: int = 900, height: int = 600) -> bytes:
    out = BytesIO()
    Image.new("RGB", (width, height), (240, 200, 10)).save(out, "WEBP")
    return out.getvalue()


def gif() -> bytes:
    out = BytesIO()
    Image.new("P", (40, 40)).save(out, "GIF")
    return out.getvalue()


def pdf() -> bytes:
    return (
        b"%PDF-1.4\n1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj\n"
        b"2 0 obj << /Type /Pages /Kids [] /Count 0 >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
    )


def truncated_jpeg() -> bytes:
    noisy = Image.effect_noise((600, 400), 60).convert("RGB")
    out = BytesIO()
    noisy.save(out, "JPEG")
    data = out.getvalue()
    return data[: len(data) // 2]


def _chunk(kind: bytes, data: bytes) -> bytes:
    crc = zlib.crc32(kind + data) & 0xFFFFFFFF
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)


def decompression_bomb(side: int = 20_000) -> bytes:
    """A valid 1-bit PNG of ``side`` by ``side`` white pixels (400 megapixels: 50 MB
    unpacked as bits, 1.6 GB as RGBA) in about 50 KB."""
    row = b"\x00" + b"\xff" * ((side + 7) // 8)
    packer = zlib.compressobj(9)
    idat = b"".join(packer.compress(row) for _ in range(side)) + packer.flush()
    header = struct.pack(">IIBBBBB", side, side, 1, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + _chunk(b"IHDR", header)
        + _chunk(b"IDAT", idat)
        + _chunk(b"IEND", b"")
    )


def of_size(size: int) -> bytes:
    """A JPEG's first bytes and then padding: ``size`` bytes in all."""
    head = photo_with_exif(64, 64)
    return head + b"\x00" * (size - len(head))
