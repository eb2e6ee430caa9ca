"""Content fingerprints and near-duplicate clustering, persisted in the database.

Three layers, all deterministic (the same inputs give the same result on every run):

1. URL — ``articles.canonical_url`` is unique; every fetched variant goes to ``article_urls``.
2. Exact content — :func:`normalise_text` then SHA-256 gives ``content_hash``; the same hash under
   another canonical URL of the same source is an *alias* (handled in ``storage.articles``).
3. Near-duplicates — a MinHash over word shingles (character shingles in scripts written without
   spaces), split into LSH bands whose keys live in the indexed ``dedup_keys`` table. Candidates
   sharing a band key are verified by their estimated Jaccard similarity against a threshold.

Clusters are the connected components of the "near-duplicate of" relation: when an article matches
members of several clusters they are merged into the one with the lowest id. The relation is
symmetric and LSH candidates do not depend on arrival order, so cluster *membership* is the same
whatever order articles arrive in (cluster ids may differ). Every article has a cluster; an article
with no near-duplicate is alone in its own. The representative is the earliest-published member,
ties broken by canonical URL. Clusters are assigned a batch at a time by ``storage.clustering``.

When an article's text changes, its keys are replaced and it may join further clusters, but
clusters are never split: once two articles were seen as the same story they stay together.
"""

from __future__ import annotations

import hashlib
import re
import struct
import sys
import unicodedata
import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING
from urllib.parse import parse_qsl, urlencode, urlsplit

import numpy as np
import sqlalchemy as sa
from datasketch import MinHash

from storage.models import Article, DedupKey

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

__all__ = [
    "DEFAULT_NEAR_DUPLICATE_THRESHOLD",
    "NUM_BANDS",
    "NUM_PERM",
    "SHINGLE_SIZE",
    "BOILERPLATE_MIN_PAGES",
    "band_keys",
    "content_hash",
    "estimate_similarity",
    "Fingerprint",
    "fingerprint",
    "minhash_signature",
    "normalise_text",
    "page_key",
]

NUM_PERM = 128
NUM_BANDS = 32
ROWS_PER_BAND = NUM_PERM // NUM_BANDS
SHINGLE_SIZE = 3
MINHASH_SEED = 20240501
# Estimated Jaccard of 3-word shingle sets at or above which two texts are the same story.
# Syndicated copies with a paragraph added or a sentence reworded score 0.6-0.95; distinct stories
# on the same topic stay below 0.1 (see tests/unit/test_storage_dedup.py).
DEFAULT_NEAR_DUPLICATE_THRESHOLD = 0.5
# Texts shorter than this many shingles are too short to compare reliably; they stay singletons.
MIN_SHINGLES = 8
# Bodies shorter than this many words never make an alias or join a cluster by their hash alone.
MIN_WORDS_FOR_HASH_MATCH = 8

# One body under this many different pages of one source is the site's boilerplate (a consent or
# login wall, an error page served with 200), not a story those pages share.
BOILERPLATE_MIN_PAGES = 3
# Path segments and query parameters that name a rendition of a page (AMP, print, mobile), not
# another page: an article's AMP and print copies are one page with it.
_RENDITION_SEGMENTS = frozenset({"amp", "print", "mobile", "m", "index.html", "index.htm", "index.php"})
_RENDITION_PARAMETERS = frozenset({"amp", "print", "output", "outputtype", "view", "mode", "m"})

# --- normalisation ----------------------------------------------------------------------------

_TIMESTAMP_WORDS = frozenset(
    """
    updated update last published posted modified edited on at am pm a m p gmt utc bst cet cest est
    edt pst pdt ist z today yesterday ago min mins minute minutes hour hours hr hrs day days
    jan feb mar apr may jun jul aug sep sept oct nov dec
    january february march april june july august september october november december
    mon tue tues wed thu thur thurs fri sat sun
    monday tuesday wednesday thursday friday saturday sunday
    """.split()
)
_WORD_RE = re.compile(r"[^\W\d_]+")
_WHITESPACE_RE = re.compile(r"\s+")
_MAX_TIMESTAMP_LINE = 80


