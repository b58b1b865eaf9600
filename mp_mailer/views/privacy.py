"""The privacy notice every supporter page and email links to, and the signed link in every
email to a supporter that deletes their details."""

from __future__ import annotations

from flask import Blueprint, redirect, render_template, url_for
from flask.typing import ResponseReturnValue
from markupsafe import Markup

from mp_mailer.forms import ButtonForm
from mp_mailer.services import site_pages
from mp_mailer.services.public_campaigns import render_intro
from mp_mailer.services.supporter_data import (
    ErasureLinkProblem,
    erase_own_details,
    letter_for_erasure_token,
)
from mp_mailer.web_context import app_config, db_session, now

blueprint = Blueprint("privacy", __name__)


def organisation_name() -> str:
    address = app_config().mail_from_address
    return address.display_name or address.domain


@blueprint.get("/privacy")
def privacy_notice() -> ResponseReturnValue:
    text = site_pages.page_text(db_session(), site_pages.PRIVACY)
    text = text or site_pages.default_privacy_notice(organisation_name())
    return render_template(
        "privacy/notice.html", notice=Markup(render_intro(text)), organisation=organisation_name()
    )


@blueprint.route("/privacy/erase/<token>", methods=["GET", "POST"])
def erase_my_details(token: str) -> ResponseReturnValue:
    try:
        letter = letter_for_erasure_token(db_session(), app_config().secret_key, token)
    except ErasureLinkProblem as e:
        return render_template("supporter/confirm_problem.html", message=e.message), 400
    form = ButtonForm()
    if letter is None:
        return render_template("privacy/erased.html", already=True)
    if form.validate_on_submit():
        erase_own_details(db_session(), letter, now())
        return redirect(url_for("privacy.erased"))
    return render_template("privacy/erase.html", form=form, organisation=organisation_name())


@blueprint.get("/privacy/erased")
def erased() -> ResponseReturnValue:
    return render_template("privacy/erased.html", already=False)
