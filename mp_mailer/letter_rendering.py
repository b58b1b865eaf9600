"""Campaigners' letter templates, rendered in Jinja's sandbox, and the emails built from them."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from email.errors import MessageError
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from typing import Any

import idna
from jinja2 import StrictUndefined, Template, TemplateSyntaxError, UndefinedError, nodes
from jinja2.exceptions import SecurityError
from jinja2.sandbox import SandboxedEnvironment

MAX_RANGE = 100
MAX_LOOP_NESTING = 2
MAX_LOOPS = 20
MAX_RENDERED_LENGTH = 20_000
MAX_REPEAT = 1_000
# Filters that cannot multiply text: center, indent, format, join, replace, wordwrap and batch can
# turn a short template into gigabytes, and attr, map and select reach attributes by name.
ALLOWED_FILTERS = frozenset(
    {
        "abs", "capitalize", "count", "d", "default", "first", "float", "int", "last", "length",
        "list", "lower", "max", "min", "reverse", "round", "sort", "string", "striptags", "sum",
        "title", "trim", "truncate", "unique", "upper", "wordcount",
    }
)  # fmt: skip

TEMPLATE_VARIABLES: Mapping[str, str] = {
    "mp.name": "The MP's name as Parliament displays it, e.g. 'Ms Diane Abbott'",
    "mp.address_as": "How to address the MP in a letter, e.g. 'Ms Abbott'",
    "mp.full_title": "The MP's full title, e.g. 'Rt Hon Diane Abbott MP'",
    "mp.party": "The MP's party, e.g. 'Labour'",
    "constituency": "The constituency's name, e.g. 'Hackney North and Stoke Newington'",
    "campaign.title": "This campaign's title",
    "campaign.url": "The campaign page's address",
    "today": "Today's date, e.g. '25 November 2026'",
}

_ALLOWED_NODES = (
    nodes.Template,
    nodes.Output,
    nodes.TemplateData,
    nodes.Name,
    nodes.Getattr,
    nodes.Getitem,
    nodes.Const,
    nodes.If,
    nodes.For,
    nodes.Filter,
    nodes.Test,
    nodes.CondExpr,
    nodes.Concat,
    nodes.And,
    nodes.Or,
    nodes.Not,
    nodes.Compare,
    nodes.Operand,
    nodes.Call,
    nodes.Keyword,
    nodes.Tuple,
    nodes.List,
    nodes.Add,
    nodes.Sub,
    nodes.Mul,
    nodes.Div,
    nodes.FloorDiv,
    nodes.Mod,
    nodes.Neg,
    nodes.Pos,
    nodes.Slice,
)


class TemplateProblem(Exception):
    """A campaign template that cannot be used; `line` says where, when known."""

    def __init__(self, message: str, line: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.line = line

    def __str__(self) -> str:
        return f"Line {self.line}: {self.message}" if self.line else self.message


class _CampaignSandbox(SandboxedEnvironment):
    intercepted_binops = frozenset(["*", "**", "%", "+"])

    def call_binop(self, context: Any, operator: str, left: Any, right: Any) -> Any:
        if operator == "**":
            raise SecurityError("powers are not allowed in letter templates")
        if operator == "%" and isinstance(left, str):
            raise SecurityError("'%' formatting is not allowed: join text with ~ instead")
        if operator == "*":
            _check_repeat(left, right)
        result = super().call_binop(context, operator, left, right)
        if isinstance(result, str | list | tuple) and len(result) > MAX_RENDERED_LENGTH:
            raise SecurityError("that makes the text too long")
        return result


def _check_repeat(left: Any, right: Any) -> None:
    """Refuse text or list repetition before Python builds it: "x" * 10**9 is a gigabyte."""
    sequence, count = (left, right) if isinstance(right, int) else (right, left)
    if not isinstance(sequence, str | list | tuple) or not isinstance(count, int):
        return
    if count > MAX_REPEAT or len(sequence) * count > MAX_RENDERED_LENGTH:
        raise SecurityError("that repeats text too many times")


def _capped_range(*args: int) -> range:
    numbers = range(*args)
    if len(numbers) > MAX_RANGE:
        raise SecurityError(f"range() is limited to {MAX_RANGE} items in letter templates")
    return numbers


def _make_environment() -> SandboxedEnvironment:
    environment = _CampaignSandbox(
        undefined=StrictUndefined,
        autoescape=False,
        keep_trailing_newline=False,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    environment.globals.clear()
    environment.globals["range"] = _capped_range
    environment.filters = {
        name: environment.filters[name] for name in ALLOWED_FILTERS & set(environment.filters)
    }
    return environment


_environment = _make_environment()


@dataclass(frozen=True)
class RecipientDetails:
    """What a template may say about the MP the letter goes to."""

    name: str
    address_as: str
    full_title: str | None
    party: str | None
    constituency: str


def template_context(
    recipient: RecipientDetails, campaign_title: str, campaign_url: str, today: date
) -> dict[str, Any]:
    return {
        "mp": {
            "name": recipient.name,
            "address_as": recipient.address_as,
            "full_title": recipient.full_title or recipient.name,
            "party": recipient.party or "",
        },
        "constituency": recipient.constituency,
        "campaign": {"title": campaign_title, "url": campaign_url},
        "today": f"{today.day} {today:%B %Y}",
    }


SAMPLE_CONTEXT = template_context(
    RecipientDetails(
        name="Ms Diane Abbott",
        address_as="Ms Abbott",
        full_title="Rt Hon Diane Abbott MP",
        party="Independent",
        constituency="Hackney North and Stoke Newington",
    ),
    campaign_title="Sample campaign",
    campaign_url="https://example.org/c/sample",
    today=date(2026, 1, 1),
)


def check_template(source: str) -> None:
    """Refuse a template that does not parse, uses an unknown variable or an unsafe construct.

    Raises TemplateProblem with the line where it can.
    """
    try:
        tree = _environment.parse(source)
    except TemplateSyntaxError as e:
        raise TemplateProblem(f"the template has a syntax error: {e.message}", e.lineno) from e
    _check_nodes(tree)
    render_template(source, SAMPLE_CONTEXT)


def _check_nodes(tree: nodes.Template) -> None:
    loop_targets = {target.name for target in tree.find_all(nodes.Name) if target.ctx == "store"}
    if len(list(tree.find_all(nodes.For))) > MAX_LOOPS:
        raise TemplateProblem(f"a letter template can have at most {MAX_LOOPS} loops")
    for node in tree.find_all(nodes.Node):
        problem = _node_problem(tree, node, loop_targets)
        if problem:
            raise TemplateProblem(problem, getattr(node, "lineno", None))


# Each variable's fields: {"mp": ["address_as", ...], "constituency": [], ...}
_FIELDS = {
    root: sorted(
        field
        for name in TEMPLATE_VARIABLES
        for prefix, _, field in [name.partition(".")]
        if prefix == root and field
    )
    for root in {name.partition(".")[0] for name in TEMPLATE_VARIABLES}
}


def _node_problem(tree: nodes.Template, node: nodes.Node, loop_targets: set[str]) -> str | None:
    """What is wrong with one node of a template, in words a campaigner can act on."""
    if not isinstance(node, _ALLOWED_NODES):
        return f"'{type(node).__name__}' is not allowed in letter templates"
    if (
        isinstance(node, nodes.Name)
        and node.ctx == "load"
        and node.name not in {*_FIELDS, "range", "loop", *loop_targets}
    ):
        if node.name == "supporter":
            return (
                "there is no variable called 'supporter': the supporter's name and address are "
                "added under the letter automatically"
            )
        return f"there is no variable called '{node.name}'"
    if isinstance(node, nodes.Getattr | nodes.Getitem):
        return _field_problem(node)
    if isinstance(node, nodes.Filter) and node.name not in ALLOWED_FILTERS:
        return f"the filter '{node.name}' is not allowed in letter templates"
    if isinstance(node, nodes.Call) and not _is_allowed_call(node):
        return "only range() and loop.cycle() can be called; use filters such as |upper instead"
    if isinstance(node, nodes.For):
        return _loop_problem(tree, node)
    return None


def _field_problem(node: nodes.Getattr | nodes.Getitem) -> str | None:
    if isinstance(node, nodes.Getattr):
        field = node.attr
    elif isinstance(node.arg, nodes.Const) and isinstance(node.arg.value, str):
        field = node.arg.value
    else:
        return None
    if field.startswith("_"):
        return f"'{field}' is not a field you can use"
    if isinstance(node.node, nodes.Name) and node.node.name in _FIELDS:
        root = node.node.name
        fields = _FIELDS[root]
        if not fields:
            return f"'{root}' is text and has no fields: use it on its own, as {{{{ {root} }}}}"
        if field not in fields:
            choices = ", ".join(f"{root}.{name}" for name in fields)
            return f"there is no field '{field}' on '{root}': use one of {choices}"
    return None


def _is_allowed_call(node: nodes.Call) -> bool:
    target = node.node
    if isinstance(target, nodes.Name):
        return target.name == "range"
    return (
        isinstance(target, nodes.Getattr)
        and isinstance(target.node, nodes.Name)
        and target.node.name == "loop"
        and target.attr == "cycle"
    )


def _loop_problem(tree: nodes.Template, node: nodes.For) -> str | None:
    if node.recursive:
        return "recursive loops are not allowed"
    if _loop_depth(tree, node) > MAX_LOOP_NESTING:
        return "loops may be nested at most two deep"
    if not _is_bounded_sequence(node.iter):
        return "a loop can only go over range(), a list written out in the template, or a variable"
    return None


def _is_bounded_sequence(node: nodes.Node) -> bool:
    """Loops only over things whose size the template's author cannot inflate."""
    if isinstance(node, nodes.Call):
        return isinstance(node.node, nodes.Name) and node.node.name == "range"
    if isinstance(node, nodes.List | nodes.Tuple):
        return len(node.items) <= MAX_RANGE
    if isinstance(node, nodes.Filter):
        return node.node is not None and _is_bounded_sequence(node.node)
    while isinstance(node, nodes.Getattr | nodes.Getitem):
        node = node.node
    return isinstance(node, nodes.Name) and node.name in _FIELDS


