"""Postcode to MP through the cache: fresh answers cost no API call, outages use the cache."""

from __future__ import annotations

from datetime import timedelta

import pytest
import responses
from flask import Flask
from responses import matchers
from sqlalchemy.orm import Session

from mp_mailer.clients.parliament import MembersApiClient
from mp_mailer.db import utcnow
from mp_mailer.models import CachedMember
from mp_mailer.services.lookup_problems import (
    LookupBusy,
    LookupUnavailable,
    PostcodeNotFound,
    TooManyLookups,
)
from mp_mailer.services.mp_cache import MpDetails
from mp_mailer.services.mp_lookup import CacheLifetimes, LookupBudget, find_mp_for_postcode
from tests.conftest import MEMBERS_API_URL
from tests.factories import cache_mp
from tests.members_api_fixtures import add_postcode_responses, load_fixture

LIFETIMES = CacheLifetimes(postcode=timedelta(days=30), member=timedelta(hours=12))


def look_up(app: Flask, db_session: Session, postcode: str = "SW1A 1AA") -> MpDetails:
    client: MembersApiClient = app.extensions["mp_mailer.members_api"]
    return find_mp_for_postcode(db_session, client, postcode, utcnow(), LIFETIMES)


def test_lookup_asks_the_api_and_returns_the_mp_with_their_email(
    app: Flask, db_session: Session
) -> None:
    mp = look_up(app, db_session)

    assert (mp.id, mp.name, mp.address_as) == (172, "Ms Diane Abbott", "Ms Abbott")
    assert mp.constituency_name == "Hackney North and Stoke Newington"
    assert mp.email == "diane.abbott.office@parliament.uk"
    assert mp.party_colour == "#909090"


def test_lookup_of_a_repeated_postcode_makes_no_api_call(
    app: Flask, db_session: Session, members_api: responses.RequestsMock
) -> None:
    look_up(app, db_session)
    calls_after_first = len(members_api.calls)

    look_up(app, db_session, "sw1a1aa")

    assert calls_after_first == 2
    assert len(members_api.calls) == calls_after_first


def test_lookup_refreshes_a_cached_mp_once_the_cache_has_expired(
    app: Flask, db_session: Session, members_api: responses.RequestsMock
) -> None:
    cache_mp(db_session, refreshed_at=utcnow() - timedelta(days=2), email="old@parliament.uk")

    mp = look_up(app, db_session)

    assert mp.email == "diane.abbott.office@parliament.uk"
    assert len(members_api.calls) == 2


def test_lookup_answers_from_a_stale_cache_when_the_api_is_down(
    app: Flask, db_session: Session
) -> None:
    cache_mp(db_session, refreshed_at=utcnow() - timedelta(days=2))
    with responses.RequestsMock() as outage:
        outage.get(f"{MEMBERS_API_URL}/Location/Constituency/Search", status=503)

        mp = look_up(app, db_session)

    assert mp.id == 172


def test_lookup_says_try_later_when_the_api_is_down_and_nothing_is_cached(
    app: Flask, db_session: Session
) -> None:
    with responses.RequestsMock() as outage:
        outage.get(f"{MEMBERS_API_URL}/Location/Constituency/Search", status=503)

        with pytest.raises(LookupUnavailable):
            look_up(app, db_session)


def look_up_with(
    app: Flask,
    db_session: Session,
    postcode: str,
    budget: LookupBudget | None = None,
    client_address: str = "192.0.2.1",
    lifetimes: CacheLifetimes = LIFETIMES,
) -> MpDetails:
    client: MembersApiClient = app.extensions["mp_mailer.members_api"]
    return find_mp_for_postcode(
        db_session,
        client,
        postcode,
        utcnow(),
        lifetimes,
        budget=budget,
        client_address=client_address,
    )


def budget(per_address: str = "100 per minute", site_wide: str = "100 per minute") -> LookupBudget:
    return LookupBudget("memory://", per_address=per_address, site_wide=site_wide)


