"""The home page: every task the visitor's role may do, one link each."""

from __future__ import annotations

from flask import render_template

from registry.web.base import blp


@blp.get("/")
def index():
    return render_template("index.html")
