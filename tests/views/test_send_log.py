"""Staff use the send log: who may see it, filters, pages, a letter in full, retry and cancel,
the CSV export, figures and the list of MPs."""

from __future__ import annotations

import csv
import io
import itertools
import re
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session

from mp_mailer.db import utcnow
from mp_mailer.email_messages import new_message_id
from mp_mailer.models import (
    Campaign,
    ExportRecord,
    Letter,
    LetterEvent,
    LetterStatus,
    User,
    UserRole,
)
from mp_mailer.services.send_log.export import EXPORT_BATCH_SIZE, EXPORT_COLUMNS
from mp_mailer.services.send_log.listing import PAGE_SIZE
from tests.factories import cache_mp, create_campaign, create_letter
from tests.pages import ClientRequest, page_source, path_for
from tests.smtp_server import SmtpTestServer

LOG = path_for("send_log.list_letters")
_numbers = itertools.count(1)
LoginAs = Callable[..., User]
PostForm = Callable[..., Any]


def listed_ids(response: Any) -> list[int]:
    """The letter numbers in the log's table, top to bottom."""
    return [
        int(i)
        for i in re.findall(r'<th scope="row"><a href="/admin/letters/(\d+)', page_source(response))
    ]


def add_letters(session: Session, campaign: Campaign, count: int, **overrides: Any) -> list[int]:
    """Many letters in one statement; `created_at` steps back a minute per letter unless given."""
    start = overrides.pop("created_at", None)
    now = utcnow()
    rows = []
    for step in range(count):
        number = next(_numbers)
        rows.append(
            {
                "campaign_id": campaign.id,
                "template_id": campaign.templates[-1].id,
                "status": LetterStatus.SENT,
                "mp_id": 172,
                "mp_name": "Ms Diane Abbott",
                "mp_email": "diane.abbott.office@parliament.uk",
                "mp_party": "Independent",
                "constituency_id": 4074,
                "constituency_name": "Hackney North and Stoke Newington",
                "supporter_name": f"Bulk Supporter {number}",
                "supporter_email": f"bulk{number}@example.org",
                "supporter_address": "1 High Street\nLondon",
                "supporter_postcode": "N16 0AA",
                "subject": "Please act",
                "body": "Dear Ms Abbott,\n\nPlease act.",
                "message_id": new_message_id("freetibet.example"),
                "created_at": start or now - timedelta(minutes=step),
                "attempt_count": 1,
                "send_copy": False,
                "wants_updates": False,
                **overrides,
            }
        )
    ids = session.scalars(insert(Letter).returning(Letter.id, sort_by_parameter_order=True), rows)
    result = list(ids)
    session.commit()
    return result


def letter_status(session: Session, letter_id: int) -> LetterStatus:
    session.expire_all()
    status = session.scalar(select(Letter.status).where(Letter.id == letter_id))
    assert status is not None
    return status


# Who may see it ---------------------------------------------------------------------------------

STAFF_PAGES = [
    LOG,
    path_for("send_log.letter_detail", letter_id=1),
    path_for("send_log.export_letters"),
    path_for("send_log.figures"),
    path_for("send_log.list_mps"),
    path_for("send_log.list_exports"),
]


def test_send_log_redirects_to_login_when_nobody_is_logged_in(client: FlaskClient) -> None:
    response = client.get(LOG)

    assert response.status_code == 302
    assert response.headers["Location"].startswith(path_for("auth.login") + "?next=")


@pytest.mark.parametrize("url", STAFF_PAGES)
def test_send_log_pages_are_forbidden_when_a_campaigner_lacks_the_staff_role(
    client: FlaskClient, db_session: Session, login_as: LoginAs, url: str
) -> None:
    create_letter(db_session)
    login_as(UserRole.CAMPAIGNER)

    response = client.get(url)

    assert response.status_code == 403


def test_export_records_nothing_when_a_campaigner_is_refused(
    client: FlaskClient, db_session: Session, login_as: LoginAs
) -> None:
    login_as(UserRole.CAMPAIGNER)

    client.get(path_for("send_log.export_letters"))

    assert db_session.scalar(select(func.count()).select_from(ExportRecord)) == 0


def test_retry_is_forbidden_when_a_campaigner_posts_it(
    client: FlaskClient, db_session: Session, login_as: LoginAs, post_form: PostForm
) -> None:
    letter = create_letter(db_session, status=LetterStatus.FAILED)
    login_as(UserRole.CAMPAIGNER)

    response = post_form(
        path_for("send_log.retry_letter", letter_id=letter.id), {}, page_url=path_for("auth.login")
    )

    assert response.status_code == 403
    assert letter_status(db_session, letter.id) == LetterStatus.FAILED


def test_send_log_is_open_to_admins_when_they_are_not_staff(
    client: FlaskClient, db_session: Session, login_as: LoginAs
) -> None:
    letter = create_letter(db_session)
    login_as(UserRole.ADMIN)

    response = client.get(LOG)

    assert response.status_code == 200
    assert listed_ids(response) == [letter.id]


