"""When two email addresses are one supporter: the dedupe key a letter is stored under.

The choice, documented in README.md: every address is compared in lower case; a "+tag" after
the local part is dropped for every provider (RFC 5233 subaddressing: Gmail, Outlook, iCloud,
Fastmail, Proton and most others deliver jane+x@ to jane@, and no large provider gives "+" any
other meaning); dots in the local part are dropped, and googlemail.com read as gmail.com, only for
Google's consumer addresses, the one large provider that documents dots as ignored. Other
providers' dots are kept: at most providers j.ane@ and jane@ are different people."""

from __future__ import annotations

GMAIL_DOMAINS = frozenset({"gmail.com", "googlemail.com"})


def supporter_key(email: str) -> str:
    """The address as dedupe sees it: 'J.Ane+mp@GoogleMail.com' -> 'jane@gmail.com'."""
    local_part, at, domain = email.strip().lower().rpartition("@")
    if not at:
        return email.strip().lower()
    local_part = local_part.split("+", 1)[0] or local_part
    if domain in GMAIL_DOMAINS:
        local_part = local_part.replace(".", "")
        domain = "gmail.com"
    return f"{local_part}@{domain}"
