"""Normalise a typed postcode and say whether it can have a Westminster MP (format only)."""

import re
from dataclasses import dataclass
from enum import StrEnum


class PostcodeKind(StrEnum):
    """What a postcode's format says about its Westminster representation."""

    UK = "uk"
    CROWN_DEPENDENCY = "crown_dependency"
    NO_CONSTITUENCY = "no_constituency"
    INVALID = "invalid"


_CROWN_DEPENDENCY_NAMES = {
    "JE": "Jersey",
    "GY": "Guernsey",
    "IM": "the Isle of Man",
}

# Areas with the UK shape but no Westminster constituency: Gibraltar and the
# non-geographic BX (bulk mail) codes.
_NO_CONSTITUENCY_AREAS = frozenset({"GX", "BX"})

# The loose check from API-NOTES section 3: all six outward shapes (A9, A99, A9A,
# AA9, AA99, AA9A) without the per-position letter rules. Whether a postcode
# exists is the Members API's question, not ours.
_UK_FORMAT = re.compile(r"(?P<area>[A-Z]{1,2})[0-9][A-Z0-9]? [0-9][A-Z]{2}")

_OVERSEAS_OUTWARD_CODES = "ASCN|STHL|TDCU|BBND|BIQQ|FIQQ|SIQQ|PCRN|TKCA"

# Matched against the text with all whitespace removed; each entry renders the
# postcode in its conventional written form.
_NO_CONSTITUENCY_FORMATS = (
    (re.compile(r"GIR0AA"), "GIR 0AA"),
    (re.compile(r"BFPO(?P<number>[0-9]{1,4})"), "BFPO {number}"),
    (
        re.compile(rf"(?P<outward>{_OVERSEAS_OUTWARD_CODES})(?P<inward>[0-9][A-Z]{{2}})"),
        "{outward} {inward}",
    ),
    (re.compile(r"KY(?P<island>[0-9])-?(?P<number>[0-9]{4})"), "KY{island}-{number}"),
    (re.compile(r"MSR(?P<number>[0-9]{4})"), "MSR {number}"),
    (re.compile(r"VG(?P<number>[0-9]{4})"), "VG{number}"),
    (re.compile(r"AI-?(?P<number>[0-9]{4})"), "AI-{number}"),
)


@dataclass(frozen=True)
class Postcode:
    """A postcode as typed by a supporter, cleaned up and classified."""

    text: str
    kind: PostcodeKind


def _compact(text: str) -> str:
    # str.split() with no separator splits on every Unicode space, NBSP and tabs included.
    return "".join(text.split()).upper()


def normalise_postcode(text: str) -> str:
    """Uppercase, drop all whitespace, then put one space before the last three characters."""
    compact = _compact(text)
    if len(compact) < 5:
        return compact
    return f"{compact[:-3]} {compact[-3:]}"


def parse_postcode(text: str) -> Postcode:
    """Classify a typed postcode by its format; this never checks that it exists."""
    compact = _compact(text)
    for pattern, template in _NO_CONSTITUENCY_FORMATS:
        match = pattern.fullmatch(compact)
        if match:
            return Postcode(template.format(**match.groupdict()), PostcodeKind.NO_CONSTITUENCY)

    normalised = normalise_postcode(text)
    match = _UK_FORMAT.fullmatch(normalised)
    if match is None:
        return Postcode(normalised, PostcodeKind.INVALID)
    area = match["area"]
    if area in _CROWN_DEPENDENCY_NAMES:
        return Postcode(normalised, PostcodeKind.CROWN_DEPENDENCY)
    if area in _NO_CONSTITUENCY_AREAS:
        return Postcode(normalised, PostcodeKind.NO_CONSTITUENCY)
    return Postcode(normalised, PostcodeKind.UK)


def crown_dependency_name(text: str) -> str | None:
    """'Jersey', 'Guernsey' or 'the Isle of Man' for a Crown Dependency postcode, else None."""
    postcode = parse_postcode(text)
    if postcode.kind is not PostcodeKind.CROWN_DEPENDENCY:
        return None
    return _CROWN_DEPENDENCY_NAMES[postcode.text[:2]]
