"""Institution lists (ROR v1/v2, the universities-and-domains list): distinct organisations are
never merged, identifiers are kept as given, ROR relationships, Kosovo, authorisation on the
record really written."""

import io
import json
from collections import Counter

import pytest
from marshmallow import ValidationError
from sqlalchemy import func, select

from importers.institutions import import_institutions
from registry.core.countries import alpha_2, is_country
from registry.core.permissions import OPERATOR, Actor
from registry.institutions.models import Institution, InstitutionIdentifier
from registry.institutions.schemas import InstitutionRecordSchema, iso_country, normalise_identifier
from registry.institutions.services import find_by_identifier, relationships_of
from tests.importers.test_xmlsafe import Stream


def run(session, fmt, data, actor=OPERATOR, **options):
    raw = data if isinstance(data, bytes) else json.dumps(data).encode()
    return import_institutions(lambda: session, actor, fmt, io.BytesIO(raw), "test.json", **options)


def adds_up(report):
    return report.read == report.inserted + report.updated + report.unchanged + report.rejected


def ror(ror_id, name, country="DE", *, city="Berlin", domains=(), external=(), relations=()):
    """A ROR schema v2 record."""
    return {
        "id": f"https://ror.org/{ror_id}",
        "names": [{"value": name, "types": ["ror_display", "label"], "lang": "en"}],
        "locations": [
            {"geonames_id": 1, "geonames_details": {"country_code": country, "name": city}}
        ],
        "external_ids": [
            {"type": kind, "all": list(values), "preferred": values[0]} for kind, values in external
        ],
        "domains": list(domains),
        "relationships": [
            {"id": f"https://ror.org/{other}", "label": label, "type": kind}
            for kind, other, label in relations
        ],
        "status": "active",
        "types": ["facility"],
    }


def world(name, country, *domains):
    return {"name": name, "alpha_two_code": country, "domains": list(domains), "web_pages": []}


def rows(session):
    return session.scalar(select(func.count()).select_from(Institution))


def by_ror(session, ror_id):
    return find_by_identifier(session, "ror", ror_id)


# --- rule 1: evidence is not identity ----------------------------------------------------------


def test_laboratories_sharing_a_domain_and_a_funder_id_stay_distinct(session):
    labs = [
        ror(
            "01aaaaa01",
            "Max Planck Institute for A",
            domains=["mpg.de"],
            external=[("fundref", ["501100004189"])],
        ),
        ror(
            "01aaaaa12",
            "Max Planck Institute for B",
            domains=["mpg.de"],
            external=[("fundref", ["501100004189"])],
        ),
    ]
    first = run(session, "ror", labs)
    assert (first.inserted, first.rejected) == (2, 0) and rows(session) == 2
    assert {by_ror(session, "01aaaaa01").id, by_ror(session, "01aaaaa12").id} == {
        i.id for i in session.scalars(select(Institution))
    }
    again = run(session, "ror", labs)
    assert (again.inserted, again.updated, again.unchanged) == (0, 0, 2) and adds_up(again)


def test_names_differing_in_a_bracketed_qualifier_stay_distinct(session):
    report = run(
        session,
        "institutions-json",
        [world("Augustana College (SD)", "US"), world("Augustana College (IL)", "US")],
    )
    assert report.inserted == 2 and rows(session) == 2


def test_one_name_in_one_country_with_different_domains_is_two_colleges(session):
    colleges = [
        world("Glendale Community College", "US", "gccaz.edu"),
        world("Glendale Community College", "US", "glendale.edu"),
    ]
    assert run(session, "institutions-json", colleges).inserted == 2
    again = run(session, "institutions-json", colleges)
    assert (again.inserted, again.unchanged) == (0, 2) and rows(session) == 2


def test_a_shared_domain_with_another_name_is_another_organisation(session):
    report = run(
        session,
        "institutions-json",
        [
            world("Marmara University", "TR", "marun.edu.tr"),
            world("Mugla University", "TR", "marun.edu.tr"),
        ],
    )
    assert report.inserted == 2 and rows(session) == 2


