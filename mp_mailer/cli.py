"""The `mp-mailer` command: init-db, run, worker, sync-mps, create-user, purge, ..."""

from __future__ import annotations

import signal
import sys
import threading
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

from mp_mailer.clients.parliament import MembersApiClient, MembersApiError
from mp_mailer.clients.smtp_relay import SmtpRelay
from mp_mailer.config import Config, ConfigError, smtp_settings
from mp_mailer.db import utcnow
from mp_mailer.models import UserRole
from mp_mailer.schema import upgrade_database
from mp_mailer.services.demo_data import DEFAULT_LETTERS, DemoRefused, seed_demo
from mp_mailer.services.mp_lookup import LookupProblem, sync_current_mps
from mp_mailer.services.outbox import RetryPolicy
from mp_mailer.services.seed import seed_first_campaign
from mp_mailer.services.supporter_data import purge_old_letters, purgeable_letter_ids
from mp_mailer.services.users import UserProblem, create_user
from mp_mailer.worker import RelayUnavailable, WorkerSettings, run_worker


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
            lambda: SmtpRelay(smtp_settings(config)),
            worker_settings(config),
            once=once,
            stop=stop,
        )
    except RelayUnavailable as e:
        raise click.ClickException(
            f"The SMTP relay cannot be reached ({e}); nothing was sent, try again later."
        ) from e
    click.echo(f"Worker stopped after {delivered} emails.")


@click.command("sync-mps")
@with_appcontext
def sync_mps_command() -> None:
    """Load every current MP from the Members API into the local cache."""
    client: MembersApiClient = current_app.extensions["mp_mailer.members_api"]
    try:
        with _session_factory()() as session:
            report = sync_current_mps(session, client, utcnow())
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
    default=DEFAULT_LETTERS,
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
    database = _engine().url.render_as_string(hide_password=True)
    if not yes:
        click.confirm(f"Write 650 made-up MPs and {letters:,} letters to {database}?", abort=True)
    initialise_database()
    try:
        with _session_factory()() as session:
            report = seed_demo(session, letters, utcnow(), mail_from=_config().mail_from_address)
    except DemoRefused as e:
        raise click.ClickException(e.message) from e
    click.echo(
        f"Added {report.letters:,} demo letters to {', '.join(report.campaigns)}, "
        f"written to {report.members} made-up MPs."
    )


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
            lambda: SmtpRelay(smtp_settings(config)),
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


def register_commands(app: Flask) -> None:
    for command in (
        init_db_command,
        worker_command,
        sync_mps_command,
        create_user_command,
        run_command,
        seed_demo_command,
        purge_command,
    ):
        app.cli.add_command(command)


def _create_app_or_exit() -> Flask:
    from mp_mailer import create_app
    from mp_mailer.startup import configure_logging

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


def main() -> None:
    cli.main(prog_name="mp-mailer")
