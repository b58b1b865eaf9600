"""The send-log benchmark's loader fills a migrated database with made-up letters that satisfy
every constraint of the schema as it is now (it bypasses the models' defaults on PostgreSQL)."""

from __future__ import annotations

from sqlalchemy import func, select

from bench.send_log_bench import load
from mp_mailer.db import make_engine
from mp_mailer.models import Letter


def test_send_log_bench_loads_the_letters_it_is_asked_for(database_url: str) -> None:
    engine = make_engine(database_url)
    try:
        load(engine, 300)

        with engine.connect() as connection:
            assert connection.scalar(select(func.count()).select_from(Letter)) == 300
    finally:
        engine.dispose()
