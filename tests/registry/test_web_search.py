"""The search pages as a browser uses them: free text read into a level and a framework, the
answer page (titles, relation and confidence in words, the path drawn, each citation), the
reasons when there is no answer, and the credit and grade calculators, all on the same services
as the API."""

import re
from urllib.parse import parse_qs, urlsplit

import pytest

from tests.registry.test_web import html


def answer_url(response) -> dict[str, list[str]]:
    assert response.status_code == 302, html(response)
    location = urlsplit(response.headers["Location"])
    assert location.path == "/equivalents"
    return parse_qs(location.query)


def test_home_page_offers_the_search_and_every_task(client):
    page = html(client.get("/"))
    form = re.search(r'<form method="get" action="/equivalents".*?</form>', page, re.S).group(0)
    for field, label in (("level", "From level"), ("target", "To framework or country")):
        assert f'<label for="{field}">{label}</label>' in form
        assert f'id="{field}" name="{field}"' in form
    assert '<option value="IE-NFQ:8">NFQ level 8' in form  # suggestions, no script needed
    assert '<option value="GB-SCQF">Scottish Credit' in form
    for path in ("/credits", "/grades", "/frameworks"):
        assert f'<a href="{path}">' in page
    assert "/api/v1/" not in page.split("<footer>")[0]  # no raw JSON offered as a task


@pytest.mark.parametrize(
    ("level", "target"),
    [
        ("Ireland — NFQ level 8", "Scotland"),
        ("NFQ 8", "GB-SCQF"),
        ("ie-nfq:8", "scottish"),
        ("IE-NFQ:8", "Scotland"),
    ],
)
def test_free_text_goes_to_the_answers_shareable_address(client, level, target):
    query = answer_url(client.get("/equivalents", query_string={"level": level, "target": target}))
    assert query == {"level": ["IE-NFQ:8"], "target": ["GB-SCQF"]}


def test_the_date_is_kept_on_the_way_to_the_answer(client):
    response = client.get("/equivalents?level=NFQ+8&target=EQF&on=2015-06-30")
    assert answer_url(response) == {"level": ["IE-NFQ:8"], "target": ["EQF"], "on": ["2015-06-30"]}
    page = html(client.get("/equivalents?level=IE-NFQ:8&target=EQF&on=2015-06-30"))
    assert "as it stood on 2015-06-30" in page


def test_answer_page_shows_titles_relation_confidence_path_and_citations(client):
    response = client.get("/equivalents?level=IE-NFQ:8&target=GB-SCQF")
    assert response.status_code == 200
    page = html(response)
    assert "<h1>Equivalents of IE-NFQ:8 in GB-SCQF</h1>" in page
    assert "<strong>IE-NFQ:8</strong>: NFQ level 8" in page
    # One-to-many: SCQF 9 and 10 are both referenced to EQF 6, as NFQ 8 is.
    assert '<h2 id="match-1">GB-SCQF:9: SCQF level 9</h2>' in page
    assert '<h2 id="match-2">GB-SCQF:10: SCQF level 10</h2>' in page
    assert "<strong>Relation:</strong> the same level." in page
    assert "1.000 out of 1: the path rests on an official EQF referencing" in page
    # The path drawn twice: a row for wide screens, a column for phones (CSS shows one).
    for shape in ("row", "column"):
        svg = re.search(rf'<svg class="path-diagram {shape}".*?</svg>', page, re.S).group(0)
        assert 'role="img"' in svg and "<title" in svg and "<desc" in svg
        assert svg.count("<rect") == 3  # NFQ 8 -> EQF 6 -> SCQF 9
        assert ">EQF level 6</text>" in svg and ">same level</text>" in svg
    citation = re.search(
        r'<details class="citation">\s*<summary>(.*?)</summary>\s*<p>(.*?)</p>', page, re.S
    )
    short, full = citation.groups()
    assert short.startswith("The Referencing of the Irish National Framework") and short.endswith(
        "…"
    )
    assert "National Qualifications Authority of Ireland (NQAI), 2009" in full
    # The calculators beside it start from the two frameworks' credit systems.
    assert '<option value="ECTS" selected>' in page
    assert '<option value="GB-SCQF-CP" selected>' in page


def test_a_broader_step_and_a_secondary_source_are_explained(client):
    broader = html(client.get("/equivalents?level=QF-EHEA:1&target=GB-SCQF"))
    assert (
        "<strong>Relation:</strong> broader. The counterpart covers the level and more" in broader
    )
    assert "It is lowered by a step between levels that are not the same size." in broader
    assert ">broader</text>" in broader
    secondary = html(client.get("/equivalents?level=AU-AQF:7&target=IE-NFQ"))
    assert "0.720 out of 1" in secondary
    assert "a joint comparison study (which has no legal effect)" in secondary
    assert (
        "read only in a secondary source, not in the cited report (AU-AQF:7 → EQF:6)" in secondary
    )
    assert "Read only in a secondary source, not in the cited report: atmc.social" in secondary


def test_a_superseded_level_is_answered_through_its_successor_with_the_note(client):
    page = html(client.get("/equivalents?level=FR-CNCP-1969:III&target=DE-DQR"))
    assert "belongs to a superseded nomenclature" in page
    assert "DE-DQR:5" in page and "(the level replacing a superseded one)" in page


