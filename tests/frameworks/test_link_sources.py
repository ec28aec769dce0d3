"""What the bundled links rest on, checked against their primary sources (issue 18, items 2, 4,
7 and 8). No database: the files as their schema loads them. Each test states the fact and the
source it was checked against; frameworks/data/README.md lists the same corrections.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

from frameworks.schemas import FrameworkFileSchema

FRAMEWORK_DIR = Path(__file__).resolve().parents[2] / "frameworks" / "data" / "frameworks"
FR_SWITCH = dt.date(2019, 1, 10)  # décret n° 2019-14: JORF 9 Jan 2019, in force the next day


def load(code: str) -> dict:
    raw = json.loads((FRAMEWORK_DIR / f"{code}.json").read_text(encoding="utf-8"))
    return FrameworkFileSchema().load(raw)


ALL = {path.stem: load(path.stem) for path in sorted(FRAMEWORK_DIR.glob("*.json"))}


def framework(ref: str) -> str:
    return ref.split(":", 1)[0]


def level(code: str, level_code: str) -> dict:
    return next(item for item in ALL[code]["levels"] if item["code"] == level_code)


# --- item 2 ---------------------------------------------------------------------------------


def test_meces_eqf_levels_rest_on_spanish_law_not_on_a_referencing():
    """Real Decreto 22/2015 (BOE-A-2015-1158, 7 Feb 2015) amended RD 1027/2011 to state each
    MECES level's EQF level (1 -> 5 ... 4 -> 8); Spain's EQF referencing, of its MECU, was still
    pending in May 2022. The links' basis is `legislation`, citing the decree."""
    links = ALL["ES-MECES"]["links"]
    assert {(link["source"], link["target"]) for link in links} == {
        ("ES-MECES:1", "EQF:5"),
        ("ES-MECES:2", "EQF:6"),
        ("ES-MECES:3", "EQF:7"),
        ("ES-MECES:4", "EQF:8"),
    }
    for link in links:
        assert link["basis"] == "legislation"
        assert "Real Decreto 22/2015" in link["citation"]
        assert "BOE-A-2015-1158" in link["citation"]
        assert "not a referencing accepted by the EQF Advisory Group" in link["citation"]


# --- item 4 ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "code, source",
    [
        # Eurydice Malta 7.2.2: MQF level 5 programmes are Malta's short-cycle HE.
        ("MT-MQF", "Eurydice, Malta, 7.2.2"),
        # Decreto-Lei 43/2014 (CTeSP at QNQ 5) and 63/2016 (the short cycle of the first cycle).
        ("PT-QNQ", "Decreto-Lei n.º 63/2016"),
        # Eurydice France 7.2.2: BTS and DUT, 120 ECTS at level 5, are short-cycle HE.
        ("FR-CNCP", "Eurydice, France, 7.2.2"),
    ],
)
def test_level_5_holds_the_short_cycle(code, source):
    five = level(code, "5")
    assert five["ehea_cycle"] == "short"
    assert source in five["note"]
    # The cycle above stays the first: short cycle only at 5.
    assert level(code, "6")["ehea_cycle"] == "first"
    assert level(code, "4")["ehea_cycle"] is None


# --- item 7 ---------------------------------------------------------------------------------

# Décret n° 2019-14: "Les certifications professionnelles classées selon la nomenclature en
# vigueur antérieurement au présent décret sont classées ... selon la correspondance suivante":
# V -> 3, IV -> 4, III -> 5, II -> 6; former level I certifications at 7 or 8 (by 1 Jan 2020).
DECREE_TABLE = {"V": {"3"}, "IV": {"4"}, "III": {"5"}, "II": {"6"}, "I": {"7", "8"}}


def test_the_2019_decree_maps_the_1969_levels_onto_the_eight_level_framework():
    succession = [link for link in ALL["FR-CNCP"]["links"] if link["succession"]]
    table: dict[str, set[str]] = {}
    for link in succession:
        assert framework(link["source"]) == "FR-CNCP-1969"
        assert framework(link["target"]) == "FR-CNCP"
        table.setdefault(link["source"].split(":")[1], set()).add(link["target"].split(":")[1])
        assert link["basis"] == "legislation"
        assert "Décret n° 2019-14" in link["citation"]
        assert (link["valid_from"], link["valid_to"]) == (FR_SWITCH, None)
        one_to_many = link["source"] == "FR-CNCP-1969:I"
        assert link["relation"] == ("narrowMatch" if one_to_many else "exactMatch")
    assert table == DECREE_TABLE


def test_only_the_french_successor_files_succession_links():
    for code, data in ALL.items():
        if code != "FR-CNCP":
            assert not any(link["succession"] for link in data["links"]), code


# --- item 8 ---------------------------------------------------------------------------------


def test_au_eqf_links_say_they_rest_on_a_secondary_summary():
    """The 2016 AQF-EQF joint report (ISBN 978-1-76028-955-3) is cited, but its conclusions
    (p. 42) and Appendix 1 (p. 51) could not be read: the results come from a third party's
    summary (atmc.social)."""
    to_eqf = [link for link in ALL["AU-AQF"]["links"] if framework(link["target"]) == "EQF"]
    assert len(to_eqf) == 3
    for link in to_eqf:
        assert "ISBN 978-1-76028-955-3" in link["citation"]
        assert "atmc.social" in link["secondary_source"]
        assert "could not be read" in link["secondary_source"]


def test_only_the_au_eqf_links_rest_on_a_secondary_source():
    secondary = {
        (link["source"], link["target"])
        for data in ALL.values()
        for link in data["links"]
        if link["secondary_source"]
    }
    assert secondary == {("AU-AQF:7", "EQF:6"), ("AU-AQF:9", "EQF:7"), ("AU-AQF:10", "EQF:8")}


@pytest.mark.parametrize(
    "code, ends, needles",
    [
        # The 2016 EQF-NZQF joint technical report and NZQA's EU-NZ arrangement page.
        (
            "NZ-NZQCF",
            ("NZ-NZQCF", "EQF"),
            [
                "ISBN 978-92-79-63854-1",
                "www2.nzqa.govt.nz/international/recognition-arrangements/european-union-nz",
            ],
        ),
        # The 2015 referencing of the AQF and the NZQF, and NZQA's Australia-NZ page.
        (
            "AU-AQF",
            ("AU-AQF", "NZ-NZQCF"),
            [
                "Enhancing Mobility",
                "2015",
                "www2.nzqa.govt.nz/international/recognition-arrangements/australia-nz",
            ],
        ),
        # The 2018 HKQF-NZQF referencing report and NZQA's Hong Kong-NZ page.
        (
            "HK-QF",
            ("NZ-NZQCF", "HK-QF"),
            [
                "ISBN 978-0-473-45111-0",
                "www2.nzqa.govt.nz/international/recognition-arrangements/hong-kong-nz",
            ],
        ),
    ],
)
def test_nz_links_cite_their_primary_sources(code, ends, needles):
    links = [
        link
        for link in ALL[code]["links"]
        if (framework(link["source"]), framework(link["target"])) == ends
    ]
    assert links
    for link in links:
        for needle in needles:
            assert needle in link["citation"], (link["source"], needle)
        assert link["secondary_source"] is None
