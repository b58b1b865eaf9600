"""Error pages: a plain explanation for each status code, never a traceback.

A bug is a 500 page for visitors only: Flask logs it first, and when testing lets it propagate so
the test shows the traceback."""

from __future__ import annotations

from flask import Flask, render_template, request
from flask.typing import ResponseReturnValue
from flask_limiter.errors import RateLimitExceeded
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException, InternalServerError, NotFound

PAGES = {
    400: ("Something was wrong with that request", "Please go back and try again."),
    403: ("You can't see this page", "Your account doesn't have permission for this page."),
    404: ("Page not found", "Check the web address, or start again from the campaign page."),
    405: ("Page not found", "Check the web address, or start again from the campaign page."),
    413: ("That was too much text", "Please shorten what you typed and try again."),
    429: (
        "Too many attempts",
        "You have tried this too many times in a short time. Please wait a few minutes.",
    ),
    500: (
        "Sorry, something went wrong on our side",
        "We have been told about it. Please try again in a few minutes.",
    ),
    503: (
        "This page isn't available right now",
        "Please try again in a few minutes.",
    ),
}


def register_error_handlers(app: Flask) -> None:
    app.register_error_handler(CSRFError, _expired_form)
    app.register_error_handler(RateLimitExceeded, _too_many)
    app.register_error_handler(HTTPException, _http_error)
    app.register_error_handler(InternalServerError, _server_error)


def render_error(code: int) -> ResponseReturnValue:
    heading, explanation = PAGES.get(code, PAGES[500])
    return render_template("errors/error.html", heading=heading, explanation=explanation), code


def _expired_form(error: CSRFError) -> ResponseReturnValue:
    if request.endpoint == "supporter.submit_letter":
        from mp_mailer.views.supporter import render_expired_letter_form

        try:
            return render_expired_letter_form(request.view_args or {})
        except NotFound:
            # An error inside an error handler would be a 500: no such campaign is a 404.
            return render_error(404)
    heading = "This form has expired"
    explanation = "For your security, forms expire. Please go back, reload the page and try again."
    return render_template("errors/error.html", heading=heading, explanation=explanation), 400


REFUSED_FORMS = frozenset({"supporter.submit_letter", "supporter.look_up_postcode"})


def _too_many(error: RateLimitExceeded) -> ResponseReturnValue:
    if request.endpoint == "supporter.petition":
        from mp_mailer.views.supporter import render_uncounted_petition

        try:
            return render_uncounted_petition(request.view_args or {})
        except NotFound:
            return render_error(404)
    if request.endpoint in REFUSED_FORMS:
        from mp_mailer.views.supporter import render_refused_form

        try:
            return render_refused_form(request.view_args or {}, _retry_after(error))
        except NotFound:
            return render_error(404)
    return render_error(429)


def _retry_after(error: RateLimitExceeded) -> str:
    """ "a minute", "20 minutes": how long the broken limit's window is."""
    seconds = error.limit.limit.get_expiry()
    minutes = max(1, round(seconds / 60))
    if minutes >= 120:
        return f"{round(minutes / 60)} hours"
    return "a minute" if minutes == 1 else f"{minutes} minutes"


def _http_error(error: HTTPException) -> ResponseReturnValue:
    return render_error(error.code or 500)


def _server_error(error: InternalServerError) -> ResponseReturnValue:
    # Flask has already logged the exception behind it (app.log_exception), with its traceback.
    return render_error(500)
