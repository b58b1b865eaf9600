"""Campaigners' letter templates, checked and rendered in Jinja's sandbox with bounded output.

About 450 lines because the sandbox is one unit: the syntax-tree checks made on save and the
limits applied while rendering guard the same attacks, and read best side by side."""

from __future__ import annotations

import functools
import re
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import date
from typing import Any

from jinja2 import (
    StrictUndefined,
    Template,
    TemplateSyntaxError,
    Undefined,
    UndefinedError,
    nodes,
)
from jinja2.exceptions import SecurityError
from jinja2.sandbox import SandboxedEnvironment

from mp_mailer.errors import DomainError

MAX_RANGE = 100
MAX_LOOP_NESTING = 2
MAX_LOOPS = 20
MAX_RENDERED_LENGTH = 20_000
MAX_REPEAT = 1_000
# Each render's budget: a letter takes about a millisecond, so a template that takes longer than
# this is refused when saved, and stops (as a TemplateProblem) if it ever gets that far later.
MAX_RENDER_SECONDS = 0.25
MAX_TEMPLATE_LENGTH = 50_000
# Numbers written in a template: enough for any date or count, far too few for digit bombs.
MAX_NUMBER_LITERAL = 10**12
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


class TemplateProblem(DomainError):
    """A campaign template that cannot be used; `line` says where, when known."""

    def __init__(self, message: str, line: int | None = None) -> None:
        super().__init__(message)
        self.line = line

    def __str__(self) -> str:
        return f"Line {self.line}: {self.message}" if self.line else self.message


_render_deadline: ContextVar[float | None] = ContextVar("render_deadline", default=None)


def _check_budget(result: Any = None) -> Any:
    """Stop a render that has run out of time, or a value that has grown too long."""
    deadline = _render_deadline.get()
    if deadline is not None and time.monotonic() > deadline:
        raise SecurityError(f"the template took longer than {MAX_RENDER_SECONDS} seconds")
    if isinstance(result, str | list | tuple) and len(result) > MAX_RENDERED_LENGTH:
        raise SecurityError("that makes the text too long")
    return result


@contextmanager
def _time_budget() -> Iterator[None]:
    token = _render_deadline.set(time.monotonic() + MAX_RENDER_SECONDS)
    try:
        yield
    finally:
        _render_deadline.reset(token)


class _CampaignSandbox(SandboxedEnvironment):
    intercepted_binops = frozenset(["*", "**", "%", "+", "-", "/", "//"])

    # Every attribute, item, call and operator passes here, so a render cannot outrun its budget.
    def getattr(self, obj: Any, attribute: str) -> Any:
        _check_budget()
        return super().getattr(obj, attribute)

    def getitem(self, obj: Any, argument: Any) -> Any:
        _check_budget()
        return super().getitem(obj, argument)

    def call(__self, __context: Any, __obj: Any, *args: Any, **kwargs: Any) -> Any:
        _check_budget()
        return _check_budget(super().call(__context, __obj, *args, **kwargs))

    def call_binop(self, context: Any, operator: str, left: Any, right: Any) -> Any:
        _check_budget()
        if operator == "**":
            raise SecurityError("powers are not allowed in letter templates")
        if operator == "%" and isinstance(left, str):
            raise SecurityError("'%' formatting is not allowed: join text with ~ instead")
        if operator == "*":
            _check_repeat(left, right)
        return _check_budget(super().call_binop(context, operator, left, right))


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


def _printable(value: Any) -> Any:
    """What {{ ... }} may print: text and numbers, never a function's or a mapping's repr."""
    if isinstance(value, str | int | float | Undefined) or value is None:
        return value
    if callable(value):
        raise SecurityError("that prints a function: call it, as in range(3), or leave it out")
    if isinstance(value, Mapping):
        raise SecurityError("that prints a group of fields: print one, such as mp.name")
    return value


def _bounded_filter(name: str, filter_function: Callable[..., Any]) -> Callable[..., Any]:
    # |list|string|list|string... grows about fivefold a step: stop it as soon as it is too long.
    @functools.wraps(filter_function)
    def bounded(*args: Any, **kwargs: Any) -> Any:
        _check_budget()
        return _check_budget(filter_function(*args, **kwargs))

    return bounded


def _make_environment() -> SandboxedEnvironment:
    environment = _CampaignSandbox(
        undefined=StrictUndefined,
        autoescape=False,
        keep_trailing_newline=False,
        trim_blocks=True,
        lstrip_blocks=True,
        finalize=_printable,
    )
    environment.globals.clear()
    environment.globals["range"] = _capped_range
    environment.filters = {
        name: _bounded_filter(name, environment.filters[name])
        for name in ALLOWED_FILTERS & set(environment.filters)
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
    if len(source) > MAX_TEMPLATE_LENGTH:
        raise TemplateProblem(f"a letter template can be at most {MAX_TEMPLATE_LENGTH} characters")
    try:
        tree = _environment.parse(source)
    except TemplateSyntaxError as e:
        raise TemplateProblem(f"the template has a syntax error: {e.message}", e.lineno) from e
    except ValueError as e:
        # Python refuses to read a number of more than 4,300 digits.
        raise TemplateProblem(f"the template has a number that is far too long: {e}") from e
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
    if (
        isinstance(node, nodes.Const)
        and isinstance(node.value, int | float)
        and not abs(node.value) <= MAX_NUMBER_LITERAL
    ):
        return f"numbers in a letter template can be at most {MAX_NUMBER_LITERAL:,}"
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


@functools.lru_cache(maxsize=256)
def _compiled(source: str) -> Template:
    """Compiling is most of the cost of filling in a letter, and every supporter of a campaign
    fills in the same few templates. A template that fails to compile is not kept."""
    return _environment.from_string(source)


def render_template(source: str, context: Mapping[str, Any]) -> str:
    """Render campaign text in the sandbox. Raises TemplateProblem for any failure."""
    try:
        template = _compiled(source)
    except TemplateSyntaxError as e:
        raise TemplateProblem(f"the template has a syntax error: {e.message}", e.lineno) from e
    except ValueError as e:
        raise TemplateProblem(f"the template has a number that is far too long: {e}") from e
    try:
        with _time_budget():
            return _render_capped(template, context)
    except UndefinedError as e:
        detail = re.sub(r"^'[^']*' has no attribute ", "there is no field ", e.message or "")
        raise TemplateProblem(
            f"the template uses a field that does not exist: {detail}", _template_line(e)
        ) from e
    except SecurityError as e:
        raise TemplateProblem(f"not allowed: {e}", _template_line(e)) from e
    except (
        TypeError,
        ValueError,
        ArithmeticError,
        LookupError,
        RecursionError,
        MemoryError,
        # Jinja's truncate asserts its length is at least its end's: a computed negative length.
        AssertionError,
    ) as e:
        raise TemplateProblem(f"the template could not be filled in: {e}", _template_line(e)) from e


def _render_capped(template: Template, context: Mapping[str, Any]) -> str:
    # Streamed, so a loop that writes too much stops at the limit instead of filling memory.
    parts: list[str] = []
    length = 0
    for part in template.generate(context):
        _check_budget()
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
