"""Who may change what, over the API: every write endpoint allowed and refused, each leaving an
audit event; tokens that are missing, bad, expired, revoked or out of scope; hostile input."""

import datetime as dt

import pytest
from sqlalchemy import func, select, text

from frameworks.models import Framework, FrameworkVersion, Level
from registry.core import accounts
from registry.core.audit import AuditEvent
from registry.core.permissions import ACTIONS, Actor, Target, authorize

PROBLEM = "application/problem+json"
LU = {
    "code": "LU-TQF",
    "name": "Test framework",
    "country": "LU",
    "version": {"version": "2026", "citation": "Test referencing report"},
    "levels": [
        {"code": "1", "ordinal": 1, "title": "One"},
        {"code": "2", "ordinal": 2, "title": "Two"},
    ],
    "links": [
        {
            "from": "LU-TQF:1",
            "to": "EQF:5",
            "relation": "exactMatch",
            "basis": "referencing",
            "citation": "Test report",
        }
    ],
}


@pytest.fixture
def tokens(session):
    """Bearer headers for each kind of caller."""
    made = {}
    specs = {
        "admin": ("admin", []),
        "ie": ("ministry", ["IE"]),
        "de": ("ministry", ["DE"]),
        "lu": ("ministry", ["LU"]),
        "institution": ("institution", ["42"]),
        "registrar": ("registrar", []),
    }
    for key, (role, scopes) in specs.items():
        account = accounts.get_or_create_account(session, f"test-{key}", role, scopes)
        _, secret = accounts.create_token(session, account)
        made[key] = {"Authorization": f"Bearer {secret}"}
    ie = accounts.get_or_create_account(session, "test-ie", "ministry", ["IE"])
    expired, secret = accounts.create_token(
        session, ie, expires_at=accounts.utcnow() - dt.timedelta(minutes=1)
    )
    made["expired"] = {"Authorization": f"Bearer {secret}"}
    revoked, secret = accounts.create_token(session, ie)
    accounts.revoke_token(session, revoked.id)
    made["revoked"] = {"Authorization": f"Bearer {secret}"}
    made["anonymous"] = {}
    session.commit()
    return made


def audit_count(session, outcome=None):
    query = select(func.count()).select_from(AuditEvent)
    if outcome:
        query = query.where(AuditEvent.outcome == outcome)
    return session.scalar(query)


def call(client, method, url, headers, json=None, status=200):
    response = client.open(url, method=method, headers=headers, json=json)
    assert response.status_code == status, response.get_data(as_text=True)
    if status >= 400:
        assert response.mimetype == PROBLEM
    return response.get_json()


def start_draft(client, tokens, code="IE-NFQ", who="ie"):
    return call(
        client,
        "POST",
        f"/api/v1/frameworks/{code}/versions",
        tokens[who],
        json={"version": "2027"},
        status=201,
    )


# --- each write endpoint: allowed, refused, audited --------------------------------------------

WRITES = {
    ("POST", "/api/v1/frameworks"),
    ("POST", "/api/v1/frameworks/<code>/versions"),
    ("PUT", "/api/v1/frameworks/<code>/versions/<version>"),
    ("POST", "/api/v1/frameworks/<code>/versions/<version>/publish"),
    ("POST", "/api/v1/frameworks/<code>/versions/<version>/impact"),
    # Covered, allowed and refused, in test_tenancy.py:
    ("POST", "/api/v1/frameworks/<code>/versions/<version>/correct"),
    ("POST", "/api/v1/rules/<rule_id>/withdraw"),
    ("PATCH", "/api/v1/frameworks/<code>/levels/<level>"),
    ("PUT", "/api/v1/frameworks/<code>/levels/<level>/links"),
    # Covered, allowed and refused, in test_institutions.py:
    ("POST", "/api/v1/institutions"),
    ("PATCH", "/api/v1/institutions/<int:institution_id>"),
    ("PUT", "/api/v1/institutions/<int:institution_id>/status"),
    # Covered in test_assessments_api.py:
    ("POST", "/api/v1/assessments"),
    ("POST", "/api/v1/assessments/stack"),
    ("POST", "/api/v1/rules"),
    # Covered, allowed and refused, in test_grade_tables_api.py:
    ("POST", "/api/v1/grade-tables"),
    ("POST", "/api/v1/grade-tables/<code>/withdraw"),
    # Covered in test_imports_api.py:
    ("POST", "/api/v1/imports"),
    # Writes nothing; allowed and refused in test_verify_api.py:
    ("POST", "/api/v1/verifications"),
    # Covered in test_articulations.py and tests/mappings/test_transfer.py:
    ("POST", "/api/v1/articulations"),
    ("PATCH", "/api/v1/articulations/<int:articulation_id>"),
    ("POST", "/api/v1/transfers"),
    ("POST", "/api/v1/transfers/<int:evaluation_id>/decisions"),
    # Covered, allowed and refused (other tenants' drafts answer 404), in test_pathways.py:
    ("POST", "/api/v1/pathways"),
    ("PATCH", "/api/v1/pathways/<int:pathway_id>"),
    ("POST", "/api/v1/pathways/<int:pathway_id>/decision"),
    # Covered, allowed and refused, in tests/mappings/test_pathways.py:
    ("POST", "/api/v1/pathway-evaluations"),
    # Covered, allowed and refused, in test_web_workspace.py:
    ("POST", "/api/v1/transfers/<int:evaluation_id>/rejections"),
    # Covered, allowed and refused, in test_match_reviews.py:
    ("POST", "/api/v1/match-reviews/<int:review_id>/confirm"),
    ("POST", "/api/v1/match-reviews/<int:review_id>/reject"),
}


