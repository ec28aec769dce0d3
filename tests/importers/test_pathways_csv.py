"""The `pathways-csv` import: one row per accepted credential, a pathway applied whole."""

import io

import pytest

from importers.pathways_csv import import_pathways_csv
from registry.catalogue.pathways import services
from registry.core.errors import PermissionDenied
from registry.core.permissions import OPERATOR, Actor
from tests.importers.pathway_world import World, adds_up

HEADER = (
    "rule_id,institution_scheme,institution,title,programme_code,credential_scheme,"
    "credential_institution,credential_kind,credential_code,choose,credits,credit_system,"
    "min_grade,min_grade_scale,supervision,quality_assured,max_age_months,max_total_credits,"
    "valid_from,valid_to,status,source\n"
)
ACADEMY = "domain,scm-academy.example.org"
MM = "UL-MM,ror,00a0n9e72,MicroMasters courses toward the MSc,MSC-LOG"
CONDITIONS = '2,"7,5",ECTS,3.0,US-GPA-4,supervised_identity_verified,yes,60,30,2026-09-01,,approved'


@pytest.fixture
def world(session):
    return World(session)


def csv(*rows: str) -> bytes:
    return (HEADER + "".join(row + "\n" for row in rows)).encode()


def run_import(session, data: bytes, actor=OPERATOR, **options):
    return import_pathways_csv(lambda: session, actor, io.BytesIO(data), "pathways.csv", **options)


PATHWAYS = csv(
    f"{MM},{ACADEMY},course,SC0x,{CONDITIONS},https://www.ul.ie/pathways",
    f"{MM},{ACADEMY},course,SC1x,{CONDITIONS},https://www.ul.ie/pathways",
    "UL-MICRO,schac,ul.ie,The micro-credential toward the MSc,MSC-LOG,"
    f"{ACADEMY},qualification,MM-SCM,,30,ECTS,,,,,,,,,,",
    f"{MM},{ACADEMY},course,SC2x,{CONDITIONS},https://www.ul.ie/pathways",
)


def test_import_pathways_and_reimport_changes_nothing(session, world):
    report = run_import(session, PATHWAYS)
    assert (report.read, report.inserted, report.rejected) == (4, 4, 0), report.errors
    mm = services.find_pathway(session, world.ids["ul"], "UL-MM")
    assert [c["id"] for c in mm.accepted] == [
        world.courses[code] for code in ("SC0x", "SC1x", "SC2x")
    ]
    assert (mm.choose, str(mm.credits), mm.min_grade_scale, mm.quality_assured) == (
        2,
        "7.5",
        "US-GPA-4",
        True,
    )
    assert (mm.status, mm.source) == ("approved", "https://www.ul.ie/pathways")
    micro = services.find_pathway(session, world.ids["ul"], "UL-MICRO")
    assert micro.accepted == [{"kind": "qualification", "id": world.qualifications["micro"]}]
    assert (micro.status, micro.choose, micro.quality_assured) == ("proposed", None, False)
    again = run_import(session, PATHWAYS)
    assert (again.read, again.unchanged) == (4, 4) and adds_up(again)
    # A pathway loses a credential: its rows count as updated.
    smaller = run_import(
        session,
        csv(
            f"{MM},{ACADEMY},course,SC0x,{CONDITIONS},https://www.ul.ie/pathways",
            f"{MM},{ACADEMY},course,SC1x,{CONDITIONS},https://www.ul.ie/pathways",
        ),
    )
    assert (smaller.read, smaller.updated) == (2, 2) and adds_up(smaller)


