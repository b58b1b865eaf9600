"""Security headers on every response: what a browser may load, frame, send on and keep.

A page opts in to being framed by other sites only through the `frameable` decorator
(views/framing.py: the campaign's embed); every other page refuses all framing, so no form can
be clicked through a frame."""

from __future__ import annotations

from flask import Flask, Response, current_app, request
from flask_login import current_user

from mp_mailer.views import framing

# No inline script anywhere; style attributes carry party colours, so only they are allowed.
# MP photographs come from Parliament's servers (https).
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; style-src-attr 'unsafe-inline'; "
    "img-src 'self' https: data:; font-src 'self'; connect-src 'self'; object-src 'none'; "
    "base-uri 'none'; form-action 'self'"
)
FRAME_ANCESTORS_NONE = "frame-ancestors 'none'"
FRAME_ANCESTORS_ANY = "frame-ancestors *"
HSTS = "max-age=31536000; includeSubDomains"
# Pages showing supporters' details, which no browser or proxy cache should keep.
PRIVATE_BLUEPRINTS = frozenset({"auth", "campaigns", "users", "send_log", "privacy_requests"})
PRIVATE_ENDPOINTS = frozenset({"supporter.confirm", "privacy.erase_my_details"})


def is_frameable(endpoint: str | None) -> bool:
    return framing.is_frameable(current_app.view_functions.get(endpoint or ""))


def init_app(app: Flask, *, uses_https: bool) -> None:
    def add_security_headers(response: Response) -> Response:
        frame_ancestors = (
            FRAME_ANCESTORS_ANY if is_frameable(request.endpoint) else FRAME_ANCESTORS_NONE
        )
        response.headers["Content-Security-Policy"] = (
            f"{CONTENT_SECURITY_POLICY}; {frame_ancestors}"
        )
        if frame_ancestors == FRAME_ANCESTORS_NONE:
            # For browsers that predate frame-ancestors.
            response.headers["X-Frame-Options"] = "DENY"
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["Referrer-Policy"] = "strict-origin-when-cross-origin"
        response.headers["Cross-Origin-Opener-Policy"] = "same-origin"
        response.headers["Permissions-Policy"] = "camera=(), microphone=(), geolocation=()"
        if uses_https:
            response.headers["Strict-Transport-Security"] = HSTS
        if _is_private_page():
            response.headers["Cache-Control"] = "no-store"
            response.headers["Pragma"] = "no-cache"
        return response

    app.after_request(add_security_headers)


def _is_private_page() -> bool:
    return (
        request.blueprint in PRIVATE_BLUEPRINTS
        or request.endpoint in PRIVATE_ENDPOINTS
        or bool(current_user and current_user.is_authenticated)
    )
