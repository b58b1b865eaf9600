"""The CSV export of the letters a filter matches, streamed, and the record of who exported."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator, Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from mp_mailer.db import transaction
from mp_mailer.models import Campaign, ExportRecord, Letter
from mp_mailer.services.send_log.filters import LetterFilter, letter_conditions

EXPORT_BATCH_SIZE = 2_000

EXPORT_COLUMNS: tuple[tuple[str, str], ...] = (
    ("letter_id", "The letter's number, as in the send log's address for it"),
    ("written_at", "When the supporter wrote it (UTC)"),
    ("campaign", "The campaign's title"),
    ("status", "awaiting_confirmation, queued, sending, retrying, sent, failed or cancelled"),
    ("mp_id", "The MP's id in the UK Parliament Members API"),
    ("mp_name", "The MP the letter was addressed to"),
    ("mp_party", "The MP's party when the letter was written"),
    ("constituency", "The supporter's constituency"),
    ("supporter_name", "The supporter's name"),
    ("supporter_email", "The supporter's email address"),
    ("supporter_postcode", "The supporter's postcode"),
    ("wants_updates", "yes if the supporter asked for campaign news"),
    ("confirmed_at", "When the supporter confirmed it (UTC); empty if never"),
    ("sent_at", "When the relay accepted it for the MP (UTC); empty if not sent"),
    ("attempts", "Delivery attempts since it was last queued"),
    ("last_error", "The relay's last refusal, if any"),
    ("message_id", "The email's Message-ID header, to find it in the relay's logs"),
    ("own_sentences", "The supporter's own sentences in the letter; empty before it was measured"),
    ("own_word_share", "Share of the letter's words that are the supporter's own, 0.00 to 1.00"),
)

_EXPORT_SELECT = (
    Letter.id,
    Letter.created_at,
    Campaign.title,
    Letter.status,
    Letter.mp_id,
    Letter.mp_name,
    Letter.mp_party,
    Letter.constituency_name,
    Letter.supporter_name,
    Letter.supporter_email,
    Letter.supporter_postcode,
    Letter.wants_updates,
    Letter.confirmed_at,
    Letter.sent_at,
    Letter.attempt_count,
    Letter.last_error,
    Letter.message_id,
    Letter.own_sentences,
    Letter.own_word_share,
)
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def record_export(
    session: Session, user_id: int, filters: Mapping[str, str], now: datetime
) -> ExportRecord:
    """Note who downloaded supporters' data, when, and with which filter (as the send log's URL
    parameters, so the list of exports can describe it and link to it)."""
    with transaction(session):
        record = ExportRecord(user_id=user_id, at=now, filters=dict(filters))
        session.add(record)
    return record


def export_csv(session: Session, letter_filter: LetterFilter) -> Iterator[str]:
    """The CSV of every letter the filter matches, newest first, yielded a batch at a time.

    Rows are fetched in batches (a server-side cursor on PostgreSQL), so memory stays flat however
    many letters match. Starts with a byte-order mark so spreadsheet programs read it as UTF-8.
    """
    query = (
        select(*_EXPORT_SELECT)
        .join(Campaign, Campaign.id == Letter.campaign_id)
        .where(*letter_conditions(session, letter_filter))
        .order_by(Letter.created_at.desc(), Letter.id.desc())
        .execution_options(stream_results=True, yield_per=EXPORT_BATCH_SIZE)
    )
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow([name for name, _ in EXPORT_COLUMNS])
    yield "\ufeff" + buffer.getvalue()
    result = session.execute(query)
    try:
        for batch in result.partitions():
            buffer.seek(0)
            buffer.truncate()
            writer.writerows([safe_cell(value) for value in row] for row in batch)
            yield buffer.getvalue()
    finally:
        result.close()


def safe_cell(value: Any) -> str:
    """A CSV cell that a spreadsheet shows as text: one starting =, +, -, @, tab or CR would be
    run as a formula, so it gets a leading apostrophe (OWASP's advice for CSV injection)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, datetime):
        return value.isoformat(sep=" ", timespec="seconds")
    if isinstance(value, float):
        return f"{value:.2f}"
    text = str(value)
    if isinstance(value, str) and text.startswith(_FORMULA_STARTS):
        return "'" + text
    return text


def recent_exports(session: Session, limit: int = 100) -> list[ExportRecord]:
    return list(
        session.scalars(
            select(ExportRecord)
            .options(joinedload(ExportRecord.user))
            .order_by(ExportRecord.at.desc(), ExportRecord.id.desc())
            .limit(limit)
        )
    )
