"""Campaigners create and edit campaigns, their letter templates and versions."""

from __future__ import annotations

from flask import Blueprint

blueprint = Blueprint("campaigns", __name__, url_prefix="/admin/campaigns")
