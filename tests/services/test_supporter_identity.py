"""Which spellings of an email address dedupe treats as one supporter."""

from __future__ import annotations

import pytest

from mp_mailer.services.supporter_identity import supporter_key


@pytest.mark.parametrize(
    ("address", "key"),
    [
        ("Jane@Example.org", "jane@example.org"),
        ("jane+1@example.org", "jane@example.org"),
        ("jane+mp+2@example.org", "jane@example.org"),
        ("j.ane@gmail.com", "jane@gmail.com"),
        ("J.Ane+x@GoogleMail.com", "jane@gmail.com"),
        # Dots matter at most providers: j.ane@ and jane@ may be two people.
        ("j.ane@example.org", "j.ane@example.org"),
        # A local part that is only a tag stays as it is rather than becoming empty.
        ("+tag@example.org", "+tag@example.org"),
    ],
)
def test_supporter_key_normalises_an_address_when_providers_document_it(
    address: str, key: str
) -> None:
    assert supporter_key(address) == key
