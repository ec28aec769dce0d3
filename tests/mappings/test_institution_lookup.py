"""Resolving institutions in a stored registry: what the index reads beside the names (web
domains, cities) and the names an institution adds, through `match_institution`."""

import io
import json

from sqlalchemy import select

from importers.institutions import import_institutions
from mappings.institutions import match_institution
from registry.core.permissions import OPERATOR
from registry.institutions.models import Institution
from registry.institutions.services import edit_institution

# Entries of the shared universities-and-domains list (Hipo, commit bb07faf), read from it.
CHOSEN = {
    "Ludwig-Maximilians-Universität München",
    "Loyola Marymount University",
    "University College London, University of London",
    "Université Catholique de Louvain",
    "University of Central Lancashire",
    "Universität Vienna",
    "Technische Universität Wien",
    "University of Glasgow",
}


def load(session, fmt, rows):
    raw = io.BytesIO(json.dumps(rows).encode())
    report = import_institutions(lambda: session, OPERATOR, fmt, raw, "list.json")
    assert report.state == "completed", report
    session.commit()


def test_a_fresh_registry_loaded_with_the_universities_list_knows_lmu_and_ucl(session, shared):
    path = shared / "data" / "institutions" / "world_universities_and_domains.json"
    rows = [row for row in json.loads(path.read_text()) if row["name"] in CHOSEN]
    load(session, "institutions-json", rows)

    lmu = match_institution(session, "LMU", "DE")
    assert lmu.verdict == "matched"
    assert lmu.candidates[0].name == "Ludwig-Maximilians-Universität München"
    ucl = match_institution(session, "UCL", "GB")
    assert ucl.verdict == "matched"
    assert ucl.candidates[0].name == "University College London, University of London"
    assert match_institution(session, "UCL").verdict == "ambiguous"
    vienna = match_institution(session, "Uni Wien")
    assert (vienna.verdict, vienna.candidates[0].name) == ("matched", "Universität Vienna")
    glasgow = match_institution(session, "University of Glasgow, Scotland")
    assert (glasgow.verdict, glasgow.candidates[0].name) == ("matched", "University of Glasgow")


def test_a_city_from_ror_is_a_place_hint_and_an_added_alias_matches_outright(session):
    record = {
        "id": "https://ror.org/00vtgdb53",
        "names": [{"value": "University of Glasgow", "types": ["ror_display", "label"]}],
        "locations": [{"geonames_details": {"country_code": "GB", "name": "Glasgow"}}],
        "domains": ["gla.ac.uk"],
        "status": "active",
        "types": ["education"],
    }
    load(session, "ror", [record])
    result = match_institution(session, "University of Glasgow, Glasgow")
    assert (result.verdict, result.candidates[0].name) == ("matched", "University of Glasgow")

    assert match_institution(session, "Glesga Uni", "GB").verdict != "matched"
    glasgow = session.scalar(select(Institution).where(Institution.name == "University of Glasgow"))
    edit_institution(
        session, OPERATOR, glasgow.id, {"names": [{"value": "Glesga Uni", "kind": "alias"}]}
    )
    session.commit()
    result = match_institution(session, "Glesga Uni", "GB")
    assert result.verdict == "matched"
    assert (result.candidates[0].id, result.candidates[0].matched_on) == (glasgow.id, "alias")
