"""`mp-mailer seed-demo`: made-up MPs and letters for trying the staff pages, never by accident."""

from __future__ import annotations

from collections.abc import Callable

from click.testing import Result
from flask import Flask
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from mp_mailer.db import utcnow
from mp_mailer.demo.seeding import seed_demo as write_demo
from mp_mailer.models import CachedMember, DeliveryAttempt, EmailKind, Letter, LetterEvent
from tests.factories import create_letter
from tests.smtp_server import SmtpTestServer


def seed_demo(app: Flask, *args: str, answer: str | None = None) -> Result:
    """Run the command as `mp-mailer seed-demo` does, inside the app's context."""
    with app.app_context():
        return app.test_cli_runner().invoke(args=["seed-demo", *args], input=answer)


def letter_count(session: Session) -> int:
    session.expire_all()
    return session.scalar(select(func.count()).select_from(Letter)) or 0


def test_seed_demo_writes_nothing_when_the_question_is_answered_no(
    app: Flask, db_session: Session
) -> None:
    result = seed_demo(app, "--letters", "20", answer="n\n")

    assert result.exit_code == 1
    assert "Write 650 made-up MPs and 20 letters to " in result.output
    assert letter_count(db_session) == 0


def test_seed_demo_writes_letters_in_every_final_state_with_attempts_and_history(
    app: Flask, db_session: Session
) -> None:
    result = seed_demo(app, "--letters", "300", "--yes")

    assert result.exit_code == 0, result.output
    assert "Added 300 demo letters" in result.output
    statuses = set(db_session.scalars(select(Letter.status).distinct()))
    assert {"sent", "failed", "awaiting_confirmation", "cancelled"} <= statuses
    sent = db_session.scalars(select(Letter).where(Letter.status == "sent")).all()
    assert all(letter.sent_message and letter.sent_at for letter in sent)
    assert all(
        any(attempt.kind == EmailKind.LETTER for attempt in letter.attempts) for letter in sent
    )
    events = db_session.scalar(select(func.count()).select_from(LetterEvent)) or 0
    assert events >= 300


def test_seed_demo_caches_650_current_mps_marked_as_demo(app: Flask, db_session: Session) -> None:
    seed_demo(app, "--letters", "10", "--yes")

    members = db_session.scalars(select(CachedMember).where(CachedMember.is_current)).all()
    assert len(members) == 650
    assert all((m.constituency_name or "").endswith("(demo)") for m in members)
    assert len({m.party_name for m in members}) > 10


def test_seed_demo_refuses_to_seed_twice(app: Flask, db_session: Session) -> None:
    seed_demo(app, "--letters", "10", "--yes")

    again = seed_demo(app, "--letters", "10", "--yes")

    assert again.exit_code == 1
    assert "already has 10 letters, so nothing was added" in again.output
    assert letter_count(db_session) == 10


def test_seed_demo_refuses_when_the_database_already_has_real_letters(
    app: Flask, db_session: Session
) -> None:
    create_letter(db_session)

    result = seed_demo(app, "--letters", "10", "--yes")

    assert result.exit_code == 1
    assert letter_count(db_session) == 1
    assert db_session.scalar(select(func.count()).select_from(CachedMember)) == 0


def test_seed_demo_uses_only_reserved_example_domains(app: Flask, db_session: Session) -> None:
    seed_demo(app, "--letters", "100", "--yes")

    rows = db_session.execute(select(Letter.mp_email, Letter.supporter_email)).all()
    domains = {email.rsplit("@", 1)[1] for row in rows for email in row}
    assert domains == {"parliament.example", "example.org", "example.com", "example.net"}


def test_seed_demo_letters_are_never_picked_up_by_the_worker(
    app: Flask, db_session: Session, smtp_server: SmtpTestServer, deliver: Callable[[], int]
) -> None:
    seed_demo(app, "--letters", "200", "--yes")
    attempts_before = db_session.scalar(select(func.count()).select_from(DeliveryAttempt))

    delivered = deliver()

    assert delivered == 0
    assert smtp_server.messages == []
    assert db_session.scalar(select(func.count()).select_from(DeliveryAttempt)) == attempts_before


def test_seed_demo_refuses_before_asking_when_the_database_already_has_letters(
    app: Flask, db_session: Session
) -> None:
    create_letter(db_session)

    result = seed_demo(app, "--letters", "10", answer="y\n")

    assert result.exit_code == 1
    assert "already has 1 letters" in result.output
    assert "Write 650 made-up MPs" not in result.output


def test_seed_demo_reports_how_many_letters_are_written_when_done(app: Flask) -> None:
    result = seed_demo(app, "--letters", "300", "--yes")

    assert "Writing 300 demo letters…" in result.output
    assert "  300 of 300 letters written" in result.output


def test_seed_demo_service_reports_progress_after_every_batch_when_asked(
    db_session: Session,
) -> None:
    heard: list[int] = []

    write_demo(db_session, 1_200, utcnow(), progress=heard.append)

    assert heard == [500, 1_000, 1_200]
