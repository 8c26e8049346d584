"""Finding a drop: a shopper types a word of its title (without its accent) into the
header's search box and reaches its page; the Upcoming tab lists drops soonest first."""

from __future__ import annotations

import re
from datetime import timedelta

from playwright.sync_api import expect

from tests.web.conftest import screenshot
from tests.web.support import Server, ShopSite, run_cli
from tests.web.test_shopper_journey import sign_up


def test_search_finds_a_drop_by_a_word_of_its_title(
    server: Server, shop: ShopSite, phone: object, database_url: str
) -> None:
    brand = server.signup("maison", display_name="Maison Aurelle")
    run_cli(database_url, "partner", "add", "maison", "--shop-domain", shop.domain)
    sac = server.create_drop(
        brand,
        in_=timedelta(hours=3),
        title="Le Sac Étoile",
        description="Cuir grainé, fermoir doré.",
        price="3900.00",
        currency="USD",
        tag="SacEtoile",
        shop_url=shop.url("/products/sac-etoile"),
        image_url="/static/demo/bag.svg",
    )
    orchid = server.create_drop(
        brand, in_=timedelta(hours=1), title="Orchid Eau de Parfum", tag="Orchid",
        shop_url=shop.url("/products/orchid"),
    )  # fmt: skip
    later = server.create_drop(
        brand, in_=timedelta(days=2), title="Winter Scarf", tag="WinterScarf",
        shop_url=shop.url("/products/scarf"),
    )  # fmt: skip

    page = phone.new_page()  # type: ignore[attr-defined]
    sign_up(page, server, "maya")
    box = page.get_by_role("searchbox", name="Search drops, brands and tags")
    box.fill("etoile")  # the title says "Étoile"
    box.press("Enter")
    expect(page).to_have_url(server.url("/search?q=etoile"))
    expect(page.get_by_role("heading", name="Search", exact=True)).to_be_visible()
    expect(page.get_by_role("searchbox", name="Search drops, brands and tags")).to_have_value(
        "etoile"
    )
    drops = page.get_by_role("region", name="Drops")
    expect(drops.locator("article.drop")).to_have_count(1)
    expect(page.get_by_role("region", name="Hashtags")).to_have_count(0)  # no tag starts so
    screenshot(page, "search", database_url)

    drops.get_by_role("link", name="Le Sac Étoile").click()
    expect(page).to_have_url(server.url(f"/drops/{sac['id']}"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Le Sac Étoile")

    # The Upcoming tab: every drop still to launch, soonest first.
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Upcoming").click()
    expect(page).to_have_url(server.url("/upcoming"))
    expect(page.get_by_role("heading", name="Upcoming drops")).to_be_visible()
    cards = page.locator("[data-upcoming] article.drop")
    expect(cards).to_have_count(3)
    ids = [cards.nth(i).get_attribute("data-drop-id") for i in range(3)]
    assert ids == [str(orchid["id"]), str(sac["id"]), str(later["id"])]
    # in the phone's time zone (New York's: EST or EDT)
    expect(cards.first.locator("time[data-local]")).to_contain_text(re.compile("E[SD]T"))
    screenshot(page, "upcoming", database_url)

    # Nothing found, said plainly.
    box = page.get_by_role("searchbox", name="Search drops, brands and tags")
    box.fill("zzzyx")
    box.press("Enter")
    expect(page.get_by_role("main").get_by_role("status")).to_contain_text(
        "Nothing found for zzzyx."
    )
