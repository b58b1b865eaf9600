"""DkimSigner: a DKIM-Signature (dkimpy) over the exact bytes of each outgoing email."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import dkim

# The headers a receiving filter needs to trust as ours; absent ones are signed as absent, so
# they cannot be added later (oversigning, RFC 6376 section 8.15).
SIGNED_HEADERS = (
    b"from",
    b"to",
    b"cc",
    b"subject",
    b"date",
    b"message-id",
    b"reply-to",
    b"mime-version",
    b"content-type",
    b"content-transfer-encoding",
)


class DkimKeyError(ValueError):
    """The configured private key cannot be read or used for signing."""


@dataclass(frozen=True)
class DkimSigner:
    selector: str
    domain: str
    private_key: bytes

    @classmethod
    def from_key_file(cls, selector: str, domain: str, key_file: Path) -> DkimSigner:
        try:
            private_key = key_file.read_bytes()
        except OSError as e:
            raise DkimKeyError(f"cannot read the DKIM key file: {e.strerror}") from e
        signer = cls(selector, domain, private_key)
        # Fail at start-up, not on the first letter.
        signer.sign(b"From: a@example.org\r\nSubject: check\r\n\r\nkey check\r\n")
        return signer

    def sign(self, content: bytes) -> bytes:
        """`content` with a DKIM-Signature header prepended (relaxed/relaxed, rsa-sha256)."""
        try:
            signature = dkim.sign(
                content,
                self.selector.encode(),
                self.domain.encode(),
                self.private_key,
                canonicalize=(b"relaxed", b"relaxed"),
                include_headers=list(SIGNED_HEADERS),
            )
        except dkim.DKIMException as e:
            raise DkimKeyError(f"the DKIM key cannot sign: {e}") from e
        return bytes(signature) + content