def test_every_write_endpoint_is_covered_here(app):
    routes = {
        (method, rule.rule)
        for rule in app.url_map.iter_rules()
        if rule.rule.startswith("/api/")
        for method in rule.methods - {"GET", "HEAD", "OPTIONS"}
    }
    assert routes == WRITES


def test_create_framework(client, session, tokens):
    before = audit_count(session)
    call(client, "POST", "/api/v1/frameworks", tokens["ie"], json=LU, status=403)
    call(client, "POST", "/api/v1/frameworks", tokens["anonymous"], json=LU, status=401)
    created = call(client, "POST", "/api/v1/frameworks", tokens["lu"], json=LU, status=201)
    assert created == {
        "code": "LU-TQF",
        "version": "2026",
        "outcome": "created",
        "levels": 2,
        "links": 1,
    }
    version = session.scalar(
        select(FrameworkVersion).join(Framework).where(Framework.code == "LU-TQF")
    )
    assert version.status == "draft"
    call(client, "POST", "/api/v1/frameworks", tokens["lu"], json=LU, status=409)
    events = session.scalars(
        select(AuditEvent).where(AuditEvent.id > 0).order_by(AuditEvent.id)
    ).all()
    mine = [(e.action, e.outcome, e.actor) for e in events][-4:]
    assert mine == [
        ("framework.create", "refused", "test-ie"),
        ("framework.create", "refused", "anonymous"),
        ("framework.create", "allowed", "test-lu"),
        ("framework.create", "refused", "test-lu"),
    ]
    assert audit_count(session) == before + 4


def test_new_draft(client, session, tokens):
    call(client, "POST", "/api/v1/frameworks/IE-NFQ/versions", tokens["de"], status=403)
    call(client, "POST", "/api/v1/frameworks/EQF/versions", tokens["ie"], status=403)
    draft = start_draft(client, tokens)
    assert draft["status"] == "draft" and draft["version"] == "2027"
    assert len(draft["levels"]) == 10 and len(draft["links"]) == 10
    call(client, "POST", "/api/v1/frameworks/IE-NFQ/versions", tokens["ie"], status=409)
    last = session.scalars(select(AuditEvent).order_by(AuditEvent.id.desc()).limit(4)).all()
    assert [(e.action, e.outcome) for e in reversed(last)] == [
        ("framework.version.create", "refused"),
        ("framework.version.create", "refused"),
        ("framework.version.create", "allowed"),
        ("framework.version.create", "refused"),
    ]
    # The draft is private: to anyone but its authority it does not exist (404, as for a wrong
    # name, anonymous callers and another country's ministry alike); its authority sees it.
    for who in ("anonymous", "de"):
        hidden = call(
            client, "GET", "/api/v1/frameworks/IE-NFQ/versions/2027", tokens[who], status=404
        )
        assert "drafts" not in hidden
    assert call(client, "GET", "/api/v1/frameworks/IE-NFQ/versions/2027", tokens["ie"])["levels"]
    published = call(client, "GET", "/api/v1/frameworks/IE-NFQ/versions/2009", {})
    assert published["status"] == "published"