def _loop_depth(tree: nodes.Template, target: nodes.For) -> int:
    def depth(node: nodes.Node, current: int) -> int | None:
        if node is target:
            return current + 1
        inner = current + 1 if isinstance(node, nodes.For) else current
        for child in node.iter_child_nodes():
            found = depth(child, inner)
            if found is not None:
                return found
        return None

    return depth(tree, 0) or 1


def render_template(source: str, context: Mapping[str, Any]) -> str:
    """Render campaign text in the sandbox. Raises TemplateProblem for any failure."""
    try:
        template = _environment.from_string(source)
    except TemplateSyntaxError as e:
        raise TemplateProblem(f"the template has a syntax error: {e.message}", e.lineno) from e
    try:
        return _render_capped(template, context)
    except UndefinedError as e:
        detail = re.sub(r"^'[^']*' has no attribute ", "there is no field ", e.message or "")
        raise TemplateProblem(
            f"the template uses a field that does not exist: {detail}", _template_line(e)
        ) from e
    except SecurityError as e:
        raise TemplateProblem(f"not allowed: {e}", _template_line(e)) from e
    except (TypeError, ValueError, ArithmeticError, LookupError, RecursionError) as e:
        raise TemplateProblem(f"the template could not be filled in: {e}", _template_line(e)) from e


