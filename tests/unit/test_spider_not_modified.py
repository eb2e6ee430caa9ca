"""A 304 means "unchanged" only as the answer to a conditional request."""

from __future__ import annotations

import pytest
from scrapy.http import Response
from scrapy.spidermiddlewares.httperror import HttpError
from twisted.python.failure import Failure

from crawler.spiders.news import NewsSpider

URL = "https://courier.example/news/story"


def outcome_of_304(**validators: str):
    spider = NewsSpider(start_urls="https://courier.example/")
    request = spider.request_for(URL, kind="page", frontier=True, **validators)
    response = Response(URL, status=304, request=request)
    failure = Failure(HttpError(response, "Ignoring non-200 response"))
    failure.request = request
    [outcome] = list(spider.on_error(failure))
    return outcome


@pytest.mark.parametrize("validators", [{"etag": '"v1"'}, {"last_modified": "Tue, 01 Dec 2026 10:00:00 GMT"}])
def test_a_304_to_a_conditional_request_is_unchanged(validators):
    assert outcome_of_304(**validators).outcome == "unchanged"


def test_a_304_to_an_unconditional_request_is_an_error_tried_again():
    """A broken server or cache: taking it as "unchanged" closed the URL with no story ever stored."""
    outcome = outcome_of_304()
    assert (outcome.outcome, outcome.status) == ("error", 304)
    assert "without a validator" in outcome.reason