def test_replace_draft(client, session, tokens):
    call(client, "POST", "/api/v1/frameworks", tokens["lu"], json=LU, status=201)
    changed = {**LU, "levels": [*LU["levels"], {"code": "3", "ordinal": 3, "title": "Three"}]}
    call(
        client,
        "PUT",
        "/api/v1/frameworks/LU-TQF/versions/2026",
        tokens["ie"],
        json=changed,
        status=403,
    )
    result = call(
        client, "PUT", "/api/v1/frameworks/LU-TQF/versions/2026", tokens["lu"], json=changed
    )
    assert result["outcome"] == "replaced" and result["levels"] == 3
    # A published version never changes.
    ie_file = {**LU, "code": "IE-NFQ", "country": "IE"}
    refused = call(
        client,
        "PUT",
        "/api/v1/frameworks/IE-NFQ/versions/2009",
        tokens["ie"],
        json=ie_file,
        status=409,
    )
    assert refused["existing"] == {"version": "2009", "status": "published"}
    last = session.scalars(select(AuditEvent).order_by(AuditEvent.id.desc()).limit(3)).all()
    assert [(e.action, e.outcome) for e in reversed(last)] == [
        ("framework.version.replace", "refused"),
        ("framework.version.replace", "allowed"),
        ("framework.version.replace", "refused"),
    ]


def test_edit_level_starts_a_draft_and_never_touches_the_published_level(client, session, tokens):
    call(
        client,
        "PATCH",
        "/api/v1/frameworks/IE-NFQ/levels/8",
        tokens["de"],
        json={"note": "x"},
        status=403,
    )
    edited = call(
        client,
        "PATCH",
        "/api/v1/frameworks/IE-NFQ/levels/8",
        tokens["ie"],
        json={"note": "Revised descriptor"},
    )
    assert edited["note"] == "Revised descriptor"
    assert (
        call(client, "GET", "/api/v1/frameworks/IE-NFQ/levels/8", {})["note"]
        != "Revised descriptor"
    )
    versions = call(client, "GET", "/api/v1/frameworks/IE-NFQ", {})["versions"]
    assert [v["status"] for v in versions] == ["published"]  # the draft is not public
    draft = call(
        client, "GET", f"/api/v1/frameworks/IE-NFQ/versions/{dt.date.today()}", tokens["ie"]
    )
    assert draft["status"] == "draft"
    assert next(lv for lv in draft["levels"] if lv["code"] == "8")["note"] == "Revised descriptor"
    call(
        client,
        "PATCH",
        "/api/v1/frameworks/IE-NFQ/levels/8",
        tokens["ie"],
        json={"ordinal": 3},
        status=400,
    )
    actions = [
        (e.action, e.outcome)
        for e in reversed(
            session.scalars(select(AuditEvent).order_by(AuditEvent.id.desc()).limit(3)).all()
        )
    ]
    assert actions == [
        ("framework.level.edit", "refused"),
        ("framework.version.create", "allowed"),
        ("framework.level.edit", "allowed"),
    ]


MOVE = [
    {
        "to": "EQF:4",
        "relation": "exactMatch",
        "basis": "referencing",
        "citation": "Hypothetical revised referencing report",
    }
]


def test_replace_level_links(client, session, tokens):
    call(
        client,
        "PUT",
        "/api/v1/frameworks/IE-NFQ/levels/6/links",
        tokens["de"],
        json=MOVE,
        status=403,
    )
    call(
        client,
        "PUT",
        "/api/v1/frameworks/IE-NFQ/levels/6/links",
        tokens["ie"],
        json=[{**MOVE[0], "to": "EQF:9"}],
        status=400,
    )
    links = call(client, "PUT", "/api/v1/frameworks/IE-NFQ/levels/6/links", tokens["ie"], json=MOVE)
    assert links == [
        {
            "from": "IE-NFQ:6",
            "to": "EQF:4",
            "relation": "exactMatch",
            "basis": "referencing",
            "citation": MOVE[0]["citation"],
            "valid_from": None,
            "valid_to": None,
            "note": None,
            "secondary_source": None,
            "succession": False,
        }
    ]
    # Nothing answers from the draft before it is published.
    answer = call(client, "GET", "/api/v1/equivalents?level=IE-NFQ:6&target=EQF", {})
    assert [m["level"] for m in answer["matches"]] == ["EQF:5"]
    assert (
        session.scalar(
            select(func.count())
            .select_from(AuditEvent)
            .where(AuditEvent.action == "framework.links.replace")
        )
        >= 2
    )


