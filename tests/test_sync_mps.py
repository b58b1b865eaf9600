"""`mp-mailer sync-mps` against a stand-in Members API listing a whole House of real shapes."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import responses
from flask import Flask
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from mp_mailer.models import CachedMember
from tools.fake_members_api import HOUSE_SIZE, start


@pytest.fixture
def fake_api_url(members_api: responses.RequestsMock) -> Iterator[str]:
    """The stand-in on loopback; `responses` lets calls to it through to the real socket."""
    server, url = start()
    members_api.add_passthru(url)
    yield url
    server.shutdown()
    server.server_close()


@pytest.fixture
def app_settings(fake_api_url: str) -> dict[str, Any]:
    return {"parliament_api_url": fake_api_url}


def current_mps(db_session: Session) -> int:
    query = select(func.count()).select_from(CachedMember).where(CachedMember.is_current)
    return int(db_session.scalar(query) or 0)


def test_sync_mps_caches_a_whole_house_as_current_when_some_mps_are_suspended(
    app: Flask, db_session: Session
) -> None:
    result = app.test_cli_runner().invoke(args=["sync-mps"])

    assert result.exit_code == 0, result.output
    assert f"{HOUSE_SIZE} current MPs cached" in result.output
    assert current_mps(db_session) == HOUSE_SIZE


def test_sync_mps_caches_the_suspended_mps_shape_when_syncing_a_whole_house(
    app: Flask, db_session: Session
) -> None:
    app.test_cli_runner().invoke(args=["sync-mps"])

    # Member 10000 copies the real capture of a suspended MP (statusIsActive false).
    suspended = db_session.get(CachedMember, 10_000)
    assert suspended is not None
    assert (suspended.is_current, suspended.address_as) == (True, "Mr Bone")


def test_sync_mps_reports_progress_every_hundred_mps_when_loading_a_whole_house(
    app: Flask,
) -> None:
    result = app.test_cli_runner().invoke(args=["sync-mps"])

    progress = [line.strip() for line in result.output.splitlines() if "MPs loaded" in line]
    assert progress == [f"{n:,} MPs loaded" for n in range(100, HOUSE_SIZE + 1, 100)]
