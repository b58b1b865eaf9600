"""Ids read from URLs: only what fits the database's integer columns."""

from __future__ import annotations

import pytest

from mp_mailer.views.identifiers import MAX_DATABASE_ID, database_id


@pytest.mark.parametrize("text", [str(MAX_DATABASE_ID + 1), "1" * 25, "-1", "١٢", "1.0", ""])
def test_database_id_refuses_text_when_it_is_not_an_id_the_database_can_hold(text: str) -> None:
    with pytest.raises(ValueError):
        database_id(text)


def test_database_id_reads_the_largest_id_when_it_fits() -> None:
    assert database_id(str(MAX_DATABASE_ID)) == MAX_DATABASE_ID
