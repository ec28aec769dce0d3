"""The web pages as a browser uses them: a session login, forms that carry a CSRF token, and the
same services (and permissions, and audit trail) as the API behind them."""

import datetime as dt
import re

import pytest

from frameworks import editing, services
from mappings import services as mappings
from registry.core.accounts import (
    create_token,
    get_or_create_account,
    session_account,
    set_password,
)
from registry.core.audit import events_for

PASSWORD = "correct horse battery staple"
INJECTION = "<script>alert(1)</script> {{7*7}}"


@pytest.fixture
def ministry(session):
    """Make a ministry account that can sign in with PASSWORD."""

    def make(name: str, scope: str):
        account = get_or_create_account(session, name, "ministry", [scope])
        set_password(account, PASSWORD)
        session.commit()
        return account

    return make


def csrf_token(response) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', response.get_data(as_text=True))
    assert match, "the page has no form with a CSRF token"
    return match.group(1)


def sign_in(client, name: str, password: str = PASSWORD):
    page = client.get("/login")
    return client.post(
        "/login", data={"name": name, "password": password, "csrf_token": csrf_token(page)}
    )


def submit(client, page: str, action: str, **fields):
    """Post a form as a browser does: with the token of the page that shows it."""
    return client.post(action, data={**fields, "csrf_token": csrf_token(client.get(page))})


def signed_in_account(client, session) -> int | None:
    """The account whose live web session the client's cookie names."""
    with client.session_transaction() as cookie_session:
        sid = cookie_session.get("sid")
    account = session_account(session, sid) if sid else None
    return account.id if account else None


def statuses(session, code: str) -> dict[str, str]:
    return {
        version.version: version.status
        for version in services.get_framework(session, code).versions
    }


def html(response) -> str:
    return response.get_data(as_text=True)


def versions_shown(page: str) -> dict[str, str]:
    """The rows of a framework page's versions table: label -> status."""
    return dict(
        re.findall(r'<th scope="row"[^>]*>([^<]+)</th>\s*<td><span class="status-(\w+)">', page)
    )


# --- login -----------------------------------------------------------------------------------


def test_sign_in_sets_a_lax_httponly_session_cookie(client, session, ministry):
    account = ministry("Department of Education (IE)", "IE")
    response = sign_in(client, account.name)
    assert response.status_code == 302 and response.location == "/"
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
    # Secure by default: the cookie never travels over plain HTTP (issue 16, finding 8).
    assert "Secure" in cookie
    assert signed_in_account(client, session) == account.id
    home = html(client.get("/"))
    assert "Signed in as <strong>Department of Education (IE)</strong> (ministry: IE)" in home


@pytest.mark.parametrize(
    "name, password",
    [("Department of Education (IE)", "wrong password!"), ("nobody at all", PASSWORD)],
)
def test_failed_sign_in_shows_the_form_again_saying_nothing_more(client, ministry, name, password):
    ministry("Department of Education (IE)", "IE")
    response = sign_in(client, name, password)
    assert response.status_code == 401
    page = html(response)
    assert "Unknown account or wrong password." in page and 'name="password"' in page
    with client.session_transaction() as cookie_session:
        assert "sid" not in cookie_session


def test_sign_out_ends_the_session(client, ministry):
    sign_in(client, ministry("Department of Education (IE)", "IE").name)
    response = submit(client, "/", "/logout")
    assert response.status_code == 302
    with client.session_transaction() as cookie_session:
        assert "sid" not in cookie_session
    assert "Sign in</a>" in html(client.get("/"))


# --- reading ---------------------------------------------------------------------------------


def test_frameworks_page_links_every_framework_to_its_page(client, session):
    page = html(client.get("/frameworks"))
    for framework in services.list_frameworks(session):
        assert f'<a href="/frameworks/{framework.code}">{framework.code}</a>' in page


