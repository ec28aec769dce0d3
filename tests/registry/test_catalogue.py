"""The catalogue: the bundled ISCED-F list, record validation, the CSV reader, and qualification
and course imports (idempotent, nothing lost, each row within its importer's scope)."""

import io
import json
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from importers.catalogue import import_courses, import_qualifications
from importers.csv import read_csv, split_cell
from importers.runner import FileError, Rejected
from registry.catalogue import isced
from registry.catalogue.models import Course, Qualification
from registry.catalogue.schemas import (
    CourseRecordSchema,
    QualificationRecordSchema,
    QualificationSchema,
)
from registry.catalogue.services import find_qualifications, get_course, get_qualification
from registry.core.audit import AuditEvent
from registry.core.errors import InvalidData, NotFound, PermissionDenied
from registry.core.permissions import OPERATOR, Actor
from registry.institutions.models import Institution

# --- the ISCED-F 2013 list ----------------------------------------------------------------------


def kinds(level, kind):
    return [
        code
        for code, field in isced.fields().items()
        if field["level"] == level and field["kind"] == kind
    ]


def test_isced_list_has_the_published_structure():
    # UIS 2014: 11 broad fields (00-10), 29 narrow fields, 80 detailed fields.
    assert kinds("broad", "field") == [
        "00",
        "01",
        "02",
        "03",
        "04",
        "05",
        "06",
        "07",
        "08",
        "09",
        "10",
    ]
    assert len(kinds("narrow", "field")) == 29
    assert len(kinds("detailed", "field")) == 80
    # The codes the classification reserves: 'not further defined' (0), inter-disciplinary (8),
    # 'not elsewhere classified' (9) and 'field unknown'.
    assert (
        len(kinds("narrow", "not_further_defined")),
        len(kinds("detailed", "not_further_defined")),
    ) == (9, 30)
    assert (
        len(kinds("narrow", "inter_disciplinary")),
        len(kinds("detailed", "inter_disciplinary")),
    ) == (10, 11)
    assert (
        len(kinds("narrow", "not_elsewhere_classified")),
        len(kinds("detailed", "not_elsewhere_classified")),
    ) == (9, 28)
    unknown = kinds("broad", "unknown") + kinds("narrow", "unknown") + kinds("detailed", "unknown")
    assert unknown == ["99", "999", "9999"]
    assert len(isced.fields()) == 220


def test_isced_codes_are_consistent():
    data = json.loads(isced.DATA.read_text(encoding="utf-8"))
    assert (
        "ISBN 978-92-9189-150-4" in data["source"]
        and "UNESCO Institute for Statistics" in (data["source"])
    )
    codes = [field["code"] for field in data["fields"]]
    assert len(codes) == len(set(codes))
    for code, field in isced.fields().items():
        assert (
            code.isdigit() and {2: "broad", 3: "narrow", 4: "detailed"}[len(code)] == field["level"]
        )
        # Every narrow and detailed code sits under a code of the list.
        assert len(code) == 2 or code[: len(code) - 1] in isced.fields()
        assert field["name"] and field["name"] == field["name"].strip()


@pytest.mark.parametrize(
    "code, name",
    [
        ("0613", "Software and applications development and analysis"),
        ("0413", "Management and administration"),
        ("0912", "Medicine"),
        ("0011", "Basic programmes and qualifications"),
        ("0188", "Inter-disciplinary programmes and qualifications involving education"),
        ("0099", "Generic programmes and qualifications not elsewhere classified"),
        ("1000", "Services not further defined"),
        ("061", "Information and Communication Technologies (ICTs)"),
        ("10", "Services"),
        ("9999", "Field unknown"),
    ],
)
def test_known_isced_codes(code, name):
    assert isced.is_valid(code) and isced.name(code) == name
    assert isced.broad(code) == code[:2]


@pytest.mark.parametrize("code", ["613", "0618", "0420", "11", "", "06130", "0019", "abcd"])
def test_codes_not_in_isced(code):
    assert not isced.is_valid(code) and isced.name(code) is None