def test_identifier_collisions_are_rejected_per_record_never_updates(session):
    run(session, "ror", [ror("02bbbbb01", "Alpha Institute", external=[("grid", ["grid.1.1"])])])
    run(session, "ror", [ror("02bbbbb12", "Beta Institute", external=[("grid", ["grid.2.2"])])])
    report = run(
        session,
        "ror",
        [
            # Another ROR id, with the GRID id of Alpha: two ROR ids would share a row.
            ror("02bbbbb23", "Gamma Institute", external=[("grid", ["grid.1.1"])]),
            # Identifiers of two different institutions in one record.
            ror("02bbbbb01", "Alpha Institute", external=[("grid", ["grid.2.2"])]),
        ],
    )
    assert (report.rejected, report.inserted, report.updated) == (2, 0, 0) and adds_up(report)
    first, second = (error.reason for error in report.errors)
    assert "ror:02bbbbb23" in first and "ror:02bbbbb01" in first
    assert "02bbbbb01" in second and "02bbbbb12" in second
    held = Counter(
        session.scalars(
            select(InstitutionIdentifier.institution_id).where(
                InstitutionIdentifier.scheme == "ror"
            )
        )
    )
    assert rows(session) == 2 and max(held.values()) == 1


def test_a_list_entry_without_identifiers_enriches_the_ror_record_of_its_name(session):
    run(session, "ror", [ror("03ccccc01", "Universität Potsdam", domains=["uni-potsdam.de"])])
    report = run(
        session, "institutions-json", [world("Universität Potsdam", "DE", "uni-potsdam.de")]
    )
    assert (report.inserted, report.unchanged) == (0, 1) and rows(session) == 1


# --- rule 2: ROR v1 and v2, a record or a list, relationships -----------------------------------


def ror_v1(ror_id, name, country="AU", *, status="active", relations=()):
    return {
        "id": f"https://ror.org/{ror_id}",
        "name": name,
        "aliases": [f"{name} Alias"],
        "acronyms": ["XYZ"],
        "labels": [{"label": f"{name} (label)", "iso639": "fr"}],
        "country": {"country_name": "Australia", "country_code": country},
        "addresses": [{"city": "Sydney", "geonames_city": {"city": "Sydney"}}],
        "links": ["https://example.org/"],
        "external_ids": {
            "GRID": {"preferred": "grid.502060.1", "all": "grid.502060.1"},
            "ISNI": {"preferred": None, "all": ["0000 0004 0587 9093"]},
            "OrgRef": {"preferred": None, "all": ["123"]},
        },
        "relationships": [
            {"label": label, "type": kind, "id": f"https://ror.org/{other}"}
            for kind, other, label in relations
        ],
        "status": status,
        "types": ["Government"],
    }


def test_ror_schema_v1_records(session):
    report = run(
        session,
        "ror",
        [
            ror_v1("00067tc54", "NSW Department of Planning"),
            ror_v1("0aaaaaa00", "Gone", status="withdrawn"),
        ],
    )
    assert (report.inserted, report.rejected) == (1, 1) and report.errors[
        0
    ].reason == "withdrawn ROR record"
    found = by_ror(session, "00067tc54")
    assert (found.name, found.country, found.city) == ("NSW Department of Planning", "AU", "Sydney")
    assert {(i.scheme, i.value) for i in found.identifiers} == {
        ("ror", "00067tc54"),
        ("grid", "grid.502060.1"),
        ("isni", "0000 0004 0587 9093"),
    }
    assert {(n.kind, n.value) for n in found.names} == {
        ("alias", "NSW Department of Planning Alias"),
        ("alias", "NSW Department of Planning (label)"),
        ("acronym", "XYZ"),
    }


def test_a_file_of_one_ror_record(session):
    report = run(session, "ror", ror("04ddddd01", "Lone Institute"))
    assert (report.read, report.inserted) == (1, 1) and by_ror(session, "04ddddd01")


