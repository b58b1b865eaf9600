"""The supporter's journey: campaign page, postcode, letter, confirmation, thank you."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TypeVar
from urllib.parse import quote, urlencode

from flask import Blueprint, Response, abort, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_limiter.util import get_remote_address
from flask_login import current_user
from markupsafe import Markup

from mp_mailer.email_messages import Supporter, sign_off
from mp_mailer.extensions import limiter
from mp_mailer.forms import ConfirmForm, LetterForm, PostcodeForm
from mp_mailer.letter_templates import TemplateProblem
from mp_mailer.models import Campaign, LetterStatus, LetterTemplate
from mp_mailer.services.letters import (
    ConfirmationOutcome,
    ConfirmationProblem,
    LetterDraft,
    LetterRefused,
    LetterSite,
    accept_letter,
    campaign_text_for,
    confirm_letter,
    count_letters_sent,
    current_template,
    letter_for_token,
    prefill_letter,
    supporter_of,
)
from mp_mailer.services.lookup_problems import LookupProblem, NoWestminsterMp
from mp_mailer.services.mp_cache import MpDetails
from mp_mailer.services.mp_lookup import find_mp_for_postcode
from mp_mailer.services.personal_touch import measure
from mp_mailer.services.petition_clicks import record_petition_click
from mp_mailer.services.public_campaigns import CampaignNotFound, get_public_campaign, render_intro
from mp_mailer.services.share_previews import SharePreview, share_preview
from mp_mailer.services.warm_lookups import WarmLookups
from mp_mailer.views.framing import frameable
from mp_mailer.views.kept_pages import is_everyones_page, keepable, kept_pages
from mp_mailer.web_context import (
    app_config,
    campaign_progress,
    db_session,
    lookup_budget,
    lookup_lifetimes,
    members_api,
    now,
    public_campaign_url,
    recipient_budget,
    warm_campaigns,
    warm_lookups,
    warm_templates,
)

logger = logging.getLogger(__name__)
blueprint = Blueprint("supporter", __name__)
# The name of the "Send my letter" button: only a press of it sends a letter.
SEND_BUTTON = "send"
UNSENT_NOTICE = "Your letter has not been sent. When it is ready, press “Send my letter”."
UNFILLED_LETTER_NOTICE = (
    "We couldn't start this letter for you. Please write it in your own words: "
    "a few sentences about why this matters to you is enough."
)
CLOSED_MESSAGE = (
    "This campaign has closed and is no longer sending letters. Thank you for your support."
)


def _campaign(slug: str | None) -> Campaign:
    try:
        return get_public_campaign(db_session(), slug, include_drafts=current_user.is_authenticated)
    except CampaignNotFound:
        abort(404)


def _warm_campaign(slug: str | None) -> Campaign:
    """The campaign for the pages a surge hits first (see _kept_for_visitors)."""
    return _kept_for_visitors(warm_campaigns(), slug or "", lambda: _campaign(slug))


def _warm_template(campaign: Campaign) -> LetterTemplate:
    """The campaign's current letter as the letter page fills it in (see _kept_for_visitors)."""
    return _kept_for_visitors(
        warm_templates(), str(campaign.id), lambda: current_template(db_session(), campaign.id)
    )


Kept = TypeVar("Kept", Campaign, LetterTemplate)


def _kept_for_visitors(store: WarmLookups[Kept], key: str, read: Callable[[], Kept]) -> Kept:
    """What `read` gives, kept in the process for a few seconds for visitors' pages.

    A campaigner's change shows here at once (the campaigns blueprint forgets these after every
    change) and in other processes within the lifetime. Letters are always accepted against the
    campaign and its letter read afresh. The kept copy is detached from every session: a later
    rollback cannot expire it under another request. Staff see it fresh, drafts included.
    """
    if current_user.is_authenticated:
        return read()
    kept = store.find(key, now())
    if kept is None:
        kept = read()
        db_session().expunge(kept)
        store.keep(key, kept, now())
    return kept


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


@limiter.request_filter
def _is_campaign_page() -> bool:
    """The campaign page has no rate limit. Flask-Limiter's check of a request costs a quarter
    of serving the kept page even for a view marked exempt; a filter skips it."""
    return request.endpoint == "supporter.campaign_page"


