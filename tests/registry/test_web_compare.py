"""The framework comparison diagram: the SVG drawn from the database (read back with lxml, as a
program reading the download would), its table equivalent on the page, and the refusals."""

from __future__ import annotations

import re

import pytest
from lxml import etree
from lxml import html as lxml_html

from registry.web import diagrams
from tests.registry.test_web import html

SVG = "{http://www.w3.org/2000/svg}"
THREE = "IE-NFQ,EQF,DE-DQR"


def svg_of(response) -> etree._Element:
    assert response.status_code == 200, html(response)
    return etree.fromstring(response.data)


def page_svg(response) -> etree._Element:
    """The diagram inline in the page, parsed as XML (it is well-formed on its own)."""
    assert response.status_code == 200, html(response)
    match = re.search(r"<svg .*?</svg>", html(response), re.S)
    assert match, "the page has no diagram"
    return etree.fromstring(match.group(0))


def columns(svg) -> list[str]:
    return [g.get("data-framework") for g in svg.iter(f"{SVG}g") if g.get("class") == "ladder"]


def levels(svg, framework: str) -> list[tuple[str, float]]:
    """The level codes of one column, as printed, with the height of their box (y grows down)."""
    ladder = next(g for g in svg.iter(f"{SVG}g") if g.get("data-framework") == framework)
    found = []
    for level in ladder.iter(f"{SVG}g"):
        if level.get("class") == "level":
            code = next(t for t in level.iter(f"{SVG}text") if t.get("class") == "code")
            found.append((code.text, float(level.find(f"{SVG}rect").get("y"))))
    return found


def links(svg) -> list[etree._Element]:
    return [g for g in svg.iter(f"{SVG}g") if (g.get("class") or "").split()[:1] == ["link"]]


def dash(link) -> str | None:
    return link.find(f"{SVG}line").get("stroke-dasharray")


def test_three_frameworks_side_by_side_with_the_eqf_in_the_middle(client):
    response = client.get(f"/compare.svg?frameworks={THREE}")
    svg = svg_of(response)
    assert response.mimetype == "image/svg+xml"
    assert response.headers["Content-Disposition"] == (
        f'attachment; filename="frameworks-IE-NFQ-EQF-DE-DQR-{response_day(svg)}.svg"'
    )
    assert svg.get("role") == "img"
    assert svg.get("viewBox").startswith("0 0 ")
    assert "IE-NFQ" in svg.find(f"{SVG}title").text
    assert "IE-NFQ (version 2009): 10 levels" in svg.find(f"{SVG}desc").text
    assert columns(svg) == ["IE-NFQ", "EQF", "DE-DQR"]
    ireland = levels(svg, "IE-NFQ")
    assert [code for code, _ in ireland] == [str(n) for n in range(1, 11)]
    assert ireland[0][1] > ireland[-1][1], "level 1 stands at the bottom"
    assert [code for code, _ in levels(svg, "EQF")] == [str(n) for n in range(1, 9)]
    assert [code for code, _ in levels(svg, "DE-DQR")] == [str(n) for n in range(1, 9)]
    texts = [t.text for t in svg.iter(f"{SVG}text")]
    assert "NFQ level 8" in texts and "EQF level 6" in texts

    drawn = links(svg)
    # Every IE-NFQ level and every DE-DQR level is referenced to the EQF, exactly.
    assert len(drawn) == 10 + 8
    assert all(dash(link) is None and "weak" not in link.get("class") for link in drawn)
    pairs = {(link.get("data-left"), link.get("data-right")) for link in drawn}
    assert ("IE-NFQ:8", "EQF:6") in pairs and ("IE-NFQ:7", "EQF:6") in pairs
    # Stored DE-DQR -> EQF, drawn from the EQF column on the left to DE-DQR on the right.
    assert ("EQF:6", "DE-DQR:6") in pairs


def response_day(svg) -> str:
    return re.search(r"\d{4}-\d\d-\d\d", svg.find(f"{SVG}title").text).group(0)


def test_the_meta_framework_goes_to_the_middle_whatever_the_order(client):
    svg = svg_of(client.get("/compare.svg?frameworks=EQF,IE-NFQ,DE-DQR"))
    assert columns(svg) == ["IE-NFQ", "EQF", "DE-DQR"]


def test_broader_and_narrower_links_are_dashed(client):
    svg = svg_of(client.get("/compare.svg?frameworks=GB-RQF,EQF"))
    drawn = links(svg)
    assert len(drawn) == 11
    dashed = sorted(link.get("data-right") for link in drawn if dash(link))
    assert dashed == ["EQF:2", "EQF:3"]
    assert {link.get("data-relation") for link in drawn if dash(link)} == {"narrowMatch"}
    assert all(link.get("data-left") == "GB-RQF:1/2" for link in drawn if dash(link))
    assert sum(1 for link in drawn if dash(link) is None) == 9


