"""The `mp-mailer` command: init-db, run, worker, sync-mps, create-user, purge, ...

About 475 lines because it is one thin click command per job (each parses options, calls one
service and prints its outcome); the work itself lives in services/, worker/ and clients/."""

from __future__ import annotations

import logging
import signal
import sys
import threading
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from types import FrameType
from typing import Any

import click
from flask import Flask, current_app
from flask.cli import FlaskGroup, routes_command, shell_command, with_appcontext
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker
from werkzeug.serving import run_simple

from mp_mailer.clients.inbound_mail import (
    ImapError,
    ImapSettings,
    MessageHandler,
    poll_mailbox,
    start_receiver,
)
from mp_mailer.clients.parliament import MembersApiClient
from mp_mailer.clients.parliament_errors import MembersApiError
from mp_mailer.config import Config, ConfigError, smtp_relay
from mp_mailer.config import smtp_settings as smtp_settings  # tests and bench/ import it here
from mp_mailer.db import utcnow
from mp_mailer.models import UserRole
from mp_mailer.schema import upgrade_database
from mp_mailer.services.bounce_addresses import BounceAddresses
from mp_mailer.services.bounces import ForgedBounceAddress, accept_returned_mail
from mp_mailer.services.lookup_problems import LookupProblem
from mp_mailer.services.mp_cache import sync_current_mps
from mp_mailer.services.outbox.transitions import RetryPolicy
from mp_mailer.services.pacing import (
    Pacing,
    PacingProblem,
    campaign_id_for,
    find_pacing,
    set_pacing,
)
from mp_mailer.services.seed import seed_first_campaign
from mp_mailer.services.supporter_data import purge_old_letters, purgeable_letter_ids
from mp_mailer.services.users import UserProblem, create_user
from mp_mailer.worker.loop import run_worker
from mp_mailer.worker.settings import RelayUnavailable, WorkerSettings

logger = logging.getLogger(__name__)


def _config() -> Config:
    config: Config = current_app.extensions["mp_mailer.config"]
    return config


def _session_factory() -> sessionmaker[Session]:
    factory: sessionmaker[Session] = current_app.extensions["mp_mailer.session_factory"]
    return factory


def _engine() -> Engine:
    engine: Engine = current_app.extensions["mp_mailer.engine"]
    return engine


def worker_settings(config: Config) -> WorkerSettings:
    return WorkerSettings(
        secret_key=config.secret_key,
        public_url=config.public_url,
        mail_from=config.mail_from_address,
        mail_redirect_to=config.mail_redirect_to,
        retry_policy=RetryPolicy(
            base_delay=timedelta(seconds=config.retry_base_seconds),
            window=timedelta(hours=config.delivery_retry_window_hours),
        ),
        lease=timedelta(seconds=config.lease_seconds),
        poll_seconds=config.worker_poll_seconds,
        confirmation_max_age_hours=config.confirmation_max_age_hours,
        relay_outage_max_wait=timedelta(seconds=config.relay_outage_max_wait_seconds),
        bounce_addresses=BounceAddresses(config.secret_key, config.bounce_address)
        if config.bounce_address
        else None,
        reply_check_days=config.reply_check_days,
    )


@click.command("init-db")
@with_appcontext
def init_db_command() -> None:
    """Create or upgrade the database schema and add the first campaign. Safe to run again."""
    initialise_database()
    click.echo("Database is up to date.")


def initialise_database() -> None:
    upgrade_database(_engine())
    with _session_factory()() as session:
        if seed_first_campaign(session):
            click.echo("Added the Ban Chen Quanguo campaign.")


