"""Loading framework files into the database: all-or-nothing, idempotent, immutable when published."""

import copy
import datetime as dt
import json
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from frameworks import reference, services
from frameworks.models import Framework, Level, LevelLink
from frameworks.schemas import FrameworkFileSchema
from mappings import services as mappings
from registry.core.errors import Conflict, InvalidData, NotFound
from registry.core.permissions import OPERATOR

DEFINITION = {
    "code": "LU-TQF",
    "name": "Test qualifications framework",
    "country": "LU",
    "version": {"version": "2020", "status": "published", "citation": "Test referencing report"},
    "levels": [
        {"code": "1", "ordinal": 1, "title": "Level one"},
        {"code": "2", "ordinal": 2, "title": "Level two", "aliases": ["II"]},
    ],
    "links": [
        {
            "from": "LU-TQF:1",
            "to": "EQF:5",
            "relation": "exactMatch",
            "basis": "referencing",
            "citation": "Test report, table 1",
        },
        {
            "from": "LU-TQF:2",
            "to": "EQF:6",
            "relation": "exactMatch",
            "basis": "referencing",
            "citation": "Test report, table 1",
        },
    ],
}


def counts(session):
    return tuple(
        session.scalar(select(func.count()).select_from(model))
        for model in (Framework, Level, LevelLink)
    )


def test_load_then_reload_changes_nothing(session):
    before = counts(session)
    assert services.load_framework(session, DEFINITION).outcome == "created"
    after = counts(session)
    assert after == (before[0] + 1, before[1] + 2, before[2] + 2)
    assert services.load_framework(session, copy.deepcopy(DEFINITION)).outcome == "unchanged"
    assert counts(session) == after


def test_loaded_framework_answers_equivalents_at_once(session):
    assert mappings.equivalents(session, "IE-NFQ:8", "DE-DQR").matches  # warm the graph cache
    services.load_framework(session, DEFINITION)
    answer = mappings.equivalents(session, "LU-TQF:II", "IE-NFQ", dt.date(2021, 1, 1))
    assert [m.level for m in answer.matches] == ["IE-NFQ:7", "IE-NFQ:8"]


def test_reference_reload_is_idempotent(session):
    before = counts(session)
    summary = reference.load_reference(session, OPERATOR)
    assert {result["outcome"] for result in summary["frameworks"]} == {"unchanged"}
    assert counts(session) == before


def test_a_definitions_digest_never_changes_with_the_file_format():
    """Registries store each published version's digest; a release that changed the digest of an
    unchanged file (say, by a new optional field) would make every `load-reference` after the
    upgrade refuse the bundled files as changes to published versions. Pinned."""
    data = services.validated(FrameworkFileSchema(), copy.deepcopy(DEFINITION), what="file")
    assert services._digest(data) == (
        "1e6f36fcc7f618d851f29310192470a0cfed933c5161216f147b01a0fb2045be"
    )


def test_published_version_cannot_change(session):
    services.load_framework(session, DEFINITION)
    changed = copy.deepcopy(DEFINITION)
    changed["levels"][0]["title"] = "Renamed"
    with pytest.raises(Conflict) as caught:
        services.load_framework(session, changed)
    assert caught.value.data["existing"] == {
        "code": "LU-TQF",
        "version": "2020",
        "status": "published",
    }


def correction_of(definition: dict) -> dict:
    """The same instrument with a fact corrected: link 2 rests on a comparison, not on the
    referencing the first file claimed."""
    corrected = copy.deepcopy(definition)
    corrected["version"].update({"version": "2020.1", "corrects": "2020"})
    corrected["links"][1].update({"basis": "comparison", "citation": "Test comparison study"})
    return corrected


def test_a_correction_sets_the_wrong_version_aside_and_answers_for_its_dates(session):
    """Issue 18: a bundled file found wrong must reach registries that loaded it. The published
    version stays (decisions cite it) but never answers again; the correction answers for the
    same award dates; loading it again changes nothing."""
    dated = copy.deepcopy(DEFINITION)
    dated["version"]["valid_from"] = "2015-01-01"
    services.load_framework(session, dated)
    before = mappings.equivalents(session, "LU-TQF:2", "EQF", dt.date(2021, 1, 1))
    assert before.matches[0].path[0].basis == "referencing"

    result = services.load_framework(session, correction_of(dated))
    assert (result.version, result.outcome) == ("2020.1", "corrected")
    framework = services.get_framework(session, "LU-TQF")
    statuses = {v.version: (v.status, v.corrects, v.valid_from) for v in framework.versions}
    assert statuses == {
        "2020": ("corrected", None, dt.date(2015, 1, 1)),
        "2020.1": ("published", "2020", dt.date(2015, 1, 1)),
    }
    after = mappings.equivalents(session, "LU-TQF:2", "EQF", dt.date(2021, 1, 1))
    assert [(m.level, m.path[0].basis) for m in after.matches] == [("EQF:6", "comparison")]
    assert services.version_on(framework).version == "2020.1"
    assert not mappings.equivalents(session, "LU-TQF:2", "EQF", dt.date(2014, 1, 1)).matches
    assert services.load_framework(session, correction_of(dated)).outcome == "unchanged"


