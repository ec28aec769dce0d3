"""The pages' German catalogue is complete: every message the pages and their views show has a
German translation, none is left fuzzy, and its placeholders are the English ones. After changing
the pages' text, `make translations` merges the new messages in to be translated."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parents[2]
CATALOGUES = ROOT / "registry" / "web" / "translations"
PLACEHOLDER = re.compile(r"%\((\w+)\)[sd]")
METHODS = [("registry/web/**.py", "python"), ("registry/web/templates/**.html", "jinja2")]
KEYWORDS = {"_": None, "gettext": None, "ngettext": (1, 2), "lazy_gettext": None}


def extracted() -> set[str]:
    found = set()
    for _, _, message, _, _ in extract_from_dir(
        str(ROOT), METHODS, keywords=KEYWORDS, options_map={}
    ):
        found.add(message if isinstance(message, str) else message[0])
    return found


@pytest.mark.parametrize("language", ["de"])
def test_every_message_of_the_pages_is_translated(language):
    with (CATALOGUES / language / "LC_MESSAGES" / "messages.po").open("rb") as po:
        catalogue = read_po(po)
    missing, fuzzy, mismatched = [], [], []
    for msgid in sorted(extracted()):
        message = catalogue.get(msgid)
        if message is None or not (
            message.string if isinstance(message.string, str) else all(message.string)
        ):
            missing.append(msgid)
            continue
        if message.fuzzy:
            fuzzy.append(msgid)
        translations = message.string if isinstance(message.string, tuple) else (message.string,)
        if any(
            set(PLACEHOLDER.findall(t)) != set(PLACEHOLDER.findall(msgid)) for t in translations
        ):
            mismatched.append(msgid)
    assert not missing, f"{len(missing)} untranslated (run make translations): {missing[:10]}"
    assert not fuzzy, f"fuzzy translations to check: {fuzzy[:10]}"
    assert not mismatched, f"placeholders differ from the English: {mismatched[:10]}"
