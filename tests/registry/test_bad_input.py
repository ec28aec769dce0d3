"""Bad input is a 400 or a 404 with problem+json, never a 500 (issue 16, finding 9), and no CSV
the registry writes holds a cell a spreadsheet would evaluate (finding 11).

The API tests use the `client` fixture, so they run on SQLite and, with TEST_DATABASE_URL, on
PostgreSQL, whose 32-bit id columns and NUL-free text made most of these a 500 there.
"""

import csv
import io
import json
import re
from decimal import Decimal
from pathlib import Path

import pytest
from marshmallow import Schema, ValidationError
from sqlalchemy import select

from registry.core import accounts, csvout, inputs
from registry.core.db import MAX_ID
from registry.core.errors import InvalidData

pytestmark = pytest.mark.db

PROBLEM = "application/problem+json"
ROOT = Path(__file__).resolve().parents[2]
CREDENTIAL = {
    "title": "BSc Computing",
    "institution": {"name": "University of Glasgow", "country": "GB"},
    "awarded_on": "2019-06-30",
}


@pytest.fixture
def tokens(session):
    made = {}
    for key, role, scopes in [
        ("admin", "admin", []),
        ("ie", "ministry", ["IE"]),
        ("de", "ministry", ["DE"]),
        ("registrar", "registrar", []),
    ]:
        account = accounts.get_or_create_account(session, f"bad-input-{key}", role, scopes)
        made[key] = {"Authorization": f"Bearer {accounts.create_token(session, account)[1]}"}
    made["anonymous"] = {}
    session.commit()
    return made


def refused(client, method, url, headers=None, statuses=(400,), **kwargs):
    response = client.open(url, method=method, headers=headers or {}, **kwargs)
    text = response.get_data(as_text=True)
    assert response.status_code in statuses, text
    assert response.mimetype == PROBLEM and "Traceback" not in text
    body = response.get_json()
    assert body["status"] == response.status_code and body["title"] and body["detail"]
    return body


def nested(depth: int, inner: str = "1") -> str:
    return "[" * depth + inner + "]" * depth


def rule_nested(depth: int) -> dict:
    condition = {"fact": "credits.ects", "op": ">=", "value": 1}
    for _ in range(depth):
        condition = {"not": condition}
    return {
        "id": "deep",
        "title": "Deep",
        "authority": {"kind": "ministry", "country": "DE"},
        "jurisdiction": "DE",
        "when": condition,
        "then": {"decision": "recognised"},
    }


# --- the reproductions of finding 9 ---------------------------------------------------------------


@pytest.mark.parametrize(
    "query",
    [
        "value=1e999999999&from=GB-CATS&to=ECTS",
        "value=-1e999999999&from=GB-CATS&to=ECTS",
        "value=1e-999999999&from=GB-CATS&to=ECTS",
        "value=0E%2B999999999&from=GB-CATS&to=ECTS",
        "value=NaN&from=GB-CATS&to=ECTS",
        "value=1000000000000000&from=GB-CATS&to=ECTS",
    ],
)
def test_a_decimal_out_of_bounds_is_a_400_naming_it(client, query):
    body = refused(client, "GET", f"/api/v1/credits/convert?{query}")
    assert "value" in body["errors"]


def test_decimals_within_bounds_still_convert(client):
    response = client.get("/api/v1/credits/convert?value=999999999999999.5&from=GB-CATS&to=ECTS")
    assert response.status_code == 200 and response.get_json()["value"].startswith("499999")
    grade = client.get("/api/v1/grades/convert?value=1.7&from=DE-1-5&to=FR-0-20&pass=1e99999999")
    assert grade.status_code == 400 and "pass" in grade.get_json()["errors"]


def test_a_decimal_in_a_body_is_bounded_too(client, tokens):
    credential = {**CREDENTIAL, "credits": {"value": "1e999999999", "system": "ECTS"}}
    refused(client, "POST", "/api/v1/assessments?target=DE", tokens["registrar"], json=credential)


