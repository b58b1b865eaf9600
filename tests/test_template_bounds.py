"""Templates that cannot hurt the server: every render bounded in time and size, no function
printed, bad numbers and lengths refused, each failure a TemplateProblem (never a crash)."""

from __future__ import annotations

import time

import pytest

from mp_mailer import letter_templates
from mp_mailer.letter_templates import (
    SAMPLE_CONTEXT,
    TemplateProblem,
    check_template,
    render_template,
)


def refusal(source: str) -> str:
    started = time.monotonic()
    with pytest.raises(TemplateProblem) as refused:
        check_template(source)
    assert time.monotonic() - started < 1, "refusing a template must be quick"
    return str(refused.value)


def list_string_bomb(levels: int) -> str:
    return "{{ (mp.name" + "|list|string" * levels + ")|length }}"


def test_check_template_refuses_a_list_string_bomb_when_it_would_grow_too_long() -> None:
    assert "too long" in refusal(list_string_bomb(11))


def test_render_template_stops_a_list_string_bomb_hidden_behind_a_condition() -> None:
    source = "{% if mp.party == 'Labour' %}" + list_string_bomb(11) + "{% endif %}"
    check_template(source)  # the sample MP is not Labour: the check alone cannot see it
    labour = {**SAMPLE_CONTEXT, "mp": {**SAMPLE_CONTEXT["mp"], "party": "Labour"}}
    started = time.monotonic()

    with pytest.raises(TemplateProblem, match="too long"):
        render_template(source, labour)

    assert time.monotonic() - started < 1


def test_check_template_refuses_printing_range_when_it_would_show_a_memory_address() -> None:
    assert "prints a function" in refusal("{{ range }}")


def test_check_template_refuses_a_mapping_when_printed_whole() -> None:
    assert "group of fields" in refusal("{{ mp }}")


def test_check_template_refuses_truncate_when_its_computed_length_is_negative() -> None:
    assert "could not be filled in" in refusal("{{ mp.name|truncate(3 - 10) }}")


def test_check_template_refuses_a_number_literal_when_it_has_thousands_of_digits() -> None:
    assert "number that is far too long" in refusal("{{ " + "9" * 4400 + " }}")


def test_check_template_refuses_a_number_literal_when_it_exceeds_the_limit() -> None:
    assert "numbers in a letter template can be at most" in refusal("{{ 10000000000000 }}")


def test_check_template_refuses_a_template_when_longer_than_the_limit() -> None:
    assert "at most" in refusal("a" * (letter_templates.MAX_TEMPLATE_LENGTH + 1))


def test_render_template_stops_when_the_render_runs_out_of_time(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(letter_templates, "MAX_RENDER_SECONDS", 0.0)
    source = "{% for i in range(50) %}{{ mp.name|upper }}{% endfor %}"

    with pytest.raises(TemplateProblem, match="took longer than"):
        render_template(source, SAMPLE_CONTEXT)


def test_render_template_names_the_missing_element_when_a_field_is_indexed_past_its_end() -> None:
    short = {**SAMPLE_CONTEXT, "mp": {**SAMPLE_CONTEXT["mp"], "party": "SNP"}}

    with pytest.raises(TemplateProblem, match="no element 7"):
        render_template("{{ mp.party[7] }}", short)