def test_a_draft_keeps_what_its_links_rest_on(client, session, tokens):
    """A draft copies each link's secondary source and succession flag (issue 18), and a level's
    links are replaced with them: a succession link is stored from the superseded level."""
    for code in ("AU-AQF", "FR-CNCP"):
        start_draft(client, tokens, code, "admin")
    au = call(client, "GET", "/api/v1/frameworks/AU-AQF/versions/2027", tokens["admin"])
    assert sum(1 for link in au["links"] if link["secondary_source"]) == 3
    fr = call(client, "GET", "/api/v1/frameworks/FR-CNCP/versions/2027", tokens["admin"])
    assert sum(1 for link in fr["links"] if link["succession"]) == 6
    decree = "Décret n° 2019-14 (test edit)"
    links = call(
        client,
        "PUT",
        "/api/v1/frameworks/FR-CNCP/levels/5/links",
        tokens["admin"],
        json=[
            {"to": "EQF:5", "relation": "exactMatch", "basis": "referencing", "citation": "x"},
            {
                "to": "FR-CNCP-1969:III",
                "relation": "exactMatch",
                "basis": "legislation",
                "citation": decree,
                "valid_from": "2019-01-10",
                "succession": True,
            },
        ],
    )
    succession = next(link for link in links if link["succession"])
    assert (succession["from"], succession["to"], succession["citation"]) == (
        "FR-CNCP-1969:III",
        "FR-CNCP:5",
        decree,
    )
    event = session.scalar(
        select(AuditEvent)
        .where(AuditEvent.action == "framework.links.replace")
        .order_by(AuditEvent.id.desc())
    )
    assert {"from": "FR-CNCP-1969:III", "to": "FR-CNCP:5"}.items() <= next(
        link for link in event.after if link["succession"]
    ).items()


def test_impact_report_of_a_draft_that_moves_one_level(client, session, tokens):
    call(client, "PUT", "/api/v1/frameworks/IE-NFQ/levels/6/links", tokens["ie"], json=MOVE)
    draft = dt.date.today().isoformat()  # the label a draft started by an edit gets
    url = f"/api/v1/frameworks/IE-NFQ/versions/{draft}/impact?on=2027-01-01"
    call(client, "POST", url, {}, status=401)
    call(client, "POST", url, tokens["de"], status=403)
    report = call(client, "POST", url, tokens["ie"])
    assert report["compared_with"] == "2009" and report["on"] == "2027-01-01"
    assert {change["level"] for change in report["changes"]} == {"IE-NFQ:6"}
    by_target = {change["target_framework"]: change for change in report["changes"]}
    assert [m["level"] for m in by_target["DE-DQR"]["old"]["matches"]] == ["DE-DQR:5"]
    assert [m["level"] for m in by_target["DE-DQR"]["new"]["matches"]] == ["DE-DQR:4"]
    assert [m["level"] for m in by_target["GB-SCQF"]["new"]["matches"]] == ["GB-SCQF:6"]
    # NZ-NZQCF compares both 3 and 4 to EQF 4: one level becomes two.
    assert len(by_target["NZ-NZQCF"]["new"]["matches"]) == 2
    assert "DE-DQR" in by_target and "EQF" in by_target
    call(client, "POST", "/api/v1/frameworks/IE-NFQ/versions/2009/impact", tokens["ie"], status=409)


def test_publish(client, session, tokens):
    call(client, "PUT", "/api/v1/frameworks/IE-NFQ/levels/6/links", tokens["ie"], json=MOVE)
    draft = dt.date.today().isoformat()  # the label a draft started by an edit gets
    url = f"/api/v1/frameworks/IE-NFQ/versions/{draft}/publish"
    call(client, "POST", url, tokens["de"], json={"valid_from": "2027-01-01"}, status=403)
    call(client, "POST", url, tokens["registrar"], json={"valid_from": "2027-01-01"}, status=403)
    published = call(client, "POST", url, tokens["ie"], json={"valid_from": "2027-01-01"})
    assert published["status"] == "published" and published["valid_from"] == "2027-01-01"
    call(client, "POST", url, tokens["ie"], json={}, status=409)
    versions = call(client, "GET", "/api/v1/frameworks/IE-NFQ", {})["versions"]
    assert [(v["version"], v["status"], v["valid_to"]) for v in versions] == [
        ("2009", "superseded", "2027-01-01"),
        (draft, "published", None),
    ]
    # The award date picks the version: before 2027 the old referencing, after it the new.
    old = call(client, "GET", "/api/v1/equivalents?level=IE-NFQ:6&target=DE-DQR&on=2020-06-30", {})
    new = call(client, "GET", "/api/v1/equivalents?level=IE-NFQ:6&target=DE-DQR&on=2027-06-30", {})
    assert [m["level"] for m in old["matches"]] == ["DE-DQR:5"]
    assert [m["level"] for m in new["matches"]] == ["DE-DQR:4"]
    # The superseded version's levels and links are untouched.
    old_level = session.scalar(
        select(Level)
        .join(FrameworkVersion)
        .join(Framework)
        .where(Framework.code == "IE-NFQ", FrameworkVersion.version == "2009", Level.code == "6")
    )
    assert [
        link.target.ref for link in old_level.version.links if link.source_id == old_level.id
    ] == ["EQF:5"]
    actions = [
        (e.action, e.outcome)
        for e in reversed(
            session.scalars(select(AuditEvent).order_by(AuditEvent.id.desc()).limit(4)).all()
        )
    ]
    assert actions == [
        ("framework.publish", "refused"),
        ("framework.publish", "refused"),
        ("framework.publish", "allowed"),
        ("framework.publish", "refused"),
    ]