@click.command("worker")
@with_appcontext
@click.option("--once", is_flag=True, help="Send what is due now, then exit.")
def worker_command(once: bool) -> None:
    """Deliver queued letters and confirmation emails."""
    config = _config()
    stop = threading.Event()

    def request_stop(signum: int, _frame: FrameType | None) -> None:
        click.echo(f"Received signal {signum}: finishing the current email, then stopping.")
        stop.set()

    signal.signal(signal.SIGTERM, request_stop)
    signal.signal(signal.SIGINT, request_stop)
    try:
        delivered = run_worker(
            _session_factory(),
            lambda: smtp_relay(config),
            worker_settings(config),
            once=once,
            stop=stop,
        )
    except RelayUnavailable as e:
        raise click.ClickException(
            f"The SMTP relay cannot be reached ({e}); nothing was sent, try again later."
        ) from e
    click.echo(f"Worker stopped after {delivered} emails.")


def returned_mail_recorder(config: Config) -> tuple[BounceAddresses, MessageHandler]:
    if not config.bounce_address:
        raise click.ClickException("Set BOUNCE_ADDRESS first: returned mail is read for it.")
    addresses = BounceAddresses(config.secret_key, config.bounce_address)
    factory = _session_factory()

    def record(recipients: list[str], raw: bytes) -> bool:
        with factory() as session:
            try:
                accept_returned_mail(session, addresses, recipients, raw, utcnow())
            except ForgedBounceAddress:
                logger.warning("Returned mail refused: not to a valid bounce address")
                return False
        return True

    return addresses, record


@click.command("inbound")
@with_appcontext
@click.option("--imap", "use_imap", is_flag=True, help="Poll IMAP_URL instead of listening.")
@click.option("--once", is_flag=True, help="With --imap: read what is there now, then exit.")
def inbound_command(use_imap: bool, once: bool) -> None:
    """Read returned mail (bounces, automatic replies) and record it on each letter."""
    config = _config()
    addresses, record = returned_mail_recorder(config)
    if not use_imap:
        controller = start_receiver(
            config.inbound_smtp_host,
            config.inbound_smtp_port,
            lambda address: addresses.letter_id_of(address) is not None,
            record,
        )
        click.echo(
            f"Receiving returned mail on {config.inbound_smtp_host}:{config.inbound_smtp_port}."
        )
        stop = threading.Event()
        signal.signal(signal.SIGTERM, lambda *_: stop.set())
        try:
            stop.wait()
        except KeyboardInterrupt:
            pass
        finally:
            controller.stop()
        return
    if not config.imap_url:
        raise click.ClickException("Set IMAP_URL to read returned mail from a mailbox.")
    settings = ImapSettings.from_url(config.imap_url)
    while True:
        try:
            count = poll_mailbox(settings, record)
        except ImapError as e:
            if once:
                raise click.ClickException(f"Could not read the mailbox: {e}") from e
            logger.warning("Could not read the returned-mail mailbox: %s", e)
            count = 0
        if once:
            click.echo(f"Read {count} returned messages.")
            return
        time.sleep(config.imap_poll_seconds)


@click.command("pacing")
@with_appcontext
@click.argument("campaign_slug")
@click.option("--per-hour", type=click.IntRange(0), help="Letters an hour at most (0: no limit).")
@click.option(
    "--per-mp-per-day", type=click.IntRange(0), help="Letters to one MP a day (0: no limit)."
)
@click.option("--window", help='UK sending hours, e.g. "mon-fri 08:00-20:00" ("" for any time).')
def pacing_command(
    campaign_slug: str, per_hour: int | None, per_mp_per_day: int | None, window: str | None
) -> None:
    """Show or set a campaign's sending pace; letters over a limit wait, in order."""
    with _session_factory()() as session:
        try:
            campaign_id = campaign_id_for(session, campaign_slug)
            current = find_pacing(session, campaign_id)
            if per_hour is None and per_mp_per_day is None and window is None:
                click.echo(f"{campaign_slug}: {current.describe()}")
                return
            updated = set_pacing(
                session,
                campaign_slug,
                Pacing(
                    current.letters_per_hour if per_hour is None else (per_hour or None),
                    current.letters_per_mp_per_day
                    if per_mp_per_day is None
                    else (per_mp_per_day or None),
                    current.sending_window if window is None else window,
                ),
            )
        except PacingProblem as e:
            raise click.ClickException(e.message) from e
    click.echo(f"{campaign_slug}: {updated.describe()}")