def test_a_correction_loaded_first_is_simply_created(session):
    result = services.load_framework(session, correction_of(DEFINITION))
    assert result.outcome == "created"
    framework = services.get_framework(session, "LU-TQF")
    assert [(v.version, v.status) for v in framework.versions] == [("2020.1", "published")]


def test_a_draft_is_replaced_not_corrected(session):
    draft = copy.deepcopy(DEFINITION)
    draft["version"]["status"] = "draft"
    services.load_framework(session, draft)
    with pytest.raises(Conflict):
        services.load_framework(session, correction_of(DEFINITION))


def test_draft_version_is_replaced(session):
    draft = copy.deepcopy(DEFINITION)
    draft["version"]["status"] = "draft"
    services.load_framework(session, draft)
    draft["levels"].append({"code": "3", "ordinal": 3, "title": "Level three"})
    result = services.load_framework(session, draft)
    assert result.outcome == "replaced" and result.levels == 3


def test_draft_levels_never_answer_equivalents(session):
    draft = copy.deepcopy(DEFINITION)
    draft["version"]["status"] = "draft"
    services.load_framework(session, draft)
    with pytest.raises(InvalidData):
        mappings.equivalents(session, "LU-TQF:1", "IE-NFQ")


def test_bad_file_is_rejected_whole_with_every_error(session):
    bad = copy.deepcopy(DEFINITION)
    bad["levels"].append({"code": "2", "ordinal": 2, "title": "Duplicate"})
    bad["links"].append(
        {
            "from": "LU-TQF:1",
            "to": "EQF:9",
            "relation": "exactMatch",
            "basis": "referencing",
            "citation": "x",
        }
    )
    bad["links"].append(
        {
            "from": "LU-TQF:7",
            "to": "EQF:1",
            "relation": "exactMatch",
            "basis": "referencing",
            "citation": "x",
        }
    )
    before = counts(session)
    with pytest.raises(InvalidData) as caught:
        services.load_framework(session, bad)
    errors = caught.value.errors
    assert "levels.2.code" in errors and "levels.2.ordinal" in errors
    assert "links.2.to" in errors and "links.3.from" in errors
    assert counts(session) == before


def test_unknown_relation_and_schema_errors_are_listed(session):
    bad = copy.deepcopy(DEFINITION)
    bad["links"][0]["relation"] = "sameAs"
    bad["links"][1]["basis"] = "rumour"
    del bad["levels"][0]["title"]
    bad["extra"] = True
    with pytest.raises(InvalidData) as caught:
        services.load_framework(session, bad)
    errors = caught.value.errors
    assert errors["links"][0]["relation"] and errors["links"][1]["basis"]
    assert errors["levels"][0]["title"] and errors["extra"]


def test_link_must_touch_its_own_framework(session):
    bad = copy.deepcopy(DEFINITION)
    bad["links"].append(
        {
            "from": "IE-NFQ:8",
            "to": "EQF:6",
            "relation": "exactMatch",
            "basis": "referencing",
            "citation": "x",
        }
    )
    with pytest.raises(InvalidData) as caught:
        services.load_framework(session, bad)
    assert "links.2" in caught.value.errors


def test_resolve_level_errors(session):
    with pytest.raises(NotFound):
        services.resolve_level(session, "XX-NOPE:1", dt.date.today())
    with pytest.raises(InvalidData) as caught:
        services.resolve_level(session, "IE-NFQ:99", dt.date.today())
    assert "1, 2, 3" in caught.value.detail
    with pytest.raises(InvalidData):
        services.parse_level_ref("IE-NFQ")


def test_an_unchanged_file_keeps_the_digest_stored_before_links_gained_optional_fields():
    """Deployed registries hold this digest for IE-NFQ 2009: the file format's new optional
    link fields (secondary_source, succession), left at their defaults, must not change it, or
    `registry load-reference` would refuse the unchanged published version."""
    raw = json.loads((services.DATA_DIR / "frameworks" / "IE-NFQ.json").read_text("utf-8"))
    data = FrameworkFileSchema().load(raw)
    assert data["links"][0]["succession"] is False
    assert services._digest(data) == (
        "a08efb64b360c81ed866a600b8e5b8d81f051cd20e9f562c6939afd83b71bbf9"
    )


def test_a_succession_link_runs_from_another_framework_into_its_own(session):
    bad = copy.deepcopy(DEFINITION)
    bad["links"][0]["succession"] = True  # LU-TQF:1 -> EQF:5: it leaves its own framework
    with pytest.raises(InvalidData) as caught:
        services.load_framework(session, bad)
    assert "links.0.succession" in caught.value.errors


def test_a_level_out_of_force_with_nothing_replacing_it_is_not_in_force(session):
    ended = copy.deepcopy(DEFINITION)
    ended["version"]["valid_to"] = "2021-01-01"
    services.load_framework(session, ended)
    assert [
        m.level
        for m in mappings.equivalents(session, "LU-TQF:2", "DE-DQR", dt.date(2020, 6, 1)).matches
    ] == ["DE-DQR:6"]
    answer = mappings.equivalents(session, "LU-TQF:2", "DE-DQR", dt.date(2022, 1, 1))
    assert answer.matches == () and answer.reason == "not_in_force"
    assert answer.superseded is None
