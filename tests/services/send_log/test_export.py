"""The send log's CSV export: cells shown as text, rows streamed, every column documented."""

from __future__ import annotations

import csv
import inspect
import io
from datetime import datetime
from pathlib import Path

import pytest
from sqlalchemy.orm import Session

from mp_mailer.services.send_log.export import EXPORT_COLUMNS, export_csv, safe_cell
from mp_mailer.services.send_log.filters import LetterFilter
from tests.factories import create_letter


@pytest.mark.parametrize(
    ("value", "cell"),
    [
        ("=1+1", "'=1+1"),
        ("+44 20 7946 0000", "'+44 20 7946 0000"),
        ("-5", "'-5"),
        ("@SUM(A1:A2)", "'@SUM(A1:A2)"),
        ("\t=1", "'\t=1"),
        ("\r=1", "'\r=1"),
        ("Jane = Doe", "Jane = Doe"),
        ("", ""),
        (None, ""),
        (-5, "-5"),
        (True, "yes"),
        (False, "no"),
        (datetime(2026, 11, 25, 9, 5, 7, 123), "2026-11-25 09:05:07"),
    ],
)
def test_safe_cell_neutralises_only_text_a_spreadsheet_would_run(value: object, cell: str) -> None:
    assert safe_cell(value) == cell


def test_export_csv_is_a_generator_that_reads_nothing_until_asked(db_session: Session) -> None:
    create_letter(db_session)

    rows = export_csv(db_session, LetterFilter())

    assert inspect.isgenerator(rows)
    assert inspect.getgeneratorstate(rows) == inspect.GEN_CREATED


def test_every_export_column_is_documented() -> None:
    documentation = (Path(__file__).parents[3] / "docs" / "send-log.md").read_text()

    for name, _ in EXPORT_COLUMNS:
        assert f"| `{name}` |" in documentation


def test_export_csv_carries_how_much_of_each_letter_is_the_supporters_own(
    db_session: Session,
) -> None:
    create_letter(db_session, own_sentences=2, own_word_share=0.3529)
    create_letter(db_session)

    rows = list(csv.DictReader(io.StringIO("".join(export_csv(db_session, LetterFilter())))))

    measured, unmeasured = rows[1], rows[0]
    assert (measured["own_sentences"], measured["own_word_share"]) == ("2", "0.35")
    assert (unmeasured["own_sentences"], unmeasured["own_word_share"]) == ("", "")
