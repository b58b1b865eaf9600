"""TxtResolver: TXT records by name (dnspython), typed; "no such record" is an empty list."""

from __future__ import annotations

from typing import Protocol

import dns.exception
import dns.resolver


class DnsLookupError(Exception):
    """The lookup could not be answered (timeout, no server): not the same as "no record"."""


class TxtLookup(Protocol):
    def txt(self, name: str) -> list[str]: ...


class TxtResolver:
    """The system's resolver; tests pass a stub with the same `txt` method instead."""

    def __init__(self, timeout: float = 5.0) -> None:
        self._resolver = dns.resolver.Resolver()
        self._resolver.lifetime = timeout

    def txt(self, name: str) -> list[str]:
        try:
            answer = self._resolver.resolve(name, "TXT")
        except (dns.resolver.NXDOMAIN, dns.resolver.NoAnswer):
            return []
        except dns.exception.DNSException as e:
            raise DnsLookupError(f"{type(e).__name__}: {e}") from e
        # A TXT record may be split into several strings; they are one value.
        return [b"".join(record.strings).decode("utf-8", "replace") for record in answer]