def test_publish_date_cannot_be_in_the_past(client, tokens):
    call(
        client,
        "PUT",
        "/api/v1/frameworks/FR-CNCP/levels/5/links",
        tokens["admin"],
        json=[{"to": "EQF:5", "relation": "exactMatch", "basis": "referencing", "citation": "x"}],
    )
    draft = dt.date.today().isoformat()
    for day in ("2018-01-01", (dt.date.today() - dt.timedelta(days=1)).isoformat()):
        body = call(
            client,
            "POST",
            f"/api/v1/frameworks/FR-CNCP/versions/{draft}/publish",
            tokens["admin"],
            json={"valid_from": day},
            status=400,
        )
        assert "valid_from" in body["errors"]


def test_audit_trail_access(client, session, tokens):
    start_draft(client, tokens)
    everything = call(client, "GET", "/api/v1/audit", tokens["admin"])
    assert everything and everything[0]["action"] == "framework.version.create"
    own = call(client, "GET", "/api/v1/audit?entity=framework:IE-NFQ", tokens["ie"])
    assert own and all(e["entity"].startswith("framework:IE-NFQ") for e in own)
    assert own[0]["after"]["version"] == "2027" and own[0]["request_id"]
    call(client, "GET", "/api/v1/audit?entity=framework:IE-NFQ", tokens["de"], status=403)
    call(client, "GET", "/api/v1/audit", tokens["ie"], status=403)
    call(client, "GET", "/api/v1/audit", tokens["registrar"], status=403)
    call(client, "GET", "/api/v1/audit", {}, status=401)
    call(client, "GET", "/api/v1/audit?entity=framework:XX-NOPE", tokens["admin"], status=404)
    # Ids that are no database integer are no institution: an empty trail, not an error.
    for odd in ("9" * 30, "²"):
        assert call(client, "GET", f"/api/v1/audit?entity=institution:{odd}", tokens["admin"]) == []


# --- bad tokens ----------------------------------------------------------------------------------


@pytest.mark.parametrize("who, detail", [("expired", "expired"), ("revoked", "revoked")])
def test_expired_and_revoked_tokens_are_refused_and_audited(client, session, tokens, who, detail):
    before = audit_count(session, "refused")
    body = call(client, "POST", "/api/v1/frameworks/IE-NFQ/versions", tokens[who], status=401)
    assert detail in body["detail"]
    assert audit_count(session, "refused") == before + 1
    # A bad token is refused on reads too, so the client learns of it at once.
    call(client, "GET", "/api/v1/frameworks", tokens[who], status=401)


@pytest.mark.parametrize(
    "header", ["Bearer", "Bearer ", "Basic dXNlcjpwYXNz", "Bearer nope", "Bearer crr_" + "A" * 43]
)
def test_malformed_or_unknown_tokens(client, header):
    response = client.get("/api/v1/frameworks", headers={"Authorization": header})
    assert response.status_code == 401 and response.mimetype == PROBLEM
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_token_secret_is_stored_only_as_a_hash(session, tokens):
    secret = tokens["ie"]["Authorization"].split()[1]
    stored = session.execute(text("SELECT token_hash, hint FROM api_token")).all()
    assert all(secret not in (row.token_hash + row.hint) for row in stored)
    assert any(row.hint == secret[:10] for row in stored)


# --- hostile input --------------------------------------------------------------------------------

