"""A property-based run of the OpenAPI document (schemathesis): every operation of
/api/v1/openapi.json gets requests generated from its own schemas, sent to the app in-process
(WSGI) with an admin's token so that the write endpoints are reached too. No answer may be a
5xx, and no request may raise.

Per operation: the document's examples, valid requests, invalid requests (schemathesis's
negative mode), valid requests whose path names records that exist (a draft of IE-NFQ, an
institution, an assessment, an import job), so that the requests get past the 404 of a random
id or code, and, where the document's schema says less than the service checks (a country, a
rule), a valid body with one of its fields replaced by any JSON value or left out, so that the
requests get past validation into the services. Derandomised: the same requests every run.
FUZZ_EXAMPLES sets how many per operation (default 60: about 2,160 requests, 30 s on SQLite
and 40 s on PostgreSQL on this two-core machine; 300 found nothing more on SQLite).
"""

import io
import json
import os
import time
import traceback
from collections import Counter

import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode

from registry.core import accounts

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "60"))


CREDENTIAL = {
    "title": "BSc (Hons) Computing Science",
    "language": "en",
    "institution": {
        "name": "University of Glasgow",
        "country": "GB",
        "identifiers": {"schac": "gla.ac.uk", "erasmus": "UK GLASGOW01"},
    },
    "level": "GB-SCQF:10",
    "qualification_type": "bachelor",
    "credits": {"value": "480", "system": "GB-SCQF-CP"},
    "grade": {"value": "2:1", "scale": "GB-HONS"},
    "field": "0613",
    "awarded_on": "2019-06-30",
    "learning_outcomes": ["Design software"],
}
FRAMEWORK = {
    "code": "LU-TQF",
    "name": "Test framework",
    "country": "LU",
    "version": {"version": "2026", "citation": "Test referencing report"},
    "levels": [{"code": "1", "ordinal": 1, "title": "One"}],
    "links": [
        {
            "from": "LU-TQF:1",
            "to": "EQF:5",
            "relation": "exactMatch",
            "basis": "referencing",
            "citation": "Test report",
        }
    ],
}
RULE = {
    "id": "fuzz-rule",
    "title": "Fuzz rule",
    "authority": {"kind": "ministry", "country": "DE"},
    "jurisdiction": "DE",
    "priority": 100,
    "when": {"all": [{"fact": "credits.ects", "op": ">=", "value": 180}]},
    "then": {"decision": "recognised"},
}
# operation -> (a valid body, fixed query parameters)
VALID = {
    "POST /api/v1/assessments": (CREDENTIAL, {"target": "DE"}),
    "POST /api/v1/assessments/stack": ({"credentials": [CREDENTIAL]}, {"target": "DE"}),
    "POST /api/v1/institutions": ({"name": "Hochschule Test", "country": "DE"}, None),
    "PATCH /api/v1/institutions/{institution_id}": (
        {"city": "Fuzz", "names": [{"value": "HS Fuzz", "lang": "de"}]},
        None,
    ),
    "PUT /api/v1/institutions/{institution_id}/status": (
        {"status": "recognised", "status_source": "A list", "status_date": "2024-01-01"},
        None,
    ),
    "POST /api/v1/frameworks": (FRAMEWORK, None),
    "PATCH /api/v1/frameworks/{code}/levels/{level}": (
        {"title": "Honours Bachelor", "note": "x", "qualification_types": ["bachelor"]},
        None,
    ),
    "POST /api/v1/rules": (RULE, None),
    "POST /api/v1/match-reviews/{review_id}/reject": ({"reason": "Not meant"}, None),
}
JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner),
    max_leaves=6,
)


def paths(value, prefix=()):
    """Every place in a JSON document: keys of objects, items of lists."""
    items = value.items() if isinstance(value, dict) else enumerate(value)
    for key, item in items:
        yield (*prefix, key)
        if isinstance(item, dict | list) and item:
            yield from paths(item, (*prefix, key))


def mutated(document):
    """The document with one place given any JSON value, or (in an object) left out."""

    def apply(choice):
        path, value, leave_out = choice
        copy = json.loads(json.dumps(document))
        parent = copy
        for key in path[:-1]:
            parent = parent[key]
        if leave_out and isinstance(parent, dict):
            del parent[path[-1]]
        else:
            parent[path[-1]] = value
        return copy

    return st.tuples(st.sampled_from(list(paths(document))), JSON_VALUES, st.booleans()).map(apply)


