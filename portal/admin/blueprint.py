"""The administration blueprint: the users pages (views.py) and the rules pages (settings.py)."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("admin", __name__)
