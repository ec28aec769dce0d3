"""A transfer evaluation's decisions as an ELMO document for the sending institution."""

from __future__ import annotations

import datetime as dt
from typing import Any
from xml.etree import ElementTree as ET

from registry.catalogue.articulations.models import TransferEvaluation

ELMO = "https://github.com/emrex-eu/elmo-schemas/tree/v1"
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
# Identifier schemes as ELMO issuers name them (EWP practice); the registry's own id otherwise.
ELMO_SCHEMES = {
    "schac": "schac",
    "erasmus": "erasmus",
    "pic": "pic",
    "ror": "ror",
    "domain": "domain",
    "national": "nationalIdentifier",
}
ELMO_STATUSES = ("passed", "failed", "in_progress")


def export_elmo(evaluation: TransferEvaluation) -> bytes:
    """The decision as an ELMO document for the sending institution: one `report` issued by the
    receiving institution, with a `resultOfRecognition` for each result decided on: Positive
    for credit granted (by an articulation, or by a decision saved afterwards), Negative for a
    failed result or one a person rejected (with its reason). Each names the sending
    institution's course (`recognitionBasis`), the receiving course(s) with the credits and the
    converted grade (`recognitionResult`), and maps one onto the other (`recognitionMapping`).
    Pending and not applicable results are left out: nothing was decided on them. Built from
    the stored evaluation alone."""
    ET.register_namespace("", ELMO)
    result, inputs = evaluation.result, evaluation.inputs
    created = evaluation.created_at
    stamp = (created if created.tzinfo else created.replace(tzinfo=dt.UTC)).isoformat(
        timespec="seconds"
    )
    root = ET.Element(_q("elmo"))
    _sub(root, "generatedDate", stamp)
    learner = _sub(root, "learner")
    person = inputs.get("learner") or {}
    _sub(learner, "givenNames", person.get("given_names") or "")
    _sub(learner, "familyName", person.get("family_name") or "")
    _sub(learner, "alternativeName", "")
    report = _sub(root, "report")
    _issuer(report, result["receiving_institution"])
    decided = {d["result_index"]: d for d in evaluation.decisions or []}
    entries = result["results"]
    done: set[int] = set()
    for entry in entries:
        index = entry["index"]
        if index in done:
            continue
        if entry["status"] == "granted":
            bundle = entry["articulation"]["bundle"]
            targets = entry["articulation"]["target_courses"]
            credits = entries[bundle[0]]["credits_granted"]
            status, day = "Positive", created.date()
        elif index in decided and decided[index].get("outcome") == "rejected":
            bundle, targets, credits = [index], [], None
            status = "Negative"
            day = dt.date.fromisoformat(decided[index]["decided_on"])
        elif index in decided:
            bundle, targets = [index], decided[index]["target_courses"]
            credits = {
                "value": decided[index]["credits_granted"],
                "unit": decided[index]["credit_system"],
            }
            status, day = "Positive", dt.date.fromisoformat(decided[index]["decided_on"])
        elif entry["status"] == "refused":
            bundle, targets, credits = [index], [], None
            status, day = "Negative", created.date()
        else:
            continue
        done.update(bundle)
        recognition = _sub(report, "resultOfRecognition")
        titles = ", ".join(entries[i]["title"] for i in bundle)
        _sub(recognition, "title", f"Recognition of {titles}", **{XML_LANG: "en"})
        description = (
            decided[index]["reason"]
            if status == "Negative" and index in decided
            else entry["reason"]
        )
        _sub(recognition, "description", description, **{XML_LANG: "en"})
        _sub(recognition, "status", status)
        _sub(recognition, "decisionDate", day.isoformat())
        basis = _sub(_sub(recognition, "recognitionBasis"), "recognitionReport")
        source = result["source_institution"]
        stated = inputs["issuer"]
        _issuer(
            basis,
            source
            if source["verdict"] == "matched"
            else {**stated, "identifiers": sorted(stated["identifiers"].items())},
        )
        local_ids = []
        for i in bundle:
            given = inputs["results"][i]
            local_ids.append(given["code"] or f"result-{i}")
            credit = (
                (given["credit_system"], given["credits"])
                if given["credits"] is not None and given["credit_system"]
                else None
            )
            _los(
                basis,
                local_ids[-1],
                given["title"],
                given["language"],
                given["isced_f"],
                given["status"].replace("_", "-") if given["status"] in ELMO_STATUSES else None,
                given["grade"],
                credit,
                given["ended_on"],
            )
        _sub(basis, "issueDate", stamp)
        grade = next(
            (
                entries[i]["grade"]["converted"]["value"]
                for i in bundle
                if entries[i]["grade"] and entries[i]["grade"]["converted"]
            ),
            None,
        )
        for number, course in enumerate(targets):
            credit = (credits["unit"], credits["value"]) if credits and number == 0 else None
            _los(
                _sub(recognition, "recognitionResult"),
                course["code"],
                course["title"],
                course["language"],
                course["isced_f"],
                "passed",
                grade,
                credit,
                None,
            )
        if targets:
            mapping = _sub(_sub(recognition, "recognitionMapping"), "mapping")
            for side, ids in (
                ("fromMapping", local_ids),
                ("toMapping", [course["code"] for course in targets]),
            ):
                holder = _sub(mapping, side)
                for local_id in ids:
                    _sub(holder, "ref", local_id)
    _sub(report, "issueDate", stamp)
    return ET.tostring(root, encoding="utf-8", xml_declaration=True)


