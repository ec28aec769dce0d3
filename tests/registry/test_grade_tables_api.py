"""Issue 18, item 9, over the API: an institution or a ministry sets a conversion table for
GB-HONS; the conversion answers which table it used and what it rests on, or why the default
(each band's lower limit) applied. Allowed, refused (each refusal audited), and bad input."""

import pytest
from sqlalchemy import select

from registry.core import accounts
from registry.core.audit import AuditEvent
from registry.institutions.models import Institution

PROBLEM = "application/problem+json"
ROWS = [("First", "1.0"), ("2:1", "2.0"), ("2:2", "3.0"), ("Third", "4.0"), ("Fail", "5.0")]


@pytest.fixture
def tokens(session):
    tum = Institution(name="Technische Universität München", name_key="tum", country="DE")
    tcd = Institution(name="Trinity College Dublin", name_key="tcd", country="IE")
    session.add_all([tum, tcd])
    session.flush()
    made = {"ids": {"tum": tum.id, "tcd": tcd.id}, "anonymous": {}}
    for key, role, scopes in [
        ("admin", "admin", []),
        ("de", "ministry", ["DE"]),
        ("ie", "ministry", ["IE"]),
        ("tum", "institution", [str(tum.id)]),
        ("tcd", "institution", [str(tcd.id)]),
        ("registrar", "registrar", []),
    ]:
        account = accounts.get_or_create_account(session, f"tables-{key}", role, scopes)
        made[key] = {"Authorization": f"Bearer {accounts.create_token(session, account)[1]}"}
    session.commit()
    return made


def call(client, method, url, headers, json=None, status=200):
    response = client.open(url, method=method, headers=headers, json=json)
    assert response.status_code == status, response.get_data(as_text=True)
    if status >= 400:
        assert response.mimetype == PROBLEM
    return response.get_json()


def body(code, authority, rows=ROWS, **extra):
    return {
        "code": code,
        "from": "GB-HONS",
        "to": "DE-1-5",
        "authority": authority,
        "rows": [{"from": given, "to": onto} for given, onto in rows],
        "citation": "Zulassungsordnung 2025, Anlage 2",
        **extra,
    }


def convert(client, query=""):
    return call(
        client, "GET", f"/api/v1/grades/convert?value=2:1&from=GB-HONS&to=DE-1-5{query}", {}
    )


def test_an_institution_sets_its_table_and_its_conversions_use_it(client, session, tokens):
    tum = {"kind": "institution", "id": tokens["ids"]["tum"]}
    for who, status in [("tcd", 403), ("de", 403), ("registrar", 403), ("anonymous", 401)]:
        call(client, "POST", "/api/v1/grade-tables", tokens[who], body("TUM-HONS", tum), status)
    created = call(
        client, "POST", "/api/v1/grade-tables", tokens["tum"], body("TUM-HONS", tum), 201
    )
    assert created["status"] == "active" and created["authority"] == tum
    assert created["from"] == "GB-HONS" and created["created_by"] == "tables-tum"
    answer = convert(client, f"&institution={tum['id']}")
    assert (answer["value"], answer["method"]) == ("2.0", "table")
    assert answer["table"] == {
        "code": "TUM-HONS",
        "authority": tum,
        "citation": "Zulassungsordnung 2025, Anlage 2",
    }
    assert answer["basis"] == (
        f"conversion table TUM-HONS of institution {tum['id']}, for its own conversions"
        " (Zulassungsordnung 2025, Anlage 2)"
    )
    default = convert(client)
    assert default["value"] == "3.0" and default["table"] is None
    assert default["basis"].startswith(
        "default, as no conversion table was asked for (give an institution, a country or a"
        " table; 1 is set for GB-HONS -> DE-1-5): GB-HONS 2:1 read at the lower limit of its"
        " band on GB-PCT (60)"
    )
    assert call(client, "GET", "/api/v1/grade-tables/TUM-HONS", {})["rows"][1] == {
        "from": "2:1",
        "to": "2.0",
    }
    listed = call(client, "GET", "/api/v1/grade-tables?from=GB-HONS&to=DE-1-5", {})
    assert [t["code"] for t in listed] == ["TUM-HONS"]
    assert call(client, "GET", "/api/v1/grade-tables?to=FR-0-20", {}) == []
    call(client, "GET", "/api/v1/grade-tables/NOPE", {}, status=404)
    # The refusals and the write are in the trail, which the table's authority may read.
    events = session.scalars(
        select(AuditEvent).where(AuditEvent.action == "grade_table.create").order_by(AuditEvent.id)
    ).all()
    assert [(e.outcome, e.actor) for e in events] == [
        ("refused", "tables-tcd"),
        ("refused", "tables-de"),
        ("refused", "tables-registrar"),
        ("refused", "anonymous"),
        ("allowed", "tables-tum"),
    ]
    trail = call(client, "GET", "/api/v1/audit?entity=grade_table:TUM-HONS", tokens["tum"])
    assert [(e["outcome"], e["actor"]) for e in trail] == [
        ("allowed", "tables-tum"),
        ("refused", "tables-de"),
        ("refused", "tables-tcd"),
    ]
    call(client, "GET", "/api/v1/audit?entity=grade_table:TUM-HONS", tokens["tcd"], status=403)