HOSTILE = [
    "'; DROP TABLE level; --",
    "1 OR 1=1",
    "{{ 7*7 }}",
    "{% print('x') %}",
    "<script>alert(1)</script>",
    "${7*7}",
    "\u202eevil",
]


@pytest.mark.parametrize("payload", HOSTILE)
def test_injection_strings_are_stored_verbatim_and_harmless(client, session, tokens, payload):
    edited = call(
        client,
        "PATCH",
        "/api/v1/frameworks/IE-NFQ/levels/8",
        tokens["ie"],
        json={"title": payload, "note": payload, "qualification_types": [payload]},
    )
    assert edited["title"] == edited["note"] == payload and edited["qualification_types"] == [
        payload
    ]
    assert session.scalar(select(func.count()).select_from(Level)) > 100
    lu = {**LU, "name": payload, "levels": [{**LU["levels"][0], "title": payload}], "links": []}
    assert call(client, "POST", "/api/v1/frameworks", tokens["lu"], json=lu, status=201)
    assert call(client, "GET", "/api/v1/frameworks/LU-TQF", {})["name"] == payload
    # In a query parameter it is just a malformed reference.
    response = client.get("/api/v1/equivalents", query_string={"level": payload, "target": "EQF"})
    assert response.status_code in (400, 404) and response.mimetype == PROBLEM


def test_non_json_body_is_400(client, tokens):
    response = client.post(
        "/api/v1/frameworks", data="not json", headers=tokens["lu"], content_type="application/json"
    )
    assert response.status_code == 400 and "body" in response.get_json()["errors"]


def test_oversized_body_is_413(app, tokens):
    app.config["MAX_CONTENT_LENGTH"] = 10_000
    response = app.test_client().post(
        "/api/v1/frameworks", headers=tokens["lu"], json={**LU, "description": "x" * 20_000}
    )
    assert response.status_code == 413 and response.mimetype == PROBLEM


def limited_app(engine, session, **settings):
    from registry.app import create_app

    app = create_app(
        {
            "DATABASE_URL": str(engine.url.render_as_string(hide_password=False)),
            "TESTING": True,
            "IMPORTS_INLINE": True,
            **settings,
        }
    )
    app.extensions["registry.sessions"] = lambda: session
    return app


def test_flood_gets_429_after_the_limit(engine, session):
    client = limited_app(engine, session, RATELIMIT_ANONYMOUS="5 per minute").test_client()
    statuses = [client.get("/api/v1/frameworks").status_code for _ in range(8)]
    assert statuses[:5] == [200] * 5 and statuses[5:] == [429] * 3
    refused = client.get("/api/v1/frameworks")
    assert refused.mimetype == PROBLEM and refused.get_json()["status"] == 429
    assert "Retry-After" in refused.headers


def test_the_limit_counts_per_client_not_per_route(engine, session):
    """Issue 16, finding 8: a client that spreads its requests over routes has one budget."""
    client = limited_app(engine, session, RATELIMIT_ANONYMOUS="5 per minute").test_client()
    routes = ["/api/v1/frameworks", "/api/v1/frameworks/IE-NFQ", "/api/v1/institutions?q=x"]
    statuses = [client.get(routes[n % 3]).status_code for n in range(8)]
    assert statuses[:5] == [200] * 5 and statuses[5:] == [429] * 3
    # Another client (a valid token) has a budget of its own.
    account = accounts.get_or_create_account(session, "budget-ie", "ministry", ["IE"])
    _, secret = accounts.create_token(session, account)
    session.commit()
    mine = client.get("/api/v1/frameworks", headers={"Authorization": f"Bearer {secret}"})
    assert mine.status_code == 200


def test_bogus_tokens_are_limited_and_cannot_flood_the_audit_trail(engine, session):
    """Issue 16, finding 7: 500 requests with made-up tokens got 0 x 429 and 379 new rows.
    A bad token is counted against its address, and refusals are written per client only up
    to AUDIT_REFUSALS a window, then once more as a summary."""
    client = limited_app(
        engine, session, RATELIMIT_ANONYMOUS="20 per minute", AUDIT_REFUSALS="5 per minute"
    ).test_client()
    before = audit_count(session)
    statuses = [
        client.post(
            "/api/v1/frameworks/IE-NFQ/versions",
            headers={"Authorization": f"Bearer crr_{n:043d}"},
            json={"version": "2027"},
        ).status_code
        for n in range(60)
    ]
    assert statuses[:20] == [401] * 20 and set(statuses[20:]) == {429}
    assert audit_count(session) == before + 6
    summary = session.scalars(select(AuditEvent).order_by(AuditEvent.id.desc()).limit(1)).one()
    assert summary.action == "audit.refusals_throttled" and summary.outcome == "refused"


