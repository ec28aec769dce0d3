"""The compiled ELMO walk (importers._elmo_walk) reads exactly what the Python walk reads: the
same records, rejections, positions and order, on the official examples and on documents made to
hit every way text, attributes and lines can be stored in libxml2's tree."""

from __future__ import annotations

import io
import random

import pytest

from importers import elmo
from importers.runner import FileError
from registry.catalogue.transcripts import pack
from tests.importers.compiled import built

ELMO = elmo.ELMO


@pytest.fixture
def compiled():
    return built(elmo.COMPILED_WALK, "importers._elmo_walk")


def both(data: bytes, compiled, monkeypatch, *, breaks: bool = False) -> list:
    """What each walk reads (the same, and the same packed when asked), checking that the file
    breaks off or not."""
    found = []
    for walk in (None, compiled):
        monkeypatch.setattr(elmo, "COMPILED_WALK", walk)
        for packed in (False, True):
            items, error = [], None
            try:
                items.extend(elmo.read(io.BytesIO(data), packed=packed))
            except FileError as exc:
                error = (exc.position, exc.reason)
            found.append((items, error))
    plain, packed = found[0], found[1]
    assert found[2:] == [plain, packed]
    assert packed == (
        [(at, pack(item) if isinstance(item, dict) else item) for at, item in plain[0]],
        plain[1],
    )
    assert (plain[1] is not None) == breaks, plain[1]
    return plain[0]


def elmo_document(*reports: str) -> bytes:
    return (
        f'<?xml version="1.0" encoding="UTF-8"?>\n<elmo xmlns="{ELMO}">\n'
        "<generatedDate>2024-07-01</generatedDate><learner><givenNames>Ada</givenNames>"
        "</learner>\n" + "\n".join(reports) + "\n</elmo>\n"
    ).encode()


def in_report(*opportunities: str, country: str = "PL") -> str:
    return (
        f"<report><issuer><country>{country}</country><identifier type='schac'>x.example"
        "</identifier><title xml:lang='en'>X</title></issuer>\n"
        + "\n".join(opportunities)
        + "\n<issueDate>2024-07-01</issueDate><gradingScheme localId='AF'><description>A to F"
        "</description></gradingScheme></report>"
    )


def opportunity(head: str, instance: str, tail: str = "") -> str:
    return (
        f"<learningOpportunitySpecification>{head}<specifies><learningOpportunityInstance>"
        f"{instance}</learningOpportunityInstance></specifies>{tail}"
        "</learningOpportunitySpecification>"
    )


ODD = [
    # whitespace to fold, in ASCII and beyond it, and none at all
    opportunity(
        "<identifier type=' local '>  A\n 1 </identifier><title>\tTwo\n\nlines </title>",
        "<status> passed </status><resultLabel>\u00a0B\u00a0</resultLabel>"
        "<date> 2023-05-12T10:00:00Z </date>",
    ),
    opportunity(
        "<identifier type='local'>B\x852</identifier><title xml:lang='pl'>Matematyka "
        "dyskretna – ćwiczenia</title><title xml:lang='ja'>離散数学</title>",
        "<resultLabel>5,0</resultLabel><credit><scheme>ects</scheme><value>7.5</value></credit>",
    ),
    # CDATA, comments, processing instructions, character and predefined entity references
    opportunity(
        "<identifier type='local'><![CDATA[C]]>-<![CDATA[3]]></identifier>"
        "<title>R&amp;D &lt;basics&gt; &#x41;&#10;</title>",
        "<?keep this?><status>failed</status><!-- between --><resultLabel>F<!-- x -->X"
        "</resultLabel><credit><scheme>ECTS</scheme><value><![CDATA[ 6 ]]></value></credit>",
    ),
    opportunity(
        "<identifier type='local'>D</identifier><!-- a comment ends the identifiers -->"
        "<identifier type='isbn'>978</identifier><title>With <b>markup</b> inside</title>",
        "",
    ),
    # identifiers without `local`, with attributes in other namespaces, empty ones
    opportunity(
        "<identifier type='ewp' xmlns:o='urn:o' o:type='local'>E-1</identifier>"
        "<identifier>no type</identifier><identifier type='local'>   </identifier>"
        "<title/><o:title xmlns:o='urn:o'>elsewhere</o:title><title>   </title>",
        "<status>in-progress</status><gradingSchemeExternalId> ext:1 </gradingSchemeExternalId>",
    ),
    opportunity(
        "<title>no identifier</title>",
        "<status>maybe</status><resultDistribution><category label='A' count='0'/>"
        "<category label='B' count='0'/></resultDistribution>",
    ),
    opportunity(
        "<identifier type='r&amp;d'>F&amp;1</identifier><title xml:lang=''>F</title>"
        "<type> Module </type><iscedCode> 0613 </iscedCode>",
        "<credit><scheme>hours</scheme><value>30</value></credit><credit><scheme>ects"
        "</scheme><value>2</value></credit><credit><scheme>ects</scheme><value>3</value>"
        "</credit><credit><value>9</value></credit><credit><scheme>x</scheme></credit>"
        "<academicTerm><start>2022-10-01</start><end>2023-02-28T00:00:00+01:00</end>"
        "</academicTerm><gradingSchemeLocalId>AF</gradingSchemeLocalId>",
        "<hasPart>"
        + opportunity(
            "<identifier type='local'>F.1</identifier><title>part</title>",
            "<start>2022-10-01</start><level><type>EQF</type><value>6</value></level>"
            "<level><type>NQF</type><value>6</value><description>Polish Qualifications "
            "Framework</description></level>",
            "<hasPart><other/>"
            + opportunity(
                "<title>deeper</title>",
                "<level><type>EQF</type><value>²</value>"
                "</level><level><type>PL-PQF</type><value>7</value></level>",
            )
            + "</hasPart>",
        )
        + "<!-- c --></hasPart><hasPart>"
        + opportunity(
            "<title>second part</title>",
            "<resultDistribution><category label='A' "
            "count='3'/><category label=' B ' count='1'/></resultDistribution>",
        )
        + "</hasPart>",
    ),
    # no result, two results, an empty specifies
    "<learningOpportunitySpecification><identifier type='local'>G</identifier><title>G</title>"
    "</learningOpportunitySpecification>",
    "<learningOpportunitySpecification><identifier type='local'>H</identifier><title>H</title>"
    "<specifies><learningOpportunityInstance/></specifies><specifies>"
    "<learningOpportunityInstance/></specifies></learningOpportunitySpecification>",
    "<learningOpportunitySpecification><title>I</title><specifies><!-- none --></specifies>"
    "</learningOpportunitySpecification>",
    opportunity(
        "<title>J</title>",
        "<resultDistribution><category label='A' count='x'/></resultDistribution>"
        "<resultDistribution><category label='A' count=' 3 '/><category count='٣'/>"
        "<category label='D' count='1'/><other count='9'/>"
        "</resultDistribution>"
        "<o:status xmlns:o='urn:o'>failed</o:status><date>24-1-1</date><date></date>",
    ),
]


