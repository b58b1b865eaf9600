"""Database models: campaigns, template versions, letters and their delivery, staff, MP cache.

Over 400 lines because it is declarative: one typed table per class, beside its migrations."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    DateTime,
    Enum,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    false,
    true,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from mp_mailer.db import Base, utcnow


def _enum(enum_class: type[StrEnum], name: str) -> Enum:
    # Plain strings with a CHECK constraint: adding a value needs no Postgres type change.
    return Enum(
        enum_class,
        name=name,
        native_enum=False,
        create_constraint=True,
        length=32,
        values_callable=lambda members: [m.value for m in members],
        validate_strings=True,
    )


def _lowercased_supporter_email(context: Any) -> str:
    return str(context.get_current_parameters()["supporter_email"]).lower()


class LetterStatus(StrEnum):
    AWAITING_CONFIRMATION = "awaiting_confirmation"
    QUEUED = "queued"
    SENDING = "sending"
    SENT = "sent"
    RETRYING = "retrying"
    FAILED = "failed"
    CANCELLED = "cancelled"
    # Never confirmed by the supporter within the confirmation link's lifetime.
    EXPIRED = "expired"
    # After the relay accepted it: the MP's mail system returned it for good (a hard bounce).
    BOUNCED = "bounced"
    # After the relay accepted it: the MP's office answered with an automatic acknowledgement.
    ACKNOWLEDGED = "acknowledged"


class CampaignStatus(StrEnum):
    DRAFT = "draft"
    LIVE = "live"
    CLOSED = "closed"


class CampaignTarget(StrEnum):
    CONSTITUENCY_MP = "constituency_mp"


class UserRole(StrEnum):
    ADMIN = "admin"
    CAMPAIGNER = "campaigner"
    STAFF = "staff"


class EmailKind(StrEnum):
    CONFIRMATION = "confirmation"
    LETTER = "letter"
    # The supporter's copy of a letter: recorded apart from the MP's, whose delivery it never
    # decides; a temporary refusal is retried to the supporter alone.
    COPY = "copy"
    # The one email telling the supporter their letter did not reach the MP.
    NOTICE = "notice"
    # "Has your MP replied?", some days after the letter was sent (a reply check's email).
    REPLY_CHECK = "reply_check"


class ReturnedMailKind(StrEnum):
    """What came back to a letter's bounce address."""

    HARD_BOUNCE = "hard_bounce"
    SOFT_BOUNCE = "soft_bounce"
    # The supporter's copy, sent in the same transaction as the letter, bounced.
    COPY_BOUNCE = "copy_bounce"
    ACKNOWLEDGEMENT = "acknowledgement"
    OUT_OF_OFFICE = "out_of_office"
    UNRECOGNISED = "unrecognised"


class ReplyAnswer(StrEnum):
    """What a supporter said when asked whether their MP had replied."""

    YES = "yes"
    NOT_YET = "not_yet"
    NO = "no"


class AttemptOutcome(StrEnum):
    SENT = "sent"
    RETRY = "retry"
    FAILED = "failed"


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[UserRole] = mapped_column(_enum(UserRole, "user_role"))
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    def has_role(self, *roles: UserRole) -> bool:
        """Admins hold every role."""
        return self.is_active and (self.role == UserRole.ADMIN or self.role in roles)

    # Flask-Login's user interface, written out so models need not import Flask-Login (the worker
    # imports models and must stay free of Flask). `is_active` is the column above.
    @property
    def is_authenticated(self) -> bool:
        return True

    @property
    def is_anonymous(self) -> bool:
        return False

    def get_id(self) -> str:
        return str(self.id)