def test_a_refusal_on_a_long_path_is_recorded_not_a_500(client, session):
    """The refusal of a request whose path is longer than the audit columns was lost in a 500
    (PostgreSQL checks lengths); it is recorded, cut to the columns' size."""
    path = "/api/v1/frameworks/" + "X" * 300 + "/versions"
    response = client.post(path, headers={"Authorization": "Bearer nope"}, json={})
    assert response.status_code == 401
    last = session.scalars(select(AuditEvent).order_by(AuditEvent.id.desc()).limit(1)).one()
    assert last.outcome == "refused" and last.entity == path[:200] and len(last.action) <= 60


@pytest.mark.parametrize("testing", [True, False])
def test_a_write_that_ends_in_a_server_error_is_recorded(
    engine, session, tokens, monkeypatch, testing
):
    from frameworks import editing

    def broken(*_args, **_kwargs):
        raise RuntimeError("something broke")

    monkeypatch.setattr(editing, "new_draft", broken)
    client = limited_app(engine, session, TESTING=testing).test_client()
    before = audit_count(session, "failed")
    if testing:
        with pytest.raises(RuntimeError):
            start_draft(client, tokens)
    else:
        response = client.post(
            "/api/v1/frameworks/IE-NFQ/versions", headers=tokens["ie"], json={"version": "x"}
        )
        assert response.status_code == 500 and "something" not in response.get_data(as_text=True)
    assert audit_count(session, "failed") == before + 1
    last = session.scalars(select(AuditEvent).order_by(AuditEvent.id.desc()).limit(1)).one()
    assert (last.actor, last.detail) == ("test-ie", "Server error (RuntimeError).")


def test_login_cookie_does_not_authorise_the_api(app, client, session):
    account = accounts.get_or_create_account(session, "cookie-ie", "ministry", ["IE"])
    session.commit()
    with client.session_transaction() as cookie:
        cookie["account_id"] = account.id
    # A cross-site form could send the cookie, but never a bearer token.
    call(client, "POST", "/api/v1/frameworks/IE-NFQ/versions", {}, status=401)


def test_cors_is_off(client):
    response = client.get("/api/v1/frameworks", headers={"Origin": "https://evil.example"})
    assert "Access-Control-Allow-Origin" not in response.headers
    preflight = client.options(
        "/api/v1/frameworks",
        headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "POST"},
    )
    assert "Access-Control-Allow-Origin" not in preflight.headers


# --- the permission table itself -----------------------------------------------------------------


def test_permission_table():
    ie = Actor("ie", "ministry", frozenset({"IE"}))
    institution = Actor("uni", "institution", frozenset({"42"}))
    ie_nfq = Target("framework", "IE-NFQ", country="IE", framework="IE-NFQ")
    eqf = Target("framework", "EQF", framework="EQF")
    authorize(ie, "framework.edit", ie_nfq)
    for action, target in [
        ("framework.edit", eqf),
        ("token.manage", ie_nfq),
        ("institution.edit", Target("institution", "42", institution="42")),
    ]:
        with pytest.raises(Exception, match="may not"):
            authorize(ie, action, target)
    authorize(institution, "catalogue.edit", Target("course", "c1", institution="42"))
    with pytest.raises(Exception, match="outside its scope"):
        authorize(institution, "catalogue.edit", Target("course", "c1", institution="43"))
    assert set(ACTIONS) >= {
        "framework.create",
        "framework.publish",
        "link.edit",
        "rule.edit",
        "import.run",
        "audit.read",
    }


def _concrete(rule):
    """A URL for a route, with a value in each of its parts."""
    url = rule
    for part, value in (
        ("<int:institution_id>", "1"),
        ("<int:evaluation_id>", "1"),
        ("<int:articulation_id>", "1"),
        ("<int:review_id>", "1"),
        ("<int:pathway_id>", "1"),
        ("<code>", "IE-NFQ"),
        ("<version>", "2027"),
        ("<level>", "8"),
        ("<rule_id>", "r1"),
    ):
        url = url.replace(part, value)
    assert "<" not in url, url
    return url


