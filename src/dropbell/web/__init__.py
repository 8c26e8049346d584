"""The web app: server-rendered pages for shoppers and brands (see docs/web.md)."""

from pathlib import Path

STATIC_DIR = Path(__file__).parent / "static"
