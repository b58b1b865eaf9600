"""Fast under a surge: lookup, web pages, delivery and a 10,000-letter surge, each beside its
reference measured in the same run, printed as a table and written to docs/benchmarks.md.

    .venv/bin/python bench/surge_bench.py \\
        --database-url postgresql+psycopg://postgres@127.0.0.1:5432/postgres [--quick]

Everything runs on loopback: gunicorn (one worker per core) driven by wrk, the Members API
stand-in (tools/fake_members_api.py, 100 ms per answer), a counting aiosmtpd sink
(bench/sink.py) in its own process, and `mp-mailer worker --once` processes. The bench makes
its own PostgreSQL database beside the one in the URL (--bench-database) and drops it after.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import os
import re
import smtplib
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping
from datetime import datetime, timedelta
from email.policy import SMTP
from pathlib import Path
from typing import Any

import requests
from sqlalchemy import delete, func, insert, select, text, update

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH.parent))
sys.path.insert(0, str(BENCH))

from harness import (  # noqa: E402
    BIN,
    MAIL_FROM,
    SECRET_KEY,
    TABLE_HEADER,
    Figure,
    app_environment,
    children,
    free_port,
    gunicorn,
    limited_post_script,
    peak_rss_mb,
    post_script,
    process,
    ratio_target,
    run_wrk,
)
from send_log_bench import machine, postgres_database, write_results  # noqa: E402

from mp_mailer import create_app  # noqa: E402
from mp_mailer.clients.message_check import MAX_LINE_OCTETS, check_serialised  # noqa: E402
from mp_mailer.db import utcnow  # noqa: E402
from mp_mailer.email_messages import build_letter_message  # noqa: E402
from mp_mailer.models import (  # noqa: E402
    AttemptOutcome,
    CachedConstituency,
    CachedMember,
    CachedPostcode,
    Campaign,
    DeliveryAttempt,
    EmailKind,
    Letter,
    LetterEvent,
    LetterStatus,
)
from mp_mailer.services.mp_lookup import CacheLifetimes, find_mp_for_postcode  # noqa: E402
from mp_mailer.services.outbox.claims import letter_envelope  # noqa: E402
from tests.factories import create_queued_letters  # noqa: E402
from tools import fake_members_api  # noqa: E402

POSTCODE = "SW1A 1AA"
MAIL_FROM_ADDRESS = "campaigns@freetibet.example"
# The relay client's own serialisation: SMTP line endings, folding only past SMTP's 998 limit.
WORKER_POLICY = SMTP.clone(max_line_length=MAX_LINE_OCTETS)
LIFETIMES = CacheLifetimes(timedelta(days=30), timedelta(hours=12), timedelta(minutes=60))
CORES = os.cpu_count() or 2


class Bench:
    def __init__(self, database_url: str, redis_url: str, seconds: float) -> None:
        self.database_url = database_url
        self.redis_url = redis_url
        self.seconds = seconds
        self.figures: list[Figure] = []
        self.notes: list[str] = []
        self.api_server, self.api_url = fake_members_api.start(latency_ms=100)
        self.app = create_app(
            {
                "secret_key": SECRET_KEY,
                "database_url": database_url,
                "mail_from": MAIL_FROM,
                "parliament_api_url": self.api_url,
                "log_level": "ERROR",
            }
        )
        self.sessions = self.app.extensions["mp_mailer.session_factory"]

    def environment(self, **extra: str) -> dict[str, str]:
        return app_environment(
            self.database_url,
            {
                "PARLIAMENT_API_URL": self.api_url,
                "RATELIMIT_STORAGE_URI": self.redis_url,
                "TRUSTED_PROXIES": "1",
                **extra,
            },
        )

    def add(self, figure: Figure) -> None:
        print(figure.row(), flush=True)
        self.figures.append(figure)

    # Lookup -----------------------------------------------------------------------------------

    def lookup(self) -> None:
        client = self.app.extensions["mp_mailer.members_api"]
        cold_times, cold_calls = [], []
        with self.sessions() as session:
            for _ in range(5):
                for table in (CachedPostcode, CachedConstituency, CachedMember):
                    session.execute(delete(table))
                session.commit()
                calls_before = self.api_server.calls  # type: ignore[attr-defined]
                started = time.perf_counter()
                find_mp_for_postcode(session, client, POSTCODE, utcnow(), LIFETIMES)
                cold_times.append((time.perf_counter() - started) * 1000)
                cold_calls.append(self.api_server.calls - calls_before)  # type: ignore[attr-defined]
            warm = []
            # As the supporter pages ask: the process keeps fresh answers for a few seconds.
            warm_lookups = self.app.extensions["mp_mailer.warm_lookups"]
            for _ in range(2000):
                started = time.perf_counter()
                find_mp_for_postcode(
                    session, client, POSTCODE, utcnow(), LIFETIMES, warm=warm_lookups
                )
                warm.append((time.perf_counter() - started) * 1000)
        median, p99 = statistics.median(warm), percentile(warm, 99)
        self.add(
            Figure(
                "warm lookup in process (cached postcode)",
                f"median {median:.2f} ms, p99 {p99:.2f} ms",
                target="median < 1 ms",
                passed=median < 1,
            )
        )
        self.add(
            Figure(
                "cold lookup, Members API stand-in adding 100 ms per call",
                f"median {statistics.median(cold_times):.0f} ms, "
                f"{statistics.median(cold_calls):.0f} API calls per lookup; 0 per warm lookup",
            )
        )

    # Web --------------------------------------------------------------------------------------

    def web(self, slug: str) -> None:
        port, bare_port = free_port(), free_port()
        environment = self.environment()
        bare_environment = {**environment, "PYTHONPATH": str(BENCH)}
        subprocess.run(
            [sys.executable, "-c", "import bare_app; bare_app.create_table()"],
            env=bare_environment,
            check=True,
        )
        with (
            process(gunicorn("mp_mailer.wsgi:app", port, CORES, environment), environment, port),
            process(
                gunicorn("bare_app:app", bare_port, CORES, bare_environment),
                bare_environment,
                bare_port,
            ),
        ):
            site, bare = f"http://127.0.0.1:{port}", f"http://127.0.0.1:{bare_port}/"
            cookie, csrf = supporter_session(f"{site}/c/{slug}")
            postcode_body = f"csrf_token={csrf}&postcode=SW1A+1AA"
            # Warm the postcode cache and every worker's templates before timing.
            run_wrk(f"{site}/c/{slug}", 2, 4, post_script(f"/c/{slug}", postcode_body, cookie))
            run_wrk(f"{site}/c/{slug}", 1, 4)
            run_wrk(bare, 1, 4)
            connections = 4 * CORES
            page = run_wrk(f"{site}/c/{slug}", self.seconds, connections)
            hello = run_wrk(bare, self.seconds, connections)
            self.add(ratio_target("campaign page GET (vs bare hello)", page, hello, 0.5, 250))
            postcode = run_wrk(
                f"{site}/c/{slug}",
                self.seconds,
                connections,
                post_script(f"/c/{slug}", postcode_body, cookie),
            )
            hello = run_wrk(bare, self.seconds, connections)
            self.add(
                ratio_target(
                    "postcode step POST, cached (vs bare hello)", postcode, hello, 0.5, 250
                )
            )
            letter_page = run_wrk(
                f"{site}/c/{slug}/letter?postcode=SW1A+1AA", self.seconds, connections
            )
            hello = run_wrk(bare, self.seconds, connections)
            # The journey's third request, which the issue sets no target for.
            self.add(
                dataclasses.replace(
                    ratio_target(
                        "letter page GET, cached postcode (vs bare hello)",
                        letter_page,
                        hello,
                        0.5,
                        250,
                    ),
                    target="-",
                    passed=None,
                )
            )
            letter_body = letter_form(csrf)
            letters = run_wrk(
                f"{site}/c/{slug}/letter",
                self.seconds,
                connections,
                post_script(f"/c/{slug}/letter", letter_body, cookie, unique_fields=True),
            )
            bare_post = run_wrk(
                bare, self.seconds, connections, post_script("/", letter_body, "", True)
            )
            self.add(
                ratio_target(
                    "letter submission POST (vs bare form POST + 1 insert)",
                    letters,
                    bare_post,
                    0.5,
                    None,
                )
            )
        self.wipe_letters()

    # Delivery ---------------------------------------------------------------------------------

    def delivery(self, letters: int, scaling_letters: int) -> None:
        """Workers already running (started before the letters fall due, so their start-up is
        timed on its own) drain the outbox; the rate runs from the due time to the last arrival
        at the sink, whose every line carries the time it took the message."""
        with sink() as (port, received):
            environment = self.environment(SMTP_HOST="127.0.0.1", SMTP_PORT=str(port))
            started = time.perf_counter()
            run_workers(1, environment)
            start_up = time.perf_counter() - started
            self.queue(letters)
            messages = self.built_messages()
            plain_rate = smtplib_rate(port, [message for _, message in messages])
            built_rate = smtplib_rate(port, self.messages_built_as_the_worker_does())
            recorded_rate = smtplib_rate(port, self.messages_recorded_as_the_guarantee_needs())
            received.write_text("")
            self.wipe_letters()
            drain_rate, peaks, counts = self.drain(1, letters, environment, received)
        self.add(
            Figure(
                f"delivery, 1 worker draining {letters} letters",
                f"{drain_rate:,.0f} letters/s (start-up {start_up:.1f} s, timed apart); "
                f"peak RSS {peaks[0]:.0f} MB" + exact_note(counts, letters),
                f"plain smtplib loop, same messages built beforehand, one connection: "
                f"{plain_rate:,.0f}/s",
                drain_rate / plain_rate,
                ">= 90% of smtplib",
                drain_rate / plain_rate >= 0.9 and exactly_once(counts, letters),
            )
        )
        self.add(
            Figure(
                "delivery, 1 worker, against a loop that also builds and checks each email",
                f"{drain_rate:,.0f} letters/s",
                "smtplib loop building each email with the worker's builder and checking its "
                f"bytes, as the worker must: {built_rate:,.0f}/s",
                drain_rate / built_rate,
            )
        )
        self.add(
            Figure(
                "delivery, 1 worker, against a loop that also commits before and after each "
                "send, as exactly once needs",
                f"{drain_rate:,.0f} letters/s",
                "the loop above with the lease and the result committed around each send, in "
                f"hand-written statements: {recorded_rate:,.0f}/s",
                drain_rate / recorded_rate,
                ">= 90% of this loop",
                drain_rate / recorded_rate >= 0.9,
            )
        )
        rates = {}
        for workers in (1, 2, 4):
            with sink(delay_ms=20) as (port, received):
                environment = self.environment(SMTP_HOST="127.0.0.1", SMTP_PORT=str(port))
                rates[workers], _, counts = self.drain(
                    workers, scaling_letters, environment, received
                )
            self.add(
                Figure(
                    f"delivery, {workers} worker(s), PostgreSQL, sink taking 20 ms per message",
                    f"{rates[workers]:,.0f} letters/s" + exact_note(counts, scaling_letters),
                    f"1 worker: {rates[1]:,.0f}/s; the sink's own limit 1 connection: 50/s",
                    rates[workers] / rates[1],
                    f"near-linear: >= {0.8 * workers:.1f}x" if workers > 1 else "-",
                    (rates[workers] / rates[1] >= 0.8 * workers if workers > 1 else None)
                    if exactly_once(counts, scaling_letters)
                    else False,
                )
            )

    def drain(
        self, workers: int, letters: int, environment: Mapping[str, str], received: Path
    ) -> tuple[float, list[float], Counter[str]]:
        """Start `workers` standing workers, let `letters` fall due once they are up, and wait
        for the sink to have them all: (letters per second from the due time, peak RSS, counts).
        """
        lead = 6.0 + 2.0 * workers
        due_at = time.time() + lead
        self.queue(letters, due_in=timedelta(seconds=lead))
        standing = {**environment, "WORKER_POLL_SECONDS": "0.2"}
        with standing_workers(workers, standing) as processes:
            peaks = wait_for_deliveries(processes, received, letters, timeout=lead + 600)
        counts = delivered(received)
        last = max(arrival_times(received), default=due_at)
        self.wipe_letters()
        return letters / max(last - due_at, 0.001), peaks, counts

    def messages_built_as_the_worker_does(self) -> Iterator[bytes]:
        with self.sessions() as session:
            letters = session.scalars(select(Letter).order_by(Letter.id)).all()
            sender = self.app.extensions["mp_mailer.config"].mail_from_address
            for letter in letters:
                message = build_letter_message(letter_envelope(letter), sender, None, utcnow())
                content = message.as_bytes(policy=WORKER_POLICY)
                check_serialised(content, message)
                yield content

    def messages_recorded_as_the_guarantee_needs(self) -> Iterator[bytes]:
        """Each email built and checked as the worker does, between the two commits that
        sending it exactly once needs: the lease taken before the send (with its history row),
        the result recorded after it (status, attempt and history rows). Hand-written Core
        statements on one connection: the floor for any worker that keeps these promises."""
        engine = self.app.extensions["mp_mailer.engine"]
        sender = self.app.extensions["mp_mailer.config"].mail_from_address
        with self.sessions() as session, engine.connect() as connection:
            letters = session.scalars(select(Letter).order_by(Letter.id)).all()
            for letter in letters:
                now = utcnow()
                with connection.begin():
                    connection.execute(
                        update(Letter)
                        .where(Letter.id == letter.id, Letter.status == LetterStatus.QUEUED)
                        .values(status=LetterStatus.SENDING, claim_token="bench", lease_until=now)
                    )
                    connection.execute(
                        HISTORY_ROW,
                        history(letter.id, now, LetterStatus.QUEUED, LetterStatus.SENDING),
                    )
                message = build_letter_message(letter_envelope(letter), sender, None, now)
                content = message.as_bytes(policy=WORKER_POLICY)
                check_serialised(content, message)
                yield content
                with connection.begin():
                    connection.execute(
                        update(Letter)
                        .where(Letter.id == letter.id, Letter.claim_token == "bench")
                        .values(
                            status=LetterStatus.SENT,
                            sent_at=now,
                            sent_message=content.decode("utf-8", errors="replace"),
                        )
                    )
                    connection.execute(
                        insert(DeliveryAttempt).values(
                            letter_id=letter.id,
                            kind=EmailKind.LETTER,
                            started_at=now,
                            duration_ms=1,
                            outcome=AttemptOutcome.SENT,
                            smtp_code=250,
                            smtp_reply="OK",
                        )
                    )
                    connection.execute(
                        HISTORY_ROW,
                        history(letter.id, now, LetterStatus.SENDING, LetterStatus.SENT, "250 OK"),
                    )

    # Surge ------------------------------------------------------------------------------------

    def surge(self, slug: str, letters: int) -> None:
        port = free_port()
        environment = self.environment(REQUIRE_CONFIRMATION="false")
        with process(
            gunicorn("mp_mailer.wsgi:app", port, CORES, environment), environment, port
        ) as web:
            site = f"http://127.0.0.1:{port}"
            cookie, csrf = supporter_session(f"{site}/c/{slug}")
            run_wrk(
                f"{site}/c/{slug}",
                1,
                2,
                post_script(f"/c/{slug}", f"csrf_token={csrf}&postcode=SW1A+1AA", cookie),
            )
            threads = 2
            script = limited_post_script(
                f"/c/{slug}/letter", letter_form(csrf), cookie, letters // threads
            )
            started = time.perf_counter()
            submitted = run_wrk(
                f"{site}/c/{slug}/letter",
                900,
                4 * CORES,
                script,
                threads,
                done=lambda: self.letters_stored() >= letters,
            )
            submit_seconds = time.perf_counter() - started
            web_peak = max(peak_rss_mb(pid) for pid in children(web.pid))
        accepted = self.letters_stored()
        with sink() as (sink_port, received):
            started = time.perf_counter()
            worker_peaks = run_workers(
                CORES, self.environment(SMTP_HOST="127.0.0.1", SMTP_PORT=str(sink_port))
            )
            drain_seconds = time.perf_counter() - started
            counts = delivered(received)
        self.add(
            Figure(
                f"surge: {accepted:,} letters submitted by wrk ({submitted.non_2xx_3xx} refused), "
                f"then drained by {CORES} workers",
                f"submitted in {submit_seconds:.0f} s ({accepted / submit_seconds:,.0f}/s), "
                f"drained in {drain_seconds:.0f} s ({accepted / drain_seconds:,.0f}/s); "
                f"peak RSS web {web_peak:.0f} MB per process, worker {max(worker_peaks):.0f} MB"
                + exact_note(counts, accepted),
                target="all arrive exactly once; worker < 150 MB",
                passed=exactly_once(counts, accepted)
                and accepted >= letters
                and max(worker_peaks) < 150,
            )
        )
        self.wipe_letters()

    # Database helpers -------------------------------------------------------------------------

    def letters_stored(self) -> int:
        with self.sessions() as session:
            return session.scalar(select(func.count()).select_from(Letter)) or 0

    def queue(self, count: int, due_in: timedelta = timedelta()) -> None:
        with self.sessions() as session:
            campaign = session.scalars(select(Campaign).order_by(Campaign.id)).first()
            assert campaign is not None
            create_queued_letters(session, campaign, count)
            if due_in:
                session.execute(update(Letter).values(next_attempt_at=utcnow() + due_in))
                session.commit()
        # Statistics, as a table in use has them: just after the wipe's TRUNCATE the planner
        # knows nothing of the new rows, and whether autovacuum analyses them during a drain
        # (it wakes once a minute) decided how the claim's query ran.
        with self.sessions() as session:
            session.execute(text("ANALYZE letters"))
            session.commit()

    def built_messages(self) -> list[tuple[str, bytes]]:
        with self.sessions() as session:
            letters = session.scalars(select(Letter).order_by(Letter.id)).all()
            sender = self.app.extensions["mp_mailer.config"].mail_from_address
            return [
                (
                    letter.mp_email,
                    build_letter_message(
                        letter_envelope(letter), sender, None, sent_on=utcnow()
                    ).as_bytes(policy=SMTP),
                )
                for letter in letters
            ]

    def wipe_letters(self) -> None:
        with self.sessions() as session:
            session.execute(
                text("TRUNCATE letters, delivery_attempts, letter_events RESTART IDENTITY CASCADE")
            )
            session.commit()


HISTORY_ROW = insert(LetterEvent)


def history(
    letter_id: int, at: datetime, from_status: LetterStatus, to_status: LetterStatus, note: str = ""
) -> dict[str, Any]:
    """A letter's history row, as the worker writes one for each change of status."""
    return {
        "letter_id": letter_id,
        "at": at,
        "from_status": from_status,
        "to_status": to_status,
        "note": note,
    }


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * share / 100))]


