"""The `registry` command on a fresh SQLite database: setup, queries, --json, exit codes."""

import json
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from registry.cli import main


@pytest.fixture(scope="module")
def cli(tmp_path_factory):
    database = tmp_path_factory.mktemp("cli") / "registry.sqlite3"
    runner = CliRunner(env={"DATABASE_URL": f"sqlite:///{database}"})

    def run(*args, code=0, input=None):
        result = runner.invoke(main, list(args), input=input)
        assert result.exit_code == code, (result.output, result.stderr)
        return result

    run("db", "upgrade")
    first = json.loads(run("load-reference", "--json").output)
    assert {r["outcome"] for r in first["frameworks"]} == {"created"}
    return run


def test_load_reference_is_idempotent(cli):
    again = json.loads(cli("load-reference", "--json").output)
    assert {r["outcome"] for r in again["frameworks"]} == {"unchanged"}
    assert again["credit_systems"]["created"] == again["credit_systems"]["updated"] == 0
    assert again["grading_scales"]["created"] == again["grading_scales"]["updated"] == 0


def test_equivalents_text_and_json(cli):
    text = cli("equivalents", "IE-NFQ:8", "--target", "GB-SCQF").output
    assert "GB-SCQF:9" in text and "GB-SCQF:10" in text and "EQF:6" in text
    answer = json.loads(cli("equivalents", "IE-NFQ:8", "--target", "GB-SCQF", "--json").output)
    assert [m["level"] for m in answer["matches"]] == ["GB-SCQF:9", "GB-SCQF:10"]
    assert all(len(m["path"]) == 2 for m in answer["matches"])
    dated = json.loads(
        cli("equivalents", "IE-NFQ:8", "--target", "DE-DQR", "--on", "2015-06-30", "--json").output
    )
    assert dated["on"] == "2015-06-30" and dated["matches"][0]["level"] == "DE-DQR:6"


def test_equivalents_answers_well_under_a_second(cli):
    started = time.perf_counter()
    cli("equivalents", "IE-NFQ:8", "--target", "GB-SCQF", "--json")
    # The CLI opens its database and builds the graph from scratch on every call.
    assert time.perf_counter() - started < 1.0


def test_no_counterpart_prints_the_reason(cli):
    text = cli("equivalents", "NZ-NZQCF:8", "--target", "DE-DQR").output
    assert "unlevelled" in text


def test_equivalents_text_says_what_rests_on_a_secondary_source(cli):
    text = cli("equivalents", "AU-AQF:7", "--target", "DE-DQR").output
    assert "DE-DQR:6  exactMatch  confidence 0.72  (rests on a secondary source)" in text
    assert "read only in a secondary source: atmc.social" in text
    plain = cli("equivalents", "IE-NFQ:8", "--target", "DE-DQR").output
    assert "secondary source" not in plain


def test_equivalents_text_of_a_1969_level_today_names_the_decree(cli):
    text = cli("equivalents", "FR-CNCP-1969:III", "--target", "DE-DQR").output
    assert "belongs to a superseded nomenclature" in text
    assert "FR-CNCP-1969:III -> FR-CNCP:5 exactMatch (legislation, succession): Décret" in text
    assert "DE-DQR:5  exactMatch  confidence 0.95" in text


def test_load_reference_upgrades_a_corrected_bundled_framework(tmp_path):
    """A registry loaded with the bundled ES-MECES 2015 (basis `referencing`) gets 2015.1 from
    `load-reference`: 2015.1 corrects 2015, which is set aside, and only 2015.1 answers."""
    runner = CliRunner(env={"DATABASE_URL": f"sqlite:///{tmp_path / 'old.sqlite3'}"})

    def run(*args):
        result = runner.invoke(main, list(args))
        assert result.exit_code == 0, (result.output, result.stderr)
        return result.output

    data = Path(__file__).resolve().parents[2] / "frameworks" / "data" / "frameworks"
    old = json.loads((data / "ES-MECES.json").read_text(encoding="utf-8"))
    old["version"]["version"] = "2015"
    for link in old["links"]:
        link.update(basis="referencing", citation="RD 1027/2011, amended by RD 22/2015")
    (tmp_path / "ES-MECES-2015.json").write_text(json.dumps(old), encoding="utf-8")
    run("db", "upgrade")
    run("import", "framework", str(data / "EQF.json"))
    run("import", "framework", str(tmp_path / "ES-MECES-2015.json"))
    assert "ES-MECES 2015.1: corrected" in run("load-reference")
    again = json.loads(run("load-reference", "--json"))
    meces = next(r for r in again["frameworks"] if r["code"] == "ES-MECES")
    assert (meces["version"], meces["outcome"]) == ("2015.1", "unchanged")
    answer = json.loads(run("equivalents", "ES-MECES:2", "--target", "DE-DQR", "--json"))
    assert len(answer["matches"]) == 1
    assert answer["matches"][0]["path"][0]["basis"] == "legislation"


