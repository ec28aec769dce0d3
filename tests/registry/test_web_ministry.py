"""A ministry's framework editor in the browser, through the test client: level and link edits
in the draft (the first edit starts it), a level added, validation messages beside the fields,
the impact report showing the edits, the drafts list and the audit trail; another country's
ministry refused on every page and every crafted post."""

import datetime as dt
import re

import pytest

from frameworks import editing, services
from registry.core.accounts import get_or_create_account, set_password
from registry.core.audit import events_for
from tests.registry.test_web import PASSWORD, html, sign_in, statuses, submit

IRISH = "Department of Education (IE)"
GERMAN = "KMK (DE)"
LEVEL_8 = "/frameworks/IE-NFQ/levels/8/edit"
LINKS_8 = "/frameworks/IE-NFQ/levels/8/links"


@pytest.fixture
def ministry(session):
    """Make an account of `role` (a ministry by default) that can sign in with PASSWORD."""

    def make(name: str, scope: str | None, role: str = "ministry"):
        account = get_or_create_account(session, name, role, [scope] if scope else [])
        set_password(account, PASSWORD)
        session.commit()
        return account

    return make


@pytest.fixture
def irish(client, ministry):
    account = ministry(IRISH, "IE")
    sign_in(client, account.name)
    return account


def draft_of(session, code="IE-NFQ") -> str | None:
    return next((v for v, s in statuses(session, code).items() if s == "draft"), None)


def level(session, code: str, version: str, level_code: str):
    found = services.get_framework(session, code)
    [wanted] = [v for v in found.versions if v.version == version]
    return services.find_level(wanted, level_code)


def test_the_first_level_edit_starts_a_draft_and_changes_only_it(client, session, irish):
    form = html(client.get(LEVEL_8))
    assert 'name="csrf_token"' in form and "Saving starts the draft of the next version" in form
    assert 'value="NFQ level 8"' in form  # the version in force, as a start
    response = submit(
        client,
        LEVEL_8,
        LEVEL_8,
        title="NFQ level 8 (revised)",
        knowledge="A revised knowledge descriptor.",
        qualification_types="Honours Bachelor Degree\r\nHigher Diploma\r\n",
    )
    assert response.status_code == 302, html(response)
    draft = draft_of(session)
    assert draft and statuses(session, "IE-NFQ") == {"2009": "published", draft: "draft"}
    edited = level(session, "IE-NFQ", draft, "8")
    assert edited.title == "NFQ level 8 (revised)"
    assert edited.knowledge == "A revised knowledge descriptor."
    assert edited.qualification_types == ["Honours Bachelor Degree", "Higher Diploma"]
    assert level(session, "IE-NFQ", "2009", "8").title == "NFQ level 8"
    page = html(client.get(response.location))
    assert f"Level 8 of draft {draft} saved." in page
    assert "NFQ level 8 (revised)" in page
    assert 'href="/frameworks/IE-NFQ/levels/8/edit"' in page
    [event] = [e for e in events_for(session, "framework:IE-NFQ") if e.action.endswith("edit")]
    assert (event.actor, event.entity) == (IRISH, f"framework:IE-NFQ/{draft}/level:8")


def test_an_invalid_level_comes_back_with_the_messages_beside_the_fields(client, session, irish):
    response = submit(client, LEVEL_8, LEVEL_8, title="", knowledge="Kept as typed.")
    assert response.status_code == 400
    page = html(response)
    assert 'role="alert"' in page and "Nothing was saved" in page
    title = re.search(r"<input id=\"title\"[^>]*>", page).group(0)
    assert 'aria-describedby="title-error"' in title and 'aria-invalid="true"' in title
    assert re.search(r'<p class="field-error" id="title-error">Length must be between 1', page)
    assert ">Kept as typed.</textarea>" in page
    assert draft_of(session) is None  # nothing written, not even the draft