def test_anonymous_framework_page_shows_versions_and_eqf_links_but_no_forms(client):
    response = client.get("/frameworks/IE-NFQ")
    assert response.status_code == 200
    page = html(response)
    assert "National Framework of Qualifications" in page
    assert versions_shown(page) == {"2009": "published"}
    assert "NQAI), 2009" in page  # the version's citation
    level_8 = re.search(r'<th scope="row">8</th>(.*?)</tr>', page, re.S).group(1)
    assert "Honours Bachelor Degree" in level_8 and "EQF:6" in level_8
    assert "<form" not in page
    assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]


def test_framework_page_says_which_eqf_links_rest_on_a_secondary_source(client):
    """Issue 18, item 8: AU-AQF 7, 9 and 10 -> EQF rest on a third party's summary of the 2016
    AU-EU joint report; the page says so beside each such link, and nowhere else."""
    page = html(client.get("/frameworks/AU-AQF"))
    for code, eqf in (("7", "EQF:6"), ("9", "EQF:7"), ("10", "EQF:8")):
        row = re.search(rf'<th scope="row">{code}</th>(.*?)</tr>', page, re.S).group(1)
        assert eqf in row and "read only in a secondary source: atmc.social" in row
    assert page.count("read only in a secondary source") == 3
    assert "secondary source" not in html(client.get("/frameworks/NZ-NZQCF"))


def test_an_answer_shown_on_a_page_says_what_it_rests_on(app, session):
    """The macro every page shows an equivalence with: a match resting on a secondary source
    says so, and a superseded source level carries its note (items 7 and 8)."""
    with app.test_request_context():
        answer = app.jinja_env.get_template("_macros.html").module.answer
        secondary = str(answer(mappings.equivalents(session, "AU-AQF:9", "DE-DQR")))
        old = str(answer(mappings.equivalents(session, "FR-CNCP-1969:III", "DE-DQR")))
        plain = str(answer(mappings.equivalents(session, "IE-NFQ:9", "DE-DQR")))
    assert "DE-DQR:7" in secondary and "rests on a secondary source: atmc.social" in secondary
    assert "DE-DQR:5" in old and "belongs to a superseded nomenclature" in old
    assert "replacing it, FR-CNCP:5" in old
    assert "secondary" not in plain and "superseded" not in plain


def test_editing_forms_only_on_the_ministrys_own_framework(client, ministry):
    sign_in(client, ministry("Department of Education (IE)", "IE").name)
    own = html(client.get("/frameworks/IE-NFQ"))
    assert 'action="/frameworks/IE-NFQ/drafts"' in own and "Start a draft" in own
    other = html(client.get("/frameworks/DE-DQR"))
    assert 'action="/frameworks/DE-DQR/drafts"' not in other and "Start a draft" not in other


# --- writing through the forms ---------------------------------------------------------------


def test_draft_impact_and_publish_through_the_forms(client, session, ministry):
    account = ministry("Department of Education (IE)", "IE")
    sign_in(client, account.name)
    page = "/frameworks/IE-NFQ"

    started = submit(client, page, "/frameworks/IE-NFQ/drafts")
    assert started.status_code == 302 and started.location == page
    [draft] = [label for label, status in statuses(session, "IE-NFQ").items() if status == "draft"]
    with_draft = html(client.get(page))
    assert f"Draft {draft} started" in with_draft
    assert f'href="/frameworks/IE-NFQ/versions/{draft}/impact"' in with_draft
    assert f'action="/frameworks/IE-NFQ/versions/{draft}/publish"' in with_draft
    assert versions_shown(with_draft) == {"2009": "published", draft: "draft"}
    anonymous = client.application.test_client()
    assert versions_shown(html(anonymous.get(page))) == {"2009": "published"}

    report = client.get(f"/frameworks/IE-NFQ/versions/{draft}/impact")
    assert report.status_code == 200
    assert "Compared with 2009" in html(report) and "changes no equivalence" in html(report)

    today = dt.date.today().isoformat()
    published = submit(
        client, page, f"/frameworks/IE-NFQ/versions/{draft}/publish", valid_from=today
    )
    assert published.status_code == 302
    assert statuses(session, "IE-NFQ") == {"2009": "superseded", draft: "published"}
    after = html(client.get(page))
    assert f"Version {draft} of IE-NFQ is published, in force from {today}." in after
    assert "Levels of version " + draft in after and "Start a draft" in after

    events = {event.action: event for event in events_for(session, "framework:IE-NFQ")}
    assert {"framework.version.create", "framework.publish"} <= set(events)
    assert {
        events[action].actor for action in ("framework.version.create", "framework.publish")
    } == {account.name}