def test_every_send_log_route_requires_the_staff_role(app: Flask) -> None:
    views = {
        rule.endpoint: app.view_functions[rule.endpoint]
        for rule in app.url_map.iter_rules()
        if rule.endpoint.startswith("send_log.")
    }

    assert len(views) >= 8
    roles = {name: getattr(view, "required_roles", None) for name, view in views.items()}
    assert roles == dict.fromkeys(views, (UserRole.STAFF,))


# The log and its filters ------------------------------------------------------------------------


def test_send_log_lists_letters_newest_first_when_unfiltered(
    client: FlaskClient, db_session: Session, login_as: LoginAs
) -> None:
    campaign = create_campaign(db_session)
    now = utcnow()
    old = create_letter(db_session, campaign, created_at=now - timedelta(days=2))
    new = create_letter(db_session, campaign, created_at=now - timedelta(hours=1))
    middle = create_letter(db_session, campaign, created_at=now - timedelta(days=1))
    login_as(UserRole.STAFF)

    response = client.get(LOG)

    assert listed_ids(response) == [new.id, middle.id, old.id]


def test_send_log_row_shows_campaign_state_mp_supporter_times_and_attempts(
    client: FlaskClient, db_session: Session, login_as: LoginAs
) -> None:
    campaign = create_campaign(db_session, title="Ban Chen Quanguo")
    create_letter(
        db_session,
        campaign,
        status=LetterStatus.SENT,
        supporter_name="Jane Doe",
        supporter_email="jane@example.org",
        created_at=datetime(2026, 11, 20, 9, 15),
        sent_at=datetime(2026, 11, 20, 9, 16),
        attempt_count=2,
    )
    login_as(UserRole.STAFF)

    row = page_source(client.get(LOG)).split("<tbody>")[1].split("</tr>")[0]

    for expected in (
        "Ban Chen Quanguo",
        '<span class="tag tag--sent">Sent</span>',
        "Ms Diane Abbott",
        "Hackney North and Stoke Newington",
        "Jane Doe",
        "jane@example.org",
        '20 Nov 2026<span class="cell-secondary">09:15</span>',
        '20 Nov 2026<span class="cell-secondary">09:16</span>',
        '<td class="numeric">2</td>',
    ):
        assert expected in row


def test_campaign_filter_shows_only_that_campaigns_letters_when_chosen(
    client: FlaskClient, db_session: Session, login_as: LoginAs
) -> None:
    wanted, other = create_campaign(db_session), create_campaign(db_session)
    letter = create_letter(db_session, wanted)
    create_letter(db_session, other)
    login_as(UserRole.STAFF)

    response = client.get(LOG, query_string={"campaign": wanted.id})

    assert listed_ids(response) == [letter.id]


def test_status_filter_shows_only_letters_in_that_state_when_chosen(
    client: FlaskClient, db_session: Session, login_as: LoginAs
) -> None:
    campaign = create_campaign(db_session)
    failed = create_letter(db_session, campaign, status=LetterStatus.FAILED)
    create_letter(db_session, campaign, status=LetterStatus.SENT)
    create_letter(db_session, campaign, status=LetterStatus.QUEUED)
    login_as(UserRole.STAFF)

    response = client.get(LOG, query_string={"status": "failed"})

    assert listed_ids(response) == [failed.id]


def test_date_filter_includes_both_whole_days_when_given_a_range(
    client: FlaskClient, db_session: Session, login_as: LoginAs
) -> None:
    campaign = create_campaign(db_session)
    moments = [
        datetime(2026, 11, 9, 23, 59, 59),
        datetime(2026, 11, 10, 0, 0, 0),
        datetime(2026, 11, 12, 23, 59, 59),
        datetime(2026, 11, 13, 0, 0, 0),
    ]
    letters = [create_letter(db_session, campaign, created_at=moment) for moment in moments]
    login_as(UserRole.STAFF)

    response = client.get(LOG, query_string={"from": "2026-11-10", "to": "2026-11-12"})

    assert listed_ids(response) == [letters[2].id, letters[1].id]


def test_place_filter_finds_letters_to_a_constituency_when_given_its_exact_name(
    client: FlaskClient, db_session: Session, login_as: LoginAs
) -> None:
    cache_mp(db_session)
    cache_mp(
        db_session,
        id=4212,
        display_name="Mr Andy Slaughter",
        constituency_id=4001,
        constituency_name="Hammersmith and Chiswick",
        postcode=None,
    )
    campaign = create_campaign(db_session)
    hackney = create_letter(db_session, campaign)
    create_letter(
        db_session,
        campaign,
        mp_id=4212,
        mp_name="Mr Andy Slaughter",
        constituency_id=4001,
        constituency_name="Hammersmith and Chiswick",
    )
    login_as(UserRole.STAFF)

    response = client.get(LOG, query_string={"place": "hackney north and stoke newington"})

    assert listed_ids(response) == [hackney.id]