def test_a_broader_link_stored_the_other_way_is_read_left_to_right(client):
    # QF-EHEA -> EQF is broadMatch (the EQF level is broader); both are meta-frameworks.
    svg = svg_of(client.get("/compare.svg?frameworks=EQF,QF-EHEA"))
    drawn = links(svg)
    assert len(drawn) == 4 and all(dash(link) for link in drawn)
    assert {(link.get("data-left"), link.get("data-relation")) for link in drawn} >= {
        ("EQF:6", "narrowMatch")
    }


def test_links_resting_on_a_comparison_or_a_secondary_source_are_marked(client):
    svg = svg_of(client.get("/compare.svg?frameworks=AU-AQF,EQF"))
    drawn = links(svg)
    assert len(drawn) == 3
    for link in drawn:
        assert "weak" in link.get("class").split()
        assert link.find(f"{SVG}line").get("stroke") == diagrams.WEAK
        assert link.find(f"{SVG}circle") is not None, "marked by a ring, not by colour alone"
        assert dash(link) is None, "an exact match stays solid"
    legend = " ".join(t.text for t in svg.iter(f"{SVG}text"))
    assert "only a comparison study or a secondary source" in legend

    referenced = links(svg_of(client.get("/compare.svg?frameworks=IE-NFQ,EQF")))
    assert not any(link.find(f"{SVG}circle") is not None for link in referenced)


def test_the_page_shows_the_diagram_the_form_and_the_table(client):
    response = client.get("/compare?frameworks=GB-RQF,EQF,AU-AQF")
    svg = page_svg(response)
    assert columns(svg) == ["GB-RQF", "EQF", "AU-AQF"]
    assert len(links(svg)) == 11 + 3
    tree = lxml_html.fromstring(html(response))
    assert tree.xpath("//a[@download]/@href") == ["/compare.svg?frameworks=GB-RQF,EQF,AU-AQF"]
    checked = tree.xpath("//input[@name='frameworks'][@checked]/@value")
    assert sorted(checked) == ["AU-AQF", "EQF", "GB-RQF"]
    assert tree.xpath("//div[@role='region'][@tabindex='0']//*[local-name()='svg']")

    tables = tree.xpath("//table[contains(@class, 'links-table')]")
    captions = [" ".join(t.xpath("caption")[0].text_content().split()) for t in tables]
    assert captions == ["GB-RQF and EQF: 11 links", "EQF and AU-AQF: 3 links"]
    rows = tables[0].xpath("tbody/tr")
    cells = {
        " ".join(row.xpath("th")[0].text_content().split()): [
            " ".join(td.text_content().split()) for td in row.xpath("td")
        ]
        for row in rows
    }
    assert len(rows) == 11
    narrower = [c for key, c in cells.items() if key.startswith("GB-RQF:1/2")]
    assert narrower[0][0] == "GB-RQF:1/2 is broader"
    australia = tables[1].xpath("tbody/tr")
    assert all("weak" in row.get("class", "") for row in australia)
    assert "read only in a secondary source" in australia[0].text_content()
    assert "comparison study" in australia[0].text_content()


def test_the_home_page_offers_the_comparison_to_everyone(client):
    assert 'href="/compare"' in html(client.get("/"))
    page = client.get("/compare")
    assert page.status_code == 200
    assert "<svg" not in html(page)
    assert 'name="frameworks"' in html(page)


def test_the_checkboxes_lead_to_the_address_to_share(client):
    response = client.get("/compare?frameworks=EQF&frameworks=IE-NFQ&on=")
    assert response.status_code == 302
    assert response.headers["Location"] == "/compare?frameworks=EQF,IE-NFQ"


def test_versions_in_force_on_a_day(client):
    # The 1969 French levels were in force until 10 January 2019; their links to the EQF too.
    svg = svg_of(client.get("/compare.svg?frameworks=FR-CNCP-1969,EQF&on=2015-06-30"))
    drawn = links(svg)
    assert len(drawn) == 6
    assert sum(1 for link in drawn if dash(link)) == 2
    assert "2015-06-30" in svg.find(f"{SVG}title").text
    today = client.get("/compare?frameworks=FR-CNCP-1969,EQF")
    assert today.status_code == 404
    assert "no version in force" in html(today)


