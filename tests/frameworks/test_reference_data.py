"""The bundled reference data (frameworks/data) against the published tables it encodes.

No database: every file is loaded with its marshmallow schema and checked against expected
tables written out here from the reference notes (/work/shared/reference/frameworks.md),
independently of the data files. See frameworks/data/README.md for the conventions.
"""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from pathlib import Path

import pytest

from frameworks.schemas import (
    CreditSystemsFileSchema,
    FrameworkFileSchema,
    GradingScalesFileSchema,
)

DATA = Path(__file__).resolve().parents[2] / "frameworks" / "data"
FRAMEWORK_DIR = DATA / "frameworks"

FR_SWITCH = dt.date(2019, 1, 10)  # décret n° 2019-14: JORF 9 Jan 2019, in force the next day

# code -> (country, meta, version, level codes lowest first). A ".1" version republishes the
# same instrument's definition corrected (issue 18: bases, short cycles, citations).
FRAMEWORKS = {
    "EQF": (None, True, "2017", [str(n) for n in range(1, 9)]),
    "QF-EHEA": (None, True, "2018.1", ["SC", "1", "2", "3"]),
    "IE-NFQ": ("IE", False, "2009", [str(n) for n in range(1, 11)]),
    "GB-RQF": ("GB", False, "2019", ["E1", "E2", "E3", "1", "1/2"] + [str(n) for n in range(2, 9)]),
    "GB-CQFW": ("GB", False, "2010", ["E1", "E2", "E3"] + [str(n) for n in range(1, 9)]),
    "GB-SCQF": ("GB", False, "2019", [str(n) for n in range(1, 13)]),
    "DE-DQR": ("DE", False, "2012", [str(n) for n in range(1, 9)]),
    "FR-CNCP": ("FR", False, "2019.1", [str(n) for n in range(1, 9)]),
    "FR-CNCP-1969": ("FR", False, "1969", ["V", "IV", "III", "II", "I"]),
    "NL-NLQF": ("NL", False, "2012", ["entry", "1", "2", "3", "4", "4+", "5", "6", "7", "8"]),
    "AT-NQR": ("AT", False, "2012", ["I", "II", "III", "IV", "V", "VI", "VII", "VIII"]),
    "PL-PQF": ("PL", False, "2013", [str(n) for n in range(1, 9)]),
    "IT-QNQ": ("IT", False, "2018", [str(n) for n in range(1, 9)]),
    "ES-MECES": ("ES", False, "2015.1", ["1", "2", "3", "4"]),
    "PT-QNQ": ("PT", False, "2011.1", [str(n) for n in range(1, 9)]),
    "MT-MQF": ("MT", False, "2016.1", ["A", "B"] + [str(n) for n in range(1, 9)]),
    "NZ-NZQCF": ("NZ", False, "2016.1", [str(n) for n in range(1, 11)]),
    "AU-AQF": ("AU", False, "2016.1", [str(n) for n in range(1, 11)]),
    "HK-QF": ("HK", False, "2017.1", [str(n) for n in range(1, 8)]),
}


def one_to_one(n: int) -> dict[str, set[int]]:
    return {str(i): {i} for i in range(1, n + 1)}


