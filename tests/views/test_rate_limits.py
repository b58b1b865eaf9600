"""Rate limits on the supporter's postcode step, in the limiter's memory and in Redis."""

from __future__ import annotations

import os
from typing import Any

import pytest
import redis
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from tests.pages import csrf_token_from, page_errors, path_for

TEST_REDIS_URL = os.environ.get("TEST_REDIS_URL")
POSTCODE_LIMIT_PER_MINUTE = 30


@pytest.fixture(
    params=[
        "memory",
        pytest.param(
            "redis",
            marks=pytest.mark.skipif(not TEST_REDIS_URL, reason="TEST_REDIS_URL is not set"),
        ),
    ]
)
def limited_app_settings(request: pytest.FixtureRequest, app_settings: dict[str, Any]) -> str:
    """Turn the limiter on, counting in memory or in the (emptied) TEST_REDIS_URL database."""
    app_settings["ratelimit_enabled"] = True
    if request.param == "redis":
        assert TEST_REDIS_URL
        with redis.Redis.from_url(TEST_REDIS_URL) as connection:
            connection.flushdb()
        app_settings["ratelimit_storage_uri"] = TEST_REDIS_URL
    else:
        app_settings["ratelimit_storage_uri"] = "memory://"
    storage: str = request.param
    return storage


@pytest.fixture
def limited_client(limited_app_settings: str, seeded_client: FlaskClient) -> FlaskClient:
    return seeded_client


def post_postcodes(client: FlaskClient, count: int) -> list[TestResponse]:
    home = path_for("supporter.campaign_page")
    token = csrf_token_from(client.get(home).data)
    return [
        client.post(home, data={"csrf_token": token, "postcode": "SW1A 1AA"}) for _ in range(count)
    ]


def test_postcode_step_accepts_thirty_posts_when_sent_within_a_minute(
    limited_client: FlaskClient,
) -> None:
    responses = post_postcodes(limited_client, POSTCODE_LIMIT_PER_MINUTE)

    assert [response.status_code for response in responses] == [302] * POSTCODE_LIMIT_PER_MINUTE


def test_postcode_step_refuses_the_31st_post_when_sent_within_a_minute(
    limited_client: FlaskClient,
) -> None:
    *_, refused = post_postcodes(limited_client, POSTCODE_LIMIT_PER_MINUTE + 1)

    assert refused.status_code == 429


def test_postcode_step_explains_the_refusal_when_rate_limited(
    limited_client: FlaskClient,
) -> None:
    *_, refused = post_postcodes(limited_client, POSTCODE_LIMIT_PER_MINUTE + 1)

    # The campaign page again, with the postcode typed and when to try again.
    page = refused.get_data(as_text=True)
    assert refused.status_code == 429
    assert page_errors(refused) == (
        "There is a problem Too many postcodes have been looked up from your internet "
        "connection. Please try again in a minute."
    )
    assert 'value="SW1A 1AA"' in page
    assert "Traceback" not in page


def test_postcode_step_still_shows_the_page_when_posts_are_rate_limited(
    limited_client: FlaskClient,
) -> None:
    post_postcodes(limited_client, POSTCODE_LIMIT_PER_MINUTE + 1)

    page = limited_client.get(path_for("supporter.campaign_page"))

    assert page.status_code == 200
