"""Sender checks: SPF, DMARC and DKIM records of the sending domain, said in plain words, and
whether the published DKIM key matches the one mp_mailer signs with."""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass

import dkim.crypto

from mp_mailer.clients.dns_records import DnsLookupError, TxtLookup


@dataclass(frozen=True)
class Finding:
    name: str
    ok: bool
    says: str
    record: str = ""


@dataclass(frozen=True)
class SenderReport:
    domain: str
    findings: tuple[Finding, ...]

    @property
    def likely_trusted(self) -> bool:
        return all(finding.ok for finding in self.findings)

    def summary(self) -> str:
        if self.likely_trusted:
            return f"Mail from {self.domain} is likely to be trusted by MPs' mail systems."
        return (
            f"Mail from {self.domain} may be treated as spam or refused: fix what is marked below."
        )


@dataclass(frozen=True)
class DkimKey:
    selector: str
    domain: str
    private_key: bytes


def check_sender(
    resolver: TxtLookup, domain: str, relay_host: str, dkim_key: DkimKey | None
) -> SenderReport:
    findings = [_spf(resolver, domain, relay_host), _dmarc(resolver, domain)]
    if dkim_key is not None:
        findings.append(_dkim(resolver, dkim_key))
    return SenderReport(domain, tuple(findings))


def _lookup(resolver: TxtLookup, name: str, prefix: str) -> list[str] | str:
    try:
        records = resolver.txt(name)
    except DnsLookupError as e:
        return f"the DNS lookup of {name} failed ({e}); try again"
    return [record for record in records if record.lower().startswith(prefix)]


def _spf(resolver: TxtLookup, domain: str, relay_host: str) -> Finding:
    records = _lookup(resolver, domain, "v=spf1")
    if isinstance(records, str):
        return Finding("SPF", False, records)
    if not records:
        return Finding(
            "SPF",
            False,
            f"{domain} publishes no SPF record, so receiving servers cannot tell that your "
            "relay may send for it. Add one that includes your relay.",
        )
    if len(records) > 1:
        return Finding("SPF", False, f"{domain} has {len(records)} SPF records; keep exactly one.")
    record = records[0]
    if record.rstrip().endswith("+all"):
        return Finding("SPF", False, "The SPF record allows anyone to send (+all).", record)
    relay_domain = ".".join(relay_host.rsplit(".", 2)[-2:])
    mentions_relay = relay_domain.lower() in record.lower()
    says = (
        "SPF record found, and it names your relay's domain."
        if mentions_relay
        else f"SPF record found; check that it covers your relay ({relay_host})."
    )
    return Finding("SPF", True, says, record)


def _dmarc(resolver: TxtLookup, domain: str) -> Finding:
    records = _lookup(resolver, f"_dmarc.{domain}", "v=dmarc1")
    if isinstance(records, str):
        return Finding("DMARC", False, records)
    if not records:
        return Finding(
            "DMARC",
            False,
            f"{domain} publishes no DMARC policy; large mail systems treat such mail with "
            "suspicion. Start with v=DMARC1; p=none and move to quarantine.",
        )
    tags = _tags(records[0])
    policy = tags.get("p", "none")
    return Finding("DMARC", True, f"DMARC policy found (p={policy}).", records[0])


def _dkim(resolver: TxtLookup, key: DkimKey) -> Finding:
    name = f"{key.selector}._domainkey.{key.domain}"
    records = _lookup(resolver, name, "v=dkim1")
    if isinstance(records, str):
        return Finding("DKIM", False, records)
    if not records:
        # "v=DKIM1" is optional: a record with only k= and p= is valid too.
        records = [r for r in (_lookup_any(resolver, name)) if "p=" in r]
    if not records:
        return Finding(
            "DKIM",
            False,
            f"No DKIM key is published at {name}: publish the public half of DKIM_KEY_FILE.",
        )
    published = _tags(records[0]).get("p", "")
    if _same_key(published, key.private_key):
        return Finding(
            "DKIM", True, f"The key published at {name} matches the one we sign with.", records[0]
        )
    return Finding(
        "DKIM",
        False,
        f"The key published at {name} does not match DKIM_KEY_FILE: receivers will reject "
        "the signature. Publish the key's public half, or fix the selector.",
        records[0],
    )


def _lookup_any(resolver: TxtLookup, name: str) -> list[str]:
    try:
        return resolver.txt(name)
    except DnsLookupError:
        return []


def _tags(record: str) -> dict[str, str]:
    tags: dict[str, str] = {}
    for part in record.split(";"):
        tag, _, value = part.partition("=")
        if tag.strip():
            tags[tag.strip().lower()] = "".join(value.split())
    return tags


def _same_key(published_base64: str, private_pem: bytes) -> bool:
    try:
        public = dkim.crypto.parse_public_key(base64.b64decode(published_base64))
        private = dkim.crypto.parse_pem_private_key(private_pem)
    except (binascii.Error, ValueError, dkim.crypto.UnparsableKeyError):
        return False
    return bool(
        public["modulus"] == private["modulus"]
        and public["publicExponent"] == private["publicExponent"]
    )