def test_the_official_examples_read_alike(shared, compiled, monkeypatch):
    paths = [
        shared / "formats" / "emrex-elmo" / "example.xml",
        shared / "formats" / "ewp-imobility-tors" / "endpoints" / "get-response-example.xml",
    ]
    read = [both(path.read_bytes(), compiled, monkeypatch) for path in paths]
    assert sum(len(items) for items in read) > 0


def test_odd_documents_read_alike(compiled, monkeypatch):
    items = both(
        elmo_document(in_report(*ODD), in_report(*ODD[:3], country="GB")), compiled, monkeypatch
    )
    assert len(items) == 14 + 3  # ODD: 11 and 3 parts within one; then 3
    results = [item for _, item in items if isinstance(item, dict)]
    assert {result["result"]["local_id"] for result in results} >= {"A 1", "B 2", "C-3"}


def test_grade_distributions_are_read_alike(compiled, monkeypatch):
    # Percentages computed in C when every count is plain ASCII digits: rounding half to even
    # (totals of powers of two make exact halves), all zero, the most digits taken that way,
    # and counts the Python functions read (spaces, other digits, ten digits, none).
    rnd = random.Random(5)
    tables = [[rnd.randint(0, 90) for _ in range(rnd.randint(1, 8))] for _ in range(300)]
    tables += [[1, 7], [3, 29], [1, 15], [5, 27], [1, 31], [0, 0, 0], [999_999_999, 1], [2] * 40]
    counts = [[str(count) for count in table] for table in tables]
    counts += [[" 5", "3"], ["٣", "4"], ["1234567890", "1"], ["07", "1"], ["-1", "2"], ["1/2", "1"]]
    counts += [["1:2", "1"], [None, "2"]]  # the characters either side of the digits
    categories = [
        "".join(
            f'<category label="{chr(65 + n % 26)}"' + ("" if c is None else f' count="{c}"') + "/>"
            for n, c in enumerate(table)
        )
        for table in counts
    ]
    courses = [
        opportunity(
            f"<identifier type='local'>D{n}</identifier><title>T</title>",
            f"<resultLabel>A</resultLabel><resultDistribution>{table}</resultDistribution>",
        )
        for n, table in enumerate(categories)
    ]
    items = both(elmo_document(in_report(*courses)), compiled, monkeypatch)
    shares = [record["result"]["grade_distribution"] for _, record in items]
    assert shares[len(tables) - 8 : len(tables) - 5] == [
        [{"grade": "A", "percent": "12.5"}, {"grade": "B", "percent": "87.5"}],
        [{"grade": "A", "percent": "9.38"}, {"grade": "B", "percent": "90.62"}],  # 9.375, 90.625
        [{"grade": "A", "percent": "6.25"}, {"grade": "B", "percent": "93.75"}],
    ]
    assert shares[len(tables) - 3] == [{"grade": g, "percent": "0"} for g in "ABC"]
    assert shares[len(tables)][0] == {"grade": "A", "percent": "62.5"}  # " 5" is 5
    assert shares[-1] == [{"grade": "A", "percent": None}, {"grade": "B", "percent": None}]


def test_lines_past_65535_are_read_alike(compiled, monkeypatch):
    # libxml2 keeps a line above 65,535 apart from the element (on a text node next to it)
    courses = [
        opportunity(
            f"<identifier type='local'>K{number}</identifier>\n<title>K</title>",
            "<status>passed</status>",
        )
        + "\n" * 150
        for number in range(500)
    ]
    data = elmo_document(in_report(*courses))
    items = both(data, compiled, monkeypatch)
    assert data.count(b"\n") > 70_000
    assert int(items[-1][0].split()[1]) > 65_535


def test_a_file_breaking_off_reads_alike(compiled, monkeypatch):
    data = elmo_document(in_report(*ODD), in_report(*ODD))
    assert both(data[: len(data) - 400], compiled, monkeypatch, breaks=True)


def test_the_reader_walks_each_report_with_the_compiled_walk(compiled, monkeypatch):
    walked = []

    def counted(report, *args):
        walked.append(report.tag)
        return compiled(report, *args)

    monkeypatch.setattr(elmo, "COMPILED_WALK", counted)
    items = list(elmo.read(io.BytesIO(elmo_document(in_report(*ODD[:2]), in_report(*ODD[:2])))))
    assert walked == [f"{{{ELMO}}}report"] * 2 and len(items) == 4