# --- record validation --------------------------------------------------------------------------


GOOD = {
    "code": "BSC-CS",
    "title": "BSc (Hons) Computing Science",
    "language": "en-GB",
    "country": "gb",
    "level": "GB-SCQF:10",
    "credits": "480",
    "credit_system": "gb-scqf-cp",
    "isced_f": "0613",
    "qualification_type": "bachelor",
    "learning_outcomes": ["Design and build software systems"],
    "other_titles": [{"value": "BSc Saidheans Coimpiutaireachd", "lang": "gd"}],
    "identifiers": {"qdr": "GB-1234"},
}


def test_a_good_record_loads():
    record = QualificationRecordSchema().load(GOOD)
    assert record["country"] == "GB" and record["credit_system"] == "GB-SCQF-CP"
    assert record["credits"] == Decimal("480") and "institution_id" not in record
    # Plain notation is stored, whatever notation the number came in.
    assert str(QualificationRecordSchema().load({**GOOD, "credits": "1E+2"})["credits"]) == "100"


@pytest.mark.parametrize(
    "changes, field",
    [
        ({"code": ""}, "code"),
        ({"code": None}, "code"),
        ({"title": "BSc\x07Computing"}, "title"),
        ({"title": "x" * 501}, "title"),
        ({"country": "XX"}, "country"),
        ({"country": "Great Britain"}, "country"),
        ({"country": None}, "country"),  # no institution: a national register entry needs a country
        ({"language": "english"}, "language"),
        ({"language": "zz"}, "language"),
        ({"level": "SCQF 10"}, "level"),
        ({"level": "gb-scqf:10"}, "level"),
        ({"credits": "-1"}, "credits"),
        ({"credits": "lots"}, "credits"),
        ({"credits": "NaN"}, "credits"),
        ({"credits": "1000000"}, "credits"),
        ({"credit_system": None}, "credit_system"),  # credits without their system
        ({"credits": None}, "credits"),  # a system without credits
        ({"credit_system": "ECTS points"}, "credit_system"),
        ({"isced_f": "613"}, "isced_f"),
        ({"isced_f": "0618"}, "isced_f"),
        ({"qualification_type": "degree"}, "qualification_type"),
        ({"learning_outcomes": ["ok", "tab\there"]}, "learning_outcomes"),
        ({"other_titles": [{"value": "Titre", "lang": "french"}]}, "other_titles"),
        ({"identifiers": {"QDR ID": "1"}}, "identifiers"),
        ({"institution_id": 0}, "institution_id"),
    ],
)
def test_each_bad_field_is_named(changes, field):
    errors = QualificationRecordSchema().validate({**GOOD, **changes})
    assert field in errors, errors


def test_every_bad_field_is_named_at_once():
    bad = {
        **GOOD,
        "country": "XX",
        "isced_f": "9",
        "credits": "-5",
        "level": "ten",
        "qualification_type": "phd",
        "title": "\x00",
    }
    errors = QualificationRecordSchema().validate(bad)
    assert set(errors) >= {"country", "isced_f", "credits", "level", "qualification_type", "title"}


def test_a_leading_zero_lost_by_a_spreadsheet_is_explained():
    errors = QualificationRecordSchema().validate({**GOOD, "isced_f": "613"})
    assert "0613" in errors["isced_f"][0]


def test_a_course_needs_its_institution():
    course = {"code": "CS101", "title": "Programming", "credits": "5", "credit_system": "ECTS"}
    assert "institution_id" in CourseRecordSchema().validate(course)
    assert CourseRecordSchema().validate({**course, "institution_id": "7"}) == {}


# --- the CSV reader -----------------------------------------------------------------------------


def rows(data: bytes, columns=("code", "title", "credits"), required=("code", "title")):
    return list(read_csv(io.BytesIO(data), columns, required))


def test_bom_and_semicolons():
    data = "\ufeffCode ; Title;credits\r\nA1;Première année ; 7,5\r\n".encode()
    assert rows(data) == [("row 2", {"code": "A1", "title": "Première année", "credits": "7,5"})]


