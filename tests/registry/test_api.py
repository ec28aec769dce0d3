"""The REST API as a client sees it: contract shapes, problem+json errors, OpenAPI."""

import pytest

from frameworks.models import CreditConversionRule, GradeConversionTable, GradeDistribution

PROBLEM = "application/problem+json"


def get(client, url, status=200):
    response = client.get(url)
    assert response.status_code == status, response.get_data(as_text=True)
    return response


def problem(client, url, status, field=None):
    response = get(client, url, status)
    assert response.mimetype == PROBLEM
    body = response.get_json()
    assert body["status"] == status and body["title"] and body["detail"] and body["type"]
    assert "Traceback" not in response.get_data(as_text=True)
    if field:
        assert field in body["errors"], body
    return body


def test_irish_honours_bachelor_in_scotland(client):
    body = get(client, "/api/v1/equivalents?level=IE-NFQ:8&target=GB-SCQF").get_json()
    assert body["source"] == "IE-NFQ:8" and body["target_framework"] == "GB-SCQF"
    assert [m["level"] for m in body["matches"]] == ["GB-SCQF:9", "GB-SCQF:10"]
    for match in body["matches"]:
        assert match["relation"] == "exactMatch" and match["confidence"] == 1.0
        first, second = match["path"]
        assert (first["from"], first["to"]) == ("IE-NFQ:8", "EQF:6")
        assert (second["from"], second["to"]) == ("EQF:6", match["level"])
        assert first["basis"] == second["basis"] == "referencing"
        assert "Irish" in first["citation"] or "NFQ" in first["citation"]
        assert "SCQF" in second["citation"]


def test_german_level_from_ireland_is_one_exact_match(client):
    body = get(client, "/api/v1/equivalents?level=IE-NFQ:8&target=DE-DQR&on=2015-06-30").get_json()
    assert body["on"] == "2015-06-30"
    assert [(m["level"], m["relation"], m["confidence"]) for m in body["matches"]] == [
        ("DE-DQR:6", "exactMatch", 1.0)
    ]


def test_austrian_arabic_alias_resolves_to_roman_level(client):
    body = get(client, "/api/v1/equivalents?level=AT-NQR:6&target=EQF").get_json()
    assert body["source"] == "AT-NQR:VI"
    assert [m["level"] for m in body["matches"]] == ["EQF:6"]


@pytest.mark.parametrize(
    "level, reason",
    [
        ("NZ-NZQCF:8", "unlevelled"),
        ("GB-SCQF:1", "below_eqf_1"),
        ("NL-NLQF:entry", "below_eqf_1"),
        ("MT-MQF:A", "below_eqf_1"),
        ("GB-RQF:E2", "below_eqf_1"),
    ],
)
def test_no_counterpart_is_an_answer_with_a_reason(client, level, reason):
    body = get(client, f"/api/v1/equivalents?level={level}&target=DE-DQR").get_json()
    assert body["matches"] == [] and body["reason"] == reason


def test_french_levels_follow_the_2019_decree(client):
    before = get(client, "/api/v1/equivalents?level=FR-CNCP-1969:III&target=DE-DQR&on=2015-06-30")
    assert [m["level"] for m in before.get_json()["matches"]] == ["DE-DQR:5"]
    assert "superseded" not in before.get_json()
    new = get(client, "/api/v1/equivalents?level=FR-CNCP:5&target=DE-DQR&on=2015-06-30").get_json()
    assert new["matches"] == [] and new["reason"] == "not_in_force"
    old_i = get(client, "/api/v1/equivalents?level=FR-CNCP-1969:I&target=DE-DQR&on=2010-01-01")
    matches = old_i.get_json()["matches"]
    assert [m["level"] for m in matches] == ["DE-DQR:7", "DE-DQR:8"]
    assert {m["relation"] for m in matches} == {"narrowMatch"}


