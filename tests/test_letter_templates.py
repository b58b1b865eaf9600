"""Campaigners' templates in the sandbox: what they may use, and every escape they may not."""

from __future__ import annotations

import time

import pytest

from mp_mailer.letter_templates import (
    MAX_RENDERED_LENGTH,
    SAMPLE_CONTEXT,
    TemplateProblem,
    check_template,
    render_template,
)
from mp_mailer.services.seed import BODY, SUBJECT


def problem_with(source: str) -> TemplateProblem:
    started = time.monotonic()
    with pytest.raises(TemplateProblem) as refused:
        check_template(source)
    assert time.monotonic() - started < 1, "refusing a template must be quick"
    return refused.value


@pytest.mark.parametrize(
    "source",
    [
        "{{ mp.__class__ }}",
        "{{ mp.name.__class__.__mro__[1].__subclasses__() }}",
        "{{ range.__globals__ }}",
        "{{ mp.__init__.__globals__['os'] }}",
        "{{ ''.__class__.__base__.__subclasses__() }}",
        "{{ mp['__class__'] }}",
        "{{ mp['__cla' ~ 'ss__'] }}",
        "{{ mp|attr('__class__') }}",
        "{{ loop.__class__ }}",
        "{{ mp.name.format(mp) }}",
        "{{ mp.items() }}",
        "{{ cycler.__init__.__globals__ }}",
        "{{ self.__init__.__globals__ }}",
        "{{ lipsum.__globals__ }}",
        "{{ config }}",
        "{{ request }}",
        "{% include '/etc/passwd' %}",
        "{% import 'base.html' as base %}",
        "{% extends 'base.html' %}",
        "{% set x = mp %}",
        "{% macro m() %}{% endmacro %}",
        "{% filter upper %}text{% endfilter %}",
        "{% with x = 1 %}{% endwith %}",
    ],
)
def test_check_template_refuses_a_sandbox_escape_when_a_template_reaches_for_internals(
    source: str,
) -> None:
    problem = problem_with(source)

    assert problem.line == 1


@pytest.mark.parametrize(
    "source",
    [
        "{% for i in range(10**9) %}x{% endfor %}",
        "{% for i in range(1000000) %}x{% endfor %}",
        "{{ 'x' * 1000000000 }}",
        "{{ ('x' * 999) * 999 * 999 }}",
        "{{ [1] * 1000000 }}",
        "{% for a in (range(100)|list) * 1000 %}{% for b in (range(100)|list) * 1000 %}"
        "{% endfor %}{% endfor %}",
        "{% for a in range(9) %}{% for b in range(9) %}{% for c in range(9) %}"
        "{% endfor %}{% endfor %}{% endfor %}",
        "{% for i in range(100) recursive %}{{ loop(range(100)) }}{% endfor %}",
        "{{ mp.name.ljust(1000000000) }}",
        "{{ '%1000000000s' % 'x' }}",
        "{{ 'x'|center(1000000000) }}",
        "{{ 'x'|indent(1000000000) }}",
        "{{ 'x'|wordwrap(1, wrapstring='y' * 1000) }}",
        "{{ range(100)|join('x' * 1000)|join('y' * 1000) }}",
        "{{ 'x'|replace('', 'y' * 1000)|replace('y', 'z' * 1000) }}",
        "{{ '{:>1000000000}'.format('x') }}",
        "{% for i in range(100) %}{% for j in range(100) %}{{ 'x' * 1000 }}"
        "{% endfor %}{% endfor %}",
    ],
)
def test_check_template_refuses_quickly_when_a_template_would_loop_or_grow_without_limit(
    source: str,
) -> None:
    problem_with(source)


def test_check_template_names_the_line_when_a_variable_is_unknown() -> None:
    problem = problem_with("Dear {{ mp.address_as }},\n\n{{ signature }}")

    assert str(problem) == "Line 3: there is no variable called 'signature'"


def test_check_template_explains_the_sign_off_when_a_template_asks_for_the_supporter() -> None:
    problem = problem_with("Yours,\n{{ supporter.name }}")

    assert str(problem) == (
        "Line 2: there is no variable called 'supporter': the supporter's name and address are "
        "added under the letter automatically"
    )


def test_check_template_lists_the_fields_when_a_field_is_misspelt() -> None:
    problem = problem_with("Dear {{ mp.adress_as }},")

    assert str(problem) == (
        "Line 1: there is no field 'adress_as' on 'mp': use one of mp.address_as, mp.full_title, "
        "mp.name, mp.party"
    )


def test_check_template_refuses_an_unknown_field_when_it_is_in_a_branch_never_taken() -> None:
    problem = problem_with("{% if false %}\n\n{{ campaign.slogan }}\n{% endif %}")

    assert problem.line == 3
    assert "there is no field 'slogan' on 'campaign'" in problem.message


def test_check_template_names_the_line_when_the_syntax_is_wrong() -> None:
    problem = problem_with("Dear {{ mp.name }},\n{% if mp.party %}\nPlease act.")

    assert problem.line == 3
    assert problem.message.startswith("the template has a syntax error")


def test_check_template_names_the_line_when_filling_in_fails_at_runtime() -> None:
    problem = problem_with("Dear MP,\n\n{{ 1 // 0 }}")

    assert (
        str(problem)
        == "Line 3: the template could not be filled in: integer division or modulo by zero"
    )


def test_check_template_accepts_the_first_campaigns_letter() -> None:
    check_template(SUBJECT)
    check_template(BODY)


@pytest.mark.parametrize(
    ("source", "rendered"),
    [
        ("Dear {{ mp.address_as }}", "Dear Ms Abbott"),
        ("{{ mp.name | upper }}", "MS DIANE ABBOTT"),
        ("{{ mp.party | default('no party') }}", "Independent"),
        ("{% if mp.party == 'Independent' %}As an independent{% endif %}", "As an independent"),
        ("{% for n in range(3) %}{{ n }}{% endfor %}", "012"),
        ("{% for n in [1, 2] %}{{ loop.index }}{{ loop.cycle('a', 'b') }}{% endfor %}", "1a2b"),
        ("{{ '-' * 10 }}", "----------"),
        ("{{ constituency ~ '!' }}", "Hackney North and Stoke Newington!"),
        ("{{ campaign.title }} on {{ today }}", "Sample campaign on 1 January 2026"),
        ("{{ mp.name[3:8] }}", "Diane"),
    ],
)
def test_render_template_fills_in_what_campaigners_may_use(source: str, rendered: str) -> None:
    check_template(source)

    assert render_template(source, SAMPLE_CONTEXT) == rendered


def test_render_template_stops_when_the_letter_passes_the_length_limit() -> None:
    source = "{% for i in range(100) %}{{ 'x' * 1000 }}{% endfor %}"

    with pytest.raises(TemplateProblem) as refused:
        render_template(source, SAMPLE_CONTEXT)

    assert str(MAX_RENDERED_LENGTH) in refused.value.message