def test_a_ministry_sets_one_for_its_country_and_withdraws_it(client, session, tokens):
    germany = {"kind": "ministry", "country": "DE"}
    rows = [("First", "1.3"), ("2:1", "2.3"), ("2:2", "3.3"), ("Third", "4.0"), ("Fail", "5.0")]
    call(client, "POST", "/api/v1/grade-tables", tokens["ie"], body("KMK", germany, rows), 403)
    call(client, "POST", "/api/v1/grade-tables", tokens["de"], body("KMK", germany, rows), 201)
    assert convert(client, "&country=DE")["value"] == "2.3"
    assert convert(client, "&country=IE")["basis"].startswith(
        "default, as the ministry of IE has set no conversion table for GB-HONS -> DE-1-5: "
    )
    url = "/api/v1/grade-tables/KMK/withdraw"
    reason = {"reason": "Superseded by the Länder agreement."}
    for who, status in [("ie", 403), ("tum", 403), ("registrar", 403), ("anonymous", 401)]:
        call(client, "POST", url, tokens[who], reason, status)
    call(client, "POST", url, tokens["de"], {}, status=400)
    withdrawn = call(client, "POST", url, tokens["de"], reason)
    assert withdrawn["status"] == "withdrawn" and withdrawn["withdrawn_reason"] == reason["reason"]
    call(client, "POST", url, tokens["de"], reason, status=409)
    call(client, "POST", "/api/v1/grade-tables/NOPE/withdraw", tokens["admin"], reason, 404)
    assert convert(client, "&country=DE")["value"] == "3.0"
    problem = call(
        client,
        "GET",
        "/api/v1/grades/convert?value=2:1&from=GB-HONS&to=DE-1-5&table=KMK",
        {},
        status=400,
    )
    assert "table" in problem["errors"]


def test_bad_tables_and_queries_answer_400_naming_the_field(client, tokens):
    tum = {"kind": "institution", "id": tokens["ids"]["tum"]}
    for change, field in [
        ({"from": "IT-30"}, "from"),
        ({"rows": [{"from": "First", "to": "1.0"}]}, "rows"),
        ({"authority": {"kind": "institution"}}, "authority"),
        ({"unknown": True}, "unknown"),
    ]:
        answer = call(
            client, "POST", "/api/v1/grade-tables", tokens["tum"], {**body("X", tum), **change}, 400
        )
        assert field in answer["errors"], answer
    call(client, "POST", "/api/v1/grade-tables", tokens["tum"], body("X", tum), 201)
    conflict = call(client, "POST", "/api/v1/grade-tables", tokens["tum"], body("Y", tum), 409)
    assert "replaces" in conflict["detail"]
    for query, field in [
        ("&institution=0", "institution"),
        ("&institution=999999", "institution"),
        ("&institution=x", "institution"),
        ("&country=XX", "country"),
    ]:
        url = f"/api/v1/grades/convert?value=2:1&from=GB-HONS&to=DE-1-5{query}"
        assert field in call(client, "GET", url, {}, status=400)["errors"]