def test_a_1969_level_asked_today_answers_through_the_decree(client):
    """Issue 18, item 7: décret n° 2019-14 classes the 1969 levels in the eight-level framework
    (III -> 5; I -> 7 or 8), so today's question about an old level answers through it, saying
    the level belongs to a superseded nomenclature."""
    body = get(client, "/api/v1/equivalents?level=FR-CNCP-1969:III&target=DE-DQR").get_json()
    assert [m["level"] for m in body["matches"]] == ["DE-DQR:5"]
    path = body["matches"][0]["path"]
    assert [step["to"] for step in path] == ["FR-CNCP:5", "EQF:5", "DE-DQR:5"]
    assert path[0]["basis"] == "legislation" and path[0]["succession"] is True
    assert "Décret n° 2019-14" in path[0]["citation"]
    assert body["matches"][0]["confidence"] == 0.95
    assert body["superseded"]["level"] == "FR-CNCP-1969:III"
    assert body["superseded"]["successors"] == ["FR-CNCP:5"]
    assert "superseded nomenclature" in body["superseded"]["note"]
    old_i = get(client, "/api/v1/equivalents?level=FR-CNCP-1969:I&target=DE-DQR").get_json()
    assert [m["level"] for m in old_i["matches"]] == ["DE-DQR:7", "DE-DQR:8"]
    assert {m["relation"] for m in old_i["matches"]} == {"narrowMatch"}
    assert old_i["superseded"]["successors"] == ["FR-CNCP:7", "FR-CNCP:8"]
    own = get(client, "/api/v1/equivalents?level=FR-CNCP-1969:II&target=FR-CNCP").get_json()
    assert [m["level"] for m in own["matches"]] == ["FR-CNCP:6"]


def test_an_answer_resting_on_a_secondary_source_says_so(client):
    """Issue 18, item 8: AU-AQF -> EQF rests on a third party's summary of the 2016 AU-EU joint
    report; the answer flags it and its confidence reflects it (0.9 comparison x 0.8)."""
    body = get(client, "/api/v1/equivalents?level=AU-AQF:7&target=DE-DQR").get_json()
    match = body["matches"][0]
    assert match["level"] == "DE-DQR:6" and match["secondary"] is True
    assert "atmc.social" in match["path"][0]["secondary_source"]
    assert "secondary_source" not in match["path"][1]
    assert match["confidence"] == 0.72
    direct = get(client, "/api/v1/equivalents?level=AU-AQF:7&target=NZ-NZQCF").get_json()
    assert direct["matches"][0]["secondary"] is False
    assert "Enhancing Mobility" in direct["matches"][0]["path"][0]["citation"]


def test_spanish_levels_rest_on_legislation(client):
    body = get(client, "/api/v1/equivalents?level=ES-MECES:2&target=DE-DQR").get_json()
    match = body["matches"][0]
    assert match["level"] == "DE-DQR:6" and match["confidence"] == 0.95
    assert match["path"][0]["basis"] == "legislation"
    assert "Real Decreto 22/2015" in match["path"][0]["citation"]


@pytest.mark.parametrize(
    "query, field",
    [
        ("level=IE-NFQ&target=DE-DQR", "level"),
        ("level=:8&target=DE-DQR", "level"),
        ("level=IE-NFQ:99&target=DE-DQR", "level"),
        ("target=DE-DQR", "level"),
        ("level=IE-NFQ:8&target=DE-DQR&on=2020-13-01", "on"),
        ("level=IE-NFQ:8&target=DE-DQR&on=yesterday", "on"),
        ("level=IE-NFQ:8", "target"),
    ],
)
def test_equivalents_bad_input_is_400_naming_the_field(client, query, field):
    problem(client, f"/api/v1/equivalents?{query}", 400, field)


@pytest.mark.parametrize(
    "query", ["level=XX-NOPE:1&target=DE-DQR", "level=IE-NFQ:8&target=XX-NOPE"]
)
def test_unknown_framework_is_404(client, query):
    problem(client, f"/api/v1/equivalents?{query}", 404)


