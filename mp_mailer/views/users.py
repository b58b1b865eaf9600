"""Admins manage staff accounts."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user

from mp_mailer.forms import ROLE_LABELS, ButtonForm, ChangeRoleForm, NewUserForm
from mp_mailer.models import User, UserRole
from mp_mailer.permissions import role_required
from mp_mailer.services import users as accounts
from mp_mailer.services.users import UserNotFound, UserProblem
from mp_mailer.web_context import db_session

blueprint = Blueprint("users", __name__, url_prefix="/admin/users")
admin_only = role_required(UserRole.ADMIN)


@blueprint.route("/")
@admin_only
def list_users() -> ResponseReturnValue:
    users = accounts.list_users(db_session())
    return render_template(
        "users/list.html",
        users=users,
        role_forms={user.id: _role_form(user) for user in users},
        button_form=ButtonForm(),
        role_labels=ROLE_LABELS,
    )


@blueprint.route("/new", methods=["GET", "POST"])
@admin_only
def new_user() -> ResponseReturnValue:
    form = NewUserForm()
    if form.validate_on_submit():
        try:
            user = accounts.create_user(
                db_session(), form.email.data, form.password.data, UserRole(form.role.data)
            )
        except UserProblem as e:
            form.email.errors.append(e.message)
        else:
            flash(f"Added {user.email} as {ROLE_LABELS[user.role].lower()}.", "success")
            return redirect(url_for("users.list_users"))
    return render_template("users/new.html", form=form)


@blueprint.route("/<int:user_id>/role", methods=["POST"])
@admin_only
def change_user_role(user_id: int) -> ResponseReturnValue:
    user = _user(user_id)
    form = _role_form(user)
    if not form.validate_on_submit():
        abort(400)
    try:
        accounts.change_role(db_session(), user, UserRole(form.role.data), current_user.id)
    except UserProblem as e:
        flash(e.message, "error")
    else:
        flash(f"{user.email} is now {ROLE_LABELS[user.role].lower()}.", "success")
    return redirect(url_for("users.list_users"))


@blueprint.route("/<int:user_id>/disable", methods=["POST"])
@admin_only
def disable_user(user_id: int) -> ResponseReturnValue:
    return _set_active(user_id, active=False)


@blueprint.route("/<int:user_id>/enable", methods=["POST"])
@admin_only
def enable_user(user_id: int) -> ResponseReturnValue:
    return _set_active(user_id, active=True)


def _set_active(user_id: int, active: bool) -> ResponseReturnValue:
    user = _user(user_id)
    if not ButtonForm().validate_on_submit():
        abort(400)
    try:
        accounts.set_active(db_session(), user, active, current_user.id)
    except UserProblem as e:
        flash(e.message, "error")
    else:
        done = "can log in again" if active else "is disabled and can no longer log in"
        flash(f"{user.email} {done}.", "success")
    return redirect(url_for("users.list_users"))


def _user(user_id: int) -> User:
    try:
        return accounts.get_user(db_session(), user_id)
    except UserNotFound:
        abort(404)


def _role_form(user: User) -> ChangeRoleForm:
    # A prefix per row keeps each select's id (and its label) unique on the list page.
    return ChangeRoleForm(prefix=f"user-{user.id}", data={"role": user.role.value})