def test_commas_quotes_blank_lines_and_line_numbers():
    data = b'code,title,credits\nA,"Title, with comma",\n\nB,"Two\nlines",5\n,,\nC,Last,1\n'
    assert rows(data) == [
        ("row 2", {"code": "A", "title": "Title, with comma", "credits": None}),
        ("row 4", {"code": "B", "title": "Two\nlines", "credits": "5"}),
        ("row 7", {"code": "C", "title": "Last", "credits": "1"}),
    ]


def test_a_bad_row_in_the_middle_is_rejected_and_reading_goes_on():
    data = b"code,title\nA,First\nB,Second,extra\nC\nD,Fourth\n"
    result = rows(data)
    assert [position for position, _ in result] == ["row 2", "row 3", "row 4", "row 5"]
    assert result[1][1] == Rejected("row has 3 cells, the header has 2")
    assert result[2][1] == Rejected("row has 1 cells, the header has 2")
    assert result[3][1] == {"code": "D", "title": "Fourth"}


@pytest.mark.parametrize(
    "data, position, words",
    [
        (b"", "line 1", "no header"),
        (b"code,credits\nA,1\n", "line 1", "missing required column(s): title"),
        (b"code,title,learning_outcome\n", "line 1", "unknown column(s) learning_outcome"),
        (b"code,title,code\n", "line 1", "more than once"),
        (b"code,title,\n", "line 1", "column 3"),
        ("code,title\nA,Caf\u00e9\nB,Universit\u00e9\n".encode("latin-1"), "line 2", "not UTF-8"),
        (b'code,title\nA,"unterminated\nB,x\n', "line 3", "not valid CSV"),
    ],
)
def test_a_broken_file_stops_at_its_line(data, position, words):
    with pytest.raises(FileError) as raised:
        rows(data)
    assert raised.value.position == position and words in raised.value.reason


def test_rows_before_a_broken_line_are_read():
    reader = read_csv(
        io.BytesIO("code,title\nA,ok\nB,caf\u00e9\n".encode("cp1252")),
        ("code", "title"),
        ("code", "title"),
    )
    assert next(reader) == ("row 2", {"code": "A", "title": "ok"})
    with pytest.raises(FileError, match="line 3"):
        next(reader)


def test_split_cell():
    assert split_cell("Analyse | Design  |  | Build") == ["Analyse", "Design", "Build"]
    assert split_cell("C|C++") == ["C|C++"] and split_cell(None) == []


# --- imports ------------------------------------------------------------------------------------

HEADER = (
    "code,title,language,country,institution_id,level,credits,credit_system,isced_f,"
    "qualification_type,learning_outcomes,other_titles\n"
)


def csv_bytes(*lines: str, header: str = HEADER) -> bytes:
    return (header + "".join(line + "\n" for line in lines)).encode()


def run_qualifications(session, data: bytes, actor=OPERATOR, **options):
    return import_qualifications(lambda: session, actor, io.BytesIO(data), "test.csv", **options)


def run_courses(session, data: bytes, actor=OPERATOR, **options):
    return import_courses(lambda: session, actor, io.BytesIO(data), "courses.csv", **options)


def adds_up(report):
    return report.read == report.inserted + report.updated + report.unchanged + report.rejected


@pytest.fixture
def institutions(session):
    """Two institutions, by short name."""
    made = {
        "tcd": Institution(
            name="Trinity College Dublin", name_key="trinity college dublin", country="IE"
        ),
        "gla": Institution(
            name="University of Glasgow", name_key="university of glasgow", country="GB"
        ),
    }
    session.add_all(made.values())
    session.flush()
    return {key: institution.id for key, institution in made.items()}


