"""The `pathways-ctdl` import and the CTDL export, against the database."""

import io
import json
from decimal import Decimal

import pytest
from click.testing import CliRunner
from sqlalchemy import select
from sqlalchemy.orm import Session

from importers import ctdl
from importers.pathways import export_ctdl, import_pathways_ctdl
from registry.catalogue.pathways import services
from registry.catalogue.pathways.models import Pathway
from registry.cli import main
from registry.core import accounts
from registry.core.db import make_engine
from registry.core.errors import NotFound, PermissionDenied
from registry.core.permissions import ANONYMOUS, OPERATOR
from registry.institutions.models import Institution
from tests.importers.pathway_world import MICRO_CTID, World, adds_up

# What a pathway is, beyond its row and who decided it.
KEPT = ("id", "created_at", "updated_at", "decided_by")


@pytest.fixture
def world(session):
    return World(session)


def run_import(session, document, actor=OPERATOR, **options):
    data = document if isinstance(document, bytes) else json.dumps(document).encode()
    return import_pathways_ctdl(lambda: session, actor, io.BytesIO(data), "tvp.json", **options)


def shown(session, institution_id, rule_id):
    pathway = services.find_pathway(session, institution_id, rule_id)
    return {k: v for k, v in services.present(pathway).items() if k not in KEPT}


def test_round_trip_gives_the_same_pathway_and_a_reimport_changes_nothing(session, world):
    created = services.create_pathway(session, OPERATOR, world.pathway())
    before = shown(session, world.ids["ul"], "UL-SCM-2026")
    text = json.dumps(export_ctdl(session, ANONYMOUS, pathway_id=created.id))
    # Another registry numbers its records otherwise: the file's node labels name no ids.
    for key, number in world.ids.items():
        text = text.replace(f'_:institution-{number}"', f'_:{key}"')
    # A registry holding the same catalogue and no pathway yet.
    session.delete(created)
    session.flush()
    report = run_import(session, text.encode())
    assert (report.read, report.inserted, report.state) == (1, 1, "completed"), report.errors
    assert shown(session, world.ids["ul"], "UL-SCM-2026") == before
    again = run_import(session, text.encode())
    assert (again.read, again.unchanged) == (1, 1) and adds_up(again)


def test_export_of_an_institution_shows_drafts_to_its_owner_only(session, world):
    services.create_pathway(session, OPERATOR, world.pathway())
    services.create_pathway(session, OPERATOR, world.pathway("UL-DRAFT", status="proposed"))
    profiles = [
        node
        for node in export_ctdl(session, world.actors["ul"], institution_id=world.ids["ul"])[
            "@graph"
        ]
        if node["@type"] == ctdl.PROFILE
    ]
    assert sorted(node["registry:ruleId"] for node in profiles) == ["UL-DRAFT", "UL-SCM-2026"]
    public = export_ctdl(session, world.actors["tud"], institution_id=world.ids["ul"])["@graph"]
    assert [node["registry:ruleId"] for node in public if node["@type"] == ctdl.PROFILE] == [
        "UL-SCM-2026"
    ]
    draft = services.find_pathway(session, world.ids["ul"], "UL-DRAFT")
    with pytest.raises(NotFound):
        export_ctdl(session, world.actors["tud"], pathway_id=draft.id)
    with pytest.raises(NotFound):
        export_ctdl(session, ANONYMOUS, institution_id=999_999)


def foreign(world, credentials, *, owner="_:ul", programme=None):
    """A graph as the Credential Registry stores one: a profile and the nodes it refers to."""
    return {
        "@context": ctdl.CONTEXT,
        "@graph": [
            {
                "@id": "https://credentialengineregistry.org/resources/ce-8f0c2d4e-6a1b-4c3d-8e5f-7a9b0c1d2e3f",
                "@type": "ceterms:TransferValueProfile",
                "ceterms:ctid": "ce-8f0c2d4e-6a1b-4c3d-8e5f-7a9b0c1d2e3f",
                "ceterms:name": {"en": "Supply chain micro-credential toward the MSc"},
                "ceterms:assessmentMethodDescription": {"en": "Proctored examinations."},
                "ceterms:learningMethodDescription": {"en": "Online."},
                "ceterms:ownedBy": [owner],
                "ceterms:lifeCycleStatusType": "lifeCycle:Active",
                "ceterms:transferValue": [
                    {"@type": "ceterms:ValueProfile", "schema:value": 30, "schema:unitText": "ECTS"}
                ],
                "ceterms:transferValueFrom": [node["@id"] for node in credentials],
                "ceterms:transferValueFor": ["_:msc"],
            },
            *credentials,
            programme
            or {
                "@id": "_:msc",
                "@type": "ceterms:MasterDegree",
                "ceterms:codedNotation": "MSC-LOG",
            },
            {
                "@id": "_:ul",
                "@type": "ceterms:CredentialOrganization",
                "ceterms:name": {"en": "University of Limerick"},
                "ceterms:identifier": [
                    {
                        "@type": "ceterms:IdentifierValue",
                        "ceterms:identifierTypeName": {"en": "ROR"},
                        "ceterms:identifierValueCode": "https://ror.org/00a0n9e72",
                    }
                ],
            },
            {
                "@id": "_:academy",
                "@type": "ceterms:CredentialOrganization",
                "ceterms:name": {"en": "Online Supply Chain Academy"},
                "ceterms:subjectWebpage": "https://scm-academy.example.org/about",
            },
        ],
    }


