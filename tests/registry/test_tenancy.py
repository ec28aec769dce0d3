"""Issue 16, findings 2, 3, 4, 10 and 12 (frameworks and rules): one tenant never changes what
another owns through a side door. Each reproduction is a test: the allowed actor, a wrong tenant
of each kind, anonymous."""

import copy
import datetime as dt
import json
from pathlib import Path

import pytest
from sqlalchemy import select

from frameworks.models import Framework, FrameworkVersion
from frameworks.schemas import CITATION_MAX, DESCRIPTION_MAX, DESCRIPTOR_MAX
from frameworks.reference import load_reference
from registry.core import accounts
from registry.core.audit import AuditEvent
from registry.core.permissions import OPERATOR
from registry.institutions.models import Institution

PROBLEM = "application/problem+json"


@pytest.fixture
def tokens(session):
    """Bearer headers: admin, ministries (IE, DE, IE also naming EQF), two institutions (one in
    DE, one in IE), a registrar, anonymous."""
    tum = Institution(name="Technische Universität München", name_key="tum", country="DE")
    tcd = Institution(name="Trinity College Dublin", name_key="tcd", country="IE")
    session.add_all([tum, tcd])
    session.flush()
    made = {"ids": {"tum": tum.id, "tcd": tcd.id}}
    for key, role, scopes in [
        ("admin", "admin", []),
        ("ie", "ministry", ["IE"]),
        ("ie_eqf", "ministry", ["IE", "EQF"]),
        ("de", "ministry", ["DE"]),
        ("tum", "institution", [str(tum.id)]),
        ("tcd", "institution", [str(tcd.id)]),
        ("registrar", "registrar", []),
    ]:
        account = accounts.get_or_create_account(session, f"tenancy-{key}", role, scopes)
        made[key] = {"Authorization": f"Bearer {accounts.create_token(session, account)[1]}"}
    made["anonymous"] = {}
    session.commit()
    return made


def call(client, method, url, headers, json=None, status=200):
    response = client.open(url, method=method, headers=headers, json=json)
    assert response.status_code == status, response.get_data(as_text=True)
    if status >= 400:
        assert response.mimetype == PROBLEM
    return response.get_json()


def last_event(session, action):
    return session.scalar(
        select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id.desc())
    )


def equivalents(client, level, target, on=None):
    url = f"/api/v1/equivalents?level={level}&target={target}" + (f"&on={on}" if on else "")
    return call(client, "GET", url, {})


# --- finding 3: only an admin creates or edits meta-frameworks --------------------------------

BRIDGE = {
    "code": "IE-BRIDGE",
    "name": "Invented bridge",
    "meta": True,
    "version": {"version": "1", "citation": "Nobody's report"},
    "levels": [{"code": "1", "ordinal": 1, "title": "Bridge"}],
    "links": [
        {
            "from": "DE-DQR:6",
            "to": "IE-BRIDGE:1",
            "relation": "exactMatch",
            "basis": "referencing",
            "citation": "Invented",
        },
        {
            "from": "IE-BRIDGE:1",
            "to": "NZ-NZQCF:8",
            "relation": "exactMatch",
            "basis": "referencing",
            "citation": "Invented",
        },
    ],
}


def test_a_ministry_cannot_create_a_meta_framework(client, session, tokens):
    before = equivalents(client, "DE-DQR:6", "NZ-NZQCF")
    for who, status in [("anonymous", 401), ("ie", 403), ("ie_eqf", 403), ("de", 403)]:
        call(client, "POST", "/api/v1/frameworks", tokens[who], json=BRIDGE, status=status)
    for who in ("tum", "registrar"):
        call(client, "POST", "/api/v1/frameworks", tokens[who], json=BRIDGE, status=403)
    # A meta-framework has no country, so claiming one is no way round it either.
    with_country = {**BRIDGE, "country": "IE"}
    body = call(client, "POST", "/api/v1/frameworks", tokens["ie"], json=with_country, status=400)
    assert "country" in body["errors"]
    assert session.scalar(select(Framework).where(Framework.code == "IE-BRIDGE")) is None
    assert equivalents(client, "DE-DQR:6", "NZ-NZQCF") == before
    refused = last_event(session, "framework.create")
    assert refused.outcome == "refused"
    # The registry's own meta-frameworks are an admin's to create.
    call(client, "POST", "/api/v1/frameworks", tokens["admin"], json=BRIDGE, status=201)