def test_links_are_replaced_with_a_citation_and_the_impact_shows_them(client, session, irish):
    form = html(client.get(LINKS_8))
    assert 'value="EQF:6"' in form and 'name="links-1-new"' in form
    citation = "Referencing report of Ireland, 2026 update, section 4."
    response = submit(
        client,
        LINKS_8,
        LINKS_8,
        **{
            "links-0-to": "EQF:6",
            "links-0-relation": "exactMatch",
            "links-0-basis": "referencing",
            "links-0-citation": "The 2009 referencing report.",
            "links-0-remove": "1",
            "links-1-new": "1",
            "links-1-to": "EQF:7",
            "links-1-relation": "exactMatch",
            "links-1-basis": "referencing",
            "links-1-citation": citation,
            "links-1-secondary_source": "A summary by a third party.",
        },
    )
    assert response.status_code == 302, html(response)
    draft = draft_of(session)
    [link] = [
        link
        for link in level(session, "IE-NFQ", draft, "8").version.links
        if "IE-NFQ:8" in (link.source.ref, link.target.ref)
    ]
    assert (link.source.ref, link.target.ref, link.citation) == ("IE-NFQ:8", "EQF:7", citation)
    assert link.secondary_source == "A summary by a third party."
    report = html(client.get(f"/frameworks/IE-NFQ/versions/{draft}/impact"))
    assert "Links added:" in report and "IE-NFQ:8 → EQF:7 (exactMatch, referencing)" in report
    assert "Links removed:" in report and "IE-NFQ:8 → EQF:6" in report
    assert re.search(r'<th scope="row">IE-NFQ:8</th>\s*<td>DE-DQR</td>', report)
    # The audit trail names the link that went and the one that came, each whole.
    trail = html(client.get("/frameworks/IE-NFQ/audit"))
    gone = re.search(r'<span class="old">(IE-NFQ:8 → EQF:6 [^<]*)</span>', trail)
    came = re.search(r'<span class="new">(IE-NFQ:8 → EQF:7 [^<]*)</span>', trail)
    assert gone and came, trail
    assert citation in came.group(1) and "A summary by a third party." in came.group(1)


def test_an_unknown_link_target_is_named_beside_its_field(client, session, irish):
    response = submit(
        client,
        LINKS_8,
        LINKS_8,
        **{
            "links-0-new": "1",
            "links-0-to": "EQF:99",
            "links-0-relation": "exactMatch",
            "links-0-basis": "referencing",
            "links-0-citation": "Kept.",
        },
    )
    assert response.status_code == 400
    page = html(response)
    assert re.search(r'id="links-0-to-error">No level &#39;EQF:99&#39; in the registry.', page)
    assert 'value="EQF:99"' in page and ">Kept.</textarea>" in page
    assert draft_of(session) is None


def test_a_level_is_added_to_the_draft(client, session, irish):
    draft = editing.new_draft(session, irish.actor(), "IE-NFQ", None).version
    session.commit()
    page = f"/frameworks/IE-NFQ/versions/{draft}/levels/new"
    assert 'value="11"' in html(client.get(page))  # the next position
    duplicate = submit(client, page, page, code="8", ordinal="11", title="Again")
    assert duplicate.status_code == 400
    assert re.search(r'id="code-error">Duplicate level code', html(duplicate))
    added = submit(
        client, page, page, code="11", ordinal="11", title="A new level", skills="New skills."
    )
    assert added.status_code == 302, html(added)
    new = level(session, "IE-NFQ", draft, "11")
    assert (new.title, new.skills, new.ordinal) == ("A new level", "New skills.", 11)
    assert len(level(session, "IE-NFQ", draft, "8").version.levels) == 11
    assert level(session, "IE-NFQ", draft, "8").version.links  # the links survive
    assert "Levels added:" in html(client.get(f"/frameworks/IE-NFQ/versions/{draft}/impact"))


def test_my_drafts_lists_the_drafts_the_ministry_may_edit(client, session, irish, ministry):
    empty = html(client.get("/drafts"))
    assert "You have no draft in preparation." in empty
    assert 'href="/frameworks/IE-NFQ"' in empty
    assert 'href="/drafts"' in html(client.get("/"))  # a task on the home page
    german = ministry(GERMAN, "DE")
    editing.new_draft(session, german.actor(), "DE-DQR", None)
    draft = editing.new_draft(session, irish.actor(), "IE-NFQ", None).version
    session.commit()
    page = html(client.get("/drafts"))
    assert f'href="/frameworks/IE-NFQ/versions/{draft}/impact"' in page
    assert "DE-DQR" not in page
    anonymous = client.application.test_client()
    assert anonymous.get("/drafts").status_code == 401


