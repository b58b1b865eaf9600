"""Staff accounts: creation, password checks, roles."""

from __future__ import annotations

import functools

from sqlalchemy import func, select
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash, generate_password_hash

from mp_mailer.db import transaction, utcnow
from mp_mailer.errors import DomainError
from mp_mailer.models import User, UserRole
from mp_mailer.services.staff_sessions import end_all_sessions

MIN_PASSWORD_LENGTH = 12


@functools.cache
def _dummy_hash() -> str:
    """Compared against when the email is unknown, so a wrong email costs as long as a wrong
    password. Made on first use, not at import: scrypt is slow on purpose, and every process
    (each web worker, each delivery worker) imports this module."""
    return generate_password_hash("not a real password")


class UserProblem(DomainError):
    """An account change we refuse: a short password, an email in use."""


def hash_password(password: str) -> str:
    return generate_password_hash(password, method="scrypt")


def create_user(session: Session, email: str, password: str, role: UserRole) -> User:
    """Raises UserProblem for a short password or an email already in use."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise UserProblem(f"The password must be at least {MIN_PASSWORD_LENGTH} characters.")
    email = email.strip().lower()
    if find_user_by_email(session, email) is not None:
        raise UserProblem(f"There is already a user with the email {email}.")
    with transaction(session):
        user = User(email=email, password_hash=hash_password(password), role=role, is_active=True)
        session.add(user)
    return user


def find_user_by_email(session: Session, email: str) -> User | None:
    return session.scalar(select(User).where(func.lower(User.email) == email.strip().lower()))


def authenticate(session: Session, email: str, password: str) -> User | None:
    user = find_user_by_email(session, email)
    if user is None or not user.is_active:
        check_password_hash(_dummy_hash(), password)
        return None
    return user if check_password_hash(user.password_hash, password) else None


class UserNotFound(Exception):
    pass


def list_users(session: Session) -> list[User]:
    """Active users first, then by email."""
    return list(session.scalars(select(User).order_by(User.is_active.desc(), User.email)))


def get_user(session: Session, user_id: int) -> User:
    """Raises UserNotFound."""
    user = session.get(User, user_id)
    if user is None:
        raise UserNotFound(str(user_id))
    return user


def change_role(session: Session, user: User, role: UserRole, acting_user_id: int) -> None:
    """Raises UserProblem when admins try to change their own role (they could lock themselves
    out; another admin can do it)."""
    if user.id == acting_user_id:
        raise UserProblem("You can't change your own role: ask another admin to do it.")
    with transaction(session):
        user.role = role


def set_active(session: Session, user: User, active: bool, acting_user_id: int) -> None:
    """Disable or re-enable an account; a disabled user is logged out at their next request.

    Raises UserProblem when admins try to disable themselves.
    """
    if user.id == acting_user_id and not active:
        raise UserProblem("You can't disable your own account: ask another admin to do it.")
    with transaction(session):
        user.is_active = active
        if not active:
            # Re-enabling must not revive a cookie copied before the account was disabled.
            end_all_sessions(session, user.id, utcnow())


def change_password(session: Session, user: User, current: str, new: str) -> None:
    """Set a new password and end every login of the account (the caller starts a new one).

    Raises UserProblem for a wrong current password or a short new one.
    """
    if not check_password_hash(user.password_hash, current):
        raise UserProblem("Your current password is wrong.")
    if len(new) < MIN_PASSWORD_LENGTH:
        raise UserProblem(f"The new password must be at least {MIN_PASSWORD_LENGTH} characters.")
    if new == current:
        raise UserProblem("The new password must be different from the current one.")
    with transaction(session):
        user.password_hash = hash_password(new)
        end_all_sessions(session, user.id, utcnow())