@pytest.mark.parametrize(
    "args, field",
    [
        (("equivalents", "IE-NFQ", "--target", "DE-DQR"), "level"),
        (("equivalents", "IE-NFQ:99", "--target", "DE-DQR"), "level"),
        (("equivalents", "IE-NFQ:8", "--target", "DE-DQR", "--on", "2020-02-30"), "on"),
        (("equivalents", "XX-NOPE:1", "--target", "DE-DQR"), None),
        (("convert-credits", "--to", "ECTS", "--", "-5", "GB-CATS"), "value"),
        (("convert-credits", "lots", "GB-CATS", "--to", "ECTS"), "value"),
        (("convert-credits", "10", "XX", "--to", "ECTS"), "from"),
        (("convert-grade", "7", "DE-1-5", "--to", "FR-0-20"), "value"),
        (("convert-grade", "3.3", "US-GPA-4", "--to", "DE-1-5", "--pass", "x"), "pass"),
    ],
)
def test_bad_input_exits_2_with_one_clear_line(cli, args, field):
    result = cli(*args, code=2)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ")
    if field:
        assert f"{field}:" in lines[0]
    assert "Traceback" not in result.output


def test_convert_credits(cli):
    assert cli("convert-credits", "240", "GB-CATS", "--to", "ECTS").output.startswith(
        "240 GB-CATS = 120 ECTS"
    )
    answer = json.loads(
        cli(
            "convert-credits",
            "120",
            "GB-CATS",
            "--to",
            "ECTS",
            "--method",
            "notional_hours",
            "--json",
        ).output
    )
    assert answer["range"] == {"low": "40.00", "high": "48.00"}
    # Issue 18, item 6: equating a year of ECVET points with a year of ECTS credits is this
    # registry's convention, and the text says so.
    text = cli("convert-credits", "60", "ECVET", "--to", "ECTS").output
    assert text.startswith("60 ECVET = 60 ECTS (annual load: 60 ECVET = 60 ECTS")
    assert "a convention of this registry, not a published equivalence" in text


def test_convert_grade(cli):
    answer = json.loads(cli("convert-grade", "1.7", "DE-1-5", "--to", "FR-0-20", "--json").output)
    assert answer["value"] == "17.67" and answer["raw"] == "17.6667" and answer["passed"] is True
    text = cli("convert-grade", "3.3", "US-GPA-4", "--to", "DE-1-5", "--pass", "2.0").output
    assert text.startswith("3.3 US-GPA-4 = 2.0 DE-1-5 (pass, linear)")


