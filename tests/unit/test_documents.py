"""A feed or sitemap is known by its content, whatever content type it was served with."""

from __future__ import annotations

import pytest

from crawler.discovery.documents import document_kind

RSS = b'<?xml version="1.0" encoding="UTF-8"?>\n<rss version="2.0"><channel><title>x</title></channel></rss>'
WORDPRESS_RSS = (
    b'\xef\xbb\xbf<?xml version="1.0" encoding="UTF-8"?><?xml-stylesheet type="text/xsl" href="/feed.xsl"?>\n'
    b"<!-- <html> in a comment is no root: <html lang=en> -->\n"
    b'<rss version="2.0" xmlns:content="http://purl.org/rss/1.0/modules/content/"><channel></channel></rss>'
)
ATOM = b'<?xml version="1.0" encoding="utf-8"?>\n<feed xmlns="http://www.w3.org/2005/Atom"><title>x</title></feed>'
RDF = b'<?xml version="1.0"?><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"></rdf:RDF>'
SITEMAP = b'<?xml version="1.0"?>\n<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"></urlset>'
INDEX = b'<?xml version="1.0"?><sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"></sitemapindex>'
PAGE = b"<!DOCTYPE html>\n<!-- saved from the web --><html lang='en'><head><title>A story</title></head></html>"
XHTML = b'<?xml version="1.0"?><!DOCTYPE html PUBLIC "-//W3C//DTD XHTML 1.0 Strict//EN" "x"><html xmlns="x"></html>'


@pytest.mark.parametrize(
    ("body", "content_type", "kind"),
    [
        (RSS, "application/rss+xml", "feed"),
        (RSS, "text/xml", "feed"),
        (RSS, "text/html", "feed"),
        (RSS, None, "feed"),
        (WORDPRESS_RSS, "application/xml", "feed"),
        (ATOM, "application/octet-stream", "feed"),
        (RDF, "application/rdf+xml", "feed"),
        (SITEMAP, "text/xml", "sitemap"),
        (INDEX, "application/xml", "sitemap"),
        (PAGE, "text/html", None),
        (XHTML, "application/xhtml+xml", None),
        (b"\x89PNG\r\n\x1a\n", "image/png", None),
        # A feed content type with no element in sight: taken at its word (the reader decides).
        (b"   ", "application/rss+xml", "feed"),
        # A feed content type on an HTML page: the content wins.
        (PAGE, "application/rss+xml", None),
    ],
)
def test_document_kind(body, content_type, kind):
    assert document_kind(body, content_type) == kind
