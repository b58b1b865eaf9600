"""Staff read the send log: letters, their delivery, exports and figures."""

from __future__ import annotations

from flask import Blueprint

blueprint = Blueprint("send_log", __name__, url_prefix="/admin/letters")
