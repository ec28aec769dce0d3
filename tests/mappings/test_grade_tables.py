"""Issue 18, item 9: conversion tables an institution sets for itself and a ministry for its
country, in place of the default that reads a UK honours class at the lower limit of its band
(a 2:1 is 60 %, hence 3.0 in Germany). Who may set one, what a table must hold, which applies,
and that every answer says which table it used, or why the default, and what that rests on."""

from __future__ import annotations

import copy

import pytest
from sqlalchemy import select

from frameworks.models import GradeConversionTable
from frameworks.services import UNITS
from mappings import grade_tables, recognition
from mappings import services as conversions
from mappings.transfer import services as transfer
from registry.core import changes
from registry.core.audit import AuditEvent
from registry.core.errors import Conflict, InvalidData, NotFound, PermissionDenied, Unauthenticated
from registry.core.permissions import ANONYMOUS, OPERATOR, Actor
from registry.institutions.models import Institution
from tests.mappings.test_transfer import ON, result, transcript
from tests.registry.test_articulations import World

HONOURS = [("First", "1.0"), ("2:1", "2.0"), ("2:2", "3.0"), ("Third", "4.0"), ("Fail", "5.0")]
DEFAULT_2_1 = (
    "GB-HONS 2:1 read at the lower limit of its band on GB-PCT (60), the mark the holder"
    " reached at least, then the two-anchor linear form of the modified Bavarian formula (the"
    " best and pass marks of each scale as anchors)"
)


@pytest.fixture
def world(session):
    """Two institutions (one in DE, one in IE) and who acts for them."""
    tum = Institution(name="Technische Universität München", name_key="tum", country="DE")
    tcd = Institution(name="Trinity College Dublin", name_key="tcd", country="IE")
    session.add_all([tum, tcd])
    session.flush()
    return {
        "tum": tum.id,
        "tcd": tcd.id,
        "as_tum": Actor("tum-admissions", "institution", frozenset({str(tum.id)})),
        "as_tcd": Actor("tcd-admissions", "institution", frozenset({str(tcd.id)})),
        "as_de": Actor("kmk", "ministry", frozenset({"DE"})),
        "as_ie": Actor("dfhere", "ministry", frozenset({"IE"})),
        "registrar": Actor("anna", "registrar"),
    }


def table(code, authority, rows=HONOURS, **extra):
    return {
        "code": code,
        "from": "GB-HONS",
        "to": "DE-1-5",
        "authority": authority,
        "rows": [{"from": given, "to": onto} for given, onto in rows],
        "citation": "Admission regulations 2025, annex 2",
        **extra,
    }


def institution(world, key="tum"):
    return {"kind": "institution", "id": world[key]}


GERMANY = {"kind": "ministry", "country": "DE"}


def convert(session, value="2:1", **kwargs):
    return conversions.grades(session, value, "GB-HONS", "DE-1-5", **kwargs)


def errors(excinfo):
    return excinfo.value.errors


# --- the default says what it rests on --------------------------------------------------------


def test_the_default_reads_the_lower_limit_and_says_why(session, world):
    """The band's lower limit is what the holder reached at least: 60 % for a 2:1, which the
    two-anchor formula puts at 3.0 on the German scale."""
    nothing_asked = convert(session)
    assert (nothing_asked.value, nothing_asked.method, nothing_asked.table) == (
        "3.0",
        "linear",
        None,
    )
    assert nothing_asked.basis == (
        "default, as no conversion table was asked for (give an institution, a country or a"
        f" table): {DEFAULT_2_1}"
    )
    asked = convert(session, institution=world["tum"], country="DE")
    assert asked.value == "3.0"
    assert asked.basis == (
        f"default, as neither institution {world['tum']} nor the ministry of DE has set a"
        f" conversion table for GB-HONS -> DE-1-5: {DEFAULT_2_1}"
    )
    # A numeric scale converts by its formula: no table could apply, so none is mentioned.
    numeric = conversions.grades(session, "27", "IT-30", "DE-1-5", institution=world["tum"])
    assert numeric.basis.startswith("the two-anchor linear form")


