"""A brand uploads its drop's photo in the console, sees it before sending the form,
describes it, and finds it on the drop's card (WebP, from dropbell's own /media/, with
the words it wrote as the image's alt) on a shopper's phone; a regional drop's page says
where it is sold."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from playwright.sync_api import expect

from tests.media.files import photo_with_exif
from tests.web.support import Server
from tests.web.test_polish import brand, log_in

ALT = "A red suede sneaker on a white step"


def test_a_brand_uploads_an_image_with_alt_text_and_sees_it_on_the_card(
    server: Server, laptop: Any, phone: Any
) -> None:
    brand(server)
    page = laptop.new_page()
    log_in(page, server, "maison")
    page.goto(server.url("/console/drops/new"))
    launch = (server.now() + timedelta(days=1)).strftime("%Y-%m-%dT%H:%M")
    page.get_by_label("Title").fill("Suede Runner")
    page.get_by_label("Launch time").fill(launch)
    page.get_by_label("Shop link").fill("https://shop.example/runner")
    page.get_by_label("Hashtag", exact=True).fill("SuedeRunner")

    preview = page.locator("[data-image-preview]")
    expect(preview).to_be_hidden()
    page.get_by_label("Image (optional)").set_input_files(
        {"name": "IMG_2041.JPG", "mimeType": "image/jpeg", "buffer": photo_with_exif()}
    )
    expect(preview).to_be_visible()  # the chosen file, before anything is sent
    assert preview.evaluate("img => img.naturalWidth") > 0

    # Without a description the form asks for one, and keeps the upload.
    page.get_by_role("button", name="Announce drop").click()
    expect(page.locator("#e-image_alt")).to_contain_text("Describe the image")
    expect(page.locator(".image-current img")).to_be_visible()
    page.get_by_label("Image description").fill(ALT)
    page.get_by_label("Sold in (optional)").fill("US, CA")
    page.get_by_role("button", name="Announce drop").click()
    expect(page.locator(".notice")).to_contain_text("Your drop is announced")
    drop = server.http.get("/api/v1/drops").json()[0]
    assert drop["media_id"] is not None and drop["image_alt"] == ALT
    assert drop["image_url"].startswith(server.url("/media/"))

    server.signup("maya")
    shopper = phone.new_page()
    log_in(shopper, server, "maya")
    card_image = shopper.locator(f'[data-drop-id="{drop["id"]}"] picture img')
    expect(card_image).to_have_attribute("alt", ALT)
    expect(shopper.get_by_role("img", name=ALT).first).to_be_visible()
    card_image.scroll_into_view_if_needed()
    shopper.wait_for_function(
        "img => img.complete && img.naturalWidth > 0", arg=card_image.element_handle()
    )
    # Chromium takes the WebP source, at a size for the phone's screen, from /media/.
    src = card_image.evaluate("img => img.currentSrc")
    assert src.startswith(server.url("/media/")) and src.endswith(".webp"), src
    file = server.http.get(src.removeprefix(server.base))
    assert file.headers["cache-control"] == "public, max-age=31536000, immutable"

    shopper.goto(server.url(f"/drops/{drop['id']}"))
    expect(shopper.locator(".drop-page picture img")).to_have_attribute("alt", ALT)
    expect(shopper.locator(".drop-page .where")).to_have_text(
        "Sold only in Canada and the United States."
    )