def supporter_session(page_url: str) -> tuple[str, str]:
    """A supporter's session cookie and CSRF token, as a browser would hold them."""
    response = requests.get(page_url, timeout=10)
    response.raise_for_status()
    match = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', response.text)
    assert match, "no CSRF token on the campaign page"
    cookie = "; ".join(f"{name}={value}" for name, value in response.cookies.items())
    return cookie, match.group(1)


def letter_form(csrf: str) -> str:
    return (
        f"csrf_token={csrf}&postcode=SW1A+1AA&subject=Please+sanction+Chen+Quanguo"
        "&body=Dear+Sir%2C%0D%0A%0D%0APlease+press+for+sanctions+against+Chen+Quanguo.%0D%0A"
        "&name=Supporter+{n}&email=supporter{n}%40example.org&address=1+High+Street%0D%0ALondon"
        # The "Send my letter" button: without it the page answers "not sent" and stores nothing.
        "&send=1"
    )


class sink:
    """The counting sink in its own process; yields its port and the file of Message-IDs."""

    def __init__(self, delay_ms: float = 0) -> None:
        self.delay_ms = delay_ms

    def __enter__(self) -> tuple[int, Path]:
        self.directory = tempfile.TemporaryDirectory(prefix="mp-mailer-sink-")
        self.received = Path(self.directory.name) / "received.txt"
        port = free_port()
        command = [sys.executable, str(BENCH / "sink.py"), "--port", str(port)]
        command += ["--received", str(self.received), "--delay-ms", str(self.delay_ms)]
        self.process = process(command, port=port)
        self.process.__enter__()
        return port, self.received

    def __exit__(self, *exc: Any) -> None:
        self.process.__exit__(*exc)
        self.directory.cleanup()


