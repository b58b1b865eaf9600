"""Staff log in and out, and change their own password."""

from __future__ import annotations

from datetime import timedelta

from flask import Blueprint, flash, redirect, render_template, request, session, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user, login_required, login_user, logout_user

from mp_mailer.extensions import limiter
from mp_mailer.forms import ChangePasswordForm, LoginForm
from mp_mailer.models import User, UserRole
from mp_mailer.permissions import STAFF_SESSION_KEY, safe_next_url
from mp_mailer.services import staff_sessions
from mp_mailer.services import users as accounts
from mp_mailer.services.users import UserProblem, authenticate
from mp_mailer.web_context import app_config, db_session, now

blueprint = Blueprint("auth", __name__)


@blueprint.route("/login", methods=["GET", "POST"])
@limiter.limit("10 per minute; 50 per hour", methods=["POST"])
def login() -> ResponseReturnValue:
    form = LoginForm()
    if form.validate_on_submit():
        user = authenticate(db_session(), form.email.data, form.password.data)
        if user is not None:
            _start_login(user)
            return redirect(safe_next_url(request.args.get("next")) or url_for("auth.home"))
        form.password.errors.append("Wrong email or password.")
    return render_template("auth/login.html", form=form)


def _start_login(user: User) -> None:
    # A fresh cookie for every login: nothing set before it (by anyone) carries over.
    session.clear()
    session[STAFF_SESSION_KEY] = staff_sessions.start_session(
        db_session(), user.id, now(), timedelta(hours=app_config().staff_session_hours)
    )
    session.permanent = True
    login_user(user)


@blueprint.route("/logout", methods=["POST"])
def logout() -> ResponseReturnValue:
    staff_sessions.end_session(db_session(), session.get(STAFF_SESSION_KEY), now())
    logout_user()
    session.clear()
    flash("You have logged out.", "info")
    return redirect(url_for("auth.login"))


@blueprint.route("/account/password", methods=["GET", "POST"])
@login_required
def change_password() -> ResponseReturnValue:
    form = ChangePasswordForm()
    if form.validate_on_submit():
        try:
            accounts.change_password(
                db_session(), current_user, form.current_password.data, form.new_password.data
            )
        except UserProblem as e:
            form.current_password.errors.append(e.message)
        else:
            # Every other login of this account has just ended; this one carries on, anew.
            _start_login(current_user._get_current_object())
            flash("Your password has been changed. You are logged out everywhere else.", "success")
            return redirect(url_for("auth.home"))
    return render_template("auth/change_password.html", form=form)


@blueprint.route("/staff")
@login_required
def home() -> ResponseReturnValue:
    """Where a staff member lands after login: the first tool their role allows."""
    if current_user.has_role(UserRole.CAMPAIGNER):
        return redirect(url_for("campaigns.list_campaigns"))
    if current_user.has_role(UserRole.STAFF):
        return redirect(url_for("send_log.list_letters"))
    return redirect(url_for("supporter.campaign_page"))