def test_grade_tables_from_the_command_line(cli, tmp_path):
    """Issue 18, item 9: a conversion table set, listed and withdrawn from the command line, with
    the API's validation; convert-grade says which table it used, or why the default."""
    default = cli("convert-grade", "2:1", "GB-HONS", "--to", "DE-1-5").output.splitlines()
    assert default[0] == "2:1 GB-HONS = 3.0 DE-1-5 (pass, linear)"
    assert default[1].startswith(
        "basis: default, as no conversion table was asked for (give an institution, a country"
        " or a table): GB-HONS 2:1 read at the lower limit of its band on GB-PCT (60)"
    )
    rows = [("First", "1.3"), ("2:1", "2.3"), ("2:2", "3.3"), ("Third", "4.0"), ("Fail", "5.0")]
    definition = {
        "code": "CLI-KMK",
        "from": "GB-HONS",
        "to": "DE-1-5",
        "authority": {"kind": "ministry", "country": "DE"},
        "rows": [{"from": given, "to": onto} for given, onto in rows],
        "citation": "Test resolution, 2025",
    }
    incomplete = tmp_path / "incomplete.json"
    incomplete.write_text(json.dumps({**definition, "rows": definition["rows"][:2]}))
    refused = cli("grade-table", "set", str(incomplete), code=2)
    assert refused.stderr.startswith("error: ") and "rows: " in refused.stderr
    path = tmp_path / "kmk.json"
    path.write_text(json.dumps(definition))
    assert cli("grade-table", "set", str(path)).output.strip() == (
        "CLI-KMK: GB-HONS -> DE-1-5, the ministry of DE (5 rows)"
    )
    text = cli("convert-grade", "2:1", "GB-HONS", "--to", "DE-1-5", "--country", "DE").output
    assert text.splitlines()[:2] == [
        "2:1 GB-HONS = 2.3 DE-1-5 (pass, table)",
        "basis: conversion table CLI-KMK of the ministry of DE, for conversions in DE (Test"
        " resolution, 2025)",
    ]
    listed = json.loads(cli("grade-table", "list", "--from", "GB-HONS", "--json").output)
    assert [(t["code"], t["status"], t["authority"]) for t in listed] == [
        ("CLI-KMK", "active", {"kind": "ministry", "country": "DE"})
    ]
    cli("grade-table", "withdraw", "CLI-KMK", "--reason", "Test over.")
    assert (
        "CLI-KMK  GB-HONS -> DE-1-5  the ministry of DE  withdrawn"
        in cli("grade-table", "list").output
    )
    again = cli("convert-grade", "2:1", "GB-HONS", "--to", "DE-1-5", "--country", "DE", "--json")
    assert json.loads(again.output)["value"] == "3.0"
    bad_country = cli(
        "convert-grade", "2:1", "GB-HONS", "--to", "DE-1-5", "--country", "XX", code=2
    )
    assert "country:" in bad_country.stderr
    unknown = cli("grade-table", "withdraw", "NOPE", "--reason", "x", code=2)
    assert "No conversion table" in unknown.stderr


def test_import_framework_file(cli, tmp_path):
    definition = {
        "code": "XK-TQF",
        "name": "Test framework",
        "country": "XK",
        "version": {"version": "1", "citation": "Test"},
        "levels": [{"code": "1", "ordinal": 1, "title": "One"}],
        "links": [
            {
                "from": "XK-TQF:1",
                "to": "EQF:1",
                "relation": "exactMatch",
                "basis": "decision",
                "citation": "Test decision",
            }
        ],
    }
    path = tmp_path / "framework.json"
    path.write_text(json.dumps(definition))
    # XK (Kosovo) is user-assigned, not in ISO 3166-1, but the EU and ROR use it: accepted.
    assert (
        json.loads(cli("import", "framework", str(path), "--json").output)["outcome"] == "created"
    )
    definition["code"], definition["country"] = "XX-TQF", "XX"
    definition["links"][0]["from"] = "XX-TQF:1"
    path.write_text(json.dumps(definition))
    # XX is no country: refused whole.
    assert "country" in cli("import", "framework", str(path), code=2).stderr
    definition["code"], definition["country"] = "LU-TQF", "LU"
    definition["links"][0]["from"] = "LU-TQF:1"
    path.write_text(json.dumps(definition))
    created = json.loads(cli("import", "framework", str(path), "--json").output)
    assert created["outcome"] == "created" and created["links"] == 1
    assert (
        json.loads(cli("import", "framework", str(path), "--json").output)["outcome"] == "unchanged"
    )
    answer = json.loads(cli("equivalents", "LU-TQF:1", "--target", "IE-NFQ", "--json").output)
    assert [m["level"] for m in answer["matches"]] == ["IE-NFQ:1", "IE-NFQ:2"]
    path.write_text("{not json")
    assert "not UTF-8 JSON" in cli("import", "framework", str(path), code=2).stderr


