"""Public reads answered from memory: ETag and Cache-Control, 304 without computing, at most one
query a cached look-up, a new answer after every write that changes published data (in every
process), and nothing a caller may not see kept in or served from the public cache."""

import datetime as dt
import json
import re
import secrets
import string

import pytest
from sqlalchemy import event, select
from sqlalchemy.orm import Session

from frameworks import editing
from frameworks.models import Framework
from frameworks.reference import import_definition, load_reference
from frameworks.services import DATA_DIR, bump_graph_generation, load_grading_scales
from registry.api.caching import PRIVATE, PUBLIC, Answers
from registry.app import create_app
from registry.core import accounts
from registry.core.permissions import OPERATOR

EQUIVALENTS = "/api/v1/equivalents?level=IE-NFQ:6&target=EQF"
PUBLIC_READS = [
    EQUIVALENTS,
    "/api/v1/frameworks",
    "/api/v1/frameworks/IE-NFQ",
    "/api/v1/frameworks/IE-NFQ/versions/2009",
    "/api/v1/frameworks/IE-NFQ/levels",
    "/api/v1/frameworks/IE-NFQ/levels/8",
    "/api/v1/credits/convert?value=240&from=GB-CATS&to=ECTS",
    "/api/v1/grades/convert?value=1.7&from=DE-1-5&to=FR-0-20",
    "/api/v1/institutions?q=Trinity+College+Dublin",
]
MOVE = [{"to": "EQF:4", "relation": "exactMatch", "basis": "referencing", "citation": "Moved"}]
TRANSACTION_CONTROL = re.compile(r"^\s*(BEGIN|COMMIT|ROLLBACK|SAVEPOINT|RELEASE)\b", re.I)


@pytest.fixture
def headers(session):
    made = {}
    for key, role, scopes in [("ie", "ministry", ["IE"]), ("admin", "admin", [])]:
        account = accounts.get_or_create_account(session, f"cache-{key}", role, scopes)
        made[key] = {"Authorization": f"Bearer {accounts.create_token(session, account)[1]}"}
    session.commit()
    return made


@pytest.fixture
def trinity(client, headers):
    record = {"name": "Trinity College Dublin", "country": "IE", "domains": ["tcd.ie"]}
    created = client.post("/api/v1/institutions", json=record, headers=headers["admin"])
    assert created.status_code == 201, created.get_data(as_text=True)
    return created.get_json()["id"]


def queries(engine) -> list[str]:
    """The statements run on `engine` from now on, transaction control left out."""
    seen: list[str] = []

    def count(_conn, _cursor, statement, *_args):
        if not TRANSACTION_CONTROL.match(statement):
            seen.append(statement)

    event.listen(engine, "before_cursor_execute", count)
    return seen


def get(client, url, headers=None, status=200):
    response = client.get(url, headers=headers or {})
    assert response.status_code == status, response.get_data(as_text=True)
    return response


@pytest.mark.usefixtures("trinity")
@pytest.mark.parametrize("url", PUBLIC_READS)
def test_a_public_read_has_a_stable_tag_and_is_public(client, url):
    first, second = get(client, url), get(client, url)
    assert first.headers["ETag"] and first.headers["ETag"] == second.headers["ETag"]
    assert first.get_data() == second.get_data()
    assert first.headers["Cache-Control"] == second.headers["Cache-Control"] == PUBLIC


@pytest.mark.parametrize(
    "one, other",
    [
        (EQUIVALENTS, "/api/v1/equivalents?level=IE-NFQ:6&target=DE-DQR"),
        (EQUIVALENTS, EQUIVALENTS + "&on=2015-06-30"),
        ("/api/v1/frameworks/IE-NFQ/levels", "/api/v1/frameworks/EQF/levels"),
        (
            "/api/v1/credits/convert?value=240&from=GB-CATS&to=ECTS",
            "/api/v1/credits/convert?value=240.0&from=GB-CATS&to=ECTS",
        ),
        (
            "/api/v1/grades/convert?value=1.7&from=DE-1-5&to=FR-0-20",
            "/api/v1/grades/convert?value=1.7&from=DE-1-5&to=FR-0-20&pass=4.0",
        ),
    ],
)
def test_another_query_has_another_tag(client, one, other):
    assert get(client, one).headers["ETag"] != get(client, other).headers["ETag"]


@pytest.mark.usefixtures("trinity")
@pytest.mark.parametrize("url", PUBLIC_READS)
def test_if_none_match_answers_304_with_no_body(client, url):
    tag = get(client, url).headers["ETag"]
    response = get(client, url, {"If-None-Match": tag}, status=304)
    assert response.get_data() == b""
    assert response.headers["ETag"] == tag and response.headers["Cache-Control"] == PUBLIC
    assert get(client, url, {"If-None-Match": 'W/"another"'}).get_data()