@pytest.mark.parametrize("number", [2**31, 2**31 + 1, 2**63, 10**400])
@pytest.mark.parametrize(
    "path", ["institutions", "assessments", "imports", "transfers", "articulations"]
)
def test_an_id_beyond_a_32_bit_column_names_nothing(client, tokens, path, number):
    refused(client, "GET", f"/api/v1/{path}/{number}", tokens["admin"], statuses=(404,))


def test_the_largest_id_is_looked_up_and_not_found(client, tokens):
    body = refused(client, "GET", f"/api/v1/institutions/{MAX_ID}", statuses=(404,))
    assert str(MAX_ID) in body["detail"]
    refused(
        client, "PATCH", f"/api/v1/institutions/{2**31}", tokens["admin"], statuses=(404,), json={}
    )


def test_ids_in_bodies_and_queries_are_bounded(client, tokens):
    for qualification_id in (2**31, 10**400 - 1):
        credential = {**CREDENTIAL, "qualification_id": qualification_id}
        body = refused(
            client, "POST", "/api/v1/assessments?target=DE", tokens["registrar"], json=credential
        )
        assert "qualification_id" in json.dumps(body["errors"])
    body = refused(client, "GET", f"/api/v1/articulations?institution={2**31}", tokens["admin"])
    assert "institution" in body["errors"]
    body = refused(
        client,
        "POST",
        "/api/v1/transfers",
        tokens["admin"],
        json={"transcript": {}, "institution": 2**31},
    )
    assert "institution" in body["errors"]


@pytest.mark.parametrize(
    "url",
    [
        "/api/v1/frameworks/%00",
        "/api/v1/frameworks/IE-NFQ%00",
        "/api/v1/frameworks/IE-NFQ/levels/%00",
        "/api/v1/frameworks/IE-NFQ/levels/8%01",
        "/api/v1/frameworks/IE-NFQ/versions/%00",
    ],
)
def test_a_control_character_in_a_path_segment_names_nothing(client, url):
    refused(client, "GET", url, statuses=(404,))


@pytest.mark.parametrize(
    "url, field",
    [
        ("/api/v1/rules?jurisdiction=%00", "jurisdiction"),
        ("/api/v1/institutions?q=Trinity%00", "q"),
        ("/api/v1/equivalents?level=IE-NFQ:8&target=DE-DQR%00", "target"),
        ("/api/v1/frameworks/IE-NFQ/levels?on=%00", "on"),
    ],
)
def test_nul_in_a_query_field_is_a_400_naming_it(client, tokens, url, field):
    body = refused(client, "GET", url, tokens["admin"])
    assert field in body["errors"]


def test_nul_in_a_form_field_is_a_400(client, tokens):
    body = refused(
        client,
        "POST",
        "/api/v1/imports",
        tokens["admin"],
        data={"format": "institutions-json\x00", "file": (io.BytesIO(b"[]"), "x.json")},
        content_type="multipart/form-data",
    )
    assert "format" in body["errors"]


@pytest.mark.parametrize(
    "text",
    [
        '{"title": "\\ud800"}',  # a lone high surrogate
        '{"title": "x\\udc00y"}',  # a lone low surrogate
        '{"title": "a\\u0000b"}',  # NUL: PostgreSQL text cannot hold it
        '{"note": "ok", "\\u0000": "key"}',
        '{"qualification_types": ["fine", "\\udfff"]}',
    ],
)
def test_unstorable_text_in_a_json_body_is_a_400(client, session, tokens, text):
    refused(
        client,
        "PATCH",
        "/api/v1/frameworks/IE-NFQ/levels/8",
        tokens["ie"],
        data=text,
        content_type="application/json",
    )
    # Nothing was written: the published level is as it was.
    assert client.get("/api/v1/frameworks/IE-NFQ/levels/8").get_json()["title"] != "a\x00b"


