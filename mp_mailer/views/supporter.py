"""The supporter's journey: campaign page, postcode, letter, confirmation, thank you."""

from __future__ import annotations

from urllib.parse import quote, urlencode

from flask import Blueprint, abort, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_limiter.util import get_remote_address
from flask_login import current_user
from markupsafe import Markup

from mp_mailer.email_messages import Supporter
from mp_mailer.extensions import limiter
from mp_mailer.forms import ConfirmForm, LetterForm, PostcodeForm
from mp_mailer.letter_templates import TemplateProblem
from mp_mailer.models import Campaign, LetterStatus
from mp_mailer.services.letters import (
    ConfirmationOutcome,
    ConfirmationProblem,
    LetterDraft,
    LetterRefused,
    accept_letter,
    confirm_letter,
    count_letters_sent,
    current_template,
    letter_for_token,
    prefill_letter,
)
from mp_mailer.services.mp_lookup import (
    LookupProblem,
    MpDetails,
    NoWestminsterMp,
    find_mp_for_postcode,
)
from mp_mailer.services.public_campaigns import CampaignNotFound, get_public_campaign, render_intro
from mp_mailer.web_context import (
    app_config,
    db_session,
    letter_counts,
    lookup_budget,
    lookup_lifetimes,
    members_api,
    now,
    public_campaign_url,
    warm_lookups,
)

blueprint = Blueprint("supporter", __name__)
CLOSED_MESSAGE = (
    "This campaign has closed and is no longer sending letters. Thank you for your support."
)


def _campaign(slug: str | None) -> Campaign:
    try:
        return get_public_campaign(db_session(), slug, include_drafts=current_user.is_authenticated)
    except CampaignNotFound:
        abort(404)


def _find_mp(postcode: str) -> MpDetails:
    return find_mp_for_postcode(
        db_session(),
        members_api(),
        postcode,
        now(),
        lookup_lifetimes(),
        budget=lookup_budget(),
        client_address=get_remote_address(),
        warm=warm_lookups(),
    )


@blueprint.route("/", methods=["GET", "POST"], defaults={"slug": None})
@blueprint.route("/c/<slug>", methods=["GET", "POST"])
@limiter.limit("30 per minute", methods=["POST"])
def campaign_page(slug: str | None) -> ResponseReturnValue:
    campaign = _campaign(slug)
    form = PostcodeForm()
    outside_uk = False
    if form.validate_on_submit():
        if not campaign.accepts_letters:
            form.postcode.errors.append(CLOSED_MESSAGE)
            return render_campaign_page(campaign, form)
        try:
            _find_mp(form.postcode.data)
        except LookupProblem as e:
            form.postcode.errors.append(e.message)
            outside_uk = isinstance(e, NoWestminsterMp)
        else:
            return redirect(
                url_for("supporter.write_letter", slug=campaign.slug, postcode=form.postcode.data)
            )
    return render_campaign_page(campaign, form, outside_uk)


def render_campaign_page(campaign: Campaign, form: PostcodeForm, outside_uk: bool = False) -> str:
    return render_template(
        "supporter/campaign.html",
        campaign=campaign,
        intro=Markup(render_intro(campaign.intro_markdown)),
        form=form,
        outside_uk=outside_uk,
        letters_sent=letter_counts().letters_sent(db_session(), campaign.id, now()),
    )


@blueprint.get("/c/<slug>/letter")
def write_letter(slug: str) -> ResponseReturnValue:
    campaign = _campaign(slug)
    if not campaign.accepts_letters:
        return redirect(url_for("supporter.campaign_page", slug=campaign.slug))
    form = LetterForm()
    form.postcode.data = request.args.get("postcode", "")
    mp_or_page = _mp_or_postcode_page(campaign, form.postcode.data)
    if not isinstance(mp_or_page, MpDetails):
        return mp_or_page
    try:
        form.subject.data, form.body.data = prefill_letter(
            current_template(db_session(), campaign.id),
            campaign,
            mp_or_page,
            public_campaign_url(campaign),
            now(),
        )
    except (LetterRefused, TemplateProblem):
        abort(503)
    return render_letter_page(campaign, form, mp_or_page)


