"""The whole web application as each role meets it (issue 20, item 7): signing in returns to the
page asked for and never to another site; each role is offered its own tasks and no one
else's; a refusal is a clear page (401, 403, 404); every form carries a CSRF token and a form
without one is refused; the language switch; and every page is reachable from the home page.

The route-walking tests read the blueprint's routes from `app.url_map`, so a page or a form
added later is checked without changing them. A page of a record is reached when that record
exists: `world` makes one of each kind; a new kind of page needs its record made there.
"""

from __future__ import annotations

import io
import json
import re
from collections import deque
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urlencode, urljoin, urlsplit

import pytest
from flask import url_for
from werkzeug.exceptions import MethodNotAllowed, NotFound
from werkzeug.routing import RequestRedirect

from frameworks import editing
from registry.catalogue.schemas import QualificationRecordSchema
from registry.catalogue.services import upsert_qualifications
from registry.core import accounts
from registry.core.errors import Hidden
from registry.core.permissions import ANONYMOUS, Actor, owner_of
from registry.match_reviews import services as match_reviews
from registry.web.base import TASKS, domain_error_page
from tests.registry.test_imports_api import WORLD
from tests.registry.test_match_reviews import add_institutions
from tests.registry.test_web import PASSWORD, csrf_token, html, sign_in

