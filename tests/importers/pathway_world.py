"""Institutions and catalogues the pathway import tests share (test data written for them).

An online academy issues a MicroMasters-style programme in supply chain management (five
courses and the micro-credential they make); the University of Limerick and TU Dortmund
accept it toward their master's programmes.
"""

from __future__ import annotations

from registry.catalogue.schemas import CourseRecordSchema, QualificationRecordSchema
from registry.catalogue.services import upsert_courses, upsert_qualifications
from registry.core.permissions import Actor
from registry.institutions.schemas import InstitutionRecordSchema
from registry.institutions.services import upsert_many

INSTITUTIONS = {
    "ul": ("University of Limerick", "IE", [("ror", "00a0n9e72"), ("schac", "ul.ie")]),
    "tud": ("Technische Universität Dortmund", "DE", [("schac", "tu-dortmund.de")]),
    "academy": ("Online Supply Chain Academy", "US", [("domain", "scm-academy.example.org")]),
}
COURSES = [
    ("SC0x", "Supply Chain Analytics"),
    ("SC1x", "Supply Chain Fundamentals"),
    ("SC2x", "Supply Chain Design"),
    ("SC3x", "Supply Chain Dynamics"),
    ("SC4x", "Supply Chain Technology and Systems"),
]
MICRO_CTID = "ce-5d1c8f2e-7a3b-4c6d-9e8f-0a1b2c3d4e5f"
# key, institution, code, title, type, credits, credit system, identifiers
QUALIFICATIONS = [
    ("msc", "ul", "MSC-LOG", "MSc in Logistics and Supply Chain Management", "master", "90", {}),
    ("msc-tud", "tud", "MSC-LOG-DO", "Master Logistik", "master", "120", {}),
    (
        "micro",
        "academy",
        "MM-SCM",
        "MicroMasters in Supply Chain Management",
        "micro_credential",
        "30",
        {"ctid": MICRO_CTID},
    ),
]


class World:
    def __init__(self, session):
        outcomes = upsert_many(
            session,
            [
                InstitutionRecordSchema().load(
                    {
                        "name": name,
                        "country": country,
                        "identifiers": [{"scheme": s, "value": v} for s, v in identifiers],
                    }
                )
                for name, country, identifiers in INSTITUTIONS.values()
            ],
        )
        self.ids = {key: o.institution.id for key, o in zip(INSTITUTIONS, outcomes, strict=True)}
        self.courses = {
            outcome.item.code: outcome.item.id
            for outcome in upsert_courses(
                session,
                [
                    CourseRecordSchema().load(
                        {
                            "institution_id": self.ids["academy"],
                            "code": code,
                            "title": title,
                            "language": "en",
                            "credits": "6",
                            "credit_system": "ECTS",
                        }
                    )
                    for code, title in COURSES
                ],
            )
        }
        self.qualifications = {}
        for key, owner, code, title, kind, credits, identifiers in QUALIFICATIONS:
            [outcome] = upsert_qualifications(
                session,
                [
                    QualificationRecordSchema().load(
                        {
                            "institution_id": self.ids[owner],
                            "code": code,
                            "title": title,
                            "qualification_type": kind,
                            "credits": credits,
                            "credit_system": "ECTS",
                            "identifiers": identifiers,
                        }
                    )
                ],
            )
            self.qualifications[key] = outcome.item.id
        self.actors = {
            key: Actor(f"{key} registry office", "institution", frozenset({str(self.ids[key])}))
            for key in INSTITUTIONS
        }
        session.flush()

    def pathway(self, rule_id="UL-SCM-2026", **changes) -> dict:
        """A PathwayRecordSchema record: any 3 of the five courses, 30 ECTS toward UL's MSc."""
        return {
            "rule_id": rule_id,
            "institution_id": self.ids["ul"],
            "title": "MicroMasters courses toward the MSc in Logistics",
            "description": "Agreed by the Kemmy Business School in 2026.",
            "programme_code": "MSC-LOG",
            "credentials": [{"course_id": self.courses[code]} for code, _ in COURSES],
            "choose": 3,
            "credits": "30",
            "credit_system": "ECTS",
            "min_grade": "3.0",
            "min_grade_scale": "US-GPA-4",
            "supervision": "supervised_identity_verified",
            "quality_assured": True,
            "max_age_months": 60,
            "max_total_credits": "30",
            "valid_from": "2026-09-01",
            "valid_to": "2029-09-01",
            "status": "approved",
            "reason": "Approved by the academic council.",
            "source": "https://www.ul.ie/pathways/micromasters-scm",
            **changes,
        }


def adds_up(report) -> bool:
    return report.read == report.inserted + report.updated + report.unchanged + report.rejected