def test_tokens_create_list_revoke(cli):
    created = json.loads(
        cli(
            "token",
            "create",
            "--role",
            "ministry",
            "--scope",
            "IE",
            "--label",
            "QQI sync",
            "--expires-in-days",
            "30",
            "--json",
        ).output
    )
    assert created["token"].startswith("crr_") and created["account"] == "ministry-IE"
    listed = json.loads(cli("token", "list", "--json").output)["tokens"]
    mine = next(t for t in listed if t["id"] == created["id"])
    assert mine["state"] == "active" and mine["label"] == "QQI sync"
    assert created["token"] not in cli("token", "list").output
    assert (
        json.loads(cli("token", "revoke", str(created["id"]), "--json").output)["state"]
        == "revoked"
    )
    listed = json.loads(cli("token", "list", "--json").output)["tokens"]
    assert next(t for t in listed if t["id"] == created["id"])["state"] == "revoked"
    assert "needs a scope" in cli("token", "create", "--role", "ministry", code=2).stderr
    assert "No token" in cli("token", "revoke", "999999", code=2).stderr


def test_account_with_password(cli):
    """The password comes from standard input (or a hidden prompt), never the command line; a
    short, common or guessable one is refused (issue 16, finding 8)."""
    made = cli(
        "account",
        "create",
        "registrar-anna",
        "--role",
        "registrar",
        "--json",
        input="correct horse battery staple\n",
    )
    assert json.loads(made.output) == {"account": "registrar-anna", "role": "registrar"}
    for password, reason in [
        ("short", "12 characters"),
        ("password1234", "common password"),
        ("baseball1234", "common password"),
        ("aaaaaaaaaaaaaaaa", "easy to guess"),
        ("registrar-bob1", "guess"),
    ]:
        refused = cli(
            "account",
            "create",
            "registrar-bob",
            "--role",
            "registrar",
            code=2,
            input=password + "\n",
        )
        assert reason in refused.stderr.split("(password: ")[1]
        assert len(password) < 12 or password not in refused.stderr
        assert refused.stderr.startswith("error: ") and refused.stderr.count("\n") == 1
    assert (
        "No such option"
        in cli(
            "account",
            "create",
            "registrar-bob",
            "--role",
            "registrar",
            "--password",
            "x" * 20,
            code=2,
        ).stderr
    )


def test_audit_verify(cli):
    answer = json.loads(cli("audit", "verify", "--json").output)
    assert answer["ok"] and answer["checked"] > 0 and answer["broken_at"] is None
    assert "The audit trail holds" in cli("audit", "verify").output


def test_audit_verify_names_the_first_bad_event(tmp_path):
    import sqlite3

    database = tmp_path / "tampered.sqlite3"
    runner = CliRunner(env={"DATABASE_URL": f"sqlite:///{database}"})
    assert runner.invoke(main, ["db", "upgrade"]).exit_code == 0
    for n in range(3):
        made = runner.invoke(main, ["token", "create", "--role", "registrar", "--label", str(n)])
        assert made.exit_code == 0, made.output
    with sqlite3.connect(database) as connection, pytest.raises(sqlite3.IntegrityError):
        connection.execute("UPDATE audit_event SET detail = 'x' WHERE id = 2")
    # ... refused by the trigger; whoever owns the file can drop it first.
    assert runner.invoke(main, ["audit", "verify"]).exit_code == 0
    with sqlite3.connect(database) as connection:
        connection.execute("DROP TRIGGER audit_event_no_update")
        connection.execute("UPDATE audit_event SET after = '{}' WHERE id = 2")
    broken = runner.invoke(main, ["audit", "verify", "--json"])
    assert broken.exit_code == 2
    assert broken.stderr.startswith("error: the audit trail is broken at event 2:")
    assert broken.stderr.count("\n") == 1
    assert json.loads(broken.stdout)["broken_at"] == 2