# Published level -> EQF level(s). A level absent here must have no EQF link.
EQF_TABLES: dict[str, dict[str, set[int]]] = {
    "EQF": {},
    "QF-EHEA": {"SC": {5}, "1": {6}, "2": {7}, "3": {8}},
    "IE-NFQ": {
        "1": {1},
        "2": {1},
        "3": {2},
        "4": {3},
        "5": {4},
        "6": {5},
        "7": {6},
        "8": {6},
        "9": {7},
        "10": {8},
    },
    "GB-RQF": {
        "E3": {1},
        "1": {2},
        "1/2": {2, 3},
        "2": {3},
        "3": {4},
        "4": {5},
        "5": {5},
        "6": {6},
        "7": {7},
        "8": {8},
    },
    "GB-CQFW": {
        "E3": {1},
        "1": {2},
        "2": {3},
        "3": {4},
        "4": {5},
        "5": {5},
        "6": {6},
        "7": {7},
        "8": {8},
    },
    "GB-SCQF": {
        "3": {1},
        "4": {2},
        "5": {3},
        "6": {4},
        "7": {5},
        "8": {5},
        "9": {6},
        "10": {6},
        "11": {7},
        "12": {8},
    },
    "DE-DQR": one_to_one(8),
    "FR-CNCP": one_to_one(8),
    "FR-CNCP-1969": {"V": {3}, "IV": {4}, "III": {5}, "II": {6}, "I": {7, 8}},
    "NL-NLQF": {
        "1": {1},
        "2": {2},
        "3": {3},
        "4": {4},
        "4+": {4},
        "5": {5},
        "6": {6},
        "7": {7},
        "8": {8},
    },
    "AT-NQR": {r: {i} for i, r in enumerate(["I", "II", "III", "IV", "V", "VI", "VII", "VIII"], 1)},
    "PL-PQF": one_to_one(8),
    "IT-QNQ": one_to_one(8),
    "ES-MECES": {"1": {5}, "2": {6}, "3": {7}, "4": {8}},
    "PT-QNQ": one_to_one(8),
    "MT-MQF": one_to_one(8),
    "NZ-NZQCF": {
        "1": {2},
        "2": {3},
        "3": {4},
        "4": {4},
        "5": {5},
        "6": {5},
        "7": {6},
        "9": {7},
        "10": {8},
    },
    # Only the results stated for the 2016 AU-EU report; 1-6 and 8 could not be read.
    "AU-AQF": {"7": {6}, "9": {7}, "10": {8}},
    # The HK-EU study's level table could not be read; values derived via NZ are not published.
    "HK-QF": {},
}

NO_EQF_REASONS = {
    "GB-RQF": {"E1": "below_eqf_1", "E2": "below_eqf_1"},
    "GB-CQFW": {"E1": "below_eqf_1", "E2": "below_eqf_1"},
    "GB-SCQF": {"1": "below_eqf_1", "2": "below_eqf_1"},
    "NL-NLQF": {"entry": "below_eqf_1"},
    "MT-MQF": {"A": "below_eqf_1", "B": "below_eqf_1"},
    "NZ-NZQCF": {"8": "unlevelled"},
}

COMPARISON_FRAMEWORKS = {"NZ-NZQCF", "AU-AQF", "HK-QF"}
# Spanish law (Real Decreto 22/2015) states the MECES levels' EQF levels; no accepted referencing.
LEGISLATION_FRAMEWORKS = {"ES-MECES"}

# Direct bilateral comparisons (not through the EQF).
AU_NZ = {(str(n), str(n)) for n in range(1, 11)}
NZ_HK = {
    ("1", "1"),
    ("2", "2"),
    ("3", "3"),
    ("4", "3"),
    ("5", "4"),
    ("6", "4"),
    ("7", "5"),
    ("9", "6"),
    ("10", "7"),
}

# EHEA cycles where the notes name them.
EHEA_CYCLES = {
    "EQF": {"5": "short", "6": "first", "7": "second", "8": "third"},
    "QF-EHEA": {"SC": "short", "1": "first", "2": "second", "3": "third"},
    "IE-NFQ": {"6": "short", "7": "first", "8": "first", "9": "second", "10": "third"},
    "GB-RQF": {"5": "short", "6": "first", "7": "second", "8": "third"},
    "GB-CQFW": {"5": "short", "6": "first", "7": "second", "8": "third"},
    "GB-SCQF": {"8": "short", "9": "first", "10": "first", "11": "second", "12": "third"},
    "ES-MECES": {"1": "short", "2": "first", "3": "second", "4": "third"},
    # Short cycles at level 5: tests/frameworks/test_link_sources.py states each source.
    "MT-MQF": {"5": "short", "6": "first", "7": "second", "8": "third"},
    "PT-QNQ": {"5": "short", "6": "first", "7": "second", "8": "third"},
    "FR-CNCP": {"5": "short", "6": "first", "7": "second", "8": "third"},
    "NZ-NZQCF": {},
    "AU-AQF": {},
    "HK-QF": {},
}


