from __future__ import annotations

from pydantic import BaseModel, Field


class ImageSize(BaseModel):
    width: int
    height: int
    url: str = Field(description="JPEG, or PNG for an image with transparency.")
    webp_url: str = Field(description="The same size as WebP.")


class MediaOut(BaseModel):
    """An uploaded image: ``url`` is its largest size (``width`` by ``height``)."""

    id: int = Field(description="Give it as a drop's `media_id`.")
    url: str
    width: int
    height: int
    sizes: list[ImageSize] = Field(description="Every stored size, smallest first.")
