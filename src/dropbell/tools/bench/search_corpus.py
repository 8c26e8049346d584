"""The multilingual posts ``dropbell bench search`` loads: a million in set-based SQL.

Four languages in turn (English; French and Spanish with their accents; Arabic with
its diacritics, a tatweel and alefs with hamza), from small vocabularies stored in
temporary tables; the text is joined from them in SQL (``INSERT … SELECT`` over a
series), its plain form (``search_text``) from the same rows' folded forms. Post ``x``
is:

    <common word> <word> <name> <word> <word> #<tag>

- the common word: one of the language's first 8 (each in 1 post in 32);
- the words: of the language's other 32 (each in about 1 post in 43);
- the name: one of 27,000 made-up product names (three syllables, ``velomira``), so a
  name is a rare word: about 37 posts in a million carry it;
- the tag: one of the language's 12.

Drops (one in 500 posts; their announcements are posts too) are called after a name
and a word, tagged with their name and number; brands are ``brandN``, "Maison <name>".
"""

from __future__ import annotations

import itertools
from typing import Any

from sqlalchemy import text

from dropbell.posts.tags import normalise_tag
from dropbell.search.text import document, fold

COMMON = 8  # the first words of each vocabulary are the common ones
SIZE = 40  # words per language
TAG_COUNT = 12  # tags per language
WORDS = {
    "en": "new sale limited today drop shop summer black white leather running jacket"
    " classic vintage denim cotton wool canvas bag boots sneaker hoodie watch ceramic"
    " linen wallet belt scarf gloves backpack sunglasses jersey socks trainers cap"
    " raincoat blazer sandals pendant bracelet",
    "fr": "nouveau soldes édition été très créateur café crème élégant noir blanc cuir"
    " veste sac écharpe chaussures bijoux collier montre lunettes manteau chemise robe"
    " pull chapeau ceinture portefeuille baskets bottes foulard parfum bougie théière"
    " céramique tricoté brodé doré sérigraphie lumière fenêtre",
    "es": "nuevo rebajas edición niño señora también corazón árbol camión canción azúcar"
    " pequeño diseño algodón cuero bolso zapatos reloj gafas camisa falda vestido"
    " sombrero cinturón cartera zapatillas botas pañuelo perfume vela cerámica tejido"
    " bordado dorado rápido único mañana montaña añejo acción",
    "ar": "جَدِيد تَخْفِيضَات إِصْدَار مَحْدُود اليَوْم أَنِيق قَهْوَة عَرَبِيَّة حِذَاء"
    " حَقِيبَة سَاعَة عِطْر مَلَابِس قَمِيص فُسْتَان جَاكِيت نَظَّارَة خَاتَم قِلَادَة"
    " سِوَار مِحْفَظَة وِشَاح عَبَاءَة ثَوْب شِمَاغ بُخُور عُود مَجْمُوعَة أَلْوَان"
    " رِيَاضَة صَيْف شِتَاء أَصِيل فَاخِر مُـــمْتَاز إِطْلَاق هَدِيَّة ذَهَبِيّ فِضَّة مُسْتَشْفَى",
}
TAGS = {
    "en": "Sneakers Streetwear OOTD NewIn Vintage Denim Limited Watches Leather Summer"
    " Hoodies Drops",
    "fr": "Soldes Mode Créateur Été Nouveauté Élégance Bijoux Parfum Maroquinerie Chaussures"
    " Déco Cadeau",
    "es": "Rebajas Moda Diseño Niños Zapatillas Relojes Algodón Bolsos Novedad Estilo"
    " Regalo Verano",
    "ar": "تسوق موضة عطور ساعات أحذية جديد_اليوم عروض أزياء هدايا إطلاق فخامة رياضة",
}
LANGUAGES = list(WORDS)
SYLLABLES = "ka lo mi ra ve no si ta ru be do ne pa li zu mo fe ga ri so te vu la ni ko"
SYLLABLES += " ma de xi yo ha"
NAMES = 27_000  # three syllables of 30