def test_ror_relationships_resolve_once_both_ends_are_imported(session):
    run(
        session,
        "ror",
        [
            ror_v1(
                "05eeeee12", "Child Office", relations=[("Parent", "05eeeee01", "Parent Ministry")]
            )
        ],
    )
    child = by_ror(session, "05eeeee12")
    assert relationships_of(session, child) == [
        {"type": "parent", "ror": "05eeeee01", "label": "Parent Ministry", "institution_id": None}
    ]
    run(
        session,
        "ror",
        [
            ror(
                "05eeeee01",
                "Parent Ministry",
                "AU",
                relations=[("child", "05eeeee12", "Child Office")],
            )
        ],
    )
    parent = by_ror(session, "05eeeee01")
    assert relationships_of(session, child)[0]["institution_id"] == parent.id
    assert relationships_of(session, parent)[0]["institution_id"] == child.id


# --- rule 3: Kosovo ------------------------------------------------------------------------------


def test_kosovo_is_a_country_everywhere(session, client):
    assert is_country("XK") and alpha_2("XKX") == "XK" and not is_country("XX")
    iso_country("XK")
    with pytest.raises(ValidationError):
        iso_country("XX")
    assert (
        run(
            session, "ror", [ror("06fffff01", "University of Prishtina", "XK", city="Pristina")]
        ).inserted
        == 1
    )
    assert (
        run(session, "institutions-json", [world("ILIRIA College", "XK", "uiliria.org")]).inserted
        == 1
    )
    assert (
        InstitutionRecordSchema().load({"name": "AAB College", "country": "xk"})["country"] == "XK"
    )
    from frameworks.schemas import validate_country
    from mappings.schemas import CredentialInstitutionSchema

    validate_country("XK")
    session.commit()
    answer = client.get("/api/v1/institutions", query_string={"q": "Prishtina", "country": "XK"})
    assert answer.status_code == 200
    issuer = CredentialInstitutionSchema().load(
        {"name": "University of Prishtina", "country": "XK"}
    )
    assert issuer["country"] == "XK"


# --- rule 4: lenient identifiers, clear reasons ---------------------------------------------------


def test_erasmus_codes_as_given_with_a_matching_form():
    assert normalise_identifier("erasmus", "D  BERLIN02") == "D  BERLIN02"
    assert normalise_identifier("erasmus", "D BERLIN02") == "D  BERLIN02"
    assert normalise_identifier("erasmus", "irl dublin01") == "IRLDUBLIN01"
    assert normalise_identifier("erasmus", "IRLDUBLIN01") == "IRLDUBLIN01"
    assert normalise_identifier("erasmus", "UK GLASGOW01") == "UK GLASGOW01"


def test_identifiers_are_stored_as_given_and_matched_in_normal_form(session):
    record = {
        "name": "Freie Universität Berlin",
        "country": "DE",
        "identifiers": [{"scheme": "erasmus", "value": "D BERLIN01"}],
    }
    from registry.institutions.services import create_institution

    created = create_institution(session, OPERATOR, record)
    [stored] = created.identifiers
    assert (stored.given, stored.value) == ("D BERLIN01", "D  BERLIN01")
    assert (
        find_by_identifier(session, "erasmus", normalise_identifier("erasmus", "D  BERLIN01"))
        is created
    )
    odd = InstitutionRecordSchema().load(
        {
            "name": "Odd College",
            "country": "IE",
            "identifiers": [{"scheme": "erasmus", "value": "IRL-SOMETHING"}],
        }
    )
    assert odd["identifiers"][0]["given"] == "IRL-SOMETHING"


def test_only_a_record_without_a_name_or_a_country_is_refused_and_it_says_so(session):
    no_location = ror("07ggggg01", "Somewhere Institute")
    no_location["locations"] = []
    nameless = ror("07ggggg12", "x")
    nameless["names"] = []
    report = run(session, "ror", [no_location, nameless, ror("07ggggg23", "Fine Institute")])
    reasons = [error.reason for error in report.errors]
    assert reasons == ["the file states no country", "the file states no name"]
    listed = run(
        session,
        "institutions-json",
        [world("Blank Country College", ""), world("Bad Domain College", "US", "not a domain")],
    )
    assert [e.reason for e in listed.errors] == [
        "the file states no country"
    ] and listed.inserted == 1


# --- rule 5: the shared universities list -------------------------------------------------------