def _render_capped(template: Template, context: Mapping[str, Any]) -> str:
    # Streamed, so a loop that writes too much stops at the limit instead of filling memory.
    parts: list[str] = []
    length = 0
    for part in template.generate(context):
        length += len(part)
        if length > MAX_RENDERED_LENGTH:
            raise TemplateProblem(
                f"the letter would be longer than {MAX_RENDERED_LENGTH} characters"
            )
        parts.append(part)
    return "".join(parts)


def _template_line(error: BaseException) -> int | None:
    """The template line a rendering error came from: Jinja maps its frames to "<template>"."""
    line = None
    traceback = error.__traceback__
    while traceback is not None:
        if traceback.tb_frame.f_code.co_filename == "<template>":
            line = traceback.tb_lineno
        traceback = traceback.tb_next
    return line


# Controls, and everything str.splitlines() or a mail reader may take for a line break.
_BREAKS_AND_CONTROLS = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")
# Bidi embeddings, overrides and isolates (and the byte-order mark): they make a header read
# differently on screen from what it says, e.g. reversing " via Free Tibet".
_INVISIBLE_FORMATTING = re.compile(r"[\u202a-\u202e\u2066-\u2069\ufeff]")
MAX_HEADER_TEXT = 300
# Short enough that "<name> via <organisation>" never loses the organisation to MAX_HEADER_TEXT.
MAX_NAME_IN_HEADER = 200
MAX_ORGANISATION_IN_HEADER = 80


def header_text(text: str, limit: int = MAX_HEADER_TEXT) -> str:
    """Text made safe for a header: one line, no controls, nothing the email package decodes.

    Every display name and subject goes through here, whoever supplied it. CPython's email
    package decodes RFC 2047 encoded words ("=?utf-8?q?...?=") in the text it is handed, and
    versions before 3.11.10 and 3.12.5 then write any CR/LF they hid out raw (CVE-2024-6923);
    a space after the "=" means no encoded word can start anywhere. The length cap keeps every
    header line under SMTP's 998-character limit however long one word is.
    """
    text = _INVISIBLE_FORMATTING.sub("", text)
    text = " ".join(_BREAKS_AND_CONTROLS.sub(" ", text).split())
    text = text.replace("=?", "= ?")
    if len(text) > limit:
        text = text[: limit - 1].rstrip() + "…"
    return text


class UnusableAddress(ValueError):
    """An email address no message can carry; the forms refuse these before they are stored."""