class Campaign(Base):
    __tablename__ = "campaigns"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(80), unique=True)
    title: Mapped[str] = mapped_column(String(200))
    status: Mapped[CampaignStatus] = mapped_column(
        _enum(CampaignStatus, "campaign_status"), default=CampaignStatus.DRAFT
    )
    target: Mapped[CampaignTarget] = mapped_column(
        _enum(CampaignTarget, "campaign_target"), default=CampaignTarget.CONSTITUENCY_MP
    )
    intro_markdown: Mapped[str] = mapped_column(Text, default="")
    thank_you_text: Mapped[str] = mapped_column(Text, default="")
    share_text: Mapped[str] = mapped_column(Text, default="")
    petition_url: Mapped[str | None] = mapped_column(String(500))
    is_default: Mapped[bool] = mapped_column(Boolean, default=False)
    # How the campaign looks and travels (migration 0004): its page's hero image, what a shared
    # link shows, the goal its progress bar counts towards and the ask after a letter is sent.
    hero_image_url: Mapped[str | None] = mapped_column(String(500))
    share_image_url: Mapped[str | None] = mapped_column(String(500))
    meta_description: Mapped[str] = mapped_column(String(300), default="", server_default="")
    target_letters: Mapped[int | None] = mapped_column(Integer)
    next_ask_text: Mapped[str] = mapped_column(String(200), default="", server_default="")
    next_ask_url: Mapped[str | None] = mapped_column(String(500))
    # Personal touch (migration 0008): how many sentences of their own a supporter's letter must
    # have (0: none asked), and whether the letter's foot says how much is in their own words.
    min_own_sentences: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    footer_own_words_line: Mapped[bool] = mapped_column(
        Boolean, default=False, server_default=false()
    )
    # Replies (migration 0009): ask supporters whether their MP replied, and show the campaign's
    # reply figures and league table on a public page.
    track_replies: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())
    public_reply_figures: Mapped[bool] = mapped_column(
        Boolean, default=False, server_default=false()
    )
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, onupdate=utcnow)

    templates: Mapped[list[LetterTemplate]] = relationship(
        back_populates="campaign", order_by="LetterTemplate.version"
    )

    @property
    def accepts_letters(self) -> bool:
        return self.status == CampaignStatus.LIVE


