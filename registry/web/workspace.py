"""What the institution's workspace pages share: whose workspace a page is.

An institution account works on its own institution (its scope); an admin names one with
`?institution=`. The id only chooses what to show: the services decide, on the records
themselves, whether the visitor may read or write them.
"""

from __future__ import annotations

from flask import request
from flask_babel import gettext

from registry.core.errors import InvalidData
from registry.core.normalise import whole_number
from registry.core.permissions import Actor


def institution_of(actor: Actor) -> int | None:
    """The institution a workspace page is about: the one asked for (`institution` in the
    query or the form), else an institution account's own; None when neither says."""
    asked = request.values.get("institution", "").strip()
    if asked:
        number = whole_number(asked, 9)
        if number is None:
            # Read as "none", a mistyped id would file an import as nobody's institution's.
            raise InvalidData(
                gettext("The institution is named by its number."),
                errors={"institution": [gettext("A whole number, the institution's id.")]},
            )
        return number
    if actor.role == "institution" and len(actor.scopes) == 1:
        return whole_number(next(iter(actor.scopes)), 9)
    return None


def page_number() -> int:
    """The page asked for (`?page=`), 1 when absent or not a page number."""
    return max(whole_number(request.args.get("page", ""), 6) or 1, 1)
