"""Institutions: list and ROR imports (idempotent, nothing lost), look-ups and edits over the API."""

import io
import json

import pytest
from sqlalchemy import func, select

from importers.institutions import import_institutions
from registry.core import accounts
from registry.core.audit import AuditEvent
from registry.core.permissions import OPERATOR, Actor
from registry.institutions.models import Institution, InstitutionIdentifier

PROBLEM = "application/problem+json"


def ror_record(
    ror_id,
    display,
    country,
    city,
    *,
    domains=(),
    labels=(),
    acronyms=(),
    status="active",
    grid=None,
):
    names = [{"value": display, "types": ["ror_display", "label"], "lang": "en"}]
    names += [{"value": value, "types": ["label"], "lang": lang} for value, lang in labels]
    names += [{"value": value, "types": ["acronym"], "lang": None} for value in acronyms]
    return {
        "id": f"https://ror.org/{ror_id}",
        "names": names,
        "locations": [
            {"geonames_id": 1, "geonames_details": {"country_code": country, "name": city}}
        ],
        "external_ids": [{"type": "grid", "all": [grid], "preferred": grid}] if grid else [],
        "domains": list(domains),
        "status": status,
        "types": ["education"],
    }


ROR_DUMP = [
    ror_record(
        "040af2s02",
        "University of Helsinki",
        "FI",
        "Helsinki",
        domains=["helsinki.fi"],
        labels=[("Helsingin yliopisto", "fi"), ("Helsingfors universitet", "sv")],
        acronyms=["UH"],
        grid="grid.7737.4",
    ),
    ror_record(
        "00vtgdb53",
        "University of Glasgow",
        "GB",
        "Glasgow",
        domains=["gla.ac.uk"],
        labels=[("Oilthigh Ghlaschu", "gd")],
    ),
    ror_record(
        "02kkvpp62",
        "Technical University of Munich",
        "DE",
        "Munich",
        domains=["tum.de"],
        labels=[("Technische Universität München", "de")],
        acronyms=["TUM"],
    ),
    ror_record("0aaaaaa00", "Withdrawn Duplicate", "FI", "Espoo", status="withdrawn"),
]


def stream(data) -> io.BytesIO:
    return io.BytesIO(json.dumps(data).encode())


def run(session, fmt, data, actor=OPERATOR, **options):
    raw = data if isinstance(data, bytes) else json.dumps(data).encode()
    return import_institutions(lambda: session, actor, fmt, io.BytesIO(raw), "test.json", **options)


def adds_up(report):
    return report.read == report.inserted + report.updated + report.unchanged + report.rejected


def test_ror_import_and_reimport(session):
    first = run(session, "ror", ROR_DUMP)
    assert (first.read, first.inserted, first.rejected, first.state) == (4, 3, 1, "completed")
    assert first.errors[0].position == "record 4" and "withdrawn" in first.errors[0].reason
    helsinki = session.scalar(
        select(Institution)
        .join(InstitutionIdentifier)
        .where(InstitutionIdentifier.scheme == "ror", InstitutionIdentifier.value == "040af2s02")
    )
    assert helsinki.name == "University of Helsinki" and helsinki.city == "Helsinki"
    assert {(n.kind, n.value, n.lang) for n in helsinki.names} >= {
        ("alias", "Helsingin yliopisto", "fi"),
        ("acronym", "UH", None),
    }
    assert {(i.scheme, i.value) for i in helsinki.identifiers} == {
        ("ror", "040af2s02"),
        ("grid", "grid.7737.4"),
        ("domain", "helsinki.fi"),
    }
    assert helsinki.status == "unknown"
    again = run(session, "ror", ROR_DUMP)
    assert (again.inserted, again.updated, again.unchanged, again.rejected) == (0, 0, 3, 1)
    assert adds_up(first) and adds_up(again)


def test_world_list_then_ror_enriches_instead_of_duplicating(session):
    world = [
        {
            "name": "University of Helsinki",
            "alpha_two_code": "FI",
            "country": "Finland",
            "domains": ["helsinki.fi"],
            "web_pages": ["https://www.helsinki.fi/"],
            "state-province": None,
        }
    ]
    assert run(session, "institutions-json", world).inserted == 1
    report = run(session, "ror", ROR_DUMP[:1])
    assert (report.inserted, report.updated) == (0, 1)
    count = session.scalar(
        select(func.count()).select_from(Institution).where(Institution.country == "FI")
    )
    assert count == 1


def test_malformed_records_are_reported_and_the_rest_imported(session):
    records = [
        {"name": "Université de Lille", "alpha_two_code": "FR", "domains": ["univ-lille.fr"]},
        {"alpha_two_code": "FR", "domains": []},
        {"name": "Nowhere University", "alpha_two_code": "XX", "domains": []},
        {"name": "Bad Domain College", "alpha_two_code": "US", "domains": ["not a domain"]},
        "not an object",
        {"name": "Control\x07Char", "alpha_two_code": "US", "domains": []},
        {"name": "Universität Wien", "alpha_two_code": "AT", "domains": ["univie.ac.at"]},
    ]
    report = run(session, "institutions-json", records)
    # A malformed domain is no reason to lose the institution: it is kept as given.
    assert (report.read, report.inserted, report.rejected) == (7, 3, 4) and adds_up(report)
    reasons = {error.position: error.reason for error in report.errors}
    assert reasons["record 2"] == "the file states no name" and "country" in reasons["record 3"]
    assert "record 4" not in reasons and "record 5" in reasons
    assert "Control" in reasons["record 6"] or "name" in reasons["record 6"]