def mailbox(address: str, display_name: str = "") -> Address:
    """The Address for `address` (and a display name made safe by header_text).

    The domain is written in its IDNA (ASCII) form, so every relay can route it; a non-ASCII
    local part is kept as it is, which needs a relay offering SMTPUTF8. Raises UnusableAddress.
    """
    local_part, at, domain = address.strip().rpartition("@")
    if not (at and local_part and domain) or "=?" in address or _has_unsafe_character(address):
        raise UnusableAddress("not an email address we can send to")
    try:
        ascii_domain = domain if domain.isascii() else idna.encode(domain, uts46=True).decode()
    except idna.IDNAError as e:
        raise UnusableAddress(f"the domain cannot be written in ASCII: {e}") from e
    name = header_text(display_name)
    if not local_part.isascii():
        # Address(addr_spec=...) refuses a non-ASCII local part as a defect; built from its
        # parts, it is written out raw under the SMTPUTF8 policy the relay client then uses.
        return Address(display_name=name, username=local_part, domain=ascii_domain)
    try:
        return Address(display_name=name, addr_spec=f"{local_part}@{ascii_domain}")
    except (ValueError, MessageError) as e:
        raise UnusableAddress(f"not an email address we can send to: {e}") from e


def _has_unsafe_character(text: str) -> bool:
    return bool(
        _BREAKS_AND_CONTROLS.search(text)
        or _INVISIBLE_FORMATTING.search(text)
        or any(character.isspace() for character in text)
    )


@dataclass(frozen=True)
class Supporter:
    name: str
    email: str
    address: str
    postcode: str


def sign_off(supporter: Supporter) -> str:
    """Always appended by mp_mailer: MPs act only for constituents whose address they can check."""
    address_lines = [line.strip() for line in supporter.address.splitlines() if line.strip()]
    return "\n".join(
        [
            "Yours sincerely,",
            "",
            supporter.name,
            *address_lines,
            supporter.postcode,
            supporter.email,
        ]
    )


def letter_text(body: str, supporter: Supporter) -> str:
    return f"{body.strip()}\n\n{sign_off(supporter)}\n"


def new_message_id(domain: str) -> str:
    return make_msgid(idstring="letter", domain=domain)


@dataclass(frozen=True)
class LetterEnvelope:
    """Everything the email to an MP is built from; plain values, no database objects."""

    message_id: str
    subject: str
    body: str
    supporter: Supporter
    mp_name: str
    mp_email: str
    send_copy: bool


def build_letter_message(
    letter: LetterEnvelope,
    mail_from: Address,
    redirect_to: str | None = None,
    sent_on: Any = None,
) -> EmailMessage:
    """The email to the MP, From the campaign's address showing the supporter, Reply-To them.

    Every header value passes through header_text() or mailbox(), so nothing a supporter, an MP
    record or a template supplies can become a header line. Raises UnusableAddress only for an
    address the forms would have refused.
    """
    message = EmailMessage()
    # mail_from carries the organisation's name (MAIL_FROM's own, or ORGANISATION_NAME).
    supporter_name = header_text(letter.supporter.name, MAX_NAME_IN_HEADER)
    organisation = header_text(
        mail_from.display_name or mail_from.domain, MAX_ORGANISATION_IN_HEADER
    )
    message["From"] = mailbox(mail_from.addr_spec, f"{supporter_name} via {organisation}")
    message["Reply-To"] = mailbox(letter.supporter.email, supporter_name)
    text = letter_text(letter.body, letter.supporter)
    if redirect_to:
        message["To"] = mailbox(redirect_to)
        text = (
            f"[Test copy: on a live site this letter goes to {letter.mp_name} "
            f"<{letter.mp_email}>, not to this address.]\n\n{text}"
        )
    else:
        message["To"] = mailbox(letter.mp_email, letter.mp_name)
    if letter.send_copy:
        message["Cc"] = mailbox(letter.supporter.email, supporter_name)
    message["Subject"] = header_text(letter.subject)
    message["Message-ID"] = letter.message_id
    if sent_on is not None:
        message["Date"] = format_datetime(sent_on)
    message.set_content(text, charset="utf-8", cte="quoted-printable")
    return message


def build_plain_message(
    *, mail_from: Address, to: str, subject: str, text: str, message_id: str | None = None
) -> EmailMessage:
    """A short service email (a confirmation link, a test send) from the campaign's address.

    Headers are made safe as in build_letter_message; raises UnusableAddress likewise.
    """
    message = EmailMessage()
    message["From"] = mailbox(mail_from.addr_spec, mail_from.display_name)
    message["To"] = mailbox(to)
    message["Subject"] = header_text(subject)
    if message_id:
        message["Message-ID"] = message_id
    message.set_content(text, charset="utf-8", cte="quoted-printable")
    return message
