"""The send log's URL parameters, read into a filter and written back for links."""

from __future__ import annotations

from datetime import date

from mp_mailer.models import LetterStatus
from mp_mailer.services.send_log.filters import LetterFilter
from mp_mailer.views.send_log_query import filter_query, parse_filter


def test_parse_filter_reads_every_parameter_when_all_are_valid() -> None:
    arguments = {
        "campaign": "3",
        "status": "failed",
        "from": "2026-11-01",
        "to": "25/11/2026",
        "place": "  Hackney   North ",
        "q": " jane ",
    }

    letter_filter, problems = parse_filter(arguments)

    assert problems == {}
    assert letter_filter == LetterFilter(
        campaign_id=3,
        status=LetterStatus.FAILED,
        created_from=date(2026, 11, 1),
        created_to=date(2026, 11, 25),
        place="Hackney North",
        search="jane",
    )


def test_parse_filter_names_each_parameter_it_cannot_read_and_leaves_it_out() -> None:
    letter_filter, problems = parse_filter(
        {"campaign": "x", "status": "lost", "from": "soon", "q": "jane"}
    )

    assert set(problems) == {"campaign", "status", "from"}
    assert letter_filter == LetterFilter(search="jane")


def test_filter_to_query_leaves_out_what_is_not_set() -> None:
    letter_filter = LetterFilter(status=LetterStatus.SENT, search="jane")

    assert filter_query(letter_filter) == {"status": "sent", "q": "jane"}