EXAMPLE = json.loads(
    (Path(__file__).resolve().parents[2] / "examples" / "credential.json").read_text()
)
# A transcript the institution received, for its transfer evaluation.
TRANSCRIPT = {
    "issuer": {"name": "University of Warsaw", "country": "PL", "identifiers": {}},
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
# The accounts the pages are walked with: role -> (name, scopes); "{ucd}" is the institution's id.
ROLES = {
    "admin": ("Registry operator", []),
    "ministry": ("Department of Education (IE)", ["IE"]),
    "registrar": ("Admissions, Trinity College Dublin", []),
    "institution": ("Registry office, University College Dublin", ["{ucd}"]),
}
OTHER_OFFICE = "Admissions, another office"
# A link to one of these is a download: seen (so its page is reached) but not fetched.
DOWNLOAD = re.compile(r"\.(pdf|csv|svg|json|xml|zip|txt|xlsx)$")
# Pages fetched at most per route and per role: one instance of a route is enough, and a list
# of a thousand records must not make the walk a thousand pages long.
PER_ROUTE, PER_ROLE = 30, 500
# Not pages: what the pages' scripts ask for (suggestions as one types, an import's progress).
FOR_SCRIPTS = {"web.institution_suggestions", "web.import_status"}


class Office:
    """The institutions the accounts need, and an account of each role made (with PASSWORD)
    when a test first asks for it: hashing a password is slow on purpose."""

    def __init__(self, app, session):
        self.app, self.session = app, session
        self.ids = add_institutions(
            session,
            {
                "ucd": ("University College Dublin", "IE"),
                "ucc": ("University College Cork", "IE"),
            },
        )
        self.made: dict[str, accounts.Account] = {}

    def account(self, role: str) -> accounts.Account:
        if role not in self.made:
            name, scopes = (OTHER_OFFICE, []) if role == "other" else ROLES[role]
            made = accounts.get_or_create_account(
                self.session,
                name,
                "registrar" if role == "other" else role,
                [s.format(**self.ids) for s in scopes],
            )
            accounts.set_password(made, PASSWORD)
            self.session.commit()
            self.made[role] = made
        return self.made[role]

    def token(self, role: str) -> dict[str, str]:
        token = accounts.create_token(self.session, self.account(role))[1]
        self.session.commit()
        return {"Authorization": f"Bearer {token}"}

    def client(self, role: str):
        """A browser signed in as `role` ("anonymous": not signed in)."""
        client = self.app.test_client()
        if role != "anonymous":
            assert sign_in(client, self.account(role).name).status_code == 302
        return client


@pytest.fixture
def office(app, session) -> Office:
    return Office(app, session)


@pytest.fixture
def world(app, session, office):
    """One record of each kind a page shows: a draft of the ministry's framework, an
    assessment of the registrar, an import job of the admin, an entry in the review queue of
    ambiguous matches, a transfer evaluation and a pathway evaluation of the institution."""
    ministry = office.account("ministry")
    draft = editing.new_draft(session, ministry.actor(), "IE-NFQ", None).version
    session.commit()
    api = app.test_client()
    registrar = office.token("registrar")
    assessed = api.post("/api/v1/assessments?target=DE", json=EXAMPLE, headers=registrar)
    assert assessed.status_code == 201, assessed.get_data(as_text=True)
    upload = {
        "format": "institutions-json",
        "file": (io.BytesIO(json.dumps(WORLD).encode()), "w.json"),
    }
    imported = api.post("/api/v1/imports", data=upload, headers=office.token("admin"))
    assert imported.status_code == 202, imported.get_data(as_text=True)
    sightings = match_reviews.Sightings()
    candidates = [
        {"id": office.ids[key], "name": name, "country": "IE", "score": score, "matched_on": "name"}
        for key, name, score in (
            ("ucd", "University College Dublin", 84.0),
            ("ucc", "University College Cork", 83.5),
        )
    ]
    sightings.met(
        "University Colege",
        "IE",
        {"verdict": "ambiguous", "candidates": candidates},
        "assessment",
        assessed.get_json()["id"],
        owner_of(office.account("registrar").actor()),
    )
    sightings.write(session)
    session.commit()
    evaluated = api.post(
        "/api/v1/transfers",
        json={"transcript": TRANSCRIPT, "institution": office.ids["ucd"], "on": "2024-09-01"},
        headers=office.token("institution"),
    )
    assert evaluated.status_code in (200, 201), evaluated.get_data(as_text=True)
    (programme,) = upsert_qualifications(
        session,
        [
            QualificationRecordSchema().load(
                {"institution_id": office.ids["ucd"], "code": "MSC-WALK", "title": "MSc Walk"}
            )
        ],
    )
    session.commit()
    toward = api.post(
        "/api/v1/pathway-evaluations",
        json={"programme": programme.item.id, "credentials": [EXAMPLE]},
        headers=office.token("institution"),
    )
    assert toward.status_code == 201, toward.get_data(as_text=True)
    return {
        "draft": draft,
        "private": {
            "assessment_id": assessed.get_json()["id"],
            "job_id": imported.get_json()["id"],
            "evaluation_id": evaluated.get_json()["id"],
        },
    }


def actor_of(role: str) -> Actor:
    return ANONYMOUS if role == "anonymous" else Actor(ROLES[role][0], role)


def web_routes(app, method: str):
    return [
        rule
        for rule in app.url_map.iter_rules()
        if rule.endpoint.startswith("web.")
        and rule.endpoint != "web.static"
        and method in rule.methods
    ]


# --- signing in and out ----------------------------------------------------------------------


def test_sign_in_returns_to_the_page_asked_for(app, office):
    client = app.test_client()
    refused = client.get("/match-reviews?state=rejected")
    assert refused.status_code == 401
    link = re.search(r'<a href="(/login\?next=[^"]+)">Sign in</a>', html(refused)).group(1)
    form = client.get(link.replace("&amp;", "&"))
    asked = re.search(r'name="next" value="([^"]*)"', html(form)).group(1)
    assert asked.replace("&amp;", "&") == "/match-reviews?state=rejected"
    response = client.post(
        "/login",
        data={
            "name": office.account("ministry").name,
            "password": PASSWORD,
            "next": asked.replace("&amp;", "&"),
            "csrf_token": csrf_token(form),
        },
    )
    assert response.status_code == 302 and response.location == "/match-reviews?state=rejected"
    assert client.get(response.location).status_code == 200


@pytest.mark.parametrize(
    "target",
    [
        "//evil.example",
        "//evil.example/login",
        "https://evil.example/",
        "/\\evil.example",
        # Browsers drop tabs and line breaks from an address: these are //evil.example too.
        "/\t/evil.example/phish",
        "/\n/evil.example",
        "/\r\n/evil.example",
        "javascript:alert(1)",
        "evil.example",
        "",
    ],
)
def test_sign_in_never_returns_to_another_site(app, office, target):
    client = app.test_client()
    page = client.get("/login", query_string={"next": target})
    response = client.post(
        "/login",
        data={
            "name": office.account("registrar").name,
            "password": PASSWORD,
            "next": target,
            "csrf_token": csrf_token(page),
        },
    )
    assert response.status_code == 302 and response.location == "/"


def test_sign_out_ends_the_session_and_the_tasks_that_need_it(office):
    client = office.client("ministry")
    assert 'href="/match-reviews"' in html(client.get("/"))
    response = client.post("/logout", data={"csrf_token": csrf_token(client.get("/"))})
    assert response.status_code == 302 and response.location == "/"
    home = html(client.get("/"))
    assert "Signed out." in home and 'href="/match-reviews"' not in home
    assert client.get("/match-reviews").status_code == 401


# --- what each role is offered ---------------------------------------------------------------


def nav_tasks(page: str) -> set[str]:
    nav = re.search(r'<nav aria-label="Tasks">(.*?)</nav>', page, re.S).group(1)
    return set(re.findall(r'href="([^"]+)"', nav))


@pytest.mark.parametrize("role", ["anonymous", *ROLES])
def test_each_role_is_offered_its_own_tasks_and_no_others(app, office, role):
    client = office.client(role)
    home = html(client.get("/"))
    with app.test_request_context():
        urls = {task: url_for(task.endpoint) for task in TASKS}
    mine = {url for task, url in urls.items() if task.offered_to(actor_of(role))}
    others = set(urls.values()) - mine
    assert nav_tasks(home) == mine
    listed = set(re.findall(r'<li><a href="([^"]+)">', home.split('class="tasks"', 1)[1]))
    assert mine <= listed and not (others & listed)
    # A task offered is one the role may do: its page answers, never with a refusal.
    for url in mine:
        assert client.get(url).status_code == 200, (role, url)


@pytest.mark.parametrize(
    "role, offered, not_offered",
    [
        ("anonymous", {"/frameworks"}, {"/match-reviews"}),
        ("registrar", {"/frameworks"}, {"/match-reviews"}),
        ("institution", {"/frameworks"}, {"/match-reviews"}),
        ("ministry", {"/frameworks", "/match-reviews"}, set()),
        ("admin", {"/frameworks", "/match-reviews"}, set()),
    ],
)
def test_the_review_queue_is_offered_only_to_those_who_decide(office, role, offered, not_offered):
    tasks = nav_tasks(html(office.client(role).get("/")))
    assert offered <= tasks and not (not_offered & tasks)


# --- refusals are pages ----------------------------------------------------------------------


def test_a_page_that_needs_a_login_asks_for_one(app):
    response = app.test_client().get("/match-reviews")
    assert response.status_code == 401 and response.mimetype == "text/html"
    page = html(response)
    assert "<h1>Unauthenticated" in page or "(401)" in page
    assert 'href="/login?next=/match-reviews?"' in page and "Traceback" not in page


def test_a_page_the_role_may_not_see_is_refused_clearly(office):
    response = office.client("registrar").get("/match-reviews")
    assert response.status_code == 403 and response.mimetype == "text/html"
    page = html(response)
    assert 'Permission denied <span class="status">(403)</span>' in page
    assert "The registrar role may not match_review.read." in page
    assert "role or scope does not cover this" in page and "Traceback" not in page


def test_another_offices_record_is_not_found(app, office, world):
    """Every page of a private record (its route takes the record's id) answers 404 to another
    office, exactly as for a record that does not exist."""
    client = office.client("other")
    pages = [
        rule
        for rule in web_routes(app, "GET")
        if rule.arguments and rule.arguments <= set(world["private"])
    ]
    assert {rule.endpoint for rule in pages} >= {
        "web.assessment",
        "web.import_job",
        "web.transfer_evaluation",
    }, "a private record's page is no longer walked: its route's argument was renamed?"
    for rule in pages:
        url = rule.build({name: world["private"][name] for name in rule.arguments})[1]
        response = client.get(url)
        assert response.status_code == 404 and response.mimetype == "text/html", url
        assert "Traceback" not in html(response)
    # The page a refusal of that kind draws, whichever page raises it.
    with app.test_request_context("/assessments/1"):
        body, status = domain_error_page(
            Hidden("No assessment 1.", action="assessment.read", target="assessment:1")
        )
    assert status == 404
    assert 'Not found <span class="status">(404)</span>' in body and "No assessment 1." in body
    assert "Sign in" not in body.split("<main", 1)[1] and "scope" not in body


# --- forms and CSRF --------------------------------------------------------------------------


def test_every_form_route_refuses_a_post_without_a_token(app, office):
    client = office.client("admin")
    client.get("/")  # a page with a form: the session holds a token now
    posted = web_routes(app, "POST")
    assert {"web.login", "web.logout", "web.confirm_match", "web.reject_match"} <= {
        rule.endpoint for rule in posted
    }
    for rule in posted:
        url = rule.build({name: 1 for name in rule.arguments})[1]
        response = client.post(url, data={"name": "x", "reason": "x", "institution_id": "1"})
        assert response.status_code == 400, url
        assert "Form not accepted" in html(response), url
        assert "The CSRF token is missing." in html(response), url


# --- the language ----------------------------------------------------------------------------


def test_the_language_switch_is_remembered(app):
    client = app.test_client()
    response = client.get("/?lang=de")
    assert '<html lang="de">' in html(response)
    assert re.search(r"lang=de;.*SameSite=Lax", response.headers["Set-Cookie"])
    assert '<html lang="de">' in html(client.get("/frameworks"))
    assert 'href="?lang=en"' in html(client.get("/"))
    # A language the registry has no catalogue for changes nothing.
    unknown = client.get("/?lang=xx")
    assert '<html lang="de">' in html(unknown) and "Set-Cookie" not in unknown.headers
    assert '<html lang="en">' in html(client.get("/?lang=en"))
    assert '<html lang="en">' in html(app.test_client().get("/"))


# --- every page, reached from the home page --------------------------------------------------


class Page(HTMLParser):
    """The links and forms of a page."""

    def __init__(self, text: str):
        super().__init__()
        self.links: list[tuple[str, bool]] = []  # (href, a download)
        self.forms: list[dict] = []
        self._select: dict | None = None
        self.feed(text)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "a" and attrs.get("href"):
            self.links.append((attrs["href"], "download" in attrs))
        elif tag == "form":
            method = (attrs.get("method") or "get").lower()
            self.forms.append({"method": method, "action": attrs.get("action") or "", "fields": []})
        elif tag == "input" and self.forms:
            kind = (attrs.get("type") or "text").lower()
            if kind in ("checkbox", "radio") and "checked" not in attrs:
                kind = "unchecked"
            self.forms[-1]["fields"].append((attrs.get("name"), attrs.get("value") or "", kind))
        elif tag == "select" and self.forms:
            self._select = {"name": attrs.get("name"), "options": [], "chosen": None}
        elif tag == "option" and self._select is not None:
            self._select["options"].append(attrs.get("value", ""))
            if "selected" in attrs:
                self._select["chosen"] = attrs.get("value", "")

    def handle_endtag(self, tag):
        if tag == "select" and self._select is not None and self.forms:
            chosen = self._select["chosen"]
            if chosen is None and self._select["options"]:
                chosen = self._select["options"][0]
            self.forms[-1]["fields"].append((self._select["name"], chosen or "", "select"))
            self._select = None


@dataclass
class Walk:
    """What one role reached: pages fetched by link (url -> status), pages submitted by a
    search form, endpoints reached, and the POST forms seen (page, form)."""

    linked: dict[str, int] = field(default_factory=dict)
    submitted: dict[str, int] = field(default_factory=dict)
    reached: set[str] = field(default_factory=set)
    post_forms: list[tuple[str, dict]] = field(default_factory=list)


def walk(app, client) -> Walk:
    """Breadth-first from `/` along the web blueprint's links and search (GET) forms; not the
    API, static files, sign-out, language switches or downloads."""
    adapter = app.url_map.bind("localhost")
    done = Walk()
    per_route: dict[str, int] = {}
    todo: deque[tuple[str, bool]] = deque([("/", True)])
    seen = {"/"}
    while todo and len(done.linked) + len(done.submitted) < PER_ROLE:
        url, by_link = todo.popleft()
        response = client.get(url)
        (done.linked if by_link else done.submitted)[url] = response.status_code
        if response.status_code in (301, 302, 303, 307, 308):
            found = [(response.location, by_link)]
        elif response.status_code == 200 and response.mimetype == "text/html":
            page = Page(html(response))
            found = [(href, True) for href, download in page.links if not download]
            done.reached |= {
                e for href, d in page.links if d and (e := endpoint(adapter, url, href)[0])
            }
            for form in page.forms:
                if form["method"] == "post":
                    done.post_forms.append((url, form))
                else:
                    values = [
                        (n, v)
                        for n, v, kind in form["fields"]
                        if n and kind not in ("unchecked", "submit")
                    ]
                    found.append(
                        (f"{form['action'] or url.split('?')[0]}?{urlencode(values)}", False)
                    )
        else:
            continue
        for href, link in found:
            name, target = endpoint(adapter, url, href)
            if name is None:
                continue
            done.reached.add(name)
            if DOWNLOAD.search(urlsplit(target).path):
                continue
            if target not in seen and per_route.get(name, 0) < PER_ROUTE:
                seen.add(target)
                per_route[name] = per_route.get(name, 0) + 1
                todo.append((target, link))
    return done


def endpoint(adapter, base: str, href: str) -> tuple[str | None, str]:
    """The web endpoint a same-site link leads to and the link as a path with its query; None
    for another site, the API, static files, sign-out and language switches."""
    parts = urlsplit(urljoin(f"http://localhost{base}", href))
    target = parts.path + (f"?{parts.query}" if parts.query else "")
    if parts.netloc != "localhost" or parts.path.startswith("/api") or "lang=" in parts.query:
        return None, target
    try:
        name = adapter.match(parts.path, method="GET")[0]
    except (NotFound, MethodNotAllowed, RequestRedirect):
        return None, target
    if not name.startswith("web.") or name in ("web.static", "web.logout"):
        return None, target
    return name, target


@pytest.mark.parametrize("role", ["anonymous", *ROLES])
def test_every_link_answers_and_every_form_carries_a_token(app, office, world, role):
    """Each role's walk: no link it is shown is refused to it, and every POST form on every
    page it reaches carries a CSRF token."""
    done = walk(app, office.client(role))
    broken = {url: status for url, status in done.linked.items() if status >= 400}
    assert not broken, f"links shown to {role} that answer with an error: {broken}"
    assert done.post_forms, "no form at all: the walk saw too little"
    for url, form in done.post_forms:
        tokens = [v for n, v, _ in form["fields"] if n == "csrf_token"]
        assert tokens and tokens[0], f"a form on {url} (to {form['action']}) has no CSRF token"


def test_every_page_is_reachable_from_the_home_page(app, office, world):
    # Five walks from one address are more than a person's pace, which the rate limit is for.
    app.config["RATELIMIT_ANONYMOUS"] = app.config["RATELIMIT_AUTHENTICATED"] = "10000/minute"
    reached: set[str] = set()
    for role in ("anonymous", *ROLES):
        reached |= walk(app, office.client(role)).reached
    pages = {
        rule.endpoint: rule.rule
        for rule in web_routes(app, "GET")
        if rule.endpoint not in FOR_SCRIPTS
    }
    missing = {name: rule for name, rule in pages.items() if name not in reached}
    assert not missing, (
        "not reached from the home page by any role (a page of a record needs that record made "
        f"in the `world` fixture): {missing}"
    )
    # The walk did follow parametrised routes to the records made for it.
    assert {"web.framework", "web.impact_report", "web.match_review"} <= reached


def test_an_unknown_address_is_a_page_and_an_unknown_api_address_a_problem(client):
    """Outside any view the answer suits the asker: a page for a person, problem+json for the
    API's clients."""
    page = client.get("/no-such-page")
    assert page.status_code == 404 and page.mimetype == "text/html"
    assert "Back to the home page" in page.get_data(as_text=True)
    wrong_method = client.put("/frameworks")
    assert wrong_method.status_code == 405 and wrong_method.mimetype == "text/html"
    api = client.get("/api/v1/no-such-thing")
    assert api.status_code == 404 and api.mimetype == "application/problem+json"


def test_a_server_error_on_a_page_is_a_page_without_a_trace(engine, tmp_path, monkeypatch):
    """Not in testing mode (where the real exception is wanted): a failing page answers the
    error page, logged, with no stack trace."""
    from registry.app import create_app
    from registry.web import frameworks

    def broken(*_args, **_kwargs):
        raise RuntimeError("secret internals")

    monkeypatch.setattr(frameworks.services, "list_frameworks", broken)
    app = create_app(
        {
            "DATABASE_URL": engine.url.render_as_string(hide_password=False),
            "IMPORTS_INLINE": True,
            "IMPORTS_DIR": tmp_path / "uploads",
        }
    )
    assert "registry.import_worker" not in app.extensions
    try:
        response = app.test_client().get("/frameworks")
    finally:
        # The app's own engine, not the test's: closed here, not left to the garbage collector
        # (an open PostgreSQL connection collected later fails whichever test is running).
        app.extensions["registry.engine"].dispose()
    body = response.get_data(as_text=True)
    assert response.status_code == 500 and response.mimetype == "text/html"
    assert "Internal Server Error" in body and "secret internals" not in body
    assert "Traceback" not in body


@pytest.mark.parametrize("role", ["anonymous", "admin"])
def test_every_page_answers_in_german(app, office, world, role):
    """The same walk with German chosen: a translation that breaks a page (a placeholder or a
    plural the catalogue gets wrong) fails here, not in front of a user."""
    app.config["RATELIMIT_ANONYMOUS"] = app.config["RATELIMIT_AUTHENTICATED"] = "10000/minute"
    client = office.client(role)
    client.set_cookie("lang", "de")
    assert '<html lang="de">' in html(client.get("/"))
    done = walk(app, client)
    broken = {url: status for url, status in done.linked.items() if status >= 400}
    assert not broken, f"links shown to {role} in German that answer with an error: {broken}"
    assert len(done.linked) > 20, "the walk saw too little"


def test_a_file_too_large_is_a_page_that_names_the_limit(app, office):
    client = office.client("institution")
    # Small enough that the test client keeps the body in memory (above 500 KB it spools it to a
    # temporary file it does not close when the request is refused).
    app.config["MAX_CONTENT_LENGTH"] = 256 * 1024
    token = csrf_token(client.get("/imports/new"))
    big = io.BytesIO(b"x" * (400 * 1024))
    response = client.post(
        "/imports/new", data={"csrf_token": token, "format": "elmo", "file": (big, "big.xml")}
    )
    assert response.status_code == 413 and response.mimetype == "text/html"
    assert "larger than 0.25 MB" in html(response) and "gzip" in html(response)
    assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_error_pages_speak_the_readers_language(client, office):
    client.set_cookie("lang", "de")
    unknown = html(client.get("/no-such-page"))
    assert 'Nicht gefunden <span class="status">(404)</span>' in unknown
    assert "Unter dieser Adresse gibt es keine Seite" in unknown
    refused = html(office.client("registrar").get("/match-reviews?lang=de"))
    assert 'Keine Berechtigung <span class="status">(403)</span>' in refused
