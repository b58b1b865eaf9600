"""Tests for postcode normalisation and classification."""

import pytest

from mp_mailer.postcodes import (
    Postcode,
    PostcodeKind,
    crown_dependency_name,
    normalise_postcode,
    parse_postcode,
)


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("SW1A 1AA", "SW1A 1AA"),
        ("sw1a1aa", "SW1A 1AA"),
        ("  sw1a   1aa  ", "SW1A 1AA"),
        ("SW1A\u00a01AA", "SW1A 1AA"),
        ("SW1A\t1AA\n", "SW1A 1AA"),
        ("s w 1 a 1 a a", "SW1A 1AA"),
        ("m11ae", "M1 1AE"),
        ("SW1", "SW1"),
        ("", ""),
        ("not a postcode", "NOTAPOSTC ODE"),
    ],
)
def test_normalise_postcode_cleans_spacing_and_case_when_given_typed_text(
    typed: str, expected: str
) -> None:
    assert normalise_postcode(typed) == expected


@pytest.mark.parametrize(
    ("typed", "text"),
    [
        ("M1 1AE", "M1 1AE"),  # A9 9AA
        ("B33 8TH", "B33 8TH"),  # A99 9AA
        ("CR2 6XH", "CR2 6XH"),  # AA9 9AA
        ("DN55 1PT", "DN55 1PT"),  # AA99 9AA
        ("W1A 0AX", "W1A 0AX"),  # A9A 9AA
        ("EC1A 1BB", "EC1A 1BB"),  # AA9A 9AA
        ("sw1a1aa", "SW1A 1AA"),
        ("BT1 5GS", "BT1 5GS"),  # Northern Ireland has MPs
        ("KY1 1XX", "KY1 1XX"),  # Kirkcaldy, not the Cayman Islands
        ("E1W 1UU", "E1W 1UU"),
    ],
)
def test_parse_postcode_returns_uk_when_format_is_a_uk_postcode(typed: str, text: str) -> None:
    assert parse_postcode(typed) == Postcode(text, PostcodeKind.UK)


@pytest.mark.parametrize(
    ("typed", "text", "name"),
    [
        ("je2 3ab", "JE2 3AB", "Jersey"),
        ("GY1 1AA", "GY1 1AA", "Guernsey"),
        ("IM1 1AA", "IM1 1AA", "the Isle of Man"),
    ],
)
def test_parse_postcode_returns_crown_dependency_with_its_name_when_area_is_je_gy_or_im(
    typed: str, text: str, name: str
) -> None:
    assert parse_postcode(typed) == Postcode(text, PostcodeKind.CROWN_DEPENDENCY)
    assert crown_dependency_name(typed) == name


@pytest.mark.parametrize("typed", ["SW1A 1AA", "JE", "BFPO 57", ""])
def test_crown_dependency_name_is_none_when_postcode_is_not_in_a_crown_dependency(
    typed: str,
) -> None:
    assert crown_dependency_name(typed) is None


@pytest.mark.parametrize(
    ("typed", "text"),
    [
        ("BFPO 1234", "BFPO 1234"),
        ("bfpo57", "BFPO 57"),
        ("GIR 0AA", "GIR 0AA"),
        ("gir0aa", "GIR 0AA"),
        ("ASCN 1ZZ", "ASCN 1ZZ"),
        ("STHL 1ZZ", "STHL 1ZZ"),
        ("TDCU 1ZZ", "TDCU 1ZZ"),
        ("BBND 1ZZ", "BBND 1ZZ"),
        ("BIQQ 1ZZ", "BIQQ 1ZZ"),
        ("FIQQ 1ZZ", "FIQQ 1ZZ"),
        ("SIQQ 1ZZ", "SIQQ 1ZZ"),
        ("PCRN 1ZZ", "PCRN 1ZZ"),
        ("TKCA 1ZZ", "TKCA 1ZZ"),
        ("GX11 1AA", "GX11 1AA"),
        ("KY1-1234", "KY1-1234"),
        ("ky1 1234", "KY1-1234"),
        ("MSR 1110", "MSR 1110"),
        ("VG1110", "VG1110"),
        ("AI-2640", "AI-2640"),
        ("BX1 1LT", "BX1 1LT"),
    ],
)
def test_parse_postcode_returns_no_constituency_when_postcode_has_no_westminster_seat(
    typed: str, text: str
) -> None:
    assert parse_postcode(typed) == Postcode(text, PostcodeKind.NO_CONSTITUENCY)


@pytest.mark.parametrize(
    ("typed", "text"),
    [
        ("", ""),
        ("   ", ""),
        ("SW1A", "SW1A"),
        ("SW1A 1A", "SW1 A1A"),
        ("SW1A 1AAA", "SW1A1 AAA"),
        ("SW1A 1AA SW1A 1AA", "SW1A1AASW1A 1AA"),
        ("1AA SW1", "1AA SW1"),
        ("SW1A-1AA", "SW1A- 1AA"),
        ("hello world", "HELLOWO RLD"),
        ("12345", "12 345"),
        ("BFPO 12345", "BFPO12 345"),
    ],
)
def test_parse_postcode_returns_invalid_with_cleaned_text_when_format_is_not_a_postcode(
    typed: str, text: str
) -> None:
    assert parse_postcode(typed) == Postcode(text, PostcodeKind.INVALID)
