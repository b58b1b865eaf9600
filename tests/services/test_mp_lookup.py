"""Postcode to MP through the cache: fresh answers cost no API call, outages use the cache."""

from __future__ import annotations

from datetime import timedelta

import pytest
import responses
from flask import Flask
from sqlalchemy.orm import Session

from mp_mailer.clients.parliament import MembersApiClient
from mp_mailer.db import utcnow
from mp_mailer.services.mp_lookup import (
    CacheLifetimes,
    LookupUnavailable,
    MpDetails,
    find_mp_for_postcode,
)
from tests.conftest import MEMBERS_API_URL
from tests.factories import cache_mp

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