@click.command("check-sender")
@with_appcontext
def check_sender_command() -> None:
    """Look up SPF, DMARC and DKIM for MAIL_FROM's domain and say whether mail will be trusted."""
    from mp_mailer.clients.dns_records import TxtResolver
    from mp_mailer.web_context import sender_report_for

    resolver = current_app.extensions.get("mp_mailer.dns_resolver") or TxtResolver()
    report = sender_report_for(_config(), resolver)
    for finding in report.findings:
        click.echo(f"{finding.name}: {'ok' if finding.ok else 'PROBLEM'}: {finding.says}")
        if finding.record:
            click.echo(f"    {finding.record}")
    click.echo(report.summary())
    if not report.likely_trusted:
        sys.exit(1)


@click.command("sync-mps")
@with_appcontext
def sync_mps_command() -> None:
    """Load every current MP from the Members API into the local cache."""
    client: MembersApiClient = current_app.extensions["mp_mailer.members_api"]
    try:
        click.echo("Loading current MPs from the Members API…")
        with _session_factory()() as session:
            report = sync_current_mps(
                session,
                client,
                utcnow(),
                progress=lambda loaded: click.echo(f"  {loaded:,} MPs loaded"),
            )
    except (MembersApiError, LookupProblem) as e:
        raise click.ClickException(f"Could not load MPs: {e}") from e
    click.echo(
        f"{report.current} current MPs cached; {report.no_longer_current} no longer current."
    )


@click.command("create-user")
@with_appcontext
@click.argument("email")
@click.option(
    "--role",
    type=click.Choice([role.value for role in UserRole]),
    required=True,
    help="admin: everything; campaigner: campaigns; staff: the send log.",
)
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
def create_user_command(email: str, role: str, password_stdin: bool) -> None:
    """Add a staff account. The password is prompted for, never given as an argument."""
    if password_stdin:
        password = sys.stdin.readline().rstrip("\n")
    else:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    try:
        with _session_factory()() as session:
            user = create_user(session, email, password, UserRole(role))
    except UserProblem as e:
        raise click.ClickException(e.message) from e
    click.echo(f"Created {user.email} with role {user.role}.")


@click.command("seed-demo")
@with_appcontext
@click.option(
    "--letters",
    default=3_000,
    show_default=True,
    type=click.IntRange(1, 1_000_000),
    help="How many made-up letters to write, spread over the last 30 days.",
)
@click.option("--yes", is_flag=True, help="Do not ask before writing.")
def seed_demo_command(letters: int, yes: bool) -> None:
    """Fill an empty database with made-up MPs and letters, to try the staff pages.

    Only for a demo or development database: it refuses one that already has letters. Every
    address is on a reserved example domain, and no demo letter is due for sending.
    """
    # Imported here: only this command needs the demo's name tables and letter stories.
    from mp_mailer.demo.seeding import DemoRefused, refuse_unless_empty, seed_demo

    database = _engine().url.render_as_string(hide_password=True)
    initialise_database()
    try:
        with _session_factory()() as session:
            # Refuse before asking: a question whose every answer ends in "no" wastes a turn.
            refuse_unless_empty(session)
            if not yes:
                click.confirm(
                    f"Write 650 made-up MPs and {letters:,} letters to {database}?", abort=True
                )
            click.echo(f"Writing {letters:,} demo letters…")
            report = seed_demo(
                session,
                letters,
                utcnow(),
                mail_from=_config().mail_from_address,
                progress=_every(DEMO_PROGRESS_EVERY, letters, "letters written"),
            )
    except DemoRefused as e:
        raise click.ClickException(e.message) from e
    click.echo(
        f"Added {report.letters:,} demo letters to {', '.join(report.campaigns)}, "
        f"written to {report.members} made-up MPs."
    )


DEMO_PROGRESS_EVERY = 5_000


def _every(step: int, total: int, what: str) -> Callable[[int], None]:
    """A progress callback printing "  5,000 of 30,000 <what>" each time `step` more are done."""
    reported = [0]

    def report(done: int) -> None:
        if done - reported[0] >= step or (done == total and done != reported[0]):
            reported[0] = done
            click.echo(f"  {done:,} of {total:,} {what}")

    return report


