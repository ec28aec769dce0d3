"""The review queue of ambiguous institution matches (issue 19, item 5), over the API and the
command line: what is queued and how often, who reads and decides, what a decision does (a
confirmed spelling matches outright next time, a rejected one is not asked again), the audit
trail, and that queueing never fails or floods the work that meets a spelling."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest
from click.testing import CliRunner
from openapi_schema_validator import OAS30Validator
from sqlalchemy import event, func, select
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from importers.batch import assess_records
from registry.catalogue.schemas import QualificationRecordSchema
from registry.catalogue.services import upsert_qualifications
from registry.cli import main
from registry.core import accounts
from registry.core.audit import AuditEvent
from registry.core.db import make_engine
from registry.core.permissions import Actor
from registry.institutions.models import Institution
from registry.institutions.schemas import InstitutionRecordSchema
from registry.institutions.services import upsert_many
from registry.match_reviews import services
from registry.match_reviews.models import MatchReview

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "credential.json"
PROBLEM = "application/problem+json"
# A misspelling puts Edinburgh Napier University first, 0.5 points ahead: ambiguous (see
# tests/mappings/test_matching.py), until the spelling is confirmed as an alias.
SPELLING = "Edinburgh Universty"
INSTITUTIONS = {
    "edinburgh": ("University of Edinburgh", "GB"),
    "napier": ("Edinburgh Napier University", "GB"),
    "glasgow": ("University of Glasgow", "GB"),
    "caledonian": ("Glasgow Caledonian University", "GB"),
    "sorbonne": ("Sorbonne Université", "FR"),
}


def add_institutions(session, names: dict[str, tuple[str, str]]) -> dict[str, int]:
    records = [
        InstitutionRecordSchema().load({"name": name, "country": country})
        for name, country in names.values()
    ]
    outcomes = upsert_many(session, records)
    return {key: outcome.institution.id for key, outcome in zip(names, outcomes, strict=True)}


@pytest.fixture
def queue(session):
    """Five institutions, and one bearer header per kind of caller."""
    made = add_institutions(session, INSTITUTIONS)
    specs = {
        "admin": ("admin", []),
        "ministry-gb": ("ministry", ["GB"]),
        "ministry-fr": ("ministry", ["FR"]),
        "registrar": ("registrar", []),
        "registrar-2": ("registrar", []),
        "institution": ("institution", [str(made["edinburgh"])]),
    }
    headers = {"anonymous": {}}
    for key, (role, scopes) in specs.items():
        account = accounts.get_or_create_account(session, f"review-{key}", role, scopes)
        headers[key] = {"Authorization": f"Bearer {accounts.create_token(session, account)[1]}"}
    session.commit()
    return {**made, "headers": headers}


def credential(name: str = SPELLING, country: str = "GB") -> dict:
    body = json.loads(EXAMPLE.read_text())
    body["institution"] = {"name": name, "country": country}
    return body


def assess(client, queue, who="registrar", name=SPELLING):
    response = client.post(
        "/api/v1/assessments?target=DE", json=credential(name), headers=queue["headers"][who]
    )
    assert response.status_code == 201, response.get_data(as_text=True)
    return response.get_json()


def call(client, queue, who, method, url, body=None, status=200):
    response = client.open(url, method=method, json=body, headers=queue["headers"][who])
    assert response.status_code == status, response.get_data(as_text=True)
    if status >= 400:
        assert response.mimetype == PROBLEM
    return response.get_json()


def entries(client, queue, who="admin", query=""):
    return call(client, queue, who, "GET", f"/api/v1/match-reviews{query}")


def events(session, entity):
    return [
        (e.action, e.outcome, e.actor)
        for e in session.scalars(
            select(AuditEvent).where(AuditEvent.entity == entity).order_by(AuditEvent.id)
        )
    ]


def test_the_same_spelling_is_one_entry_with_a_count_and_where_it_was_met(client, session, queue):
    first = assess(client, queue)
    assert first["source"]["institution"]["verdict"] == "ambiguous"
    assert first["decision"] == "needs_review"
    # Spelt otherwise but the same once normalised (case, spaces): the same entry.
    second = assess(client, queue, name="EDINBURGH  universty")
    third = assess(client, queue, "registrar-2")
    assess(client, queue, name="Glasgow Universty")

    listed = entries(client, queue)
    assert [(e["query"], e["country"], e["times"]) for e in listed] == [
        (SPELLING, "GB", 3),
        ("Glasgow Universty", "GB", 1),
    ]
    entry = listed[0]
    assert entry["state"] == "open" and entry["decided_by"] is None
    # The candidates as the assessments were offered them, best first.
    offered = first["source"]["institution"]["candidates"]
    assert entry["candidates"] == offered
    assert [c["id"] for c in offered] == [queue["napier"], queue["edinburgh"]]
    # An admin reads every assessment: all three places, latest first.
    assert [(p["place"], p["id"]) for p in entry["seen_in"]] == [
        ("assessment", third["id"]),
        ("assessment", second["id"]),
        ("assessment", first["id"]),
    ]
    assert call(client, queue, "admin", "GET", f"/api/v1/match-reviews/{entry['id']}") == entry
    # Matched or not found at all, a spelling is not queued.
    assess(client, queue, name="University of Edinburgh")
    assess(client, queue, name="Qwzx Plorb Academy")
    assert len(entries(client, queue)) == 2


def test_a_ministry_sees_the_spelling_not_other_offices_assessments(client, session, queue):
    """A ministry decides its country's entries: it sees the spelling, the candidates and how
    often it was met, and of the places only the assessments it may read itself."""
    theirs = assess(client, queue, "registrar")
    own = assess(client, queue, "ministry-gb")
    entry = entries(client, queue, "ministry-gb")[0]
    assert (entry["query"], entry["times"]) == (SPELLING, 2)
    assert [(p["place"], p["id"]) for p in entry["seen_in"]] == [("assessment", own["id"])]
    detail = call(client, queue, "ministry-gb", "GET", f"/api/v1/match-reviews/{entry['id']}")
    assert [p["id"] for p in detail["seen_in"]] == [own["id"]]
    # And indeed the registrar's assessment is not one it may read.
    call(client, queue, "ministry-gb", "GET", f"/api/v1/assessments/{theirs['id']}", status=404)
    assert entries(client, queue, "ministry-gb", "?country=gb") == [entry]


def test_who_may_read_and_decide(client, session, queue):
    assess(client, queue)
    review_id = entries(client, queue)[0]["id"]
    url = f"/api/v1/match-reviews/{review_id}"
    confirmation = {"institution_id": queue["edinburgh"]}
    # Another country's ministry: not its entries.
    assert entries(client, queue, "ministry-fr") == []
    call(client, queue, "ministry-fr", "GET", "/api/v1/match-reviews?country=GB", status=403)
    call(client, queue, "ministry-fr", "GET", url, status=403)
    call(client, queue, "ministry-fr", "POST", f"{url}/confirm", confirmation, status=403)
    call(client, queue, "ministry-fr", "POST", f"{url}/reject", {"reason": "x"}, status=403)
    # Registrars and institutions, the institution in question included, neither read nor decide.
    for who in ("registrar", "institution"):
        call(client, queue, who, "GET", "/api/v1/match-reviews", status=403)
        call(client, queue, who, "GET", url, status=403)
        call(client, queue, who, "POST", f"{url}/confirm", confirmation, status=403)
        call(client, queue, who, "POST", f"{url}/reject", {"reason": "x"}, status=403)
    call(client, queue, "anonymous", "GET", "/api/v1/match-reviews", status=401)
    call(client, queue, "anonymous", "POST", f"{url}/confirm", confirmation, status=401)
    assert session.get(MatchReview, review_id).state == "open"
    # Each refusal is in the trail: a wrong role at the door, a wrong country on the entry.
    assert ("match_review.confirm", "refused", "review-ministry-fr") in events(
        session, f"match_review:{review_id}"
    )
    assert events(session, f"api:{url}/reject")[:2] == [
        ("match_review.reject", "refused", "review-registrar"),
        ("match_review.reject", "refused", "review-institution"),
    ]
    # The country's ministry decides.
    decided = call(client, queue, "ministry-gb", "POST", f"{url}/confirm", confirmation)
    assert decided["state"] == "confirmed"


def test_a_confirmed_spelling_becomes_an_alias_and_matches_outright(client, session, queue):
    assess(client, queue)
    entry = entries(client, queue)[0]
    decided = call(
        client,
        queue,
        "ministry-gb",
        "POST",
        f"/api/v1/match-reviews/{entry['id']}/confirm",
        {"institution_id": queue["edinburgh"], "reason": "The University's own usage."},
    )
    assert {k: decided[k] for k in ("state", "institution_id", "alias_added", "reason")} == {
        "state": "confirmed",
        "institution_id": queue["edinburgh"],
        "alias_added": True,
        "reason": "The University's own usage.",
    }
    assert decided["decided_by"] == "review-ministry-gb" and decided["decided_at"]
    institution = call(client, queue, "admin", "GET", f"/api/v1/institutions/{queue['edinburgh']}")
    assert {"value": SPELLING, "lang": None, "kind": "alias"} in institution["names"]

    # The next credential spelt so matches the university outright, on its new alias.
    again = assess(client, queue, "registrar-2")
    source = again["source"]["institution"]
    assert (source["verdict"], source["id"], source["matched_on"]) == (
        "matched",
        queue["edinburgh"],
        "alias",
    )
    search = client.get("/api/v1/institutions?q=Edinburgh%20Universty&country=GB").get_json()
    assert search["verdict"] == "matched"
    # Nothing new is queued, and the decision stands as it was taken.
    assert entries(client, queue) == []
    kept = entries(client, queue, query="?state=confirmed")
    assert [(e["id"], e["times"]) for e in kept] == [(entry["id"], 1)]

    # Audited: the decision, and the alias on the institution's own trail (which its ministry
    # and the institution read).
    decision = session.scalars(
        select(AuditEvent).where(AuditEvent.entity == f"match_review:{entry['id']}")
    ).one()
    assert (decision.action, decision.outcome) == ("match_review.confirm", "allowed")
    assert (decision.before["state"], decision.after["state"]) == ("open", "confirmed")
    assert decision.after["institution_id"] == queue["edinburgh"]
    trail = call(
        client,
        queue,
        "institution",
        "GET",
        f"/api/v1/audit?entity=institution:{queue['edinburgh']}",
    )
    alias = next(e for e in trail if e["action"] == "institution.alias")
    assert f"alias:{SPELLING}" in alias["after"]["names"]
    assert f"alias:{SPELLING}" not in alias["before"]["names"]
    assert f"match review {entry['id']}" in alias["detail"]


def test_a_decision_is_taken_once_and_validated(client, session, queue):
    assess(client, queue)
    url = f"/api/v1/match-reviews/{entries(client, queue)[0]['id']}"
    for body, field in (
        ({}, "institution_id"),
        ({"institution_id": "1"}, "institution_id"),
        ({"institution_id": 2**31}, "institution_id"),
        ({"institution_id": queue["edinburgh"], "extra": 1}, "extra"),
        ({"institution_id": queue["sorbonne"]}, "institution_id"),  # of France
        ({"institution_id": queue["edinburgh"], "reason": "\x00"}, "reason"),
    ):
        problem = call(client, queue, "admin", "POST", f"{url}/confirm", body, status=400)
        assert field in problem["errors"], problem
    problem = call(client, queue, "admin", "POST", f"{url}/reject", {}, status=400)
    assert "reason" in problem["errors"]
    call(client, queue, "admin", "POST", f"{url}/reject", {"reason": ""}, status=400)
    call(client, queue, "admin", "POST", "/api/v1/match-reviews/999999/reject", {}, status=404)
    call(client, queue, "admin", "GET", "/api/v1/match-reviews/999999", status=404)
    for query in ("?state=closed", "?country=XX", "?limit=0", "?limit=501", "?offset=-1"):
        call(client, queue, "admin", "GET", f"/api/v1/match-reviews{query}", status=400)

    call(client, queue, "admin", "POST", f"{url}/reject", {"reason": "Not a university name."})
    conflict = call(
        client,
        queue,
        "admin",
        "POST",
        f"{url}/confirm",
        {"institution_id": queue["edinburgh"]},
        status=409,
    )
    assert "rejected already" in conflict["detail"]
    call(client, queue, "admin", "POST", f"{url}/reject", {"reason": "again"}, status=409)


def test_a_spelling_another_institution_holds_is_not_confirmed(client, session, queue):
    """Confirmed for one institution while another of the country has it as a name, the
    spelling would stay ambiguous: the names are to be settled first."""
    assess(client, queue)
    entry = entries(client, queue)[0]
    napier = session.get(Institution, queue["napier"])
    call(
        client,
        queue,
        "admin",
        "PATCH",
        f"/api/v1/institutions/{napier.id}",
        {"names": [{"value": "Edinburgh  universty", "kind": "former"}]},
    )
    conflict = call(
        client,
        queue,
        "ministry-gb",
        "POST",
        f"/api/v1/match-reviews/{entry['id']}/confirm",
        {"institution_id": queue["edinburgh"]},
        status=409,
    )
    assert conflict["existing"] == {"id": napier.id, "name": napier.name}
    # For the institution that holds it already, nothing is added and the entry is decided.
    decided = call(
        client,
        queue,
        "ministry-gb",
        "POST",
        f"/api/v1/match-reviews/{entry['id']}/confirm",
        {"institution_id": napier.id},
    )
    assert (decided["state"], decided["alias_added"]) == ("confirmed", False)
    assert [a for a, *_ in events(session, f"institution:{napier.id}")] == ["institution.edit"]


def test_a_rejected_spelling_is_not_asked_again_for_the_same_candidates(client, session, queue):
    assess(client, queue)
    entry = entries(client, queue)[0]
    rejected = call(
        client,
        queue,
        "ministry-gb",
        "POST",
        f"/api/v1/match-reviews/{entry['id']}/reject",
        {"reason": "The credential is from Edinburgh Theological Seminary, not listed here."},
    )
    assert (rejected["state"], rejected["decided_by"]) == ("rejected", "review-ministry-gb")
    assert events(session, f"match_review:{entry['id']}") == [
        ("match_review.reject", "allowed", "review-ministry-gb")
    ]
    # The entry's trail is its country's ministry's to read, as the queue is.
    trail_url = f"/api/v1/audit?entity=match_review:{entry['id']}"
    trail = call(client, queue, "ministry-gb", "GET", trail_url)
    assert [(e["action"], e["before"]["state"], e["after"]["state"]) for e in trail] == [
        ("match_review.reject", "open", "rejected")
    ]
    assert trail[0]["after"]["reason"] == rejected["reason"]
    call(client, queue, "ministry-fr", "GET", trail_url, status=403)

    # Met again with the same candidates: counted on the decision, not queued.
    later = assess(client, queue, "registrar-2")
    assert entries(client, queue) == []
    kept = entries(client, queue, query="?state=rejected")[0]
    assert (kept["id"], kept["times"], kept["reason"]) == (entry["id"], 2, rejected["reason"])
    assert kept["seen_in"][0] == {
        "place": "assessment",
        "id": later["id"],
        "at": kept["seen_in"][0]["at"],
    }

    # A new institution among the candidates is a new question: queued anew.
    new = add_institutions(session, {"city": ("Edinburgh City University", "GB")})
    assess(client, queue)
    reopened = entries(client, queue)
    assert [(e["query"], e["times"]) for e in reopened] == [(SPELLING, 1)]
    assert new["city"] in {c["id"] for c in reopened[0]["candidates"]}
    assert reopened[0]["id"] != entry["id"]
    assert entries(client, queue, query="?state=rejected")[0]["times"] == 2


def test_pathway_evaluations_queue_their_issuer(client, session, queue):
    """A learner's credential from an issuer the matcher cannot choose: the evaluation answers
    with the candidates, and the spelling is queued, seen in that evaluation."""
    (programme,) = upsert_qualifications(
        session,
        [
            QualificationRecordSchema().load(
                {
                    "institution_id": queue["edinburgh"],
                    "code": "MSC-DS",
                    "title": "MSc Data Science",
                    "credits": "180",
                    "credit_system": "GB-SCQF-CP",
                    "qualification_type": "master",
                    "level": "GB-SCQF:11",
                }
            )
        ],
    )
    session.commit()
    evaluation = call(
        client,
        queue,
        "institution",
        "POST",
        "/api/v1/pathway-evaluations",
        {
            "programme": programme.item.id,
            "credentials": [
                {
                    "title": "Statistics",
                    "awarded_on": "2024-06-30",
                    "institution": {"name": SPELLING, "country": "GB"},
                }
            ],
            "on": "2024-09-01",
        },
        status=201,
    )
    [held] = evaluation["credentials"]
    assert held["issuer"]["verdict"] == "ambiguous" and held["issuer"]["candidates"]
    entry = entries(client, queue)[0]
    assert (entry["query"], entry["times"]) == (SPELLING, 1)
    assert entry["seen_in"][0] == {
        "place": "pathway_evaluation",
        "id": evaluation["id"],
        "at": entry["seen_in"][0]["at"],
    }
    # The institution's evaluation is its own: its country's ministry sees the entry only.
    assert entries(client, queue, "ministry-gb")[0]["seen_in"] == []


def test_transfer_evaluations_queue_their_issuer(client, session, queue):
    transcript = {
        "issuer": {"name": SPELLING, "country": "GB", "identifiers": {}},
        "learner": {"given_names": "Ada", "family_name": "Byron"},
        "results": [
            {
                "code": "C1",
                "title": "Linear algebra",
                "credits": "6",
                "credit_system": "ECTS",
                "status": "passed",
                "ended_on": "2024-02-01",
            }
        ],
    }
    evaluation = call(
        client,
        queue,
        "institution",
        "POST",
        "/api/v1/transfers",
        {"transcript": transcript, "institution": queue["edinburgh"], "on": "2024-09-01"},
        status=201,
    )
    entry = entries(client, queue)[0]
    assert (entry["query"], entry["times"]) == (SPELLING, 1)
    assert entry["seen_in"][0]["place"] == "transfer_evaluation"
    assert entry["seen_in"][0]["id"] == evaluation["id"]
    # The receiving institution's evaluation is its own: its country's ministry sees the entry,
    # not the evaluation.
    assert entries(client, queue, "ministry-gb")[0]["seen_in"] == []


def test_a_batch_writes_once_per_distinct_spelling(session, queue, engine):
    """A file of credentials is one unit: however often a spelling recurs in it, the queue is
    written once for it (one look-up of decided entries for the whole file, one insert or
    update per spelling, one insert of the places)."""
    records = []
    for position, name in enumerate([SPELLING, "Glasgow Universty", SPELLING, SPELLING]):
        result = {"title": "BSc Computing", "ended_on": "2019-06-30", "level": "GB-SCQF:10"}
        transcript = {"issuer": {"name": name, "country": "GB", "identifiers": {}}}
        records.append((f"record {position}", {"result": result, "transcript": transcript}))
    statements: list[str] = []

    def seen(_connection, _cursor, statement, *_):
        if "match_review" in statement:
            statements.append(statement.split()[0])

    event.listen(engine, "before_cursor_execute", seen)
    try:
        lines = list(assess_records(session, Actor("batch", "admin"), records, "DE"))
    finally:
        event.remove(engine, "before_cursor_execute", seen)
    assert lines[-1]["summary"]["assessed"] == 4
    assert statements == ["SELECT", "INSERT", "INSERT", "INSERT"]
    queued = session.scalars(select(MatchReview).order_by(MatchReview.query)).all()
    assert [(r.query, r.times) for r in queued] == [(SPELLING, 3), ("Glasgow Universty", 1)]


def test_many_spellings_are_queued_on_one_connection(session, queue):
    """More upserts on one connection than psycopg runs before it prepares the statement: each
    is queued (a prepared upsert once found no index to conflict on, and the queue stopped
    recording on PostgreSQL after five spellings)."""
    offered = [
        {"id": queue[key], "name": key, "country": "GB", "score": 84.0, "matched_on": "name"}
        for key in ("edinburgh", "napier")
    ]
    for batch in range(3):
        sightings = services.Sightings()
        for n in range(4):
            found = {"verdict": "ambiguous", "candidates": offered}
            sightings.met(f"{SPELLING} {batch}-{n}", "GB", found, "assessment", n + 1, None)
        sightings.write(session)
    assert session.scalar(select(func.count()).select_from(MatchReview)) == 12


def test_queueing_never_fails_the_assessment(client, session, queue, monkeypatch, caplog):
    def broken(*_):
        raise OperationalError("INSERT INTO match_review ...", {}, Exception("disk I/O error"))

    monkeypatch.setattr(services, "_write", broken)
    with caplog.at_level(logging.ERROR, logger="registry.match_reviews.services"):
        answer = assess(client, queue)
    assert answer["source"]["institution"]["verdict"] == "ambiguous"
    stored = call(client, queue, "registrar", "GET", f"/api/v1/assessments/{answer['id']}")
    assert stored["decision"] == answer["decision"]
    assert session.scalar(select(func.count()).select_from(MatchReview)) == 0
    assert "could not be queued for review" in caplog.text


def test_the_answers_fit_the_documented_schema(client, session, queue):
    assess(client, queue)
    document = client.get("/api/v1/openapi.json").get_json()
    listed = document["paths"]["/api/v1/match-reviews"]["get"]
    assert {p["name"] for p in listed["parameters"]} >= {"state", "country", "limit", "offset"}
    schema = listed["responses"]["200"]["content"]["application/json"]["schema"]
    validator = OAS30Validator({**schema, "components": document["components"]})
    assert list(validator.iter_errors(entries(client, queue))) == []
    for path in ("confirm", "reject"):
        operation = document["paths"][f"/api/v1/match-reviews/{{review_id}}/{path}"]["post"]
        assert operation["requestBody"]["required"] is True


# --- the command line -----------------------------------------------------------------------


@pytest.fixture
def cli(tmp_path):
    runner = CliRunner(env={"DATABASE_URL": f"sqlite:///{tmp_path / 'registry.sqlite3'}"})

    def run(*args, code=0):
        result = runner.invoke(main, list(args))
        assert result.exit_code == code, (result.output, result.stderr)
        return result

    run("db", "upgrade")
    run("load-reference")
    names = tmp_path / "institutions.json"
    names.write_text(
        json.dumps(
            [
                {"name": name, "alpha_two_code": country, "domains": []}
                for name, country in INSTITUTIONS.values()
            ]
        )
    )
    run("import", "institutions-json", str(names))
    return run


def cli_assess(cli, tmp_path, name):
    file = tmp_path / "credential.json"
    file.write_text(json.dumps(credential(name)))
    return json.loads(cli("assess", str(file), "--target", "DE", "--json").output)


def test_the_command_line_lists_confirms_and_rejects(cli, tmp_path):
    def institution(name):
        found = json.loads(cli("match-institution", name, "--country", "GB", "--json").output)
        return found["candidates"][0]["id"]

    edinburgh = institution("University of Edinburgh")
    cli_assess(cli, tmp_path, SPELLING)
    cli_assess(cli, tmp_path, SPELLING)
    cli_assess(cli, tmp_path, "Glasgow Universty")
    text = cli("match-review", "list").output
    assert f"open: '{SPELLING}' (GB), met 2 time(s)" in text
    assert "#" + str(edinburgh) + " University of Edinburgh [name]" in text
    listed = json.loads(cli("match-review", "list", "--country", "gb", "--json").output)
    assert [(e["query"], e["times"]) for e in listed] == [(SPELLING, 2), ("Glasgow Universty", 1)]
    assert {p["place"] for p in listed[0]["seen_in"]} == {"assessment"}
    first, second = listed[0]["id"], listed[1]["id"]

    # The API's validation and conflicts, one error line and exit 2.
    refused = cli("match-review", "list", "--state", "closed", code=2)
    assert "state" in refused.stderr
    refused = cli("match-review", "confirm", str(first), "--institution", "999999", code=2)
    assert "No institution 999999" in refused.stderr
    cli("match-review", "reject", "999999", "--reason", "x", code=2)
    cli("match-review", "reject", str(second), "--reason", "", code=2)

    confirmed = json.loads(
        cli("match-review", "confirm", str(first), "--institution", str(edinburgh), "--json").output
    )
    assert (confirmed["state"], confirmed["alias_added"]) == ("confirmed", True)
    text = cli("match-review", "reject", str(second), "--reason", "Two universities.").output
    assert "rejected by operator (command line)" in text and "Two universities." in text
    assert cli("match-review", "list").output.strip() == "No open entries."
    again = cli_assess(cli, tmp_path, SPELLING)
    assert again["source"]["institution"]["verdict"] == "matched"
    assert again["source"]["institution"]["id"] == edinburgh
    cli("match-review", "confirm", str(first), "--institution", str(edinburgh), code=2)
    engine = make_engine(f"sqlite:///{tmp_path / 'registry.sqlite3'}")
    with Session(engine) as session:
        trail = session.execute(
            select(AuditEvent.action, AuditEvent.entity).where(
                AuditEvent.action.startswith("match_review.")
                | (AuditEvent.action == "institution.alias")
            )
        ).all()
    engine.dispose()
    assert [tuple(row) for row in trail] == [
        ("institution.alias", f"institution:{edinburgh}"),
        ("match_review.confirm", f"match_review:{first}"),
        ("match_review.reject", f"match_review:{second}"),
    ]
