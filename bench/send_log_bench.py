"""Time the staff send log with a million letters: the first page, filtered pages, a deep page,
the figures and a full CSV export (with its memory), through the Flask app as a browser sees it.

    .venv/bin/python bench/send_log_bench.py                      # a temporary SQLite file
    .venv/bin/python bench/send_log_bench.py \\
        --database-url postgresql+psycopg://postgres@127.0.0.1:5432/test   # its own database

On PostgreSQL the letters go into a database of their own (`--bench-database`, created and
dropped by the script), never into the one named in the URL. The figures are printed and
written into docs/benchmarks.md, between markers for the database kind, so one run per kind
keeps the others' results.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, func, insert, select, text
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from mp_mailer import create_app  # noqa: E402
from mp_mailer.db import make_engine, make_session_factory, utcnow  # noqa: E402
from mp_mailer.demo.seeding import prepare_demo  # noqa: E402
from mp_mailer.demo.stories import generate_letters  # noqa: E402
from mp_mailer.models import Campaign, Letter, LetterStatus, User, UserRole  # noqa: E402
from mp_mailer.schema import upgrade_database  # noqa: E402
from mp_mailer.services.users import hash_password  # noqa: E402

BENCH_USER = "bench.staff@example.org"
BENCH_PASSWORD = "bench password, not a secret"
BATCH = 20_000
DAYS = 365
SEARCH_TERM = "okafor"
RESULTS = ROOT / "docs" / "benchmarks.md"


# Loading --------------------------------------------------------------------------------------


def letter_rows(engine: Engine, count: int) -> Iterator[list[dict[str, Any]]]:
    """Made-up letters over the last year, oldest first, in batches."""
    rng = random.Random(2026)
    now = utcnow()
    with make_session_factory(engine)() as session:
        campaigns, members = prepare_demo(session, rng, now)
        session.commit()
    batch: list[dict[str, Any]] = []
    for letter in generate_letters(rng, count, campaigns, members, now, days=DAYS, detailed=False):
        batch.append(letter.row)
        if len(batch) == BATCH:
            yield batch
            batch = []
    if batch:
        yield batch


def secondary_indexes(engine: Engine) -> list[tuple[str, str]]:
    """(name, CREATE statement) of every index on letters that is not a constraint's."""
    with engine.connect() as connection:
        if engine.dialect.name == "postgresql":
            rows = connection.execute(
                text(
                    "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'letters' "
                    "AND schemaname = current_schema() AND indexname LIKE 'ix_%'"
                )
            )
        else:
            rows = connection.execute(
                text(
                    "SELECT name, sql FROM sqlite_master WHERE type = 'index' "
                    "AND tbl_name = 'letters' AND sql IS NOT NULL"
                )
            )
        return [(name, sql) for name, sql in rows]


def load(engine: Engine, count: int) -> float:
    """Bulk-load `count` letters: indexes dropped, rows copied in batches, indexes rebuilt."""
    started = time.perf_counter()
    indexes = secondary_indexes(engine)
    with engine.begin() as connection:
        for name, _ in indexes:
            connection.execute(text(f"DROP INDEX {name}"))
    columns = [column.name for column in Letter.__table__.columns if column.name != "id"]
    loaded = 0
    for batch in letter_rows(engine, count):
        if engine.dialect.name == "postgresql":
            copy_batch(engine, columns, batch)
        else:
            with engine.begin() as connection:
                connection.execute(insert(Letter.__table__), batch)
        loaded += len(batch)
        print(f"\r  loaded {loaded:,} letters", end="", flush=True)
    print(f"\r  loaded {loaded:,} letters in {time.perf_counter() - started:.0f} s")
    rebuilt = time.perf_counter()
    with engine.begin() as connection:
        for name, sql in indexes:
            connection.execute(text(sql))
            print(f"  rebuilt {name}")
    print(f"  rebuilt {len(indexes)} indexes in {time.perf_counter() - rebuilt:.0f} s")
    if engine.dialect.name == "postgresql":
        # What autovacuum does soon after a bulk load: statistics, and the visibility map that
        # lets index-only scans skip the table.
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.execute(text("VACUUM (ANALYZE) letters"))
    else:
        with engine.begin() as connection:
            connection.execute(text("ANALYZE"))
    return time.perf_counter() - started