class LetterTemplate(Base):
    """One saved version of a campaign's letter; the highest version is the one in use."""

    __tablename__ = "letter_templates"
    __table_args__ = (UniqueConstraint("campaign_id", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"))
    version: Mapped[int] = mapped_column(Integer)
    subject_template: Mapped[str] = mapped_column(String(500))
    body_template: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    note: Mapped[str] = mapped_column(String(200), default="")

    campaign: Mapped[Campaign] = relationship(back_populates="templates")
    created_by: Mapped[User | None] = relationship()


class CachedMember(Base):
    """A current MP as the Members API last described them."""

    __tablename__ = "members"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    display_name: Mapped[str] = mapped_column(String(200))
    address_as: Mapped[str] = mapped_column(String(200))
    full_title: Mapped[str | None] = mapped_column(String(300))
    party_name: Mapped[str | None] = mapped_column(String(100))
    party_abbreviation: Mapped[str | None] = mapped_column(String(20))
    party_colour: Mapped[str | None] = mapped_column(String(7))
    constituency_id: Mapped[int | None] = mapped_column(Integer, index=True)
    constituency_name: Mapped[str | None] = mapped_column(String(200))
    thumbnail_url: Mapped[str | None] = mapped_column(String(500))
    is_current: Mapped[bool] = mapped_column(Boolean, default=True)
    email: Mapped[str | None] = mapped_column(String(254))
    postal_address: Mapped[str | None] = mapped_column(String(500))
    phone: Mapped[str | None] = mapped_column(String(100))
    contact_page_url: Mapped[str | None] = mapped_column(String(500))
    contact_refreshed_at: Mapped[datetime | None] = mapped_column(DateTime)
    refreshed_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class CachedConstituency(Base):
    __tablename__ = "constituencies"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    name: Mapped[str] = mapped_column(String(200))
    member_id: Mapped[int | None] = mapped_column(ForeignKey("members.id"))
    refreshed_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    member: Mapped[CachedMember | None] = relationship()


class CachedPostcode(Base):
    """A postcode the Members API placed in a constituency."""

    __tablename__ = "postcodes"

    postcode: Mapped[str] = mapped_column(String(10), primary_key=True)
    constituency_id: Mapped[int | None] = mapped_column(ForeignKey("constituencies.id"))
    refreshed_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    constituency: Mapped[CachedConstituency | None] = relationship()


class Letter(Base):
    __tablename__ = "letters"
    __table_args__ = (
        # One letter per supporter, campaign and MP, whatever spelling of the address they use.
        UniqueConstraint("campaign_id", "supporter_key", "mp_id"),
        Index("ix_letters_due", "status", "next_attempt_at"),
        Index("ix_letters_created_at_id", "created_at", "id"),
        Index("ix_letters_campaign_created", "campaign_id", "created_at", "id"),
        Index("ix_letters_status_created", "status", "created_at", "id"),
        # The send log and the figures (migration 0002).
        Index("ix_letters_campaign_status_created", "campaign_id", "status", "created_at", "id"),
        Index("ix_letters_status_mp", "status", "mp_id", "campaign_id", "created_at", "sent_at"),
        # The worker's search for letters whose supporter is due a reply check (migration 0009).
        Index("ix_letters_status_sent", "status", "sent_at"),
        # Substring search on supporters; PostgreSQL only, and only where pg_trgm is available.
        Index(
            "ix_letters_supporter_trgm",
            "supporter_name",
            "supporter_email",
            postgresql_using="gin",
            postgresql_ops={"supporter_name": "gin_trgm_ops", "supporter_email": "gin_trgm_ops"},
        ).ddl_if(dialect="postgresql"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id"))
    template_id: Mapped[int] = mapped_column(ForeignKey("letter_templates.id"))
    status: Mapped[LetterStatus] = mapped_column(_enum(LetterStatus, "letter_status"))

    mp_id: Mapped[int] = mapped_column(Integer, index=True)
    mp_name: Mapped[str] = mapped_column(String(200))
    mp_email: Mapped[str] = mapped_column(String(254))
    mp_party: Mapped[str | None] = mapped_column(String(100))
    constituency_id: Mapped[int] = mapped_column(Integer, index=True)
    constituency_name: Mapped[str] = mapped_column(String(200))

    supporter_name: Mapped[str] = mapped_column(String(200))
    supporter_email: Mapped[str] = mapped_column(String(254), index=True)
    # The address as dedupe sees it (services/supporter_identity.py sets it: jane+mp@ is jane@);
    # rows written without it (demo data, tests) fall back to the lowercased address.
    supporter_key: Mapped[str] = mapped_column(
        String(254), index=True, default=_lowercased_supporter_email
    )
    supporter_address: Mapped[str] = mapped_column(String(500))
    supporter_postcode: Mapped[str] = mapped_column(String(10))
    send_copy: Mapped[bool] = mapped_column(Boolean, default=False)
    wants_updates: Mapped[bool] = mapped_column(Boolean, default=False)

    subject: Mapped[str] = mapped_column(String(500))
    body: Mapped[str] = mapped_column(Text)
    message_id: Mapped[str] = mapped_column(String(255), unique=True)
    # How much of the body is the supporter's own (services/personal_touch.py), measured when it
    # was written; None for letters written before it was measured.
    own_sentences: Mapped[int | None] = mapped_column(Integer)
    own_word_share: Mapped[float | None] = mapped_column(Float)
    # The line at the letter's foot saying so, fixed when it was written (the supporter sees it
    # before confirming); None when the campaign adds none.
    own_words_line: Mapped[str | None] = mapped_column(Text)

    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    confirmed_at: Mapped[datetime | None] = mapped_column(DateTime)
    sent_at: Mapped[datetime | None] = mapped_column(DateTime)
    next_attempt_at: Mapped[datetime | None] = mapped_column(DateTime)
    lease_until: Mapped[datetime | None] = mapped_column(DateTime)
    # Which worker's claim the lease belongs to: a worker records or sends only under its own.
    claim_token: Mapped[str | None] = mapped_column(String(36))
    # Set at the first temporary refusal of the email now being tried (confirmation, then the
    # letter): once it passes, the next refusal is final.
    retry_deadline: Mapped[datetime | None] = mapped_column(DateTime)
    copy_due_at: Mapped[datetime | None] = mapped_column(DateTime, index=True)
    attempt_count: Mapped[int] = mapped_column(Integer, default=0)
    confirmation_due_at: Mapped[datetime | None] = mapped_column(DateTime, index=True)
    confirmation_sent_at: Mapped[datetime | None] = mapped_column(DateTime)
    last_error: Mapped[str | None] = mapped_column(Text)
    sent_message: Mapped[str | None] = mapped_column(Text)
    # Why the MP's mail system returned the letter (a hard bounce's diagnostic).
    bounce_reason: Mapped[str | None] = mapped_column(Text)
    # The supporter's notice of a bounce or final failure: due, then sent (never twice).
    notice_due_at: Mapped[datetime | None] = mapped_column(DateTime, index=True)
    notice_sent_at: Mapped[datetime | None] = mapped_column(DateTime)
    # When the supporter's name, email and address were removed (purge, or an erasure request).
    erased_at: Mapped[datetime | None] = mapped_column(DateTime, index=True)

    campaign: Mapped[Campaign] = relationship()
    template: Mapped[LetterTemplate] = relationship()
    attempts: Mapped[list[DeliveryAttempt]] = relationship(
        back_populates="letter", order_by="DeliveryAttempt.id"
    )
    events: Mapped[list[LetterEvent]] = relationship(
        back_populates="letter", order_by="LetterEvent.id"
    )


class DeliveryAttempt(Base):
    __tablename__ = "delivery_attempts"

    id: Mapped[int] = mapped_column(primary_key=True)
    letter_id: Mapped[int] = mapped_column(ForeignKey("letters.id"), index=True)
    kind: Mapped[EmailKind] = mapped_column(_enum(EmailKind, "email_kind"))
    started_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    duration_ms: Mapped[int] = mapped_column(Integer)
    outcome: Mapped[AttemptOutcome] = mapped_column(_enum(AttemptOutcome, "attempt_outcome"))
    smtp_code: Mapped[int | None] = mapped_column(Integer)
    smtp_reply: Mapped[str | None] = mapped_column(Text)

    letter: Mapped[Letter] = relationship(back_populates="attempts")


class LetterEvent(Base):
    """A change of a letter's status, with who (a staff user, or the system) and why."""

    __tablename__ = "letter_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    letter_id: Mapped[int] = mapped_column(ForeignKey("letters.id"), index=True)
    at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    from_status: Mapped[str | None] = mapped_column(String(32))
    to_status: Mapped[str] = mapped_column(String(32))
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    note: Mapped[str] = mapped_column(Text, default="")

    letter: Mapped[Letter] = relationship(back_populates="events")
    actor: Mapped[User | None] = relationship()


class ReturnedMail(Base):
    """A message that came back to a letter's bounce address: a bounce or an automatic reply."""

    __tablename__ = "returned_mail"
    __table_args__ = (Index("ix_returned_mail_letter_kind", "letter_id", "kind"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    letter_id: Mapped[int] = mapped_column(ForeignKey("letters.id"))
    kind: Mapped[ReturnedMailKind] = mapped_column(_enum(ReturnedMailKind, "returned_mail_kind"))
    received_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    # The returned message's own Message-ID: the same message read twice is recorded once.
    message_id: Mapped[str | None] = mapped_column(String(255))
    reason: Mapped[str] = mapped_column(Text, default="")


class CampaignPacing(Base):
    """A campaign's sending limits; no row, or an empty limit, means no limit."""

    __tablename__ = "campaign_pacing"

    campaign_id: Mapped[int] = mapped_column(
        ForeignKey("campaigns.id", ondelete="CASCADE"), primary_key=True
    )
    letters_per_hour: Mapped[int | None] = mapped_column(Integer)
    letters_per_mp_per_day: Mapped[int | None] = mapped_column(Integer)
    # A sending window in UK time, e.g. "mon-fri 08:00-20:00"; empty: any time.
    sending_window: Mapped[str] = mapped_column(String(100), default="")


class ExportRecord(Base):
    """Who downloaded supporters' data, when, and with which filter."""

    __tablename__ = "export_records"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    filters: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)

    user: Mapped[User] = relationship()


class StaffSession(Base):
    """One staff login; the cookie names it, so logging out, a disabled account or a new
    password ends it on the server, whoever holds a copy of the cookie."""

    __tablename__ = "staff_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    # A SHA-256 of the random token in the cookie: a database leak reveals no usable session.
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(DateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime)

    user: Mapped[User] = relationship()


class SupporterNotice(Base):
    """An email to a letter's supporter that is not a confirmation: "you have already written"."""

    __tablename__ = "supporter_notices"

    id: Mapped[int] = mapped_column(primary_key=True)
    letter_id: Mapped[int] = mapped_column(ForeignKey("letters.id"), index=True)
    kind: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    due_at: Mapped[datetime | None] = mapped_column(DateTime, index=True)
    sent_at: Mapped[datetime | None] = mapped_column(DateTime)
    attempt_count: Mapped[int] = mapped_column(Integer, default=0)


class PrivacyRecord(Base):
    """A subject access, export or erasure, and every purge: what was done, by whom, to how many
    letters. It names no supporter, so it outlives the data it describes."""

    __tablename__ = "privacy_records"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    action: Mapped[str] = mapped_column(String(32))
    # None for the supporter's own erasure link and for the purge command.
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    letter_count: Mapped[int] = mapped_column(Integer, default=0)
    note: Mapped[str] = mapped_column(String(300), default="")

    user: Mapped[User | None] = relationship()


class SitePage(Base):
    """Site-wide text staff can edit, such as the privacy notice (markdown)."""

    __tablename__ = "site_pages"

    slug: Mapped[str] = mapped_column(String(40), primary_key=True)
    body_markdown: Mapped[str] = mapped_column(Text, default="")
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, onupdate=utcnow)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))


class WorkerHeartbeat(Base):
    """The last word from a delivery worker: when it last ran, and whether it reached the relay.

    One row (id 1), overwritten by whichever worker reports last; /healthz reads it. It holds no
    personal data, only times and a yes or no.
    """

    __tablename__ = "worker_heartbeats"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    seen_at: Mapped[datetime] = mapped_column(DateTime)
    relay_checked_at: Mapped[datetime | None] = mapped_column(DateTime)
    relay_reachable: Mapped[bool | None] = mapped_column(Boolean)


class PetitionClick(Base):
    """How many times a day a campaign's petition link was followed from its page.

    A count and nothing else: no address, no cookie, nothing that tells one person from another.
    """

    __tablename__ = "petition_clicks"

    campaign_id: Mapped[int] = mapped_column(
        ForeignKey("campaigns.id", ondelete="CASCADE"), primary_key=True
    )
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    count: Mapped[int] = mapped_column(Integer, default=0)


class ReplyCheck(Base):
    """One "has your MP replied?" email about a sent letter, and the supporter's answer.

    Round 1 is created by the worker once the letter has been sent long enough (the unique
    (letter_id, round) makes that once, whichever worker gets there first); round 2 only when the
    supporter answered round 1 "not yet". Its own claim and lease, so it never holds the letter's.
    """

    __tablename__ = "reply_checks"
    __table_args__ = (
        UniqueConstraint("letter_id", "round"),
        Index("ix_reply_checks_due", "sent_at", "due_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    letter_id: Mapped[int] = mapped_column(ForeignKey("letters.id"), index=True)
    round: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    # None once sent, or given up on.
    due_at: Mapped[datetime | None] = mapped_column(DateTime)
    claim_token: Mapped[str | None] = mapped_column(String(36))
    lease_until: Mapped[datetime | None] = mapped_column(DateTime)
    sent_at: Mapped[datetime | None] = mapped_column(DateTime)
    attempt_count: Mapped[int] = mapped_column(Integer, default=0)
    first_attempt_at: Mapped[datetime | None] = mapped_column(DateTime)
    answer: Mapped[ReplyAnswer | None] = mapped_column(_enum(ReplyAnswer, "reply_answer"))
    answered_at: Mapped[datetime | None] = mapped_column(DateTime)
    # The MP's reply as the supporter pasted it, kept only with their consent; erasure removes it.
    reply_text: Mapped[str | None] = mapped_column(Text)
    reply_text_consent: Mapped[bool] = mapped_column(Boolean, default=False)

    letter: Mapped[Letter] = relationship()
