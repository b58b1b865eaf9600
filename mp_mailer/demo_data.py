"""Made-up MPs and letters for trying the staff pages (`mp-mailer seed-demo`) and for the send log
benchmark. Nothing here is real: seats are marked "(demo)" and every address is on a reserved
example domain, so no demo letter can reach a real inbox.

Not a service: only the seed-demo command (importing it lazily) and bench/ use it. About 700
lines, most of them name tables and letter texts; the story each letter tells is one job with
them."""

from __future__ import annotations

import random
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from email.headerregistry import Address
from email.policy import SMTP
from typing import Any

from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session

from mp_mailer.db import transaction
from mp_mailer.email_messages import LetterEnvelope, Supporter, build_letter_message
from mp_mailer.errors import DomainError
from mp_mailer.letter_templates import RecipientDetails, render_template, template_context
from mp_mailer.models import (
    AttemptOutcome,
    CachedConstituency,
    CachedMember,
    Campaign,
    CampaignStatus,
    DeliveryAttempt,
    EmailKind,
    Letter,
    LetterEvent,
    LetterStatus,
    LetterTemplate,
)
from mp_mailer.services.seed import BAN_CHEN_SLUG, seed_first_campaign

DEMO_MEMBER_ID_START = 900_001  # far above any id the Members API uses
DEMO_CAMPAIGN_SLUG = "demo-free-the-panchen-lama"
DEFAULT_DAYS = 30
DEMO_MAIL_FROM = Address("Free Tibet", "campaigns", "freetibet.example")

# Name, abbreviation, colour and seats, shaped like the House of Commons in 2024.
PARTIES: tuple[tuple[str, str, str, int], ...] = (
    ("Labour", "Lab", "#E4003B", 411),
    ("Conservative", "Con", "#0087DC", 121),
    ("Liberal Democrat", "LD", "#FAA61A", 72),
    ("Scottish National Party", "SNP", "#FDF38E", 9),
    ("Sinn Féin", "SF", "#326760", 7),
    ("Independent", "Ind", "#909090", 6),
    ("Democratic Unionist Party", "DUP", "#D46A4C", 5),
    ("Reform UK", "RUK", "#12B6CF", 5),
    ("Green Party", "Green", "#02A95B", 4),
    ("Plaid Cymru", "PC", "#005B54", 4),
    ("Social Democratic & Labour Party", "SDLP", "#2AA82C", 2),
    ("Alliance", "APNI", "#F6CB2F", 1),
    ("Ulster Unionist Party", "UUP", "#48A5EE", 1),
    ("Traditional Unionist Voice", "TUV", "#0C3A6A", 1),
    ("Speaker", "Spk", "#000000", 1),
)


def _words(text: str) -> tuple[str, ...]:
    return tuple(text.split())


_TOWN_STARTS = _words(
    "Ash Brack Chal Dun Elm Fern Glen Hal Ives Kings Lang Marl Nor Oak Pen Queens Rad Sal "
    "Thorn Up Wex Whit Wood Yar Bel Cold Dray Easter Fox Grey Hather Kirk Lin Mere Ros Sand "
    "Stan Tarn Wy Brad"
)
_TOWN_ENDS = _words(
    "ford bury ton ham well field wick mouth stead by more worth bridge minster cester hurst "
    "ley combe"
)
_QUARTERS = ("North", "South", "East", "West", "Central", "Mid", "Upper", "Vale of")
_FEMALE = _words(
    "Amira Anna Aisha Beth Bronwen Catherine Chloe Deborah Eilidh Emma Fatima Grace Hannah Imogen "
    "Jasmine Joanna Karen Leila Lucy Maria Megan Niamh Olivia Priya Rachel Ruth Sarah Siobhan "
    "Sophie Tamsin Yasmin Zara"
)
_MALE = _words(
    "Aaron Adam Ahmed Alistair Ben Callum Daniel David Dylan Euan Gareth Hamid Ian James Jonathan "
    "Kieran Liam Mark Matthew Mohammed Neil Oliver Owen Patrick Rajesh Rhys Robert Sam Simon "
    "Thomas Tom Usman"
)
_SURNAMES = _words(
    "Abbott Adeyemi Ahmed Baker Bennett Brown Campbell Chen Clarke Davies Doherty Evans Fraser "
    "Green Griffiths Hall Hughes Hussain Jackson Jones Kaur Kelly Khan Lewis MacDonald Martin "
    "Morgan Murphy Nowak Okafor O'Brien Owen Patel Phillips Price Quinn Rahman Reid Roberts "
    "Robinson Scott Shah Singh Smith Stewart Taylor Thomas Thompson Turner Walker Ward Watson "
    "White Williams Wilson Wood Wright Young Zhang"
)
_STREETS = (
    "High Street",
    "Church Road",
    "Station Road",
    "Victoria Road",
    "Mill Lane",
    "Park Avenue",
    "Queen Street",
    "Green Lane",
    "Manor Road",
    "The Crescent",
    "Orchard Close",
    "Castle Street",
)

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