def test_place_filter_finds_letters_to_an_mp_when_given_part_of_their_name(
    client: FlaskClient, db_session: Session, login_as: LoginAs
) -> None:
    cache_mp(db_session)
    campaign = create_campaign(db_session)
    to_abbott = create_letter(db_session, campaign)
    create_letter(
        db_session, campaign, mp_id=999, constituency_id=998, constituency_name="Elsewhere"
    )
    login_as(UserRole.STAFF)

    response = client.get(LOG, query_string={"place": "abbott"})

    assert listed_ids(response) == [to_abbott.id]


def test_place_filter_matches_the_letters_own_names_when_the_mp_cache_has_no_match(
    client: FlaskClient, db_session: Session, login_as: LoginAs
) -> None:
    campaign = create_campaign(db_session)
    letter = create_letter(db_session, campaign, constituency_name="Islington North")
    create_letter(db_session, campaign)
    login_as(UserRole.STAFF)

    response = client.get(LOG, query_string={"place": "islington"})

    assert listed_ids(response) == [letter.id]


def test_search_finds_supporters_by_part_of_their_name_whatever_the_case(
    client: FlaskClient, db_session: Session, login_as: LoginAs
) -> None:
    campaign = create_campaign(db_session)
    jane = create_letter(db_session, campaign, supporter_name="Jane Doe-Smith")
    create_letter(db_session, campaign, supporter_name="John Brown")
    login_as(UserRole.STAFF)

    response = client.get(LOG, query_string={"q": "DOE-sm"})

    assert listed_ids(response) == [jane.id]


def test_search_finds_a_supporter_by_their_whole_email_when_typed_in_capitals(
    client: FlaskClient, db_session: Session, login_as: LoginAs
) -> None:
    campaign = create_campaign(db_session)
    jane = create_letter(db_session, campaign, supporter_email="jane@example.org")
    create_letter(db_session, campaign, supporter_email="not.jane@example.org")
    login_as(UserRole.STAFF)

    response = client.get(LOG, query_string={"q": " Jane@Example.ORG "})

    assert listed_ids(response) == [jane.id]


def test_search_finds_supporters_by_part_of_their_email(
    client: FlaskClient, db_session: Session, login_as: LoginAs
) -> None:
    campaign = create_campaign(db_session)
    letter = create_letter(db_session, campaign, supporter_email="jane.doe@example.org")
    create_letter(db_session, campaign, supporter_email="john@example.org")
    login_as(UserRole.STAFF)

    response = client.get(LOG, query_string={"q": "jane.doe@"})

    assert listed_ids(response) == [letter.id]


def test_search_treats_percent_and_underscore_as_plain_characters(
    client: FlaskClient, db_session: Session, login_as: LoginAs
) -> None:
    campaign = create_campaign(db_session)
    underscored = create_letter(db_session, campaign, supporter_email="jane_doe@example.org")
    create_letter(db_session, campaign, supporter_email="janexdoe@example.org")
    login_as(UserRole.STAFF)

    underscore = client.get(LOG, query_string={"q": "jane_"})
    percent = client.get(LOG, query_string={"q": "%"})

    assert listed_ids(underscore) == [underscored.id]
    assert listed_ids(percent) == []


def test_filters_combine_when_several_are_given(
    client: FlaskClient, db_session: Session, login_as: LoginAs
) -> None:
    wanted, other = create_campaign(db_session), create_campaign(db_session)
    match = create_letter(
        db_session, wanted, status=LetterStatus.FAILED, supporter_name="Jane Smith"
    )
    create_letter(db_session, wanted, status=LetterStatus.SENT, supporter_name="Jane Smith")
    create_letter(db_session, wanted, status=LetterStatus.FAILED, supporter_name="Amir Khan")
    create_letter(db_session, other, status=LetterStatus.FAILED, supporter_name="Jane Smith")
    login_as(UserRole.STAFF)

    response = client.get(
        LOG, query_string={"campaign": wanted.id, "status": "failed", "q": "smith"}
    )

    assert listed_ids(response) == [match.id]


def test_send_log_shows_what_is_wrong_and_still_lists_when_a_date_is_not_a_date(
    client: FlaskClient, db_session: Session, login_as: LoginAs
) -> None:
    letter = create_letter(db_session)
    login_as(UserRole.STAFF)

    response = client.get(LOG, query_string={"from": "31/02/2026"})

    page = page_source(response)
    assert response.status_code == 200
    assert '<a href="#filter-from">Enter the start date as a real date' in page
    assert listed_ids(response) == [letter.id]


def test_send_log_refuses_an_end_date_before_the_start_date(
    client: FlaskClient, db_session: Session, login_as: LoginAs
) -> None:
    login_as(UserRole.STAFF)

    response = client.get(LOG, query_string={"from": "2026-11-10", "to": "2026-11-01"})

    assert "The end date must be the same as or after the start date." in page_source(response)


def test_send_log_counts_the_letters_that_match_the_filter(
    client: FlaskClient, db_session: Session, login_as: LoginAs
) -> None:
    campaign = create_campaign(db_session)
    add_letters(db_session, campaign, 3, status=LetterStatus.FAILED)
    add_letters(db_session, campaign, 2, status=LetterStatus.SENT)
    login_as(UserRole.STAFF)

    response = client.get(LOG, query_string={"status": "failed"})

    assert re.search(r"<strong>3</strong> letters\s+where", page_source(response))


