"""An uploaded image, made safe and made to fit, by Pillow.

What it is comes from its bytes (Pillow's own detection, JPEG, PNG and WebP only), never
from its name or the type the browser declared. More than ``MAX_PIXELS`` is refused before
it is decoded (Pillow's ``MAX_IMAGE_PIXELS`` and ``DecompressionBombError``: a small
file can unpack to gigabytes). Then it is turned upright (the EXIF orientation), into
sRGB (its ICC profile applied), and re-encoded from its pixels alone: EXIF (camera, GPS),
XMP, ICC and text chunks are not copied. Each of ``BOXES`` gives a rendition (never
larger than the image), as JPEG (PNG when it has transparency) and as WebP.

CPU-bound and blocking: run it in a worker thread. At most ``CONCURRENCY`` run at once
in a process (a 50-megapixel image takes a few hundred MB while it is decoded).
"""

from __future__ import annotations

import threading
import warnings
from dataclasses import dataclass
from io import BytesIO

from PIL import Image, ImageCms, ImageOps, UnidentifiedImageError

from dropbell import errors

ACCEPTED = ("JPEG", "PNG", "WEBP")
# 50 megapixels: a phone's or a camera's photo, not a decompression bomb. Pillow warns
# past it and raises DecompressionBombError past twice it, on open, before decoding; the
# band between is refused here (so the warning says nothing new).
MAX_PIXELS = 50_000_000
Image.MAX_IMAGE_PIXELS = MAX_PIXELS
warnings.simplefilter("ignore", Image.DecompressionBombWarning)
# The widths the pages use (web/static/app.css: a card or the drop page is at most 40rem
# wide, a reminder's thumbnail 4.5rem), for screens of 1 to 3 device pixels a CSS pixel.
# A rendition fits in its box: that wide, at most twice as tall.
BOXES = (320, 640, 1280)
CONCURRENCY = 2
_turns = threading.BoundedSemaphore(CONCURRENCY)

JPEG_OPTIONS = {"quality": 82, "optimize": True, "progressive": True}
WEBP_OPTIONS = {"quality": 80, "method": 4}
PNG_OPTIONS = {"compress_level": 9}

# What a file that is not one of ours is, by its first bytes: said in the error.
_KNOWN = (
    (b"%PDF", "a PDF document"),
    (b"GIF87a", "a GIF image"),
    (b"GIF89a", "a GIF image"),
    (b"BM", "a BMP image"),
    (b"II*\x00", "a TIFF image"),
    (b"MM\x00*", "a TIFF image"),
    (b"PK\x03\x04", "a ZIP archive"),
)


@dataclass(frozen=True)
class Rendition:
    width: int
    height: int
    fallback: bytes  # JPEG, or PNG
    webp: bytes


@dataclass(frozen=True)
class Processed:
    source_format: str  # jpeg, png or webp
    fallback: str  # jpeg or png
    renditions: tuple[Rendition, ...]  # smallest first

    @property
    def stored_bytes(self) -> int:
        return sum(len(r.fallback) + len(r.webp) for r in self.renditions)


def sizes_for(width: int, height: int) -> list[tuple[int, int]]:
    """The renditions' sizes of a ``width`` by ``height`` image, smallest first."""
    sizes = set()
    for box in BOXES:
        scale = min(1.0, box / width, 2 * box / height)
        sizes.add((max(1, round(width * scale)), max(1, round(height * scale))))
    return sorted(sizes)


def what_it_is(data: bytes) -> str | None:
    """A name for a file that is not JPEG, PNG or WebP, when its first bytes tell."""
    head = data[:16]
    for magic, name in _KNOWN:
        if head.startswith(magic):
            return name
    if head[4:12] in (b"ftypheic", b"ftypheix", b"ftypmif1", b"ftypavif"):
        return "a HEIC or AVIF image"
    if data[:256].lstrip().lower().startswith((b"<svg", b"<?xml")):
        return "an SVG or XML file"
    return None


