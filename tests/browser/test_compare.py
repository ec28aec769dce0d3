"""Anyone in the browser: opens the framework comparison from the home page, chooses the
frameworks, reads the diagram (its levels and lines) and downloads it as SVG."""

import re

from lxml import etree
from playwright.sync_api import expect

from tests.browser.conftest import check_page, sign_in

SVG = "{http://www.w3.org/2000/svg}"


def level_codes(page, framework: str) -> list[str]:
    ladder = page.locator(f'svg g.ladder[data-framework="{framework}"]')
    return ladder.locator("g.level text.code").all_text_contents()


def test_choose_frameworks_read_the_diagram_and_download_it(page, tmp_path):
    page.goto("/")
    page.get_by_role("link", name="Compare frameworks").first.click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Compare frameworks")
    check_page(page, "compare-form")

    for code in ("IE-NFQ", "EQF", "DE-DQR"):
        page.get_by_label(re.compile(f"^{code} ")).check()
    page.get_by_role("button", name="Draw the diagram").click()
    # The checkboxes' answer is the address to share: the codes once, comma-separated.
    expect(page).to_have_url(re.compile(r"/compare\?frameworks=EQF,DE-DQR,IE-NFQ$"))

    diagram = page.get_by_role("img", name=re.compile("Frameworks compared on"))
    expect(diagram).to_be_visible()
    columns = page.locator("svg g.ladder").evaluate_all(
        "nodes => nodes.map(n => n.dataset.framework)"
    )
    assert columns == ["DE-DQR", "EQF", "IE-NFQ"]
    assert level_codes(page, "IE-NFQ") == [str(n) for n in range(1, 11)]
    assert level_codes(page, "EQF") == [str(n) for n in range(1, 9)]
    assert level_codes(page, "DE-DQR") == [str(n) for n in range(1, 9)]
    expect(page.locator("svg g.link")).to_have_count(18)
    expect(page.locator("svg g.link line[stroke-dasharray]")).to_have_count(0)
    expect(page.get_by_role("table")).to_have_count(2)
    expect(page.get_by_role("table").first.locator("caption")).to_have_text(
        "DE-DQR and EQF: 8 links"
    )
    check_page(page, "compare-diagram")

    with page.expect_download() as download_info:
        page.get_by_role("link", name="Download the diagram (SVG)").click()
    download = download_info.value
    assert re.fullmatch(
        r"frameworks-DE-DQR-EQF-IE-NFQ-\d{4}-\d\d-\d\d\.svg", download.suggested_filename
    )
    saved = tmp_path / download.suggested_filename
    download.save_as(saved)
    svg = etree.parse(str(saved)).getroot()
    assert svg.tag == f"{SVG}svg" and svg.get("role") == "img"
    drawn = [g for g in svg.iter(f"{SVG}g") if g.get("class") == "link"]
    assert len(drawn) == 18
    assert ("IE-NFQ:8", "EQF:6") in {(g.get("data-right"), g.get("data-left")) for g in drawn}


def test_dashed_and_marked_links_and_a_phone_screen(page):
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto("/compare?frameworks=GB-RQF,EQF,AU-AQF")
    expect(page.locator("svg g.link")).to_have_count(14)
    expect(page.locator("svg g.link line[stroke-dasharray]")).to_have_count(2)
    expect(page.locator("svg g.link.weak")).to_have_count(3)
    expect(page.locator("svg g.link.weak circle")).to_have_count(3)
    australia = page.get_by_role("table").nth(1)
    expect(australia.locator("tbody tr")).to_have_count(3)
    expect(australia).to_contain_text("read only in a secondary source")
    # The diagram keeps its size and scrolls sideways in its own box; the page does not.
    box = page.get_by_role("region", name=re.compile("Diagram"))
    assert box.evaluate("node => node.scrollWidth > node.clientWidth")
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
    check_page(page, "compare-phone")


def test_refusals_are_clear_pages(page):
    sign_in(page, "Admissions, Trinity College Dublin")
    response = page.goto("/compare?frameworks=IE-NFQ,XX-NONE")
    assert response.status == 404
    expect(page.get_by_role("alert")).to_have_text("No framework with code 'XX-NONE'.")
    check_page(page, "compare-unknown")

    response = page.goto("/compare?frameworks=IE-NFQ,EQF,DE-DQR,GB-RQF,GB-SCQF,AT-NQR,PL-PQF")
    assert response.status == 400
    expect(page.get_by_role("alert")).to_contain_text("At most 6 frameworks")
    # The form keeps the choice, to take some away.
    expect(page.get_by_label(re.compile("^PL-PQF "))).to_be_checked()
    check_page(page, "compare-too-many")