def copy_batch(engine: Engine, columns: list[str], batch: list[dict[str, Any]]) -> None:
    raw = engine.raw_connection()
    try:
        with raw.cursor() as cursor:  # type: ignore[attr-defined]
            statement = f"COPY letters ({', '.join(columns)}) FROM STDIN"
            with cursor.copy(statement) as copy:
                for row in batch:
                    copy.write_row([_plain(row.get(column)) for column in columns])
        raw.commit()
    finally:
        raw.close()


def _plain(value: Any) -> Any:
    return value.value if isinstance(value, LetterStatus) else value


def add_staff_user(engine: Engine) -> None:
    with make_session_factory(engine)() as session:
        if session.scalar(select(User.id).where(User.email == BENCH_USER)) is None:
            session.add(
                User(
                    email=BENCH_USER,
                    password_hash=hash_password(BENCH_PASSWORD),
                    role=UserRole.STAFF,
                )
            )
            session.commit()


# Measuring ------------------------------------------------------------------------------------


def max_rss_mb() -> float:
    """This process's peak resident memory. VmHWM, because ru_maxrss carries over the peak of
    the process that started this one (the loader) across exec."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def timed(client: Any, url: str, runs: int) -> dict[str, Any]:
    """Cold (first) and median of the following runs, in milliseconds, with the page's size."""
    times = []
    size = 0
    for _ in range(runs + 1):
        started = time.perf_counter()
        response = client.get(url)
        body = response.get_data()
        times.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200, (url, response.status_code)
        size = len(body)
    return {
        "url": url,
        "cold_ms": round(times[0], 1),
        "median_ms": round(statistics.median(times[1:]), 1),
        "runs": runs,
        "bytes": size,
        "max_rss_mb": round(max_rss_mb(), 1),
    }


def export(client: Any, url: str, trace: bool) -> dict[str, Any]:
    """Stream an export to the end, counting rows; with `trace`, Python's peak allocation."""
    rss_before = max_rss_mb()
    if trace:
        tracemalloc.start()
    started = time.perf_counter()
    rows = 0
    size = 0
    with client.get(url) as response:
        assert response.status_code == 200 and response.is_streamed
        for chunk in response.response:
            rows += chunk.count(b"\n")
            size += len(chunk)
    seconds = time.perf_counter() - started
    result = {
        "url": url,
        "rows": rows - 1,
        "megabytes": round(size / 1e6, 1),
        "seconds": round(seconds, 1),
        "rows_per_second": round((rows - 1) / seconds),
        "max_rss_growth_mb": round(max_rss_mb() - rss_before, 1),
        "max_rss_mb": round(max_rss_mb(), 1),
    }
    if trace:
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        result["tracemalloc_peak_mb"] = round(peak / 1e6, 1)
    return result