def process(data: bytes) -> Processed:
    """``data`` checked, cleaned and resized; raises the 4xx error that says what is wrong
    (415 not an image we take, 422 damaged, 422 too many pixels)."""
    with _turns:
        image, source_format = _decode(data)
        image = _upright_rgb(image)
        fallback = "png" if image.mode == "RGBA" else "jpeg"
        renditions = []
        for width, height in sizes_for(*image.size):
            sized = image
            if (width, height) != image.size:
                sized = image.resize((width, height), Image.Resampling.LANCZOS, reducing_gap=3.0)
            renditions.append(_encode(sized, fallback))
        return Processed(source_format, fallback, tuple(renditions))


def _too_many_pixels(width: int | None = None, height: int | None = None) -> errors.AppError:
    most = f"at most {MAX_PIXELS // 1_000_000} megapixels are taken; upload a smaller one."
    if width and height:
        return errors.InvalidImage(f"The image is {width} by {height} pixels: {most}")
    return errors.InvalidImage(f"The image has too many pixels: {most}")


def _decode(data: bytes) -> tuple[Image.Image, str]:
    if not data:
        raise errors.InvalidImage("The file is empty: choose an image to upload.")
    try:
        image = Image.open(BytesIO(data), formats=ACCEPTED)
    except Image.DecompressionBombError:
        raise _too_many_pixels() from None
    except UnidentifiedImageError:
        name = what_it_is(data)
        prefix = f"This file is {name}, not" if name else "This file is not"
        raise errors.UnsupportedImage(
            f"{prefix} a JPEG, PNG or WebP image; upload one of those."
        ) from None
    except Exception:  # a header Pillow recognised, then could not read
        raise errors.InvalidImage() from None
    source_format = str(image.format).lower()
    if image.width * image.height > MAX_PIXELS:
        raise _too_many_pixels(image.width, image.height)
    if source_format == "jpeg":  # decode at 1/2, 1/4 or 1/8 when that is still big enough
        largest = 2 * BOXES[-1]
        image.draft(image.mode, (largest, largest))
    try:
        image.load()
    except Image.DecompressionBombError:
        raise _too_many_pixels(image.width, image.height) from None
    except Exception:  # truncated, corrupt: whatever the decoder says, the file is bad
        raise errors.InvalidImage() from None
    return image, source_format


def _upright_rgb(image: Image.Image) -> Image.Image:
    """Turned as the camera meant (EXIF orientation), in sRGB, as RGB or RGBA (RGBA only
    when some pixel is see-through), with no metadata of the file left on it."""
    icc = image.info.get("icc_profile")
    upright = ImageOps.exif_transpose(image)
    if upright.mode in ("I;16", "I;16B", "I;16L", "I"):  # 16-bit grey: 0-65535 to 0-255
        upright = upright.convert("I").point(lambda v: v / 256).convert("L")
    has_alpha = upright.mode in ("RGBA", "LA", "PA", "La", "RGBa") or (
        "transparency" in upright.info
    )
    target = "RGBA" if has_alpha else "RGB"
    rgb = (_to_srgb(upright, icc, target) if icc else None) or upright.convert(target)
    if rgb.mode == "RGBA" and rgb.getchannel("A").getextrema() == (255, 255):
        rgb = rgb.convert("RGB")  # an alpha channel with nothing see-through
    rgb.info = {}
    return rgb


def _to_srgb(image: Image.Image, icc: bytes, mode: str) -> Image.Image | None:
    """``image`` in sRGB as ``mode``, from the colour profile it came with; None when the
    profile cannot be applied (then the pixels are taken as they are, and the profile is
    dropped all the same)."""
    try:
        source = ImageCms.ImageCmsProfile(BytesIO(icc))
        converted = ImageCms.profileToProfile(
            image, source, ImageCms.createProfile("sRGB"), outputMode=mode
        )
    except (ImageCms.PyCMSError, OSError, ValueError, TypeError):
        return None
    return converted


def _encode(image: Image.Image, fallback: str) -> Rendition:
    out, webp = BytesIO(), BytesIO()
    if fallback == "png":
        image.save(out, "PNG", **PNG_OPTIONS)
    else:
        image.save(out, "JPEG", **JPEG_OPTIONS)
    image.save(webp, "WEBP", **WEBP_OPTIONS)
    return Rendition(image.width, image.height, out.getvalue(), webp.getvalue())