# Pages ------------------------------------------------------------------------------------------


def older_link(response: Any) -> str | None:
    match = re.search(r'href="([^"]+)" rel="next"', page_source(response))
    return match.group(1) if match else None


def newer_link(response: Any) -> str | None:
    match = re.search(r'href="([^"]+)" rel="prev"', page_source(response))
    return match.group(1) if match else None


def test_pagination_offers_no_older_page_when_the_letters_fill_exactly_one_page(
    client: FlaskClient, db_session: Session, login_as: LoginAs
) -> None:
    add_letters(db_session, create_campaign(db_session), PAGE_SIZE)
    login_as(UserRole.STAFF)

    response = client.get(LOG)

    assert len(listed_ids(response)) == PAGE_SIZE
    assert older_link(response) is None
    assert newer_link(response) is None


def test_pagination_puts_the_oldest_letter_on_a_second_page_when_one_more_than_a_page(
    client: FlaskClient, db_session: Session, login_as: LoginAs
) -> None:
    ids = add_letters(db_session, create_campaign(db_session), PAGE_SIZE + 1)
    login_as(UserRole.STAFF)

    first = client.get(LOG)
    link = older_link(first)
    assert link is not None
    second = client.get(link)

    assert listed_ids(first) == ids[:PAGE_SIZE]
    assert listed_ids(second) == [ids[-1]]
    assert older_link(second) is None


def test_pagination_returns_to_the_same_first_page_when_following_newer(
    client: FlaskClient, db_session: Session, login_as: LoginAs
) -> None:
    add_letters(db_session, create_campaign(db_session), PAGE_SIZE + 5)
    login_as(UserRole.STAFF)
    first = client.get(LOG)
    second = client.get(older_link(first) or "")

    link = newer_link(second)
    assert link is not None
    back = client.get(link)

    assert listed_ids(back) == listed_ids(first)
    assert newer_link(back) is None


def test_pagination_walks_every_letter_once_when_many_were_written_at_the_same_moment(
    client: FlaskClient, db_session: Session, login_as: LoginAs
) -> None:
    ids = add_letters(
        db_session, create_campaign(db_session), PAGE_SIZE * 2 + 7, created_at=datetime(2026, 11, 1)
    )
    login_as(UserRole.STAFF)

    seen: list[int] = []
    url: str | None = LOG
    while url:
        response = client.get(url)
        seen += listed_ids(response)
        url = older_link(response)

    assert seen == sorted(ids, reverse=True)


def test_pagination_links_keep_the_filter(
    client: FlaskClient, db_session: Session, login_as: LoginAs
) -> None:
    add_letters(db_session, create_campaign(db_session), PAGE_SIZE + 1, status=LetterStatus.FAILED)
    login_as(UserRole.STAFF)

    response = client.get(LOG, query_string={"status": "failed", "q": "bulk"})

    link = older_link(response) or ""
    assert "status=failed" in link
    assert "q=bulk" in link


# One letter -------------------------------------------------------------------------------------


def test_letter_page_shows_each_attempt_with_the_relays_reply_when_delivery_failed(
    client_request: ClientRequest,
    client: FlaskClient,
    db_session: Session,
    login_as: LoginAs,
    smtp_server: SmtpTestServer,
    deliver: Callable[[], int],
) -> None:
    letter = create_letter(db_session)
    smtp_server.fail_next(550, "5.1.1 Recipient address rejected: User unknown", stage="rcpt")
    deliver()
    assert letter_status(db_session, letter.id) == LetterStatus.FAILED
    login_as(UserRole.STAFF)

    page = client_request.get("send_log.letter_detail", letter_id=letter.id).source

    attempts = page.split('id="attempts-title"')[1].split("</section>")[0]
    assert "Letter to MP" in attempts
    assert '<span class="tag tag--failed">Refused</span>' in attempts
    assert "550 5.1.1 Recipient address rejected: User unknown" in attempts


def test_letter_page_shows_the_email_exactly_as_the_mp_received_it_when_sent(
    client_request: ClientRequest,
    client: FlaskClient,
    db_session: Session,
    login_as: LoginAs,
    smtp_server: SmtpTestServer,
    deliver: Callable[[], int],
) -> None:
    letter = create_letter(db_session, subject="Sanctions now", body="Dear Ms Abbott,\n\nAct.")
    deliver()
    received = smtp_server.wait_for_messages(1)[0]
    login_as(UserRole.STAFF)

    page = client_request.get("send_log.letter_detail", letter_id=letter.id).source

    for header in ("From", "To", "Reply-To", "Subject", "Message-ID", "Date"):
        assert f'<th scope="row">{header}</th><td>{received[header]}</td>' in page
    assert received.get_content().strip() in page
    assert "250 2.0.0 OK queued as test-1" in page


