"""Server-rendered pages."""

from __future__ import annotations

from flask import Blueprint, Flask, render_template

from frameworks import services
from registry.sessions import get_session

blp = Blueprint("web", __name__, template_folder="templates")


@blp.get("/")
def index():
    return render_template("index.html", frameworks=services.list_frameworks(get_session()))


def init_app(app: Flask) -> None:
    app.register_blueprint(blp)
