"""Staff read the send log: letters, their delivery, exports and figures."""

from __future__ import annotations

from collections.abc import Iterator
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
from mp_mailer.services import send_log
from mp_mailer.services.send_log import ActionRefused, LetterNotFound
from mp_mailer.web_context import db_session, new_db_session, now

blueprint = Blueprint("send_log", __name__, url_prefix="/admin/letters")


def _log_query() -> dict[str, Any]:
    """The log's filter and page, carried to a letter's page so its back link returns there."""
    names = (*send_log.FILTER_PARAMETERS, *send_log.CURSOR_PARAMETERS)
    return {name: request.args[name] for name in names if request.args.get(name)}


@blueprint.route("/")
@role_required(UserRole.STAFF)
def list_letters() -> ResponseReturnValue:
    letter_filter, problems = send_log.parse_filter(request.args)
    page = send_log.list_letters(
        db_session(),
        letter_filter,
        before=request.args.get("before", type=int),
        after=request.args.get("after", type=int),
    )
    return render_template(
        "send_log/list.html",
        letter_filter=letter_filter,
        filter_query=letter_filter.to_query(),
        filter_description=send_log.describe_filter(db_session(), request.args),
        problems=problems,
        page=page,
        matching=send_log.count_matching(db_session(), letter_filter),
        options=send_log.filter_options(db_session()),
        export_columns=send_log.EXPORT_COLUMNS,
        log_query=_log_query(),
    )


@blueprint.route("/export.csv")
@role_required(UserRole.STAFF)
def export_letters() -> ResponseReturnValue:
    letter_filter, problems = send_log.parse_filter(request.args)
    if problems:
        return redirect(url_for("send_log.list_letters", **_log_query()))
    send_log.record_export(db_session(), current_user.id, letter_filter, now())
    filename = f"letters-{now():%Y-%m-%d-%H%M}.csv"
    return Response(
        _stream_export(new_db_session(), letter_filter),
        mimetype="text/csv",
        headers={
            "Content-Disposition": f'attachment; filename="{filename}"',
            "Cache-Control": "no-store",
        },
    )


def _stream_export(session: Session, letter_filter: send_log.LetterFilter) -> Iterator[str]:
    # Its own session, closed when the download ends or the client goes away: the request's
    # session is gone by the time a WSGI server reads the body.
    with session:
        yield from send_log.export_csv(session, letter_filter)


@blueprint.route("/exports")
@role_required(UserRole.STAFF)
def list_exports() -> ResponseReturnValue:
    exports = [
        (record, send_log.describe_filter(db_session(), record.filters))
        for record in send_log.recent_exports(db_session())
    ]
    return render_template("send_log/exports.html", exports=exports)


@blueprint.route("/<int:letter_id>")
@role_required(UserRole.STAFF)
def letter_detail(letter_id: int) -> ResponseReturnValue:
    try:
        detail = send_log.get_letter_detail(db_session(), letter_id)
    except LetterNotFound:
        abort(404)
    return render_template("send_log/detail.html", detail=detail, log_query=_log_query())


@blueprint.route("/<int:letter_id>/retry", methods=["POST"])
@role_required(UserRole.STAFF)
def retry_letter(letter_id: int) -> ResponseReturnValue:
    try:
        send_log.retry_letter(db_session(), letter_id, current_user.id, now())
    except LetterNotFound:
        abort(404)
    except ActionRefused as e:
        flash(e.message, "warning")
    else:
        flash("The letter is queued to be sent again.", "success")
    return redirect(url_for("send_log.letter_detail", letter_id=letter_id, **_log_query()))


@blueprint.route("/<int:letter_id>/cancel", methods=["POST"])
@role_required(UserRole.STAFF)
def cancel_letter(letter_id: int) -> ResponseReturnValue:
    try:
        send_log.cancel_letter(db_session(), letter_id, current_user.id, now())
    except LetterNotFound:
        abort(404)
    except ActionRefused as e:
        flash(e.message, "warning")
    else:
        flash("The letter is cancelled: it will not be sent.", "success")
    return redirect(url_for("send_log.letter_detail", letter_id=letter_id, **_log_query()))


@blueprint.route("/figures")
@role_required(UserRole.STAFF)
def figures() -> ResponseReturnValue:
    campaign_id = request.args.get("campaign", type=int)
    period = request.args.get("period", send_log.DEFAULT_PERIOD)
    if period not in send_log.PERIODS:
        period = send_log.DEFAULT_PERIOD
    today = now().date()
    figures = send_log.campaign_figures(
        db_session(), campaign_id, send_log.period_start(period, today), today
    )
    return render_template(
        "send_log/figures.html",
        figures=figures,
        chart=Markup(send_log.letters_per_day_chart(figures.days)),
        campaign_id=campaign_id,
        period=period,
        campaigns=send_log.campaign_choices(db_session()),
    )


@blueprint.route("/mps")
@role_required(UserRole.STAFF)
def list_mps() -> ResponseReturnValue:
    campaign_id = request.args.get("campaign", type=int)
    sort = request.args.get("sort", "constituency")
    not_written = request.args.get("not_written") == "1"
    mps = send_log.list_mps(db_session(), campaign_id, sort=sort, only_not_written=not_written)
    return render_template(
        "send_log/mps.html",
        mps=mps,
        campaign_id=campaign_id,
        sort=sort if sort in send_log.MP_SORTS else "constituency",
        not_written=not_written,
        reach=send_log.mp_reach(db_session(), campaign_id),
        campaigns=send_log.campaign_choices(db_session()),
    )