@pytest.mark.parametrize("address", ["/compare", "/compare.svg"])
def test_an_unknown_framework_is_a_clear_404(client, address):
    response = client.get(f"{address}?frameworks=IE-NFQ,XX-NONE")
    assert response.status_code == 404
    assert "No framework with code &#39;XX-NONE&#39;." in html(response)
    assert "Traceback" not in html(response)


@pytest.mark.parametrize("address", ["/compare", "/compare.svg"])
def test_more_than_six_frameworks_are_refused_with_the_limit(client, address):
    codes = "IE-NFQ,EQF,DE-DQR,GB-RQF,GB-SCQF,AT-NQR,PL-PQF"
    response = client.get(f"{address}?frameworks={codes}")
    assert response.status_code == 400
    assert "At most 6 frameworks fit side by side; 7 were asked for." in html(response)


def test_a_bad_date_is_refused(client):
    response = client.get("/compare?frameworks=IE-NFQ&on=yesterday")
    assert response.status_code == 400
    assert "write it as YYYY-MM-DD" in html(response)


def test_level_titles_are_escaped(client, session):
    from frameworks import services

    level = services.list_levels(session, "IE-NFQ")[0]
    level.title = "<script>alert(1)</script> & more"
    session.flush()
    response = client.get("/compare?frameworks=IE-NFQ,EQF")
    assert "<script>alert(1)</script>" not in html(response)
    titles = [t.text for t in page_svg(response).iter(f"{SVG}title")]
    assert "IE-NFQ:1: <script>alert(1)</script> & more" in titles


# --- the drawing on its own, without Flask -----------------------------------------------------


def ladder(code: str, count: int, meta: bool = False) -> diagrams.Ladder:
    rungs = tuple(diagrams.Rung(str(n), f"{code} level {n}") for n in range(1, count + 1))
    return diagrams.Ladder(code, "1", meta, rungs)


def link(source: str, target: str, relation: str = "exactMatch", basis: str = "referencing"):
    return diagrams.Link(source, target, relation, basis, "A citation")


def test_lines_join_neighbours_only_and_a_far_level_names_its_meta_level():
    """A line across a column would run through its boxes and seem to end at one of them: a
    link to the EQF from two columns away is printed in the level's box instead, and listed in
    the tables."""
    columns = diagrams.arrange(
        [ladder("AA", 2), ladder("BB", 2), ladder("EQF", 2, meta=True), ladder("CC", 2)]
    )
    assert [c.code for c in columns] == ["AA", "BB", "EQF", "CC"]
    links = [
        link("AA:1", "EQF:1"),  # two columns apart, to the meta-framework: named in the box
        link("AA:2", "CC:2", basis="agreement"),  # two national ones apart: left out
        link("AA:1", "BB:1", basis="comparison"),
        link("CC:1", "EQF:2", "broadMatch"),  # stored right to left: read left to right
        link("AA:9", "EQF:1"),  # a level not drawn
    ]
    drawn = diagrams.connections(columns, links)
    assert [(c.left, c.right, c.relation) for c in drawn] == [
        ("AA:1", "BB:1", "exactMatch"),
        ("EQF:2", "CC:1", "narrowMatch"),
    ]
    assert [c.weak for c in drawn] == [True, False]
    listed = diagrams.connections(columns, links, to_meta_afar=True)
    assert ("AA:1", "EQF:1") in [(c.left, c.right) for c in listed]
    assert ("AA:2", "CC:2") not in [(c.left, c.right) for c in listed]
    named = diagrams.labels(columns, links)
    assert named == {"AA:1": ["EQF:1"]}
    svg = etree.fromstring(diagrams.comparison_svg(columns, drawn, words(), named))
    lines = [g for g in svg.iter(f"{SVG}g") if g.get("class") in ("link", "link weak")]
    assert len(lines) == 2 and not [g for g in svg.iter(f"{SVG}g") if g.get("class") == "passing"]
    printed = [t.text for t in svg.iter(f"{SVG}text") if t.get("class") == "meta-level"]
    assert printed == ["→ EQF:1"]


def test_the_drawing_escapes_text_and_has_no_script():
    columns = [diagrams.Ladder("X<&>", '1"2', False, (diagrams.Rung("1", "</text><script/>"),))]
    document = diagrams.comparison_svg(columns, [], words(title="<title>&"))
    svg = etree.fromstring(document)
    assert not list(svg.iter(f"{SVG}script"))
    assert svg.find(f"{SVG}title").text == "<title>&"
    assert "X<&>" in [t.text for t in svg.iter(f"{SVG}text")]


def words(title: str = "Title") -> diagrams.Words:
    return diagrams.Words(title, "Desc", "version", "Lines", "same", "wider", "related", "weak")
