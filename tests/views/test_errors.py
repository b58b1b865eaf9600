"""Error pages: a bug is the 500 page for visitors, and a traceback in the tests."""

from __future__ import annotations

import pytest
from flask import Flask
from flask.testing import FlaskClient


def _add_broken_page(app: Flask) -> None:
    def broken() -> str:
        raise RuntimeError("a bug")

    app.add_url_rule("/broken", view_func=broken)


def test_a_bug_propagates_to_the_test_when_testing(app: Flask, client: FlaskClient) -> None:
    _add_broken_page(app)

    with pytest.raises(RuntimeError, match="a bug"):
        client.get("/broken")


def test_a_bug_shows_the_server_error_page_when_exceptions_do_not_propagate(
    app: Flask, client: FlaskClient
) -> None:
    _add_broken_page(app)
    app.config["PROPAGATE_EXCEPTIONS"] = False

    response = client.get("/broken")

    assert response.status_code == 500
    assert "Sorry, something went wrong on our side" in response.text
    assert "a bug" not in response.text
