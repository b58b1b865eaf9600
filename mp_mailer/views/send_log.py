"""Staff read the send log: letters, their delivery, exports and figures."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from datetime import datetime
from typing import Any

from flask import (
    Blueprint,
    Response,
    abort,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_login import current_user
from markupsafe import Markup
from sqlalchemy.orm import Session

from mp_mailer.models import UserRole
from mp_mailer.permissions import role_required
from mp_mailer.services.personal_touch import BAND_LABELS
from mp_mailer.services.send_log import export, filters, listing, mp_reach, reply_figures
from mp_mailer.services.send_log import figures as letter_figures
from mp_mailer.services.send_log import letter_detail as one_letter
from mp_mailer.services.send_log.filters import LetterFilter
from mp_mailer.services.send_log.letter_detail import ActionRefused, LetterNotFound
from mp_mailer.services.send_log.returned_mail_figures import returned_mail_figures
from mp_mailer.views.charts import letters_per_day_chart
from mp_mailer.views.identifiers import database_id
from mp_mailer.views.send_log_query import filter_query, log_query, parse_filter
from mp_mailer.web_context import db_session, new_db_session, now, sender_report

blueprint = Blueprint("send_log", __name__, url_prefix="/admin/letters")


def _log_query() -> dict[str, Any]:
    return log_query(request.args)


def _described(query: Mapping[str, str]) -> list[tuple[str, str]]:
    letter_filter, _ = parse_filter(query)
    return filters.describe_filter(db_session(), letter_filter)


@blueprint.route("/")
@role_required(UserRole.STAFF)
def list_letters() -> ResponseReturnValue:
    letter_filter, problems = parse_filter(request.args)
    page = listing.list_letters(
        db_session(),
        letter_filter,
        before=request.args.get("before", type=database_id),
        after=request.args.get("after", type=database_id),
    )
    return render_template(
        "send_log/list.html",
        letter_filter=letter_filter,
        filter_query=filter_query(letter_filter),
        filter_description=_described(request.args),
        problems=problems,
        page=page,
        matching=listing.count_matching(db_session(), letter_filter),
        options=filters.filter_options(db_session()),
        export_columns=export.EXPORT_COLUMNS,
        log_query=_log_query(),
    )


@blueprint.route("/export.csv")
@role_required(UserRole.STAFF)
def export_letters() -> ResponseReturnValue:
    letter_filter, problems = parse_filter(request.args)
    if problems:
        return redirect(url_for("send_log.list_letters", **_log_query()))
    export.record_export(db_session(), current_user.id, filter_query(letter_filter), now())
    filename = f"letters-{now():%Y-%m-%d-%H%M}.csv"
    return Response(
        _stream_export(new_db_session(), letter_filter),
        mimetype="text/csv",
        headers={
            "Content-Disposition": f'attachment; filename="{filename}"',
            "Cache-Control": "no-store",
        },
    )


def _stream_export(session: Session, letter_filter: LetterFilter) -> Iterator[str]:
    # Its own session, closed when the download ends or the client goes away: the request's
    # session is gone by the time a WSGI server reads the body.
    with session:
        yield from export.export_csv(session, letter_filter)


@blueprint.route("/exports")
@role_required(UserRole.STAFF)
def list_exports() -> ResponseReturnValue:
    exports = [
        (record, _described(record.filters)) for record in export.recent_exports(db_session())
    ]
    return render_template("send_log/exports.html", exports=exports)


@blueprint.route("/<int:letter_id>")
@role_required(UserRole.STAFF)
def letter_detail(letter_id: int) -> ResponseReturnValue:
    try:
        detail = one_letter.get_letter_detail(db_session(), letter_id)
    except LetterNotFound:
        abort(404)
    return render_template("send_log/detail.html", detail=detail, log_query=_log_query())


@blueprint.route("/<int:letter_id>/retry", methods=["POST"])
@role_required(UserRole.STAFF)
def retry_letter(letter_id: int) -> ResponseReturnValue:
    return _change_letter(
        one_letter.retry_letter, letter_id, "The letter is queued to be sent again."
    )


@blueprint.route("/<int:letter_id>/cancel", methods=["POST"])
@role_required(UserRole.STAFF)
def cancel_letter(letter_id: int) -> ResponseReturnValue:
    return _change_letter(
        one_letter.cancel_letter, letter_id, "The letter is cancelled: it will not be sent."
    )


def _change_letter(
    change: Callable[[Session, int, int, datetime], None], letter_id: int, done: str
) -> ResponseReturnValue:
    """Retry or cancel as the logged-in staff member, then back to the letter with what happened."""
    try:
        change(db_session(), letter_id, current_user.id, now())
    except LetterNotFound:
        abort(404)
    except ActionRefused as e:
        flash(e.message, "warning")
    else:
        flash(done, "success")
    return redirect(url_for("send_log.letter_detail", letter_id=letter_id, **_log_query()))


@blueprint.route("/sender-checks")
@role_required(UserRole.STAFF)
def sender_checks() -> ResponseReturnValue:
    return render_template("send_log/sender_checks.html", report=sender_report())


@blueprint.route("/figures")
@role_required(UserRole.STAFF)
def figures() -> ResponseReturnValue:
    campaign_id = request.args.get("campaign", type=database_id)
    period = request.args.get("period", letter_figures.DEFAULT_PERIOD)
    if period not in letter_figures.PERIODS:
        period = letter_figures.DEFAULT_PERIOD
    today = now().date()
    counted = letter_figures.campaign_figures(
        db_session(), campaign_id, letter_figures.period_start(period, today), today
    )
    return render_template(
        "send_log/figures.html",
        figures=counted,
        chart=Markup(letters_per_day_chart(counted.days)),
        campaign_id=campaign_id,
        period=period,
        campaigns=filters.campaign_choices(db_session()),
        returned=returned_mail_figures(db_session(), campaign_id),
        own_words_labels=BAND_LABELS,
    )


@blueprint.route("/mps")
@role_required(UserRole.STAFF)
def list_mps() -> ResponseReturnValue:
    campaign_id = request.args.get("campaign", type=database_id)
    sort = request.args.get("sort", "constituency")
    not_written = request.args.get("not_written") == "1"
    mps = mp_reach.list_mps(db_session(), campaign_id, sort=sort, only_not_written=not_written)
    return render_template(
        "send_log/mps.html",
        mps=mps,
        campaign_id=campaign_id,
        sort=sort if sort in mp_reach.MP_SORTS else "constituency",
        not_written=not_written,
        reach=mp_reach.mp_reach(db_session(), campaign_id),
        campaigns=filters.campaign_choices(db_session()),
    )


@blueprint.route("/replies")
@role_required(UserRole.STAFF)
def replies() -> ResponseReturnValue:
    campaigns = filters.campaign_choices(db_session())
    campaign_id = _replies_campaign(campaigns)
    return render_template(
        "send_log/replies.html",
        campaigns=campaigns,
        campaign_id=campaign_id,
        figures=reply_figures.reply_figures(db_session(), campaign_id) if campaign_id else None,
        min_letters=reply_figures.MIN_LETTERS_FOR_A_RATE,
    )


@blueprint.route("/replies/mp/<int:mp_id>")
@role_required(UserRole.STAFF)
def replies_for_mp(mp_id: int) -> ResponseReturnValue:
    campaigns = filters.campaign_choices(db_session())
    campaign_id = _replies_campaign(campaigns)
    if campaign_id is None:
        abort(404)
    letters = reply_figures.mp_letters(db_session(), campaign_id, mp_id)
    if not letters:
        abort(404)
    tally = next(
        (
            mp
            for mp in reply_figures.reply_figures(db_session(), campaign_id).mps
            if mp.mp_id == mp_id
        ),
        None,
    )
    return render_template(
        "send_log/replies_mp.html",
        campaign_id=campaign_id,
        campaign_title=dict(campaigns)[campaign_id],
        letters=letters,
        tally=tally,
        min_letters=reply_figures.MIN_LETTERS_FOR_A_RATE,
    )


@blueprint.route("/replies.csv")
@role_required(UserRole.STAFF)
def replies_csv() -> ResponseReturnValue:
    campaign_id = _replies_campaign(filters.campaign_choices(db_session()))
    if campaign_id is None:
        abort(404)
    figures = reply_figures.reply_figures(db_session(), campaign_id)
    return Response(
        reply_figures.figures_csv(figures),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="replies-{campaign_id}.csv"'},
    )


def _replies_campaign(campaigns: list[tuple[int, str]]) -> int | None:
    """The campaign asked for, or the first one; None when there is no such campaign."""
    asked = request.args.get("campaign", type=database_id)
    known = [campaign_id for campaign_id, _ in campaigns]
    if asked is not None:
        return asked if asked in known else None
    return known[0] if known else None