DEMO_CAMPAIGN_INTRO = """\
**This is a demo campaign, made up by `mp-mailer seed-demo`.**

Gedhun Choekyi Nyima was recognised as the 11th Panchen Lama in 1995, at the age of six. Days later
he disappeared into Chinese state custody and has not been seen in public since. Ask your MP to
press for independent proof that he is alive and well.
"""
DEMO_SUBJECT = "Where is the Panchen Lama?"
DEMO_BODIES = (
    """\
Dear {{ mp.address_as }},

I am your constituent in {{ constituency }}. Gedhun Choekyi Nyima, the Panchen Lama, has been \
held by the Chinese authorities since 1995, when he was six years old.

Please ask the Foreign Secretary to press China for independent access to him.
""",
    """\
Dear {{ mp.address_as }},

As your constituent in {{ constituency }}, I am asking for your help. Gedhun Choekyi Nyima, the \
11th Panchen Lama, disappeared into Chinese custody in 1995 at the age of six and has not been \
seen in public since.

Please write to the Foreign Secretary asking the UK to demand independent proof that he is alive \
and well, and to raise his case at the UN Human Rights Council.
""",
)


class DemoRefused(DomainError):
    """seed-demo will not run on this database; `message` says why."""


@dataclass(frozen=True)
class DemoMember:
    id: int
    display_name: str
    address_as: str
    full_title: str
    party_name: str
    party_abbreviation: str
    party_colour: str
    constituency_id: int
    constituency_name: str
    email: str


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


@dataclass(frozen=True)
class DemoReport:
    members: int
    letters: int
    campaigns: list[str]


def demo_members(rng: random.Random) -> list[DemoMember]:
    """650 made-up current MPs, one per made-up seat, with parties in Commons proportions."""
    parties = [party for party in PARTIES for _ in range(party[3])]
    rng.shuffle(parties)
    seats = _seat_names(rng, len(parties))
    members = []
    for offset, ((party, abbreviation, colour, _), seat) in enumerate(
        zip(parties, seats, strict=True)
    ):
        female = rng.random() < 0.45
        first = rng.choice(_FEMALE if female else _MALE)
        surname = rng.choice(_SURNAMES)
        honorific = rng.choices(["", "Dr ", "Sir " if not female else "Dame "], [90, 6, 4])[0]
        address_as = (
            f"{honorific}{first}"
            if honorific in ("Sir ", "Dame ")
            else f"{honorific or ('Ms ' if female else 'Mr ')}{surname}"
        )
        members.append(
            DemoMember(
                id=DEMO_MEMBER_ID_START + offset,
                display_name=f"{honorific}{first} {surname}",
                address_as=address_as,
                full_title=f"{honorific}{first} {surname} MP",
                party_name=party,
                party_abbreviation=abbreviation,
                party_colour=colour,
                constituency_id=DEMO_MEMBER_ID_START + offset,
                constituency_name=f"{seat} (demo)",
                email=f"{first}.{surname}.mp{offset}@parliament.example".lower().replace("'", ""),
            )
        )
    return members