def test_the_audit_trail_reads_page_by_page(client, session, irish):
    for n in range(27):
        editing.edit_level(session, irish.actor(), "IE-NFQ", "8", {"note": f"Note {n}."})
    session.commit()
    first = client.get("/frameworks/IE-NFQ/audit")
    assert first.status_code == 200
    page = html(first)
    assert page.count('<tr id="event-') == 25
    assert "framework.level.edit" in page and IRISH in page
    assert re.search(r"<dt>note</dt>\s*<dd><span class=\"old\">Note 25.</span>", page)
    older = re.search(r'href="(/frameworks/IE-NFQ/audit\?before=\d+)" rel="next"', page)
    rest = html(client.get(older.group(1).replace("&amp;", "&")))
    # Two edits, the draft's creation and the loading of version 2009.
    assert rest.count('<tr id="event-') == 4 and "Older events" not in rest
    assert "framework.version.create" in rest and "framework.import" in rest
    assert 'href="/frameworks/IE-NFQ/audit"' in html(client.get("/frameworks/IE-NFQ"))


def test_another_countrys_ministry_is_refused_everywhere(client, session, ministry):
    irish = ministry(IRISH, "IE")
    draft = editing.new_draft(session, irish.actor(), "IE-NFQ", None).version
    session.commit()
    german = ministry(GERMAN, "DE")
    sign_in(client, german.name)
    own = html(client.get("/frameworks/DE-DQR"))
    assert 'href="/frameworks/DE-DQR/levels/7/edit"' in own
    other = html(client.get("/frameworks/IE-NFQ"))
    assert "/edit" not in other and "/audit" not in other and "/links" not in other
    for url in (
        LEVEL_8,
        LINKS_8,
        f"/frameworks/IE-NFQ/versions/{draft}/levels/new",
        "/frameworks/IE-NFQ/audit",
    ):
        response = client.get(url)
        assert response.status_code == 403, url
        assert "does not cover this" in html(response) and "Traceback" not in html(response)
    crafted = {
        LEVEL_8: {"title": "Taken over"},
        LINKS_8: {
            "links-0-to": "EQF:1",
            "links-0-relation": "exactMatch",
            "links-0-basis": "referencing",
            "links-0-citation": "Forged.",
        },
        f"/frameworks/IE-NFQ/versions/{draft}/levels/new": {
            "code": "99",
            "ordinal": "99",
            "title": "Forged",
        },
        f"/frameworks/IE-NFQ/versions/{draft}/publish": {"valid_from": dt.date.today().isoformat()},
    }
    for url, fields in crafted.items():
        response = submit(client, "/frameworks/DE-DQR", url, **fields)
        assert response.status_code == 403, (url, html(response))
        assert "outside its scope" in html(response)
    invalid = submit(client, "/frameworks/DE-DQR", LEVEL_8, title="")  # no form shown either
    assert invalid.status_code == 403
    assert statuses(session, "IE-NFQ") == {"2009": "published", draft: "draft"}
    assert level(session, "IE-NFQ", draft, "8").title == "NFQ level 8"
    refusals = [e for e in events_for(session, "framework:IE-NFQ") if e.outcome == "refused"]
    assert {e.actor for e in refusals} == {GERMAN} and len(refusals) >= 4


def test_a_registrar_has_no_drafts_and_no_trail(client, ministry):
    account = ministry("Admissions", None, role="registrar")
    sign_in(client, account.name)
    assert 'href="/drafts"' not in html(client.get("/"))
    assert client.get("/drafts").status_code == 403
    assert client.get("/frameworks/IE-NFQ/audit").status_code == 403
    assert client.get(LEVEL_8).status_code == 403


def test_a_link_filed_from_the_other_level_is_read_from_this_one():
    """NZ-NZQCF:1 -> HK-QF:1 broadMatch, seen from HK-QF:1, is narrowMatch to NZ-NZQCF:1:
    saved from the form (which files it from HK-QF:1), it keeps its meaning."""
    from types import SimpleNamespace

    from registry.web.ministry import _link_rows

    mine = SimpleNamespace(id=1, ref="HK-QF:1")
    other = SimpleNamespace(id=2, ref="NZ-NZQCF:1")
    link = SimpleNamespace(
        source_id=2, target_id=1, source=other, target=mine, relation="broadMatch",
        basis="comparison", citation="A study.", secondary_source=None, valid_from=None,
        valid_to=None, note=None, succession=False,
    )  # fmt: skip
    mine.version = SimpleNamespace(links=[link])
    [row] = _link_rows(mine)
    assert (row["to"], row["relation"], row["basis"]) == ("NZ-NZQCF:1", "narrowMatch", "comparison")
