"""Demo letters and what happened to each (its status, attempts and history), written over the last
thirty days; each sent letter's stored email is built as the worker builds it."""

from __future__ import annotations

import random
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from email.headerregistry import Address
from email.policy import SMTP
from typing import Any

from mp_mailer.demo.people import (
    FEMALE_NAMES,
    MALE_NAMES,
    STREETS,
    SURNAMES,
    DemoMember,
    postcode_letter,
    writing_moments,
)
from mp_mailer.email_messages import LetterEnvelope, Supporter, build_letter_message
from mp_mailer.letter_templates import RecipientDetails, render_template, template_context
from mp_mailer.models import AttemptOutcome, EmailKind, LetterStatus
from mp_mailer.services.outbox.transitions import (
    AttemptResult,
    RetryPolicy,
    in_hours,
    reply_note,
    retry_time,
)
from mp_mailer.services.supporter_identity import supporter_key

DEFAULT_DAYS = 30


DEMO_MAIL_FROM = Address("Free Tibet", "campaigns", "freetibet.example")
# The outbox's retry rules, with a window short enough that a refused letter's history stays short.
DEMO_RETRY_POLICY = RetryPolicy(base_delay=timedelta(minutes=2), window=timedelta(hours=4))


_TEMPORARY_REPLIES = (
    (421, "4.7.0 Try again later, closing connection."),
    (451, "4.3.0 Mail server temporarily rejected message."),
    (450, "4.2.1 The recipient is receiving mail too quickly; try again later."),
)


_PERMANENT_REPLIES = (
    (550, "5.1.1 <{email}>: Recipient address rejected: User unknown in virtual mailbox table"),
    (552, "5.2.2 <{email}>: Mailbox full"),
    (554, "5.7.1 Message rejected under the recipient's content policy"),
)


@dataclass(frozen=True)
class DemoTemplate:
    id: int
    subject_template: str
    body_template: str
    used_from: datetime


@dataclass(frozen=True)
class DemoCampaign:
    id: int
    title: str
    templates: Sequence[DemoTemplate]  # oldest first
    share: float


@dataclass
class DemoLetter:
    """A letter's row, and, for seed-demo, its delivery attempts and history."""

    row: dict[str, Any]
    attempts: list[dict[str, Any]] = field(default_factory=list)
    events: list[dict[str, Any]] = field(default_factory=list)


def generate_letters(
    rng: random.Random,
    count: int,
    campaigns: Sequence[DemoCampaign],
    members: Sequence[DemoMember],
    now: datetime,
    *,
    days: int = DEFAULT_DAYS,
    detailed: bool = True,
    mail_from: Address = DEMO_MAIL_FROM,
) -> Iterator[DemoLetter]:
    """`count` letters written over the last `days` days, oldest first, in every status.

    `detailed` adds attempts and history; without it (for the benchmark) rows come faster. Each
    sent letter's stored email is built by email_messages, as the worker builds it; without
    `detailed`, one is built per MP and campaign letter and stored with each of its letters
    (building a million emails would take the benchmark twenty minutes).
    None is due for sending: a worker leaves them alone unless staff retry one.
    """
    moments = writing_moments(rng, count, now, days)
    weights = [0.0 if rng.random() < 0.15 else rng.paretovariate(1.2) for _ in members]
    writer = _LetterWriter(rng, campaigns, mail_from, detailed)
    for number, created_at in enumerate(moments, start=1):
        campaign = rng.choices(campaigns, [c.share for c in campaigns])[0]
        member = rng.choices(members, weights)[0]
        yield writer.letter(number, created_at, campaign, member, now)