def vocabulary() -> dict[str, list[str]]:
    words = {lang: WORDS[lang].split() for lang in LANGUAGES}
    assert all(len(w) == SIZE for w in words.values()), {k: len(w) for k, w in words.items()}
    return words


def names() -> list[str]:
    syllables = SYLLABLES.split()
    return ["".join(parts) for parts in itertools.product(syllables, repeat=3)][:NAMES]


async def make_tables(conn: Any) -> None:
    """The vocabularies, as temporary tables: (lang, k) → text and plain form."""
    await conn.execute(text(
        "CREATE TEMPORARY TABLE bench_words (lang INTEGER, k INTEGER, word TEXT, plain TEXT,"
        " PRIMARY KEY (lang, k))"
    ))  # fmt: skip
    await conn.execute(text(
        "CREATE TEMPORARY TABLE bench_tags (lang INTEGER, k INTEGER, written TEXT, tag TEXT,"
        " plain TEXT, words TEXT, PRIMARY KEY (lang, k))"
    ))  # fmt: skip
    await conn.execute(
        text("CREATE TEMPORARY TABLE bench_names (k INTEGER PRIMARY KEY, name TEXT)")
    )
    words = [
        {"lang": i, "k": k, "word": w, "plain": document(w)}
        for i, lang in enumerate(LANGUAGES)
        for k, w in enumerate(vocabulary()[lang])
    ]
    await conn.execute(text("INSERT INTO bench_words VALUES (:lang, :k, :word, :plain)"), words)
    every_tag = [normalise_tag(t) for lang in LANGUAGES for t in TAGS[lang].split()]
    assert len(set(every_tag)) == len(every_tag) == TAG_COUNT * len(LANGUAGES), every_tag
    tags = [
        {"lang": i, "k": k, "written": t, "tag": normalise_tag(t), "plain": fold(normalise_tag(t))}
        | {"words": document(t)}
        for i, lang in enumerate(LANGUAGES)
        for k, t in enumerate(TAGS[lang].split())
    ]
    await conn.execute(
        text("INSERT INTO bench_tags VALUES (:lang, :k, :written, :tag, :plain, :words)"), tags
    )
    await conn.execute(
        text("INSERT INTO bench_names VALUES (:k, :name)"),
        [{"k": k, "name": n} for k, n in enumerate(names())],
    )


def _joins(x: str) -> str:
    """The vocabulary rows of post number ``x`` (an SQL expression)."""
    n_words = SIZE - COMMON
    n_tags = TAG_COUNT
    lang = f"({x}) % 4"
    y = f"(({x}) / 4)"  # the post's number among its language's
    return (
        f" JOIN bench_words a ON a.lang = {lang} AND a.k = {y} % {COMMON}"
        f" JOIN bench_words b ON b.lang = {lang} AND b.k = {COMMON} + {y} * 7 % {n_words}"
        f" JOIN bench_words c ON c.lang = {lang} AND c.k = {COMMON} + {y} * 13 % {n_words}"
        f" JOIN bench_words d ON d.lang = {lang} AND d.k = {COMMON} + {y} * 29 % {n_words}"
        f" JOIN bench_names n ON n.k = ({x}) % {NAMES} * 7919 % {NAMES}"
        f" JOIN bench_tags t ON t.lang = {lang} AND t.k = {y} * 5 % {n_tags}"
    )


POST_TEXT = "a.word || ' ' || b.word || ' ' || n.name || ' ' || c.word || ' ' || d.word"
POST_PLAIN = "a.plain || ' ' || b.plain || ' ' || n.name || ' ' || c.plain || ' ' || d.plain"


