"""Writing the demo into an empty database (`mp-mailer seed-demo`): the made-up MPs, a demo
campaign beside Ban Chen Quanguo, and the letters, in one transaction."""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.headerregistry import Address
from typing import Any

from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session

from mp_mailer.db import transaction, utcnow
from mp_mailer.demo.people import DEMO_MEMBER_ID_START, DemoMember, demo_members
from mp_mailer.demo.stories import (
    DEFAULT_DAYS,
    DEMO_MAIL_FROM,
    DemoCampaign,
    DemoLetter,
    DemoTemplate,
    generate_letters,
)
from mp_mailer.errors import DomainError
from mp_mailer.models import (
    CachedConstituency,
    CachedMember,
    Campaign,
    CampaignStatus,
    DeliveryAttempt,
    Letter,
    LetterEvent,
    LetterTemplate,
    ReplyAnswer,
    ReplyCheck,
)
from mp_mailer.services.reply_checks import RECEIVED_STATUSES
from mp_mailer.services.seed import BAN_CHEN_SLUG, seed_first_campaign

DEMO_CAMPAIGN_SLUG = "demo-free-the-panchen-lama"


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
class DemoReport:
    members: int
    letters: int
    campaigns: list[str]


def seed_demo(
    session: Session,
    letter_count: int,
    now: datetime,
    *,
    mail_from: Address = DEMO_MAIL_FROM,
    seed: int = 1995,
    progress: Callable[[int], None] | None = None,
) -> DemoReport:
    """Add made-up MPs, a demo campaign and `letter_count` letters, all in one transaction.

    Raises DemoRefused unless the database has no letters yet, so demo letters never mix with
    real ones and running it twice adds nothing. `progress` hears how many letters are written
    so far, after every batch.
    """
    refuse_unless_empty(session)
    rng = random.Random(seed)
    written = 0
    with transaction(session):
        campaigns, members = prepare_demo(session, rng, now)
        letters = generate_letters(rng, letter_count, campaigns, members, now, mail_from=mail_from)
        batch: list[DemoLetter] = []
        for letter in letters:
            batch.append(letter)
            if len(batch) == 500:
                _insert(session, batch)
                written += len(batch)
                batch = []
                if progress is not None:
                    progress(written)
        _insert(session, batch)
        if progress is not None:
            progress(written + len(batch))
    return DemoReport(
        members=len(members), letters=letter_count, campaigns=[c.title for c in campaigns]
    )


def refuse_unless_empty(session: Session) -> None:
    """Raises DemoRefused when the database has letters: demo ones must never mix with real ones."""
    existing = session.scalar(select(func.count()).select_from(Letter)) or 0
    if existing:
        raise DemoRefused(
            f"This database already has {existing:,} letters, so nothing was added. seed-demo only "
            "fills an empty database, so demo letters never mix with real ones."
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
    checks = [
        check
        for letter_id, letter in zip(ids, batch, strict=True)
        if (check := _demo_reply_check(letter_id, letter.row, utcnow())) is not None
    ]
    if checks:
        session.execute(insert(ReplyCheck), checks)


DEMO_ANSWERS = (ReplyAnswer.YES, ReplyAnswer.NO, None, ReplyAnswer.YES, None)


def _demo_reply_check(letter_id: int, row: dict[str, Any], now: datetime) -> dict[str, Any] | None:
    """Every received demo letter gets its reply check already settled, so the worker never asks
    a demo supporter: asked and perhaps answered once the days have passed, else given up."""
    sent_at = row.get("sent_at")
    if row["status"] not in RECEIVED_STATUSES or sent_at is None:
        return None
    asked_at = sent_at + timedelta(days=14)
    asked = asked_at <= now
    answered_at = asked_at + timedelta(days=1 + letter_id % 9)
    answer = DEMO_ANSWERS[letter_id % len(DEMO_ANSWERS)] if answered_at <= now else None
    return {
        "letter_id": letter_id,
        "round": 1,
        "created_at": asked_at if asked else now,
        "due_at": None,
        "sent_at": asked_at if asked else None,
        "attempt_count": 0,
        "answer": answer,
        "answered_at": answered_at if answer else None,
        "reply_text_consent": False,
    }