def test_a_national_bridge_never_carries_other_countries_equivalences(client, session, tokens):
    """The IE ministry's own framework may link its levels to others', but a path between two
    other countries never passes through it: only meta-frameworks are crossed."""
    before = equivalents(client, "DE-DQR:6", "NZ-NZQCF")
    national = {**BRIDGE, "meta": False, "country": "IE"}
    call(client, "POST", "/api/v1/frameworks", tokens["ie"], json=national, status=201)
    call(
        client,
        "POST",
        "/api/v1/frameworks/IE-BRIDGE/versions/1/publish",
        tokens["ie"],
        json={},
    )
    assert equivalents(client, "DE-DQR:6", "NZ-NZQCF") == before
    # A link between two other frameworks' levels is not the IE ministry's to file.
    elsewhere = copy.deepcopy(national)
    elsewhere["code"] = "IE-BRIDGE2"
    elsewhere["links"] = [{**BRIDGE["links"][0], "to": "NZ-NZQCF:8"}]
    body = call(client, "POST", "/api/v1/frameworks", tokens["ie"], json=elsewhere, status=400)
    assert "links.0" in body["errors"]


@pytest.mark.parametrize("who", ["ie", "ie_eqf", "de"])
def test_no_ministry_edits_a_meta_framework(client, session, tokens, who):
    link = [{"to": "IE-NFQ:9", "relation": "exactMatch", "basis": "referencing", "citation": "x"}]
    for method, url, body in [
        ("PUT", "/api/v1/frameworks/EQF/levels/6/links", link),
        ("PATCH", "/api/v1/frameworks/EQF/levels/6", {"note": "x"}),
        ("POST", "/api/v1/frameworks/EQF/versions", {"version": "2030"}),
    ]:
        call(client, method, url, tokens[who], json=body, status=403)
        call(client, method, url, tokens["tum"], json=body, status=403)
        call(client, method, url, tokens["anonymous"], json=body, status=401)
    assert (
        session.scalar(
            select(FrameworkVersion)
            .join(Framework)
            .where(Framework.code == "EQF", FrameworkVersion.status == "draft")
        )
        is None
    )
    call(
        client,
        "PATCH",
        "/api/v1/frameworks/EQF/levels/6",
        tokens["admin"],
        json={"note": "Admin's note"},
    )


# --- finding 4: a draft changes nothing until it is published -----------------------------------


def ie_file(**changes):
    data = {
        "code": "IE-NFQ",
        "name": "National Framework of Qualifications",
        "country": "IE",
        "version": {"version": "2027", "citation": "Draft referencing"},
        "levels": [
            {"code": "1", "ordinal": 1, "title": "One"},
            {"code": "2", "ordinal": 2, "title": "Two"},
        ],
        "links": [
            {
                "from": "IE-NFQ:2",
                "to": "EQF:2",
                "relation": "exactMatch",
                "basis": "referencing",
                "citation": "Draft",
            }
        ],
    }
    return {**data, **changes}


def framework_row(session, code="IE-NFQ"):
    row = session.scalar(select(Framework).where(Framework.code == code))
    session.refresh(row)
    return row


