"""/healthz for load balancers and monitoring: JSON, 200 while the database answers, else 503."""

from __future__ import annotations

from flask import Blueprint, jsonify
from flask.typing import ResponseReturnValue

from mp_mailer.extensions import limiter
from mp_mailer.services.health import check_health
from mp_mailer.web_context import now, session_factory

blueprint = Blueprint("health", __name__)


@blueprint.get("/healthz")
@limiter.exempt
def healthz() -> ResponseReturnValue:
    # A probe every few seconds from each load balancer must never use up a rate limit.
    moment = now()
    report = check_health(session_factory(), moment)
    response = jsonify(report.as_json(moment))
    response.status_code = 200 if report.healthy else 503
    response.headers["Cache-Control"] = "no-store"
    return response
