"""Where uploaded images live: files under ``DROPBELL_MEDIA_DIR``, named once, never changed.

A file's name is its upload's random key, the rendition's width and its format
(``3f9c…e1-640.webp``): a new image is a new upload with a new key, so a name always
means the same bytes and is served with a year's cache. Files sit in a folder per first
two characters of the key (``3f/``), so no folder grows past a few thousand entries.
Each file is written to a temporary name, flushed to disk, then renamed into place: a
reader never sees half a file.
"""

from __future__ import annotations

import os
import re
import secrets
from pathlib import Path

from dropbell.media.images import Processed

EXTENSIONS = {"jpeg": "jpg", "png": "png", "webp": "webp"}
CONTENT_TYPES = {"jpg": "image/jpeg", "png": "image/png", "webp": "image/webp"}
NAME = re.compile(r"(?P<key>[0-9a-f]{32})-(?P<width>[1-9][0-9]{0,4})\.(?P<ext>jpg|png|webp)")


def new_key() -> str:
    return secrets.token_hex(16)


def file_name(key: str, width: int, kind: str) -> str:
    """``kind``: jpeg, png or webp."""
    return f"{key}-{width}.{EXTENSIONS[kind]}"


def path_of(root: Path, name: str) -> Path | None:
    """Where the file ``name`` is (None for a name that is not one of ours: never a path
    outside ``root``)."""
    if not NAME.fullmatch(name):
        return None
    return root / name[:2] / name


def content_type(name: str) -> str:
    return CONTENT_TYPES[name.rsplit(".", 1)[1]]


def write(root: Path, key: str, processed: Processed) -> list[Path]:
    """Every rendition of ``processed`` under ``root``, as JPEG or PNG and as WebP; the
    paths written. On an error nothing of it is left."""
    written: list[Path] = []
    try:
        for rendition in processed.renditions:
            for kind, data in (
                (processed.fallback, rendition.fallback),
                ("webp", rendition.webp),
            ):
                path = root / key[:2] / file_name(key, rendition.width, kind)
                _write_file(path, data)
                written.append(path)
    except BaseException:
        remove(written)
        raise
    return written


def _write_file(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
    try:
        with temporary.open("xb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise


def remove(paths: list[Path]) -> None:
    """Delete these files (those already gone are no error)."""
    for path in paths:
        path.unlink(missing_ok=True)