def test_frameworks_list_and_one(client):
    codes = {f["code"] for f in get(client, "/api/v1/frameworks").get_json()}
    assert {
        "EQF",
        "QF-EHEA",
        "IE-NFQ",
        "GB-RQF",
        "GB-CQFW",
        "GB-SCQF",
        "DE-DQR",
        "FR-CNCP",
        "FR-CNCP-1969",
        "NL-NLQF",
        "AT-NQR",
        "PL-PQF",
        "IT-QNQ",
        "ES-MECES",
        "PT-QNQ",
        "MT-MQF",
        "NZ-NZQCF",
        "AU-AQF",
        "HK-QF",
    } <= codes
    scqf = get(client, "/api/v1/frameworks/GB-SCQF").get_json()
    assert scqf["country"] == "GB" and scqf["meta"] is False
    assert scqf["versions"][0]["status"] == "published" and scqf["versions"][0]["citation"]
    problem(client, "/api/v1/frameworks/XX-NOPE", 404)


def test_levels_of_a_framework(client):
    levels = get(client, "/api/v1/frameworks/NL-NLQF/levels").get_json()
    assert [level["code"] for level in levels] == [
        "entry",
        "1",
        "2",
        "3",
        "4",
        "4+",
        "5",
        "6",
        "7",
        "8",
    ]
    assert levels[0]["ref"] == "NL-NLQF:entry" and levels[0]["no_eqf_reason"] == "below_eqf_1"
    eqf6 = get(client, "/api/v1/frameworks/EQF/levels/6").get_json()
    assert eqf6["knowledge"] and eqf6["skills"] and eqf6["responsibility_autonomy"]
    assert get(client, "/api/v1/frameworks/AT-NQR/levels/6").get_json()["code"] == "VI"
    problem(client, "/api/v1/frameworks/IE-NFQ/levels/99", 404)
    problem(client, "/api/v1/frameworks/FR-CNCP/levels?on=2015-01-01", 404)


def test_credit_conversions(client):
    body = get(client, "/api/v1/credits/convert?value=240&from=GB-CATS&to=ECTS").get_json()
    assert body["value"] == "120" and body["unit"] == "ECTS" and body["method"] == "annual_load"
    assert body["basis"]
    hours = get(
        client, "/api/v1/credits/convert?value=120&from=GB-CATS&to=ECTS&method=notional_hours"
    ).get_json()
    assert hours["method"] == "notional_hours"
    assert hours["range"] == {"low": "40.00", "high": "48.00"}


def test_ecvet_conversion_names_the_registrys_convention(client):
    """Issue 18, item 6: ECVET -> ECTS by annual load is this registry's convention (no
    published equivalence; Recommendation 2009/C 155/02); the API answer's basis says so."""
    body = get(client, "/api/v1/credits/convert?value=120&from=ECVET&to=ECTS").get_json()
    assert body["value"] == "120" and body["method"] == "annual_load"
    assert body["basis"].startswith(
        "annual load: 60 ECVET = 60 ECTS (a full-time year each); a convention of this"
        " registry, not a published equivalence (ECVET: ECVET points are"
    )
    plain = get(client, "/api/v1/credits/convert?value=240&from=GB-CATS&to=ECTS").get_json()
    assert "convention" not in plain["basis"]


def test_explicit_credit_rule_overrides_the_method(client, session):
    session.add(
        CreditConversionRule(
            code="UNI-X-US",
            source_system="US-SEM",
            target_system="ECTS",
            factor="1.5",
            citation="Agreement of University X, 2024",
        )
    )
    session.commit()
    body = get(client, "/api/v1/credits/convert?value=30&from=US-SEM&to=ECTS&rule=UNI-X-US")
    assert body.get_json()["value"] == "45" and body.get_json()["method"] == "rule"
    problem(client, "/api/v1/credits/convert?value=30&from=US-SEM&to=ECTS&rule=NOPE", 400, "rule")