def test_the_shared_universities_list_gives_every_organisation_its_own_row(session, shared):
    path = shared / "data" / "institutions" / "world_universities_and_domains.json"
    entries = json.loads(path.read_bytes())
    report = run(session, "institutions-json", path.read_bytes())
    assert report.rejected == 0 and adds_up(report)
    distinct = {(e["alpha_two_code"], e["name"], tuple(sorted(e["domains"]))) for e in entries}
    assert rows(session) == len(distinct) == report.inserted
    # No row took a second entry's name, and distinct entries sharing a domain kept their rows.
    named = Counter(session.scalars(select(Institution.name).where(Institution.country == "US")))
    assert named["Augustana College (SD)"] == named["Augustana College (IL)"] == 1
    khio = session.scalars(
        select(Institution.name)
        .join(InstitutionIdentifier)
        .where(InstitutionIdentifier.value == "khio.no")
    ).all()
    assert len(khio) == 2


# --- authorisation on the record really written -------------------------------------------------


def test_an_import_is_authorised_against_the_institution_it_would_write(session):
    run(session, "ror", [ror("08hhhhh01", "University of Glasgow", "GB", city="Glasgow")])
    fi = Actor("fi", "ministry", frozenset({"FI"}))
    claims_fi = ror("08hhhhh01", "University of Glasgow", "FI", city="Helsinki")
    claims_fi["names"].append({"value": "Injected Alias", "types": ["alias"], "lang": "en"})
    report = run(session, "ror", [claims_fi], actor=fi)
    assert report.rejected == 1 and "outside its scope" in report.errors[0].reason
    glasgow = by_ror(session, "08hhhhh01")
    assert glasgow.country == "GB" and not glasgow.names
    # Within one batch: a second record naming what the first created is authorised on it.
    gb = Actor("gb", "ministry", frozenset({"GB"}))
    batch = [ror("08hhhhh12", "Edinburgh Test", "GB"), ror("08hhhhh12", "Edinburgh Test", "FI")]
    mixed = run(session, "ror", batch, actor=gb)
    assert (mixed.inserted, mixed.unchanged, mixed.rejected) == (1, 1, 0)
    assert by_ror(session, "08hhhhh12").country == "GB"


def test_a_status_source_has_a_limit(session):
    record = {"name": "Limit College", "alpha_two_code": "IE", "domains": ["limit.ie"]}
    report = run(
        session, "institutions-json", [record], status="recognised", status_source="x" * 1001
    )
    assert report.rejected == 1 and "status_source" in report.errors[0].reason


# --- what one record may hold (ijson builds each whole) ------------------------------------------


def _read_all(stream):
    from importers.institutions import world_list_records

    return list(world_list_records(stream))


def test_a_huge_json_string_is_refused_before_it_is_held():
    from importers.institutions import MAX_RECORD_BYTES
    from importers.runner import FileError

    good = b'{"name": "U", "alpha_two_code": "IE", "domains": []}, '
    pieces = [b"[", good, b'{"name": "', *(b"x" * (1 << 20) for _ in range(300)), b'"}]']
    stream = Stream(pieces)
    with pytest.raises(FileError) as caught:
        _read_all(stream)
    assert caught.value.position == "record 2"
    assert "longer than" in caught.value.reason
    assert stream.consumed < MAX_RECORD_BYTES + (1 << 20)  # stopped long before 300 MB


def test_a_deep_json_structure_is_refused_before_it_is_built():
    from importers.runner import FileError

    stream = Stream([b"[", b"[" * 1_000_000, b"]" * 1_000_000, b"]"])
    with pytest.raises(FileError) as caught:
        _read_all(stream)
    assert caught.value.position == "record 1"
    assert "more than 3000 arrays and objects" in caught.value.reason
    # A long list of records is no deep structure: each record is counted on its own.
    many = [{"name": f"U{n}", "alpha_two_code": "IE", "domains": [f"u{n}.ie"]} for n in range(5000)]
    assert len(_read_all(io.BytesIO(json.dumps(many).encode()))) == 5000


def test_a_refused_json_file_fails_the_import_naming_the_record(session):
    report = run(session, "institutions-json", b'[{"name": "' + b"x" * (17 << 20) + b'"}]')
    assert report.state == "failed"
    assert report.failure.startswith("record 1: longer than")