def unknown_postcode(members_api: responses.RequestsMock, postcode: str) -> None:
    members_api.get(
        f"{MEMBERS_API_URL}/Location/Constituency/Search",
        json=load_fixture("schema_constituency_search_empty.json"),
        match=[matchers.query_param_matcher({"searchText": postcode, "skip": "0", "take": "20"})],
    )


def searches(members_api: responses.RequestsMock) -> int:
    return sum("/Location/Constituency/Search" in call.request.url for call in members_api.calls)


def test_lookup_answers_with_a_suspended_mp_when_the_api_marks_them_inactive(
    app: Flask, db_session: Session, members_api: responses.RequestsMock
) -> None:
    add_postcode_responses(members_api, MEMBERS_API_URL, "NN8 1AA")

    mp = look_up(app, db_session, "NN8 1AA")

    assert (mp.id, mp.address_as, mp.email) == (1581, "Mr Bone", "peter.bone.mp@parliament.uk")


def test_lookup_greets_the_mp_as_parliament_does_when_the_real_search_has_no_address_as(
    app: Flask, db_session: Session, members_api: responses.RequestsMock
) -> None:
    add_postcode_responses(members_api, MEMBERS_API_URL, "IV1 1AA")

    mp = look_up(app, db_session, "IV1 1AA")

    assert (mp.name, mp.address_as) == ("Mr Angus MacDonald", "Mr MacDonald")


def test_lookup_writes_to_the_constituency_office_when_the_mps_note_sends_constituents_there(
    app: Flask, db_session: Session, members_api: responses.RequestsMock
) -> None:
    add_postcode_responses(members_api, MEMBERS_API_URL, "IV1 1AA")

    mp = look_up(app, db_session, "IV1 1AA")

    assert mp.email == "angus.macdonald.constituency@parliament.uk"


def test_lookup_remembers_an_unknown_postcode_when_asked_again_soon(
    app: Flask, db_session: Session, members_api: responses.RequestsMock
) -> None:
    unknown_postcode(members_api, "SW1A 9ZZ")
    for _ in range(20):
        with pytest.raises(PostcodeNotFound):
            look_up(app, db_session, "SW1A 9ZZ")

    assert searches(members_api) == 1


def test_lookup_asks_again_about_an_unknown_postcode_when_its_answer_has_expired(
    app: Flask, db_session: Session, members_api: responses.RequestsMock
) -> None:
    unknown_postcode(members_api, "SW1A 9ZZ")
    short = CacheLifetimes(timedelta(days=30), timedelta(hours=12), not_found=timedelta(0))
    for _ in range(2):
        with pytest.raises(PostcodeNotFound):
            look_up_with(app, db_session, "SW1A 9ZZ", lifetimes=short)

    assert searches(members_api) == 2


def test_lookup_asks_only_for_the_contact_when_a_fresh_seats_mp_has_no_contact_details(
    app: Flask, db_session: Session, members_api: responses.RequestsMock
) -> None:
    cache_mp(db_session, email=None, contact_page_url=None, contact_refreshed_at=None)
    db_session.commit()

    mp = look_up(app, db_session)

    assert mp.email == "diane.abbott.office@parliament.uk"
    assert [call.request.path_url for call in members_api.calls] == ["/api/Members/172/Contact"]


def test_lookup_refreshes_only_the_contact_when_a_fresh_seats_contact_details_are_stale(
    app: Flask, db_session: Session, members_api: responses.RequestsMock
) -> None:
    cache_mp(db_session, email="old@parliament.uk")
    member = db_session.get(CachedMember, 172)
    assert member is not None
    member.contact_refreshed_at = utcnow() - timedelta(hours=13)
    db_session.commit()

    mp = look_up(app, db_session)

    assert mp.email == "diane.abbott.office@parliament.uk"
    assert [call.request.path_url for call in members_api.calls] == ["/api/Members/172/Contact"]