@pytest.mark.parametrize("method, rule", sorted(WRITES))
def test_every_write_is_authorised_before_its_input_is_read(client, tokens, method, rule):
    """Issue 17, item 8: anonymous and wrong-role writes are refused (401, 403), never validated
    first (400): whatever the body and the query, the caller is checked before them."""
    from registry.api import write_actions

    app = client.application
    endpoint = next(r.endpoint for r in app.url_map.iter_rules() if r.rule == rule)
    with app.test_request_context():
        actions = write_actions(endpoint, method)
    assert actions, f"{method} {rule}: no @writes declaration"
    url = _concrete(rule) + "?target=&on=not-a-date&target_qualification_type=phd"
    # (A private record answers 404 to others, anonymous included, as an id that does not exist.)
    private = method == "POST" and rule in (
        "/api/v1/transfers/<int:evaluation_id>/decisions",
        "/api/v1/transfers/<int:evaluation_id>/rejections",
    )
    for kwargs in (
        {"json": {"no such field": "\u0000"}},
        {"data": "{not json", "content_type": "application/json"},
        {},
    ):
        response = client.open(url, method=method, **kwargs)
        expected = 404 if private else 401
        assert response.status_code == expected, (method, rule, response.get_data(as_text=True))
        assert response.mimetype == PROBLEM
    # A role that may take none of the endpoint's actions is refused before validation too.
    roles = set().union(*(ACTIONS[action] for action in actions))
    callers = (("registrar", "registrar"), ("ie", "ministry"))
    wrong = [key for key, role in callers if role not in roles]
    for key in wrong:
        response = client.open(url, method=method, headers=tokens[key], json={"x": 1})
        expected = 404 if private else 403
        assert response.status_code == expected, (method, rule, response.get_data(as_text=True))


# --- drafts are easy to find for their owners, and private to them (issue 17, item 10) --------


def test_the_first_edit_names_the_draft_and_owners_find_it(client, tokens):
    url = "/api/v1/frameworks/IE-NFQ"
    assert call(client, "GET", url, tokens["ie"])["drafts"] == []
    edited = client.patch(
        f"{url}/levels/8", headers=tokens["ie"], json={"knowledge": "Edited in a draft."}
    )
    assert edited.status_code == 200, edited.get_json()
    draft = edited.get_json()["draft"]
    assert draft["framework"] == "IE-NFQ" and draft["version"] not in ("", "2009")
    assert draft["url"] == f"{url}/versions/{draft['version']}"
    assert edited.headers["Content-Location"] == draft["url"]
    shown = call(client, "GET", draft["url"], tokens["ie"])
    assert shown["status"] == "draft" and shown["version"] == draft["version"]
    # Moving a level answers with the same draft's name too.
    links = client.put(
        f"{url}/levels/8/links",
        headers=tokens["ie"],
        json=[{"to": "EQF:6", "relation": "exactMatch", "basis": "referencing", "citation": "R"}],
    )
    assert links.status_code == 200 and links.headers["Content-Location"] == draft["url"]

    # The framework lists its drafts to its owners (its ministry, admins), to no one else.
    for owner in ("ie", "admin"):
        answer = call(client, "GET", url, tokens[owner])
        assert [d["version"] for d in answer["drafts"]] == [draft["version"]], owner
        assert draft["version"] not in [v["version"] for v in answer["versions"]]
    for other in ("de", "registrar", "anonymous"):
        answer = call(client, "GET", url, tokens[other])
        assert "drafts" not in answer, other
        assert draft["version"] not in [v["version"] for v in answer["versions"]], other

    # A wrong draft name says which draft exists, to its owners only.
    wrong = f"{url}/versions/2099"
    named = call(client, "GET", wrong, tokens["ie"], status=404)
    assert f"draft is version '{draft['version']}'" in named["detail"]
    for other in ("de", "anonymous"):
        hidden = call(client, "GET", wrong, tokens[other], status=404)
        assert draft["version"] not in str(hidden), other
    for method, path, status in (
        ("POST", f"{wrong}/publish", 404),
        ("PUT", wrong, 404),
        ("POST", f"{wrong}/impact", 409),
        ("POST", f"{url}/versions/2009/impact", 409),
    ):
        body = {"code": "IE-NFQ"} if method == "PUT" else None
        problem = call(client, method, path, tokens["ie"], json=body, status=status)
        assert draft["version"] in problem["detail"], (method, path, problem)
    published = call(client, "PUT", f"{url}/versions/2009", tokens["ie"], json={}, status=409)
    assert f"draft, version {draft['version']}" in published["detail"]