def test_304_and_cached_answers_compute_nothing(app, client, monkeypatch):
    """A fresh process (a new app) answers 304 to a tag another process gave, without
    computing the answer; a kept answer is not computed again either."""
    tag = get(client, EQUIVALENTS).headers["ETag"]
    other = create_app(
        {"DATABASE_URL": app.config["DATABASE_URL"], "TESTING": True, "IMPORTS_INLINE": True}
    )
    other.extensions["registry.sessions"] = app.extensions["registry.sessions"]
    calls = []
    from mappings import services

    real = services.equivalents
    monkeypatch.setattr(services, "equivalents", lambda *args: calls.append(args) or real(*args))
    fresh = other.test_client()
    assert get(fresh, EQUIVALENTS, {"If-None-Match": tag}, status=304).headers["ETag"] == tag
    assert calls == []
    assert get(fresh, EQUIVALENTS).headers["ETag"] == tag and len(calls) == 1
    assert get(fresh, EQUIVALENTS).headers["ETag"] == tag and len(calls) == 1


@pytest.mark.usefixtures("trinity")
@pytest.mark.parametrize("url", PUBLIC_READS)
def test_a_cached_look_up_makes_at_most_one_query(client, engine, url):
    tag = get(client, url).headers["ETag"]
    seen = queries(engine)
    get(client, url)
    assert len(seen) <= 1, seen
    seen.clear()
    get(client, url, {"If-None-Match": tag}, status=304)
    assert len(seen) <= 1, seen


def test_publishing_gives_a_new_tag_and_the_new_answer(client, headers):
    levels_url = "/api/v1/frameworks/IE-NFQ/levels"
    before, levels = get(client, EQUIVALENTS), get(client, levels_url)
    assert [m["level"] for m in before.get_json()["matches"]] == ["EQF:5"]
    # A draft changes nothing anyone else sees: neither the answers nor their tags.
    url = "/api/v1/frameworks/IE-NFQ/levels/6/links"
    assert client.put(url, json=MOVE, headers=headers["ie"]).status_code == 200
    for response, again in ((before, get(client, EQUIVALENTS)), (levels, get(client, levels_url))):
        assert again.headers["ETag"] == response.headers["ETag"]
        assert again.get_data() == response.get_data()
    today = dt.date.today().isoformat()
    publish = f"/api/v1/frameworks/IE-NFQ/versions/{today}/publish"
    published = client.post(publish, json={"valid_from": today}, headers=headers["ie"])
    assert published.status_code == 200, published.get_data(as_text=True)
    after = get(client, EQUIVALENTS, {"If-None-Match": before.headers["ETag"]})
    assert after.headers["ETag"] != before.headers["ETag"]
    assert [m["level"] for m in after.get_json()["matches"]] == ["EQF:4"]
    assert get(client, levels_url).headers["ETag"] != levels.headers["ETag"]


def test_grading_scale_changes_give_new_conversions(client, session):
    url = "/api/v1/grades/convert?value=14&from=FR-0-20&to=DE-1-5"
    before, equivalents = get(client, url), get(client, EQUIVALENTS)
    raw = json.loads((DATA_DIR / "grading_scales.json").read_text(encoding="utf-8"))
    # Reloading the same data changes nothing, not even the tags.
    load_reference(session, OPERATOR)
    assert get(client, url).headers["ETag"] == before.headers["ETag"]
    assert get(client, EQUIVALENTS).headers["ETag"] == equivalents.headers["ETag"]
    for scale in raw["grading_scales"]:
        if scale["code"] == "FR-0-20":
            scale["pass_mark"] = "12"
    load_grading_scales(session, raw)
    after = get(client, url)
    assert after.headers["ETag"] != before.headers["ETag"]
    assert after.get_json()["value"] != before.get_json()["value"]


def test_institution_writes_give_new_answers(client, headers, trinity):
    search = "/api/v1/institutions?q=Dublin+City+University&country=IE"
    record_url = f"/api/v1/institutions/{trinity}"
    found, record = get(client, search), get(client, record_url)
    assert found.get_json()["verdict"] == "no_match"
    created = client.post(
        "/api/v1/institutions",
        json={"name": "Dublin City University", "country": "IE"},
        headers=headers["admin"],
    )
    assert created.status_code == 201
    again = get(client, search)
    assert again.headers["ETag"] != found.headers["ETag"]
    assert again.get_json()["verdict"] == "matched"
    status = {"status": "recognised", "status_source": "Test list, 2026"}
    assert client.put(f"{record_url}/status", json=status, headers=headers["admin"]).status_code
    changed = get(client, record_url)
    assert changed.headers["ETag"] != record.headers["ETag"]
    assert changed.get_json()["status"] == "recognised"