def _q(name: str) -> str:
    return f"{{{ELMO}}}{name}"


def _sub(parent: ET.Element, name: str, text: str | None = None, **attributes) -> ET.Element:
    element = ET.SubElement(parent, _q(name), attributes)
    if text is not None:
        element.text = text
    return element


def _issuer(parent: ET.Element, institution: dict[str, Any]) -> None:
    """An ELMO issuer from an institution as the evaluation holds it (the registry's record, or
    what the transcript stated): ELMO requires an identifier, a name and a web address."""
    issuer = _sub(parent, "issuer")
    if institution.get("country"):
        _sub(issuer, "country", institution["country"])
    pairs = [(scheme, value) for scheme, value in institution.get("identifiers") or []]
    wanted = [(ELMO_SCHEMES[scheme], value) for scheme, value in pairs if scheme in ELMO_SCHEMES]
    if not wanted:
        wanted = (
            [("registry", str(institution["id"]))]
            if institution.get("id")
            else [("local", institution.get("name") or "unknown")]
        )
    for scheme, value in wanted:
        _sub(issuer, "identifier", value, type=scheme)
    _sub(issuer, "title", institution.get("name") or "")
    domain = next((value for scheme, value in pairs if scheme in ("domain", "schac")), None)
    _sub(issuer, "url", f"https://{domain}" if domain else "")


def _los(
    parent: ET.Element,
    local_id: str,
    title: str,
    language: str | None,
    isced_f: str | None,
    status: str | None,
    grade: str | None,
    credit: tuple[str, str] | None,
    date: str | None,
) -> None:
    """A course as an ELMO learningOpportunitySpecification with its instance."""
    los = _sub(parent, "learningOpportunitySpecification")
    _sub(los, "identifier", local_id, type="local")
    _sub(los, "title", title, **({XML_LANG: language} if language else {}))
    _sub(los, "type", "Course")
    if isced_f:
        _sub(los, "iscedCode", isced_f)
    instance = _sub(_sub(los, "specifies"), "learningOpportunityInstance")
    if date:
        _sub(instance, "date", date)
    if status:
        _sub(instance, "status", status)
    if grade:
        _sub(instance, "resultLabel", grade)
    if credit:
        credit_element = _sub(instance, "credit")
        _sub(credit_element, "scheme", credit[0].lower() if credit[0] == "ECTS" else credit[0])
        _sub(credit_element, "value", credit[1])
