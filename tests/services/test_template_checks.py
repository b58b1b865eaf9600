"""A template is filled in for every cached MP (and for MPs with empty fields) before saving."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session

from mp_mailer.models import UserRole
from mp_mailer.services import template_versions as versions
from mp_mailer.services.template_checks import first_failure_for_any_mp
from tests.factories import cache_mp, create_campaign, create_user

# Fine for the sample MP ("Independent"), for no party and for Labour; not for the SNP.
GUARDED_INDEX = "{% if mp.party %}{{ mp.party[4] }}{% endif %}"


def test_save_template_refuses_a_template_when_it_fails_for_one_cached_mp(
    db_session: Session,
) -> None:
    cache_mp(db_session, party_name="Labour")
    cache_mp(
        db_session,
        id=4000,
        display_name="Mr Stephen Flynn",
        constituency_id=4100,
        party_name="SNP",
        postcode="AB10 1AA",
    )
    campaign = create_campaign(db_session)
    author = create_user(db_session, role=UserRole.CAMPAIGNER)

    with pytest.raises(versions.TemplateRefused) as refused:
        versions.save_template(db_session, campaign, "Hi", GUARDED_INDEX, "", author.id)

    assert "for Mr Stephen Flynn" in refused.value.message
    assert "no element 4" in refused.value.message


def test_first_failure_for_any_mp_finds_a_template_that_needs_a_party_when_none_is_known(
    db_session: Session,
) -> None:
    failure = first_failure_for_any_mp(db_session, {"body_template": "{{ mp.party[0] }}"})

    assert failure is not None
    field, problem = failure
    assert field == "body_template"
    assert "party and constituency are not known" in problem.message


def test_first_failure_for_any_mp_passes_a_template_when_every_mp_fills_it_in(
    db_session: Session,
) -> None:
    cache_mp(db_session, full_title=None, party_name=None)

    assert first_failure_for_any_mp(db_session, {"body_template": "Dear {{ mp.name }}"}) is None
