"""Forms and their field validators; every form carries flask-wtf's CSRF token."""

from __future__ import annotations

import re
from typing import Any

from email_validator import EmailNotValidError, validate_email
from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField, PasswordField, StringField, TextAreaField
from wtforms.fields import Field
from wtforms.form import BaseForm
from wtforms.validators import DataRequired, Length, ValidationError

from mp_mailer.postcodes import PostcodeKind, parse_postcode

_CONTROL_CHARACTERS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\u2028\u2029\u0085]")
_LINE_BREAKS = re.compile(r"[\r\n]")


def strip_whitespace(value: Any) -> Any:
    return value.strip() if isinstance(value, str) else value


def normalise_newlines(value: Any) -> Any:
    return (
        value.replace("\r\n", "\n").replace("\r", "\n").strip() if isinstance(value, str) else value
    )


class NoControlCharacters:
    def __init__(self, allow_line_breaks: bool = False) -> None:
        self.allow_line_breaks = allow_line_breaks

    def __call__(self, form: BaseForm, field: Field) -> None:
        value = field.data or ""
        if _CONTROL_CHARACTERS.search(value):
            raise ValidationError(f"{field.label.text} contains characters we can't send.")
        if not self.allow_line_breaks and _LINE_BREAKS.search(value):
            raise ValidationError(f"{field.label.text} must be on one line.")


class ValidEmail:
    """Uses email-validator; keeps the normalised address on the field."""

    def __call__(self, form: BaseForm, field: Field) -> None:
        if _LINE_BREAKS.search(field.data or ""):
            raise ValidationError("Enter an email address like name@example.com.")
        try:
            result = validate_email(field.data or "", check_deliverability=False)
        except EmailNotValidError as e:
            raise ValidationError(f"Enter an email address like name@example.com ({e}).") from e
        field.data = result.normalized


class UkPostcode:
    def __call__(self, form: BaseForm, field: Field) -> None:
        postcode = parse_postcode(field.data or "")
        if postcode.kind == PostcodeKind.INVALID:
            raise ValidationError("Enter a full UK postcode, like SW1A 1AA.")
        field.data = postcode.text


class PostalAddress:
    def __call__(self, form: BaseForm, field: Field) -> None:
        lines = [line for line in (field.data or "").split("\n") if line.strip()]
        if len(lines) < 2:
            raise ValidationError(
                "Enter your full address on separate lines: your MP needs it to check you live "
                "in their constituency."
            )
        if len(lines) > 8:
            raise ValidationError("Your address can have at most 8 lines.")


class PostcodeForm(FlaskForm):
    postcode = StringField(
        "Your postcode",
        filters=[strip_whitespace],
        validators=[DataRequired("Enter your postcode."), Length(max=16), UkPostcode()],
    )


class LetterForm(FlaskForm):
    postcode = StringField(
        "Postcode", filters=[strip_whitespace], validators=[DataRequired(), UkPostcode()]
    )
    subject = StringField(
        "Subject",
        filters=[strip_whitespace],
        validators=[
            DataRequired("Enter a subject for your letter."),
            Length(max=200, message="Keep the subject under 200 characters."),
            NoControlCharacters(),
        ],
    )
    body = TextAreaField(
        "Your letter",
        filters=[normalise_newlines],
        validators=[
            DataRequired("Your letter is empty: write a few lines, or start from ours."),
            Length(min=50, max=10_000, message="Your letter should be 50 to 10,000 characters."),
            NoControlCharacters(allow_line_breaks=True),
        ],
    )
    name = StringField(
        "Full name",
        filters=[strip_whitespace],
        validators=[
            DataRequired("Enter your full name."),
            Length(max=100, message="Enter a name of 100 characters or fewer."),
            NoControlCharacters(),
        ],
    )
    email = EmailField(
        "Email address",
        filters=[strip_whitespace],
        validators=[DataRequired("Enter your email address."), Length(max=254), ValidEmail()],
    )
    address = TextAreaField(
        "Postal address",
        filters=[normalise_newlines],
        validators=[
            DataRequired("Enter your postal address."),
            Length(max=400, message="Enter an address of 400 characters or fewer."),
            NoControlCharacters(allow_line_breaks=True),
            PostalAddress(),
        ],
    )
    send_copy = BooleanField("Send me a copy of my letter", default=True)
    wants_updates = BooleanField("Email me news about this campaign (you can stop at any time)")


class ConfirmForm(FlaskForm):
    """Only a CSRF token: confirming is a deliberate press, not an email scanner's visit."""


class LoginForm(FlaskForm):
    email = EmailField(
        "Email address",
        filters=[strip_whitespace],
        validators=[DataRequired("Enter your email address."), Length(max=254)],
    )
    password = PasswordField(
        "Password", validators=[DataRequired("Enter your password."), Length(max=200)]
    )