@pytest.mark.parametrize(
    "changes, field",
    [
        ({"meta": True, "country": None}, "meta"),
        ({"meta": True}, "country"),
        ({"country": "DE"}, "code"),
        ({"owner": "Someone else"}, "owner"),
    ],
)
def test_a_draft_cannot_change_country_owner_or_meta(client, session, tokens, changes, field):
    call(
        client, "POST", "/api/v1/frameworks/IE-NFQ/versions", tokens["ie"], {"version": "2027"}, 201
    )
    framework = framework_row(session)
    live = (framework.name, framework.country, framework.is_meta, framework.owner)
    url = "/api/v1/frameworks/IE-NFQ/versions/2027"
    body = call(client, "PUT", url, tokens["ie"], json=ie_file(**changes), status=400)
    assert field in body["errors"]
    framework = framework_row(session)
    assert (framework.name, framework.country, framework.is_meta, framework.owner) == live
    # The DE ministry still may not touch IE-NFQ, nor an institution, nor anonymous.
    call(client, "PUT", url, tokens["de"], json=ie_file(), status=403)
    call(client, "PUT", url, tokens["tcd"], json=ie_file(), status=403)
    call(client, "PUT", url, tokens["anonymous"], json=ie_file(), status=401)
    call(
        client,
        "PATCH",
        "/api/v1/frameworks/IE-NFQ/levels/8",
        tokens["ie"],
        json={"note": "still IE's"},
    )


def test_a_new_name_waits_in_the_draft_until_it_is_published(client, session, tokens):
    call(
        client, "POST", "/api/v1/frameworks/IE-NFQ/versions", tokens["ie"], {"version": "2027"}, 201
    )
    old_name = framework_row(session).name
    url = "/api/v1/frameworks/IE-NFQ/versions/2027"
    renamed = ie_file(name="Irish National Framework", description="Revised")
    assert call(client, "PUT", url, tokens["ie"], json=renamed)["outcome"] == "replaced"
    assert call(client, "GET", "/api/v1/frameworks/IE-NFQ", {})["name"] == old_name
    event = last_event(session, "framework.version.replace")
    assert event.after["name"] == "Irish National Framework"
    assert event.after["framework"]["country"] == "IE" and event.after["framework"]["meta"] is False
    call(client, "POST", f"{url}/publish", tokens["ie"], json={"valid_from": "2027-01-01"})
    published = call(client, "GET", "/api/v1/frameworks/IE-NFQ", {})
    assert published["name"] == "Irish National Framework"
    assert published["description"] == "Revised"
    assert published["country"] == "IE" and published["meta"] is False
    # Reloading the bundled files (unchanged) does not undo the publication.
    load_reference(session, OPERATOR)
    assert framework_row(session).name == "Irish National Framework"


# --- finding 10: dates in a sane range; an admin corrects a publication ---------------------


def test_a_publication_cannot_freeze_the_framework(client, session, tokens):
    call(
        client, "POST", "/api/v1/frameworks/IE-NFQ/versions", tokens["ie"], {"version": "2027"}, 201
    )
    url = "/api/v1/frameworks/IE-NFQ/versions/2027/publish"
    too_far = (dt.date.today() + dt.timedelta(days=6 * 366)).isoformat()
    for day in ("9999-12-31", too_far):
        body = call(client, "POST", url, tokens["ie"], json={"valid_from": day}, status=400)
        assert "valid_from" in body["errors"]
    dated = ie_file()
    dated["version"] = {**dated["version"], "valid_from": "9999-12-31"}
    body = call(
        client, "PUT", "/api/v1/frameworks/IE-NFQ/versions/2027", tokens["ie"], dated, status=400
    )
    assert "version" in body["errors"]
    link = [
        {
            "to": "EQF:4",
            "relation": "exactMatch",
            "basis": "referencing",
            "citation": "x",
            "valid_to": "9999-12-31",
        }
    ]
    call(client, "PUT", "/api/v1/frameworks/IE-NFQ/levels/6/links", tokens["ie"], link, status=400)