def test_impact_page_shows_old_and_new_side_by_side(client, session, ministry):
    account = ministry("Department of Education (IE)", "IE")
    sign_in(client, account.name)
    draft = editing.replace_level_links(
        session,
        account.actor(),
        "IE-NFQ",
        "8",
        [
            {
                "to": "EQF:7",
                "relation": "exactMatch",
                "basis": "referencing",
                "citation": "A test.",
            },
        ],
    )[0].owner_version.version
    session.commit()
    page = html(client.get(f"/frameworks/IE-NFQ/versions/{draft}/impact"))
    row = re.search(
        r'<th scope="row">IE-NFQ:8</th>\s*<td>DE-DQR</td>\s*<td>(.*?)</td>\s*'
        r"<td>(.*?)</td>",
        page,
        re.S,
    )
    assert row, page
    now, once_published = row.groups()
    assert "DE-DQR:6" in now and "DE-DQR:7" not in now
    assert "DE-DQR:7" in once_published and "DE-DQR:6" not in once_published


@pytest.mark.parametrize(
    "token, reason",
    [(None, "The CSRF token is missing."), ("forged", "The CSRF token is invalid.")],
)
def test_a_form_without_a_valid_csrf_token_is_refused(client, session, ministry, token, reason):
    account = ministry("Department of Education (IE)", "IE")
    sign_in(client, account.name)
    draft = editing.new_draft(session, account.actor(), "IE-NFQ", None).version
    session.commit()
    client.get("/frameworks/IE-NFQ")  # the page with the form: its token is in the session now
    fields = {"valid_from": dt.date.today().isoformat()} | ({"csrf_token": token} if token else {})
    for action in (f"/frameworks/IE-NFQ/versions/{draft}/publish", "/logout"):
        response = client.post(action, data=fields)
        assert response.status_code == 400
        assert f"The form was not accepted: {reason}" in html(response)
    assert statuses(session, "IE-NFQ") == {"2009": "published", draft: "draft"}
    assert signed_in_account(client, session) == account.id


def test_another_countrys_ministry_is_refused_and_nothing_changes(client, session, ministry):
    irish = ministry("Department of Education (IE)", "IE")
    draft = editing.new_draft(session, irish.actor(), "IE-NFQ", None).version
    session.commit()
    german = ministry("KMK (DE)", "DE")
    sign_in(client, german.name)
    response = submit(
        client,
        "/frameworks/DE-DQR",
        f"/frameworks/IE-NFQ/versions/{draft}/publish",
        valid_from=dt.date.today().isoformat(),
    )
    assert response.status_code == 403
    assert "may not framework.publish on framework IE-NFQ: outside its scope" in html(response)
    assert statuses(session, "IE-NFQ") == {"2009": "published", draft: "draft"}
    [refusal] = [e for e in events_for(session, "framework:IE-NFQ") if e.outcome == "refused"]
    assert (refusal.actor, refusal.action) == (german.name, "framework.publish")


def test_anonymous_write_is_asked_to_sign_in(client, session):
    response = submit(client, "/login", "/frameworks/IE-NFQ/drafts")
    assert response.status_code == 401
    assert "framework.edit needs a token or a login." in html(response)
    assert 'href="/login"' in html(response)
    assert statuses(session, "IE-NFQ") == {"2009": "published"}