def test_a_pathway_is_rejected_whole_naming_the_rows(session, world):
    other = CONDITIONS.replace('"7,5"', "9")
    report = run_import(
        session,
        csv(
            # P1: two rows disagree on the credits.
            f"P1,ror,00a0n9e72,T,MSC-LOG,{ACADEMY},course,SC0x,{CONDITIONS},",
            f"P1,ror,00a0n9e72,T,MSC-LOG,{ACADEMY},course,SC1x,{other},",
            # P2: one row's date is no date.
            f"P2,ror,00a0n9e72,T,MSC-LOG,{ACADEMY},course,SC0x,,3,ECTS,,,,,,,,,,",
            f"P2,ror,00a0n9e72,T,MSC-LOG,{ACADEMY},course,SC1x,,3,ECTS,,,,,,,soon,,,",
            # P3: a course the issuer's catalogue does not hold; P4: an unknown institution.
            f"P3,ror,00a0n9e72,T,MSC-LOG,{ACADEMY},course,SC9x,,3,ECTS,,,,,,,,,,",
            f"P4,schac,nowhere.example,T,MSC-LOG,{ACADEMY},course,SC0x,,3,ECTS,,,,,,,,,,",
            # P5: choose more than it names; P6: stored fine.
            f"P5,ror,00a0n9e72,T,MSC-LOG,{ACADEMY},course,SC0x,4,3,ECTS,,,,,,,,,,",
            f"P6,ror,00a0n9e72,T,MSC-LOG,{ACADEMY},course,SC3x,,3,ECTS,,,,,,,,,,",
            "too,few,cells",
        ),
    )
    assert (report.read, report.inserted, report.rejected) == (9, 1, 8) and adds_up(report)
    reasons = {error.position: error.reason for error in report.errors}
    assert "row 3 states credits 9, but row 2 states 7.5" in reasons["row 2"]
    assert reasons["row 2"] == reasons["row 3"]
    assert "valid_from" in reasons["row 5"] and "row 5 is invalid" in reasons["row 4"]
    assert "No course 'SC9x'" in reasons["row 6"]
    assert "no institution with schac 'nowhere.example'" in reasons["row 7"]
    assert "choose" in reasons["row 8"]
    assert "cells" in reasons["row 10"]
    assert [p.rule_id for p in services.list_pathways(session, OPERATOR)] == ["P6"]


def test_rows_of_another_institution_are_refused(session, world):
    rows = csv(
        f"UL-1,ror,00a0n9e72,T,MSC-LOG,{ACADEMY},course,SC0x,,3,ECTS,,,,,,,,,,",
        f"TUD-1,schac,tu-dortmund.de,T,MSC-LOG-DO,{ACADEMY},course,SC0x,,3,ECTS,,,,,,,,,,",
    )
    report = run_import(session, rows, actor=world.actors["tud"])
    assert (report.inserted, report.rejected) == (1, 1) and adds_up(report)
    assert "scope" in report.errors[0].reason and report.errors[0].position == "row 2"
    with pytest.raises(PermissionDenied):
        run_import(session, rows, actor=Actor("r", "registrar"))


def test_atomic_import_is_all_or_nothing_and_a_broken_file_applies_nothing(session, world):
    rows = [
        f"A1,ror,00a0n9e72,T,MSC-LOG,{ACADEMY},course,SC0x,,3,ECTS,,,,,,,,,,",
        f"A2,ror,00a0n9e72,T,MSC-LOG,{ACADEMY},course,NOPE,,3,ECTS,,,,,,,,,,",
    ]
    report = run_import(session, csv(*rows), atomic=True)
    assert report.state == "rolled_back" and report.inserted == 0 and adds_up(report)
    broken = run_import(session, csv(rows[0], '"A3,unterminated'))
    assert broken.state == "failed" and broken.inserted == 0 and adds_up(broken)
    assert services.list_pathways(session, OPERATOR) == []


def test_a_formula_in_a_cell_is_text(session, world):
    report = run_import(
        session,
        csv(
            f'F1,ror,00a0n9e72,"=HYPERLINK(""x"")",MSC-LOG,{ACADEMY},course,SC0x,,3,ECTS,,,,,,,,,,'
        ),
    )
    assert report.inserted == 1, report.errors
    assert services.find_pathway(session, world.ids["ul"], "F1").title == '=HYPERLINK("x")'