def run_workers(count: int, environment: Mapping[str, str]) -> list[float]:
    """`mp-mailer worker --once` in `count` processes at once; each one's peak RSS in MB."""
    started = [
        subprocess.Popen(
            [str(BIN / "mp-mailer"), "worker", "--once"],
            env=dict(environment),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        for _ in range(count)
    ]
    peaks = [0.0] * count
    while any(worker.poll() is None for worker in started):
        for number, worker in enumerate(started):
            peaks[number] = max(peaks[number], peak_rss_mb(worker.pid))
        time.sleep(0.05)
    for worker in started:
        if worker.returncode != 0:
            raise RuntimeError(worker.stderr.read().decode() if worker.stderr else "worker failed")
        if worker.stderr:
            worker.stderr.close()
    return peaks


@contextlib.contextmanager
def standing_workers(
    count: int, environment: Mapping[str, str]
) -> Iterator[list[subprocess.Popen[bytes]]]:
    """`mp-mailer worker` (not --once) in `count` processes, stopped with SIGTERM afterwards."""
    started = [
        subprocess.Popen(
            [str(BIN / "mp-mailer"), "worker"],
            env=dict(environment),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for _ in range(count)
    ]
    try:
        yield started
    finally:
        for worker in started:
            worker.terminate()
        for worker in started:
            worker.wait(timeout=60)


def wait_for_deliveries(
    processes: list[subprocess.Popen[bytes]], received: Path, expected: int, timeout: float
) -> list[float]:
    """Wait until the sink has `expected` messages (or a worker died); each one's peak RSS."""
    peaks = [0.0] * len(processes)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for number, worker in enumerate(processes):
            if worker.poll() is not None:
                raise RuntimeError(f"a worker stopped with exit code {worker.returncode}")
            peaks[number] = max(peaks[number], peak_rss_mb(worker.pid))
        if len(received.read_text().splitlines()) >= expected:
            # A moment more, so a duplicate sent late would still be counted.
            time.sleep(1.0)
            break
        time.sleep(0.05)
    return peaks


def arrival_times(received: Path) -> list[float]:
    return [float(line.split()[2]) for line in received.read_text().splitlines() if line]


def smtplib_rate(port: int, messages: Iterable[bytes]) -> float:
    """Messages per second through one smtplib connection to the sink (building them, if the
    iterable builds them, counts)."""
    count = 0
    started = time.perf_counter()
    with smtplib.SMTP("127.0.0.1", port) as connection:
        for message in messages:
            connection.sendmail(MAIL_FROM_ADDRESS, ["mp@parliament.example"], message)
            count += 1
    return count / (time.perf_counter() - started)


def delivered(received: Path) -> Counter[str]:
    return Counter(line.split()[0] for line in received.read_text().splitlines() if line)


def exactly_once(counts: Counter[str], expected: int) -> bool:
    return len(counts) == expected and all(count == 1 for count in counts.values())


def exact_note(counts: Counter[str], expected: int) -> str:
    duplicates = sum(count - 1 for count in counts.values())
    missing = expected - len(counts)
    return f"; {len(counts):,} of {expected:,} arrived, {duplicates} twice, {missing} missing"


def report(bench: Bench, started: float, options: str) -> str:
    lines = [
        f"{time.strftime('%d %B %Y')}; {machine()}; gunicorn with {CORES} sync workers, "
        f"wrk on loopback, PostgreSQL, Redis rate limits; {options}; the run took "
        f"{(time.monotonic() - started) / 60:.1f} min.",
        "",
        TABLE_HEADER,
        *(figure.row() for figure in bench.figures),
    ]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--database-url", required=True, help="a PostgreSQL server's URL")
    parser.add_argument("--bench-database", default="mp_mailer_surge_bench")
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/14")
    parser.add_argument("--quick", action="store_true", help="shorter runs, fewer letters")
    parser.add_argument("--surge-letters", type=int)
    parser.add_argument("--only", help="comma-separated: lookup,web,delivery,surge")
    parser.add_argument("--no-write", action="store_true", help="do not update docs/benchmarks.md")
    arguments = parser.parse_args()
    sections = set((arguments.only or "lookup,web,delivery,surge").split(","))
    seconds = 4 if arguments.quick else 10
    surge_letters = arguments.surge_letters or (1_000 if arguments.quick else 10_000)
    url = postgres_database(arguments.database_url, arguments.bench_database, drop=False)
    started = time.monotonic()
    try:
        environment = app_environment(url, {})
        subprocess.run([str(BIN / "mp-mailer"), "init-db"], env=environment, check=True)
        bench = Bench(url, arguments.redis_url, seconds)
        with bench.sessions() as session:
            slug = session.scalars(select(Campaign.slug).order_by(Campaign.id)).first()
        print(TABLE_HEADER)
        if "lookup" in sections:
            bench.lookup()
        if "web" in sections:
            bench.web(str(slug))
        if "delivery" in sections:
            bench.delivery(300 if arguments.quick else 1_000, 100 if arguments.quick else 400)
        if "surge" in sections:
            bench.surge(str(slug), surge_letters)
        bench.app.extensions["mp_mailer.engine"].dispose()
        options = f"{seconds} s per wrk run, {surge_letters:,} surge letters"
        section = report(bench, started, options)
        print(section)
        if not arguments.no_write:
            write_results("surge", section)
    finally:
        postgres_database(arguments.database_url, arguments.bench_database, drop=True)


if __name__ == "__main__":
    main()
