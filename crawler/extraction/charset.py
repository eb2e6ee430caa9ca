"""Bytes -> text the way a browser would, but sceptical of a wrong HTTP charset.

Order: BOM, then the HTTP header charset, then ``<meta charset>``, then UTF-8 if
the bytes are valid UTF-8, then a real detector (charset-normalizer) over the
page's text. A declared charset is only believed when the bytes agree with it:
a header claiming UTF-8 on bytes that are not UTF-8 is ignored, so is one claiming
UTF-16/UTF-32 on bytes without their NULs or a 7-bit charset (ISO-2022-JP) on 8-bit bytes, and a header
naming a single-byte Western charset (every byte sequence is "valid" there) is
overruled by bytes that are valid non-ASCII UTF-8 or by a ``<meta>`` naming
another charset.
"""

from __future__ import annotations

import codecs
import re
import unicodedata
from email.message import Message

from charset_normalizer import from_bytes

from w3lib.encoding import (
    html_body_declared_encoding,
    http_content_type_encoding,
    read_bom,
    resolve_encoding,
    to_unicode,
)

__all__ = ["decode_html"]

# Charsets in which any byte string decodes, so a label naming one says little.
_PERMISSIVE = frozenset({"cp1252", "iso8859-1", "ascii", "iso8859-15", "latin-1"})

# Cyrillic letters: cp1251 puts lowercase (the bulk of running text) at 0xE0-0xFF,
# KOI8-R puts it at 0xC0-0xDF.
_HIGH_BYTES = bytes(range(0x80, 0x100))
_ASCII_LETTERS = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

# w3lib (from 2.6) follows the WHATWG Encoding Standard, which has no UTF-32: it reads a
# UTF-32-LE BOM as UTF-16's and resolves no UTF-32 label. Pages in UTF-32 exist all the same,
# and their NULs make them easy to check (_bytes_fit), so these two are ours to recognise.
_UTF32_BOMS = ((codecs.BOM_UTF32_LE, "utf-32-le"), (codecs.BOM_UTF32_BE, "utf-32-be"))


def decode_html(body: bytes, http_charset: str | None) -> str:
    """Decode an HTML body; ``http_charset`` is the header's charset (or the whole header)."""
    if isinstance(body, str):
        return body
    for bom, encoding in _UTF32_BOMS:
        if body.startswith(bom):
            return to_unicode(body[len(bom) :], encoding)
    bom_encoding, bom = read_bom(body)
    if bom_encoding is not None and bom is not None:
        return to_unicode(body[len(bom) :], bom_encoding)
    if body.startswith((b"<\x00", b"\x00<")):
        # UTF-16 without a BOM: "<" of the first tag next to a NUL.
        return to_unicode(body, "utf-16-le" if body[0] == 0x3C else "utf-16-be")

    header = _header_encoding(http_charset)
    declared = html_body_declared_encoding(body)
    if declared in ("utf-16-le", "utf-16-be", "utf-16", "utf-32"):
        # A <meta> readable as ASCII cannot be in UTF-16: the declaration is wrong.
        declared = "utf-8"
    is_utf8 = _valid_utf8(body)

    for candidate in _candidates(header, declared):
        if not _bytes_fit(body, candidate):
            continue
        if candidate == "utf-8":
            if is_utf8:
                return body.decode("utf-8", "replace")
            continue
        if candidate in _PERMISSIVE:
            if is_utf8 and not body.isascii():
                # Valid multi-byte UTF-8 almost never happens by chance in Latin text.
                return body.decode("utf-8", "replace")
            if candidate != declared:
                # A Western default from the server on bytes that read as Cyrillic.
                guess = _guess_single_byte(body)
                if guess != "cp1252":
                    return to_unicode(body, guess)
        return to_unicode(body, candidate)

    if is_utf8:
        return body.decode("utf-8", "replace")
    return to_unicode(body, _undeclared_encoding(body))


def _candidates(header: str | None, declared: str | None) -> list[str]:
    order: list[str] = []
    if header and header in _PERMISSIVE and declared and declared != header:
        # "ISO-8859-1" is the HTTP/1.1 default servers send without thinking;
        # the page author's own <meta> is the better witness.
        order = [declared, header]
    else:
        order = [c for c in (header, declared) if c]
    return list(dict.fromkeys(order))


def _bytes_fit(body: bytes, encoding: str) -> bool:
    """False when the bytes cannot be in ``encoding``, whatever a header or <meta> says.

    UTF-16 and UTF-32 text of an HTML page is full of NUL bytes (every ASCII character of the
    markup has one or three); 7-bit encodings such as ISO-2022-JP have no byte above 0x7F.
    Decoding UTF-8 bytes as either turns a page into nonsense that looks like text.
    """
    try:
        name = codecs.lookup(encoding).name
    except LookupError:
        return False
    if name.startswith(("utf-16", "utf-32")):
        sample = body[:4096]
        return sample.count(0) >= len(sample) // 4
    if name.startswith(("iso2022", "iso-2022", "utf-7", "hz")):
        return body.isascii()
    return True


def _header_encoding(http_charset: str | None) -> str | None:
    if not http_charset:
        return None
    value = http_charset.strip()
    if "=" in value or ";" in value or "/" in value:
        encoding = http_content_type_encoding(value)
        label = _charset_parameter(value)
    else:
        label = value.strip("\"' ")
        encoding = resolve_encoding(label)
    if encoding is None and label:
        encoding = _utf32_codec(label)
    return encoding