def test_an_unknown_institution_is_refused(session):
    with pytest.raises(InvalidData) as excinfo:
        convert(session, institution=999_999)
    assert "institution" in errors(excinfo)


# --- who may set a table ----------------------------------------------------------------------


def test_an_institution_sets_its_own_table_and_it_applies_when_it_converts(session, world):
    row = grade_tables.create_table(session, world["as_tum"], table("TUM-HONS", institution(world)))
    assert (row.authority_kind, row.authority_ref, row.created_by) == (
        "institution",
        str(world["tum"]),
        "tum-admissions",
    )
    mine = convert(session, institution=world["tum"])
    assert (mine.value, mine.method) == ("2.0", "table")
    assert mine.basis == (
        f"conversion table TUM-HONS of institution {world['tum']}, for its own conversions"
        " (Admission regulations 2025, annex 2)"
    )
    assert mine.as_dict()["table"] == {
        "code": "TUM-HONS",
        "authority": {"kind": "institution", "id": world["tum"]},
        "citation": "Admission regulations 2025, annex 2",
    }
    # Anyone else converting gets the default, told that a table exists.
    other = convert(session, institution=world["tcd"])
    assert other.value == "3.0" and other.table is None
    assert "1 is set for GB-HONS -> DE-1-5" in convert(session).basis
    # Named by its code, anyone may use it; the answer says whose it is.
    named = convert(session, table="TUM-HONS")
    assert named.basis.startswith(
        f"conversion table TUM-HONS of institution {world['tum']}, named in the request"
    )


def test_a_ministry_sets_one_for_its_country_after_an_institutions_own(session, world):
    grade_tables.create_table(
        session,
        world["as_de"],
        table(
            "KMK-HONS",
            GERMANY,
            [
                ("First", "1.3"),
                ("2:1", "2.3"),
                ("2:2", "3.3"),
                ("Third", "4.0"),
                ("Fail", "5.0"),
            ],
        ),
    )
    for_germany = convert(session, country="DE")
    assert for_germany.value == "2.3"
    assert for_germany.basis.startswith(
        "conversion table KMK-HONS of the ministry of DE, for conversions in DE ("
    )
    assert convert(session, country="IE").value == "3.0"
    # An institution's own table comes before its country's.
    grade_tables.create_table(session, world["as_tum"], table("TUM-HONS", institution(world)))
    assert convert(session, institution=world["tum"], country="DE").value == "2.0"
    assert convert(session, institution=world["tcd"], country="DE").value == "2.3"


@pytest.mark.parametrize(
    "who, authority, refusal",
    [
        ("as_tcd", "tum", PermissionDenied),  # another institution
        ("as_de", "tum", PermissionDenied),  # a ministry, for an institution
        ("registrar", "tum", PermissionDenied),
        ("anonymous", "tum", Unauthenticated),
        ("as_ie", "DE", PermissionDenied),  # another country's ministry
        ("as_tum", "DE", PermissionDenied),  # an institution, for its country
        ("as_de", "registry", PermissionDenied),  # the registry's own: admins only
    ],
)
def test_nobody_sets_a_table_for_another(session, world, who, authority, refusal):
    owner = {
        "tum": institution(world),
        "DE": GERMANY,
        "registry": {"kind": "registry"},
    }[authority]
    actor = ANONYMOUS if who == "anonymous" else world[who]
    with pytest.raises(refusal):
        grade_tables.create_table(session, actor, table("THEIRS", owner))
    assert (
        session.scalar(select(GradeConversionTable).where(GradeConversionTable.code == "THEIRS"))
        is None
    )