def _seat_names(rng: random.Random, count: int) -> list[str]:
    towns = [start + end for start in _TOWN_STARTS for end in _TOWN_ENDS]
    rng.shuffle(towns)
    names: set[str] = set()
    while len(names) < count:
        town = towns[len(names) % len(towns)]
        shape = rng.random()
        if shape < 0.45:
            names.add(town)
        elif shape < 0.75:
            names.add(f"{rng.choice(_QUARTERS)} {town}")
        else:
            names.add(f"{town} and {rng.choice(towns)}")
    return sorted(names)


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
    sent letter's stored email is built by email_messages, as the worker builds it.
    None is due for sending: a worker leaves them alone unless staff retry one.
    """
    moments = _writing_moments(rng, count, now, days)
    weights = [0.0 if rng.random() < 0.15 else rng.paretovariate(1.2) for _ in members]
    writer = _LetterWriter(rng, campaigns, mail_from, detailed)
    for number, created_at in enumerate(moments, start=1):
        campaign = rng.choices(campaigns, [c.share for c in campaigns])[0]
        member = rng.choices(members, weights)[0]
        yield writer.letter(number, created_at, campaign, member, now)


def _writing_moments(rng: random.Random, count: int, now: datetime, days: int) -> list[datetime]:
    # A launch spike a third of the way in, a quieter weekend, and most letters in the daytime.
    start = (now - timedelta(days=days - 1)).replace(hour=0, minute=0, second=0, microsecond=0)
    launch = days // 3
    day_weights = []
    for day in range(days):
        weight = 1.0 + (6.0 * 0.75 ** (day - launch) if day >= launch else 0.0)
        if (start + timedelta(days=day)).weekday() >= 5:
            weight *= 0.6
        day_weights.append(weight)
    hour_weights = [
        1,
        1,
        1,
        1,
        1,
        2,
        4,
        8,
        12,
        12,
        11,
        10,
        12,
        12,
        10,
        9,
        9,
        10,
        13,
        14,
        12,
        8,
        4,
        2,
    ]
    chosen_days = rng.choices(range(days), day_weights, k=count)
    chosen_hours = rng.choices(range(24), hour_weights, k=count)
    moments = [
        start + timedelta(days=day, hours=hour, seconds=rng.randrange(3600))
        for day, hour in zip(chosen_days, chosen_hours, strict=True)
    ]
    moments = [
        moment if moment <= now else now - timedelta(seconds=rng.randrange(3600))
        for moment in moments
    ]
    moments.sort()
    return moments


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
        first = rng.choice(_FEMALE if female else _MALE)
        surname = rng.choice(_SURNAMES)
        domain = rng.choice(("example.org", "example.com", "example.net"))
        supporter = Supporter(
            name=f"{first} {surname}",
            email=f"{first}.{surname}{number}@{domain}".lower().replace("'", ""),
            address=f"{rng.randint(1, 180)} {rng.choice(_STREETS)}\n{member.constituency_name}",
            postcode=f"ZZ{rng.randint(1, 99)} {rng.randint(1, 9)}{_letters(rng)}{_letters(rng)}",
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


def _letters(rng: random.Random) -> str:
    return rng.choice("ABDEFGHJLNPQRSTUWXYZ")


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
            claimed = self._later(claimed, 60, 120)
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
            reply = template.format(email=self.member.email)
            self._attempt(EmailKind.LETTER, claimed, AttemptOutcome.FAILED, code, reply)
            note = f"{code} {reply}"
            attempts = 1
        else:
            code, reply = self.rng.choice(_TEMPORARY_REPLIES)
            attempts = 8
            at = claimed
            for attempt in range(1, attempts + 1):
                outcome = AttemptOutcome.FAILED if attempt == attempts else AttemptOutcome.RETRY
                self._attempt(EmailKind.LETTER, at, outcome, code, reply)
                if attempt < attempts:
                    self._event(at, LetterStatus.SENDING, LetterStatus.RETRYING, f"{code} {reply}")
                    at = at + timedelta(minutes=2**attempt)
                    self._event(
                        at, LetterStatus.RETRYING, LetterStatus.SENDING, "claimed by a worker"
                    )
            claimed = at
            note = f"gave up after {attempts} attempts: {code} {reply}"
        self._event(claimed, LetterStatus.SENDING, LetterStatus.FAILED, note)
        self.row.update(
            status=LetterStatus.FAILED,
            attempt_count=attempts,
            last_error=note.removeprefix(f"gave up after {attempts} attempts: "),
        )

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


# Writing the demo into a database ---------------------------------------------------------------


def seed_demo(
    session: Session,
    letter_count: int,
    now: datetime,
    *,
    mail_from: Address = DEMO_MAIL_FROM,
    seed: int = 1995,
) -> DemoReport:
    """Add made-up MPs, a demo campaign and `letter_count` letters, all in one transaction.

    Raises DemoRefused unless the database has no letters yet, so demo letters never mix with
    real ones and running it twice adds nothing.
    """
    existing = session.scalar(select(func.count()).select_from(Letter)) or 0
    if existing:
        raise DemoRefused(
            f"This database already has {existing:,} letters, so nothing was added. seed-demo only "
            "fills an empty database, so demo letters never mix with real ones."
        )
    rng = random.Random(seed)
    with transaction(session):
        campaigns, members = prepare_demo(session, rng, now)
        letters = generate_letters(rng, letter_count, campaigns, members, now, mail_from=mail_from)
        batch: list[DemoLetter] = []
        for letter in letters:
            batch.append(letter)
            if len(batch) == 500:
                _insert(session, batch)
                batch = []
        _insert(session, batch)
    return DemoReport(
        members=len(members), letters=letter_count, campaigns=[c.title for c in campaigns]
    )


def prepare_demo(
    session: Session, rng: random.Random, now: datetime
) -> tuple[list[DemoCampaign], list[DemoMember]]:
    """The campaigns demo letters go to (Ban Chen Quanguo and a demo one) and the made-up MPs,
    adding whichever are missing. Does not commit."""
    seed_first_campaign(session)
    members = demo_members(rng)
    campaigns = [_campaign(session, BAN_CHEN_SLUG, 0.75), _demo_campaign(session, now, 0.25)]
    if session.get(CachedMember, DEMO_MEMBER_ID_START) is None:
        _add_members(session, members, now)
    return campaigns, members


def _campaign(session: Session, slug: str, share: float) -> DemoCampaign:
    campaign = session.scalars(select(Campaign).where(Campaign.slug == slug)).one()
    templates = [
        DemoTemplate(t.id, t.subject_template, t.body_template, t.created_at)
        for t in campaign.templates
    ]
    return DemoCampaign(id=campaign.id, title=campaign.title, templates=templates, share=share)


def _demo_campaign(session: Session, now: datetime, share: float) -> DemoCampaign:
    if session.scalar(select(Campaign.id).where(Campaign.slug == DEMO_CAMPAIGN_SLUG)) is None:
        started = now - timedelta(days=DEFAULT_DAYS + 1)
        campaign = Campaign(
            slug=DEMO_CAMPAIGN_SLUG,
            title="Free the Panchen Lama (demo)",
            status=CampaignStatus.LIVE,
            intro_markdown=DEMO_CAMPAIGN_INTRO,
            thank_you_text="Thank you for writing. (This is a demo campaign.)",
            share_text="I wrote to my MP about the Panchen Lama.",
            created_at=started,
        )
        session.add(campaign)
        session.flush()
        for version, (body, when, note) in enumerate(
            [
                (DEMO_BODIES[0], started, "first version"),
                (DEMO_BODIES[1], now - timedelta(days=DEFAULT_DAYS // 2), "asks for UN action"),
            ],
            start=1,
        ):
            session.add(
                LetterTemplate(
                    campaign_id=campaign.id,
                    version=version,
                    subject_template=DEMO_SUBJECT,
                    body_template=body,
                    created_at=when,
                    note=note,
                )
            )
        session.flush()
        session.refresh(campaign)
    return _campaign(session, DEMO_CAMPAIGN_SLUG, share)


def _add_members(session: Session, members: Sequence[DemoMember], now: datetime) -> None:
    session.execute(
        insert(CachedMember),
        [
            {
                "id": m.id,
                "display_name": m.display_name,
                "address_as": m.address_as,
                "full_title": m.full_title,
                "party_name": m.party_name,
                "party_abbreviation": m.party_abbreviation,
                "party_colour": m.party_colour,
                "constituency_id": m.constituency_id,
                "constituency_name": m.constituency_name,
                "is_current": True,
                "email": m.email,
                "contact_refreshed_at": now,
                "refreshed_at": now,
            }
            for m in members
        ],
    )
    session.execute(
        insert(CachedConstituency),
        [
            {
                "id": m.constituency_id,
                "name": m.constituency_name,
                "member_id": m.id,
                "refreshed_at": now,
            }
            for m in members
        ],
    )


def _insert(session: Session, batch: Sequence[DemoLetter]) -> None:
    if not batch:
        return
    ids = session.scalars(
        insert(Letter).returning(Letter.id, sort_by_parameter_order=True),
        [letter.row for letter in batch],
    ).all()
    attempts = [
        {**attempt, "letter_id": letter_id}
        for letter_id, letter in zip(ids, batch, strict=True)
        for attempt in letter.attempts
    ]
    events = [
        {**event, "letter_id": letter_id}
        for letter_id, letter in zip(ids, batch, strict=True)
        for event in letter.events
    ]
    if attempts:
        session.execute(insert(DeliveryAttempt), attempts)
    if events:
        session.execute(insert(LetterEvent), events)
