"""Site-wide text staff edit, such as the privacy notice; a default until someone does."""

from __future__ import annotations

from sqlalchemy.orm import Session

from mp_mailer.db import transaction
from mp_mailer.models import SitePage

PRIVACY = "privacy"
MAX_PAGE_LENGTH = 50_000


def default_privacy_notice(organisation: str) -> str:
    """What the privacy page says until an admin writes the organisation's own."""
    return f"""## Who we are

**{organisation}** runs this site and is the data controller for the details you give us.

## What we collect and why

When you write to your MP we keep your name, email address, postal address and postcode, and the
letter you wrote. We send your letter, with your name, address and email, to your MP: MPs act only
for their own constituents, and reply to you directly. We keep your details for 180 days after
you write, then delete them; we keep only the number of letters sent.

If you ask for campaign updates, {organisation} will email you about its campaigns. You can
unsubscribe at any time.

## Your rights

You can ask us for a copy of your details, or to delete them. Every email we send you has a link
that deletes your details straight away. A letter already sent to your MP stays with your MP.
"""


def page_text(session: Session, slug: str) -> str | None:
    page = session.get(SitePage, slug)
    return page.body_markdown if page is not None else None


def save_page(session: Session, slug: str, text: str, user_id: int) -> None:
    with transaction(session):
        page = session.get(SitePage, slug) or SitePage(slug=slug)
        page.body_markdown = text
        page.updated_by_id = user_id
        session.add(page)