def _read(path: Path):
    return json.loads(path.read_text(encoding="utf-8"))


def _load_all() -> dict[str, dict]:
    loaded = {}
    for path in sorted(FRAMEWORK_DIR.glob("*.json")):
        data = FrameworkFileSchema().load(_read(path))
        assert path.stem == data["code"], f"{path.name} holds {data['code']}"
        loaded[data["code"]] = data
    return loaded


ALL = _load_all()


def split(ref: str) -> tuple[str, str]:
    framework, level = ref.split(":", 1)
    return framework, level


def eqf_pairs(data: dict) -> dict[str, set[int]]:
    pairs: dict[str, set[int]] = {}
    for link in data["links"]:
        source_fw, source_level = split(link["source"])
        target_fw, target_level = split(link["target"])
        if source_fw == data["code"] and target_fw == "EQF":
            pairs.setdefault(source_level, set()).add(int(target_level))
    return pairs


def test_exactly_the_expected_framework_files():
    assert set(ALL) == set(FRAMEWORKS)


@pytest.mark.parametrize("code", sorted(FRAMEWORKS))
def test_framework_header_and_levels(code):
    data = ALL[code]
    country, meta, version, levels = FRAMEWORKS[code]
    assert data["country"] == country
    assert data["meta"] is meta
    assert data["version"]["version"] == version
    assert data["version"]["status"] == "published"
    assert data["version"]["citation"].strip()
    ordered = sorted(data["levels"], key=lambda level: level["ordinal"])
    assert [level["code"] for level in ordered] == levels
    codes = [level["code"] for level in data["levels"]]
    ordinals = [level["ordinal"] for level in data["levels"]]
    assert len(set(codes)) == len(codes)
    assert len(set(ordinals)) == len(ordinals)
    names = [
        name.casefold() for level in data["levels"] for name in [level["code"], *level["aliases"]]
    ]
    assert len(set(names)) == len(names), "a level code or alias is used twice"
    for level in data["levels"]:
        assert level["title"].strip()


@pytest.mark.parametrize("code", sorted(FRAMEWORKS))
def test_published_eqf_table(code):
    assert eqf_pairs(ALL[code]) == EQF_TABLES[code]


@pytest.mark.parametrize("code", sorted(FRAMEWORKS))
def test_relations_and_bases(code):
    data = ALL[code]
    table = EQF_TABLES[code]
    for link in data["links"]:
        source_fw, source_level = split(link["source"])
        target_fw, _ = split(link["target"])
        if target_fw != "EQF":
            continue
        if code == "QF-EHEA":
            assert link["relation"] == "broadMatch"
        elif len(table[source_level]) > 1:
            assert link["relation"] == "narrowMatch", link
        else:
            assert link["relation"] == "exactMatch", link
        expected_basis = (
            "comparison"
            if code in COMPARISON_FRAMEWORKS
            else "legislation"
            if code in LEGISLATION_FRAMEWORKS
            else "referencing"
        )
        assert link["basis"] == expected_basis, link


def test_comparison_frameworks_never_claim_referencing():
    for code in COMPARISON_FRAMEWORKS:
        assert ALL[code]["links"], code
        assert {link["basis"] for link in ALL[code]["links"]} == {"comparison"}


def test_eqf_has_no_links_and_official_descriptors():
    eqf = ALL["EQF"]
    assert eqf["links"] == []
    for level in eqf["levels"]:
        for column in ("knowledge", "skills", "responsibility_autonomy"):
            assert level[column] and level[column].strip(), (level["code"], column)
    by_code = {level["code"]: level for level in eqf["levels"]}
    assert by_code["1"]["knowledge"] == "Basic general knowledge"
    assert by_code["1"]["responsibility_autonomy"] == (
        "Work or study under direct supervision in a structured context"
    )
    assert by_code["8"]["knowledge"].startswith("Knowledge at the most advanced frontier")


