"""HTML forms: read them into the API's own schemas, and put each error beside its field."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError
from starlette.datastructures import FormData

from dropbell import errors
from dropbell.config import Settings
from dropbell.errors import AppError
from dropbell.i18n import N_, _
from dropbell.web.render import lead_text, zone

M = TypeVar("M", bound=BaseModel)

DROP_FIELDS = (
    "title",
    "description",
    "price",
    "currency",
    "image_url",
    "media_id",
    "image_alt",
    "launch_at",
    "shop_url",
    "tag",
    "countries",
)


# The fields as the forms name them: a message a person reads says these, never the API's
# field names (``shop_url``).
LABELS = {
    "username": N_("username"),
    "display_name": N_("display name"),
    "password": N_("password"),
    "current_password": N_("current password"),
    "new_password": N_("new password"),
    "country": N_("country"),
    "language": N_("language"),
    "timezone": N_("time zone"),
    "title": N_("title"),
    "description": N_("description"),
    "price": N_("price"),
    "currency": N_("currency"),
    "image_url": N_("image link"),
    "image": N_("image"),
    "media_id": N_("image"),
    "countries": N_("countries"),
    "image_alt": N_("image description"),
    "launch_at": N_("launch time"),
    "shop_url": N_("shop link"),
    "tag": N_("hashtag"),
    "text": N_("post"),
}

# What to write, for the fields whose rule is a pattern, a type or a list: said whatever
# the particular complaint (too short, a space, not a number).
ADVICE = {
    "username": N_(
        "Choose a username of 3 to 30 letters (a to z), digits or underscores (_), with no spaces."
    ),
    "country": N_("Choose your country from the list."),
    "language": N_("Choose your language from the list."),
    "timezone": N_("Choose your time zone from the list."),
    "price": N_(
        "Write the price as a number from 0 up to 999999999999.99 with at most two "
        "decimals, like 120.00."
    ),
    "currency": N_("Write the currency as its three-letter code, like USD or EUR."),
    "launch_at": N_("Pick a date and time for the launch."),
    "image_url": N_("Give the image's full https:// address on your site, or leave it empty."),
    "countries": N_(
        "Write each country as its two-letter code, separated by commas (SA, AE), or leave "
        "it empty to sell everywhere."
    ),
    "shop_url": N_("Give the product page's full https:// address on your shop."),
}


TOO_LONG = N_("The %(field)s can be at most %(num)s characters; shorten it.")


# The services' and schemas' sentences a page may show, as it shows them: translated when
# shown (``say``); one not listed here stays English (docs/translations.md).
SENTENCES = (
    N_("A post needs some text."),
    N_("A hashtag is letters, digits and _ (no spaces or punctuation)."),
    N_("A hashtag needs at least one letter."),
    N_("A hashtag cannot contain invisible characters."),
    N_("You are not allowed to do that."),
    N_("Only approved partner brands can do that."),
    N_("Only the brand that owns this drop can do that."),
    N_("Remind me is not available for your account yet."),
    N_("Only the author of this post can do that."),
    N_("The current password is not right."),
    N_("This drop has already launched."),
    N_("This drop was cancelled."),
    N_("That username is taken."),
    N_("Another drop already uses that hashtag."),
    N_("That hashtag looks like another drop's."),
    N_("Too many requests; slow down."),
    N_("This form has expired. Reload the page and try again."),
    N_("The shop link must be a plain https URL."),
    N_("The shop link is not a valid URL."),
    N_("The shop link must use https."),
    N_("The shop link must not carry a user name or password."),
    N_("The shop link must use the standard https port."),
    N_("The image link must be an https URL with a valid host name."),
    N_("The image could not be read: the file is damaged or incomplete."),
    N_("The file is empty: choose an image to upload."),
    N_("This file is not a JPEG, PNG or WebP image; upload one of those."),
    N_("The image has too many pixels: at most 50 megapixels are taken; upload a smaller one."),
    N_("The image is not one of your uploads; upload the image first."),
    N_("The launch time must be in the future."),
    N_("The new password must not be the same as the username."),
    N_("The new password is one of the most common passwords; choose a less guessable one."),
    N_("A cancelled drop cannot be edited."),
    N_("A drop that has launched cannot be rescheduled."),
    N_("You cannot follow yourself."),
    N_("Only partner brands can be followed; this account is not one."),
    N_("There is no such account on dropbell."),
)

# The sentences that carry a value (a list of domains, a number, a field), as the page
# shows them after ``humanize``: the value is kept, the words around it translated.
PATTERNS = (
    (
        re.compile(r"The shop link must be on one of your shop domains \((?P<domains>.+)\)\."),
        N_("The shop link must be on one of your shop domains (%(domains)s)."),
    ),
    (
        re.compile(r"This file is (?P<what>an? [A-Za-z ]+), not a JPEG, PNG or WebP image; .+"),
        N_("This file is %(what)s, not a JPEG, PNG or WebP image; upload one of those."),
    ),
    (
        re.compile(r"The image is (?P<width>\d+) by (?P<height>\d+) pixels: .+"),
        N_(
            "The image is %(width)s by %(height)s pixels: at most 50 megapixels are taken; "
            "upload a smaller one."
        ),
    ),
    (
        re.compile(r"The file is over (?P<most>[\d.]+ MB): .+"),
        N_("The file is over %(most)s: upload an image of at most %(most)s."),
    ),
    (
        re.compile(r"The launch time must be at most (?P<days>\d+) days from now\."),
        N_("The launch time must be at most %(days)s days from now."),
    ),
    (
        re.compile(r"(?P<field>title|launch_at|shop_url|tag) cannot be empty\."),
        N_("The %(field)s cannot be empty."),
    ),
    (
        re.compile(r"There is no account @(?P<username>\w+) on dropbell\."),
        N_("There is no account @%(username)s on dropbell."),
    ),
)


def say(message: str) -> str:
    """A service's sentence as a page shows it: the form's words for the field, in the
    page's language when the catalogs have it."""
    text = humanize(message)
    for pattern, words in PATTERNS:
        if found := pattern.fullmatch(text) or pattern.fullmatch(message):
            values = found.groupdict()
            if "field" in values:
                values["field"] = label(values["field"])
            return _(words) % values
    return _(text) if text else text  # gettext("") is the catalog's header