@pytest.mark.parametrize("constant", ["NaN", "Infinity", "-Infinity"])
def test_numbers_json_does_not_have_are_not_json(client, tokens, constant):
    body = refused(
        client,
        "PATCH",
        "/api/v1/frameworks/IE-NFQ/levels/8",
        tokens["ie"],
        data=f'{{"title": "x", "ordinal": {constant}}}',
        content_type="application/json",
    )
    assert "body" in body["errors"]


def test_a_surrogate_pair_is_a_character_and_welcome(client, tokens):
    response = client.patch(
        "/api/v1/frameworks/IE-NFQ/levels/8",
        headers=tokens["ie"],
        data='{"note": "\\ud83c\\udf93 graduation"}',
        content_type="application/json",
    )
    assert response.status_code == 200 and response.get_json()["note"] == "\U0001f393 graduation"


def test_unstorable_text_in_a_credential_is_a_400(client, tokens):
    credential = json.dumps({**CREDENTIAL, "title": "__"}).replace("__", "\\udc00")
    body = refused(
        client,
        "POST",
        "/api/v1/assessments?target=DE",
        tokens["registrar"],
        data=credential,
        content_type="application/json",
    )
    assert "title" in body["errors"]


@pytest.mark.parametrize("depth", [65, 1_000, 100_000])
def test_json_nested_too_deep_is_a_400(client, tokens, depth):
    for url, who in [("/api/v1/frameworks", "ie"), ("/api/v1/assessments?target=DE", "registrar")]:
        body = refused(
            client,
            "POST",
            url,
            tokens[who],
            data='{"a": ' + nested(depth) + "}",
            content_type="application/json",
        )
        assert "body" in body["errors"]


def test_rule_conditions_nested_900_deep_are_a_400(client, tokens):
    body = refused(client, "POST", "/api/v1/rules", tokens["de"], json=rule_nested(900))
    assert "body" in body["errors"]
    # Within the JSON bound, the rule's own limit on nesting answers, naming the condition.
    body = refused(client, "POST", "/api/v1/rules", tokens["de"], json=rule_nested(20))
    assert any(key.startswith("when") for key in body["errors"])


def test_a_priority_beyond_an_integer_column_is_refused(client, tokens):
    rule = {**rule_nested(0), "priority": 2**40}
    body = refused(client, "POST", "/api/v1/rules", tokens["de"], json=rule)
    assert "priority" in body["errors"]


def test_import_options_get_the_same_json_checks(client, tokens):
    for options in ['{"atomic": "\\u0000"}', nested(2_000, "{}")]:
        body = refused(
            client,
            "POST",
            "/api/v1/imports",
            tokens["admin"],
            data={
                "format": "institutions-json",
                "file": (io.BytesIO(b"[]"), "x.json"),
                "options": options,
            },
            content_type="multipart/form-data",
        )
        assert "options" in body["errors"] or any(k.startswith("atomic") for k in body["errors"])


def test_nul_in_an_imported_record_rejects_that_record(client, tokens):
    # Import files are read by the importers, not json_body: their schemas refuse it.
    world = [
        {"name": "Hochschule A", "alpha_two_code": "DE", "domains": ["a\u0000.de"]},
        {"name": "Hochschule B", "alpha_two_code": "DE", "domains": ["hs-b.de"]},
    ]
    response = client.post(
        "/api/v1/imports",
        data={"format": "institutions-json", "file": (io.BytesIO(json.dumps(world).encode()), "w")},
        headers=tokens["admin"],
        content_type="multipart/form-data",
    )
    job = response.get_json()
    assert response.status_code == 202 and job["state"] == "completed", job
    assert (job["read"], job["inserted"], job["rejected"]) == (2, 1, 1)
    assert job["errors"][0]["position"] == "record 1" and "domains" in job["errors"][0]["reason"]


