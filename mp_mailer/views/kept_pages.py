"""Public pages rendered once and served to every visitor for a few seconds, each with a CSRF
token of their own: in a surge the campaign page is the same for everyone but that token."""

from __future__ import annotations

from flask import current_app, request, session
from flask_login import current_user
from flask_wtf.csrf import generate_csrf

from mp_mailer.services.warm_lookups import WarmLookups
from mp_mailer.web_context import warm_campaigns, warm_templates


class PageWithToken:
    """A rendered page with the CSRF token it was rendered with cut out."""

    def __init__(self, html: str, token: str) -> None:
        self._pieces = html.split(token)

    def for_this_visitor(self) -> str:
        if len(self._pieces) == 1:
            # No form on the page: nothing to put back, and no session to start.
            return self._pieces[0]
        token: str = generate_csrf()
        return token.join(self._pieces)


def keepable(html: str) -> PageWithToken:
    """The page just rendered for this request, ready to be served to others."""
    return PageWithToken(html, generate_csrf())


def is_everyones_page() -> bool:
    """A plain GET from a visitor with no notice waiting sees what every such visitor sees.
    Staff see drafts and their own menu; a flashed notice is for one visitor only."""
    return (
        request.method == "GET" and not current_user.is_authenticated and "_flashes" not in session
    )


def kept_pages() -> WarmLookups[PageWithToken]:
    """Public pages as every visitor sees them, by path, kept for seconds."""
    pages: WarmLookups[PageWithToken] = current_app.extensions["mp_mailer.kept_pages"]
    return pages


def forget_public_pages() -> None:
    """After a campaigner's change, this process's public pages read campaigns afresh."""
    warm_campaigns().forget()
    warm_templates().forget()
    kept_pages().forget()
