"""Reading what came back to a bounce address: delivery status notifications (RFC 3464), the
common plain-text bounces, and automatic replies (RFC 3834 and the usual wording)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from email import message_from_bytes, policy
from email.message import EmailMessage, Message

from mp_mailer.models import ReturnedMailKind

MAX_REASON = 1000

# Status codes that are permanent in form but, by common practice, pass: a full mailbox (5.2.2)
# empties, so the letter may still arrive on a later try by the MP's own server.
_SOFT_PERMANENT_STATUSES = ("5.2.2",)
_ENHANCED_STATUS = re.compile(r"\b([245])\.(\d{1,3})\.(\d{1,3})\b")
_REPLY_CODE = re.compile(r"\b([45])\d\d\b")
_HARD_WORDING = re.compile(
    r"user unknown|unknown user|no such (user|mailbox|recipient|address)|does not exist|"
    r"doesn't exist|mailbox unavailable|recipient address rejected|address rejected|"
    r"invalid recipient|not a valid mailbox|no mailbox|account (has been )?disabled|"
    r"permanent error|permanent failure|domain not found|host not found|"
    r"unrouteable address|relay access denied",
    re.IGNORECASE,
)
_SOFT_WORDING = re.compile(
    r"mailbox (is )?full|over quota|quota exceeded|insufficient storage|try again later|"
    r"temporar(y|ily)|deferred|delayed|will (be )?retr(y|ied)|still trying",
    re.IGNORECASE,
)
_BOUNCE_SUBJECT = re.compile(
    r"undeliver|undelivered|delivery (status notification|failure|has failed)|"
    r"mail delivery (failed|failure|subsystem)|returned mail|failure notice|"
    r"delivery status|could not be delivered|non[- ]?delivery",
    re.IGNORECASE,
)
_BOUNCE_SENDER = re.compile(r"mailer-daemon|postmaster|mail delivery (system|subsystem)", re.I)
_OUT_OF_OFFICE_WORDING = re.compile(
    r"out of (the )?office|away from (the |my )?(office|desk)|on (annual )?leave|on holiday|"
    r"currently away|limited access to (my )?email|return(ing)? on|back in the office",
    re.IGNORECASE,
)
_AUTO_REPLY_SUBJECT = re.compile(
    r"^\s*(automatic reply|auto[- ]?reply|autoreply|auto[- ]?response|out of office)",
    re.IGNORECASE,
)
_ACKNOWLEDGEMENT_WORDING = re.compile(
    r"thank you for (contacting|your (e-?mail|message|correspondence))|"
    r"thanks for (contacting|your (e-?mail|message))|"
    r"(we|i) have received your (e-?mail|message|correspondence)|"
    r"(this|your) (e-?mail|message) has been received|acknowledge receipt",
    re.IGNORECASE,
)
_ADDRESS = re.compile(r"<?([^\s<>@\"';:,()]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,})>?")


@dataclass(frozen=True)
class ParsedReturn:
    """What a returned message says: its kind, why (for a bounce), and who it failed for."""

    kind: ReturnedMailKind
    reason: str
    failed_recipients: tuple[str, ...] = ()
    message_id: str | None = None


def parse_returned_mail(raw: bytes) -> ParsedReturn:
    """Classify a message that came back to a bounce address. Never raises for bad input."""
    message = message_from_bytes(raw, policy=policy.default)
    assert isinstance(message, EmailMessage)
    message_id = _header(message, "Message-ID") or None
    report = _delivery_status(message)
    if report is not None:
        kind, reason, recipients = _from_delivery_status(report)
        return ParsedReturn(kind, reason, recipients, message_id)
    if _looks_like_bounce(message):
        kind, reason, recipients = _from_plain_bounce(_first_text(message))
        return ParsedReturn(kind, reason, recipients, message_id)
    if _is_automatic_reply(message):
        return ParsedReturn(
            _automatic_reply_kind(message), _header(message, "Subject"), (), message_id
        )
    return ParsedReturn(ReturnedMailKind.UNRECOGNISED, _header(message, "Subject"), (), message_id)


def _header(message: Message, name: str) -> str:
    try:
        value = message.get(name)
    except (ValueError, IndexError):
        # A header the email package cannot parse is as good as missing.
        return ""
    return " ".join(str(value).split()) if value is not None else ""


# --- RFC 3464 delivery status notifications ------------------------------------------------


def _delivery_status(message: Message) -> list[Message] | None:
    """The per-message and per-recipient field groups of a message/delivery-status part."""
    for part in message.walk():
        if part.get_content_type() == "message/delivery-status":
            groups = part.get_payload()
            if isinstance(groups, list):
                return [group for group in groups if isinstance(group, Message)]
        if part.get_content_type() == "message/rfc822" and part is not message:
            # The nested original: its own parts are not the report's.
            break
    return None


def _from_delivery_status(groups: list[Message]) -> tuple[ReturnedMailKind, str, tuple[str, ...]]:
    hard: list[tuple[str, str]] = []
    soft: list[tuple[str, str]] = []
    for group in groups[1:] or groups:
        action = _header(group, "Action").lower()
        status = _header(group, "Status")
        recipient = _address_in(
            _header(group, "Final-Recipient") or _header(group, "Original-Recipient")
        )
        diagnostic = _header(group, "Diagnostic-Code")
        reason = _reason(status, diagnostic, action)
        if action == "failed" and status.startswith("5") and status not in _SOFT_PERMANENT_STATUSES:
            hard.append((recipient, reason))
        elif action in ("failed", "delayed"):
            soft.append((recipient, reason))
    if hard:
        return ReturnedMailKind.HARD_BOUNCE, hard[0][1], tuple(r for r, _ in hard if r)
    if soft:
        return ReturnedMailKind.SOFT_BOUNCE, soft[0][1], tuple(r for r, _ in soft if r)
    return ReturnedMailKind.UNRECOGNISED, "a delivery report that reports no failure", ()


def _reason(status: str, diagnostic: str, action: str) -> str:
    # "smtp; 550 5.1.1 ..." names its type first; the reader wants the mail server's words.
    diagnostic = re.sub(r"^\s*[a-z-]+\s*;\s*", "", diagnostic, flags=re.IGNORECASE)
    parts = [part for part in (status, diagnostic) if part]
    return (" ".join(parts) or action or "no reason given")[:MAX_REASON]


def _address_in(field: str) -> str:
    # "rfc822; jane@example.org"
    _, _, address = field.rpartition(";")
    return address.strip().strip("<>").lower()


# --- Plain-text bounces (qmail, Exim, older Exchange, ...) ---------------------------------


def _looks_like_bounce(message: Message) -> bool:
    if _BOUNCE_SUBJECT.search(_header(message, "Subject")):
        return True
    sender = _header(message, "From") + " " + _header(message, "Return-Path")
    return bool(_BOUNCE_SENDER.search(sender)) and not _header(message, "In-Reply-To")


def _first_text(message: Message) -> str:
    for part in message.walk():
        if part.get_content_type() == "message/rfc822":
            break
        if part.get_content_type() == "text/plain" and isinstance(part, EmailMessage):
            try:
                content = part.get_content()
            except (LookupError, ValueError):
                continue
            if isinstance(content, str):
                return content
    return ""


def _from_plain_bounce(text: str) -> tuple[ReturnedMailKind, str, tuple[str, ...]]:
    # The original message is often quoted below the explanation: read only up to it.
    text = re.split(
        r"^-{2,}.*(original message|below this line).*$",
        text,
        maxsplit=1,
        flags=re.IGNORECASE | re.MULTILINE,
    )[0]
    diagnostic = _diagnostic_line(text)
    recipients = tuple(dict.fromkeys(m.lower() for m in _ADDRESS.findall(text)))
    status = _ENHANCED_STATUS.search(diagnostic or text)
    code = _REPLY_CODE.search(diagnostic or "")
    first_digit = status.group(1) if status else (code.group(1) if code else "")
    reason = (diagnostic or "the message could not be delivered")[:MAX_REASON]
    if status and status.group(0) in _SOFT_PERMANENT_STATUSES:
        return ReturnedMailKind.SOFT_BOUNCE, reason, recipients
    if first_digit == "5":
        return ReturnedMailKind.HARD_BOUNCE, reason, recipients
    if first_digit == "4" or _SOFT_WORDING.search(diagnostic or text):
        return ReturnedMailKind.SOFT_BOUNCE, reason, recipients
    if _HARD_WORDING.search(text):
        return ReturnedMailKind.HARD_BOUNCE, reason, recipients
    return ReturnedMailKind.UNRECOGNISED, reason, recipients


def _diagnostic_line(text: str) -> str:
    """The line quoting the remote server's refusal, or else the line explaining the failure."""
    lines = [" ".join(line.split()) for line in text.splitlines() if line.strip()]
    for line in lines:
        if _REPLY_CODE.search(line) and (
            _ENHANCED_STATUS.search(line)
            or _HARD_WORDING.search(line)
            or _SOFT_WORDING.search(line)
        ):
            return line
    for line in lines:
        if _HARD_WORDING.search(line) or _SOFT_WORDING.search(line):
            return line
    return ""


# --- Automatic replies (RFC 3834) ------------------------------------------------------------


def _is_automatic_reply(message: Message) -> bool:
    auto_submitted = _header(message, "Auto-Submitted").lower()
    if auto_submitted and auto_submitted != "no":
        return True
    if _header(message, "X-Autoreply") or _header(message, "X-Autorespond"):
        return True
    if _header(message, "Precedence").lower() in ("auto_reply", "auto-reply"):
        return True
    if _AUTO_REPLY_SUBJECT.search(_header(message, "Subject")):
        return True
    return bool(_ACKNOWLEDGEMENT_WORDING.search(_first_text(message)[:2000]))


def _automatic_reply_kind(message: Message) -> ReturnedMailKind:
    words = _header(message, "Subject") + "\n" + _first_text(message)[:2000]
    if _OUT_OF_OFFICE_WORDING.search(words):
        return ReturnedMailKind.OUT_OF_OFFICE
    return ReturnedMailKind.ACKNOWLEDGEMENT