def test_nul_quoted_from_a_file_is_stored_escaped(client, tokens):
    # The reader quotes the header it refuses; the failure is stored (job, audit) escaped.
    response = client.post(
        "/api/v1/imports",
        data={
            "format": "qualifications-csv",
            "file": (io.BytesIO(b"code,title\x00\nQ1,Title\n"), "quals\x00.csv"),
        },
        headers=tokens["admin"],
        content_type="multipart/form-data",
    )
    job = response.get_json()
    assert response.status_code == 202 and job["state"] == "failed", job
    assert "title\\x00" in job["failure"] and "\x00" not in job["failure"]
    assert "\x00" not in job["source"]
    audit = client.get("/api/v1/audit?limit=5", headers=tokens["admin"]).get_json()
    assert any("title\\x00" in (event.get("detail") or "") for event in audit)


def test_a_level_ordinal_is_a_small_integer(client, tokens):
    framework = {
        "code": "LU-TQF",
        "name": "Test framework",
        "country": "LU",
        "version": {"version": "2026", "citation": "Test"},
        "levels": [{"code": "1", "ordinal": 10**20, "title": "One"}],
        "links": [],
    }
    body = refused(client, "POST", "/api/v1/frameworks", tokens["admin"], json=framework)
    assert "ordinal" in json.dumps(body["errors"])


# --- the shared pieces, without the API ----------------------------------------------------------


@pytest.mark.parametrize(
    "text, ok",
    [
        ("240", True),
        ("-1.5", True),
        ("999999999999999.99999999999999999999", True),
        ("1E+14", True),
        ("1e15", False),
        ("1e999999999", False),
        ("0E+999999999", False),
        ("0.000000000000000000001", False),
        ("1e-999999999", False),
        ("NaN", False),
        ("-Infinity", False),
        ("sNaN", False),
        ("twelve", False),
        ("", False),
    ],
)
def test_parse_decimal(text, ok):
    if ok:
        assert inputs.parse_decimal(text) == Decimal(text)
        assert len(format(inputs.parse_decimal(text), "f")) <= 40  # fits an ExactDecimal column
    else:
        with pytest.raises(ValueError):
            inputs.parse_decimal(text)


def test_decimal_field_and_id_field():
    class Probe(Schema):
        value = inputs.DecimalField(as_string=True)
        id = inputs.id_field(strict=True)

    assert Probe().load({"value": "1.50", "id": MAX_ID}) == {"value": Decimal("1.50"), "id": MAX_ID}
    for bad in ({"value": "1e999999999"}, {"id": MAX_ID + 1}, {"id": 0}, {"value": 1e300}):
        with pytest.raises(ValidationError) as error:
            Probe().load(bad)
        assert set(error.value.messages) == set(bad)


def test_check_document_walks_without_recursion():
    deep: list = []
    for _ in range(200_000):
        deep = [deep]
    with pytest.raises(InvalidData):
        inputs.check_document(deep)
    inputs.check_document(json.loads(nested(inputs.MAX_JSON_DEPTH - 1)))
    with pytest.raises(InvalidData) as error:
        inputs.check_document({"levels": [{"title": "ok"}, {"title": "\x00"}]})
    assert error.value.errors == {"levels.1.title": [inputs.UNSTORABLE_MESSAGE]}


# --- finding 11: no spreadsheet formulas in a CSV ------------------------------------------------

FORMULAS = [
    "=cmd|' /C calc'!A0",
    "+1+cmd|' /C calc'!A0",
    "-2+3",
    "@SUM(1+1)*cmd|' /C calc'!A0",
    "\t=1+1",
    "\r=1+1",
]


def assert_no_formula(text: str) -> list[list[str]]:
    rows = list(csv.reader(io.StringIO(text)))
    for row in rows:
        for value in row:
            assert not value.startswith(csvout.FORMULA_START) or re.fullmatch(
                r"[+-]?[0-9]+(\.[0-9]+)?", value
            ), value
    return rows


@pytest.mark.parametrize("formula", FORMULAS)
def test_a_formula_cell_is_escaped(formula):
    assert csvout.cell(formula) == "'" + formula
    out = io.StringIO()
    csvout.Writer(out).writerow(["record 1", formula])
    csvout.DictWriter(out, ["reason"]).writerows([{"reason": formula}])
    rows = assert_no_formula(out.getvalue())
    assert rows[0][1] == rows[1][0] == "'" + formula


