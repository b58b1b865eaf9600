"""Campaigners create and edit campaigns, their letter templates and versions.

About 400 lines because it is one blueprint of fourteen thin routes (settings, letter, preview and
test send, history); the work they call is in services/campaign_settings, template_versions and
letter_previews."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user
from markupsafe import Markup

from mp_mailer.email_messages import sign_off
from mp_mailer.extensions import limiter
from mp_mailer.forms import (
    STATUS_LABELS,
    TARGET_LABELS,
    ButtonForm,
    CampaignForm,
    MpSearchForm,
    NewCampaignForm,
    PreviewPostcodeForm,
    StatusForm,
    TemplateForm,
    TestSendForm,
)
from mp_mailer.letter_templates import TEMPLATE_VARIABLES, TemplateProblem
from mp_mailer.models import Campaign, CampaignStatus, CampaignTarget, LetterTemplate, UserRole
from mp_mailer.permissions import role_required
from mp_mailer.services import campaign_settings as settings
from mp_mailer.services import letter_previews as previews
from mp_mailer.services import template_versions
from mp_mailer.services.letters import current_template
from mp_mailer.services.lookup_problems import LookupProblem
from mp_mailer.services.mp_cache import MpDetails, find_cached_mp, search_cached_mps
from mp_mailer.services.mp_lookup import find_mp_for_postcode
from mp_mailer.services.public_campaigns import CampaignNotFound, render_intro
from mp_mailer.views.identifiers import database_id
from mp_mailer.views.kept_pages import forget_public_pages
from mp_mailer.web_context import (
    app_config,
    db_session,
    lookup_lifetimes,
    members_api,
    now,
    public_campaign_url,
    smtp_relay,
)

blueprint = Blueprint("campaigns", __name__, url_prefix="/admin/campaigns")
campaigner_only = role_required(UserRole.CAMPAIGNER)


@blueprint.after_request
def forget_public_campaigns(response: Response) -> Response:
    """After any change a campaigner makes, public pages in this process read campaigns afresh."""
    if request.method != "GET":
        forget_public_pages()
    return response


@blueprint.route("/")
@campaigner_only
def list_campaigns() -> ResponseReturnValue:
    summaries = settings.list_campaigns(db_session())
    return render_template("campaigns/list.html", summaries=summaries)


@blueprint.route("/new", methods=["GET", "POST"])
@campaigner_only
def new_campaign() -> ResponseReturnValue:
    form = NewCampaignForm()
    if form.validate_on_submit():
        try:
            campaign = settings.create_campaign(db_session(), _details_from(form), current_user.id)
        except settings.CampaignProblem as e:
            form[e.field].errors.append(e.message)
        else:
            flash(f"“{campaign.title}” is saved as a draft. Now write its letter.", "success")
            return redirect(url_for("campaigns.edit_template", campaign_id=campaign.id))
    return render_template("campaigns/new.html", form=form)


@blueprint.route("/<int:campaign_id>")
@campaigner_only
def show_campaign(campaign_id: int) -> ResponseReturnValue:
    campaign = _campaign(campaign_id)
    summary = next(s for s in settings.list_campaigns(db_session()) if s.campaign.id == campaign_id)
    return render_template(
        "campaigns/show.html",
        campaign=campaign,
        summary=summary,
        template=current_template(db_session(), campaign.id),
        intro=Markup(render_intro(campaign.intro_markdown)),
        public_url=public_campaign_url(campaign),
        form=StatusForm(),
        target_label=TARGET_LABELS.get(campaign.target, campaign.target),
    )


@blueprint.route("/<int:campaign_id>/edit", methods=["GET", "POST"])
@campaigner_only
def edit_campaign(campaign_id: int) -> ResponseReturnValue:
    campaign = _campaign(campaign_id)
    form = CampaignForm(obj=campaign)
    if form.validate_on_submit():
        try:
            settings.update_campaign(db_session(), campaign, _details_from(form))
        except settings.CampaignProblem as e:
            form[e.field].errors.append(e.message)
        else:
            flash("Campaign settings saved.", "success")
            return redirect(url_for("campaigns.show_campaign", campaign_id=campaign.id))
    return render_template("campaigns/edit.html", form=form, campaign=campaign)


@blueprint.route("/<int:campaign_id>/status", methods=["POST"])
@campaigner_only
def change_status(campaign_id: int) -> ResponseReturnValue:
    campaign = _campaign(campaign_id)
    form = StatusForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        settings.change_status(db_session(), campaign, CampaignStatus(form.status.data))
    except settings.CampaignProblem as e:
        flash(e.message, "error")
    else:
        flash(STATUS_CHANGED[campaign.status], "success")
    return redirect(url_for("campaigns.show_campaign", campaign_id=campaign.id))


@blueprint.route("/<int:campaign_id>/letter", methods=["GET", "POST"])
@campaigner_only
def edit_template(campaign_id: int) -> ResponseReturnValue:
    campaign = _campaign(campaign_id)
    current = current_template(db_session(), campaign.id)
    form = TemplateForm(
        data={"subject_template": current.subject_template, "body_template": current.body_template}
    )
    preview = None
    if form.validate_on_submit():
        if "preview" in request.form:
            preview = _unsaved_preview(campaign, form)
        else:
            saved = _save_template(campaign, form)
            if saved:
                return redirect(url_for("campaigns.show_campaign", campaign_id=campaign.id))
    return render_template(
        "campaigns/template.html",
        campaign=campaign,
        current=current,
        form=form,
        preview=preview,
        variables=TEMPLATE_VARIABLES,
        sample_sign_off=sign_off(previews.SAMPLE_SUPPORTER),
    )


@blueprint.route("/<int:campaign_id>/preview")
@campaigner_only
def preview(campaign_id: int) -> ResponseReturnValue:
    campaign = _campaign(campaign_id)
    template = _template(campaign, request.args.get("version", type=database_id))
    search = MpSearchForm(formdata=request.args if "q" in request.args else None)
    lookup = PreviewPostcodeForm(formdata=request.args if "lookup" in request.args else None)
    if "lookup" in request.args and lookup.validate():
        mp = _lookup_postcode(lookup)
        if mp is not None:
            return redirect(_preview_url(campaign, template, mp.id, lookup.postcode.data))
    searched = "q" in request.args and search.validate()
    matches = search_cached_mps(db_session(), search.q.data) if searched else None
    if matches is not None and len(matches) == 1:
        return redirect(_preview_url(campaign, template, matches[0].id))
    mp = _chosen_mp()
    return render_template(
        "campaigns/preview.html",
        campaign=campaign,
        template=template,
        search=search,
        lookup=lookup,
        matches=matches,
        mp=mp,
        **_letter_preview(campaign, template, mp, request.args.get("postcode")),
    )


@blueprint.route("/<int:campaign_id>/preview/test-send", methods=["POST"])
@campaigner_only
@limiter.limit("20 per hour")
def send_test(campaign_id: int) -> ResponseReturnValue:
    campaign = _campaign(campaign_id)
    form = TestSendForm()
    if not form.validate_on_submit():
        abort(400)
    template = _template(campaign, form.version.data)
    mp = find_cached_mp(db_session(), form.mp_id.data) or abort(404)
    try:
        letter = _build_preview(campaign, template, mp, form.postcode.data)
        previews.send_test_letter(
            smtp_relay(),
            letter,
            current_user.email,
            app_config().mail_from_address,
            now(),
        )
    except (TemplateProblem, previews.TestSendFailed) as e:
        flash(str(e), "error")
    else:
        flash(
            f"A test copy of the letter to {mp.name} was sent to {current_user.email}.", "success"
        )
    return redirect(_preview_url(campaign, template, mp.id, form.postcode.data))


@blueprint.route("/<int:campaign_id>/versions")
@campaigner_only
def list_versions(campaign_id: int) -> ResponseReturnValue:
    campaign = _campaign(campaign_id)
    versions = template_versions.list_versions(db_session(), campaign.id)
    return render_template(
        "campaigns/versions.html", campaign=campaign, versions=versions, form=ButtonForm()
    )


@blueprint.route("/<int:campaign_id>/versions/<int:version>")
@campaigner_only
def show_version(campaign_id: int, version: int) -> ResponseReturnValue:
    campaign = _campaign(campaign_id)
    template = _template(campaign, version)
    current = current_template(db_session(), campaign.id)
    return render_template(
        "campaigns/version.html",
        campaign=campaign,
        template=template,
        current=current,
        diff=template_versions.diff_versions(template, current),
        form=ButtonForm(),
    )


@blueprint.route("/<int:campaign_id>/versions/compare")
@campaigner_only
def compare_versions(campaign_id: int) -> ResponseReturnValue:
    campaign = _campaign(campaign_id)
    current = current_template(db_session(), campaign.id)
    old_version = request.args.get("old", type=database_id)
    old = _template(campaign, old_version or max(current.version - 1, 1))
    new = _template(campaign, request.args.get("new", type=database_id) or current.version)
    return render_template(
        "campaigns/compare.html",
        campaign=campaign,
        old=old,
        new=new,
        current=current,
        diff=template_versions.diff_versions(old, new),
    )


@blueprint.route("/<int:campaign_id>/versions/<int:version>/roll-back", methods=["POST"])
@campaigner_only
def roll_back(campaign_id: int, version: int) -> ResponseReturnValue:
    campaign = _campaign(campaign_id)
    if not ButtonForm().validate_on_submit():
        abort(400)
    try:
        template = template_versions.roll_back_template(
            db_session(), campaign, version, current_user.id
        )
    except template_versions.VersionNotFound:
        abort(404)
    except template_versions.TemplateRefused as e:
        flash(f"Version {version} can't be used any more. {e.message}", "error")
        return redirect(url_for("campaigns.list_versions", campaign_id=campaign.id))
    flash(
        f"Rolled back: version {template.version} has the text of version {version} and is "
        "now the letter supporters start from.",
        "success",
    )
    return redirect(url_for("campaigns.list_versions", campaign_id=campaign.id))


STATUS_CHANGED = {
    CampaignStatus.DRAFT: "The campaign is a draft again: only logged-in staff can see it.",
    CampaignStatus.LIVE: "The campaign is live: supporters can now write to their MPs.",
    CampaignStatus.CLOSED: "The campaign is closed: supporters see that it has ended.",
}
assert set(STATUS_CHANGED) == set(STATUS_LABELS)


def _campaign(campaign_id: int) -> Campaign:
    try:
        return settings.get_campaign(db_session(), campaign_id)
    except CampaignNotFound:
        abort(404)


def _template(campaign: Campaign, version: int | None) -> LetterTemplate:
    if version is None:
        return current_template(db_session(), campaign.id)
    try:
        return template_versions.get_version(db_session(), campaign.id, version)
    except template_versions.VersionNotFound:
        abort(404)


def _details_from(form: CampaignForm) -> settings.CampaignDetails:
    status = form.status.data if form.status is not None else CampaignStatus.DRAFT
    return settings.CampaignDetails(
        title=form.title.data,
        slug=form.slug.data,
        intro_markdown=form.intro_markdown.data,
        thank_you_text=form.thank_you_text.data or "",
        share_text=form.share_text.data or "",
        petition_url=form.petition_url.data or None,
        is_default=form.is_default.data,
        status=CampaignStatus(status),
        target=CampaignTarget(form.target.data),
        hero_image_url=form.hero_image_url.data or None,
        share_image_url=form.share_image_url.data or None,
        meta_description=form.meta_description.data or "",
        target_letters=form.target_letters.data,
        next_ask_text=form.next_ask_text.data or "",
        next_ask_url=form.next_ask_url.data or None,
        min_own_sentences=form.min_own_sentences.data or 0,
        footer_own_words_line=form.footer_own_words_line.data,
        track_replies=form.track_replies.data,
        public_reply_figures=form.public_reply_figures.data,
    )


def _save_template(campaign: Campaign, form: TemplateForm) -> bool:
    try:
        saved = template_versions.save_template(
            db_session(),
            campaign,
            form.subject_template.data,
            form.body_template.data,
            form.note.data or "",
            current_user.id,
        )
    except template_versions.TemplateRefused as e:
        form[e.field].errors.append(e.message)
        return False
    if saved is None:
        flash("Nothing had changed, so no new version was saved.", "info")
    else:
        flash(f"Saved version {saved.version}: new letters start from it.", "success")
    return True


def _unsaved_preview(campaign: Campaign, form: TemplateForm) -> previews.LetterPreview | None:
    config = app_config()
    try:
        return previews.preview_unsaved_template(
            form.subject_template.data,
            form.body_template.data,
            campaign,
            campaign_url=public_campaign_url(campaign),
            now=now(),
            mail_from=config.mail_from_address,
            redirect_to=config.mail_redirect_to,
        )
    except template_versions.TemplateRefused as e:
        form[e.field].errors.append(e.message)
        return None


def _preview_url(
    campaign: Campaign, template: LetterTemplate, mp_id: int, postcode: str | None = None
) -> str:
    return url_for(
        "campaigns.preview",
        campaign_id=campaign.id,
        version=template.version,
        mp=mp_id,
        postcode=postcode or None,
        _anchor="letter",
    )


def _lookup_postcode(form: PreviewPostcodeForm) -> MpDetails | None:
    try:
        return find_mp_for_postcode(
            db_session(), members_api(), form.postcode.data, now(), lookup_lifetimes()
        )
    except LookupProblem as e:
        form.postcode.errors = [e.message]
        return None


def _chosen_mp() -> MpDetails | None:
    mp_id = request.args.get("mp", type=database_id)
    return find_cached_mp(db_session(), mp_id) if mp_id is not None else None


def _build_preview(
    campaign: Campaign, template: LetterTemplate, mp: MpDetails, postcode: str | None
) -> previews.LetterPreview:
    config = app_config()
    return previews.preview_letter(
        template,
        campaign,
        mp,
        campaign_url=public_campaign_url(campaign),
        now=now(),
        mail_from=config.mail_from_address,
        redirect_to=config.mail_redirect_to,
        supporter=previews.sample_supporter(postcode),
    )


def _letter_preview(
    campaign: Campaign, template: LetterTemplate, mp: MpDetails | None, postcode: str | None
) -> dict[str, Any]:
    """The preview, or why there is none, for the preview page."""
    context: dict[str, Any] = {
        "letter": None,
        "problem": None,
        "mps_cached": bool(search_cached_mps(db_session(), "", limit=1)),
        "redirect_to": app_config().mail_redirect_to,
        "test_form": TestSendForm(
            formdata=None, mp_id=mp.id if mp else None, version=template.version, postcode=postcode
        ),
    }
    if mp is not None:
        try:
            context["letter"] = _build_preview(campaign, template, mp, postcode)
        except TemplateProblem as e:
            context["problem"] = str(e)
    return context
