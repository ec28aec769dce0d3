"""The review queue of ambiguous institution matches in the browser (issue 20, item 6): the
queue, one entry as it arrived with its candidates, a confirmation or a rejection through the
forms, on the same services and permissions as the API (tests/registry/test_match_reviews.py)."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from registry.core import accounts
from registry.core.audit import AuditEvent
from registry.institutions.models import Institution
from registry.match_reviews import services
from registry.match_reviews.models import MatchReview
from tests.registry.test_match_reviews import INSTITUTIONS, SPELLING, add_institutions, credential
from tests.registry.test_web import PASSWORD, csrf_token, html, sign_in, submit

# name -> (role, scopes); an institution's scope is filled in once it exists.
ACCOUNTS = {
    "Registry operator": ("admin", []),
    "Scottish ministry": ("ministry", ["GB"]),
    "French ministry": ("ministry", ["FR"]),
    "Admissions office": ("registrar", []),
    "Edinburgh registry": ("institution", ["{edinburgh}"]),
}


@pytest.fixture
def queue(app, session):
    """Five institutions, an account of each kind that signs in with PASSWORD, and one entry in
    the queue: a registrar's assessment met SPELLING, which the matcher could not decide."""
    made = add_institutions(session, INSTITUTIONS)
    for name, (role, scopes) in ACCOUNTS.items():
        account = accounts.get_or_create_account(
            session, name, role, [s.format(**made) for s in scopes]
        )
        accounts.set_password(account, PASSWORD)
    registrar = accounts.get_or_create_account(session, "Admissions office", "registrar", [])
    token = accounts.create_token(session, registrar)[1]
    session.commit()
    response = app.test_client().post(
        "/api/v1/assessments?target=DE",
        json=credential(),
        headers={"Authorization": f"Bearer {token}"},
    )
    assert response.status_code == 201, response.get_data(as_text=True)
    [review] = session.scalars(select(MatchReview)).all()
    return {**made, "review": review.id, "assessment": response.get_json()["id"]}


def signed_in(app, name: str):
    client = app.test_client()
    if name != "anonymous":
        assert sign_in(client, name).status_code == 302
    return client


def state(session, review_id: int) -> str:
    session.expire_all()
    return session.get(MatchReview, review_id).state


# --- reading ---------------------------------------------------------------------------------


def test_the_queue_lists_the_entry_for_its_countrys_ministry_and_admins(app, queue):
    for name in ("Scottish ministry", "Registry operator"):
        page = html(signed_in(app, name).get("/match-reviews"))
        assert f'<a href="/match-reviews/{queue["review"]}">{SPELLING}</a>' in page
        assert "Open entries, most met first" in page
        # The candidates with their scores, best first.
        assert re.search(r"Edinburgh Napier University \(\d+\.\d\)", page)
        assert re.search(r"University of Edinburgh \(\d+\.\d\)", page)
    french = html(signed_in(app, "French ministry").get("/match-reviews"))
    assert SPELLING not in french and "No entries here." in french


def test_an_entry_shows_the_record_as_it_arrived_and_the_candidates_evidence(app, session, queue):
    client = signed_in(app, "Registry operator")
    page = html(client.get(f"/match-reviews/{queue['review']}"))
    assert f"Match review: “{SPELLING}”" in page
    record = re.search(r'<dl class="record">(.*?)</dl>', page, re.S).group(1)
    assert f"<dd>{SPELLING}</dd>" in record and "<dd>GB</dd>" in record
    # An admin reads the registrar's assessment it was met in.
    assert f"assessment {queue['assessment']}," in record
    candidates = re.search(r'<table class="candidates">(.*?)</table>', page, re.S).group(1)
    rows = re.findall(
        r'name="institution_id" value="(\d+)".*?<label for="candidate-\d+">([^<]+)</label>'
        r".*?<td>(\w+)</td>\s*<td>([\d.]+)</td>\s*<td>([^<]+)</td>",
        candidates,
        re.S,
    )
    offered = services.get_entry(session, queue["review"]).candidates
    assert [(int(r[0]), r[1], r[2], float(r[3])) for r in rows] == [
        (c["id"], c["name"], c["country"], round(c["score"], 1)) for c in offered
    ]
    assert {r[4] for r in rows} <= {"its name", "one of its other names", "its acronym"}
    assert f'action="/match-reviews/{queue["review"]}/confirm"' in page
    assert f'action="/match-reviews/{queue["review"]}/reject"' in page
    # The ministry reads the spelling but not the registrar's assessment: another office's.
    ministry = html(signed_in(app, "Scottish ministry").get(f"/match-reviews/{queue['review']}"))
    assert (
        f"<dd>{SPELLING}</dd>" in ministry and f"assessment {queue['assessment']}" not in ministry
    )
    assert "no record you may read" in ministry