def _is_timestamp_line(line: str) -> bool:
    """A line saying only when the page was updated ("Updated 14:05 GMT", "3 hours ago")."""
    stripped = line.strip()
    if not stripped or len(stripped) > _MAX_TIMESTAMP_LINE or not any(c.isdigit() for c in stripped):
        return False
    return all(word in _TIMESTAMP_WORDS for word in _WORD_RE.findall(stripped.casefold()))


@lru_cache(maxsize=1)
def _punctuation_table() -> dict[int, str]:
    # Every Unicode punctuation code point (categories P*) -> space; built once, ~0.1 s.
    return {
        code: " "
        for code in range(sys.maxunicode + 1)
        if unicodedata.category(chr(code)).startswith("P")
    }


def _strip_punctuation(text: str) -> str:
    return text.translate(_punctuation_table())


def normalise_text(text: str) -> str:
    """The body as compared for duplicates and versions.

    NFC, timestamp-only lines dropped, casefolded, punctuation removed, whitespace collapsed: two
    bodies that differ only in these ways have the same :func:`content_hash`.
    """
    text = unicodedata.normalize("NFC", text)
    lines = [line for line in text.splitlines() if not _is_timestamp_line(line)]
    text = _strip_punctuation("\n".join(lines).casefold())
    return _WHITESPACE_RE.sub(" ", text).strip()


def content_hash(text: str) -> str:
    """SHA-256 (hex) of :func:`normalise_text`."""
    return hash_normalised(normalise_text(text))


def identifies_article(normalised: str) -> bool:
    """Whether a normalised body is long enough for an identical hash to mean the same article.

    In scripts written without spaces two characters count as a word, as extraction counts them.
    """
    if not normalised:
        return False
    if not _UNSPACED_CHARACTER.search(normalised):
        return normalised.count(" ") + 1 >= MIN_WORDS_FOR_HASH_MATCH
    characters = len(_UNSPACED_CHARACTER.findall(normalised))
    words = len(_UNSPACED_CHARACTER.sub(" ", normalised).split())
    return words + characters // 2 >= MIN_WORDS_FOR_HASH_MATCH


def hash_normalised(normalised: str) -> str:
    return hashlib.sha256(normalised.encode("utf-8")).hexdigest()


def page_key(url: str) -> str:
    """What tells the pages of a source apart: path and query, without rendition markers and host.

    Two URLs with one key are renditions of one page (``/a/story``, ``/a/story/amp``,
    ``/amp/a/story?print=1``); URLs with different keys are different pages.
    """
    parts = urlsplit(url)
    segments = [s for s in parts.path.lower().split("/") if s and s not in _RENDITION_SEGMENTS]
    parameters = parse_qsl(parts.query, keep_blank_values=True)
    query = sorted((k, v) for k, v in parameters if k.lower() not in _RENDITION_PARAMETERS)
    return "/" + "/".join(segments) + ("?" + urlencode(query) if query else "")


# --- MinHash and LSH --------------------------------------------------------------------------


def _hash_shingle(shingle: bytes) -> int:
    # CRC-32 is deterministic across processes and fast; datasketch's affine32 scheme mixes it
    # with the MurmurHash3 finaliser before permuting, which evens out its distribution.
    return zlib.crc32(shingle)


@lru_cache(maxsize=1)
def _permutations():
    # Generating permutations is costly; every signature shares one fixed-seed set.
    return MinHash(num_perm=NUM_PERM, seed=MINHASH_SEED, scheme="affine32").permutations


# Scripts written without spaces between words (Han, kana, Thai, Lao, Burmese, Khmer): there a
# whitespace "word" is a whole clause, so one edited character changed every shingle around it and
# a near-copy with a sentence reworded fell under the threshold. Each such character is a token of
# its own instead, which makes their shingles character trigrams (an edited copy scores 0.8-0.9,
# another story under 0.2; see tests/unit/test_languages.py).
_UNSPACED_CHARACTER = re.compile(
    r"([\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uff66-\uff9f\u0e00-\u0eff\u1000-\u109f\u1780-\u17ff])"
)


def _shingle_tokens(normalised: str) -> list[str]:
    """Words, and each character of a script written without spaces."""
    if not _UNSPACED_CHARACTER.search(normalised):
        return normalised.split()
    return _UNSPACED_CHARACTER.sub(r" \1 ", normalised).split()