def test_an_admin_corrects_a_frozen_publication(client, session, tokens):
    # A version published before the bound, to take effect in 9999: nothing can follow it.
    call(
        client, "POST", "/api/v1/frameworks/IE-NFQ/versions", tokens["ie"], {"version": "2027"}, 201
    )
    call(
        client,
        "POST",
        "/api/v1/frameworks/IE-NFQ/versions/2027/publish",
        tokens["ie"],
        json={"valid_from": "2027-01-01"},
    )
    frozen = dt.date(9999, 12, 31)
    versions = {v.version: v for v in framework_row(session).versions}
    versions["2027"].valid_from = versions["2009"].valid_to = frozen
    session.commit()
    url = "/api/v1/frameworks/IE-NFQ/versions/2027/correct"
    fix = {"valid_from": "2027-02-01", "reason": "Mistyped date in the publication."}
    for who, status in [
        ("anonymous", 401),
        ("ie", 403),
        ("de", 403),
        ("tcd", 403),
        ("registrar", 403),
    ]:
        call(client, "POST", url, tokens[who], json=fix, status=status)
    call(client, "POST", url, tokens["admin"], json={"valid_from": "2027-02-01"}, status=400)
    call(client, "POST", url, tokens["admin"], json={**fix, "valid_from": "9999-12-31"}, status=400)
    corrected = call(client, "POST", url, tokens["admin"], json=fix)
    assert corrected["valid_from"] == "2027-02-01"
    shown = call(client, "GET", "/api/v1/frameworks/IE-NFQ", {})["versions"]
    assert [(v["version"], v["valid_from"], v["valid_to"]) for v in shown] == [
        ("2009", None, "2027-02-01"),
        ("2027", "2027-02-01", None),
    ]
    event = last_event(session, "framework.correct")
    assert event.outcome == "allowed" and event.after["reason"] == fix["reason"]
    assert event.before["version"]["valid_from"] == "9999-12-31"
    # The superseded version is history, not a publication to correct.
    call(
        client,
        "POST",
        "/api/v1/frameworks/IE-NFQ/versions/2009/correct",
        tokens["admin"],
        json=fix,
        status=409,
    )
    # Later publications are possible again.
    call(
        client, "POST", "/api/v1/frameworks/IE-NFQ/versions", tokens["ie"], {"version": "2028"}, 201
    )
    call(
        client,
        "POST",
        "/api/v1/frameworks/IE-NFQ/versions/2028/publish",
        tokens["ie"],
        json={"valid_from": "2028-01-01"},
    )


# --- finding 12: every free text of a framework has a limit --------------------------------------


def test_framework_texts_have_limits(client, session, tokens):
    level = "/api/v1/frameworks/IE-NFQ/levels/8"
    for field in ("note", "knowledge", "skills", "responsibility_autonomy"):
        body = call(
            client, "PATCH", level, tokens["ie"], {field: "x" * (DESCRIPTOR_MAX + 1)}, status=400
        )
        assert field in body["errors"]
    assert call(client, "PATCH", level, tokens["ie"], {"note": "x" * DESCRIPTOR_MAX})["note"]
    call(client, "PATCH", level, tokens["ie"], {"title": "x" * 301}, status=400)
    call(client, "PATCH", level, tokens["ie"], {"qualification_types": ["x"] * 51}, status=400)
    link = {"to": "EQF:8", "relation": "exactMatch", "basis": "referencing"}
    links = f"{level}/links"
    call(client, "PUT", links, tokens["ie"], [{**link, "citation": "x" * (CITATION_MAX + 1)}], 400)
    call(client, "PUT", links, tokens["ie"], [{**link, "citation": "x", "note": "x" * 2001}], 400)
    long_description = ie_file(code="IE-LONG", description="x" * (DESCRIPTION_MAX + 1), links=[])
    body = call(client, "POST", "/api/v1/frameworks", tokens["ie"], long_description, status=400)
    assert "description" in body["errors"]


# --- finding 2: an institution's rules apply to its own decisions only ----------------------

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "credential.json"


def refusal(rule_id, authority, jurisdiction="DE", priority=99):
    return {
        "id": rule_id,
        "title": "Refuse everything",
        "authority": authority,
        "jurisdiction": jurisdiction,
        "priority": priority,
        "then": {"decision": "not_recognised", "notes": "Refused by rule."},
    }