# --- errors and escaping ---------------------------------------------------------------------


def test_domain_errors_render_a_page_while_the_api_keeps_problem_json(client, ministry):
    missing = client.get("/frameworks/%3Cb%3EXX")
    assert missing.status_code == 404 and missing.mimetype == "text/html"
    assert "No framework with code &#39;&lt;b&gt;XX&#39;." in html(missing)
    assert "Traceback" not in html(missing)
    api = client.get("/api/v1/frameworks/XX")
    assert api.status_code == 404 and api.mimetype == "application/problem+json"

    sign_in(client, ministry("Department of Education (IE)", "IE").name)
    not_a_draft = client.get("/frameworks/IE-NFQ/versions/2009/impact")
    assert not_a_draft.status_code == 409 and "is not a draft" in html(not_a_draft)
    submit(client, "/frameworks/IE-NFQ", "/frameworks/IE-NFQ/drafts")
    draft = re.search(r'versions/([^/"]+)/publish', html(client.get("/frameworks/IE-NFQ"))).group(1)
    invalid = submit(
        client,
        "/frameworks/IE-NFQ",
        f"/frameworks/IE-NFQ/versions/{draft}/publish",
        valid_from="next Tuesday",
    )
    assert invalid.status_code == 400
    assert "<strong>valid_from</strong>: Not a valid date." in html(invalid)


def test_free_text_is_shown_literally_never_run(client, session, ministry):
    account = ministry(INJECTION, "IE")
    editing.edit_level(session, account.actor(), "IE-NFQ", "8", {"title": INJECTION})
    session.commit()
    sign_in(client, account.name)
    page = html(client.get("/frameworks/IE-NFQ"))
    escaped = "&lt;script&gt;alert(1)&lt;/script&gt; {{7*7}}"
    assert f"<td>{escaped}</td>" in page  # the draft's level title
    assert f"Signed in as <strong>{escaped}</strong>" in page
    assert "<script" not in page and "alert(1) 49" not in page


# --- sessions and passwords (issue 16, finding 8) ----------------------------------------------


def test_a_copied_cookie_stops_working_at_sign_out(app, client, session, ministry):
    account = ministry("Department of Education (IE)", "IE")
    sign_in(client, account.name)
    copy = app.test_client()
    copy.set_cookie("session", client.get_cookie("session").value)
    assert "Signed in as <strong>Department of Education (IE)</strong>" in html(copy.get("/"))
    submit(client, "/", "/logout")
    assert "Sign in</a>" in html(copy.get("/"))
    token = csrf_token(copy.get("/login"))
    response = copy.post("/frameworks/IE-NFQ/drafts", data={"csrf_token": token})
    assert response.status_code == 401


def test_a_new_password_ends_every_session(app, client, session, ministry):
    from registry.core.accounts import end_sessions

    account = ministry("Department of Education (IE)", "IE")
    sign_in(client, account.name)
    assert signed_in_account(client, session) == account.id
    assert end_sessions(session, account) == 1
    assert signed_in_account(client, session) is None


def test_the_session_cookie_is_secure_unless_turned_off(monkeypatch):
    from registry.config import load_config

    monkeypatch.delenv("SESSION_COOKIE_SECURE", raising=False)
    assert load_config({"SECRET_KEY": "x"})["SESSION_COOKIE_SECURE"] is True
    monkeypatch.setenv("SESSION_COOKIE_SECURE", "0")
    assert load_config({"SECRET_KEY": "x"})["SESSION_COOKIE_SECURE"] is False