@pytest.mark.parametrize(
    "query, field",
    [
        ("value=-5&from=GB-CATS&to=ECTS", "value"),
        ("value=abc&from=GB-CATS&to=ECTS", "value"),
        ("value=NaN&from=GB-CATS&to=ECTS", "value"),
        ("from=GB-CATS&to=ECTS", "value"),
        ("value=10&from=XX&to=ECTS", "from"),
        ("value=10&from=ECTS&to=XX", "to"),
        ("value=10&from=ECTS&to=GB-CATS&method=magic", "method"),
    ],
)
def test_credit_bad_input(client, query, field):
    problem(client, f"/api/v1/credits/convert?{query}", 400, field)


def test_grade_conversions(client):
    body = get(client, "/api/v1/grades/convert?value=1.7&from=DE-1-5&to=FR-0-20").get_json()
    assert {k: body[k] for k in ("value", "raw", "scale", "passed", "method")} == {
        "value": "17.67",
        "raw": "17.6667",
        "scale": "FR-0-20",
        "passed": True,
        "method": "linear",
    }
    assert (
        get(client, "/api/v1/grades/convert?value=14&from=FR-0-20&to=DE-1-5").get_json()["value"]
        == "2.8"
    )
    us = get(client, "/api/v1/grades/convert?value=3.3&from=US-GPA-4&to=DE-1-5&pass=2.0")
    assert us.get_json()["value"] == "2.0" and us.get_json()["raw"] == "2.0500"
    lode = get(client, "/api/v1/grades/convert?value=30L&from=IT-30&to=DE-1-5").get_json()
    assert lode["value"] == "1.0"


def test_grade_distribution_method(client, session):
    session.add_all(
        [
            GradeDistribution(
                scale_code="IT-30",
                reference_group="default",
                citation="test table",
                rows=[
                    {"grade": g, "percent": p}
                    for g, p in [
                        ("30L", "5"),
                        ("30", "15"),
                        ("28", "20"),
                        ("26", "25"),
                        ("22", "20"),
                        ("18", "15"),
                    ]
                ],
            ),
            GradeDistribution(
                scale_code="DE-1-5",
                reference_group="default",
                citation="test table",
                rows=[
                    {"grade": g, "percent": p}
                    for g, p in [
                        ("1.0", "10"),
                        ("1.3", "10"),
                        ("1.7", "15"),
                        ("2.0", "15"),
                        ("2.3", "15"),
                        ("2.7", "35"),
                    ]
                ],
            ),
        ]
    )
    session.commit()
    url = "/api/v1/grades/convert?value=26&from=IT-30&to=DE-1-5&method=distribution"
    body = get(client, url).get_json()
    assert body["value"] == "2.3" and body["method"] == "distribution"
    ects = get(client, "/api/v1/grades/convert?value=A&from=ECTS-A-F&to=DE-1-5&method=distribution")
    assert ects.get_json()["value"] == "1.0"
    problem(
        client,
        "/api/v1/grades/convert?value=14&from=FR-0-20&to=DE-1-5&method=distribution",
        400,
        "method",
    )


def test_thirty_cum_laude_converts_as_thirty(client):
    """Issue 18, item 5: 30 e lode adds nothing to the mark (University of Parma)."""
    plain = get(client, "/api/v1/grades/convert?value=30&from=IT-30&to=DE-1-5").get_json()
    lode = get(client, "/api/v1/grades/convert?value=30 e lode&from=IT-30&to=DE-1-5").get_json()
    assert lode["value"] == plain["value"] == "1.0" and lode["raw"] == plain["raw"]
    assert lode["steps"][0] == "30 e lode counts as 30 on IT-30."


