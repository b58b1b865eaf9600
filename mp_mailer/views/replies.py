"""Supporters answer "has your MP replied?", and the public sees a campaign's reply figures."""

from __future__ import annotations

from flask import Blueprint, abort, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue

from mp_mailer.extensions import limiter
from mp_mailer.forms import ReplyAnswerForm
from mp_mailer.models import ReplyAnswer
from mp_mailer.services.public_campaigns import CampaignNotFound, get_public_campaign
from mp_mailer.services.reply_checks import (
    AnswerOutcome,
    InvalidReplyLink,
    answer_check,
    find_check_for_answer,
)
from mp_mailer.services.send_log.reply_figures import MIN_LETTERS_FOR_A_RATE
from mp_mailer.web_context import app_config, db_session, now, public_reply_figures

blueprint = Blueprint("replies", __name__)


@blueprint.route("/replies/<token>", methods=["GET", "POST"])
@limiter.limit("30 per hour", methods=["POST"])
def answer(token: str) -> ResponseReturnValue:
    """The email's links open this page; only pressing its button records the answer. Mail
    scanners and link previews fetch every link in an email, so an answer recorded on GET would
    often be a scanner's, not the supporter's (and "yes" needs the reply's text and consent)."""
    secret_key = app_config().secret_key
    try:
        check = find_check_for_answer(db_session(), secret_key, token)
    except InvalidReplyLink as e:
        return render_template("supporter/confirm_problem.html", message=e.message), 400
    if check.answered:
        return render_template("replies/answered.html", check=check, again=True)
    form = ReplyAnswerForm()
    if request.method == "GET" and request.args.get("answer") in set(ReplyAnswer):
        form.answer.data = request.args["answer"]
    if form.validate_on_submit():
        outcome = answer_check(
            db_session(),
            secret_key,
            token,
            ReplyAnswer(form.answer.data),
            now(),
            reply_text=form.reply_text.data or "",
            consent=form.keep_reply.data,
        )
        return redirect(
            url_for(
                "replies.answered",
                token=token,
                again=1 if outcome == AnswerOutcome.ALREADY_ANSWERED else None,
            )
        )
    return render_template("replies/answer.html", form=form, check=check, token=token)


@blueprint.route("/replies/<token>/thanks")
def answered(token: str) -> ResponseReturnValue:
    try:
        check = find_check_for_answer(db_session(), app_config().secret_key, token)
    except InvalidReplyLink as e:
        return render_template("supporter/confirm_problem.html", message=e.message), 400
    return render_template("replies/answered.html", check=check, again="again" in request.args)


@blueprint.route("/c/<slug>/replies")
def public_figures(slug: str) -> ResponseReturnValue:
    """The campaign's league table, only when the campaign shows it: totals, never supporters."""
    try:
        campaign = get_public_campaign(db_session(), slug)
    except CampaignNotFound:
        abort(404)
    if not campaign.public_reply_figures:
        abort(404)
    return render_template(
        "replies/public.html",
        campaign=campaign,
        figures=public_reply_figures(campaign.id),
        min_letters=MIN_LETTERS_FOR_A_RATE,
    )