def _charset_parameter(content_type: str) -> str | None:
    message = Message()
    message["content-type"] = content_type
    charset = message.get_param("charset")
    return charset if isinstance(charset, str) else None  # RFC 2231 values come as tuples


def _utf32_codec(label: str) -> str | None:
    """The Python codec of a UTF-32 label, which the Encoding Standard (and w3lib) does not know."""
    try:
        name = codecs.lookup(label).name
    except (LookupError, ValueError):
        return None
    return name if name.startswith("utf-32") else None


def _valid_utf8(body: bytes) -> bool:
    try:
        codecs.decode(body, "utf-8")
    except UnicodeDecodeError as error:
        # A page cut off mid-character (truncated download) is still UTF-8.
        return error.start >= len(body) - 3 and error.reason == "unexpected end of data"
    return True


# Markup, scripts and styles: ASCII that only dilutes what a detector sees.
_MARKUP = re.compile(rb"<script\b.*?</script\s*>|<style\b.*?</style\s*>|<!--.*?-->|<[^>]*>", re.DOTALL | re.IGNORECASE)
_DETECT_SCAN_BYTES = 1_000_000
_DETECT_SAMPLE_BYTES = 32_768


def _undeclared_encoding(body: bytes) -> str:
    """The encoding of a page that declares none and is not UTF-8 (Shift_JIS, GBK, Greek, Hebrew...).

    charset-normalizer reads only the page's non-ASCII words: fed whole pages, the ASCII of
    markup and scripts made it answer mac_cyrillic for windows-1251 or cp775 for Greek. When
    what it reads is Latin-script text, the answer among the Latin code pages (cp1250, cp1257...)
    is a coin toss on sparse accents, so such a page stays windows-1252, as browsers default.
    """
    words = [word for word in _MARKUP.sub(b" ", body[:_DETECT_SCAN_BYTES]).split() if not word.isascii()]
    if not words:
        return "cp1252"
    sample = b" ".join(words)[:_DETECT_SAMPLE_BYTES]
    best = from_bytes(sample).best()
    if best is None:
        return _guess_single_byte(body)
    if _mostly_latin(str(best)):
        return "cp1252"
    return best.encoding


def _mostly_latin(text: str) -> bool:
    letters = [ch for ch in text if ch.isalpha() and not ch.isascii()]
    latin = sum(unicodedata.name(ch, "").startswith("LATIN") for ch in letters)
    return latin * 2 >= len(letters)


def _guess_single_byte(body: bytes) -> str:
    """Tell cp1251 / KOI8-R (Cyrillic) from cp1252 by where the high bytes fall."""
    high = len(body) - len(body.translate(None, _HIGH_BYTES))
    if high == 0:
        return "cp1252"
    letters = len(body) - len(body.translate(None, _ASCII_LETTERS))
    if high < 0.3 * (letters + high):
        # Sparse accented letters in Latin text.
        return "cp1252"
    upper_block = len(body) - len(body.translate(None, bytes(range(0xE0, 0x100))))
    lower_block = len(body) - len(body.translate(None, bytes(range(0xC0, 0xE0))))
    return "cp1251" if upper_block >= lower_block else "koi8-r"


# UTF-8 read as cp1252/latin-1 and re-encoded ("â€™" for "’", "Ã©" for "é"): a
# lead byte's character followed by continuation bytes' characters.
_CP1252_HIGH = "€‚ƒ„…†‡ˆ‰Š‹ŒŽ‘’“”•–—˜™š›œžŸ"
_MOJIBAKE = re.compile(f"[\u00c2-\u00f4][\u0080-\u00bf{_CP1252_HIGH}]{{1,3}}")
_MOJIBAKE_MIN_HITS = 3
# The lead characters U+00C2..U+00F4 as UTF-8 bytes (C3 82..C3 B4): most pages hold none, and
# this bytes search is several times faster than the character class above on text.
_MOJIBAKE_LEAD_UTF8 = re.compile(b"\xc3[\x82-\xb4]")


def repair_mojibake(text: str) -> str:
    """Undo double-encoded UTF-8 in a page that has several instances of it.

    Each candidate sequence is re-encoded to bytes and kept only if those bytes
    are exactly one valid UTF-8 character, so ordinary accented text is left alone.
    """
    head = text[:200000]
    if not _MOJIBAKE_LEAD_UTF8.search(head.encode("utf-8", "surrogatepass")):
        return text
    if len(_MOJIBAKE.findall(head, 0)) < _MOJIBAKE_MIN_HITS:
        return text
    return _MOJIBAKE.sub(_repair_match, text)


def _repair_match(match: re.Match[str]) -> str:
    chars = match.group(0)
    lead = ord(chars[0])
    needed = 1 if lead < 0xE0 else 2 if lead < 0xF0 else 3
    if len(chars) < needed + 1:
        return chars
    head, rest = chars[: needed + 1], chars[needed + 1 :]
    try:
        raw = b"".join(_byte_of(ch) for ch in head)
        return raw.decode("utf-8") + rest
    except (UnicodeError, ValueError):
        return chars


def _byte_of(char: str) -> bytes:
    try:
        return char.encode("cp1252")
    except UnicodeEncodeError:
        return char.encode("latin-1")