def test_impact_of_a_draft(cli, tmp_path):
    definition = {
        "code": "LU-IMP",
        "name": "Impact test",
        "country": "LU",
        "version": {"version": "1", "citation": "Test"},
        "levels": [{"code": "1", "ordinal": 1, "title": "One"}],
        "links": [
            {
                "from": "LU-IMP:1",
                "to": "EQF:5",
                "relation": "exactMatch",
                "basis": "decision",
                "citation": "Test",
            }
        ],
    }
    path = tmp_path / "v1.json"
    path.write_text(json.dumps(definition))
    cli("import", "framework", str(path))
    definition["version"] = {"version": "2", "status": "draft", "citation": "Test"}
    definition["links"][0]["to"] = "EQF:6"
    path.write_text(json.dumps(definition))
    cli("import", "framework", str(path))
    report = json.loads(cli("impact", "LU-IMP", "2", "--json").output)
    de = next(c for c in report["changes"] if c["target_framework"] == "DE-DQR")
    assert de["old"]["matches"][0]["level"] == "DE-DQR:5"
    assert de["new"]["matches"][0]["level"] == "DE-DQR:6"
    text = cli("impact", "LU-IMP", "2").output
    assert "LU-IMP:1 in DE-DQR: DE-DQR:5 exactMatch 0.9 -> DE-DQR:6 exactMatch 0.9" in text
    assert "not a draft" in cli("impact", "LU-IMP", "1", code=2).stderr


def test_import_institutions_match_and_assess(cli, tmp_path):
    world = [
        {"name": "University of Glasgow", "alpha_two_code": "GB", "domains": ["gla.ac.uk"]},
        {"name": "Universität Wien", "alpha_two_code": "AT", "domains": ["univie.ac.at"]},
        {"name": "Nowhere", "alpha_two_code": "XX", "domains": []},
    ]
    path = tmp_path / "world.json"
    path.write_text(json.dumps(world))
    errors = tmp_path / "errors.csv"
    result = cli(
        "import",
        "institutions-json",
        str(path),
        "--status",
        "recognised",
        "--status-source",
        "Test list 2026",
        "--errors",
        str(errors),
        "--json",
    )
    report = json.loads(result.output)
    assert (report["read"], report["inserted"], report["rejected"]) == (3, 2, 1)
    assert "record 3" in errors.read_text()
    again = json.loads(cli("import", "institutions-json", str(path), "--json").output)
    assert again["unchanged"] == 2 and again["inserted"] == 0
    text = cli("import", "institutions-json", str(path)).output
    assert "read 3 = inserted 0 + updated 0 + unchanged 2 + rejected 1" in text

    match = json.loads(cli("match-institution", "Univ. of Glasgow", "--json").output)
    assert (
        match["verdict"] == "matched" and match["candidates"][0]["name"] == "University of Glasgow"
    )
    assert "country" in cli("match-institution", "Glasgow", "--country", "ZZ", code=2).stderr
    assert "q:" in cli("match-institution", "   ", code=2).stderr

    courses = tmp_path / "courses.csv"
    courses.write_text(
        "\ufeffcode;title;credits;credit_system;isced_f\n"
        "CS101;Programming 1;7,5;ECTS;0613\nCS102;Bad;abc;ECTS;0613\n",
        encoding="utf-8",
    )
    glasgow = match["candidates"][0]["id"]
    imported = json.loads(
        cli("import", "courses-csv", str(courses), "--institution", str(glasgow), "--json").output
    )
    assert (imported["inserted"], imported["rejected"], imported["state"]) == (1, 1, "completed")
    assert imported["errors"] == [{"position": "row 3", "reason": "credits: Not a valid number."}]
    # An atomic import with a rejected row undoes everything and exits 1.
    atomic = json.loads(
        cli(
            "import",
            "courses-csv",
            str(courses),
            "--institution",
            str(glasgow),
            "--atomic",
            "--json",
            code=1,
        ).output
    )
    assert atomic["state"] == "rolled_back"

    example = Path(__file__).resolve().parents[2] / "examples" / "credential.json"
    answer = json.loads(
        cli("assess", str(example), "--target", "DE", "--target-type", "bachelor", "--json").output
    )
    assert answer["decision"] == "recognised" and answer["inputs_digest"]
    text = cli("assess", str(example), "--target", "DE", "--target-type", "bachelor").output
    assert text.startswith(f"Assessment {answer['id'] + 1}: recognised")
    assert "target" in cli("assess", str(example), "--target", "GB", code=2).stderr


