"""A template checked against every cached MP before it goes live, so no supporter's letter
page fails for one MP's name, party or missing fields."""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import replace
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from mp_mailer.letter_templates import (
    SAMPLE_CONTEXT,
    RecipientDetails,
    TemplateProblem,
    render_template,
    template_context,
)
from mp_mailer.models import CachedMember

# All the MPs together (about 650 renders of each text); a normal letter takes about a second.
MAX_CHECK_SECONDS = 10.0
# The fields Parliament may leave empty, as the letter page then sees them.
_EMPTY_FIELDS = RecipientDetails(
    name="", address_as="", full_title=None, party=None, constituency=""
)
_SAMPLE_CAMPAIGN = SAMPLE_CONTEXT["campaign"]
_LONGEST_DATE = date(2026, 9, 30)


def first_failure_for_any_mp(
    session: Session, sources: dict[str, str]
) -> tuple[str, TemplateProblem] | None:
    """Render each source (by form field name) for every current cached MP, and for MPs with
    every optional field empty; the first field that fails and why, or None if all render."""
    deadline = time.monotonic() + MAX_CHECK_SECONDS
    for who, recipient in _recipients(session):
        context = template_context(
            recipient,
            campaign_title=_SAMPLE_CAMPAIGN["title"],
            campaign_url=_SAMPLE_CAMPAIGN["url"],
            today=_LONGEST_DATE,
        )
        for field, source in sources.items():
            try:
                render_template(source, context)
            except TemplateProblem as e:
                return field, TemplateProblem(f"for {who}, {e.message}", e.line)
        if time.monotonic() > deadline:
            return next(iter(sources)), TemplateProblem(
                f"filling the letter in for every MP took longer than {MAX_CHECK_SECONDS:.0f} "
                "seconds: simplify the template"
            )
    return None


def _recipients(session: Session) -> Iterator[tuple[str, RecipientDetails]]:
    yield "an MP whose title, party and constituency are not known", _EMPTY_FIELDS
    yield "an MP with a one-letter name", replace(_EMPTY_FIELDS, name="A", address_as="A")
    rows = session.execute(
        select(
            CachedMember.display_name,
            CachedMember.address_as,
            CachedMember.full_title,
            CachedMember.party_name,
            CachedMember.constituency_name,
        ).where(CachedMember.is_current.is_(True))
    )
    for name, address_as, full_title, party, constituency in rows:
        yield (
            name,
            RecipientDetails(
                name=name,
                address_as=address_as,
                full_title=full_title,
                party=party,
                constituency=constituency or "",
            ),
        )