def course_node(label, *, code=None, name=None, issuer="_:academy"):
    node = {"@id": label, "@type": "ceterms:Course", "ceterms:ownedBy": [issuer]}
    if code:
        node["ceterms:codedNotation"] = code
    if name:
        node["ceterms:name"] = {"en": name}
    return node


def test_a_graph_with_referenced_credentials_resolves_each_by_what_it_states(session, world):
    credentials = [
        # By CTID (the catalogue holds it), by code in its issuer's catalogue, by its title.
        {"@id": "_:mm", "@type": "ceterms:MicroCredential", "ceterms:ctid": MICRO_CTID},
        course_node("_:c1", code="SC1x"),
        course_node("_:c2", name="Supply chain design"),
    ]
    report = run_import(session, foreign(world, credentials))
    assert (report.inserted, report.rejected) == (1, 0), report.errors
    pathway = services.find_pathway(
        session, world.ids["ul"], "ce-8f0c2d4e-6a1b-4c3d-8e5f-7a9b0c1d2e3f"
    )
    assert [(c["kind"], c["id"]) for c in pathway.accepted] == [
        ("qualification", world.qualifications["micro"]),
        ("course", world.courses["SC1x"]),
        ("course", world.courses["SC2x"]),
    ]
    assert pathway.programme_id == world.qualifications["msc"]
    assert (pathway.credits, pathway.credit_system, pathway.status) == (
        Decimal(30),
        "ECTS",
        "approved",
    )
    assert pathway.description == "Assessment: Proctored examinations. Learning: Online."


def test_an_unresolvable_reference_rejects_its_profile_with_the_reason(session, world):
    cases = [
        [course_node("_:c1", code="SC9x")],
        [course_node("_:c1", code="SC1x", issuer="_:nobody")],
        [{"@id": "_:a", "@type": "ceterms:AssessmentProfile", "ceterms:name": {"en": "Exam"}}],
        [course_node("_:c1", code="SC1x"), "https://credentialengineregistry.org/resources/x"],
    ]
    reasons = []
    for credentials in cases:
        document = foreign(world, [c for c in credentials if isinstance(c, dict)])
        document["@graph"][0]["ceterms:transferValueFrom"] = [
            c["@id"] if isinstance(c, dict) else c for c in credentials
        ]
        report = run_import(session, document)
        assert (report.read, report.rejected) == (1, 1) and adds_up(report)
        reasons.append(report.errors[0].reason)
    assert "No course 'SC9x' in institution" in reasons[0]
    assert "organisation _:nobody is not in the registry" in reasons[1]
    assert "ceterms:AssessmentProfile" in reasons[2]
    assert "resources/x is not described in the file" in reasons[3]
    assert session.scalars(select(Pathway)).all() == []


def test_an_institution_imports_only_its_own_pathways(session, world):
    document = foreign(world, [course_node("_:c1", code="SC1x")])
    tud = world.ids["tud"]
    report = run_import(session, document, world.actors["tud"], institution_id=tud)
    assert report.rejected == 1
    assert "an institution imports its own pathways" in report.errors[0].reason
    # Without the option, the profile is its owner's, which the account may not write.
    report = run_import(session, document, world.actors["tud"])
    assert report.rejected == 1 and "scope" in report.errors[0].reason
    with pytest.raises(PermissionDenied):
        run_import(session, document, world.actors["tud"], institution_id=world.ids["ul"])
    # The owner's own account imports it; an owner the file names nowhere is the option's.
    document["@graph"][0]["ceterms:ownedBy"] = ["_:unknown"]
    report = run_import(session, document, world.actors["ul"], institution_id=world.ids["ul"])
    assert report.inserted == 1, report.errors
    report = run_import(session, document, world.actors["ul"])
    assert "not described" not in report.errors[0].reason
    assert "give the import's institution" in report.errors[0].reason


def test_a_file_that_is_no_ctdl_fails_the_import(session, world):
    report = run_import(session, b"{not json")
    assert report.state == "failed" and "not well-formed JSON" in report.failure
    report = run_import(session, {"@graph": [{"@type": "ceterms:Course"}]})
    assert report.state == "failed" and "holds no ceterms:TransferValueProfile" in report.failure
    assert report.read == 0 and adds_up(report)


