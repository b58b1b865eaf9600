"""The send log's URL parameters, read into a LetterFilter and written back for links.

Each parameter that makes no sense gets a message for the page, and is left out of the filter."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime

from mp_mailer.models import LetterStatus
from mp_mailer.services.send_log.filters import LetterFilter
from mp_mailer.views.identifiers import database_id

# A day after the last date a filter can name, and before it, must still be a date.
EARLIEST_DATE = date(2000, 1, 1)
LATEST_DATE = date(9998, 12, 31)

FILTER_PARAMETERS = ("campaign", "status", "from", "to", "place", "q")
CURSOR_PARAMETERS = ("before", "after")


def parse_filter(arguments: Mapping[str, str]) -> tuple[LetterFilter, dict[str, str]]:
    """The filter in a send log URL, and a message for each parameter that made no sense.

    A parameter that cannot be read is left out of the filter, so the page still shows letters.
    """
    problems: dict[str, str] = {}
    campaign_id = None
    raw_campaign = arguments.get("campaign", "").strip()
    if raw_campaign:
        try:
            campaign_id = database_id(raw_campaign)
        except ValueError:
            problems["campaign"] = "Choose a campaign from the list."
    status = None
    raw_status = arguments.get("status", "").strip()
    if raw_status:
        try:
            status = LetterStatus(raw_status)
        except ValueError:
            problems["status"] = "Choose a state from the list."
    created_from = _parse_date(arguments, "from", "start", problems)
    created_to = _parse_date(arguments, "to", "end", problems)
    if created_from and created_to and created_to < created_from:
        problems["to"] = "The end date must be the same as or after the start date."
        created_to = None
    return (
        LetterFilter(
            campaign_id=campaign_id,
            status=status,
            created_from=created_from,
            created_to=created_to,
            place=" ".join(arguments.get("place", "").split())[:200],
            search=" ".join(arguments.get("q", "").split())[:254],
        ),
        problems,
    )


def _parse_date(
    arguments: Mapping[str, str], name: str, which: str, problems: dict[str, str]
) -> date | None:
    raw = arguments.get(name, "").strip()
    if not raw:
        return None
    for pattern in ("%Y-%m-%d", "%d/%m/%Y"):
        try:
            parsed = datetime.strptime(raw, pattern).date()
        except ValueError:
            continue
        if EARLIEST_DATE <= parsed <= LATEST_DATE:
            return parsed
        break
    problems[name] = f"Enter the {which} date as a real date, like 2026-11-25."
    return None


def filter_query(letter_filter: LetterFilter) -> dict[str, str]:
    """The URL parameters for this filter, leaving out the ones not set."""
    values = {
        "campaign": str(letter_filter.campaign_id) if letter_filter.campaign_id is not None else "",
        "status": letter_filter.status.value if letter_filter.status else "",
        "from": letter_filter.created_from.isoformat() if letter_filter.created_from else "",
        "to": letter_filter.created_to.isoformat() if letter_filter.created_to else "",
        "place": letter_filter.place,
        "q": letter_filter.search,
    }
    return {name: value for name, value in values.items() if value}


def log_query(arguments: Mapping[str, str]) -> dict[str, str]:
    """The log's filter and page, carried to a letter's page so its back link returns there."""
    names = (*FILTER_PARAMETERS, *CURSOR_PARAMETERS)
    return {name: arguments[name] for name in names if arguments.get(name)}