def assess(client, headers):
    body = json.loads(EXAMPLE.read_text())
    answer = call(client, "POST", "/api/v1/assessments?target=DE", headers, json=body, status=201)
    decided = next(s["detail"]["decided_by"] for s in answer["steps"] if s["step"] == "rules")
    return answer["decision"], {r["rule"] for r in answer["rules"]}, decided


def test_an_institution_rule_never_overturns_a_whole_country(client, session, tokens):
    tum = {"kind": "institution", "id": tokens["ids"]["tum"]}
    # The reproduction: a priority above every ministry's, for all of DE.
    body = call(
        client,
        "POST",
        "/api/v1/rules",
        tokens["tum"],
        json=refusal("tum-refuse", tum, priority=999999),
        status=400,
    )
    assert "priority" in body["errors"]
    # Another institution, a ministry, a registrar or anonymous cannot write TUM's rule.
    rule = refusal("tum-refuse", tum)
    for who, status in [("tcd", 403), ("de", 403), ("registrar", 403), ("anonymous", 401)]:
        call(client, "POST", "/api/v1/rules", tokens[who], json=rule, status=status)
    # An institution's rule stays in its own country.
    tcd = {"kind": "institution", "id": tokens["ids"]["tcd"]}
    body = call(
        client, "POST", "/api/v1/rules", tokens["tcd"], json=refusal("tcd-de", tcd), status=400
    )
    assert "jurisdiction" in body["errors"]
    baseline = assess(client, tokens["registrar"])
    created = call(client, "POST", "/api/v1/rules", tokens["tum"], json=rule, status=201)
    assert created["status"] == "active"
    # A registrar's, a ministry's and another institution's decisions are untouched...
    for who in ("registrar", "de", "tcd"):
        decision, evaluated, _ = assess(client, tokens[who])
        assert "tum-refuse" not in evaluated and decision == baseline[0]
    # ... TUM's own are decided by its rule.
    decision, evaluated, decided = assess(client, tokens["tum"])
    assert decision == "not_recognised" and decided == "tum-refuse"


def test_a_ministry_outranks_an_institution(client, session, tokens):
    tum = {"kind": "institution", "id": tokens["ids"]["tum"]}
    call(client, "POST", "/api/v1/rules", tokens["tum"], refusal("tum-refuse", tum), 201)
    kmk = {"kind": "ministry", "country": "DE"}
    accept = {**refusal("kmk-accept", kmk, priority=100), "then": {"decision": "recognised"}}
    for who, status in [("ie", 403), ("tum", 403), ("anonymous", 401)]:
        call(client, "POST", "/api/v1/rules", tokens[who], json=accept, status=status)
    for bad in ({"priority": 1000}, {"priority": 99}, {"jurisdiction": "IE-NFQ"}):
        call(client, "POST", "/api/v1/rules", tokens["de"], json={**accept, **bad}, status=400)
    call(client, "POST", "/api/v1/rules", tokens["de"], json=accept, status=201)
    decision, _, decided = assess(client, tokens["tum"])
    assert decision == "recognised" and decided == "kmk-accept"
    # Only an admin writes the registry's own rules, the floor, for everywhere.
    floor = {**refusal("registry-note", {"kind": "registry"}, "*", 50), "then": {"notes": "n"}}
    call(client, "POST", "/api/v1/rules", tokens["de"], json=floor, status=403)
    call(client, "POST", "/api/v1/rules", tokens["admin"], {**floor, "priority": 51}, 400)
    call(client, "POST", "/api/v1/rules", tokens["admin"], json=floor, status=201)