def test_failed_sign_ins_lock_the_name_out_for_a_while(app, client, session, ministry):
    app.config["LOGIN_FAILURES_PER_ACCOUNT"] = "3 per 15 minutes"
    # (Names, not the rows: the test's one session is rolled back under them by each refusal.)
    name = ministry("Department of Education (IE)", "IE").name
    ministry("KMK (DE)", "DE")
    assert [sign_in(client, name, "wrong password!").status_code for _ in range(3)] == [401] * 3
    locked = sign_in(client, name)  # the right password, too late
    assert locked.status_code == 429 and int(locked.headers["Retry-After"]) > 0
    assert "Too many failed sign-ins" in html(locked)
    assert signed_in_account(client, session) is None
    # Other names are not locked out (until the address has failed too often).
    assert sign_in(client, "KMK (DE)").status_code == 302


def test_the_address_is_locked_out_after_guessing_many_names(app, client, ministry):
    app.config["LOGIN_FAILURES_PER_ADDRESS"] = "4 per 15 minutes"
    ministry("Department of Education (IE)", "IE")
    assert {sign_in(client, f"guess {n}").status_code for n in range(4)} == {401}
    assert sign_in(client, "Department of Education (IE)").status_code == 429


def test_sign_ins_are_in_the_audit_trail(client, session, ministry):
    name = ministry("Department of Education (IE)", "IE").name
    sign_in(client, name, "wrong password!")
    sign_in(client, "nobody at all")
    sign_in(client, name)
    trail = events_for(session, f"account:{name}")
    assert [(e.action, e.outcome) for e in trail] == [
        ("account.login", "allowed"),
        ("account.login", "refused"),
    ]
    assert trail[1].detail == "Unknown account or wrong password." and trail[0].actor == name
    [nobody] = events_for(session, "account:nobody at all")
    assert nobody.outcome == "refused"


def test_an_unknown_name_costs_the_same_password_check(session, ministry, monkeypatch):
    """Issue 16: names could be told apart by timing (261 ms vs 21 ms): an unknown (or
    disabled) account is checked against a dummy hash, with the same Argon2 work."""
    import time

    from registry.core import accounts
    from registry.core.errors import Unauthenticated

    account = ministry("Department of Education (IE)", "IE")
    calls = []
    real = accounts._hasher

    class Counting:
        def verify(self, hashed, password):
            calls.append(hashed)
            return real.verify(hashed, password)

        def hash(self, password):
            return real.hash(password)

    monkeypatch.setattr(accounts, "_hasher", Counting())

    def timed(name, password):
        started = time.perf_counter()
        try:
            accounts.check_password(session, name, password)
        except Unauthenticated:
            pass
        return time.perf_counter() - started

    accounts._dummy()  # made once, on first use
    known = min(timed(account.name, "wrong password!") for _ in range(3))
    unknown = min(timed("nobody at all", "wrong password!") for _ in range(3))
    assert len(calls) == 6 and all(hashed.startswith("$argon2id$") for hashed in calls)
    assert unknown > known / 2


def test_the_framework_page_lists_a_draft_to_its_owner_only(client, session, ministry):
    """Issue 17, item 10: a draft the first edit started (here through the API) is on the
    framework page for its ministry, with its name, and on no one else's."""
    owner = ministry("Department of Education (IE)", "IE")
    _, secret = create_token(session, owner)
    session.commit()
    edited = client.patch(
        "/api/v1/frameworks/IE-NFQ/levels/8",
        headers={"Authorization": f"Bearer {secret}"},
        json={"knowledge": "Edited in a draft."},
    )
    assert edited.status_code == 200, edited.get_json()
    draft = edited.get_json()["draft"]["version"]
    sign_in(client, owner.name)
    own = html(client.get("/frameworks/IE-NFQ"))
    assert f"Draft <strong>{draft}</strong> is in preparation" in own
    assert versions_shown(own) == {"2009": "published", draft: "draft"}
    other = client.application.test_client()
    sign_in(other, ministry("Bundesministerium (DE)", "DE").name)
    anonymous = client.application.test_client()
    for page in (html(other.get("/frameworks/IE-NFQ")), html(anonymous.get("/frameworks/IE-NFQ"))):
        assert versions_shown(page) == {"2009": "published"} and "in preparation" not in page