@pytest.mark.parametrize("code", sorted(FRAMEWORKS))
def test_no_eqf_reasons(code):
    data = ALL[code]
    reasons = {
        level["code"]: level["no_eqf_reason"] for level in data["levels"] if level["no_eqf_reason"]
    }
    assert reasons == NO_EQF_REASONS.get(code, {})
    linked = eqf_pairs(data)
    for level in data["levels"]:
        if level["no_eqf_reason"]:
            assert level["code"] not in linked
        elif not data["meta"] and level["code"] not in linked:
            # Unknown or unconfirmed: no reason, but a note saying why.
            assert level["note"] and level["note"].strip(), (code, level["code"])


def test_unconfirmed_levels_say_why():
    au = {level["code"]: level for level in ALL["AU-AQF"]["levels"]}
    for code in ("1", "2", "3", "4", "5", "6", "8"):
        assert au[code]["no_eqf_reason"] is None
        assert "could not be read" in au[code]["note"]
    for level in ALL["HK-QF"]["levels"]:
        assert level["no_eqf_reason"] is None
        assert "could not be read" in level["note"]


def test_direct_bilateral_comparisons():
    au_nz = {
        (split(link["source"])[1], split(link["target"])[1])
        for link in ALL["AU-AQF"]["links"]
        if split(link["target"])[0] == "NZ-NZQCF"
    }
    assert au_nz == AU_NZ
    nz_hk = {
        (split(link["source"])[1], split(link["target"])[1])
        for link in ALL["HK-QF"]["links"]
        if split(link["source"])[0] == "NZ-NZQCF"
    }
    assert nz_hk == NZ_HK
    for code in ("AU-AQF", "HK-QF"):
        for link in ALL[code]["links"]:
            if "EQF" not in (split(link["source"])[0], split(link["target"])[0]):
                assert (link["relation"], link["basis"]) == ("exactMatch", "comparison")
    # HK-QF holds only the NZ comparison: nothing to the EQF (derived values are not published).
    assert all(split(link["target"])[0] == "HK-QF" for link in ALL["HK-QF"]["links"])


@pytest.mark.parametrize("code", sorted(EHEA_CYCLES))
def test_ehea_cycles(code):
    cycles = {
        level["code"]: level["ehea_cycle"] for level in ALL[code]["levels"] if level["ehea_cycle"]
    }
    assert cycles == EHEA_CYCLES[code]


def test_austrian_levels_accept_arabic_aliases():
    aliases = {level["code"]: level["aliases"] for level in ALL["AT-NQR"]["levels"]}
    roman = ["I", "II", "III", "IV", "V", "VI", "VII", "VIII"]
    assert aliases == {r: [str(i)] for i, r in enumerate(roman, 1)}


def test_every_link_is_cited_and_resolves():
    seen = set()
    for code, data in ALL.items():
        for link in data["links"]:
            assert link["citation"].strip(), link
            ends = [split(link["source"]), split(link["target"])]
            assert code in (ends[0][0], ends[1][0]), f"{code} holds a link not touching it"
            for framework, level in ends:
                assert framework in ALL, link
                codes = {lv["code"] for lv in ALL[framework]["levels"]}
                assert level in codes, f"{link['source']} -> {link['target']}: no such level"
            key = (link["source"], link["target"], link["basis"])
            assert key not in seen, key
            seen.add(key)


def test_validity_only_for_the_french_replacement():
    for code, data in ALL.items():
        version = data["version"]
        if code == "FR-CNCP":
            expected = (FR_SWITCH, None)
        elif code == "FR-CNCP-1969":
            expected = (None, FR_SWITCH)
        else:
            expected = (None, None)
        assert (version["valid_from"], version["valid_to"]) == expected, code
        for link in data["links"]:
            assert (link["valid_from"], link["valid_to"]) == expected, link


# --- credit systems -------------------------------------------------------------------------