def test_no_match_says_why_in_words(client):
    response = client.get("/equivalents?level=GB-SCQF:1&target=IE-NFQ")
    assert response.status_code == 200
    page = html(response)
    assert '<h2 id="no-match">No counterpart</h2>' in page
    assert "The level lies below EQF level 1 on purpose" in page
    assert "below_eqf_1" not in page


def test_several_readings_are_offered_as_links(client):
    response = client.get("/equivalents", query_string={"level": "QNQ 5", "target": "Scotland"})
    assert response.status_code == 200
    page = html(response)
    assert "<h1>Which one do you mean?</h1>" in page
    for ref in ("IT-QNQ:5", "PT-QNQ:5"):
        assert f'<a href="/equivalents?level={ref}&amp;target=Scotland">{ref}</a>' in page
    targets = html(client.get("/equivalents", query_string={"level": "NFQ 8", "target": "UK"}))
    for code in ("GB-CQFW", "GB-RQF", "GB-SCQF"):
        assert f'<a href="/equivalents?level=IE-NFQ:8&amp;target={code}">{code}</a>' in targets


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ({"level": "IE-NFQ:99", "target": "GB-SCQF"}, "No level “IE-NFQ:99” in the registry"),
        ({"level": "XX-NONE:1", "target": "GB-SCQF"}, "No level “XX-NONE:1” in the registry"),
        ({"level": "Narnia level 3", "target": "EQF"}, "No level matches “Narnia level 3”"),
        ({"level": "NFQ 8", "target": "Narnia"}, "No framework or country matches “Narnia”"),
    ],
)
def test_an_unknown_level_or_framework_is_a_404_with_the_search_again(client, query, message):
    response = client.get("/equivalents", query_string=query)
    assert response.status_code == 404
    page = html(response)
    assert message in page
    field = "target" if "framework" in message else "level"
    assert f'aria-describedby="{field}-hint {field}-error" aria-invalid="true"' in page
    assert f'value="{query[field]}"' in page  # filled in as sent, to correct
    assert 'action="/equivalents"' in page


def test_a_missing_field_or_a_bad_date_asks_again(client):
    response = client.get("/equivalents?level=&target=EQF")
    assert response.status_code == 400
    assert "Enter the level to start from" in html(response)
    bad_date = client.get("/equivalents?level=NFQ+8&target=EQF&on=2020-13-01")
    assert bad_date.status_code == 400 and "Not a valid date." in html(bad_date)


def test_text_typed_is_shown_literally(client):
    page = html(client.get("/equivalents", query_string={"level": "<b>8</b>", "target": "EQF"}))
    assert "<b>8</b>" not in page and "&lt;b&gt;8&lt;/b&gt;" in page


def test_credit_calculator_answers_with_the_method_in_words(client):
    response = client.get("/credits?value=240&from=GB-CATS&to=ECTS")
    assert response.status_code == 200
    page = html(response)
    assert "240 GB-CATS = <strong>120 ECTS</strong>" in page
    assert "By annual load: a full-time year of study in one system equals" in page
    assert "annual load: 120 GB-CATS = 60 ECTS (a full-time year each)" in page  # the basis
    hours = html(client.get("/credits?value=240&from=GB-CATS&to=ECTS&method=notional_hours"))
    assert "between 80.00 and 96.00 ECTS" in hours and "By notional hours" in hours
    empty = html(client.get("/credits"))
    assert 'id="result-heading"' not in empty and 'action="/credits"' in empty


def test_credit_calculator_says_what_is_wrong_beside_the_field(client):
    response = client.get("/credits?value=abc&from=GB-CATS&to=NOPE")
    assert response.status_code == 400
    page = html(response)
    assert '<a href="#credit-value">Credits</a>: Not a valid number.' in page
    unknown = html(client.get("/credits?value=10&from=NOPE&to=ECTS"))
    assert '<a href="#credit-from">From credit system</a>: Unknown credit system' in unknown


def test_grade_calculator_answers_with_the_method_and_its_steps(client):
    page = html(client.get("/grades?value=1.7&from=DE-1-5&to=FR-0-20"))
    assert "1.7 (DE-1-5) = <strong>17.67</strong> (FR-0-20)" in page and "a pass" in page
    assert "By the two-anchor linear formula (the modified Bavarian formula)" in page
    assert "Shown with 2 decimal places, rounded half up: 17.67." in page
    ordinal = html(client.get("/grades?value=2:1&from=GB-HONS&to=DE-1-5"))
    assert "<strong>3.0</strong> (DE-1-5)" in ordinal and "read as 60 on GB-PCT" in ordinal
    wrong = client.get("/grades?value=9&from=DE-1-5&to=FR-0-20")
    assert wrong.status_code == 400
    assert "is not a grade on DE-1-5" in html(wrong)
    # The country and table the basis speaks of can be given on the form.
    country = html(client.get("/grades?value=2:1&from=GB-HONS&to=DE-1-5&country=DE"))
    assert "the ministry of DE has set no conversion table" in country
    assert 'name="country"' in country and 'value="DE"' in country and 'name="table"' in country
    unknown = client.get("/grades?value=2:1&from=GB-HONS&to=DE-1-5&table=NOPE")
    assert unknown.status_code == 400 and "Unknown table." in html(unknown)


def test_calculators_and_search_are_forms_of_get_with_no_secret_to_post(client):
    for path in ("/", "/credits", "/grades", "/equivalents?level=IE-NFQ:8&target=GB-SCQF"):
        page = html(client.get(path))
        assert 'method="post"' not in page.split("</header>")[1]
        assert 'method="get"' in page