@pytest.mark.parametrize("value", ["-1.5", "+3", "12", "", "plain", "a=b", None, 7, "'=x"])
def test_other_cells_are_as_they_were(value):
    assert csvout.cell(value) == value


def test_every_csv_the_registry_writes_goes_through_csvout():
    writers = re.compile(r"csv\.(writer|DictWriter)\b")
    offenders = [
        str(path.relative_to(ROOT))
        for package in ("registry", "importers", "mappings", "frameworks")
        for path in (ROOT / package).rglob("*.py")
        if writers.search(path.read_text()) and path != ROOT / "registry/core/csvout.py"
    ]
    assert offenders == []


def test_the_import_error_report_escapes_formulas(client, session, tokens):
    from importers.jobs import ImportJobError

    world = [{"name": "Nowhere", "alpha_two_code": "XX", "domains": []}] * len(FORMULAS)
    response = client.post(
        "/api/v1/imports",
        data={"format": "institutions-json", "file": (io.BytesIO(json.dumps(world).encode()), "w")},
        headers=tokens["admin"],
        content_type="multipart/form-data",
    )
    job = response.get_json()
    assert response.status_code == 202 and job["rejected"] == len(FORMULAS), job
    rejections = session.scalars(select(ImportJobError).where(ImportJobError.job_id == job["id"]))
    for rejection, formula in zip(rejections, FORMULAS, strict=True):
        rejection.reason = formula  # as if a record's own text led its reason
    session.commit()
    report = client.get(f"/api/v1/imports/{job['id']}/errors.csv", headers=tokens["admin"])
    rows = assert_no_formula(report.get_data(as_text=True))
    assert [row[1] for row in rows[1:]] == ["'" + formula for formula in FORMULAS]


# --- the same bounds and escapes on the command line ---------------------------------------------

from tests.registry.test_cli import cli  # noqa: E402,F401  (its module-scoped database)


@pytest.mark.parametrize(
    "args, field",
    [
        (("convert-credits", "1e999999999", "GB-CATS", "--to", "ECTS"), "value"),
        (("convert-credits", "1e-999999999", "GB-CATS", "--to", "ECTS"), "value"),
        (("convert-grade", "1.7", "DE-1-5", "--to", "FR-0-20", "--pass", "1e999999"), "pass"),
    ],
)
def test_cli_decimals_are_bounded(cli, args, field):  # noqa: F811
    result = cli(*args, code=2)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and f"{field}:" in lines[0]
    assert "Traceback" not in result.output


@pytest.mark.parametrize("text", [nested(5_000), '{"title": "\\ud800"}', '{"title": "\\u0000"}'])
def test_cli_json_files_get_the_body_checks(cli, tmp_path, text):  # noqa: F811
    path = tmp_path / "credential.json"
    path.write_text(text)
    result = cli("assess", str(path), "--target", "DE", code=2)
    assert result.stderr.startswith("error: ") and "Traceback" not in result.output


def test_assess_batch_csv_escapes_formulas_from_the_file(cli, tmp_path):  # noqa: F811
    from tests.importers.test_elmo import course, document, report

    formula = "=cmd|' /C calc'!A0"
    instance = "<date>2024-06-30</date><credit><scheme>ects</scheme><value>180</value></credit>"
    path = tmp_path / "transcripts.xml"
    path.write_bytes(document(report(course("P1", title=formula, instance=instance))))
    table = cli("assess-batch", str(path), "--format", "elmo", "--target", "DE", "--output", "csv")
    header, row, summary = assert_no_formula(table.output)
    assert row[header.index("title")] == "'" + formula
    assert summary[0] == "summary"
    # JSON lines are data, not a spreadsheet: the title is as the file gives it.
    lines = cli("assess-batch", str(path), "--format", "elmo", "--target", "DE").output
    assert json.loads(lines.splitlines()[0])["title"] == formula

