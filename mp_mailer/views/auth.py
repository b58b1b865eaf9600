"""Staff log in and out."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user, login_required, login_user, logout_user

from mp_mailer.extensions import limiter
from mp_mailer.forms import LoginForm
from mp_mailer.models import UserRole
from mp_mailer.permissions import safe_next_url
from mp_mailer.services.users import authenticate
from mp_mailer.web_context import db_session

blueprint = Blueprint("auth", __name__)


@blueprint.route("/login", methods=["GET", "POST"])
@limiter.limit("10 per minute; 50 per hour", methods=["POST"])
def login() -> ResponseReturnValue:
    form = LoginForm()
    if form.validate_on_submit():
        user = authenticate(db_session(), form.email.data, form.password.data)
        if user is not None:
            login_user(user)
            return redirect(safe_next_url(request.args.get("next")) or url_for("auth.home"))
        form.password.errors.append("Wrong email or password.")
    return render_template("auth/login.html", form=form)


@blueprint.route("/logout", methods=["POST"])
def logout() -> ResponseReturnValue:
    logout_user()
    flash("You have logged out.", "info")
    return redirect(url_for("auth.login"))


@blueprint.route("/staff")
@login_required
def home() -> ResponseReturnValue:
    """Where a staff member lands after login: the first tool their role allows."""
    if current_user.has_role(UserRole.CAMPAIGNER):
        return redirect(url_for("campaigns.list_campaigns"))
    if current_user.has_role(UserRole.STAFF):
        return redirect(url_for("send_log.list_letters"))
    return redirect(url_for("supporter.campaign_page"))