def test_an_admin_sets_any_and_the_registrys_own_applies_only_when_named(session, world):
    grade_tables.create_table(session, OPERATOR, table("FOR-TUM", institution(world)))
    assert convert(session, institution=world["tum"]).value == "2.0"
    grade_tables.create_table(
        session,
        OPERATOR,
        table(
            "AGREEMENT-X",
            {"kind": "registry"},
            [
                ("First", "1.0"),
                ("2:1", "1.7"),
                ("2:2", "2.7"),
                ("Third", "3.7"),
                ("Fail", "5.0"),
            ],
        ),
    )
    assert convert(session, country="DE").value == "3.0"
    named = convert(session, table="AGREEMENT-X")
    assert named.value == "1.7" and "of the registry, named in the request" in named.basis


# --- what a table must hold --------------------------------------------------------------------


@pytest.mark.parametrize(
    "change, field",
    [
        ({"from": "IT-30"}, "from"),  # numeric: converts by the formula
        ({"from": "XX-NOPE"}, "from"),
        ({"to": "GB-HONS"}, "to"),  # the same scale
        ({"to": "XX-NOPE"}, "to"),
        ({"rows": [{"from": "First", "to": "1.0"}]}, "rows"),  # classes missing
        ({"rows": [{"from": "Distinction", "to": "1.0"}]}, "rows.0.from"),
        ({"rows": [{"from": c, "to": "1.0"} for c in ("First", "First")]}, "rows.1.from"),
        ({"rows": [{"from": "First", "to": "0.7"}]}, "rows.0.to"),  # not on DE-1-5
        ({"rows": [{"from": "Third", "to": "4.3"}]}, "rows.0.to"),  # a pass becomes a fail
        ({"rows": [{"from": "Fail", "to": "4.0"}]}, "rows.0.to"),  # a fail becomes a pass
        ({"citation": ""}, "citation"),
        ({"code": "has space"}, "code"),
        ({"authority": {"kind": "ministry"}}, "authority"),
        ({"authority": {"kind": "ministry", "country": "XX"}}, "authority"),
        ({"authority": {"kind": "institution", "id": 999_999}}, "authority.id"),
        ({"authority": {"kind": "registry", "country": "DE"}}, "authority"),
        ({"extra": 1}, "extra"),
    ],
)
def test_a_table_is_refused_whole_naming_the_field(session, world, change, field):
    body = {**table("BAD", {"kind": "registry"}), **change}
    if "rows" in change and field != "rows":
        # The other classes stay right, so that only the row under test is wrong.
        given = {row["from"] for row in change["rows"]}
        body["rows"] = change["rows"] + [{"from": c, "to": g} for c, g in HONOURS if c not in given]
    with pytest.raises(InvalidData) as excinfo:
        grade_tables.create_table(session, OPERATOR, body)
    assert field in errors(excinfo), errors(excinfo)
    assert (
        session.scalar(select(GradeConversionTable).where(GradeConversionTable.code == "BAD"))
        is None
    )


def test_a_lesser_class_cannot_convert_to_a_better_grade(session):
    swapped = [("First", "2.0"), ("2:1", "1.0"), ("2:2", "3.0"), ("Third", "4.0"), ("Fail", "5.0")]
    with pytest.raises(InvalidData) as excinfo:
        grade_tables.create_table(
            session, OPERATOR, table("SWAPPED", {"kind": "registry"}, swapped)
        )
    assert "rows.1.to" in errors(excinfo)
    # Equal grades for neighbouring classes are a table's choice, rows in any order.
    level = [("Fail", "5.0"), ("Third", "4.0"), ("2:2", "2.0"), ("2:1", "2.0"), ("First", "1.0")]
    grade_tables.create_table(session, OPERATOR, table("LEVEL", {"kind": "registry"}, level))


# --- replacing and withdrawing -------------------------------------------------------------------


