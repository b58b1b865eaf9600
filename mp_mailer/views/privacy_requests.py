"""Staff answer supporters' data requests: find one supporter's letters by email, export them
as JSON, erase them; each is recorded. Admins edit the privacy notice."""

from __future__ import annotations

import json

from flask import Blueprint, Response, abort, flash, redirect, render_template, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user

from mp_mailer.forms import PrivacyNoticeForm, SupporterEmailForm
from mp_mailer.models import UserRole
from mp_mailer.permissions import role_required
from mp_mailer.services import site_pages
from mp_mailer.services import supporter_data as data
from mp_mailer.views.privacy import organisation_name
from mp_mailer.web_context import db_session, now

blueprint = Blueprint("privacy_requests", __name__, url_prefix="/admin/privacy")
staff_only = role_required(UserRole.STAFF)


@blueprint.route("/", methods=["GET", "POST"])
@staff_only
def find_supporter() -> ResponseReturnValue:
    form = SupporterEmailForm()
    letters = None
    if form.validate_on_submit():
        letters = data.supporter_letters(db_session(), form.email.data)
        data.record(db_session(), data.PrivacyAction.FIND, current_user.id, len(letters), now())
    return render_template("privacy/find.html", form=form, letters=letters)


@blueprint.post("/export")
@staff_only
def export_supporter() -> ResponseReturnValue:
    form = SupporterEmailForm()
    if not form.validate_on_submit():
        abort(400)
    letters = data.supporter_letters(db_session(), form.email.data)
    data.record(db_session(), data.PrivacyAction.EXPORT, current_user.id, len(letters), now())
    body = json.dumps(data.export_letters(letters), indent=2, ensure_ascii=False)
    return Response(
        body,
        mimetype="application/json",
        headers={"Content-Disposition": 'attachment; filename="supporter-letters.json"'},
    )


@blueprint.post("/erase")
@staff_only
def erase_supporter() -> ResponseReturnValue:
    form = SupporterEmailForm()
    if not form.validate_on_submit():
        abort(400)
    result = data.erase_supporter(
        db_session(),
        form.email.data,
        now(),
        actor_id=current_user.id,
        action=data.PrivacyAction.ERASE,
    )
    message = f"Erased the supporter's details from {result.erased} letter(s)."
    if result.in_flight:
        message += f" {result.in_flight} letter(s) are being sent right now: erase again shortly."
    flash(message, "success")
    return redirect(url_for("privacy_requests.find_supporter"))


@blueprint.route("/notice", methods=["GET", "POST"])
@role_required(UserRole.ADMIN)
def edit_notice() -> ResponseReturnValue:
    form = PrivacyNoticeForm()
    if form.validate_on_submit():
        site_pages.save_page(db_session(), site_pages.PRIVACY, form.body.data, current_user.id)
        flash("The privacy notice is saved.", "success")
        return redirect(url_for("privacy_requests.edit_notice"))
    if not form.is_submitted():
        form.body.data = site_pages.page_text(
            db_session(), site_pages.PRIVACY
        ) or site_pages.default_privacy_notice(organisation_name())
    return render_template("privacy/edit_notice.html", form=form)