def tcd_rows(tcd):
    return [
        f"BSC-CS,BSc Computer Science,en,,{tcd},IE-NFQ:8,240,ECTS,0613,bachelor,"
        '"Design software | Analyse algorithms",Baitsiléir Ríomhaireachta [ga]',
        f"MSC-DS,MSc Data Science,en,IE,{tcd},IE-NFQ:9,90,ECTS,0542,master,,",
        f"PHD-CS,PhD Computer Science,en,,{tcd},IE-NFQ:10,,,0613,doctorate,,",
    ]


def test_qualifications_import_and_reimport(session, institutions):
    tcd = institutions["tcd"]
    data = csv_bytes(*tcd_rows(tcd))
    first = run_qualifications(session, data)
    assert (first.read, first.inserted, first.rejected, first.state) == (3, 3, 0, "completed")
    bsc = session.scalar(select(Qualification).where(Qualification.code == "BSC-CS"))
    assert (bsc.institution_id, bsc.country, bsc.title_key) == (tcd, "IE", "bsc computer science")
    assert (bsc.level, bsc.credits, bsc.credit_system, bsc.isced_f) == (
        "IE-NFQ:8",
        Decimal("240"),
        "ECTS",
        "0613",
    )
    assert bsc.learning_outcomes == ["Design software", "Analyse algorithms"]
    assert bsc.other_titles == [{"value": "Baitsiléir Ríomhaireachta", "lang": "ga"}]
    again = run_qualifications(session, data)
    assert (again.inserted, again.updated, again.unchanged, again.rejected) == (0, 0, 3, 0)
    assert session.scalar(select(func.count()).select_from(Qualification)) == 3
    assert adds_up(first) and adds_up(again)


def test_a_changed_row_updates_its_record_in_place(session, institutions):
    tcd = institutions["tcd"]
    run_qualifications(session, csv_bytes(*tcd_rows(tcd)))
    changed = [tcd_rows(tcd)[0].replace("BSc Computer Science", "BSc Computing"), tcd_rows(tcd)[1]]
    report = run_qualifications(session, csv_bytes(*changed))
    assert (report.inserted, report.updated, report.unchanged) == (0, 1, 1)
    bsc = session.scalar(select(Qualification).where(Qualification.code == "BSC-CS"))
    assert (bsc.title, bsc.title_key) == ("BSc Computing", "bsc computing")
    # A column the file leaves out is left as stored; an empty cell clears.
    slim = f"BSC-CS,BSc Computing,{tcd},\n"
    report = run_qualifications(session, ("code,title,institution_id,isced_f\n" + slim).encode())
    assert report.updated == 1
    bsc = session.scalar(select(Qualification).where(Qualification.code == "BSC-CS"))
    assert bsc.isced_f is None and bsc.level == "IE-NFQ:8" and bsc.credits == Decimal("240")


def test_half_the_rows_invalid_counts_add_up(session, institutions):
    tcd = institutions["tcd"]
    good = [f"Q{n},Qualification {n},en,,{tcd},IE-NFQ:8,180,ECTS,0413,bachelor,," for n in range(5)]
    bad = [
        f"B1,Bad country,en,XX,{tcd},IE-NFQ:8,,,,,,",
        f"B2,Unknown level,en,,{tcd},IE-NFQ:11,,,,,,",
        f"B3,Unknown framework,en,,{tcd},XX-NQF:3,,,,,,",
        f"B4,Unknown credit system,en,,{tcd},,10,BOGUS,,,,",
        "B5,Unknown institution,en,,999999,,,,,,,",
        "B6,Too few cells",
    ]
    lines = [line for pair in zip(good, bad, strict=False) for line in pair] + bad[5:]
    report = run_qualifications(session, csv_bytes(*lines))
    assert (report.read, report.inserted, report.rejected) == (11, 5, 6) and adds_up(report)
    reasons = {error.position: error.reason for error in report.errors}
    assert set(reasons) == {"row 3", "row 5", "row 7", "row 9", "row 11", "row 12"}
    assert "country" in reasons["row 3"]
    assert reasons["row 5"].startswith("level:") and "no level '11'" in reasons["row 5"]
    assert reasons["row 7"].startswith("level:") and "XX-NQF" in reasons["row 7"]
    assert reasons["row 9"].startswith("credit_system:") and "BOGUS" in reasons["row 9"]
    assert reasons["row 11"] == "institution_id: no institution 999999."
    assert reasons["row 12"] == "row has 2 cells, the header has 12"