@blueprint.post("/c/<slug>/letter")
@limiter.limit("10 per hour; 3 per minute")
def submit_letter(slug: str) -> ResponseReturnValue:
    campaign = _campaign(slug)
    form = LetterForm()
    mp_or_page = _mp_or_postcode_page(campaign, form.postcode.data or "")
    if not isinstance(mp_or_page, MpDetails):
        return mp_or_page
    if form.validate_on_submit():
        try:
            accepted = accept_letter(
                db_session(),
                campaign,
                mp_or_page,
                _draft_from(form),
                require_confirmation=app_config().require_confirmation,
                message_id_domain=app_config().mail_from_address.domain,
                now=now(),
            )
        except LetterRefused as e:
            form[e.field].errors.append(e.message)
        else:
            if accepted.status == LetterStatus.AWAITING_CONFIRMATION:
                return redirect(url_for("supporter.check_inbox", slug=campaign.slug))
            return redirect(url_for("supporter.thank_you", slug=campaign.slug))
    return render_letter_page(campaign, form, mp_or_page)


def _mp_or_postcode_page(campaign: Campaign, postcode: str) -> MpDetails | str:
    """The MP for the postcode, or the campaign page saying why there is none to write to."""
    try:
        return _find_mp(postcode)
    except LookupProblem as e:
        postcode_form = PostcodeForm(formdata=None, postcode=postcode)
        postcode_form.postcode.errors = [e.message]
        return render_campaign_page(campaign, postcode_form, isinstance(e, NoWestminsterMp))


def render_letter_page(
    campaign: Campaign, form: LetterForm, mp: MpDetails, notice: str | None = None
) -> str:
    return render_template(
        "supporter/letter.html",
        campaign=campaign,
        form=form,
        mp=mp,
        notice=notice,
        require_confirmation=app_config().require_confirmation,
    )


def _draft_from(form: LetterForm) -> LetterDraft:
    return LetterDraft(
        subject=form.subject.data,
        body=form.body.data,
        supporter=Supporter(
            name=form.name.data,
            email=form.email.data,
            address=form.address.data,
            postcode=form.postcode.data,
        ),
        send_copy=form.send_copy.data,
        wants_updates=form.wants_updates.data,
    )


@blueprint.route("/c/<slug>/check-inbox")
def check_inbox(slug: str) -> ResponseReturnValue:
    campaign = _campaign(slug)
    hours = app_config().confirmation_max_age_hours
    return render_template("supporter/check_inbox.html", campaign=campaign, hours=hours)


@blueprint.route("/confirm/<token>", methods=["GET", "POST"])
@limiter.limit("30 per hour", methods=["POST"])
def confirm(token: str) -> ResponseReturnValue:
    config = app_config()
    form = ConfirmForm()
    try:
        letter = letter_for_token(
            db_session(), config.secret_key, token, config.confirmation_max_age_hours * 3600
        )
    except ConfirmationProblem as e:
        return render_template("supporter/confirm_problem.html", message=e.message), 400
    if form.validate_on_submit():
        outcome = confirm_letter(db_session(), letter, now())
        return redirect(
            url_for(
                "supporter.thank_you",
                slug=letter.campaign.slug,
                again=1 if outcome == ConfirmationOutcome.ALREADY_CONFIRMED else None,
            )
        )
    if letter.confirmed_at is not None:
        return redirect(url_for("supporter.thank_you", slug=letter.campaign.slug, again=1))
    return render_template("supporter/confirm.html", form=form, letter=letter)


@blueprint.route("/c/<slug>/thanks")
def thank_you(slug: str) -> ResponseReturnValue:
    campaign = _campaign(slug)
    url = public_campaign_url(campaign)
    text = campaign.share_text or campaign.title
    share_links = {
        "Email a friend": "mailto:?"
        + urlencode({"subject": campaign.title, "body": f"{text}\n\n{url}"}, quote_via=quote),
        "WhatsApp": "https://wa.me/?" + urlencode({"text": f"{text} {url}"}),
        "Facebook": "https://www.facebook.com/sharer/sharer.php?" + urlencode({"u": url}),
        "Bluesky": "https://bsky.app/intent/compose?" + urlencode({"text": f"{text} {url}"}),
        "X": "https://x.com/intent/post?" + urlencode({"text": text, "url": url}),
    }
    return render_template(
        "supporter/thank_you.html",
        campaign=campaign,
        letters_sent=count_letters_sent(db_session(), campaign.id),
        share_links=share_links,
        campaign_url=url,
        already=request.args.get("again") == "1",
    )


def render_expired_letter_form(view_args: dict[str, str]) -> ResponseReturnValue:
    """A letter posted with an expired or missing CSRF token: nothing is sent, nothing is lost."""
    campaign = _campaign(view_args.get("slug"))
    form = LetterForm()
    try:
        mp = _find_mp(form.postcode.data or "")
    except LookupProblem:
        return redirect(url_for("supporter.campaign_page", slug=campaign.slug))
    notice = (
        "This page had expired, so your letter has not been sent yet. "
        "Check it and press “Send my letter” again."
    )
    return render_letter_page(campaign, form, mp, notice=notice), 400