CREDIT_SYSTEMS = {
    # code: (hours_low, hours_high, per_year)
    "ECTS": ("25", "30", "60"),
    "ECTS-MT": ("25", "25", "60"),
    "GB-CATS": ("10", "10", "120"),
    "GB-SCQF-CP": ("10", "10", "120"),
    "US-SEM": ("45", "45", "30"),
    "US-QTR": ("30", "36", "45"),
    "NZ-CR": ("10", "10", "120"),
    "ZA-CR": ("10", "10", "120"),
    "HK-CR": ("10", "10", None),
    "ECVET": (None, None, "60"),
}


def dec(value):
    return None if value is None else Decimal(value)


def test_credit_systems():
    raw = _read(DATA / "credit_systems.json")
    for row in raw["credit_systems"]:
        for key in ("hours_low", "hours_high", "per_year"):
            assert row[key] is None or isinstance(row[key], str), "decimals are JSON strings"
    data = CreditSystemsFileSchema().load(raw)
    systems = {row["code"]: row for row in data["credit_systems"]}
    assert set(systems) == set(CREDIT_SYSTEMS)
    for code, (low, high, per_year) in CREDIT_SYSTEMS.items():
        row = systems[code]
        assert (row["hours_low"], row["hours_high"], row["per_year"]) == (
            dec(low),
            dec(high),
            dec(per_year),
        ), code
        assert row["citation"].strip()


def test_only_ecvets_annual_load_is_a_registry_convention():
    """Issue 18, item 6: ECVET points are "a numerical representation of the overall weight
    of learning outcomes in a qualification" (Recommendation 2009/C 155/02 of 18 June 2009,
    Annex I), 60 for a year of formal full-time VET (Annex II); the Recommendation seeks the
    "compatibility, comparability and complementarity" of VET credit systems and ECTS, and
    equates neither with the other. Equating their years is this registry's convention."""
    data = CreditSystemsFileSchema().load(_read(DATA / "credit_systems.json"))
    conventions = {
        row["code"]: row["annual_load_convention"]
        for row in data["credit_systems"]
        if row["annual_load_convention"]
    }
    assert set(conventions) == {"ECVET"}
    assert "weight of learning outcomes" in conventions["ECVET"]
    assert "no published text equates" in conventions["ECVET"]


# --- grading scales -------------------------------------------------------------------------

SCALES = {
    # code: (kind, best, worst, pass_mark, decimals, rounding)
    "DE-1-5": ("numeric", "1.0", "5.0", "4.0", 1, "truncate"),
    "FR-0-20": ("numeric", "20", "0", "10", 2, "half_up"),
    "IT-30": ("numeric", "30", "0", "18", 2, "half_up"),
    "IT-110": ("numeric", "110", "0", "66", 0, "half_up"),
    "NL-10": ("numeric", "10", "1", "5.5", 1, "half_up"),
    "ES-10": ("numeric", "10", "0", "5", 1, "half_up"),
    "US-GPA-4": ("numeric", "4.0", "0.0", "1.0", 2, "half_up"),
    "GB-PCT": ("numeric", "100", "0", "40", 2, "half_up"),
    "GB-HONS": ("ordinal", None, None, None, 2, "half_up"),
    "ECTS-A-F": ("ordinal", None, None, None, 2, "half_up"),
}


@pytest.fixture(scope="module")
def scales_file():
    return GradingScalesFileSchema().load(_read(DATA / "grading_scales.json"))


def test_grading_scale_values(scales_file):
    scales = {scale["code"]: scale for scale in scales_file["grading_scales"]}
    assert set(scales) == set(SCALES)
    for code, (kind, best, worst, pass_mark, decimals, rounding) in SCALES.items():
        scale = scales[code]
        assert scale["kind"] == kind
        assert (scale["best"], scale["worst"], scale["pass_mark"]) == (
            dec(best),
            dec(worst),
            dec(pass_mark),
        ), code
        assert (scale["decimals"], scale["rounding"]) == (decimals, rounding), code
        assert scale["citation"].strip()
    assert scales["IT-30"]["special_values"] == {"30L": "30", "30 e lode": "30"}
    assert "2.0" in scales["US-GPA-4"]["note"]
    assert "Matrícula de Honor" in scales["ES-10"]["note"]


