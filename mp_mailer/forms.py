"""Forms and their field validators; every form carries flask-wtf's CSRF token.

About 400 lines because it is declarative: one class per form, each a table of fields with their
labels, hints and validators, and the small validator classes they share."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlsplit

from email_validator import EmailNotValidError, validate_email
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    EmailField,
    HiddenField,
    IntegerField,
    PasswordField,
    RadioField,
    SearchField,
    SelectField,
    StringField,
    TextAreaField,
    URLField,
)
from wtforms.fields import Field
from wtforms.form import BaseForm
from wtforms.validators import (
    DataRequired,
    EqualTo,
    InputRequired,
    Length,
    NumberRange,
    Optional,
    ValidationError,
)
from wtforms.widgets import HiddenInput

from mp_mailer.models import CampaignStatus, CampaignTarget, UserRole
from mp_mailer.postcodes import PostcodeKind, parse_postcode

_CONTROL_CHARACTERS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\u2028\u2029\u0085]")
_LINE_BREAKS = re.compile(r"[\r\n]")
# Bidi embeddings, overrides and isolates: in a name or subject they make text display
# differently from what it says. Letter bodies keep them, since nothing there is a header.
_BIDI_CONTROLS = re.compile(r"[\u202a-\u202e\u2066-\u2069]")
# The start of an RFC 2047 encoded word ("=?utf-8?q?"), which email programs decode.
_ENCODED_WORD = re.compile(r"=\?[^?\s]*\?[bBqQ]\?")


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
        if not self.allow_line_breaks and _BIDI_CONTROLS.search(value):
            raise ValidationError(f"{field.label.text} contains characters we can't send.")


class NoEncodedWords:
    """Refuses text like "=?utf-8?q?...?=" in what ends up in an email header."""

    def __call__(self, form: BaseForm, field: Field) -> None:
        if _ENCODED_WORD.search(field.data or ""):
            raise ValidationError(
                f"{field.label.text} can't contain text like “=?utf-8?q?”: email programs "
                "would read it as a code. Please remove it."
            )


class ValidEmail:
    """Uses email-validator; keeps the normalised address on the field."""

    def __call__(self, form: BaseForm, field: Field) -> None:
        # "=?" is valid in an address, but the email package would decode it as an encoded word.
        if _LINE_BREAKS.search(field.data or "") or "=?" in (field.data or ""):
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
        # Phones otherwise offer lower case and "correct" a postcode into a word.
        render_kw={"autocapitalize": "characters", "spellcheck": "false"},
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
            NoEncodedWords(),
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
            NoEncodedWords(),
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


class ReplyAnswerForm(FlaskForm):
    """Whether the MP replied: one press of a button, never a link's visit (mail scanners open
    links; only a person submits the form)."""

    answer = RadioField(
        "Has your MP replied to your letter?",
        choices={"yes": "Yes, they replied", "not_yet": "Not yet", "no": "No"},
        description={"not_yet": "We will ask you once more, in a week."},
        validators=[InputRequired("Choose whether your MP has replied.")],
    )
    reply_text = TextAreaField(
        "Their reply (optional)",
        filters=[strip_whitespace],
        validators=[
            Optional(),
            Length(max=20_000, message="Keep the reply under 20,000 characters."),
        ],
    )
    keep_reply = BooleanField(
        "Keep the text of the reply with my letter, so the campaign can read it"
    )

    def validate_keep_reply(self, field: Field) -> None:
        if self.reply_text.data and self.answer.data == "yes" and not field.data:
            raise ValidationError(
                "Tick the box to let us keep the reply, or remove its text from the box above."
            )


class LoginForm(FlaskForm):
    email = EmailField(
        "Email address",
        filters=[strip_whitespace],
        validators=[DataRequired("Enter your email address."), Length(max=254)],
    )
    password = PasswordField(
        "Password", validators=[DataRequired("Enter your password."), Length(max=200)]
    )


class ChangePasswordForm(FlaskForm):
    current_password = PasswordField(
        "Current password",
        validators=[DataRequired("Enter your current password."), Length(max=200)],
    )
    new_password = PasswordField(
        "New password",
        description="At least 12 characters. A few unrelated words make a good one.",
        validators=[DataRequired("Enter a new password."), Length(max=200)],
    )
    confirm_password = PasswordField(
        "New password again",
        validators=[
            DataRequired("Enter the new password again."),
            EqualTo("new_password", "The two new passwords are different."),
        ],
    )


# Campaigners and admins


_SLUG = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*\Z")
STATUS_LABELS = {
    CampaignStatus.DRAFT: "Draft",
    CampaignStatus.LIVE: "Live",
    CampaignStatus.CLOSED: "Closed",
}
TARGET_LABELS = {CampaignTarget.CONSTITUENCY_MP: "The supporter's constituency MP"}
ROLE_LABELS = {
    UserRole.CAMPAIGNER: "Campaigner",
    UserRole.STAFF: "Staff",
    UserRole.ADMIN: "Admin",
}
# Each option's hint, shown under it: the radio fields' `description`, which the radios macro reads.
STATUS_HINTS = {
    CampaignStatus.DRAFT: "Only logged-in staff can see it. Use this while you prepare.",
    CampaignStatus.LIVE: "Anyone can see it and write to their MP.",
    CampaignStatus.CLOSED: "Supporters see that it has closed; it accepts no more letters.",
}
TARGET_HINTS = {
    CampaignTarget.CONSTITUENCY_MP: (
        "Each supporter writes to the MP for the constituency their postcode is in."
    ),
}
ROLE_HINTS = {
    UserRole.CAMPAIGNER: "Creates and edits campaigns and their letters.",
    UserRole.STAFF: "Reads the send log of letters.",
    UserRole.ADMIN: "Does everything, including managing users.",
}
assert set(STATUS_HINTS) == set(STATUS_LABELS)
assert set(TARGET_HINTS) == set(TARGET_LABELS)
assert set(ROLE_HINTS) == set(ROLE_LABELS)


def _choices(labels: dict[Any, str]) -> dict[str, str]:
    return {str(value): label for value, label in labels.items()}


def lowercase(value: Any) -> Any:
    return value.lower() if isinstance(value, str) else value


class Slug:
    def __call__(self, form: BaseForm, field: Field) -> None:
        if not _SLUG.match(field.data or ""):
            raise ValidationError(
                "The web address can only use lowercase letters, numbers and single hyphens "
                "between words, like ban-chen-quanguo."
            )


class WebAddress:
    """An http or https address with a host; anything else (javascript:, ftp:) is refused."""

    def __call__(self, form: BaseForm, field: Field) -> None:
        parts = urlsplit(field.data or "")
        if parts.scheme not in ("http", "https") or not parts.netloc or " " in field.data:
            raise ValidationError("Enter a full web address starting with https://")


class ImageAddress:
    """An image's address: https:// (or http://) on another site, or a path on this one."""

    def __call__(self, form: BaseForm, field: Field) -> None:
        value = field.data or ""
        if value.startswith("/") and not value.startswith("//") and " " not in value:
            return
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.netloc or " " in value:
            raise ValidationError(
                "Enter the image's full web address starting with https://, or a path on this "
                "site starting with /"
            )