def test_rules_are_withdrawn_by_their_authority_never_deleted(client, session, tokens):
    tum = {"kind": "institution", "id": tokens["ids"]["tum"]}
    call(client, "POST", "/api/v1/rules", tokens["tum"], refusal("tum-refuse", tum), 201)
    url = "/api/v1/rules/tum-refuse/withdraw"
    reason = {"reason": "Posted by mistake."}
    for who, status in [
        ("tcd", 403),
        ("de", 403),
        ("registrar", 403),
        ("anonymous", 401),
    ]:
        call(client, "POST", url, tokens[who], json=reason, status=status)
    call(client, "POST", url, tokens["tum"], json={}, status=400)
    call(client, "POST", url, tokens["tum"], json={"reason": "x" * 2001}, status=400)
    withdrawn = call(client, "POST", url, tokens["tum"], json=reason)
    assert withdrawn["status"] == "withdrawn" and withdrawn["withdrawn_reason"] == reason["reason"]
    call(client, "POST", url, tokens["tum"], json=reason, status=409)
    for unknown in ("nope", "%00", "x" * 5000):
        call(client, "POST", f"/api/v1/rules/{unknown}/withdraw", tokens["admin"], reason, 404)
    listed = {r["id"]: r for r in call(client, "GET", "/api/v1/rules?jurisdiction=DE", {})}
    assert listed["tum-refuse"]["status"] == "withdrawn"
    decision, evaluated, _ = assess(client, tokens["tum"])
    assert "tum-refuse" not in evaluated and decision != "not_recognised"
    event = session.scalar(
        select(AuditEvent).where(
            AuditEvent.action == "rule.withdraw", AuditEvent.outcome == "allowed"
        )
    )
    assert event.after["withdrawn_reason"] == reason["reason"]
    assert event.before["status"] == "active" and event.after["status"] == "withdrawn"
    refused = session.scalars(
        select(AuditEvent).where(
            AuditEvent.action == "rule.withdraw", AuditEvent.outcome == "refused"
        )
    ).all()
    assert len(refused) >= 4
    # A ministry withdraws its own rules, not another country's; an admin any.
    kmk = {"kind": "ministry", "country": "DE"}
    own = refusal("kmk-r", kmk, priority=100)
    call(client, "POST", "/api/v1/rules", tokens["de"], own, 201)
    call(client, "POST", "/api/v1/rules/kmk-r/withdraw", tokens["ie"], json=reason, status=403)
    call(client, "POST", "/api/v1/rules/kmk-r/withdraw", tokens["tum"], json=reason, status=403)
    call(client, "POST", "/api/v1/rules/kmk-r/withdraw", tokens["admin"], json=reason)


def test_rule_texts_have_limits(client, tokens):
    kmk = {"kind": "ministry", "country": "DE"}
    rule = refusal("kmk-long", kmk, priority=100)
    for bad, field in [
        ({"title": "x" * 301}, "title"),
        ({"then": {"notes": "x" * 2001}}, "then.notes"),
        ({"then": {"conditions": ["x"] * 51}}, "then.conditions"),
        ({"when": {"fact": "source.country", "op": "==", "value": "x" * 501}}, "when.value"),
    ]:
        body = call(client, "POST", "/api/v1/rules", tokens["de"], json={**rule, **bad}, status=400)
        assert field in body["errors"]


def test_the_impact_report_reruns_a_decision_with_the_rules_it_was_made_under(
    client, session, tokens
):
    tum = {"kind": "institution", "id": tokens["ids"]["tum"]}
    call(client, "POST", "/api/v1/rules", tokens["tum"], refusal("tum-refuse", tum), 201)
    assert assess(client, tokens["tum"])[0] == "not_recognised"
    assess(client, tokens["registrar"])
    call(
        client, "POST", "/api/v1/frameworks/DE-DQR/versions", tokens["de"], {"version": "2027"}, 201
    )
    url = "/api/v1/frameworks/DE-DQR/versions/2027/impact?on=2027-01-01"
    call(client, "POST", url, tokens["tum"], status=403)
    # The draft changes nothing: no stored decision, TUM's included, would change.
    assert call(client, "POST", url, tokens["de"])["assessments"] == []