@pytest.mark.parametrize(
    "value, shown, passed",
    [("110 e lode", "1.0", True), ("110", "1.0", True), ("88", "2.5", True), ("66", "4.0", True)],
)
def test_italian_degree_mark_converts(client, value, shown, passed):
    """Issue 18, item 9: IT-110, pass 66 (Trieste art. 30; Catania), onto the German scale by
    the two-anchor formula: 88 lies halfway between 66 and 110, so 2.5."""
    url = f"/api/v1/grades/convert?value={value}&from=IT-110&to=DE-1-5"
    body = get(client, url).get_json()
    assert (body["value"], body["passed"]) == (shown, passed)


def test_italian_degree_mark_below_66_fails_and_onto_it_shows_whole_marks(client):
    assert (
        get(client, "/api/v1/grades/convert?value=65&from=IT-110&to=DE-1-5").get_json()["passed"]
        is False
    )
    body = get(client, "/api/v1/grades/convert?value=1.7&from=DE-1-5&to=IT-110").get_json()
    assert (body["value"], body["raw"]) == ("100", "99.7333")
    problem(client, "/api/v1/grades/convert?value=111&from=IT-110&to=DE-1-5", 400, "value")


def test_explicit_grade_table(client, session):
    session.add(
        GradeConversionTable(
            code="UNI-X-ECTS",
            source_scale="ECTS-A-F",
            target_scale="DE-1-5",
            citation="Learning agreement 2025",
            rows=[{"from": "A", "to": "1.3"}, {"from": "B", "to": "2.0"}],
        )
    )
    session.commit()
    body = get(client, "/api/v1/grades/convert?value=B&from=ECTS-A-F&to=DE-1-5&table=UNI-X-ECTS")
    assert body.get_json()["value"] == "2.0" and body.get_json()["method"] == "table"


@pytest.mark.parametrize(
    "query, field",
    [
        ("value=7&from=DE-1-5&to=FR-0-20", "value"),
        ("value=0.5&from=DE-1-5&to=FR-0-20", "value"),
        ("value=21&from=FR-0-20&to=DE-1-5", "value"),
        ("value=abc&from=FR-0-20&to=DE-1-5", "value"),
        ("value=3.3&from=US-GPA-4&to=DE-1-5&pass=9", "pass"),
        ("value=3.3&from=US-GPA-4&to=DE-1-5&pass=x", "pass"),
        ("value=3&from=XX&to=DE-1-5", "from"),
        ("from=FR-0-20&to=DE-1-5", "value"),
    ],
)
def test_grade_bad_input(client, query, field):
    problem(client, f"/api/v1/grades/convert?{query}", 400, field)


def test_openapi_document_and_docs_page(client):
    spec = get(client, "/api/v1/openapi.json").get_json()
    for path in (
        "/api/v1/frameworks",
        "/api/v1/frameworks/{code}",
        "/api/v1/frameworks/{code}/levels",
        "/api/v1/equivalents",
        "/api/v1/credits/convert",
        "/api/v1/grades/convert",
    ):
        assert path in spec["paths"], path
    assert "ProblemSchema" in str(spec) or "Problem" in str(spec["components"])
    page = get(client, "/api/docs").get_data(as_text=True)
    assert "/api/docs/assets/swagger-ui-bundle.js" in page
    with client.get("/api/docs/assets/swagger-ui-bundle.js") as asset:
        assert asset.status_code == 200 and b"SwaggerUIBundle" in asset.get_data()


def test_unknown_route_is_a_problem(client):
    problem(client, "/api/v1/nowhere", 404)


def test_frameworks_page_lists_frameworks(client):
    page = get(client, "/frameworks").get_data(as_text=True)
    assert "IE-NFQ" in page and "/api/docs" in page


@pytest.mark.parametrize("kind", ["institutions", "assessments", "imports", "transfers"])
def test_an_id_no_database_holds_names_nothing(client, kind):
    # 2**63 overflows both databases' integers: the route does not match, rather than a 500.
    for number in (2**63, 10**30):
        response = client.get(f"/api/v1/{kind}/{number}")
        assert response.status_code == 404
        assert response.json["status"] == 404
