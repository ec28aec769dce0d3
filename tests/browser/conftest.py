"""The web application in a real browser: Debian's chromium driven by Playwright, against the
real server on its own migrated SQLite database, with an account for each user group.

Without chromium or Playwright the tests are skipped, except in CI (CI is set), which installs
them: there a missing browser must fail, not pass unseen. Each page a test visits is checked
with axe-core (no serious or critical violation) and saved as a screenshot in tests/artifacts/.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.orm import Session
from werkzeug.serving import make_server

from frameworks.reference import load_reference
from registry.app import create_app
from registry.core.accounts import get_or_create_account, set_password
from registry.core.db import make_engine
from registry.core.permissions import OPERATOR
from registry.institutions import services as institutions
from registry.migrations import upgrade
from registry.statements import keys

try:
    from axe_playwright_python.sync_playwright import Axe
    from playwright.sync_api import Page, expect, sync_playwright
except ImportError:
    sync_playwright = None

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts"
PASSWORD = "correct horse battery staple"
# The accounts every test server has: name -> (role, scopes); an institution's scope is its id,
# filled in once the institution exists ("{ucd}").
ACCOUNTS = {
    "Registry operator": ("admin", []),
    "Department of Education (IE)": ("ministry", ["IE"]),
    "Admissions, Trinity College Dublin": ("registrar", []),
    "Registry office, University College Dublin": ("institution", ["{ucd}"]),
    "Registry office, Heidelberg University": ("institution", ["{heidelberg}"]),
}
INSTITUTIONS = {
    "ucd": {"name": "University College Dublin", "country": "IE", "city": "Dublin"},
    "heidelberg": {"name": "Heidelberg University", "country": "DE", "city": "Heidelberg"},
}
SERIOUS = {"serious", "critical"}


def require(present: bool, what: str, install: str) -> None:
    if not present:
        if os.environ.get("CI"):
            pytest.fail(f"{what} is missing; CI must install it ({install}).", pytrace=False)
        pytest.skip(f"{what} is missing, the browser tests need it: {install}.")


@pytest.fixture(scope="session")
def browser():
    """Debian's chromium under Playwright, never a browser build Playwright would download."""
    require(CHROMIUM.exists(), str(CHROMIUM), "make system-test, or apt-get install chromium")
    require(sync_playwright is not None, "The playwright package", "make install-test")
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM))
        yield chromium
        chromium.close()


@dataclass
class Site:
    """A running server: its URL, its database URL, and the ids of its institutions."""

    url: str
    database_url: str
    institutions: dict[str, int] = field(default_factory=dict)

    def session(self) -> Session:
        """A session on the server's database, for a test to set up or check records."""
        return Session(make_engine(self.database_url))


def serve(tmp_path: Path, **config: Any) -> Iterator[Site]:
    url = f"sqlite:///{tmp_path / 'browser.sqlite3'}"
    upgrade(url)
    engine = make_engine(url)
    with Session(engine) as session:
        load_reference(session, OPERATOR)
        ids = {
            key: institutions.create_institution(session, OPERATOR, record).id
            for key, record in INSTITUTIONS.items()
        }
        for name, (role, scopes) in ACCOUNTS.items():
            account = get_or_create_account(
                session, name, role, [scope.format(**ids) for scope in scopes]
            )
            set_password(account, PASSWORD)
        session.commit()
    engine.dispose()
    # The signing key `make run` makes, so that statements are signed as they are there.
    signing_key = tmp_path / "signing" / "registry-ed25519.pem"
    keys.create(signing_key)
    app = create_app(
        {
            "DATABASE_URL": url,
            "IMPORTS_INLINE": True,
            "IMPORTS_DIR": tmp_path / "uploads",
            "SIGNING_KEY": signing_key,
        }
        | config
    )
    http = make_server("127.0.0.1", 0, app, threaded=True)
    # The address statements are signed with, as `make run` sets it to the one it serves.
    app.config["PUBLIC_URL"] = f"http://127.0.0.1:{http.server_port}"
    thread = threading.Thread(target=http.serve_forever, daemon=True)
    thread.start()
    yield Site(f"http://127.0.0.1:{http.server_port}", url, ids)
    http.shutdown()
    thread.join()
    # A server run with IMPORTS_INLINE=False has its embedded import worker: stopped with it,
    # so that it takes no job of a later test's.
    worker = app.extensions.get("registry.import_worker")
    if worker is not None:
        worker.stop()
    app.extensions["registry.engine"].dispose()


@pytest.fixture(scope="module")
def site(browser, tmp_path_factory) -> Iterator[Site]:
    """One server per test module, so that one user group's journey never changes another's."""
    yield from serve(tmp_path_factory.mktemp("site"))


@pytest.fixture
def page(browser, site) -> Iterator[Page]:
    """A fresh browser context (no cookies) on the module's site."""
    context = browser.new_context(base_url=site.url, accept_downloads=True)
    page = context.new_page()
    yield page
    context.close()


def sign_in(page: Page, name: str) -> None:
    page.goto("/login")
    page.get_by_label("Account name").fill(name)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("status").first).to_contain_text(f"Signed in as {name}.")


def check_page(page: Page, name: str) -> None:
    """axe-core on the page as it stands (no serious or critical violation), then a full-page
    screenshot in tests/artifacts/<name>.png."""
    page.wait_for_load_state("load")
    results = Axe().run(page)
    serious = [v for v in results.response["violations"] if v.get("impact") in SERIOUS]
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=ARTIFACTS / f"{name}.png", full_page=True)
    assert not serious, f"{name} ({page.url}): " + "; ".join(
        f"{v['id']} ({v['impact']}): {v['help']} at "
        + ", ".join(str(node["target"]) for node in v["nodes"][:3])
        for v in serious
    )