def test_lookup_refuses_an_address_past_its_budget_when_its_lookups_reach_the_api(
    app: Flask, db_session: Session, members_api: responses.RequestsMock
) -> None:
    limited = budget(per_address="2 per minute")
    for postcode in ("SW1A 9ZZ", "SW1A 9ZY", "SW1A 9ZX"):
        unknown_postcode(members_api, postcode)
    for postcode in ("SW1A 9ZZ", "SW1A 9ZY"):
        with pytest.raises(PostcodeNotFound):
            look_up_with(app, db_session, postcode, limited)

    with pytest.raises(TooManyLookups):
        look_up_with(app, db_session, "SW1A 9ZX", limited)

    assert searches(members_api) == 2


def test_lookup_spends_no_budget_when_the_cache_answers(
    app: Flask, db_session: Session, members_api: responses.RequestsMock
) -> None:
    limited = budget(per_address="1 per minute")
    for _ in range(50):
        assert look_up_with(app, db_session, "SW1A 1AA", limited).id == 172

    assert searches(members_api) == 1


def test_lookup_budget_counts_each_client_address_separately(
    app: Flask, db_session: Session, members_api: responses.RequestsMock
) -> None:
    limited = budget(per_address="1 per minute")
    unknown_postcode(members_api, "SW1A 9ZZ")
    look_up_with(app, db_session, "SW1A 1AA", limited, client_address="192.0.2.1")
    with pytest.raises(TooManyLookups):
        look_up_with(app, db_session, "SW1A 9ZZ", limited, client_address="192.0.2.1")

    with pytest.raises(PostcodeNotFound):
        look_up_with(app, db_session, "SW1A 9ZZ", limited, client_address="198.51.100.7")


def test_lookup_says_busy_when_the_whole_site_has_used_its_budget(
    app: Flask, db_session: Session, members_api: responses.RequestsMock
) -> None:
    limited = budget(site_wide="1 per minute")
    unknown_postcode(members_api, "SW1A 9ZZ")
    look_up_with(app, db_session, "SW1A 1AA", limited, client_address="192.0.2.1")

    with pytest.raises(LookupBusy):
        look_up_with(app, db_session, "SW1A 9ZZ", limited, client_address="198.51.100.7")

    assert searches(members_api) == 1


def test_lookup_answers_from_a_stale_cache_when_the_budget_has_no_room(
    app: Flask, db_session: Session, members_api: responses.RequestsMock
) -> None:
    cache_mp(db_session, refreshed_at=utcnow() - timedelta(days=2))
    db_session.commit()
    limited = budget(per_address="1 per minute")
    unknown_postcode(members_api, "SW1A 9ZZ")
    with pytest.raises(PostcodeNotFound):
        look_up_with(app, db_session, "SW1A 9ZZ", limited)

    mp = look_up_with(app, db_session, "SW1A 1AA", limited)

    assert mp.id == 172
    assert searches(members_api) == 1


def test_lookup_makes_no_api_call_while_parliament_has_asked_the_site_to_wait(
    app: Flask, db_session: Session
) -> None:
    with responses.RequestsMock() as rate_limited:
        rate_limited.get(
            f"{MEMBERS_API_URL}/Location/Constituency/Search",
            status=429,
            headers={"Retry-After": "3123"},
        )
        with pytest.raises(LookupUnavailable):
            look_up(app, db_session, "SW1A 1AA")

        with pytest.raises(LookupBusy):
            look_up(app, db_session, "M1 1AE")

        assert len(rate_limited.calls) == 1


@pytest.mark.parametrize("app_settings", [{"parliament_api_timeout": 2.5}])
def test_lookup_uses_the_configured_api_timeout_when_calling_the_api(
    app: Flask, db_session: Session, members_api: responses.RequestsMock
) -> None:
    look_up(app, db_session)

    timeouts = {call.request.req_kwargs["timeout"] for call in members_api.calls}  # type: ignore[attr-defined]
    assert timeouts == {(3.05, 2.5)}