def test_the_queue_pages_through_many_entries(app, session, queue):
    sightings = services.Sightings()
    offered = services.get_entry(session, queue["review"]).candidates
    for n in range(30):
        found = {"verdict": "ambiguous", "candidates": offered}
        sightings.met(f"Edinburgh Universty {n}", "GB", found, "assessment", 1000 + n, None)
    sightings.write(session)
    session.commit()
    client = signed_in(app, "Scottish ministry")
    first = html(client.get("/match-reviews?country=gb"))
    assert first.count('<th scope="row"><a href="/match-reviews/') == 25
    assert 'href="/match-reviews?state=open&amp;country=GB&amp;offset=25" rel="next"' in first
    assert 'rel="prev"' not in first
    second = html(client.get("/match-reviews?state=open&country=GB&offset=25"))
    assert second.count('<th scope="row"><a href="/match-reviews/') == 6
    assert 'href="/match-reviews?state=open&amp;country=GB" rel="prev"' in second
    assert 'rel="next"' not in second


def test_a_filter_the_api_would_refuse_is_refused_on_a_page(app, queue):
    client = signed_in(app, "Registry operator")
    response = client.get("/match-reviews?state=pending")
    assert response.status_code == 400
    assert "<strong>state</strong>: Must be one of: open, confirmed, rejected." in html(response)
    # Another country than its own: refused to a ministry, as the API does.
    outside = signed_in(app, "French ministry").get("/match-reviews?country=GB")
    assert outside.status_code == 403


# --- deciding --------------------------------------------------------------------------------


def test_confirming_a_candidate_takes_the_entry_out_of_the_queue(app, session, queue):
    client = signed_in(app, "Scottish ministry")
    page = f"/match-reviews/{queue['review']}"
    response = submit(
        client,
        page,
        f"{page}/confirm",
        institution_id=str(queue["edinburgh"]),
        reason="The University's own usage.",
    )
    assert response.status_code == 302 and response.location == "/match-reviews?country=GB"
    queue_page = html(client.get(response.location))
    assert (
        f"“{SPELLING}” is confirmed as University of Edinburgh and is now one of its names"
        in queue_page
    )
    assert f'href="{page}"' not in queue_page
    assert state(session, queue["review"]) == "confirmed"
    assert SPELLING in [n.value for n in session.get(Institution, queue["edinburgh"]).names]
    confirmed = html(client.get("/match-reviews?state=confirmed"))
    assert f'href="{page}"' in confirmed and "by Scottish ministry" in confirmed
    decided = html(client.get(page))
    assert "the spelling became one of its names" in decided
    assert (
        "The University&#39;s own usage." in decided
        and '<form method="post"' not in (decided.split("<main", 1)[1])
    )
    [event] = session.scalars(
        select(AuditEvent).where(AuditEvent.entity == f"match_review:{queue['review']}")
    ).all()
    assert (event.action, event.outcome, event.actor) == (
        "match_review.confirm",
        "allowed",
        "Scottish ministry",
    )
    # Decided once: a second decision is a clear page, and the first one stands.
    again = submit(client, page, f"{page}/reject", reason="Changed my mind.")
    assert again.status_code == 409
    assert f"Match review {queue['review']} was confirmed already" in html(again)
    assert state(session, queue["review"]) == "confirmed"


