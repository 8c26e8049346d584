"""HTML forms: read them into the API's own schemas, and put each error beside its field."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError
from starlette.datastructures import FormData

from dropbell import errors
from dropbell.errors import AppError
from dropbell.web.render import zone

M = TypeVar("M", bound=BaseModel)

DROP_FIELDS = (
    "title",
    "description",
    "price",
    "currency",
    "image_url",
    "launch_at",
    "shop_url",
    "tag",
)


@dataclass
class Form:
    """What the user typed, and what is wrong with it (``errors[""]`` is about the whole form)."""

    values: dict[str, str] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.errors

    def add_error(self, exc: AppError) -> None:
        self.errors[field_of(exc, self.values)] = exc.detail


def text_values(form: FormData, names: tuple[str, ...]) -> dict[str, str]:
    out = {}
    for name in names:
        value = form.get(name)
        out[name] = value.strip() if isinstance(value, str) else ""
    return out


def _message(err: Any) -> str:
    kind, msg = err.get("type", ""), str(err.get("msg", "Not valid."))
    if kind == "missing" or (
        kind == "string_too_short" and err.get("ctx", {}).get("min_length") == 1
    ):
        return "This is required."
    msg = msg.removeprefix("Value error, ")
    return msg[:1].upper() + msg[1:] + ("" if msg.endswith(".") else ".")


def validate(model: type[M], data: dict[str, Any], form: Form) -> M | None:
    """``model`` from ``data``, or None with the errors added to ``form``."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        for err in exc.errors():
            loc = err.get("loc", ())
            name = str(loc[0]) if loc else ""
            form.errors.setdefault(name, _message(err))
        return None


def field_of(exc: errors.AppError, values: dict[str, str]) -> str:
    """Which field a service error is about (it names the field first), else the form."""
    if isinstance(exc, errors.TagTaken):
        return "tag"
    if isinstance(exc, errors.UsernameTaken):
        return "username"
    first = exc.detail.split(" ", 1)[0]
    return first if first in values else ""


def local_to_utc(value: str, tz: str) -> str | None:
    """A ``datetime-local`` value, read in the user's zone, as RFC 3339 (None if not a time)."""
    if not value:
        return None
    try:
        naive = datetime.fromisoformat(value)
    except ValueError:
        return None
    if naive.tzinfo is not None:
        return naive.isoformat()
    return naive.replace(tzinfo=zone(tz)).isoformat()


def drop_data(
    values: dict[str, str], tz: str, form: Form, *, launch_was: str = ""
) -> dict[str, Any]:
    """The drop form as the API's DropCreate/DropUpdate body.

    On the edit form an untouched launch time (``launch_was``, minute precision)
    is left out, so saving other fields never reschedules the drop.
    """
    data: dict[str, Any] = {}
    for name in DROP_FIELDS:
        raw = values.get(name, "")
        if name == "launch_at":
            if raw and raw == launch_was:
                continue
            when = local_to_utc(raw, tz)
            if raw and when is None:
                form.errors["launch_at"] = "Pick a date and time."
            elif when is not None:
                data[name] = when
        elif name in ("price", "currency", "image_url"):
            data[name] = raw or None
        else:
            data[name] = raw
    if data.get("currency") is None and data.get("price") is not None:
        data["currency"] = "USD"
    return data