def test_truncated_file_keeps_what_was_read(session):
    good = json.dumps([{"name": "Universität Wien", "alpha_two_code": "AT", "domains": []}])
    report = run(session, "institutions-json", (good[:-1] + ', {"name": "Cut').encode())
    assert report.state == "failed" and "JSON" in report.failure
    assert report.inserted == 1 and adds_up(report)


def test_atomic_import_is_all_or_nothing(session):
    records = [
        {"name": "Universität Wien", "alpha_two_code": "AT", "domains": []},
        {"name": "Nowhere", "alpha_two_code": "XX", "domains": []},
    ]
    report = run(session, "institutions-json", records, atomic=True)
    assert report.state == "rolled_back" and report.rejected == 2 and adds_up(report)
    assert session.scalar(select(func.count()).select_from(Institution)) == 0


def test_status_from_the_list(session):
    records = [{"name": "Universität Wien", "alpha_two_code": "AT", "domains": []}]
    report = run(
        session,
        "institutions-json",
        records,
        status="recognised",
        status_source="Test ministry list, 2026",
    )
    assert report.inserted == 1
    vienna = session.scalar(select(Institution))
    assert (vienna.status, vienna.status_source) == ("recognised", "Test ministry list, 2026")


def test_a_ministry_imports_only_its_own_country(session):
    fi = Actor("fi", "ministry", frozenset({"FI"}))
    report = run(session, "ror", ROR_DUMP[:3], actor=fi)
    assert (report.inserted, report.rejected) == (1, 2)
    assert all("outside its scope" in error.reason for error in report.errors)
    with pytest.raises(Exception, match="registrar role may not"):
        run(session, "ror", ROR_DUMP, actor=Actor("r", "registrar"))


def test_every_import_is_audited(session):
    before = session.scalar(select(func.count()).select_from(AuditEvent))
    run(session, "ror", ROR_DUMP)
    event = session.scalars(select(AuditEvent).order_by(AuditEvent.id.desc())).first()
    assert session.scalar(select(func.count()).select_from(AuditEvent)) == before + 1
    assert event.action == "import.ror" and event.after["inserted"] == 3


def test_shared_world_list_imports_whole_and_again_unchanged(session, shared):
    path = shared / "data" / "institutions" / "world_universities_and_domains.json"
    data = path.read_bytes()
    first = run(session, "institutions-json", data)
    assert first.read == 10_251 and adds_up(first) and first.state == "completed"
    assert first.inserted > 9_900
    second = run(session, "institutions-json", data)
    assert second.inserted == 0 and second.updated == 0 and adds_up(second)


# --- API --------------------------------------------------------------------------------------


@pytest.fixture
def loaded(session):
    run(session, "ror", ROR_DUMP)
    session.commit()
    return {inst.name: inst.id for inst in session.scalars(select(Institution))}


def search(client, status=200, **params):
    response = client.get("/api/v1/institutions", query_string=params)
    assert response.status_code == status, response.get_data(as_text=True)
    return response.get_json()


@pytest.mark.parametrize(
    "query, country, expected, matched_on",
    [
        ("Univ. of Helsinki", None, "University of Helsinki", "name"),
        ("Helsingin yliopisto", "FI", "University of Helsinki", "alias"),
        ("UNIVERSITY  OF HELSINKI (FINLAND)", None, "University of Helsinki", "name"),
        ("Technische Universitat Munchen", "DE", "Technical University of Munich", "alias"),
        ("https://ror.org/00vtgdb53", None, "University of Glasgow", "identifier"),
        ("cs.helsinki.fi", None, "University of Helsinki", "domain"),
    ],
)
def test_search_finds_the_institution(client, loaded, query, country, expected, matched_on):
    params = {"q": query, **({"country": country} if country else {})}
    body = search(client, **params)
    assert body["query"] == query and body["verdict"] == "matched"
    best = body["candidates"][0]
    assert best["name"] == expected and best["id"] == loaded[expected]
    assert best["matched_on"] == matched_on and 0 <= best["score"] <= 100
    assert set(best) == {"id", "name", "country", "score", "matched_on"}


def test_search_refuses_to_guess(client, loaded):
    assert search(client, q="Zxqv Polytechnic of Nowhere")["verdict"] == "no_match"