def label(name: str) -> str:
    """The field as the form names it, in the page's language."""
    return _(LABELS[name]) if name in LABELS else name.replace("_", " ")


def humanize(message: str) -> str:
    """A service's sentence that starts with an API field name ("shop_url must use https.",
    "tag: a hashtag needs a letter") said with the form's words ("The shop link must use
    https.", "A hashtag needs a letter.")."""
    first, _, rest = message.partition(" ")
    if not rest:
        return message
    if first.endswith(":") and first[:-1] in LABELS:
        return rest[:1].upper() + rest[1:] + ("" if rest.endswith(".") else ".")
    if first in LABELS:
        return f"The {LABELS[first]} {rest}"
    return message


@dataclass
class Form:
    """What the user typed, and what is wrong with it (``errors[""]`` is about the whole form)."""

    values: dict[str, str] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.errors

    def add_error(self, exc: AppError) -> None:
        self.errors[field_of(exc, self.values)] = say(exc.detail)


def text_values(form: FormData, names: tuple[str, ...]) -> dict[str, str]:
    out = {}
    for name in names:
        value = form.get(name)
        out[name] = value.strip() if isinstance(value, str) else ""
    return out


def _message(name: str, err: Any) -> str:
    """One validation error as a sentence about what to do, naming the field as the form
    does (pydantic's own words, "String should match pattern …", are for developers)."""
    kind, ctx = err.get("type", ""), err.get("ctx") or {}
    what = label(name)
    if kind == "missing" or (kind == "string_too_short" and ctx.get("min_length") == 1):
        return _("Fill in the %(field)s.") % {"field": what} if name else _("Fill in this form.")
    if name in ADVICE:
        return _(ADVICE[name])
    if kind == "string_too_short":
        return _("The %(field)s needs at least %(num)s characters.") % {
            "field": what,
            "num": ctx.get("min_length"),
        }
    if kind == "string_too_long":
        return _(TOO_LONG) % {"field": what, "num": ctx.get("max_length")}
    if kind == "value_error":  # the schema's own rule, written for people
        msg = str(err.get("msg", "")).removeprefix("Value error, ")
        most = re.fullmatch(r"at most (\d+) characters", msg)
        if most:  # "at most 500 characters"
            return _(TOO_LONG) % {"field": what, "num": most.group(1)}
        if msg.startswith("at most "):
            return f"The {what} can be {msg}; shorten it."
        msg = humanize(msg)
        return _(msg[:1].upper() + msg[1:] + ("" if msg.endswith(".") else "."))
    if kind.endswith(("_parsing", "_type")) and kind.startswith(("decimal", "float", "int")):
        return _("Write the %(field)s as a number.") % {"field": what}
    if kind.startswith(("greater_than", "less_than")):
        return _("The %(field)s is out of range; check it and try again.") % {"field": what}
    return _("The %(field)s is not right; check it and try again.") % {"field": what}


def validate(model: type[M], data: dict[str, Any], form: Form) -> M | None:
    """``model`` from ``data``, or None with the errors added to ``form``."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        for err in exc.errors():
            loc = err.get("loc", ())
            name = str(loc[0]) if loc else ""
            form.errors.setdefault(name, _message(name, err))
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
                form.errors["launch_at"] = _("Pick a date and time.")
            elif when is not None:
                data[name] = when
        elif name in ("price", "currency", "image_url"):
            data[name] = raw or None
        elif name == "media_id":  # a kept upload; a typed link replaces it
            data[name] = int(raw) if raw.isdigit() and not values.get("image_url") else None
        elif name == "countries":  # "SA, AE" or "sa ae"
            codes = [c for c in re.split(r"[\s,;]+", raw) if c]
            data[name] = codes or None
        else:
            data[name] = raw
    if data.get("currency") is None and data.get("price") is not None:
        data["currency"] = "USD"
    return data


MAX_LEADS = 10  # as many as the API's RemindBody takes


def chosen_leads(
    settings: Settings, picker: str | None, offsets: list[str] | None
) -> list[int] | None:
    """The leads a Remind me form chose: None (the default lead) from a plain toggle, else
    the ticked ones (none ticked: the launch notice only). A lead off the operator's menu is
    a 422 that says what may be chosen; nothing changes."""
    if picker is None and not offsets:
        return None
    if len(offsets or []) > MAX_LEADS:
        raise errors.InvalidOffset(_("Choose at most %(num)d reminder times.") % {"num": MAX_LEADS})
    allowed = settings.allowed_offsets
    chosen: list[int] = []
    for raw in offsets or []:
        lead = int(raw) if raw.strip().isdigit() else None
        if lead not in allowed:
            menu = sorted(allowed, reverse=True)
            names = [lead_text(o) for o in menu]
            listed = names[0]
            if len(names) > 1:
                listed = _("%(some)s or %(last)s") % {
                    "some": ", ".join(names[:-1]),
                    "last": names[-1],
                }
            raise errors.InvalidOffset(
                _("That is not a reminder time you can choose: pick %(leads)s before the launch.")
                % {"leads": listed}
            )
        chosen.append(lead)
    return chosen