def test_a_broken_file_keeps_the_rows_before_it(session, institutions):
    tcd = institutions["tcd"]
    data = csv_bytes(*tcd_rows(tcd)[:2]) + "X,Caf\u00e9,en,,,,,,,,,\n".encode("latin-1")
    report = run_qualifications(session, data)
    assert report.state == "failed" and report.failure.startswith("line 4: not UTF-8")
    assert report.inserted == 2 and adds_up(report)


def test_atomic_import_is_all_or_nothing(session, institutions):
    tcd = institutions["tcd"]
    data = csv_bytes(*tcd_rows(tcd), f"BAD,Bad,en,,{tcd},IE-NFQ:99,,,,,,")
    report = run_qualifications(session, data, atomic=True)
    assert report.state == "rolled_back" and report.rejected == 4 and adds_up(report)
    assert session.scalar(select(func.count()).select_from(Qualification)) == 0


def test_a_level_is_stored_as_the_registry_spells_it(session):
    data = csv_bytes(
        "AT-1,Reifeprüfung,de,AT,,AT-NQR:iv,,,,secondary,,",
        "AT-2,Bachelor,de,AT,,AT-NQR:6,180,ECTS,,bachelor,,",
        "AT-3,Lower-case framework,de,AT,,at-nqr:6,,,,,,",
    )
    report = run_qualifications(session, data)
    assert (report.inserted, report.rejected) == (2, 1) and "level" in report.errors[0].reason
    assert [q.level for q in find_qualifications(session, country="AT")] == [
        "AT-NQR:IV",
        "AT-NQR:VI",
    ]


def test_national_register_entries(session, institutions):
    data = csv_bytes(
        "IE-LC,Leaving Certificate,en,IE,,IE-NFQ:5,,,0011,secondary,,",
        "IE-LC,Leaving Certificate,en,IE,,IE-NFQ:5,,,0011,secondary,,",
        "NOCOUNTRY,No country,en,,,,,,,,,",
    )
    report = run_qualifications(session, data)
    # The same register id twice in one file is one entry.
    assert (report.inserted, report.unchanged, report.rejected) == (1, 1, 1)
    assert "country" in report.errors[0].reason
    entry = session.scalar(select(Qualification).where(Qualification.code == "IE-LC"))
    assert entry.institution_id is None and entry.country == "IE"
    assert run_qualifications(session, data).unchanged == 2
    # An institution may use the same code as the register: a different natural key.
    run_qualifications(session, csv_bytes(f"IE-LC,Our own,en,,{institutions['tcd']},,,,,,,"))
    assert len(find_qualifications(session, country="IE")) == 2
    assert [q.code for q in find_qualifications(session, institution_id=institutions["tcd"])] == [
        "IE-LC"
    ]


def test_an_institution_imports_only_its_own(session, institutions):
    tcd, gla = institutions["tcd"], institutions["gla"]
    actor = Actor("tcd", "institution", frozenset({str(tcd)}))
    data = csv_bytes(
        tcd_rows(tcd)[0], f"GLA-1,Not ours,en,,{gla},,,,,,,", "IE-LC,A national entry,en,IE,,,,,,,,"
    )
    report = run_qualifications(session, data, actor=actor)
    assert (report.inserted, report.rejected) == (1, 2) and adds_up(report)
    assert all("outside its scope" in error.reason for error in report.errors)