@pytest.mark.parametrize(
    "params, field",
    [
        ({"q": ""}, "q"),
        ({"q": "   "}, "q"),
        ({"q": "x" * 10_000}, "q"),
        ({"q": "Univ\x00ersity"}, "q"),
        ({"q": "Helsinki", "country": "ZZ"}, "country"),
        ({"q": "Helsinki", "country": "Finland"}, "country"),
        ({}, "q"),
        ({"q": "Helsinki", "limit": 0}, "limit"),
    ],
)
def test_search_bad_input(client, loaded, params, field):
    response = client.get("/api/v1/institutions", query_string=params)
    assert response.status_code == 400 and response.mimetype == PROBLEM
    assert field in response.get_json()["errors"]


def test_get_institution(client, loaded):
    body = client.get(f"/api/v1/institutions/{loaded['University of Glasgow']}").get_json()
    assert (
        body["country"] == "GB" and {"scheme": "ror", "value": "00vtgdb53"} in body["identifiers"]
    )
    assert client.get("/api/v1/institutions/999999").status_code == 404


@pytest.fixture
def headers(session, loaded):
    made = {}
    for key, role, scopes in [
        ("admin", "admin", []),
        ("gb", "ministry", ["GB"]),
        ("fi", "ministry", ["FI"]),
        ("glasgow", "institution", [str(loaded["University of Glasgow"])]),
    ]:
        account = accounts.get_or_create_account(session, f"inst-{key}", role, scopes)
        made[key] = {"Authorization": f"Bearer {accounts.create_token(session, account)[1]}"}
    session.commit()
    return made


def test_status_is_set_by_the_countrys_ministry(client, loaded, headers, session):
    url = f"/api/v1/institutions/{loaded['University of Glasgow']}/status"
    body = {"status": "recognised", "status_source": "Test list of recognised bodies, 2026"}
    assert client.put(url, json=body, headers=headers["fi"]).status_code == 403
    assert client.put(url, json=body).status_code == 401
    assert client.put(url, json={"status": "maybe"}, headers=headers["gb"]).status_code == 400
    answer = client.put(url, json=body, headers=headers["gb"]).get_json()
    assert answer["status"] == "recognised" and answer["status_date"]
    actions = session.scalars(
        select(AuditEvent.outcome)
        .where(AuditEvent.action == "institution.status")
        .order_by(AuditEvent.id)
    ).all()
    assert actions == ["refused", "refused", "allowed"]


def test_an_institution_edits_only_itself(client, loaded, headers, session):
    glasgow = loaded["University of Glasgow"]
    add = {
        "names": [{"value": "Glasgow University", "kind": "alias", "lang": "en"}],
        "identifiers": [{"scheme": "domain", "value": "glasgow.example"}],
    }
    edited = client.patch(f"/api/v1/institutions/{glasgow}", json=add, headers=headers["glasgow"])
    assert edited.status_code == 200
    assert {"scheme": "domain", "value": "glasgow.example"} in edited.get_json()["identifiers"]
    # An Erasmus code (or a PIC, a SCHAC...) makes the matched issuer: not its own to claim.
    erasmus = {"identifiers": [{"scheme": "erasmus", "value": "UK GLASGOW01"}]}
    claimed = client.patch(
        f"/api/v1/institutions/{glasgow}", json=erasmus, headers=headers["glasgow"]
    )
    assert claimed.status_code == 403 and "ministry of GB" in claimed.get_json()["detail"]
    assert (
        client.patch(
            f"/api/v1/institutions/{glasgow}", json=erasmus, headers=headers["admin"]
        ).status_code
        == 200
    )
    other = loaded["University of Helsinki"]
    assert (
        client.patch(
            f"/api/v1/institutions/{other}", json=add, headers=headers["glasgow"]
        ).status_code
        == 403
    )
    clash = {"identifiers": [{"scheme": "domain", "value": "helsinki.fi"}]}
    assert (
        client.patch(
            f"/api/v1/institutions/{glasgow}", json=clash, headers=headers["glasgow"]
        ).status_code
        == 409
    )
    # Another university's name as an alias: a conflict for an admin or the ministry.
    squat = {"names": [{"value": "University of Helsinki", "kind": "alias", "lang": "en"}]}
    refused = client.patch(
        f"/api/v1/institutions/{glasgow}", json=squat, headers=headers["glasgow"]
    )
    assert refused.status_code == 409 and refused.get_json()["existing"]["id"] == other
    assert "the ministry of FI" in refused.get_json()["detail"]
    # The new alias and the Erasmus code are found at once.
    assert search(client, q="UK GLASGOW01")["candidates"][0]["id"] == glasgow
    assert search(client, q="Glasgow University", country="GB")["candidates"][0]["id"] == glasgow


def test_create_institution(client, headers, session):
    record = {"name": "Hochschule Test", "country": "DE", "domains": ["hs-test.de"]}
    assert (
        client.post("/api/v1/institutions", json=record, headers=headers["fi"]).status_code == 403
    )
    created = client.post("/api/v1/institutions", json=record, headers=headers["admin"])
    assert created.status_code == 201 and created.get_json()["status"] == "unknown"
    again = client.post("/api/v1/institutions", json=record, headers=headers["admin"])
    assert again.status_code == 409 and again.get_json()["existing"]["name"] == "Hochschule Test"