def _optional_image(label: str) -> StringField:
    return StringField(
        label,
        filters=[strip_whitespace],
        validators=[
            Optional(),
            Length(max=500, message=f"Keep the {label.lower()} address under 500 characters."),
            ImageAddress(),
        ],
    )


class CampaignForm(FlaskForm):
    title = StringField(
        "Title",
        filters=[strip_whitespace],
        validators=[
            DataRequired("Enter the campaign's title."),
            Length(max=200, message="Keep the title under 200 characters."),
            NoControlCharacters(),
        ],
    )
    slug = StringField(
        "Web address",
        filters=[strip_whitespace, lowercase],
        validators=[
            DataRequired("Enter the campaign's web address, like ban-chen-quanguo."),
            Length(max=80, message="Keep the web address under 80 characters."),
            Slug(),
        ],
    )
    status = RadioField(
        "Status",
        choices=_choices(STATUS_LABELS),
        description=_choices(STATUS_HINTS),
        default=CampaignStatus.DRAFT.value,
        validators=[InputRequired("Choose the campaign's status.")],
    )
    target = RadioField(
        "Who supporters write to",
        choices=_choices(TARGET_LABELS),
        description=_choices(TARGET_HINTS),
        default=CampaignTarget.CONSTITUENCY_MP.value,
        validators=[InputRequired("Choose who supporters write to.")],
    )
    intro_markdown = TextAreaField(
        "Introduction",
        filters=[normalise_newlines],
        validators=[
            DataRequired("Write an introduction: it is the first thing supporters read."),
            Length(max=20_000, message="Keep the introduction under 20,000 characters."),
            NoControlCharacters(allow_line_breaks=True),
        ],
    )
    thank_you_text = TextAreaField(
        "Thank-you message",
        filters=[normalise_newlines],
        validators=[
            Length(max=5_000, message="Keep the thank-you message under 5,000 characters."),
            NoControlCharacters(allow_line_breaks=True),
        ],
    )
    share_text = TextAreaField(
        "Share message",
        filters=[normalise_newlines],
        validators=[
            Length(max=500, message="Keep the share message under 500 characters."),
            NoControlCharacters(allow_line_breaks=True),
        ],
    )
    petition_url = URLField(
        "Petition link for supporters outside the UK",
        filters=[strip_whitespace],
        validators=[
            Optional(),
            Length(max=500, message="Keep the petition link under 500 characters."),
            WebAddress(),
        ],
    )
    is_default = BooleanField("Show this campaign on the home page")
    # How the campaign looks and travels (services.campaign_settings.CampaignDetails).
    hero_image_url = _optional_image("Banner image")
    share_image_url = _optional_image("Share image")
    meta_description = TextAreaField(
        "Share description",
        filters=[normalise_newlines],
        validators=[
            Length(max=300, message="Keep the share description under 300 characters."),
            NoControlCharacters(),
        ],
    )
    target_letters = IntegerField(
        "Letters target",
        validators=[
            Optional(),
            NumberRange(min=1, max=10_000_000, message="Enter a number of letters, like 5000."),
        ],
    )
    next_ask_text = StringField(
        "Next ask: button words",
        filters=[strip_whitespace],
        validators=[
            Length(max=200, message="Keep the button words under 200 characters."),
            NoControlCharacters(),
        ],
    )
    next_ask_url = URLField(
        "Next ask: link",
        filters=[strip_whitespace],
        validators=[
            Optional(),
            Length(max=500, message="Keep the next ask's link under 500 characters."),
            WebAddress(),
        ],
    )
    # Personal touch (services.personal_touch): its own fieldset, last on the form.
    min_own_sentences = IntegerField(
        "Sentences of their own",
        default=0,
        validators=[
            Optional(),
            NumberRange(min=0, max=10, message="Enter a number of sentences from 0 to 10."),
        ],
    )
    footer_own_words_line = BooleanField("Add a line about their own words at the foot of letters")
    # Replies and public figures: kept last, in their own fieldset.
    track_replies = BooleanField("Ask supporters whether their MP replied", default=True)
    public_reply_figures = BooleanField(
        "Show the campaign's reply figures and league table on a public page"
    )


