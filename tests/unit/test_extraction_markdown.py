"""The body's structure kept as Markdown, from the same extraction as its plain text."""

from __future__ import annotations

import re

from crawler.extraction import Article, extract_article

SENTENCE = "The council agreed the plan after a long evening of questions from residents. "
STRUCTURED_PAGE = (
    "<html><head><title>Pool stays open | Town Gazette</title></head><body>"
    "<nav><ul><li><a href='/'>Home</a></li><li><a href='/news'>News</a></li></ul></nav>"
    "<article><h1>Pool stays open</h1>"
    f"<p>{SENTENCE * 3}</p>"
    "<h2>What changes for swimmers</h2>"
    f"<p>{SENTENCE * 2}</p>"
    "<ul><li>Morning lanes open at six on weekdays</li><li>Family sessions move to Sunday afternoons</li></ul>"
    "<blockquote><p>We listened to every swimmer who wrote to us this spring.</p>"
    "<p>The pool belongs to the town.</p></blockquote>"
    "<table><tr><th>Session</th><th>Price</th></tr><tr><td>Adult</td><td>4.50</td></tr></table>"
    f"<p>{SENTENCE * 2}</p>"
    "</article><footer><p>Copyright Town Gazette</p></footer></body></html>"
)


def _article() -> Article:
    result = extract_article(STRUCTURED_PAGE, "https://town.example/news/pool-stays-open")
    assert isinstance(result, Article), result
    return result


def test_sub_headings_lists_quotes_and_tables_are_markdown() -> None:
    markdown = _article().markdown
    assert "\n## What changes for swimmers\n" in markdown
    assert "- Morning lanes open at six on weekdays\n- Family sessions move to Sunday afternoons" in markdown
    assert "> We listened to every swimmer who wrote to us this spring.\n>\n> The pool belongs to the town." in markdown
    assert re.search(r"\| Session \| Price \|\n\|---\|---\|\n\| Adult \| 4\.50 \|", markdown)


def test_markdown_says_what_the_text_says() -> None:
    """No boilerplate comes back through the structure: the same words, markers aside."""
    article = _article()
    words = re.findall(r"\w+", article.markdown)
    assert words == re.findall(r"\w+", article.text)
    assert "Copyright" not in article.markdown and "Home" not in article.markdown