def test_assess_text_shows_what_is_offered_instead(cli, tmp_path):
    """Issue 18, item 10: the text names the alternative right under the decision."""
    world = [{"name": "University of Glasgow", "alpha_two_code": "GB", "domains": ["gla.ac.uk"]}]
    path = tmp_path / "glasgow.json"
    path.write_text(json.dumps(world))
    cli("import", "institutions-json", str(path), "--status", "recognised", "--status-source", "T")
    example = json.loads(
        (Path(__file__).resolve().parents[2] / "examples" / "credential.json").read_text()
    )
    short = tmp_path / "short.json"  # 240 SCQF credit points = 120 ECTS, two thirds of 180
    short.write_text(json.dumps({**example, "credits": {"value": "240", "system": "GB-SCQF-CP"}}))
    lines = cli("assess", str(short), "--target", "DE", "--target-type", "bachelor").output
    lines = lines.splitlines()
    assert ": partially_recognised (confidence " in lines[0], lines
    assert lines[1:4] == [
        "Alternative: partial (default-workload-far-short)",
        "  ECTS that count: 120",
        "  bridging needed: 60 ECTS",
    ]
    assert lines[4].startswith("  detail: Partial recognition: the 120 ECTS earned count")
    assert lines[5].startswith("  basis: EAR manual ch. 11, Recommendation, 'Partial recognition'")
    full = tmp_path / "full.json"
    full.write_text(json.dumps(example))
    text = cli("assess", str(full), "--target", "DE", "--target-type", "master").output
    assert "Alternative: alternative (default-level-below-target)\n" in text
    assert "  recognised as: DE-DQR:6 (EQF 6, bachelor)\n" in text
    recognised = cli("assess", str(full), "--target", "DE", "--target-type", "bachelor").output
    assert "Alternative" not in recognised


def test_transfer_a_json_transcript(cli, tmp_path):
    world = [
        {"name": "Universität Wien", "alpha_two_code": "AT", "domains": ["univie.ac.at"]},
        {"name": "Trinity College Dublin", "alpha_two_code": "IE", "domains": ["tcd.ie"]},
    ]
    path = tmp_path / "world.json"
    path.write_text(json.dumps(world))
    cli("import", "institutions-json", str(path))
    trinity = json.loads(cli("match-institution", "tcd.ie", "--json").output)["candidates"][0]["id"]
    courses = tmp_path / "courses.csv"
    courses.write_text(
        "code,title,credits,credit_system,isced_f\n"
        "CS1001,Introduction to Programming,10,ECTS,0613\n"
        "MA1001,Linear Algebra,5,ECTS,0541\n",
        encoding="utf-8",
    )
    cli("import", "courses-csv", str(courses), "--institution", str(trinity))
    transcript = tmp_path / "transcript.json"
    transcript.write_text(
        json.dumps(
            {
                "issuer": {"name": "Universität Wien", "country": "AT"},
                "results": [
                    {
                        "code": "P1",
                        "title": "Einführung in die Programmierung",
                        "credits": "10",
                        "credit_system": "ECTS",
                        "status": "passed",
                        "isced_f": "0613",
                        "ended_on": "2025-02-01",
                    },
                    {
                        "code": "M1",
                        "title": "Lineare Algebra",
                        "credits": "5",
                        "credit_system": "ECTS",
                        "status": "failed",
                        "ended_on": "2025-02-01",
                    },
                ],
            }
        )
    )
    answer = json.loads(
        cli("transfer", str(transcript), "--institution", str(trinity), "--json").output
    )
    first, second = answer["results"]
    assert first["status"] == "pending" and first["suggestions"][0]["code"] == "CS1001"
    assert second["status"] != "granted"
    text = cli("transfer", str(transcript), "--institution", str(trinity)).output
    assert "suggest CS1001" in text and text.splitlines()[-1].startswith("summary:")
    assert (
        "not a readable JSON"
        in cli(
            "transfer", str(tmp_path / "missing.json"), "--institution", str(trinity), code=2
        ).stderr
    )