class _LetterWriter:
    """Builds demo letters; caches the rendered text per template and MP, which is what varies."""

    def __init__(
        self,
        rng: random.Random,
        campaigns: Sequence[DemoCampaign],
        mail_from: Address,
        detailed: bool,
    ) -> None:
        self.rng = rng
        self.mail_from = mail_from
        self.detailed = detailed
        self.texts: dict[tuple[int, int], tuple[str, str]] = {}
        self.emails: dict[tuple[int, int], str] = {}
        self.titles = {campaign.id: campaign.title for campaign in campaigns}

    def letter(
        self,
        number: int,
        created_at: datetime,
        campaign: DemoCampaign,
        member: DemoMember,
        now: datetime,
    ) -> DemoLetter:
        rng = self.rng
        template = [t for t in campaign.templates if t.used_from <= created_at] or [
            campaign.templates[0]
        ]
        subject, body = self._text(template[-1], campaign, member)
        female = rng.random() < 0.5
        first = rng.choice(FEMALE_NAMES if female else MALE_NAMES)
        surname = rng.choice(SURNAMES)
        domain = rng.choice(("example.org", "example.com", "example.net"))
        supporter = Supporter(
            name=f"{first} {surname}",
            email=f"{first}.{surname}{number}@{domain}".lower().replace("'", ""),
            address=f"{rng.randint(1, 180)} {rng.choice(STREETS)}\n{member.constituency_name}",
            postcode=f"ZZ{rng.randint(1, 99)} {rng.randint(1, 9)}"
            f"{postcode_letter(rng)}{postcode_letter(rng)}",
        )
        row: dict[str, Any] = {
            "campaign_id": campaign.id,
            "template_id": template[-1].id,
            "mp_id": member.id,
            "mp_name": member.display_name,
            "mp_email": member.email,
            "mp_party": member.party_name,
            "constituency_id": member.constituency_id,
            "constituency_name": member.constituency_name,
            "supporter_name": supporter.name,
            "supporter_email": supporter.email,
            # Given here, not left to the model's default: the send-log bench COPYs these rows.
            "supporter_key": supporter_key(supporter.email),
            "supporter_address": supporter.address,
            "supporter_postcode": supporter.postcode,
            "send_copy": rng.random() < 0.7,
            "wants_updates": rng.random() < 0.4,
            "subject": subject,
            "body": body,
            "message_id": f"<demo.{number}.{rng.getrandbits(48):012x}@freetibet.example>",
            "created_at": created_at,
            "confirmed_at": None,
            "sent_at": None,
            "next_attempt_at": None,
            "lease_until": None,
            "attempt_count": 0,
            "confirmation_due_at": None,
            "confirmation_sent_at": None,
            "last_error": None,
            "sent_message": None,
        }
        letter = DemoLetter(row=row)
        _Story(self, letter, supporter, member, now).tell()
        return letter

    def _text(
        self, template: DemoTemplate, campaign: DemoCampaign, member: DemoMember
    ) -> tuple[str, str]:
        key = (template.id, member.id)
        if key not in self.texts:
            context = template_context(
                RecipientDetails(
                    name=member.display_name,
                    address_as=member.address_as,
                    full_title=member.full_title,
                    party=member.party_name,
                    constituency=member.constituency_name,
                ),
                campaign_title=campaign.title,
                campaign_url="https://freetibet.example/c/demo",
                today=template.used_from.date(),
            )
            self.texts[key] = (
                render_template(template.subject_template, context).strip(),
                render_template(template.body_template, context).strip(),
            )
        return self.texts[key]

    def sent_message(self, row: dict[str, Any], supporter: Supporter, sent_at: datetime) -> str:
        if self.detailed:
            return self._built_message(row, supporter, sent_at)
        key = (row["template_id"], row["mp_id"])
        if key not in self.emails:
            self.emails[key] = self._built_message(row, supporter, sent_at)
        return self.emails[key]

    def _built_message(self, row: dict[str, Any], supporter: Supporter, sent_at: datetime) -> str:
        message = build_letter_message(
            LetterEnvelope(
                message_id=row["message_id"],
                subject=row["subject"],
                body=row["body"],
                supporter=supporter,
                mp_name=row["mp_name"],
                mp_email=row["mp_email"],
                send_copy=row["send_copy"],
            ),
            self.mail_from,
            sent_on=sent_at,
        )
        return message.as_bytes(policy=SMTP).decode("utf-8")