@blueprint.get("/", defaults={"slug": None})
@blueprint.get("/c/<slug>")
def campaign_page(slug: str | None) -> ResponseReturnValue:
    everyones = is_everyones_page()
    if everyones:
        kept = kept_pages().find(request.path, now())
        if kept is not None:
            return kept.for_this_visitor()
    html = render_campaign_page(_warm_campaign(slug), PostcodeForm())
    if everyones:
        kept_pages().keep(request.path, keepable(html), now())
    return html


@blueprint.post("/", defaults={"slug": None})
@blueprint.post("/c/<slug>")
@limiter.limit("30 per minute")
def look_up_postcode(slug: str | None) -> ResponseReturnValue:
    """The campaign page's form: on to the letter to the postcode's MP, or the page again
    saying why not."""
    campaign = _warm_campaign(slug)
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
        progress=campaign_progress(campaign),
        share=_share_preview(campaign),
    )


def _share_preview(campaign: Campaign) -> SharePreview:
    config = app_config()
    return share_preview(
        campaign, public_campaign_url(campaign), config.public_url, config.site_name
    )


@blueprint.get("/c/<slug>/embed")
@frameable
def embed(slug: str) -> ResponseReturnValue:
    """The compact campaign page other sites frame; its form opens the full site, unframed."""
    campaign = _campaign(slug)
    return render_template(
        "supporter/embed.html",
        campaign=campaign,
        form=PostcodeForm(formdata=None),
        progress=campaign_progress(campaign),
        campaign_url=public_campaign_url(campaign),
    )


# Link-preview and search robots that fetch a shared link: their visits are not people's.
PREVIEW_ROBOTS = (
    "bot",
    "crawler",
    "spider",
    "facebookexternalhit",
    "whatsapp",
    "slack",
    "telegram",
    "discord",
    "embedly",
    "preview",
)


@blueprint.get("/c/<slug>/petition")
@limiter.limit("10 per minute; 50 per day", methods=["GET"])
def petition(slug: str) -> ResponseReturnValue:
    """Count one person sent on to the petition (a GET from someone, not a robot or staff),
    then send them there: only ever to the campaign's own stored petition link."""
    campaign = _campaign(slug)
    if not campaign.petition_url:
        abort(404)
    agent = (request.user_agent.string or "").lower()
    is_robot = any(robot in agent for robot in PREVIEW_ROBOTS)
    if request.method == "GET" and not is_robot and not current_user.is_authenticated:
        record_petition_click(db_session(), campaign.id, now().date())
    return redirect(campaign.petition_url, 303)


def render_uncounted_petition(view_args: dict[str, str]) -> ResponseReturnValue:
    """One address has followed the link too often to count: still sent on, not counted."""
    campaign = _campaign(view_args.get("slug"))
    if not campaign.petition_url:
        abort(404)
    return redirect(campaign.petition_url, 303)


@blueprint.get("/c/<slug>/letter")
def write_letter(slug: str) -> ResponseReturnValue:
    campaign = _warm_campaign(slug)
    if not campaign.accepts_letters:
        return redirect(url_for("supporter.campaign_page", slug=campaign.slug))
    form = LetterForm()
    form.postcode.data = request.args.get("postcode", "")
    mp_or_page = _mp_or_postcode_page(campaign, form.postcode.data)
    if not isinstance(mp_or_page, MpDetails):
        return mp_or_page
    try:
        form.subject.data, form.body.data = prefill_letter(
            _warm_template(campaign),
            campaign,
            mp_or_page,
            public_campaign_url(campaign),
            now(),
        )
    except (LetterRefused, TemplateProblem):
        # Checked for every cached MP when saved; an MP elected since may still trip it. The
        # supporter can still write, in their own words.
        logger.warning(
            "The campaign's letter could not be filled in for an MP",
            extra={"campaign_id": campaign.id, "mp_id": mp_or_page.id},
        )
        return render_letter_page(
            campaign, form, mp_or_page, notice=UNFILLED_LETTER_NOTICE, campaign_text=""
        )
    return render_letter_page(campaign, form, mp_or_page, campaign_text=form.body.data)