def shingles(normalised: str, size: int = SHINGLE_SIZE) -> set[bytes]:
    words = _shingle_tokens(normalised)
    if len(words) < size:
        return {" ".join(words).encode("utf-8")} if words else set()
    return {" ".join(words[i : i + size]).encode("utf-8") for i in range(len(words) - size + 1)}


def minhash_signature(normalised: str) -> np.ndarray | None:
    """The MinHash hash values (uint32[NUM_PERM]) of a normalised text, or None if too short."""
    grams = shingles(normalised)
    if len(grams) < MIN_SHINGLES:
        return None
    minhash = MinHash(
        num_perm=NUM_PERM,
        hashfunc=_hash_shingle,
        permutations=_permutations(),
        scheme="affine32",
    )
    minhash.update_batch(sorted(grams))
    return np.asarray(minhash.hashvalues, dtype=np.uint32)


@dataclass(frozen=True, slots=True)
class Fingerprint:
    """What deduplication needs from a body, computed once where the CPU is spare.

    Normalising and MinHashing a body is the costliest part of storing it; a crawl computes the
    fingerprint in its extraction workers, so the process that writes to the database does not.
    """

    content_hash: str
    #: Long enough for an identical hash to mean the same article (see :func:`identifies_article`).
    identifies: bool
    #: The MinHash signature as stored (:func:`signature_to_bytes`); None for a body too short.
    signature_bytes: bytes | None

    @property
    def signature(self) -> np.ndarray | None:
        return signature_from_bytes(self.signature_bytes) if self.signature_bytes is not None else None


def fingerprint(text: str) -> Fingerprint:
    normalised = normalise_text(text)
    signature = minhash_signature(normalised)
    return Fingerprint(
        hash_normalised(normalised),
        identifies_article(normalised),
        signature_to_bytes(signature) if signature is not None else None,
    )


def signature_to_bytes(signature: np.ndarray) -> bytes:
    return signature.astype("<u4").tobytes()


def signature_from_bytes(data: bytes) -> np.ndarray:
    return np.frombuffer(data, dtype="<u4")


def estimate_similarity(a: np.ndarray, b: np.ndarray) -> float:
    """Estimated Jaccard similarity: the share of MinHash slots that agree."""
    return float(np.count_nonzero(a == b)) / len(a)


def band_keys(signature: np.ndarray) -> list[tuple[int, int]]:
    """(band, bucket) pairs: bucket is a signed 64-bit hash of the band number and its rows.

    Hashing the band number in makes a bucket unique across bands, so lookups need only the
    indexed ``bucket`` column.
    """
    raw = signature.astype("<u4")
    keys = []
    for band in range(NUM_BANDS):
        chunk = struct.pack("<H", band) + raw[band * ROWS_PER_BAND : (band + 1) * ROWS_PER_BAND].tobytes()
        digest = hashlib.blake2b(chunk, digest_size=8, person=b"newsdesk-lsh").digest()
        keys.append((band, struct.unpack("<q", digest)[0]))
    return keys


# --- persistence ------------------------------------------------------------------------------


def find_near_duplicates(
    session: Session | sa.Connection,
    article_id: int,
    signature: np.ndarray,
    keys: Sequence[tuple[int, int]],
    *,
    threshold: float = DEFAULT_NEAR_DUPLICATE_THRESHOLD,
) -> list[int]:
    """Ids of stored articles whose signature matches ``signature`` at ``threshold`` or above."""
    if not keys:
        return []
    candidates = session.execute(
        sa.select(DedupKey.article_id)
        .where(DedupKey.bucket.in_([bucket for _band, bucket in keys]))
        .where(DedupKey.article_id != article_id)
        .distinct()
    ).scalars().all()
    if not candidates:
        return []
    matches = []
    rows = session.execute(
        sa.select(Article.id, Article.minhash).where(Article.id.in_(candidates))
    ).all()
    for candidate_id, stored in rows:
        if stored is None:
            continue
        if estimate_similarity(signature, signature_from_bytes(stored)) >= threshold:
            matches.append(candidate_id)
    return sorted(matches)