def test_drafts_are_never_kept_nor_served_to_others(client, headers):
    draft = client.post(
        "/api/v1/frameworks/IE-NFQ/versions", json={"version": "v-next"}, headers=headers["ie"]
    )
    assert draft.status_code == 201
    label = draft.get_json()["version"]
    framework, version = "/api/v1/frameworks/IE-NFQ", f"/api/v1/frameworks/IE-NFQ/versions/{label}"
    for _ in range(2):  # the owner's answers first, then everyone's, then the owner's again
        own = get(client, framework, headers["ie"])
        assert [d["version"] for d in own.get_json()["drafts"]] == [label]
        assert own.headers["Cache-Control"] == PRIVATE and "ETag" not in own.headers
        assert "Authorization" in own.headers["Vary"]
        assert get(client, version, headers["ie"]).headers["Cache-Control"] == PRIVATE
        public = get(client, framework)
        assert "drafts" not in public.get_json() and public.headers["Cache-Control"] == PUBLIC
        assert "Authorization" in public.headers["Vary"]
        assert label not in public.get_data(as_text=True)
        # To anyone else a draft does not exist: 404, as for a wrong name, and nothing kept.
        hidden = get(client, version, status=404)
        assert "ETag" not in hidden.headers and "drafts" not in hidden.get_json()


def test_other_api_answers_are_private(client, headers):
    audit = get(client, "/api/v1/audit", headers["admin"])
    assert audit.headers["Cache-Control"] == PRIVATE and "ETag" not in audit.headers
    error = get(client, "/api/v1/equivalents?level=IE-NFQ:99&target=EQF", status=400)
    assert error.headers["Cache-Control"] == PRIVATE and "ETag" not in error.headers


def test_answers_are_bounded_oldest_first():
    answers = Answers(size=2)
    for tag in ("a", "b", "c"):
        answers.put(tag, tag.encode())
    assert [answers.get(tag) for tag in ("a", "b", "c")] == [None, b"b", b"c"]


# --- two processes over one database: these commit, on a framework of their own ------------


@pytest.fixture
def two_processes(engine, tmp_path):
    """Two apps (as two server processes) on the test database, writes committed for real; the
    framework they make is removed afterwards."""
    code = "LU-K" + "".join(secrets.choice(string.ascii_uppercase) for _ in range(5))
    url = engine.url.render_as_string(hide_password=False)
    config = {"DATABASE_URL": url, "TESTING": True, "IMPORTS_INLINE": True}
    apps = [create_app({**config, "IMPORTS_DIR": tmp_path / "uploads"}) for _ in range(2)]
    yield apps, code
    for app in apps:
        app.extensions["registry.engine"].dispose()
    with Session(engine) as session:
        for framework in session.scalars(select(Framework).where(Framework.code == code)):
            session.delete(framework)
        bump_graph_generation(session)
        session.commit()


def test_a_write_in_one_process_reaches_the_other(engine, two_processes):
    apps, code = two_processes
    definition = {
        "code": code,
        "name": "Cache test framework",
        "country": "LU",
        "version": {"version": "1", "citation": "Test"},
        "levels": [{"code": "1", "ordinal": 1, "title": "One"}],
        "links": [
            {
                "from": f"{code}:1",
                "to": "EQF:4",
                "relation": "exactMatch",
                "basis": "decision",
                "citation": "Test",
            }
        ],
    }
    with Session(engine) as session:
        import_definition(session, OPERATOR, definition)
        session.commit()
    url = f"/api/v1/equivalents?level={code}:1&target=EQF"
    clients = [app.test_client() for app in apps]

    def answers(**headers):
        got = [get(client, url, headers) for client in clients]
        assert got[0].headers["ETag"] == got[1].headers["ETag"]
        return got[0].headers["ETag"], [m["level"] for m in got[0].get_json()["matches"]]

    tag, levels = answers()
    assert levels == ["EQF:4"]
    seen = queries(apps[0].extensions["registry.engine"])
    get(clients[0], url)
    assert len(seen) <= 1, seen
    with Session(engine) as session:
        draft = editing.new_draft(session, OPERATOR, code, {"version": "2"}).version
        editing.replace_level_links(session, OPERATOR, code, "1", [{**MOVE[0], "to": "EQF:5"}])
        session.commit()
    assert answers() == (tag, ["EQF:4"])  # a draft: nothing public changed
    with Session(engine) as session:
        editing.publish(session, OPERATOR, code, draft, {"valid_from": dt.date.today().isoformat()})
        session.commit()
    new_tag, levels = answers(**{"If-None-Match": tag})
    assert new_tag != tag and levels == ["EQF:5"]