def measure(database_url: str, runs: int) -> dict[str, Any]:
    """Run in a fresh process so its peak memory is the app's, not the loader's."""
    app = create_app(
        {
            "secret_key": "bench-secret-key-0123456789",
            "database_url": database_url,
            "mail_from": "Bench <bench@example.org>",
            "csrf_enabled": False,
            "ratelimit_enabled": False,
            "log_level": "WARNING",
        }
    )
    engine = app.extensions["mp_mailer.engine"]
    with make_session_factory(engine)() as session:
        campaign_id = session.scalar(select(Campaign.id).order_by(Campaign.id).limit(1))
        letters = session.scalar(select(func.count()).select_from(Letter)) or 0
        newest = session.execute(
            select(Letter.id, Letter.supporter_email).order_by(Letter.id.desc()).limit(1)
        ).one()
        deep = session.scalar(select(Letter.id).order_by(Letter.id).offset(letters // 10).limit(1))
    client = app.test_client()
    login = client.post("/login", data={"email": BENCH_USER, "password": BENCH_PASSWORD})
    assert login.status_code == 302, "bench login failed"
    filtered = f"/admin/letters/?campaign={campaign_id}&status=sent&q={SEARCH_TERM}"
    pages = {
        "first_page": timed(client, "/admin/letters/", runs),
        "filtered_page": timed(client, filtered, runs),
        "email_search": timed(client, f"/admin/letters/?q={newest.supporter_email}", runs),
        "deep_page": timed(client, f"/admin/letters/?before={deep}", runs),
        "failed_last_week": timed(
            client,
            f"/admin/letters/?status=failed&from={(utcnow() - dt.timedelta(days=6)).date()}",
            runs,
        ),
        "letter_detail": timed(client, f"/admin/letters/{newest.id}", runs),
        "figures_30_days": timed(client, "/admin/letters/figures", max(1, runs // 2)),
        "figures_all_time": timed(
            client, f"/admin/letters/figures?campaign={campaign_id}&period=all", max(1, runs // 2)
        ),
        "mps": timed(client, f"/admin/letters/mps?campaign={campaign_id}", max(1, runs // 2)),
    }
    exports = {
        "full": export(client, "/admin/letters/export.csv", trace=False),
        "full_traced": export(client, "/admin/letters/export.csv", trace=True),
        "tenth_traced": export(
            client, f"/admin/letters/export.csv?to={_day_of(engine, deep)}", trace=True
        ),
    }
    return {"letters": letters, "pages": pages, "exports": exports}


def _day_of(engine: Engine, letter_id: int) -> str:
    with engine.connect() as connection:
        created = connection.scalar(select(Letter.created_at).where(Letter.id == letter_id))
    assert created is not None
    return str(created.date())


# Reporting ------------------------------------------------------------------------------------


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
        memory = int(Path("/proc/meminfo").read_text().split()[1]) / 1024 / 1024
    except OSError:
        memory = 0
    system = f"{platform.system()} {platform.release()}"
    return f"{os.cpu_count()} cores ({cpu}), {memory:.0f} GB RAM, {system}"


def database_version(engine: Engine) -> str:
    with engine.connect() as connection:
        if engine.dialect.name == "postgresql":
            return str(connection.scalar(text("SHOW server_version")))
        return "SQLite " + str(connection.scalar(text("SELECT sqlite_version()")))


def report(kind: str, version: str, load_seconds: float, results: dict[str, Any]) -> str:
    pages = results["pages"]
    exports = results["exports"]
    lines = [
        f"### {kind}",
        "",
        f"{dt.date.today():%d %B %Y}; {machine()}; {version}; "
        f"{results['letters']:,} letters; loaded and indexed in {load_seconds / 60:.1f} min.",
        "",
        "| Page | Cold (ms) | Median of the next runs (ms) | Size (KB) |",
        "| --- | ---: | ---: | ---: |",
    ]
    labels = {
        "first_page": "Send log, first page",
        "filtered_page": f"Filtered: campaign + sent + search “{SEARCH_TERM}”",
        "email_search": "Search by a whole email address",
        "deep_page": "A page 90% of the way back (keyset cursor)",
        "failed_last_week": "Failed letters in the last 7 days",
        "letter_detail": "One letter in full",
        "figures_30_days": "Figures, all campaigns, last 30 days",
        "figures_all_time": "Figures, one campaign, all time",
        "mps": "MPs with letter counts, one campaign",
    }
    for key, label in labels.items():
        page = pages[key]
        lines.append(
            f"| {label} | {page['cold_ms']:,.0f} | {page['median_ms']:,.0f} "
            f"(n={page['runs']}) | {page['bytes'] / 1024:,.0f} |"
        )
    full, traced, tenth = exports["full"], exports["full_traced"], exports["tenth_traced"]
    lines += [
        "",
        "| CSV export | Rows | Size (MB) | Time (s) | Rows/s | Peak Python allocation | "
        "Growth of peak RSS | Peak RSS after |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
        f"| Every letter | {full['rows']:,} | {full['megabytes']:,} | {full['seconds']} | "
        f"{full['rows_per_second']:,} | – | {full['max_rss_growth_mb']} MB | "
        f"{full['max_rss_mb']} MB |",
        f"| Every letter, traced | {traced['rows']:,} | {traced['megabytes']:,} | "
        f"{traced['seconds']} | {traced['rows_per_second']:,} | "
        f"{traced['tracemalloc_peak_mb']} MB | {traced['max_rss_growth_mb']} MB | "
        f"{traced['max_rss_mb']} MB |",
        f"| The oldest tenth, traced | {tenth['rows']:,} | {tenth['megabytes']:,} | "
        f"{tenth['seconds']} | {tenth['rows_per_second']:,} | "
        f"{tenth['tracemalloc_peak_mb']} MB | {tenth['max_rss_growth_mb']} MB | "
        f"{tenth['max_rss_mb']} MB |",
        "",
    ]
    return "\n".join(lines)


def write_results(kind: str, section: str) -> None:
    start, end = f"<!-- bench:{kind} -->", f"<!-- /bench:{kind} -->"
    document = RESULTS.read_text() if RESULTS.exists() else "# Benchmarks\n"
    block = f"{start}\n{section}\n{end}"
    if start in document and end in document:
        before, rest = document.split(start, 1)
        document = before + block + rest.split(end, 1)[1]
    else:
        document = document.rstrip("\n") + "\n\n" + block + "\n"
    RESULTS.write_text(document)


# Databases ------------------------------------------------------------------------------------


def postgres_database(url: str, name: str, drop: bool) -> str:
    """A URL for the bench's own database beside the one in `url`, created afresh (or dropped)."""
    base = make_url(url)
    admin = make_engine(base.render_as_string(hide_password=False))
    with admin.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        if not drop:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return base.set(database=name).render_as_string(hide_password=False)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--database-url", help="default: a temporary SQLite file")
    parser.add_argument("--letters", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=5, help="timed runs after the cold one")
    parser.add_argument("--bench-database", default="mp_mailer_bench", help="PostgreSQL only")
    parser.add_argument("--keep", action="store_true", help="keep the loaded database")
    parser.add_argument("--no-write", action="store_true", help="do not update docs/benchmarks.md")
    parser.add_argument("--measure-only", help=argparse.SUPPRESS)
    arguments = parser.parse_args()
    if arguments.measure_only:
        print(json.dumps(measure(arguments.measure_only, arguments.runs)))
        return

    with tempfile.TemporaryDirectory(prefix="mp-mailer-bench-") as temporary:
        if arguments.database_url and arguments.database_url.startswith("postgresql"):
            kind = "postgresql"
            url = postgres_database(arguments.database_url, arguments.bench_database, drop=False)
        else:
            kind = "sqlite"
            url = arguments.database_url or f"sqlite:///{temporary}/bench.sqlite3"
        engine = make_engine(url)
        try:
            print(f"Loading {arguments.letters:,} letters into {engine.url.render_as_string()}")
            upgrade_database(engine)
            load_seconds = load(engine, arguments.letters)
            add_staff_user(engine)
            version = database_version(engine)
            engine.dispose()
            print("Measuring (in a fresh process)...")
            measured = subprocess.run(
                [sys.executable, __file__, "--measure-only", url, "--runs", str(arguments.runs)],
                check=True,
                capture_output=True,
                text=True,
            )
            results = json.loads(measured.stdout.strip().splitlines()[-1])
            section = report(
                "PostgreSQL" if kind == "postgresql" else "SQLite", version, load_seconds, results
            )
            print(section)
            if not arguments.no_write:
                write_results(kind, section)
                print(f"Written to {RESULTS}")
        finally:
            engine.dispose()
            if kind == "postgresql" and not arguments.keep:
                postgres_database(arguments.database_url, arguments.bench_database, drop=True)


if __name__ == "__main__":
    main()
