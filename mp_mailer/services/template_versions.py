"""A campaign's letter template versions: saving the next, rolling back, listing, comparing."""

from __future__ import annotations

import difflib
import logging
import re
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from mp_mailer.db import transaction
from mp_mailer.errors import DomainError
from mp_mailer.letter_templates import TemplateProblem, check_template
from mp_mailer.models import Campaign, Letter, LetterTemplate
from mp_mailer.services.letters import current_template
from mp_mailer.services.template_checks import first_failure_for_any_mp

logger = logging.getLogger(__name__)

TEMPLATE_FIELDS = {"subject_template": "Subject", "body_template": "Letter"}


class VersionNotFound(Exception):
    pass


class TemplateRefused(DomainError):
    """A template that failed validation; nothing was saved. `field` names the form field."""

    def __init__(self, field: str, problem: TemplateProblem) -> None:
        super().__init__(f"{TEMPLATE_FIELDS[field]}: {problem}")
        self.field = field


def check_template_text(subject_template: str, body_template: str) -> None:
    """Raises TemplateRefused for the first of the two that fails the sandbox's checks."""
    for field, source in (("subject_template", subject_template), ("body_template", body_template)):
        try:
            check_template(source)
        except TemplateProblem as e:
            raise TemplateRefused(field, e) from e


def save_template(
    session: Session,
    campaign: Campaign,
    subject_template: str,
    body_template: str,
    note: str,
    created_by_id: int,
) -> LetterTemplate | None:
    """Save the text as the next version, which letters use from now on.

    Raises TemplateRefused (nothing saved, the previous version stays in use). Returns None when
    the text is the same as the current version's.
    """
    check_template_text(subject_template, body_template)
    failure = first_failure_for_any_mp(
        session, {"subject_template": subject_template, "body_template": body_template}
    )
    if failure is not None:
        raise TemplateRefused(*failure)
    current = current_template(session, campaign.id)
    if (current.subject_template, current.body_template) == (subject_template, body_template):
        return None
    with transaction(session):
        template = LetterTemplate(
            campaign_id=campaign.id,
            version=current.version + 1,
            subject_template=subject_template,
            body_template=body_template,
            created_by_id=created_by_id,
            note=note,
        )
        session.add(template)
    logger.info(
        "Letter template saved",
        extra={"campaign_id": campaign.id, "template_version": template.version},
    )
    return template


def roll_back_template(
    session: Session, campaign: Campaign, version: int, created_by_id: int
) -> LetterTemplate:
    """A new version with an old one's text. Raises VersionNotFound, or TemplateRefused when the
    old text would no longer pass today's checks."""
    old = get_version(session, campaign.id, version)
    template = save_template(
        session,
        campaign,
        old.subject_template,
        old.body_template,
        f"rolled back to version {version}",
        created_by_id,
    )
    return template or current_template(session, campaign.id)


def get_version(session: Session, campaign_id: int, version: int) -> LetterTemplate:
    """Raises VersionNotFound."""
    template = session.scalar(
        select(LetterTemplate).where(
            LetterTemplate.campaign_id == campaign_id, LetterTemplate.version == version
        )
    )
    if template is None:
        raise VersionNotFound(f"campaign {campaign_id} has no version {version}")
    return template


@dataclass(frozen=True)
class VersionSummary:
    template: LetterTemplate
    letters: int


def list_versions(session: Session, campaign_id: int) -> list[VersionSummary]:
    """Newest first, each with how many letters were written from it."""
    counts = dict(
        session.execute(
            select(Letter.template_id, func.count())
            .where(Letter.campaign_id == campaign_id)
            .group_by(Letter.template_id)
        ).all()
    )
    templates = session.scalars(
        select(LetterTemplate)
        .where(LetterTemplate.campaign_id == campaign_id)
        .order_by(LetterTemplate.version.desc())
    )
    return [VersionSummary(template, counts.get(template.id, 0)) for template in templates]


@dataclass(frozen=True)
class DiffLine:
    kind: str  # "added", "removed", "context" or "hunk"
    text: str


def diff_versions(old: LetterTemplate, new: LetterTemplate) -> list[DiffLine]:
    """What changed: the subject, then the letter in hunks headed by their line in the new
    version (the numbering error messages use). Empty when the texts are the same."""
    lines: list[DiffLine] = []
    if old.subject_template != new.subject_template:
        lines.append(DiffLine("hunk", "Subject"))
        lines.append(DiffLine("removed", old.subject_template))
        lines.append(DiffLine("added", new.subject_template))
    body = difflib.unified_diff(
        old.body_template.splitlines(), new.body_template.splitlines(), lineterm=""
    )
    kinds = {"+": "added", "-": "removed", " ": "context"}
    for line in body:
        if line.startswith(("---", "+++")):
            continue
        hunk = _HUNK.match(line)
        if hunk:
            lines.append(DiffLine("hunk", f"Letter, from line {hunk.group(1)}"))
        else:
            lines.append(DiffLine(kinds[line[0]], line[1:]))
    return lines


_HUNK = re.compile(r"@@ -\d+(?:,\d+)? \+(\d+)")