def statements(posts: int, drops: int, brands: int, shoppers: int, series: Any) -> list[str]:
    """The load, in order. ``series(n, start)``: SQL yielding start..n as ``x``. Posts
    1..posts - drops are shoppers'; the rest announce drops 1..drops."""
    plain_posts = posts - drops
    drop_x = "(s.x + 1000)"  # a drop's words, from the vocabulary rows of another number
    return [
        "INSERT INTO accounts (id, username, password_hash, display_name, country, language,"
        " timezone, is_partner, created_at) SELECT x, 'brand' || x, '!', 'Maison ' || n.name,"
        f" 'FR', 'fr', 'UTC', true, :base FROM ({series(brands, 1)}) AS s"
        f" JOIN bench_names n ON n.k = x * 13 % {NAMES}",
        "INSERT INTO accounts (id, username, password_hash, display_name, country, language,"
        " timezone, is_partner, created_at) SELECT x, 'shopper' || x, '!', 'Shopper ' || x,"
        f" 'US', 'en', 'UTC', false, :base FROM ({series(brands + shoppers, brands + 1)}) AS s",
        "INSERT INTO account_search (account_id, search_text) SELECT x, 'brand' || x ||"
        f" ' maison ' || n.name FROM ({series(brands, 1)}) AS s"
        f" JOIN bench_names n ON n.k = x * 13 % {NAMES}",
        "INSERT INTO posts (id, author_id, text, created_at, like_count, repost_count,"
        f" bookmark_count, share_count) SELECT x, {brands + 1} + x % {shoppers},"
        f" {POST_TEXT} || ' #' || t.written, {{at:x}}, 0, 0, 0, 0"
        f" FROM ({series(plain_posts, 1)}) AS s {_joins('x')}",
        "INSERT INTO post_search (post_id, search_text)"
        f" SELECT x, {POST_PLAIN} || ' ' || t.words FROM ({series(plain_posts, 1)}) AS s"
        f" {_joins('x')}",
        f"INSERT INTO post_tags (post_id, tag) SELECT x, t.tag FROM ({series(plain_posts, 1)})"
        f" AS s {_joins('x')}",
        # Drops: "<Name> <word>" — "<word> <word>", tagged <name><number>
        "INSERT INTO posts (id, author_id, text, created_at, like_count, repost_count,"
        f" bookmark_count, share_count) SELECT {plain_posts} + s.x, 1 + s.x % {brands},"
        f" n.name || ' ' || b.word || ' — ' || c.word || ' ' || d.word || ' #' || n.name || s.x,"
        f" {{at:{plain_posts} + s.x}}, 0, 0, 0, 0 FROM ({series(drops, 1)}) AS s"
        f" {_joins(drop_x)}",
        "INSERT INTO drops (id, brand_id, title, description, launch_at, tag, shop_url, post_id,"
        " reminder_count, schedule_version, created_at, updated_at) SELECT s.x,"
        f" 1 + s.x % {brands}, n.name || ' ' || b.word, c.word || ' ' || d.word,"
        " {launch:s.x}, n.name || s.x, 'https://shop.example/' || s.x,"
        f" {plain_posts} + s.x, 0, 0, :base, :base FROM ({series(drops, 1)}) AS s"
        f" {_joins(drop_x)}",
        "INSERT INTO drop_search (drop_id, search_text) SELECT s.x, n.name || ' ' || b.plain"
        f" || ' ' || c.plain || ' ' || d.plain || ' ' || n.name || s.x"
        f" FROM ({series(drops, 1)}) AS s {_joins(drop_x)}",
        f"INSERT INTO post_tags (post_id, tag) SELECT {plain_posts} + s.x, n.name || s.x"
        f" FROM ({series(drops, 1)}) AS s {_joins(drop_x)}",
        "INSERT INTO hashtags (tag, search_text, post_count) SELECT p.tag,"
        " COALESCE(MIN(t.plain), p.tag), count(*) FROM post_tags p"
        " LEFT JOIN bench_tags t ON t.tag = p.tag GROUP BY p.tag",
    ]