def test_letter_page_shows_the_history_with_times_and_who_made_each_change(
    client_request: ClientRequest,
    client: FlaskClient,
    db_session: Session,
    login_as: LoginAs,
    post_form: PostForm,
) -> None:
    letter = create_letter(db_session, status=LetterStatus.QUEUED)
    staff = login_as(UserRole.STAFF, email="alex@example.org")
    post_form(
        path_for("send_log.cancel_letter", letter_id=letter.id),
        {},
        page_url=path_for("send_log.letter_detail", letter_id=letter.id),
    )
    event = db_session.scalars(select(LetterEvent).where(LetterEvent.letter_id == letter.id)).one()

    page = client_request.get("send_log.letter_detail", letter_id=letter.id).source

    history = page.split('id="history-title"')[1]
    assert event.actor_id == staff.id
    assert event.at.strftime("%b %Y, %H:%M") in history
    assert '<span class="tag tag--queued">Queued</span>' in history
    assert '<span class="tag tag--cancelled">Cancelled</span>' in history
    assert "<strong>alex@example.org</strong>" in history
    assert "cancelled by staff" in history


def test_letter_page_shows_the_template_version_used(
    client_request: ClientRequest, client: FlaskClient, db_session: Session, login_as: LoginAs
) -> None:
    letter = create_letter(db_session)
    login_as(UserRole.STAFF)

    page = client_request.get("send_log.letter_detail", letter_id=letter.id).source

    assert "<dt>Template</dt><dd>Version 1" in page


def test_letter_page_is_not_found_when_there_is_no_such_letter(
    client: FlaskClient, login_as: LoginAs
) -> None:
    login_as(UserRole.STAFF)

    assert client.get(path_for("send_log.letter_detail", letter_id=424242)).status_code == 404


# Retry and cancel -------------------------------------------------------------------------------


def act(post_form: PostForm, letter_id: int, action: str) -> Any:
    return post_form(
        path_for(f"send_log.{action}_letter", letter_id=letter_id),
        {},
        page_url=path_for("send_log.letter_detail", letter_id=letter_id),
        follow_redirects=True,
    )


def test_retry_queues_a_failed_letter_and_records_who_asked(
    db_session: Session, login_as: LoginAs, post_form: PostForm
) -> None:
    letter = create_letter(db_session, status=LetterStatus.FAILED, attempt_count=8)
    staff = login_as(UserRole.STAFF)

    response = act(post_form, letter.id, "retry")

    assert "The letter is queued to be sent again." in page_source(response)
    assert letter_status(db_session, letter.id) == LetterStatus.QUEUED
    event = db_session.scalars(select(LetterEvent)).one()
    assert (event.from_status, event.to_status, event.actor_id) == ("failed", "queued", staff.id)


def test_retry_is_refused_when_the_letter_was_already_retried(
    db_session: Session, login_as: LoginAs, post_form: PostForm
) -> None:
    letter = create_letter(db_session, status=LetterStatus.FAILED)
    login_as(UserRole.STAFF)
    act(post_form, letter.id, "retry")

    response = act(post_form, letter.id, "retry")

    assert response.status_code == 200
    assert "This letter is queued now, so it can&#39;t be retried." in response.data.decode()
    assert db_session.scalar(select(func.count()).select_from(LetterEvent)) == 1


def test_retry_is_refused_when_the_letter_was_sent(
    db_session: Session, login_as: LoginAs, post_form: PostForm
) -> None:
    letter = create_letter(db_session, status=LetterStatus.SENT)
    login_as(UserRole.STAFF)

    response = act(post_form, letter.id, "retry")

    assert "This letter is sent now, so it can't be retried." in page_source(response)
    assert letter_status(db_session, letter.id) == LetterStatus.SENT


def test_cancel_stops_a_queued_letter_and_records_who_asked(
    db_session: Session, login_as: LoginAs, post_form: PostForm
) -> None:
    letter = create_letter(db_session, status=LetterStatus.QUEUED)
    staff = login_as(UserRole.STAFF)

    response = act(post_form, letter.id, "cancel")

    assert "The letter is cancelled: it will not be sent." in page_source(response)
    assert letter_status(db_session, letter.id) == LetterStatus.CANCELLED
    event = db_session.scalars(select(LetterEvent)).one()
    assert (event.from_status, event.to_status, event.actor_id) == ("queued", "cancelled", staff.id)


def test_cancel_is_refused_when_the_letter_was_already_cancelled(
    db_session: Session, login_as: LoginAs, post_form: PostForm
) -> None:
    letter = create_letter(db_session, status=LetterStatus.QUEUED)
    login_as(UserRole.STAFF)
    act(post_form, letter.id, "cancel")

    response = act(post_form, letter.id, "cancel")

    assert "This letter is cancelled now, so it can't be cancelled." in page_source(response)
    assert db_session.scalar(select(func.count()).select_from(LetterEvent)) == 1