class _Story:
    """What happened to one demo letter: its status, times, attempts and history."""

    def __init__(
        self,
        writer: _LetterWriter,
        letter: DemoLetter,
        supporter: Supporter,
        member: DemoMember,
        now: datetime,
    ) -> None:
        self.writer = writer
        self.rng = writer.rng
        self.letter = letter
        self.row = letter.row
        self.supporter = supporter
        self.member = member
        self.now = now

    def tell(self) -> None:
        created = self.row["created_at"]
        age = self.now - created
        recent = age < timedelta(hours=6)
        roll = self.rng.random()
        self._event(created, None, LetterStatus.AWAITING_CONFIRMATION, "written by the supporter")
        asked = self._later(created, 20, 120)
        self.row["confirmation_sent_at"] = asked
        self._attempt(EmailKind.CONFIRMATION, asked, AttemptOutcome.SENT, 250, self._queued_as())
        if roll < 0.10 or (recent and 0.14 <= roll < 0.40):
            self.row["status"] = LetterStatus.AWAITING_CONFIRMATION
            return
        if roll < 0.115:
            at = self._later(asked, 600, 86_400)
            note = "cancelled: the supporter asked us not to send it"
            self._event(at, LetterStatus.AWAITING_CONFIRMATION, LetterStatus.CANCELLED, note)
            self.row["status"] = LetterStatus.CANCELLED
            return
        confirmed = self._later(asked, 60, min(6 * 3600, max(61, int(age.total_seconds() * 0.5))))
        self.row["confirmed_at"] = confirmed
        self._event(
            confirmed,
            LetterStatus.AWAITING_CONFIRMATION,
            LetterStatus.QUEUED,
            "confirmed by the supporter",
        )
        if recent and 0.40 <= roll < 0.55:
            self.row["status"] = LetterStatus.QUEUED
            return
        claimed = self._later(confirmed, 1, 20)
        self._event(claimed, LetterStatus.QUEUED, LetterStatus.SENDING, "claimed by a worker")
        if roll < 0.14:
            self._fail(claimed)
        elif age < timedelta(hours=24) and 0.70 <= roll < 0.76:
            self._retrying(claimed)
        else:
            self._send(claimed)

    def _send(self, claimed: datetime) -> None:
        attempts = 1
        if self.rng.random() < 0.08:
            code, reply = self.rng.choice(_TEMPORARY_REPLIES)
            self._attempt(EmailKind.LETTER, claimed, AttemptOutcome.RETRY, code, reply)
            self._event(claimed, LetterStatus.SENDING, LetterStatus.RETRYING, f"{code} {reply}")
            claimed = min(claimed + DEMO_RETRY_POLICY.delay_after(1), self.now)
            self._event(claimed, LetterStatus.RETRYING, LetterStatus.SENDING, "claimed by a worker")
            attempts = 2
        sent_at = self._later(claimed, 0, 3)
        reply = self._queued_as()
        self._attempt(EmailKind.LETTER, sent_at, AttemptOutcome.SENT, 250, reply)
        self._event(sent_at, LetterStatus.SENDING, LetterStatus.SENT, f"250 {reply}")
        self.row.update(
            status=LetterStatus.SENT,
            sent_at=sent_at,
            attempt_count=attempts,
            sent_message=self.writer.sent_message(self.row, self.supporter, sent_at),
        )

    def _fail(self, claimed: datetime) -> None:
        if self.rng.random() < 0.6:
            code, template = self.rng.choice(_PERMANENT_REPLIES)
            text = template.format(email=self.member.email)
            self._attempt(EmailKind.LETTER, claimed, AttemptOutcome.FAILED, code, text)
            last_error = note = reply_note(AttemptResult(0, code, text))
            attempts = 1
        else:
            code, text = self.rng.choice(_TEMPORARY_REPLIES)
            attempts, claimed = self._refused_until_the_window_closes(claimed, code, text)
            last_error = reply_note(AttemptResult(0, code, text))
            window = in_hours(DEMO_RETRY_POLICY.window)
            note = f"gave up: refused for {window}, {attempts} attempts: {last_error}"
        self._event(claimed, LetterStatus.SENDING, LetterStatus.FAILED, note)
        self.row.update(status=LetterStatus.FAILED, attempt_count=attempts, last_error=last_error)

    def _refused_until_the_window_closes(
        self, claimed: datetime, code: int, text: str
    ) -> tuple[int, datetime]:
        """Attempts at the outbox's retry times until its window, from the first refusal, closes."""
        reply = reply_note(AttemptResult(0, code, text))
        deadline = claimed + DEMO_RETRY_POLICY.window
        at, attempts = claimed, 0
        while True:
            attempts += 1
            if at >= deadline:
                self._attempt(EmailKind.LETTER, at, AttemptOutcome.FAILED, code, text)
                return attempts, at
            self._attempt(EmailKind.LETTER, at, AttemptOutcome.RETRY, code, text)
            self._event(at, LetterStatus.SENDING, LetterStatus.RETRYING, reply)
            at = retry_time(DEMO_RETRY_POLICY, attempts, at, deadline)
            self._event(at, LetterStatus.RETRYING, LetterStatus.SENDING, "claimed by a worker")

    def _retrying(self, claimed: datetime) -> None:
        code, reply = self.rng.choice(_TEMPORARY_REPLIES)
        self._attempt(EmailKind.LETTER, claimed, AttemptOutcome.RETRY, code, reply)
        self._event(claimed, LetterStatus.SENDING, LetterStatus.RETRYING, f"{code} {reply}")
        self.row.update(status=LetterStatus.RETRYING, attempt_count=1, last_error=f"{code} {reply}")

    def _later(self, moment: datetime, low: int, high: int) -> datetime:
        return min(moment + timedelta(seconds=self.rng.randint(low, high)), self.now)

    def _queued_as(self) -> str:
        return f"2.0.0 Ok: queued as {self.rng.getrandbits(40):010X}"

    def _event(
        self, at: datetime, from_status: LetterStatus | None, to_status: LetterStatus, note: str
    ) -> None:
        if self.writer.detailed:
            self.letter.events.append(
                {"at": at, "from_status": from_status, "to_status": to_status, "note": note}
            )

    def _attempt(
        self, kind: EmailKind, at: datetime, outcome: AttemptOutcome, code: int, reply: str
    ) -> None:
        if self.writer.detailed:
            self.letter.attempts.append(
                {
                    "kind": kind,
                    "started_at": at,
                    "duration_ms": self.rng.randint(80, 900),
                    "outcome": outcome,
                    "smtp_code": code,
                    "smtp_reply": reply,
                }
            )