def test_rejecting_all_candidates_needs_a_reason(app, session, queue):
    client = signed_in(app, "Registry operator")
    page = f"/match-reviews/{queue['review']}"
    refused = submit(client, page, f"{page}/reject", reason="")
    assert refused.status_code == 400
    shown = html(refused)
    assert 'role="alert" id="decision-problem"' in shown
    assert "Length must be between 1 and 1000." in shown
    assert re.search(r'id="reject-reason"[^>]*aria-invalid="true"', shown)
    assert state(session, queue["review"]) == "open"

    done = submit(client, page, f"{page}/reject", reason="A college of its own, not listed yet.")
    assert done.status_code == 302
    assert "are rejected: it is not asked again" in html(client.get(done.location))
    assert state(session, queue["review"]) == "rejected"
    rejected = html(client.get("/match-reviews?state=rejected"))
    assert "Rejected entries, latest decision first" in rejected and SPELLING in rejected


@pytest.mark.parametrize(
    "chosen, message",
    [
        (None, "Missing data for required field."),
        ("twelve", "Not a valid integer."),
    ],
)
def test_a_confirmation_without_a_valid_choice_shows_the_form_again(
    app, session, queue, chosen, message
):
    client = signed_in(app, "Registry operator")
    page = f"/match-reviews/{queue['review']}"
    fields = {"reason": "Keep me."} | ({"institution_id": chosen} if chosen else {})
    refused = submit(client, page, f"{page}/confirm", **fields)
    assert refused.status_code == 400
    shown = html(refused)
    assert message in shown and ">Keep me.</textarea>" in shown
    assert state(session, queue["review"]) == "open"


def test_an_institution_of_another_country_is_not_confirmed(app, session, queue):
    client = signed_in(app, "Registry operator")
    page = f"/match-reviews/{queue['review']}"
    refused = submit(client, page, f"{page}/confirm", institution_id=str(queue["sorbonne"]))
    assert refused.status_code == 400
    assert f"Institution {queue['sorbonne']} is of FR, not GB" in html(refused)
    assert state(session, queue["review"]) == "open"


# --- refusals --------------------------------------------------------------------------------


def test_anonymous_visitors_are_asked_to_sign_in(app, session, queue):
    client = app.test_client()
    listing = client.get("/match-reviews")
    assert listing.status_code == 401
    assert 'href="/login?next=/match-reviews?"' in html(listing)
    page = f"/match-reviews/{queue['review']}"
    assert client.get(page).status_code == 401
    token = csrf_token(client.get("/login"))
    posted = client.post(
        f"{page}/confirm", data={"csrf_token": token, "institution_id": str(queue["edinburgh"])}
    )
    assert posted.status_code == 401 and "needs a token or a login" in html(posted)
    assert state(session, queue["review"]) == "open"


@pytest.mark.parametrize("name", ["Admissions office", "Edinburgh registry", "French ministry"])
def test_other_roles_and_countries_are_refused_and_nothing_changes(app, session, queue, name):
    client = signed_in(app, name)
    page = f"/match-reviews/{queue['review']}"
    shown = client.get(page)
    assert shown.status_code == 403 and "Permission denied" in html(shown)
    assert "Traceback" not in html(shown)
    for action, fields in (
        ("confirm", {"institution_id": str(queue["edinburgh"])}),
        ("reject", {"reason": "Not ours."}),
    ):
        response = submit(client, "/", f"{page}/{action}", **fields)
        assert response.status_code == 403
        assert "Your account's role or scope does not cover this." in html(response)
    assert state(session, queue["review"]) == "open"
    refused = session.scalars(
        select(AuditEvent.actor).where(
            AuditEvent.outcome == "refused", AuditEvent.action.like("match_review.%")
        )
    ).all()
    assert refused.count(name) == 2


def test_an_unknown_entry_is_not_found(app, queue):
    response = signed_in(app, "Registry operator").get("/match-reviews/999999")
    assert response.status_code == 404 and "No match review 999999." in html(response)


def test_the_task_is_offered_to_those_who_decide(app, queue):
    for name, offered in (
        ("Registry operator", True),
        ("Scottish ministry", True),
        ("Admissions office", False),
        ("Edinburgh registry", False),
        ("anonymous", False),
    ):
        home = html(signed_in(app, name).get("/"))
        assert ('<a href="/match-reviews">Match reviews</a>: decide which institution' in home) is (
            offered
        ), name
