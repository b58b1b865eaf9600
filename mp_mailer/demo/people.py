"""Made-up people and places for the demo: 650 MPs in Commons proportions, their seats, the names
and streets supporters are given, and when they write. Nothing here is real."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta

DEMO_MEMBER_ID_START = 900_001  # far above any id the Members API uses


# Name, abbreviation, colour and seats, shaped like the House of Commons in 2024.
PARTIES: tuple[tuple[str, str, str, int], ...] = (
    ("Labour", "Lab", "#E4003B", 411),
    ("Conservative", "Con", "#0087DC", 121),
    ("Liberal Democrat", "LD", "#FAA61A", 72),
    ("Scottish National Party", "SNP", "#FDF38E", 9),
    ("Sinn Féin", "SF", "#326760", 7),
    ("Independent", "Ind", "#909090", 6),
    ("Democratic Unionist Party", "DUP", "#D46A4C", 5),
    ("Reform UK", "RUK", "#12B6CF", 5),
    ("Green Party", "Green", "#02A95B", 4),
    ("Plaid Cymru", "PC", "#005B54", 4),
    ("Social Democratic & Labour Party", "SDLP", "#2AA82C", 2),
    ("Alliance", "APNI", "#F6CB2F", 1),
    ("Ulster Unionist Party", "UUP", "#48A5EE", 1),
    ("Traditional Unionist Voice", "TUV", "#0C3A6A", 1),
    ("Speaker", "Spk", "#000000", 1),
)


def _words(text: str) -> tuple[str, ...]:
    return tuple(text.split())


_TOWN_STARTS = _words(
    "Ash Brack Chal Dun Elm Fern Glen Hal Ives Kings Lang Marl Nor Oak Pen Queens Rad Sal "
    "Thorn Up Wex Whit Wood Yar Bel Cold Dray Easter Fox Grey Hather Kirk Lin Mere Ros Sand "
    "Stan Tarn Wy Brad"
)


_TOWN_ENDS = _words(
    "ford bury ton ham well field wick mouth stead by more worth bridge minster cester hurst "
    "ley combe"
)


_QUARTERS = ("North", "South", "East", "West", "Central", "Mid", "Upper", "Vale of")


FEMALE_NAMES = _words(
    "Amira Anna Aisha Beth Bronwen Catherine Chloe Deborah Eilidh Emma Fatima Grace Hannah Imogen "
    "Jasmine Joanna Karen Leila Lucy Maria Megan Niamh Olivia Priya Rachel Ruth Sarah Siobhan "
    "Sophie Tamsin Yasmin Zara"
)


MALE_NAMES = _words(
    "Aaron Adam Ahmed Alistair Ben Callum Daniel David Dylan Euan Gareth Hamid Ian James Jonathan "
    "Kieran Liam Mark Matthew Mohammed Neil Oliver Owen Patrick Rajesh Rhys Robert Sam Simon "
    "Thomas Tom Usman"
)


SURNAMES = _words(
    "Abbott Adeyemi Ahmed Baker Bennett Brown Campbell Chen Clarke Davies Doherty Evans Fraser "
    "Green Griffiths Hall Hughes Hussain Jackson Jones Kaur Kelly Khan Lewis MacDonald Martin "
    "Morgan Murphy Nowak Okafor O'Brien Owen Patel Phillips Price Quinn Rahman Reid Roberts "
    "Robinson Scott Shah Singh Smith Stewart Taylor Thomas Thompson Turner Walker Ward Watson "
    "White Williams Wilson Wood Wright Young Zhang"
)


STREETS = (
    "High Street",
    "Church Road",
    "Station Road",
    "Victoria Road",
    "Mill Lane",
    "Park Avenue",
    "Queen Street",
    "Green Lane",
    "Manor Road",
    "The Crescent",
    "Orchard Close",
    "Castle Street",
)


@dataclass(frozen=True)
class DemoMember:
    id: int
    display_name: str
    address_as: str
    full_title: str
    party_name: str
    party_abbreviation: str
    party_colour: str
    constituency_id: int
    constituency_name: str
    email: str


def demo_members(rng: random.Random) -> list[DemoMember]:
    """650 made-up current MPs, one per made-up seat, with parties in Commons proportions."""
    parties = [party for party in PARTIES for _ in range(party[3])]
    rng.shuffle(parties)
    seats = _seat_names(rng, len(parties))
    members = []
    for offset, ((party, abbreviation, colour, _), seat) in enumerate(
        zip(parties, seats, strict=True)
    ):
        female = rng.random() < 0.45
        first = rng.choice(FEMALE_NAMES if female else MALE_NAMES)
        surname = rng.choice(SURNAMES)
        honorific = rng.choices(["", "Dr ", "Sir " if not female else "Dame "], [90, 6, 4])[0]
        address_as = (
            f"{honorific}{first}"
            if honorific in ("Sir ", "Dame ")
            else f"{honorific or ('Ms ' if female else 'Mr ')}{surname}"
        )
        members.append(
            DemoMember(
                id=DEMO_MEMBER_ID_START + offset,
                display_name=f"{honorific}{first} {surname}",
                address_as=address_as,
                full_title=f"{honorific}{first} {surname} MP",
                party_name=party,
                party_abbreviation=abbreviation,
                party_colour=colour,
                constituency_id=DEMO_MEMBER_ID_START + offset,
                constituency_name=f"{seat} (demo)",
                email=f"{first}.{surname}.mp{offset}@parliament.example".lower().replace("'", ""),
            )
        )
    return members


def _seat_names(rng: random.Random, count: int) -> list[str]:
    towns = [start + end for start in _TOWN_STARTS for end in _TOWN_ENDS]
    rng.shuffle(towns)
    names: set[str] = set()
    while len(names) < count:
        town = towns[len(names) % len(towns)]
        shape = rng.random()
        if shape < 0.45:
            names.add(town)
        elif shape < 0.75:
            names.add(f"{rng.choice(_QUARTERS)} {town}")
        else:
            names.add(f"{town} and {rng.choice(towns)}")
    return sorted(names)


def postcode_letter(rng: random.Random) -> str:
    return rng.choice("ABDEFGHJLNPQRSTUWXYZ")


def writing_moments(rng: random.Random, count: int, now: datetime, days: int) -> list[datetime]:
    # A launch spike a third of the way in, a quieter weekend, and most letters in the daytime.
    start = (now - timedelta(days=days - 1)).replace(hour=0, minute=0, second=0, microsecond=0)
    launch = days // 3
    day_weights = []
    for day in range(days):
        weight = 1.0 + (6.0 * 0.75 ** (day - launch) if day >= launch else 0.0)
        if (start + timedelta(days=day)).weekday() >= 5:
            weight *= 0.6
        day_weights.append(weight)
    hour_weights = [
        1,
        1,
        1,
        1,
        1,
        2,
        4,
        8,
        12,
        12,
        11,
        10,
        12,
        12,
        10,
        9,
        9,
        10,
        13,
        14,
        12,
        8,
        4,
        2,
    ]
    chosen_days = rng.choices(range(days), day_weights, k=count)
    chosen_hours = rng.choices(range(24), hour_weights, k=count)
    moments = [
        start + timedelta(days=day, hours=hour, seconds=rng.randrange(3600))
        for day, hour in zip(chosen_days, chosen_hours, strict=True)
    ]
    moments = [
        moment if moment <= now else now - timedelta(seconds=rng.randrange(3600))
        for moment in moments
    ]
    moments.sort()
    return moments