def test_cancel_is_refused_when_the_letter_was_sent(
    db_session: Session, login_as: LoginAs, post_form: PostForm
) -> None:
    letter = create_letter(db_session, status=LetterStatus.SENT)
    login_as(UserRole.STAFF)

    response = act(post_form, letter.id, "cancel")

    assert "This letter is sent now, so it can't be cancelled." in page_source(response)
    assert letter_status(db_session, letter.id) == LetterStatus.SENT


def test_cancelled_letter_never_reaches_the_mp(
    db_session: Session,
    login_as: LoginAs,
    post_form: PostForm,
    smtp_server: SmtpTestServer,
    deliver: Callable[[], int],
) -> None:
    letter = create_letter(db_session, status=LetterStatus.QUEUED)
    login_as(UserRole.STAFF)

    act(post_form, letter.id, "cancel")
    deliver()

    assert smtp_server.messages == []


def test_letter_retried_twice_reaches_the_mp_once(
    db_session: Session,
    login_as: LoginAs,
    post_form: PostForm,
    smtp_server: SmtpTestServer,
    deliver: Callable[[], int],
) -> None:
    letter = create_letter(db_session, status=LetterStatus.FAILED)
    login_as(UserRole.STAFF)

    act(post_form, letter.id, "retry")
    act(post_form, letter.id, "retry")
    deliver()
    act(post_form, letter.id, "retry")
    deliver()

    assert len(smtp_server.messages) == 1
    assert letter_status(db_session, letter.id) == LetterStatus.SENT


def test_retry_is_rejected_when_the_form_has_no_csrf_token(
    client: FlaskClient, db_session: Session, login_as: LoginAs
) -> None:
    letter = create_letter(db_session, status=LetterStatus.FAILED)
    login_as(UserRole.STAFF)

    response = client.post(path_for("send_log.retry_letter", letter_id=letter.id))

    assert response.status_code == 400
    assert letter_status(db_session, letter.id) == LetterStatus.FAILED


# Export -----------------------------------------------------------------------------------------


def read_csv(response: Any) -> list[list[str]]:
    """Read a streamed response to the end, then close it as a WSGI server would."""
    with response:
        text = b"".join(response.response).decode("utf-8-sig")
    return list(csv.reader(io.StringIO(text)))


def test_export_streams_the_csv_in_batches_when_there_are_many_letters(
    client: FlaskClient, db_session: Session, login_as: LoginAs
) -> None:
    count = EXPORT_BATCH_SIZE * 2 + 500
    add_letters(db_session, create_campaign(db_session), count)
    login_as(UserRole.STAFF)

    with client.get(path_for("send_log.export_letters")) as response:
        streamed, headers = response.is_streamed, response.headers
        chunks = list(response.response)

    assert streamed
    assert "Content-Length" not in headers
    assert len(chunks) == 1 + 3  # the header, then one chunk per batch of rows
    rows = list(csv.reader(io.StringIO(b"".join(chunks).decode("utf-8-sig"))))
    assert len(rows) == count + 1


def test_export_is_a_csv_attachment_with_the_documented_columns(
    client: FlaskClient, db_session: Session, login_as: LoginAs
) -> None:
    create_letter(db_session, supporter_name="Jane Doe")
    login_as(UserRole.STAFF)

    response = client.get(path_for("send_log.export_letters"))

    assert response.mimetype == "text/csv"
    assert response.headers["Content-Disposition"].startswith('attachment; filename="letters-')
    rows = read_csv(response)
    assert rows[0] == [name for name, _ in EXPORT_COLUMNS]
    assert dict(zip(rows[0], rows[1], strict=True))["supporter_name"] == "Jane Doe"


def test_export_contains_only_the_letters_matching_the_filter(
    client: FlaskClient, db_session: Session, login_as: LoginAs
) -> None:
    campaign = create_campaign(db_session)
    failed = create_letter(db_session, campaign, status=LetterStatus.FAILED)
    create_letter(db_session, campaign, status=LetterStatus.SENT)
    login_as(UserRole.STAFF)

    rows = read_csv(
        client.get(path_for("send_log.export_letters"), query_string={"status": "failed"})
    )

    assert [row[0] for row in rows[1:]] == [str(failed.id)]


def test_export_neutralises_cells_a_spreadsheet_would_run_as_formulas(
    client: FlaskClient, db_session: Session, login_as: LoginAs
) -> None:
    campaign = create_campaign(db_session)
    names = ['=HYPERLINK("http://evil.example","x")', "+44 20", "-1+1", "@SUM(A1)", "\tTab", "Ann"]
    for name in names:
        create_letter(db_session, campaign, supporter_name=name)
    login_as(UserRole.STAFF)

    rows = read_csv(client.get(path_for("send_log.export_letters")))

    column = rows[0].index("supporter_name")
    assert sorted(row[column] for row in rows[1:]) == sorted(
        ["'" + name for name in names[:-1]] + ["Ann"]
    )


