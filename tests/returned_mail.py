"""Realistic returned mail (tests/fixtures/returned_mail/), filled in for one letter."""

from __future__ import annotations

from pathlib import Path

from mp_mailer.models import Letter

FIXTURES = Path(__file__).parent / "fixtures" / "returned_mail"


def returned_mail(name: str, letter: Letter, bounce_address: str) -> bytes:
    """The fixture `name`.eml as it would come back for `letter` to `bounce_address`."""
    text = (FIXTURES / f"{name}.eml").read_text()
    filled = text.format(
        bounce_address=bounce_address,
        mp_email=letter.mp_email,
        supporter_email=letter.supporter_email,
    )
    return filled.replace("\n", "\r\n").encode()
