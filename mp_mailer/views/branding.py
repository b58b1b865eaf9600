"""The organisation's look on every page: its name, logo, colour and favicon."""

from __future__ import annotations

from typing import Any

from flask import (
    Blueprint,
    Response,
    current_app,
    redirect,
    request,
    send_from_directory,
    url_for,
)
from flask.typing import ResponseReturnValue
from markupsafe import Markup

from mp_mailer.web_context import app_config

blueprint = Blueprint("branding", __name__)
# Pages for staff, which carry no supporters' privacy note.
STAFF_BLUEPRINTS = frozenset({"auth", "campaigns", "send_log", "users"})
# The stylesheet's own colour; only a different BRAND_COLOUR needs /brand.css.
DARKEN = 0.77


@blueprint.app_context_processor
def organisation_branding() -> dict[str, Any]:
    config = app_config()
    return {
        "site_name": config.site_name,
        "logo_url": config.organisation_logo_url,
        "favicon_url": config.favicon_url or url_for("static", filename="favicon.ico"),
        "staff_page": request.blueprint in STAFF_BLUEPRINTS,
    }


@blueprint.app_template_filter("email_address")
def email_address(address: str) -> Markup:
    """An email address kept whole on one line: a table breaking one mid-word misleads."""
    return Markup('<span class="email-address">{}</span>').format(address)


@blueprint.get("/favicon.ico")
def favicon() -> ResponseReturnValue:
    """Browsers ask for /favicon.ico whatever the page says; answer with the organisation's."""
    configured = app_config().favicon_url
    if configured:
        return redirect(configured, code=302)
    response = send_from_directory(current_app.static_folder or "", "favicon.ico")
    response.cache_control.max_age = 86400
    return response


@blueprint.get("/brand.css")
def brand_stylesheet() -> ResponseReturnValue:
    """The brand colour as CSS variables: a stylesheet, so no inline style is needed."""
    colour = app_config().brand_colour
    css = f":root {{ --brand: {colour}; --brand-dark: {darker(colour)}; }}\n"
    response = Response(css, mimetype="text/css")
    response.cache_control.max_age = 3600
    response.cache_control.public = True
    return response


def darker(colour: str) -> str:
    """The colour for hovers and button shadows: the brand colour, darkened."""
    channels = (int(colour[i : i + 2], 16) for i in (1, 3, 5))
    return "#" + "".join(f"{round(channel * DARKEN):02x}" for channel in channels)