# --- the API and the command line -------------------------------------------------------------


@pytest.fixture
def tokens(session, world):
    made = {}
    for key, role, scopes in [
        ("ul", "institution", [str(world.ids["ul"])]),
        ("tud", "institution", [str(world.ids["tud"])]),
    ]:
        account = accounts.get_or_create_account(session, f"exchange-{key}", role, scopes)
        made[key] = {"Authorization": f"Bearer {accounts.create_token(session, account)[1]}"}
    session.commit()
    return made


def test_api_exports_what_the_caller_may_see_and_imports_a_file(client, session, world, tokens):
    approved = services.create_pathway(session, OPERATOR, world.pathway())
    draft = services.create_pathway(session, OPERATOR, world.pathway("UL-DRAFT", status="proposed"))
    session.commit()
    response = client.get(f"/api/v1/pathways/{approved.id}/ctdl")
    assert response.status_code == 200 and response.mimetype == "application/ld+json"
    document = json.loads(response.get_data(as_text=True))
    assert document["@graph"][0]["registry:ruleId"] == "UL-SCM-2026"
    assert client.get(f"/api/v1/pathways/{draft.id}/ctdl").status_code == 404
    assert client.get(f"/api/v1/pathways/{draft.id}/ctdl", headers=tokens["tud"]).status_code == 404
    own = client.get(f"/api/v1/pathways/ctdl?institution={world.ids['ul']}", headers=tokens["ul"])
    profiles = [n for n in own.get_json(force=True)["@graph"] if n["@type"] == ctdl.PROFILE]
    assert len(profiles) == 2
    assert client.get("/api/v1/pathways/ctdl?institution=x").status_code == 400

    # The same file, as TU Dortmund's upload: its owner is another institution.
    form = {
        "format": "pathways-ctdl",
        "file": (io.BytesIO(json.dumps(document).encode()), "tvp.jsonld"),
        "options": json.dumps({"institution_id": world.ids["tud"]}),
    }
    job = client.post(
        "/api/v1/imports", data=form, headers=tokens["tud"], content_type="multipart/form-data"
    ).get_json()
    assert (job["state"], job["read"], job["rejected"]) == ("completed", 1, 1)
    assert "imports its own pathways" in job["errors"][0]["reason"]


@pytest.fixture
def cli(tmp_path):
    def database(name: str, *, shift: bool):
        url = f"sqlite:///{tmp_path / name}"
        runner = CliRunner(env={"DATABASE_URL": url})

        def run(*args, code=0):
            result = runner.invoke(main, list(args))
            assert result.exit_code == code, (result.output, result.stderr)
            return result

        run("db", "upgrade")
        run("load-reference")
        engine = make_engine(url)
        with Session(engine) as session:
            if shift:  # another registry, whose ids are not the first one's
                session.add(Institution(name="Elsewhere", name_key="elsewhere", country="FR"))
                session.flush()
            run.world = World(session)
            session.commit()
        engine.dispose()
        return run

    return database


def test_command_line_round_trip_into_a_fresh_registry(cli, tmp_path):
    first, second = cli("first.sqlite3", shift=False), cli("second.sqlite3", shift=True)
    file = tmp_path / "pathway.json"
    file.write_text(json.dumps(first.world.pathway()))
    made = json.loads(first("pathways", "create", str(file), "--json").output)
    exported = tmp_path / "tvp.jsonld"
    exported.write_text(first("pathways", "export", str(made["id"])).output)
    by_institution = first("pathways", "export", "--institution", str(first.world.ids["ul"]))
    assert json.loads(by_institution.output) == json.loads(exported.read_text())

    institution = str(second.world.ids["ul"])
    command = ("import", "pathways-ctdl", str(exported), "--institution", institution, "--json")
    report = json.loads(second(*command).output)
    assert (report["read"], report["inserted"], report["state"]) == (1, 1, "completed")
    [copied] = json.loads(second("pathways", "list", "--json").output)
    assert copied["id"] != made["id"] or copied["institution"]["id"] != made["institution"]["id"]

    def same(pathway):
        # Ids are each registry's own; the rest is the pathway.
        kept = {k: v for k, v in pathway.items() if k not in KEPT + ("institution", "programme")}
        kept["credentials"] = [(c["kind"], c["code"]) for c in pathway["credentials"]]
        return kept, pathway["programme"]["code"], pathway["institution"]["name"]

    assert same(copied) == same(made)
    again = json.loads(second(*command).output)
    assert (again["read"], again["unchanged"]) == (1, 1)
    refused = second("import", "pathways-ctdl", str(file), code=2)
    assert "holds no ceterms:TransferValueProfile" in refused.stderr