def test_assess_batch_one_line_per_credential_then_a_summary(cli, tmp_path):
    from tests.importers.test_elmo import course, document, report

    instance = (
        "<date>2024-06-30</date><credit><scheme>ects</scheme><value>180</value></credit>"
        "<level><type>EQF</type><value>6</value></level>"
    )
    programme = course(
        "P1", title="BSc Computing", instance=instance, parts=f"<hasPart>{course('C1')}</hasPart>"
    )
    no_result = (
        '<learningOpportunitySpecification><identifier type="local">X</identifier>'
        "<title>X</title></learningOpportunitySpecification>"
    )
    path = tmp_path / "transcripts.xml"
    path.write_bytes(document(report(programme, no_result), report(course("P3"))))
    lines = [
        json.loads(line)
        for line in cli("assess-batch", str(path), "--format", "elmo", "--target", "DE")
        .output.strip()
        .splitlines()
    ]
    *items, summary = lines
    # The course inside the programme is no credential of its own.
    assert [(item["title"] if item["assessed"] else item["reason"][:13]) for item in items] == [
        "BSc Computing",
        "no specifies/",
        "Course",
    ]
    assert all(item["decision"] and item["assessment_id"] for item in items if item["assessed"])
    counts = summary["summary"]
    assert (counts["read"], counts["assessed"], counts["not_assessed"]) == (3, 2, 1)
    assert (
        sum(counts.get(d, 0) for d in ("recognised", "partial", "not_recognised", "needs_review"))
        == 2
    )
    table = cli("assess-batch", str(path), "--format", "elmo", "--target", "DE", "--output", "csv")
    rows = table.output.strip().splitlines()
    assert rows[0].startswith("position,title,institution,assessed") and len(rows) == 5
    assert rows[-1].startswith("summary,")


def test_assess_batch_says_why_and_never_drops_a_grade(cli, tmp_path):
    from tests.importers.test_elmo import course, document, report

    graded = course(
        "P1",
        title="BSc Graded",
        instance="<date>2024-06-30</date><gradingSchemeLocalId>S</gradingSchemeLocalId>"
        "<resultLabel>45.1</resultLabel>",
    )
    scheme = '<gradingScheme localId="S"><description>0 to 100</description></gradingScheme>'
    nowhere = (
        '<issuer><identifier type="schac">x.example</identifier>'
        '<title xml:lang="en">Nowhere College</title></issuer>'
    )
    path = tmp_path / "graded.xml"
    path.write_bytes(document(report(graded, tail=scheme), report(course("P2"), issuer=nowhere)))
    output = cli("assess-batch", str(path), "--format", "elmo", "--target", "DE").output
    first, second, _ = [json.loads(line) for line in output.strip().splitlines()]
    assert first["grade"] == {
        "value": "45.1",
        "scheme": "0 to 100",
        "converted": False,
        "reason": "the file names no grading scale of the registry, only the scheme '0 to 100'",
    }
    # Not in this registry: a person reviews it, told what is missing.
    assert first["decision"] == "needs_review"
    assert "the awarding institution could not be identified with certainty" in first["why"]
    assert second == {
        "position": second["position"],
        "assessed": False,
        "reason": "the file states no country for the issuer",
    }
    table = cli("assess-batch", str(path), "--format", "elmo", "--target", "DE", "--output", "csv")
    assert "45.1 (not converted: the file names no grading scale" in table.output


def test_assess_batch_of_badges_with_credits_and_no_unit(cli, tmp_path):
    from tests.importers.test_badges_spec import V2

    badge = {
        **V2,
        "issuer": {**V2["issuer"], "address": {"type": ["Address"], "addressCountryCode": "IE"}},
        "credentialSubject": {**V2["credentialSubject"], "creditsEarned": 5},
    }
    path = tmp_path / "badge.json"
    path.write_text(json.dumps(badge))
    output = cli("assess-batch", str(path), "--format", "open-badges", "--target", "DE").output
    line, summary = [json.loads(text) for text in output.strip().splitlines()]
    assert line["assessed"] and summary["summary"]["assessed"] == 1  # not refused for the unit
    assert line["credits"] == {
        "value": "5",
        "system": None,
        "converted": False,
        "reason": "the file states no credit unit",
    }
    assert "no workload is stated or registered" in line["why"]