def _letters_per_address() -> str:
    return app_config().letters_per_address


def _letter_was_accepted(response: Response) -> bool:
    # Only accepted letters count: a form with a typo, or sent back, costs the supporter nothing.
    return response.status_code == 302


@blueprint.post("/c/<slug>/letter")
@limiter.limit(_letters_per_address, deduct_when=_letter_was_accepted)
def submit_letter(slug: str) -> ResponseReturnValue:
    campaign = _campaign(slug)
    form = LetterForm()
    mp_or_page = _mp_or_postcode_page(campaign, form.postcode.data or "")
    if not isinstance(mp_or_page, MpDetails):
        return mp_or_page
    if SEND_BUTTON not in request.form:
        # Enter pressed in a text field of a browser that submits anyway: not sent, not checked.
        return render_letter_page(campaign, form, mp_or_page, notice=UNSENT_NOTICE)
    if form.validate_on_submit():
        try:
            accepted = accept_letter(
                db_session(),
                campaign,
                mp_or_page,
                _draft_from(form),
                _letter_site(campaign),
                require_confirmation=app_config().require_confirmation,
                message_id_domain=app_config().mail_from_address.domain,
                now=now(),
                recipient_budget=recipient_budget(),
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
    campaign: Campaign,
    form: LetterForm,
    mp: MpDetails,
    notice: str | None = None,
    campaign_text: str | None = None,
) -> str:
    """The letter form; `campaign_text` is the letter we filled in (None: fill it in again), what
    the hint under the letter measures it against, here and in site.js as they type."""
    if campaign_text is None:
        campaign_text = campaign_text_for(
            db_session(), campaign, mp, public_campaign_url(campaign), now()
        )
    return render_template(
        "supporter/letter.html",
        campaign=campaign,
        form=form,
        mp=mp,
        notice=notice,
        require_confirmation=app_config().require_confirmation,
        campaign_text=campaign_text,
        touch=measure(form.body.data or "", campaign_text),
    )


def _letter_site(campaign: Campaign) -> LetterSite:
    return LetterSite(
        campaign_url=public_campaign_url(campaign),
        organisation=app_config().mail_from_address.display_name,
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
    return render_template(
        "supporter/confirm.html",
        form=form,
        letter=letter,
        sign_off=sign_off(supporter_of(letter)),
        sender=f"{letter.supporter_name} via {config.mail_from_address.display_name}",
    )


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
        share=_share_preview(campaign),
    )


def render_refused_form(view_args: dict[str, str], retry_after: str) -> ResponseReturnValue:
    """Too many letters or lookups from one address: the form again, with all that was typed."""
    campaign = _campaign(view_args.get("slug"))
    notice = (
        "Too many letters have been sent from your internet connection in a short time, so "
        f"this one has not been sent. Please try again in {retry_after}: everything you typed "
        "is still here."
    )
    if request.endpoint == "supporter.submit_letter":
        form = LetterForm()
        try:
            mp = _find_mp(form.postcode.data or "")
        except LookupProblem:
            return redirect(url_for("supporter.campaign_page", slug=campaign.slug))
        return render_letter_page(campaign, form, mp, notice=notice), 429
    postcode_form = PostcodeForm()
    postcode_form.postcode.errors = [
        f"Too many postcodes have been looked up from your internet connection. "
        f"Please try again in {retry_after}."
    ]
    return render_campaign_page(campaign, postcode_form), 429


def render_expired_letter_form(view_args: dict[str, str]) -> ResponseReturnValue:
    """A letter posted with an expired or missing CSRF token: nothing is sent, nothing is lost."""
    campaign = _campaign(view_args.get("slug"))
    form = LetterForm()
    try:
        mp = _find_mp(form.postcode.data or "")
    except LookupProblem:
        return redirect(url_for("supporter.campaign_page", slug=campaign.slug))
    button = (
        "Email me the confirmation link" if app_config().require_confirmation else "Send my letter"
    )
    notice = (
        "This page had expired, so your letter has not been sent yet. "
        f"Check it and press “{button}” again."
    )
    return render_letter_page(campaign, form, mp, notice=notice), 400
