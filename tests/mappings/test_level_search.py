"""Reading a level or a framework from what a person types, over the bundled frameworks as
plain entries: no database."""

import json
import time

import pytest

from frameworks.services import DATA_DIR
from mappings.level_search import FrameworkEntry, LevelEntry, read_framework, read_level


def entry(data: dict) -> FrameworkEntry:
    levels = tuple(
        LevelEntry(level["code"], level["title"], tuple(level.get("aliases") or ()))
        for level in data["levels"]
    )
    current = data["version"].get("valid_to") is None
    return FrameworkEntry(data["code"], data["name"], data.get("country"), current, levels)


ENTRIES = [
    entry(json.loads(path.read_text(encoding="utf-8")))
    for path in sorted((DATA_DIR / "frameworks").glob("*.json"))
]


@pytest.mark.parametrize(
    ("text", "refs"),
    [
        ("Ireland — NFQ level 8", ["IE-NFQ:8"]),
        ("IE-NFQ:8", ["IE-NFQ:8"]),
        ("ie-nfq:8", ["IE-NFQ:8"]),
        ("NFQ 8", ["IE-NFQ:8"]),
        ("Ireland 8", ["IE-NFQ:8"]),
        ("Scotland level 10", ["GB-SCQF:10"]),
        ("Deutschland Niveau 6", ["DE-DQR:6"]),
        ("DE 6", ["DE-DQR:6"]),  # "de" is also a joining word, but here it is the country
        ("AT-NQR:6", ["AT-NQR:VI"]),  # an alias
        ("First cycle", ["QF-EHEA:1"]),  # a whole title names its framework
        ("New Zealand 7", ["NZ-NZQCF:7"]),
        ("Wales E3", ["GB-CQFW:E3"]),
        ("QNQ 5", ["IT-QNQ:5", "PT-QNQ:5"]),  # Italy's and Portugal's: both offered
        ("UK 6", ["GB-CQFW:6", "GB-RQF:6", "GB-SCQF:6"]),
        ("8", []),  # a level with no framework named
        ("IE-NFQ:99", []),
        ("Narnia 8", []),
    ],
)
def test_a_level_is_read_from_free_text(text, refs):
    assert [candidate.ref for candidate in read_level(text, ENTRIES)] == refs


def test_a_level_read_carries_its_title_and_framework():
    (found,) = read_level("NFQ 8", ENTRIES)
    assert (found.title, found.framework) == (
        "NFQ level 8",
        "National Framework of Qualifications (Ireland)",
    )


@pytest.mark.parametrize(
    ("text", "codes"),
    [
        ("GB-SCQF", ["GB-SCQF"]),
        ("gb-scqf", ["GB-SCQF"]),
        ("Scotland", ["GB-SCQF"]),  # a part of the UK named by its framework ("Scottish")
        ("Schottland", ["GB-SCQF"]),  # the same part in another language
        ("Scottish", ["GB-SCQF"]),
        ("England", ["GB-RQF"]),
        ("Wales", ["GB-CQFW"]),
        ("Germany", ["DE-DQR"]),
        ("UK", ["GB-CQFW", "GB-RQF", "GB-SCQF"]),
        ("France", ["FR-CNCP"]),  # the 1969 nomenclature is no longer in force
        ("Narnia", []),
    ],
)
def test_a_framework_is_read_from_a_code_a_country_or_its_name(text, codes):
    assert [found.code for found in read_framework(text, ENTRIES)] == codes


def test_a_text_longer_than_any_level_name_is_no_reading():
    """Each word that could be a level's code makes a reading to check: a long text is none."""
    assert read_level("Ireland NFQ level 8", ENTRIES)
    started = time.perf_counter()
    assert read_level(" ".join(["8"] * 100), ENTRIES) == []
    assert time.perf_counter() - started < 1