def test_assess_batch_of_a_file_that_breaks_off(cli, tmp_path):
    from tests.importers.test_elmo import course, document, report

    data = document(report(course("P1", instance="<date>2024-06-30</date>")), report(course("P2")))
    path = tmp_path / "broken.xml"
    path.write_bytes(data[:-30])
    result = cli("assess-batch", str(path), "--format", "elmo", "--target", "DE", code=2)
    *items, summary = [json.loads(line) for line in result.stdout.strip().splitlines()]
    assert [item["title"] for item in items] == ["Course"]  # the report before the break
    assert "Premature end of data" in summary["summary"]["failure"]
    assert result.stderr.startswith("error: line") and "Premature end of data" in result.stderr


def test_assess_batch_for_a_target_the_registry_does_not_hold_prints_nothing(cli, tmp_path):
    from tests.importers.test_elmo import course, document, report

    path = tmp_path / "one.xml"
    path.write_bytes(document(report(course("P1"))))
    result = cli(
        "assess-batch", str(path), "--format", "elmo", "--target", "ZZ", "--output", "csv", code=2
    )
    assert result.stdout == "" and "ZZ" in result.stderr


def test_an_id_no_database_holds_is_a_usage_error(cli):
    result = cli("transfer", "5", "--institution", str(2**63), code=2)
    assert "--institution" in result.stderr and "range" in result.stderr


def test_a_file_the_reader_cannot_read_is_refused_with_one_error_line(cli, tmp_path):
    from tests.importers.test_elmo import course, document, report

    other = tmp_path / "other.xml"
    other.write_bytes(b'<elmo xmlns="http://example.org/not-elmo"><report/></elmo>')
    result = cli("import", "elmo", str(other), code=2)
    errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and "namespace http://example.org/not-elmo" in errors[0]
    assert "Traceback" not in result.output + result.stderr
    assert "read 0 = inserted 0" in result.stdout
    assert "namespace" not in result.stdout  # the reason is said once, on the error line
    cut = tmp_path / "cut.xml"
    cut.write_bytes(document(report(course("KEPT")), report(course("LOST")))[:-30])
    result = cli("import", "elmo", str(cut), "--json", code=2)
    assert json.loads(result.stdout)["inserted"] == 1  # the report that closed before the cut
    assert result.stderr.startswith("error: line") and "Premature end" in result.stderr


def test_a_target_type_the_api_refuses_the_command_refuses_and_stores_nothing(cli, tmp_path):
    """Issue 17, item 7: `--target-type phd` once stored a decision the API refuses (400)."""
    example = Path(__file__).resolve().parents[2] / "examples" / "credential.json"
    before = json.loads(
        cli("assess", str(example), "--target", "DE", "--target-type", "bachelor", "--json").output
    )["id"]
    result = cli("assess", str(example), "--target", "DE", "--target-type", "phd", code=2)
    assert "target_qualification_type:" in result.stderr and "Traceback" not in result.output
    after = json.loads(
        cli("assess", str(example), "--target", "DE", "--target-type", "bachelor", "--json").output
    )["id"]
    assert after == before + 1  # nothing stored in between
    batch = tmp_path / "one.xml"
    batch.write_text("<not-read/>")
    refused = cli(
        "assess-batch",
        str(batch),
        "--format",
        "elmo",
        "--target",
        "DE",
        "--target-type",
        "phd",
        code=2,
    )
    assert "target_qualification_type:" in refused.stderr and '"assessed"' not in refused.output
    as_csv = cli(
        "assess-batch",
        str(batch),
        "--format",
        "elmo",
        "--target",
        "DE",
        "--target-type",
        "phd",
        "--output",
        "csv",
        code=2,
    )
    assert as_csv.stdout == ""


@pytest.mark.parametrize(
    "args, field",
    [
        # What the API's query schema refuses with a 400, the command refuses with exit 2.
        (("equivalents", "IE-NFQ:8", "--target", "de dqr"), "target"),
        (("impact", "IE-NFQ", "2", "--on", "2020-13-01"), "on"),
    ],
)
def test_commands_check_options_with_the_api_query_schema(cli, args, field):
    result = cli(*args, code=2)
    assert f"{field}:" in result.stderr and "Traceback" not in result.output