def test_export_records_who_downloaded_and_with_which_filter(
    client: FlaskClient, db_session: Session, login_as: LoginAs
) -> None:
    campaign = create_campaign(db_session)
    staff = login_as(UserRole.STAFF)

    read_csv(
        client.get(
            path_for("send_log.export_letters"), query_string={"campaign": campaign.id, "q": "jane"}
        )
    )

    record = db_session.scalars(select(ExportRecord)).one()
    assert record.user_id == staff.id
    assert record.filters == {"campaign": str(campaign.id), "q": "jane"}
    assert utcnow() - record.at < timedelta(minutes=1)


def test_export_history_lists_each_download_with_its_filter(
    client_request: ClientRequest, client: FlaskClient, db_session: Session, login_as: LoginAs
) -> None:
    campaign = create_campaign(db_session, title="Ban Chen Quanguo")
    login_as(UserRole.STAFF, email="alex@example.org")
    read_csv(
        client.get(path_for("send_log.export_letters"), query_string={"campaign": campaign.id})
    )

    page = client_request.get("send_log.list_exports").source

    assert '<th scope="row">alex@example.org</th>' in page
    assert "Campaign: <strong>Ban Chen Quanguo</strong>" in page


def test_export_sends_back_to_the_log_when_the_filter_is_not_understood(
    client: FlaskClient, db_session: Session, login_as: LoginAs
) -> None:
    login_as(UserRole.STAFF)

    response = client.get(path_for("send_log.export_letters"), query_string={"from": "yesterday"})

    assert response.status_code == 302
    assert response.headers["Location"] == path_for(
        "send_log.list_letters", **{"from": "yesterday"}
    )
    assert db_session.scalar(select(func.count()).select_from(ExportRecord)) == 0


def test_log_page_documents_each_export_column(
    client: FlaskClient, db_session: Session, login_as: LoginAs
) -> None:
    login_as(UserRole.STAFF)

    page = page_source(client.get(LOG))

    for name, description in EXPORT_COLUMNS:
        assert f"<dt><code>{name}</code></dt><dd>{description}</dd>" in page


# Figures and MPs --------------------------------------------------------------------------------


def stat(page: str, label: str) -> str:
    value = r'<span class="stat__value">([^<]*)(?:<small>[^<]*</small>)?</span>'
    match = re.search(value + r' <span class="stat__label">' + re.escape(label), page)
    assert match, f"no figure labelled {label!r}"
    return match.group(1)


def test_figures_count_letters_by_state_for_the_chosen_campaign(
    client_request: ClientRequest, client: FlaskClient, db_session: Session, login_as: LoginAs
) -> None:
    campaign, other = create_campaign(db_session), create_campaign(db_session)
    add_letters(db_session, campaign, 3, status=LetterStatus.SENT)
    add_letters(db_session, campaign, 2, status=LetterStatus.FAILED)
    add_letters(db_session, campaign, 1, status=LetterStatus.QUEUED)
    add_letters(db_session, other, 7, status=LetterStatus.SENT)
    login_as(UserRole.STAFF)

    page = client_request.get("send_log.figures", **{"campaign": campaign.id}).source

    assert stat(page, "letters written") == "6"
    assert stat(page, "sent to MPs") == "3"
    assert stat(page, "failed") == "2"
    assert stat(page, "waiting") == "1"


def test_figures_leave_out_letters_written_before_the_period(
    client_request: ClientRequest, client: FlaskClient, db_session: Session, login_as: LoginAs
) -> None:
    campaign = create_campaign(db_session)
    add_letters(db_session, campaign, 2, created_at=utcnow() - timedelta(days=3))
    add_letters(db_session, campaign, 5, created_at=utcnow() - timedelta(days=10))
    login_as(UserRole.STAFF)

    week = client_request.get("send_log.figures", **{"period": "7"}).source
    ever = client_request.get("send_log.figures", **{"period": "all"}).source

    assert stat(week, "letters written") == "2"
    assert stat(ever, "letters written") == "7"


def test_figures_confirmation_rate_is_confirmed_letters_of_those_that_needed_confirming(
    client_request: ClientRequest, client: FlaskClient, db_session: Session, login_as: LoginAs
) -> None:
    campaign = create_campaign(db_session)
    asked = utcnow() - timedelta(hours=2)
    add_letters(db_session, campaign, 3, confirmation_sent_at=asked, confirmed_at=utcnow())
    add_letters(
        db_session,
        campaign,
        1,
        status=LetterStatus.AWAITING_CONFIRMATION,
        confirmation_sent_at=asked,
    )
    add_letters(db_session, campaign, 4)
    login_as(UserRole.STAFF)

    page = client_request.get("send_log.figures").source

    assert stat(page, "confirmed by the supporter (3 of 4 asked)") == "75%"


def test_figures_count_current_mps_reached_out_of_all_current_mps(
    client_request: ClientRequest, client: FlaskClient, db_session: Session, login_as: LoginAs
) -> None:
    cache_mp(db_session)
    cache_mp(db_session, id=4212, constituency_id=4001, constituency_name="Ealing", postcode=None)
    cache_mp(
        db_session,
        id=9,
        constituency_id=9,
        constituency_name="Gone",
        postcode=None,
        is_current=False,
    )
    campaign = create_campaign(db_session)
    add_letters(db_session, campaign, 2, status=LetterStatus.SENT)
    add_letters(db_session, campaign, 1, status=LetterStatus.SENT, mp_id=9)
    add_letters(db_session, campaign, 1, status=LetterStatus.FAILED, mp_id=4212)
    login_as(UserRole.STAFF)

    page = client_request.get("send_log.figures").source

    assert re.search(r'stat__value">1<small> / 2</small>', page)