def test_the_institution_option(session, institutions):
    tcd, gla = institutions["tcd"], institutions["gla"]
    actor = Actor("tcd", "institution", frozenset({str(tcd)}))
    data = csv_bytes(
        "A,Empty institution cell,en,,,,,,,,,",
        f"B,Same institution,en,,{tcd},,,,,,,",
        f"C,Another institution,en,,{gla},,,,,,,",
    )
    report = run_qualifications(session, data, actor=actor, institution_id=tcd)
    assert (report.inserted, report.rejected) == (2, 1)
    assert report.errors[0].position == "row 4" and "not this import's institution" in (
        report.errors[0].reason
    )
    assert {q.institution_id for q in session.scalars(select(Qualification))} == {tcd}
    with pytest.raises(PermissionDenied, match="outside its scope"):
        run_qualifications(session, data, actor=actor, institution_id=gla)


def test_who_may_import(session, institutions):
    for actor in (Actor("r", "registrar"), Actor("anonymous", None)):
        with pytest.raises(Exception, match="catalogue.edit"):
            run_qualifications(session, csv_bytes(), actor=actor)


def test_a_ministry_imports_national_entries_of_its_country(session, institutions):
    ie = Actor("ie", "ministry", frozenset({"IE"}))
    data = csv_bytes(
        "IE-LC,Leaving Certificate,en,IE,,IE-NFQ:5,,,,secondary,,",
        "GB-A,A level,en,GB,,,,,,secondary,,",
        tcd_rows(institutions["tcd"])[0],
    )
    report = run_qualifications(session, data, actor=ie)
    assert (report.inserted, report.rejected) == (1, 2)
    assert all("outside its scope" in error.reason for error in report.errors)


def test_every_import_is_audited(session, institutions):
    before = session.scalar(select(func.count()).select_from(AuditEvent))
    run_qualifications(session, csv_bytes(*tcd_rows(institutions["tcd"])))
    event = session.scalars(select(AuditEvent).order_by(AuditEvent.id.desc())).first()
    assert session.scalar(select(func.count()).select_from(AuditEvent)) == before + 1
    assert event.action == "import.qualifications-csv" and event.after["inserted"] == 3


COURSES = (
    b"code;title;language;credits;credit_system;level;isced_f;learning_outcomes\n"
    b"CS101;Introduction to programming;en;5;ECTS;QF-EHEA:1;0613;"
    b"Write small programs | Test them\n"
    b"CS102;Data structures;en;7,5;ECTS;QF-EHEA:1;0613;\n"
    b"CS103;Bad field;en;5;ECTS;;613;\n"
)


def test_courses_import_and_reimport(session, institutions):
    tcd = institutions["tcd"]
    first = run_courses(session, COURSES, institution_id=tcd)
    assert (first.read, first.inserted, first.rejected) == (3, 2, 1) and adds_up(first)
    assert "isced_f" in first.errors[0].reason
    cs102 = session.scalar(select(Course).where(Course.code == "CS102"))
    assert (cs102.institution_id, cs102.credits, cs102.level) == (tcd, Decimal("7.5"), "QF-EHEA:1")
    again = run_courses(session, COURSES, institution_id=tcd)
    assert (again.inserted, again.updated, again.unchanged, again.rejected) == (0, 0, 2, 1)
    assert get_course(session, cs102.id).title == "Data structures"


def test_courses_need_an_institution_in_scope(session, institutions):
    actor = Actor("tcd", "institution", frozenset({str(institutions["tcd"])}))
    with pytest.raises(InvalidData):
        run_courses(session, COURSES, actor=actor)
    with pytest.raises(PermissionDenied, match="outside its scope"):
        run_courses(session, COURSES, actor=actor, institution_id=institutions["gla"])
    report = run_courses(session, COURSES, actor=actor, institution_id=institutions["tcd"])
    assert report.inserted == 2


def test_look_ups_and_output(session, institutions):
    run_qualifications(session, csv_bytes(*tcd_rows(institutions["tcd"])))
    bsc = session.scalar(select(Qualification).where(Qualification.code == "BSC-CS"))
    out = QualificationSchema().dump(get_qualification(session, bsc.id))
    assert out["credits"] == "240" and out["isced_f_name"] == (
        "Software and applications development and analysis"
    )
    with pytest.raises(NotFound):
        get_qualification(session, 10**9)
    with pytest.raises(NotFound):
        get_course(session, 10**9)