class NewCampaignForm(CampaignForm):
    """New campaigns start as drafts with a starter letter, so there is no status to choose."""

    status = None


class TemplateForm(FlaskForm):
    subject_template = StringField(
        "Subject",
        filters=[strip_whitespace],
        validators=[
            DataRequired("Enter the letter's subject."),
            Length(max=500, message="Keep the subject under 500 characters."),
            NoControlCharacters(),
            NoEncodedWords(),
        ],
    )
    body_template = TextAreaField(
        "Letter",
        filters=[normalise_newlines],
        validators=[
            DataRequired("Write the letter."),
            Length(max=20_000, message="Keep the letter under 20,000 characters."),
            NoControlCharacters(allow_line_breaks=True),
        ],
    )
    note = StringField(
        "What changed (optional)",
        filters=[strip_whitespace],
        validators=[
            Length(max=200, message="Keep the note under 200 characters."),
            NoControlCharacters(),
        ],
    )


class ButtonForm(FlaskForm):
    """A button that changes something: only the CSRF token."""


class StatusForm(FlaskForm):
    status = HiddenField(validators=[DataRequired()])

    def validate_status(self, field: Field) -> None:
        if field.data not in STATUS_LABELS:
            raise ValidationError("Choose draft, live or closed.")


class MpSearchForm(FlaskForm):
    class Meta:
        csrf = False

    q = SearchField(
        "MP's name or constituency",
        filters=[strip_whitespace],
        validators=[DataRequired("Enter part of an MP's name or constituency."), Length(max=100)],
    )


class PreviewPostcodeForm(FlaskForm):
    class Meta:
        csrf = False

    postcode = StringField(
        "Postcode",
        filters=[strip_whitespace],
        validators=[DataRequired("Enter a postcode."), Length(max=16), UkPostcode()],
    )


class TestSendForm(FlaskForm):
    mp_id = IntegerField(widget=HiddenInput(), validators=[InputRequired()])
    version = IntegerField(widget=HiddenInput(), validators=[InputRequired()])
    postcode = HiddenField(filters=[strip_whitespace])


class NewUserForm(FlaskForm):
    email = EmailField(
        "Email address",
        filters=[strip_whitespace],
        validators=[DataRequired("Enter their email address."), Length(max=254), ValidEmail()],
    )
    role = RadioField(
        "Role",
        choices=_choices(ROLE_LABELS),
        description=_choices(ROLE_HINTS),
        validators=[InputRequired("Choose what they can do.")],
    )
    password = PasswordField(
        "Initial password",
        validators=[
            DataRequired("Enter an initial password."),
            Length(min=12, max=200, message="The password must be 12 to 200 characters."),
        ],
    )


class ChangeRoleForm(FlaskForm):
    role = SelectField("Role", choices=_choices(ROLE_LABELS), validators=[InputRequired()])


# Supporters' data (staff)


class SupporterEmailForm(FlaskForm):
    email = StringField(
        "Supporter's email address",
        filters=[strip_whitespace],
        validators=[
            DataRequired("Enter the supporter's email address."),
            Length(max=254),
            NoControlCharacters(),
            ValidEmail(),
        ],
    )


class PrivacyNoticeForm(FlaskForm):
    body = TextAreaField(
        "Privacy notice",
        description="Markdown: ## for headings, **bold**, [links](https://example.org).",
        filters=[normalise_newlines],
        validators=[
            DataRequired("Write the privacy notice."),
            Length(max=50_000),
            NoControlCharacters(allow_line_breaks=True),
        ],
    )