@click.command("purge")
@with_appcontext
@click.option(
    "--older-than",
    "older_than_days",
    type=click.IntRange(1, 36_500),
    default=None,
    help="Days a letter's supporter details are kept (default RETENTION_DAYS, 180).",
)
def purge_command(older_than_days: int | None) -> None:
    """Remove supporters' names, emails, addresses and words from old letters.

    The letters stay, so every count stays true; a letter not yet sent is cancelled first.
    Run it daily (cron); each run is recorded.
    """
    days = older_than_days or _config().retention_days
    now = utcnow()
    with _session_factory()() as session:
        total = len(purgeable_letter_ids(session, now - timedelta(days=days)))
        with click.progressbar(
            length=total, label=f"Letters older than {days} days", file=sys.stderr
        ) as bar:
            result = purge_old_letters(session, now, days, progress=bar.update)
    click.echo(
        f"Removed supporters' details from {result.erased:,} letters older than {days} days."
    )
    if result.in_flight:
        click.echo(f"{result.in_flight} letters were being sent; the next purge takes them.")


@click.command("run")
@with_appcontext
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True)
@click.option(
    "--sink/--no-sink",
    default=True,
    help="Run a local SMTP server that saves every email as a file (default), or use SMTP_HOST.",
)
def run_command(host: str, port: int, sink: bool) -> None:
    """Run everything on this machine: the web app, a worker and a local mail sink."""
    from mp_mailer.smtp_sink import start_sink

    app: Flask = current_app._get_current_object()  # type: ignore[attr-defined]
    config = _config()
    initialise_database()
    controller: Any = None
    if sink:
        directory = Path(config.sink_directory)
        controller = start_sink(config.smtp_host, config.smtp_port, directory)
        click.echo(
            f"Local mail sink on {config.smtp_host}:{config.smtp_port}: every email is saved "
            f"in {directory}"
        )
    stop = threading.Event()
    worker = threading.Thread(
        target=run_worker,
        args=(
            _session_factory(),
            lambda: smtp_relay(config),
            worker_settings(config),
        ),
        kwargs={"stop": stop},
        name="mp-mailer-worker",
        daemon=True,
    )
    worker.start()
    click.echo(f"Worker started. Open http://{host}:{port}/ to write a letter.")
    try:
        run_simple(host, port, app, use_reloader=False, threaded=True)
    finally:
        stop.set()
        worker.join(timeout=10)
        if controller is not None:
            controller.stop()


COMMANDS = (
    init_db_command,
    worker_command,
    sync_mps_command,
    inbound_command,
    pacing_command,
    check_sender_command,
    create_user_command,
    run_command,
    seed_demo_command,
    purge_command,
)


def register_commands(app: Flask) -> None:
    for command in COMMANDS:
        app.cli.add_command(command)


_help_only = False


def _create_app_or_exit() -> Flask:
    from mp_mailer import create_app
    from mp_mailer.startup import configure_logging

    if _help_only:
        # `mp-mailer --help` lists the commands, which need no configuration to be described.
        return Flask(__name__)
    # FlaskGroup has read .env by now (load_dotenv=True), as startup.load_environment would.
    try:
        app = create_app()
    except ConfigError as e:
        click.echo(f"Configuration error: {e}", err=True)
        sys.exit(2)
    configure_logging(app.extensions["mp_mailer.config"])
    return app


cli = FlaskGroup(
    create_app=_create_app_or_exit,
    add_default_commands=False,
    add_version_option=False,
    load_dotenv=True,
    help="mp_mailer: write-to-your-MP campaigns.",
)
cli.add_command(shell_command)
cli.add_command(routes_command)
for _command in COMMANDS:
    cli.add_command(_command)


def main() -> None:
    global _help_only
    _help_only = sys.argv[1:] in ([], ["--help"], ["-h"])
    cli.main(prog_name="mp-mailer")
