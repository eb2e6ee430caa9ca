"""decode_html and extract_article on real encoded bytes, including wrong HTTP charsets."""

from __future__ import annotations

from pathlib import Path

import pytest

from crawler.extraction import Article, decode_html, extract_article

FIXTURES = Path(__file__).parent / "fixtures" / "extraction"
RUSSIAN = "Городская библиотека на набережной снова открылась после ремонта"
RUSSIAN_TITLE = "Библиотека снова открыта"
FRENCH = (
    "La médiathèque du quartier a rouvert ses portes après dix-huit mois de travaux."
)
FRENCH_TITLE = "La médiathèque rouvre après dix-huit mois de travaux"


def load(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


@pytest.mark.parametrize(
    ("fixture", "http_charset"),
    [
        ("cp1251_meta.html", None),  # charset only in <meta http-equiv>
        ("koi8r_meta.html", None),  # charset only in <meta charset>
        ("cp1251_meta.html", "utf-8"),  # header claims utf-8, body is windows-1251
        (
            "koi8r_meta.html",
            "text/html; charset=UTF-8",
        ),  # whole header given, wrong again
        ("cp1251_meta.html", "iso-8859-1"),  # HTTP default charset, meta knows better
        ("cp1251_no_declaration.html", None),  # nothing declared: detection
        ("cp1251_no_declaration.html", "utf-8"),  # wrong header and nothing declared
    ],
)
def test_cyrillic_pages_decode(fixture: str, http_charset: str | None) -> None:
    body = load(fixture)
    text = decode_html(body, http_charset)
    assert RUSSIAN in text
    assert "\ufffd" not in text
    result = extract_article(
        body, "https://library.example/news/1", http_charset=http_charset
    )
    assert isinstance(result, Article), result
    assert result.title == RUSSIAN_TITLE
    assert RUSSIAN in result.text
    assert result.language == "ru"  # no lang attribute: the stopword guess


def test_koi8r_without_declaration_is_detected() -> None:
    body = load("koi8r_meta.html").replace(b'<meta charset="koi8-r">', b"")
    assert RUSSIAN in decode_html(body, None)


def test_latin1_header_on_utf8_body() -> None:
    body = load("utf8_french.html")
    text = decode_html(body, "ISO-8859-1")
    assert FRENCH in text
    assert "Ã©" not in text
    result = extract_article(
        body,
        "https://mediatheque.example/a",
        http_charset="text/html; charset=iso-8859-1",
    )
    assert isinstance(result, Article), result
    assert result.title == FRENCH_TITLE
    assert "« Nous avons voulu un lieu où l’on a envie de rester »" in result.text


@pytest.mark.parametrize("http_charset", [None, "windows-1251", "utf-8"])
def test_utf8_bom_wins(http_charset: str | None) -> None:
    body = load("utf8_bom_no_meta.html")
    assert body.startswith(b"\xef\xbb\xbf")
    text = decode_html(body, http_charset)
    assert text.startswith("<!DOCTYPE html>")  # BOM consumed, not left as U+FEFF
    assert FRENCH in text


def test_correct_header_is_used() -> None:
    body = "<html><body><p>Überraschung: Straße gesperrt</p></body></html>".encode(
        "cp1252"
    )
    assert "Überraschung: Straße gesperrt" in decode_html(body, "windows-1252")
    # No header, no meta, not UTF-8: Western single-byte guess.
    assert "Überraschung: Straße gesperrt" in decode_html(body, None)


def test_utf8_header_on_utf8_body() -> None:
    body = load("utf8_french.html")
    assert FRENCH in decode_html(body, "utf-8")


def test_meta_utf8_is_not_trusted_on_cp1251_bytes() -> None:
    body = load("cp1251_meta.html").replace(b"windows-1251", b"utf-8")
    assert RUSSIAN in decode_html(body, None)


def test_unknown_header_charset_is_ignored() -> None:
    assert RUSSIAN in decode_html(load("cp1251_meta.html"), "x-no-such-charset")


def test_truncated_utf8_is_still_utf8() -> None:
    body = load("utf8_french.html").replace(b'<meta charset="utf-8">', b"")
    cut = body[: body.index("médiathèque".encode()) + 2]  # ends inside "é"
    text = decode_html(cut, None)
    assert "La m" in text and "Ã" not in text  # not mistaken for cp1252


def test_double_encoded_utf8_is_repaired() -> None:
    # A CMS that stored UTF-8 bytes as cp1252 characters, then served the result as UTF-8.
    body = load("utf8_french.html").decode("utf-8")
    garbled = body.encode("utf-8").decode("cp1252", errors="replace")
    result = extract_article(
        garbled.encode("utf-8"), "https://mediatheque.example/a", http_charset="utf-8"
    )
    assert isinstance(result, Article), result
    assert result.title == FRENCH_TITLE
    assert "« Nous avons voulu un lieu où l’on a envie de rester »" in result.text


def test_accented_text_is_not_touched_by_the_repair() -> None:
    from crawler.extraction.charset import repair_mojibake

    text = "São Paulo: Ângela e Âmbar, àvida, Ãgua ÂÂÂ, £5 × 3"
    assert repair_mojibake(text) == text


@pytest.mark.parametrize("http_charset", ["iso-8859-1", "windows-1252"])
def test_western_header_on_undeclared_cyrillic_body(http_charset: str) -> None:
    assert RUSSIAN in decode_html(load("cp1251_no_declaration.html"), http_charset)


def test_western_header_keeps_western_text() -> None:
    body = "<html><body><p>Cr\u00e8me br\u00fbl\u00e9e \u00e0 la fran\u00e7aise, d\u00e9j\u00e0 vu.</p></body></html>".encode(
        "cp1252"
    )
    assert "Crème brûlée à la française, déjà vu." in decode_html(body, "iso-8859-1")


@pytest.mark.parametrize("codec", ["utf-16-le", "utf-16-be", "utf-16"])
def test_utf16_pages_decode(codec: str) -> None:
    # "utf-16" writes a BOM; the -le/-be variants do not.
    body = (
        load("utf8_french.html")
        .decode("utf-8")
        .replace('<meta charset="utf-8">', "")
        .encode(codec)
    )
    result = extract_article(body, "https://mediatheque.example/a")
    assert isinstance(result, Article), result
    assert result.title == FRENCH_TITLE


@pytest.mark.parametrize(
    "http_charset", ["utf-16", "utf-16le", "UTF-16BE", "utf-32", "text/html; charset=utf-32le", "iso-2022-jp"]
)
def test_a_wide_or_7bit_header_on_utf8_bytes_is_not_believed(http_charset: str) -> None:
    body = load("utf8_french.html")
    assert FRENCH in decode_html(body, http_charset)
    result = extract_article(body, "https://mediatheque.example/a", http_charset=http_charset)
    assert isinstance(result, Article), result
    assert result.title == FRENCH_TITLE


@pytest.mark.parametrize("codec", ["utf-16-le", "utf-16-be", "utf-32-le", "utf-32-be"])
@pytest.mark.parametrize("header", ["{}", "text/html; charset={}", 'text/html; charset="{}"'])
def test_a_right_wide_header_is_still_believed(codec: str, header: str) -> None:
    # UTF-32 is not in the WHATWG Encoding Standard that w3lib follows from 2.6 on.
    text = load("utf8_french.html").decode("utf-8").replace('<meta charset="utf-8">', "")
    body = (" " + text).encode(codec)  # no BOM, and not starting with "<"
    assert FRENCH in decode_html(body, header.format(codec.upper()))


@pytest.mark.parametrize("codec", ["utf-16", "utf-32", "utf-32-be"])
def test_a_byte_order_mark_decides(codec: str) -> None:
    # A UTF-32-LE BOM starts with UTF-16-LE's: read as UTF-16 the page is NULs between letters.
    text = load("utf8_french.html").decode("utf-8").replace('<meta charset="utf-8">', "")
    bom = {"utf-32-be": "\ufeff"}.get(codec, "")  # "utf-16"/"utf-32" write their own
    decoded = decode_html((bom + text).encode(codec), None)
    assert FRENCH in decoded
    assert "\x00" not in decoded


def test_a_right_iso_2022_jp_header_is_still_believed() -> None:
    text = "<html><body><p>東京の図書館が再開した</p></body></html>"
    assert "東京の図書館が再開した" in decode_html(text.encode("iso-2022-jp"), "iso-2022-jp")
