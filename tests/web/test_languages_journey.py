"""An Arabic-language shopper reads dropbell in Arabic, right to left: the home, a drop and
its tag page, with Arabic posts and hashtags in their own direction; the switcher turns the
site French and back. Screenshots: docs/screenshots/arabic-*.png."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from babel.dates import format_datetime
from playwright.sync_api import Page, expect

from tests.web.conftest import screenshot
from tests.web.support import PASSWORD, Server, ShopSite, run_cli

POST = "العد التنازلي بدأ #تسوق — من ضبط التذكير؟"


def _direction(page: Page, selector: str) -> str:
    return str(page.locator(selector).first.evaluate("el => getComputedStyle(el).direction"))


def test_an_arabic_shopper_reads_home_drop_and_tag_right_to_left(
    server: Server,
    shop: ShopSite,
    browser: Any,
    devices: dict[str, dict[str, object]],
    database_url: str,
) -> None:
    brand = server.signup("maison", display_name="دار الصحراء", language="ar", country="SA")
    run_cli(database_url, "partner", "add", "maison", "--shop-domain", shop.domain)
    drop = server.create_drop(
        brand,
        in_=timedelta(hours=26),
        title="حقيبة الكثبان",
        description="حقيبة جلدية بلون الرمال، إصدار محدود.",
        price="450.00",
        currency="SAR",
        tag="تسوق",
        shop_url=shop.url("/products/dune-bag"),
        image_url="/static/demo/bag.svg",
    )
    writer = server.signup("layla", display_name="ليلى", language="ar", country="SA")
    assert server.api("POST", "/api/v1/posts", writer, json={"text": POST}).status_code == 201

    # A phone whose browser speaks Arabic: the first visit is Arabic, right to left.
    context = browser.new_context(
        **devices["iphone"],
        locale="ar-SA",
        timezone_id="Asia/Riyadh",
        ignore_https_errors=True,
    )
    context.set_default_timeout(15_000)
    page = context.new_page()
    page.goto(server.url("/"))
    expect(page.locator("html")).to_have_attribute("lang", "ar")
    expect(page.locator("html")).to_have_attribute("dir", "rtl")
    expect(page.get_by_role("heading", name="الإصدارات", exact=True)).to_be_visible()
    assert _direction(page, "main") == "rtl"

    # Sign up in Arabic; the language is the browser's.
    page.get_by_role("link", name="إنشاء حساب").click()
    expect(page.get_by_role("main").get_by_label("اللغة")).to_have_value("ar")
    page.get_by_label("اسم المستخدم").fill("noura")
    page.get_by_label("كلمة المرور").fill(PASSWORD)
    page.get_by_role("main").get_by_label("البلد").select_option("SA")
    page.get_by_role("button", name="أنشئ الحساب").click()
    expect(page.get_by_role("heading", name="الإصدارات", exact=True)).to_be_visible()

    card = page.locator(f'article.drop[data-drop-id="{drop["id"]}"]').first
    expect(card.get_by_role("heading", name="حقيبة الكثبان")).to_be_visible()
    expect(card.locator(".price")).to_have_text("\u200f450\xa0ر.س.\u200f")
    launch = datetime.fromisoformat(drop["launch_at"]).astimezone(ZoneInfo("Asia/Riyadh"))
    day = format_datetime(launch, "EEEE d MMMM y", locale="ar")  # "الجمعة 4 ديسمبر 2026"
    expect(card.locator(".when time")).to_contain_text(day)
    expect(card.locator(".countdown")).to_contain_text("يبدأ بعد")
    card.get_by_role("button", name="ذكّرني").click()
    expect(card.get_by_role("button", name="تم ضبط التذكير")).to_have_attribute(
        "aria-pressed", "true"
    )
    expect(card.locator(".drop-foot")).to_contain_text("تذكير واحد مضبوط")
    # The hashtag and the post read right to left; the card is mirrored (its chip on the right).
    assert _direction(page, ".post-text") == "rtl"
    assert _direction(page, "a.tag") == "rtl"
    box = card.locator(".drop-media").bounding_box()
    chip = card.locator(".drop-media .chip").bounding_box()
    assert box and chip and chip["x"] + chip["width"] > box["x"] + box["width"] / 2
    page.evaluate("window.scrollTo(0, 0)")
    screenshot(page, "arabic-home", database_url)

    # The drop's page, in Arabic.
    card.get_by_role("link", name="حقيبة الكثبان", exact=True).click()
    expect(page.get_by_role("heading", name="حقيبة الكثبان", level=1)).to_be_visible()
    expect(page.get_by_role("heading", name="عن هذا الإصدار")).to_be_visible()
    expect(page.get_by_role("group", name="متى نخبرك؟")).to_be_visible()
    expect(page.get_by_text("قبل يوم واحد").first).to_be_visible()
    assert _direction(page, ".description") == "rtl"
    screenshot(page, "arabic-drop", database_url)

    # The tag page: the drop, then the posts with #تسوق.
    page.goto(server.url("/tags/تسوق"))
    expect(page.locator("html")).to_have_attribute("dir", "rtl")
    expect(page.get_by_text("الإصدار وكل المنشورات عنه، الأحدث أولًا.")).to_be_visible()
    post = page.locator("article.post", has_text="العد التنازلي").first
    expect(post.get_by_role("link", name="#تسوق")).to_be_visible()
    assert _direction(page, "article.post .post-text") == "rtl"
    screenshot(page, "arabic-tag", database_url)

    # The switcher: French, left to right, on the same page and in the account.
    page.get_by_role("combobox", name="اللغة").last.select_option("fr")
    expect(page.locator("html")).to_have_attribute("lang", "fr")
    expect(page.locator("html")).to_have_attribute("dir", "ltr")
    expect(page).to_have_url(server.url("/tags/%D8%AA%D8%B3%D9%88%D9%82"))
    expect(page.get_by_role("heading", name="Publications")).to_be_visible()
    account = server.api("GET", "/api/v1/accounts/me", server.token("noura")).json()
    assert account["language"] == "fr"
    page.get_by_role("combobox", name="Langue").select_option("ar")
    expect(page.locator("html")).to_have_attribute("dir", "rtl")
    context.close()