def known_records(client, headers) -> dict:
    """Records for the path parameters, made through the API itself."""

    def made(response):
        assert response.status_code in (201, 202), response.get_data(as_text=True)
        return response.get_json()

    draft = made(
        client.post("/api/v1/frameworks/IE-NFQ/versions", json={"version": "2099"}, headers=headers)
    )
    institution = made(
        client.post(
            "/api/v1/institutions",
            json={"name": "Hochschule Fuzz", "country": "DE", "domains": ["hs-fuzz.de"]},
            headers=headers,
        )
    )
    credential = {
        "title": "BSc Computing",
        "institution": {"name": "University of Glasgow", "country": "GB"},
        "awarded_on": "2019-06-30",
    }
    assessment = made(
        client.post("/api/v1/assessments?target=DE", json=credential, headers=headers)
    )
    # Two universities a spelling cannot tell apart: an entry of the match review queue.
    for name in ("University of Edinburgh", "Edinburgh Napier University"):
        made(
            client.post(
                "/api/v1/institutions", json={"name": name, "country": "GB"}, headers=headers
            )
        )
    ambiguous = {**credential, "institution": {"name": "Edinburgh Universty", "country": "GB"}}
    made(client.post("/api/v1/assessments?target=DE", json=ambiguous, headers=headers))
    review = client.get("/api/v1/match-reviews", headers=headers).get_json()[0]
    world = [{"name": "Nowhere", "alpha_two_code": "XX", "domains": []}]
    job = made(
        client.post(
            "/api/v1/imports",
            data={
                "format": "institutions-json",
                "file": (io.BytesIO(json.dumps(world).encode()), "world.json"),
            },
            headers=headers,
            content_type="multipart/form-data",
        )
    )
    return {
        "code": "IE-NFQ",
        "version": draft["version"],
        "level": "8",
        "institution_id": institution["id"],
        "assessment_id": assessment["id"],
        "job_id": job["id"],
        "review_id": review["id"],
    }


def test_no_operation_answers_a_server_error(app, session):
    app.config["RATELIMIT_ENABLED"] = False  # thousands of requests from one token
    account = accounts.get_or_create_account(session, "fuzz-admin", "admin", [])
    _, secret = accounts.create_token(session, account)
    session.commit()
    headers = {"Authorization": f"Bearer {secret}"}
    known = known_records(app.test_client(), headers)
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)

    failures: dict[str, str] = {}
    statuses: Counter = Counter()
    started = time.monotonic()
    operations = [result.ok() for result in schema.get_all_operations()]
    for operation in operations:
        label = operation.label
        names = {parameter.name for parameter in operation.path_parameters}
        strategies = [
            *operation.get_strategies_from_examples(),
            operation.as_strategy(GenerationMode.POSITIVE),
            operation.as_strategy(GenerationMode.NEGATIVE),
        ]
        fixed = {name: known[name] for name in names} if names <= set(known) else None
        if names and fixed:
            strategies.append(
                operation.as_strategy(GenerationMode.POSITIVE, path_parameters=fixed)
            )
        if label in VALID:
            document, query = VALID[label]

            def request_with(body, operation=operation, query=query, fixed=fixed):
                return operation.as_strategy(
                    GenerationMode.POSITIVE, path_parameters=fixed, query=query, body=body
                )

            strategies.append(mutated(document).flatmap(request_with))

        @given(case=st.one_of(*strategies))
        @settings(
            max_examples=EXAMPLES,
            derandomize=True,
            database=None,
            deadline=None,
            phases=[Phase.explicit, Phase.generate],
            suppress_health_check=list(HealthCheck),
        )
        def run(case):
            case.headers = {**(case.headers or {}), **headers}
            try:
                response = case.call()
            except Exception:
                session.rollback()  # the app is in testing mode: an error is raised, not a 500
                failures.setdefault(label, f"{case.as_curl_command()}\n{traceback.format_exc()}")
                statuses[label, "raised"] += 1
                return
            statuses[label, response.status_code] += 1
            if response.status_code >= 500:
                failures.setdefault(label, f"{case.as_curl_command()}\n{response.text[:2000]}")

        run()

    elapsed = time.monotonic() - started
    answers: Counter = Counter()
    for (_, status), count in statuses.items():
        answers[status] += count
    print(
        f"\nschemathesis: {len(operations)} operations, {statuses.total()} requests in "
        f"{elapsed:.0f} s; answers {dict(sorted(answers.items(), key=str))}"
    )
    assert len(operations) >= 37  # every operation of the document was run
    assert not failures, "\n\n".join(f"{label}\n{detail}" for label, detail in failures.items())
