"""A property-based run of the OpenAPI document (schemathesis): every operation of
/api/v1/openapi.json gets requests generated from its own schemas, sent to the app in-process
(WSGI) with an admin's token so that the write endpoints are reached too. No answer may be a
5xx, and no request may raise.

Per operation: the document's examples, valid requests, invalid requests (schemathesis's
negative mode), and valid requests whose path names records that exist (a draft of IE-NFQ, an
institution, an assessment, an import job), so that the requests get past the 404 of a random
id or code. Derandomised: the same requests every run. FUZZ_EXAMPLES sets how many per
operation (default 25: about half a minute on SQLite, a minute on PostgreSQL, on two cores).
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

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "25"))


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
    assessment = made(client.post("/api/v1/assessments?target=DE", json=credential, headers=headers))
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
        if names and names <= set(known):
            fixed = {name: known[name] for name in names}
            strategies.append(
                operation.as_strategy(GenerationMode.POSITIVE, path_parameters=fixed)
            )

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