def test_one_active_table_per_authority_replaced_in_one_write(session, world):
    grade_tables.create_table(session, world["as_tum"], table("TUM-2024", institution(world)))
    with pytest.raises(Conflict):  # the code is taken, withdrawn or not
        grade_tables.create_table(session, world["as_tum"], table("TUM-2024", institution(world)))
    with pytest.raises(Conflict) as excinfo:  # a second active table for the same scales
        grade_tables.create_table(session, world["as_tum"], table("TUM-2025", institution(world)))
    assert excinfo.value.data["existing"] == {"code": "TUM-2024"}
    better = [("First", "1.0"), ("2:1", "1.7"), ("2:2", "2.7"), ("Third", "4.0"), ("Fail", "5.0")]
    new = table("TUM-2025", institution(world), better, replaces="TUM-2024")
    grade_tables.create_table(session, world["as_tum"], new)
    old = grade_tables.get_table(session, "TUM-2024")
    assert old.withdrawn_reason == "Replaced by TUM-2025." and old.withdrawn_by == "tum-admissions"
    assert convert(session, institution=world["tum"]).value == "1.7"


def test_replaces_names_an_active_table_of_the_same_authority(session, world):
    grade_tables.create_table(session, world["as_de"], table("KMK-HONS", GERMANY))
    grade_tables.create_table(session, world["as_tum"], table("TUM-HONS", institution(world)))
    with pytest.raises(PermissionDenied):  # another authority's table
        grade_tables.create_table(
            session, world["as_tum"], table("TUM-2", institution(world), replaces="KMK-HONS")
        )
    with pytest.raises(InvalidData) as excinfo:  # its own, other scales or authority
        grade_tables.create_table(
            session, OPERATOR, table("KMK-2", institution(world, "tcd"), replaces="TUM-HONS")
        )
    assert "replaces" in errors(excinfo)
    with pytest.raises(InvalidData) as excinfo:
        grade_tables.create_table(
            session, world["as_tum"], table("TUM-3", institution(world), replaces="NOPE")
        )
    assert "replaces" in errors(excinfo)


def test_a_withdrawn_table_is_kept_and_used_no_more(session, world):
    grade_tables.create_table(session, world["as_tum"], table("TUM-HONS", institution(world)))
    for who in ("as_tcd", "as_de", "registrar"):
        with pytest.raises(PermissionDenied):
            grade_tables.withdraw_table(session, world[who], "TUM-HONS", {"reason": "Not ours."})
    with pytest.raises(InvalidData):
        grade_tables.withdraw_table(session, world["as_tum"], "TUM-HONS", {})
    withdrawn = grade_tables.withdraw_table(
        session, world["as_tum"], "TUM-HONS", {"reason": "Regulations amended."}
    )
    assert grade_tables.shown(withdrawn)["status"] == "withdrawn"
    with pytest.raises(Conflict):
        grade_tables.withdraw_table(session, world["as_tum"], "TUM-HONS", {"reason": "Again."})
    assert convert(session, institution=world["tum"]).value == "3.0"
    with pytest.raises(InvalidData) as excinfo:
        convert(session, table="TUM-HONS")
    assert "table" in errors(excinfo)
    for unknown in ("NOPE", "x" * 500, "bad\x00code"):
        with pytest.raises(NotFound):
            grade_tables.withdraw_table(session, OPERATOR, unknown, {"reason": "?"})
    listed = {t["code"]: t for t in grade_tables.list_tables(session, "GB-HONS", "DE-1-5")}
    assert listed["TUM-HONS"]["withdrawn_reason"] == "Regulations amended."


def test_every_write_is_audited_and_renews_the_units_token(session, world):
    before = changes.current(session, UNITS)
    grade_tables.create_table(session, world["as_tum"], table("TUM-HONS", institution(world)))
    created = changes.current(session, UNITS)
    assert created != before
    grade_tables.withdraw_table(session, world["as_tum"], "TUM-HONS", {"reason": "Amended."})
    assert changes.current(session, UNITS) != created
    events = session.scalars(
        select(AuditEvent)
        .where(AuditEvent.entity == "grade_table:TUM-HONS")
        .order_by(AuditEvent.id)
    ).all()
    assert [(e.action, e.outcome, e.actor) for e in events] == [
        ("grade_table.create", "allowed", "tum-admissions"),
        ("grade_table.withdraw", "allowed", "tum-admissions"),
    ]
    assert events[0].after["rows"][1] == {"from": "2:1", "to": "2.0"}
    assert events[1].before["status"] == "active" and events[1].after["status"] == "withdrawn"


