"""What the demo is made of: partner brands, shoppers (and a brand they follow), drops at
several distances, and posts about the drops (with likes, reposts and bookmarks)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

PASSWORD = "dropbell-demo"
SHOPPER = "shopper"
FOLLOWERS = (SHOPPER, "jordan", "priya")  # of Maison Aurelle (/@maison_aurelle)


@dataclass(frozen=True)
class Brand:
    username: str
    display_name: str
    domain: str


BRANDS = (
    Brand("maison_aurelle", "Maison Aurelle", "aurelle.example"),
    Brand("union_grid", "Union Grid", "uniongrid.example"),
    Brand("brickhaus", "Brickhaus", "brickhaus.example"),
)

SHOPPERS = (
    # username, display name, country, language, time zone
    (SHOPPER, "Maya Chen", "US", "en", "America/Los_Angeles"),
    ("jordan", "Jordan Ellis", "US", "en", "America/New_York"),
    ("priya", "Priya Raman", "US", "en", "America/Chicago"),
    ("sam", "Sam Okafor", "US", "en", "America/Denver"),
    ("lena", "Lena Fischer", "DE", "de", "Europe/Berlin"),
    ("tomas", "Tomás Ruiz", "US", "es", "America/Phoenix"),
    ("aiko", "Aiko Tanaka", "JP", "ja", "Asia/Tokyo"),
    ("noah", "Noah Williams", "US", "en", "America/New_York"),
)


@dataclass(frozen=True)
class DemoDrop:
    brand: str
    title: str
    description: str
    price: str
    tag: str
    image: str
    launch_in: timedelta
    path: str


# What each demo picture shows: the alt text a brand writes for its drop's image.
IMAGE_ALT = {
    "bag": "A quilted leather handbag",
    "bricks": "A stack of toy bricks",
    "jacket": "A varsity jacket",
    "perfume": "A faceted perfume bottle",
    "sneaker": "A white and red sneaker",
}

DROPS = (
    DemoDrop(
        "union_grid",
        "Varsity Jacket '26",
        "Boiled wool body, cowhide sleeves, chenille U. 300 pieces, numbered.",
        "420.00",
        "UnionVarsity26",
        "jacket",
        timedelta(minutes=4),
        "/products/varsity-26",
    ),
    DemoDrop(
        "maison_aurelle",
        "Le Sac Matelassé",
        "The quilted lambskin bag in midnight black with an antique-gold clasp.",
        "3900.00",
        "AurelleMatelasse",
        "bag",
        timedelta(minutes=20),
        "/maroquinerie/sac-matelasse",
    ),
    DemoDrop(
        "brickhaus",
        "Skyline Bricks: Night Market",
        "2,481 pieces, 14 minifigures, lights that glow in the dark.",
        "179.99",
        "NightMarketBricks",
        "bricks",
        timedelta(hours=1),
        "/sets/night-market",
    ),
    DemoDrop(
        "maison_aurelle",
        "Eau de Nuit, édition limitée",
        "A faceted flacon of our night fragrance, signed by the perfumer.",
        "260.00",
        "EauDeNuit",
        "perfume",
        timedelta(days=3),
        "/parfums/eau-de-nuit",
    ),
    DemoDrop(
        "union_grid",
        "UG Court Low 'Signal Red'",
        "Tumbled leather court shoe with a signal-red sole. Sizes 5 to 14.",
        "160.00",
        "CourtLowSignal",
        "sneaker",
        timedelta(hours=-2),
        "/footwear/court-low-signal",
    ),
)


@dataclass(frozen=True)
class DemoPost:
    author: str
    text: str
    ago: timedelta
    liked_by: tuple[str, ...] = ()
    reposted_by: tuple[str, ...] = ()
    bookmarked_by: tuple[str, ...] = ()
    repost_of_drop: str = ""  # a repost of this drop's announcement instead of a post (no text)


# Oldest first (ids follow time, as they do in real life).
POSTS = (
    DemoPost(
        "noah",
        "Copped the #CourtLowSignal in an 11. That red sole is louder in person 🔥",
        timedelta(minutes=100),
        liked_by=("jordan", "priya", "sam"),
        reposted_by=("jordan",),
    ),
    DemoPost(
        "brickhaus",
        "The lanterns on the night market stalls glow for hours after lights-out. "
        "14 minifigures, one very busy noodle chef. #NightMarketBricks",
        timedelta(minutes=75),
        liked_by=("shopper", "sam", "noah"),
        reposted_by=("sam",),
        bookmarked_by=("shopper",),
    ),
    DemoPost(
        "priya",
        "Is anyone else setting three alarms for #AurelleMatelasse or is it just me",
        timedelta(minutes=50),
        liked_by=("shopper", "noah"),
    ),
    DemoPost(
        "maison_aurelle",
        "Each Matelassé is quilted by hand in our atelier: 40 hours, 1,200 stitches. "
        "See you at the launch. #AurelleMatelasse",
        timedelta(minutes=35),
        liked_by=("priya", "shopper", "jordan", "sam"),
        reposted_by=("priya",),
        bookmarked_by=("priya",),
    ),
    DemoPost("noah", "", timedelta(minutes=28), repost_of_drop="NightMarketBricks"),
    DemoPost(
        "jordan",
        "Size advice for #UnionVarsity26? I'm between an M and an L and the sleeves look long.",
        timedelta(minutes=22),
        liked_by=("sam",),
    ),
    DemoPost(
        "union_grid",
        "Fits true to size, sleeves are cut long on purpose. 300 numbered pieces, no restock. "
        "#UnionVarsity26",
        timedelta(minutes=12),
        liked_by=("jordan", "noah", "shopper"),
        reposted_by=("noah",),
    ),
    DemoPost("jordan", "", timedelta(minutes=8), repost_of_drop="UnionVarsity26"),
    DemoPost(
        "sam",
        "Reminder set for #UnionVarsity26 and #NightMarketBricks. Wallet, I'm sorry.",
        timedelta(minutes=5),
        liked_by=("priya",),
        bookmarked_by=("shopper",),
    ),
)

DEMO_USERNAMES = [b.username for b in BRANDS] + [s[0] for s in SHOPPERS]

# The leads shoppers choose, in turn: a day and 15 minutes before, an hour before, the
# default lead (None). Each with the launch notice.
LEADS: tuple[list[int] | None, ...] = ([86400, 900], [3600], None)