def test_italian_lode_adds_nothing_to_the_mark(scales_file):
    """Issue 18, item 5: at the University of Parma "'Thirty cum laude' does not add marks to
    the grade (30)" in the weighted average (corsi.unipr.it, "Average calculation"); at the
    Politecnico di Torino "Exams passed with honours do not have an impact on the Average grade"
    (didattica.polito.it). The note must not claim that Parma counts it as 33."""
    scale = next(s for s in scales_file["grading_scales"] if s["code"] == "IT-30")
    assert scale["special_values"] == {"30L": "30", "30 e lode": "30"}
    assert "does not add marks to the grade (30)" in scale["note"]
    assert "Parma" in scale["note"] and "33" not in scale["note"]


def test_italian_degree_mark_out_of_110(scales_file):
    """Issue 18, item 9: the final mark Italian degree certificates print. Università degli
    Studi di Trieste, student-career regulation, art. 30 "Prova finale": the mark "è espressa
    in cento decimi, con possibilità di lode" and the examination "si intende superato con la
    votazione minima di 66/110"; Università di Catania, "Laurea": at least 66/110, lode by the
    board's unanimous decision to a candidate with full marks."""
    scale = next(s for s in scales_file["grading_scales"] if s["code"] == "IT-110")
    assert scale["special_values"] == {"110L": "110", "110 e lode": "110"}
    assert scale["bands"] == []
    assert "art. 30" in scale["citation"] and "66/110" in scale["citation"]
    assert "Catania" in scale["citation"]


def test_german_bands(scales_file):
    scale = next(s for s in scales_file["grading_scales"] if s["code"] == "DE-1-5")
    bands = [(b["code"], b["low"], b["high"], b["passing"]) for b in scale["bands"]]
    assert bands == [
        ("sehr gut", Decimal("1.0"), Decimal("1.5"), True),
        ("gut", Decimal("1.6"), Decimal("2.5"), True),
        ("befriedigend", Decimal("2.6"), Decimal("3.5"), True),
        ("ausreichend", Decimal("3.6"), Decimal("4.0"), True),
    ]


def test_honours_classes(scales_file):
    scale = next(s for s in scales_file["grading_scales"] if s["code"] == "GB-HONS")
    bands = [
        (
            b["code"],
            b["passing"],
            b["equivalent"]["scale"],
            b["equivalent"]["low"],
            b["equivalent"]["high"],
        )
        for b in scale["bands"]
    ]
    assert bands == [
        ("First", True, "GB-PCT", Decimal("70"), Decimal("100")),
        ("2:1", True, "GB-PCT", Decimal("60"), Decimal("70")),
        ("2:2", True, "GB-PCT", Decimal("50"), Decimal("60")),
        ("Third", True, "GB-PCT", Decimal("40"), Decimal("50")),
        ("Fail", False, "GB-PCT", Decimal("0"), Decimal("40")),
    ]
    assert "exclusive" in scale["note"]


def test_ects_letter_scale_and_its_distribution(scales_file):
    scale = next(s for s in scales_file["grading_scales"] if s["code"] == "ECTS-A-F")
    assert [(b["code"], b["passing"], b["equivalent"]) for b in scale["bands"]] == [
        ("A", True, None),
        ("B", True, None),
        ("C", True, None),
        ("D", True, None),
        ("E", True, None),
        ("FX", False, None),
        ("F", False, None),
    ]
    assert len(scales_file["distributions"]) == 1
    table = scales_file["distributions"][0]
    assert (table["scale"], table["reference_group"]) == ("ECTS-A-F", "default")
    assert [(row["grade"], row["percent"]) for row in table["rows"]] == [
        ("A", Decimal("10")),
        ("B", Decimal("25")),
        ("C", Decimal("30")),
        ("D", Decimal("25")),
        ("E", Decimal("10")),
    ]
    assert sum(row["percent"] for row in table["rows"]) == 100
    assert table["citation"].strip()