def test_figures_chart_is_inline_svg_drawn_by_pygal_without_scripts(
    client_request: ClientRequest, client: FlaskClient, db_session: Session, login_as: LoginAs
) -> None:
    add_letters(db_session, create_campaign(db_session), 3)
    login_as(UserRole.STAFF)

    page = client_request.get("send_log.figures").source

    chart = page.split('class="chart__svg"')[1].split("</figure>")[0]
    assert "<svg" in chart
    assert "pygal" in chart
    assert "<script" not in chart


def test_figures_rank_constituencies_by_letters_written(
    client_request: ClientRequest, client: FlaskClient, db_session: Session, login_as: LoginAs
) -> None:
    campaign = create_campaign(db_session)
    add_letters(db_session, campaign, 1, constituency_name="Ealing")
    add_letters(db_session, campaign, 3, constituency_name="Bristol Central")
    add_letters(db_session, campaign, 2, constituency_name="Aberdeen")
    login_as(UserRole.STAFF)

    page = client_request.get("send_log.figures").source

    table = page.split('id="constituencies-title"')[1].split("</table>")[0]
    ranked = re.findall(
        r'<th scope="row"><a href="[^"]*">([^<]+)</a></th><td class="numeric">(\d+)', table
    )
    assert ranked == [("Bristol Central", "3"), ("Aberdeen", "2"), ("Ealing", "1")]


def test_figures_count_letters_by_the_mps_party(
    client_request: ClientRequest, client: FlaskClient, db_session: Session, login_as: LoginAs
) -> None:
    campaign = create_campaign(db_session)
    add_letters(db_session, campaign, 2, mp_party="Labour")
    add_letters(db_session, campaign, 1, mp_party="Green Party")
    login_as(UserRole.STAFF)

    page = client_request.get("send_log.figures").source

    table = page.split('id="parties-title"')[1].split("</table>")[0]
    parties = re.findall(r'</span>([^<]+)</th>.*?<td class="numeric">(\d+)</td>', table, re.S)
    assert parties == [("Labour", "2"), ("Green Party", "1")]


def test_mps_page_lists_only_mps_not_yet_written_to_when_asked(
    client_request: ClientRequest, client: FlaskClient, db_session: Session, login_as: LoginAs
) -> None:
    cache_mp(db_session)
    cache_mp(
        db_session,
        id=4212,
        display_name="Mr Andy Slaughter",
        constituency_id=4001,
        constituency_name="Hammersmith and Chiswick",
        postcode=None,
    )
    add_letters(db_session, create_campaign(db_session), 2, status=LetterStatus.SENT)
    login_as(UserRole.STAFF)

    everyone = client_request.get("send_log.list_mps").source
    unwritten = client_request.get("send_log.list_mps", **{"not_written": "1"}).source

    assert "Ms Diane Abbott" in everyone and "Mr Andy Slaughter" in everyone
    assert "Ms Diane Abbott" not in unwritten and "Mr Andy Slaughter" in unwritten
    assert "<strong>1</strong> of 2 current MPs have received a letter" in everyone


def test_mps_page_puts_the_most_written_to_first_when_sorted_by_letters(
    client_request: ClientRequest, client: FlaskClient, db_session: Session, login_as: LoginAs
) -> None:
    cache_mp(db_session)
    cache_mp(
        db_session,
        id=4212,
        display_name="Mr Andy Slaughter",
        constituency_id=4001,
        constituency_name="Aaa First Alphabetically",
        postcode=None,
    )
    add_letters(db_session, create_campaign(db_session), 2, status=LetterStatus.SENT)
    login_as(UserRole.STAFF)

    by_letters = client_request.get("send_log.list_mps", **{"sort": "letters"}).source
    by_seat = client_request.get("send_log.list_mps").source

    assert by_letters.index("Ms Diane Abbott") < by_letters.index("Mr Andy Slaughter")
    assert by_seat.index("Mr Andy Slaughter") < by_seat.index("Ms Diane Abbott")


def test_send_log_links_each_filter_problem_to_its_field_when_a_date_is_unreadable(
    client_request: ClientRequest, login_as: LoginAs
) -> None:
    login_as(UserRole.STAFF)

    page = client_request.get("send_log.list_letters", **{"from": "soon"})

    assert page.title == "Error: Send log"
    assert page.errors == (
        "There is a problem with the filter Enter the start date as a real date, like 2026-11-25."
    )
    link = page.soup.select_one(".error-summary a")
    assert link is not None and link["href"] == "#filter-from"
    assert page.text("#filter-from-error") == (
        "Error: Enter the start date as a real date, like 2026-11-25."
    )