# --- in an assessment ------------------------------------------------------------------------


CREDENTIAL = {
    "title": "BSc (Hons) Computing Science",
    "institution": {"name": "University of Glasgow", "country": "GB"},
    "level": "GB-SCQF:10",
    "qualification_type": "bachelor",
    "credits": {"value": "480", "system": "GB-SCQF-CP"},
    "grade": {"value": "2:1", "scale": "GB-HONS"},
    "awarded_on": "2019-06-30",
}


def assessed_grade(session, actor):
    answer = recognition.assess(session, actor, copy.deepcopy(CREDENTIAL), "DE", "bachelor")
    step = next(s for s in answer["steps"] if s["step"] == "grade")
    sentence = next(e for e in answer["explanation"] if e.startswith("The grade 2:1"))
    return answer["target"]["grade"], step["detail"], sentence


def test_an_assessment_uses_the_deciding_institutions_table_then_the_ministrys(session, world):
    grade, detail, sentence = assessed_grade(session, world["as_tum"])
    assert grade["value"] == "3.0" and grade["table"] is None
    assert grade["basis"].startswith(
        f"default, as neither institution {world['tum']} nor the ministry of DE has set"
    )
    assert sentence.endswith(f"({grade['method']}; {grade['basis']}).")
    grade_tables.create_table(
        session,
        world["as_de"],
        table(
            "KMK-HONS",
            GERMANY,
            [
                ("First", "1.3"),
                ("2:1", "2.3"),
                ("2:2", "3.3"),
                ("Third", "4.0"),
                ("Fail", "5.0"),
            ],
        ),
    )
    grade_tables.create_table(session, world["as_tum"], table("TUM-HONS", institution(world)))
    mine, detail, _ = assessed_grade(session, world["as_tum"])
    assert (mine["value"], mine["table"]["code"], detail["table"]) == (
        "2.0",
        "TUM-HONS",
        "TUM-HONS",
    )
    for actor in (world["registrar"], world["as_tcd"], world["as_de"]):
        theirs, detail, sentence = assessed_grade(session, actor)
        assert (theirs["value"], detail["table"]) == ("2.3", "KMK-HONS")
        assert "conversion table KMK-HONS of the ministry of DE, for conversions in DE" in sentence


# --- in a transfer evaluation ------------------------------------------------------------------


def test_a_receiving_institutions_table_converts_its_transfer_grades(session):
    """A transfer evaluation is the receiving institution converting: its table applies."""
    world = World(session)
    tum = world.ids["tum"]
    course = result("70102", "Algebra lineare", grade="B", scheme="ECTS-A-F")

    def grade():
        answer = transfer.evaluate_transcript(
            session, world.actors["tum"], transcript(course), tum, on=ON
        )
        return answer["results"][0]["grade"]

    # ECTS letters have no published equivalent and DE-1-5 no grading table: not converted.
    before = grade()
    assert before["converted"] is None and before["reason"].startswith("Not converted: ")
    letters = [("A", "1.0"), ("B", "1.3"), ("C", "2.0"), ("D", "3.0"), ("E", "4.0")]
    letters += [("FX", "5.0"), ("F", "5.0")]
    grade_tables.create_table(
        session,
        world.actors["tum"],
        {
            "code": "TUM-ECTS",
            "from": "ECTS-A-F",
            "to": "DE-1-5",
            "authority": {"kind": "institution", "id": tum},
            "rows": [{"from": given, "to": onto} for given, onto in letters],
            "citation": "Learning agreements 2025",
        },
    )
    after = grade()["converted"]
    assert (after["value"], after["method"], after["table"]["code"]) == ("1.3", "table", "TUM-ECTS")
    assert after["basis"] == (
        f"conversion table TUM-ECTS of institution {tum}, for its own conversions"
        " (Learning agreements 2025)"
    )
