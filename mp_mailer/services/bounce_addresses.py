"""Each letter's own bounce address (VERP): signed, so returned mail maps to one letter and a
forged address is refused."""

from __future__ import annotations

import hashlib
import hmac
import re
from dataclasses import dataclass

# Lowercase hex only: mail systems may change the case of a local part, never its letters.
_SIGNATURE_LENGTH = 16
_TAGGED = re.compile(r"(?P<prefix>.+)\+(?P<letter_id>[0-9]{1,18})-(?P<signature>[0-9a-f]+)")


@dataclass(frozen=True)
class BounceAddresses:
    """Makes and reads `bounces+<letter id>-<signature>@domain` from BOUNCE_ADDRESS."""

    secret_key: str
    bounce_address: str

    @property
    def _parts(self) -> tuple[str, str]:
        local_part, _, domain = self.bounce_address.rpartition("@")
        return local_part, domain.lower()

    def for_letter(self, letter_id: int) -> str:
        local_part, domain = self._parts
        return f"{local_part}+{letter_id}-{self._signature(letter_id)}@{domain}"

    def letter_id_of(self, address: str) -> int | None:
        """The letter an address belongs to; None unless it is one of ours, correctly signed."""
        local_part, _, domain = address.strip().strip("<>").rpartition("@")
        own_local_part, own_domain = self._parts
        match = _TAGGED.fullmatch(local_part.lower())
        if match is None or domain.lower() != own_domain:
            return None
        if match["prefix"] != own_local_part.lower():
            return None
        letter_id = int(match["letter_id"])
        if not hmac.compare_digest(match["signature"], self._signature(letter_id)):
            return None
        return letter_id

    def _signature(self, letter_id: int) -> str:
        digest = hmac.new(
            self.secret_key.encode(), f"bounce-address:{letter_id}".encode(), hashlib.sha256
        )
        return digest.hexdigest()[:_SIGNATURE_LENGTH]
