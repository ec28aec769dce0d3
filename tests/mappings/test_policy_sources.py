"""The recognition policy's published facts against their sources (issue 18, items 1 and 3).

No database: the bundled files are read as they ship.
"""

import json
import re
from decimal import Decimal
from pathlib import Path

from mappings.recognition import reference
from mappings.rules import load_default_policy

ROOT = Path(__file__).resolve().parents[2]
QF_EHEA = ROOT / "frameworks" / "data" / "frameworks" / "QF-EHEA.json"
EHEA_PAGE = "ehea.info, 'Qualification frameworks'"


def test_qf_ehea_credit_ranges_as_revised_in_paris_2018():
    # ehea.info, "Qualification frameworks" (the QF-EHEA "last revised in 2018 at the Paris
    # Ministerial Conference"): short cycle "typically 90-120 ECTS credits", first cycle
    # "typically 180-240", second cycle "typically 90-120 ECTS credits, with a minimum of 60
    # credits at the level of the second cycle"; no range for the third cycle. The minimum the
    # workload is measured against is the published floor: the stated minimum where there is
    # one (second cycle), else the low end of the typical range.
    expected = {
        "short_cycle": (5, ("90", "120"), "90"),
        "bachelor": (6, ("180", "240"), "180"),
        "master": (7, ("90", "120"), "60"),
        "doctorate": (8, None, None),
    }
    kinds = reference()["qualification_types"]
    assert set(kinds) == set(expected)
    for name, (eqf, typical, minimum) in expected.items():
        kind = kinds[name]
        assert kind["eqf_level"] == eqf, name
        assert kind["minimum_ects"] == minimum, name
        if typical is None:
            assert kind["typical_ects"] is None
            assert "no ECTS range" in kind["basis"]
            continue
        low, high = typical
        assert (kind["typical_ects"]["low"], kind["typical_ects"]["high"]) == (low, high), name
        assert f"typically {low}-{high} ECTS credits" in kind["basis"], name
        assert EHEA_PAGE in kind["basis"], name
        assert Decimal(kind["minimum_ects"]) <= Decimal(low)
    assert "minimum of 60 at the level of the second cycle" in kinds["master"]["basis"]


def test_qf_ehea_level_notes_give_the_same_ranges():
    notes = {level["code"]: level["note"] for level in json.loads(QF_EHEA.read_text())["levels"]}
    assert notes["SC"].startswith("Typically 90-120 ECTS credits (QF-EHEA as revised in Paris")
    assert "about 120" not in notes["SC"]
    assert notes["1"].startswith("Typically 180-240 ECTS credits")
    assert notes["2"].startswith(
        "Typically 90-120 ECTS credits, with a minimum of 60 at the level of the second cycle"
    )


def test_lisbon_convention_articles_cited_for_what_they_say():
    # Lisbon Recognition Convention (ETS No. 165): art. VI.1 has a Party recognise another
    # Party's higher education qualifications unless a substantial difference is shown; the
    # burden of proof is art. III.3(5): the responsibility for demonstrating that an application
    # does not fulfil the requirements lies with the body undertaking the assessment. The
    # Council of Europe's summary (coe.int, "The Lisbon Recognition Convention") states both
    # principles; see frameworks/data/README.md, issue 18, for what was checked.
    notes = {rule["id"]: rule["then"].get("notes", "") for rule in load_default_policy()}
    burden = sorted(rule_id for rule_id, text in notes.items() if "burden of proof" in text)
    assert burden == ["default-baseline-recognise", "default-quality-status-unknown"]
    for rule_id in burden:
        sentence = notes[rule_id][notes[rule_id].index("burden of proof") :]
        cited = r"burden of proof lies with the [a-z ]*authority \([^)]*art\. III\.3\(5\)"
        assert re.match(cited, sentence), rule_id
    baseline = notes["default-baseline-recognise"]
    lrc = "Lisbon Recognition Convention 1997, ETS No. 165"
    assert (
        f"unless the recognition authority shows a substantial difference ({lrc}, art. VI.1)"
        in (baseline)
    )
    # VI.1 is cited for the recognition rule only, never for the burden of proof.
    assert sum("VI.1" in text for text in notes.values()) == 1
