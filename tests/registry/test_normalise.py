"""Text folding and institution-name keys, on real names."""

import pytest

from registry.core.normalise import department_free, fold, name_key, normalise_name


@pytest.mark.parametrize(
    "text, folded",
    [
        ("Universität  Köln!", "universitat koln"),
        ("Technische Universität München", "technische universitat munchen"),
        ("Københavns Universitet", "kobenhavns universitet"),
        ("Uniwersytet Łódzki", "uniwersytet lodzki"),
        ("Université Paris-Saclay", "universite paris saclay"),
        ("Hochschule für Musik, Weißensee", "hochschule fur musik weissensee"),
        ("Ærø Œuvre Þingvellir Đakovo", "aero oeuvre thingvellir dakovo"),
        ("İstanbul Teknik Üniversitesi", "istanbul teknik universitesi"),
        ("Texas A&M University", "texas a and m university"),
        ("ＭＩＴ", "mit"),
        ("Trường Đại học Bách khoa Hà Nội", "truong dai hoc bach khoa ha noi"),
    ],
)
def test_fold(text, folded):
    assert fold(text) == folded


def test_fold_keeps_scripts_without_a_sensible_ascii_form():
    # й is a letter of its own in Russian, not и with a mark; CJK and Hangul stay whole.
    assert fold("Московский университет") == "московский университет"
    assert fold("東京大学") == "東京大学"
    assert fold("서울대학교") == "서울대학교"


def test_fold_removes_control_characters_and_treats_whitespace_ones_as_spaces():
    assert fold("Hel\x00sin\x07ki\tUniversity\n") == "helsinki university"
    assert fold("Medical Academy \x93Ludwik Rydygier\x94") == "medical academy ludwik rydygier"
    assert fold("zero\u200bwidth") == "zerowidth"


@pytest.mark.parametrize("text", ["", "   ", "?!", "\x00\x01"])
def test_fold_of_nothing_is_empty(text):
    assert fold(text) == ""
    assert normalise_name(text) == ""


@pytest.mark.parametrize(
    "text, key",
    [
        ("Technische Universität München", "technische university munchen"),
        ("Technische Universitat Munchen", "technische university munchen"),
        ("TU München", "technische university munchen"),
        ("Helsingin yliopisto", "helsingin yliopisto"),
        ("Univ. of Helsinki", "university of helsinki"),
        ("UNIVERSITY  OF HELSINKI (FINLAND)", "university of helsinki"),
        ("Université Paris-Saclay", "university paris saclay"),
        ("Uniwersytet Łódzki", "university lodzki"),
        ("Københavns Universitet", "kobenhavns university"),
        ("Trinity College Dublin", "trinity college dublin"),
        ("Universität zu Köln", "university zu koln"),
        ("Universitaet zu Köln", "university zu koln"),
        ("Università degli Studi di Milano", "university degli studi di milano"),
        ("İstanbul Üniversitesi", "istanbul university"),
        ("Instituto Tecnológico de Monterrey", "institute tecnologico de monterrey"),
        ("Massachusetts Inst. of Tech.", "massachusetts institute of technology"),
        ("Boston Coll.", "boston college"),
        ("FH Aachen", "fachhochschule aachen"),
        ("St. Olaf College", "saint olaf college"),
        ("Fachhochschule St. Pölten", "fachhochschule saint polten"),
        ("The Ohio State University", "ohio state university"),
    ],
)
def test_normalise_name(text, key):
    assert normalise_name(text) == key
    assert name_key(text) == key


def test_umlaut_transliterations_are_left_to_the_fuzzy_scorer():
    # Folding ue to u everywhere would also turn Samuel into Samul and merge distinct names.
    assert normalise_name("Muenchen") == "muenchen"
    assert normalise_name("Samuel Merritt University") == "samuel merritt university"


def test_brackets_are_dropped_unless_nothing_else_is_left():
    assert normalise_name("Université Claude Bernard (Lyon I)") == "university claude bernard"
    assert normalise_name("[Finland] (Helsinki)") == "finland helsinki"
    # A known cost: names told apart only by a bracket share a key.
    assert normalise_name("Augustana College (IL)") == normalise_name("Augustana College (SD)")


def test_departments_stay_in_the_key():
    # An institution can be named like a department of another.
    assert normalise_name("School of Oriental and African Studies, University of London") == (
        "school of oriental and african studies university of london"
    )


@pytest.mark.parametrize(
    "text, forms",
    [
        ("Department of Physics, University of Helsinki", ["university of helsinki"]),
        ("University of Helsinki, Faculty of Law", ["university of helsinki"]),
        ("Faculté de Droit; Université de Genève", ["university de geneve"]),
        ("Faculty of Law University of Helsinki", ["university of helsinki"]),
        (
            "Dept. of Computer Science Aalto University",
            ["science aalto university", "aalto university"],
        ),
        ("School of Pharmacy, University of London", ["university of london"]),
        ("University of Helsinki", []),
        ("Faculty of Law", []),
        ("Faculty of Law, Faculty of Arts", []),
    ],
)
def test_department_free(text, forms):
    assert department_free(text) == forms


def test_keys_are_stable_when_normalised_again():
    for text in [
        "Mount St. Mary's University",
        "TU Dublin",
        "Univ. Tecnica Federico Santa Maria",
        "UNIVERSITY OF HELSINKI (FINLAND)",
        "Hochschule für Technik Stuttgart",
    ]:
        assert normalise_name(normalise_name(text)) == normalise_name(text)
