"""Plain factories for test data: keyword defaults, any field can be overridden."""

from __future__ import annotations

import itertools
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.orm import Session
from werkzeug.security import generate_password_hash

from mp_mailer.db import utcnow
from mp_mailer.email_messages import new_message_id
from mp_mailer.models import (
    CachedConstituency,
    CachedMember,
    CachedPostcode,
    Campaign,
    CampaignStatus,
    Letter,
    LetterStatus,
    LetterTemplate,
    ReplyAnswer,
    ReplyCheck,
    User,
    UserRole,
)

TEST_PASSWORD = "correct horse battery staple"
_sequence = itertools.count(1)
# Cheap scrypt parameters: every login_as checks this hash, and the real cost (about 80 ms)
# would dominate the staff tests. Production hashes come from services.users.hash_password.
_password_hash = generate_password_hash(TEST_PASSWORD, method="scrypt:1024:8:1")


def create_user(session: Session, **overrides: Any) -> User:
    values: dict[str, Any] = {
        "email": f"user{next(_sequence)}@example.org",
        "password_hash": _password_hash,
        "role": UserRole.STAFF,
        "is_active": True,
    }
    values.update(overrides)
    user = User(**values)
    session.add(user)
    session.commit()
    return user


def create_campaign(session: Session, **overrides: Any) -> Campaign:
    number = next(_sequence)
    subject = overrides.pop("subject_template", "Please act, {{ mp.address_as }}")
    body = overrides.pop(
        "body_template",
        "Dear {{ mp.address_as }},\n\nAs a constituent in {{ constituency }} I ask you to act "
        "on {{ campaign.title }}. Thank you for reading my letter.",
    )
    values: dict[str, Any] = {
        "slug": f"campaign-{number}",
        "title": f"Campaign {number}",
        "status": CampaignStatus.LIVE,
        "intro_markdown": "Write to your MP about **this**.",
        "thank_you_text": "Thank you.",
        "share_text": "I wrote to my MP.",
        "petition_url": "https://example.org/petition",
        "is_default": False,
    }
    values.update(overrides)
    campaign = Campaign(**values)
    session.add(campaign)
    session.flush()
    session.add(
        LetterTemplate(
            campaign_id=campaign.id, version=1, subject_template=subject, body_template=body
        )
    )
    session.commit()
    return campaign


def cache_mp(
    session: Session, refreshed_at: datetime | None = None, **overrides: Any
) -> CachedMember:
    """An MP in the cache with a fresh contact, and the postcode SW1A 1AA pointing at their seat."""
    refreshed_at = refreshed_at or utcnow()
    postcode = overrides.pop("postcode", "SW1A 1AA")
    values: dict[str, Any] = {
        "id": 172,
        "display_name": "Ms Diane Abbott",
        "address_as": "Ms Abbott",
        "full_title": "Rt Hon Diane Abbott MP",
        "party_name": "Independent",
        "party_abbreviation": "Ind",
        "party_colour": "#909090",
        "constituency_id": 4074,
        "constituency_name": "Hackney North and Stoke Newington",
        "thumbnail_url": "https://members-api.parliament.uk/api/Members/172/Thumbnail",
        "is_current": True,
        "email": "diane.abbott.office@parliament.uk",
        "contact_page_url": "https://members.parliament.uk/member/172/contact",
        "contact_refreshed_at": refreshed_at,
        "refreshed_at": refreshed_at,
    }
    values.update(overrides)
    member = CachedMember(**values)
    session.add(member)
    session.flush()
    session.add(
        CachedConstituency(
            id=member.constituency_id,
            name=member.constituency_name,
            member_id=member.id,
            refreshed_at=refreshed_at,
        )
    )
    session.flush()
    if postcode:
        session.add(
            CachedPostcode(
                postcode=postcode, constituency_id=member.constituency_id, refreshed_at=refreshed_at
            )
        )
    session.commit()
    return member


def create_letter(session: Session, campaign: Campaign | None = None, **overrides: Any) -> Letter:
    campaign = campaign or create_campaign(session)
    number = next(_sequence)
    now = utcnow()
    values: dict[str, Any] = {
        "campaign_id": campaign.id,
        "template_id": campaign.templates[-1].id,
        "status": LetterStatus.QUEUED,
        "mp_id": 172,
        "mp_name": "Ms Diane Abbott",
        "mp_email": "diane.abbott.office@parliament.uk",
        "mp_party": "Independent",
        "constituency_id": 4074,
        "constituency_name": "Hackney North and Stoke Newington",
        "supporter_name": f"Supporter {number}",
        "supporter_email": f"supporter{number}@example.org",
        "supporter_address": "1 High Street\nLondon",
        "supporter_postcode": "SW1A 1AA",
        "subject": "Please sanction Chen Quanguo",
        "body": "Dear Ms Abbott,\n\nPlease press for sanctions.",
        "message_id": new_message_id("freetibet.example"),
        "created_at": now,
        "next_attempt_at": now,
    }
    values.update(overrides)
    letter = Letter(**values)
    session.add(letter)
    session.commit()
    return letter


def create_queued_letters(session: Session, campaign: Campaign, count: int) -> list[int]:
    """Many queued letters, due now, in one statement; returns their ids in due order."""
    now = utcnow()
    rows = []
    for _ in range(count):
        number = next(_sequence)
        rows.append(
            {
                "campaign_id": campaign.id,
                "template_id": campaign.templates[-1].id,
                "status": LetterStatus.QUEUED,
                "mp_id": 172,
                "mp_name": "Ms Diane Abbott",
                "mp_email": "diane.abbott.office@parliament.uk",
                "constituency_id": 4074,
                "constituency_name": "Hackney North and Stoke Newington",
                "supporter_name": f"Supporter {number}",
                "supporter_email": f"supporter{number}@example.org",
                "supporter_address": "1 High Street\nLondon",
                "supporter_postcode": "SW1A 1AA",
                "subject": "Please sanction Chen Quanguo",
                "body": "Dear Ms Abbott,\n\nPlease press for sanctions.",
                "message_id": new_message_id("freetibet.example"),
                "created_at": now,
                "next_attempt_at": now,
            }
        )
    session.execute(insert(Letter), rows)
    session.commit()
    return list(session.scalars(select(Letter.id).where(Letter.campaign_id == campaign.id)))


def create_sent_letter(
    session: Session, campaign: Campaign | None = None, **overrides: Any
) -> Letter:
    """A letter the relay accepted just now, as the worker leaves it."""
    now = utcnow()
    values: dict[str, Any] = {
        "status": LetterStatus.SENT,
        "confirmed_at": now,
        "sent_at": now,
        "next_attempt_at": None,
    }
    values.update(overrides)
    return create_letter(session, campaign, **values)


def create_reply_check(
    session: Session,
    letter: Letter,
    *,
    answer: ReplyAnswer | None = None,
    **overrides: Any,
) -> ReplyCheck:
    """A "has your MP replied?" email already sent about the letter, answered if `answer`."""
    sent_at = (letter.sent_at or utcnow()) + timedelta(days=14)
    values: dict[str, Any] = {
        "letter_id": letter.id,
        "round": 1,
        "created_at": sent_at,
        "sent_at": sent_at,
        "attempt_count": 0,
        "answer": answer,
        "answered_at": sent_at + timedelta(days=1) if answer else None,
        "reply_text_consent": False,
    }
    values.update(overrides)
    check = ReplyCheck(**values)
    session.add(check)
    session.commit()
    return check
