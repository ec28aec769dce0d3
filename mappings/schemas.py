"""Marshmallow schemas for equivalence and conversion queries and their answers (contract shapes)."""

from __future__ import annotations

import datetime as dt
import re

from marshmallow import Schema, ValidationError, fields, post_dump, validate, validates_schema

from frameworks.schemas import FRAMEWORK_CODE, LEVEL_REF
from mappings.credits import METHODS as CREDIT_METHODS
from mappings.grades import METHODS as GRADE_METHODS
from mappings.rules import ALTERNATIVE_FORMS
from registry.catalogue import isced
from registry.catalogue.models import QUALIFICATION_TYPES
from registry.core.inputs import DecimalField, id_field
from registry.institutions.models import SCHEMES
from registry.institutions.schemas import iso_country, text_field

LEVEL_REF_MESSAGE = "Expected FRAMEWORK:LEVEL, e.g. IE-NFQ:8."
CODE_MESSAGE = "Expected a code such as DE-DQR or ECTS."
TABLE_CODE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,79}$")
TABLE_CODE_MESSAGE = "1 to 80 letters, digits, '.', '_' or '-', e.g. TUM-GB-HONS-2025."


class EquivalentsQuerySchema(Schema):
    level = fields.String(
        required=True,
        validate=validate.Regexp(LEVEL_REF, error=LEVEL_REF_MESSAGE),
        metadata={"description": "The source level, FRAMEWORK:LEVEL.", "example": "IE-NFQ:8"},
    )
    target = fields.String(
        required=True,
        validate=validate.Regexp(FRAMEWORK_CODE, error=CODE_MESSAGE),
        metadata={"description": "The target framework code.", "example": "GB-SCQF"},
    )
    on = fields.Date(
        load_default=None,
        metadata={"description": "The date the answer is valid on (default today)."},
    )


class StepSchema(Schema):
    source = fields.String(data_key="from")
    target = fields.String(data_key="to")
    relation = fields.String()
    basis = fields.String(
        metadata={
            "description": "referencing (accepted EQF referencing, or the EQF Recommendation), "
            "legislation (a country's own legal text), comparison, agreement, decision."
        }
    )
    citation = fields.String()
    inverse = fields.Boolean(
        metadata={"description": "True when the step runs a published link backwards."}
    )
    secondary_source = fields.String(
        metadata={
            "description": "Present when the step's result was read only in this secondary "
            "source, not in the cited report; the step's confidence is lowered (x0.8)."
        }
    )
    succession = fields.Boolean(
        metadata={
            "description": "Present (true) on the first step of an answer for a level no longer "
            "in force: the correspondence to the level replacing it."
        }
    )

    @post_dump
    def _only_when_set(self, data, **_):
        if data.get("secondary_source") is None:
            data.pop("secondary_source", None)
        if not data.get("succession"):
            data.pop("succession", None)
        return data


class MatchSchema(Schema):
    level = fields.String()
    relation = fields.String()
    confidence = fields.Float()
    secondary = fields.Boolean(
        metadata={
            "description": "True when a step of the path rests on a secondary source (see the "
            "step's secondary_source): say so wherever the match is shown."
        }
    )
    path = fields.List(fields.Nested(StepSchema))


class SupersededSchema(Schema):
    level = fields.String(metadata={"description": "The source level, no longer in force."})
    successors = fields.List(
        fields.String(),
        metadata={
            "description": "The levels replacing it, as its successor's legal text states (the "
            "first step of each path)."
        },
    )
    note = fields.String()


class EquivalentsSchema(Schema):
    source = fields.String()
    target_framework = fields.String()
    on = fields.Date()
    matches = fields.List(fields.Nested(MatchSchema))
    reason = fields.String(
        metadata={
            "description": "Why there is no match: no_counterpart, below_eqf_1, unlevelled, "
            "not_in_force (the level's version was not in force and nothing replaces it)."
        }
    )
    superseded = fields.Nested(
        SupersededSchema,
        metadata={
            "description": "Present when the source level belongs to a superseded framework "
            "version and is answered through the levels replacing it."
        },
    )

    @post_dump
    def _reason_only_when_unmatched(self, data, **_):
        for name in ("reason", "superseded"):
            if data.get(name) is None:
                data.pop(name, None)
        return data


class CreditsQuerySchema(Schema):
    value = DecimalField(required=True, validate=validate.Range(min=0), metadata={"example": "240"})
    source = fields.String(required=True, data_key="from", metadata={"example": "GB-CATS"})
    target = fields.String(required=True, data_key="to", metadata={"example": "ECTS"})
    method = fields.String(load_default="annual_load", validate=validate.OneOf(CREDIT_METHODS))
    rule = fields.String(
        load_default=None,
        metadata={"description": "An explicit conversion rule; overrides the method."},
    )


class CreditRangeSchema(Schema):
    low = fields.String()
    high = fields.String()


class CreditConversionSchema(Schema):
    value = fields.String()
    unit = fields.String()
    method = fields.String()
    basis = fields.String()
    range = fields.Nested(CreditRangeSchema)


class GradesQuerySchema(Schema):
    value = fields.String(
        required=True, validate=validate.Length(1, 40), metadata={"example": "1.7"}
    )
    source = fields.String(required=True, data_key="from", metadata={"example": "DE-1-5"})
    target = fields.String(required=True, data_key="to", metadata={"example": "FR-0-20"})
    method = fields.String(load_default="linear", validate=validate.OneOf(GRADE_METHODS))
    pass_mark = DecimalField(
        load_default=None,
        data_key="pass",
        metadata={"description": "The source scale's pass mark, when it differs (US: 1.0 or 2.0)."},
    )
    table = fields.String(
        load_default=None,
        metadata={"description": "An explicit conversion table; overrides the method."},
    )
    group = fields.String(
        load_default="default",
        metadata={"description": "Reference group of the distribution tables."},
    )
    institution = id_field(
        load_default=None,
        metadata={
            "description": "Convert as this institution does: the conversion table it set for "
            "the two scales applies, if it set one."
        },
    )
    country = fields.String(
        load_default=None,
        validate=iso_country,
        metadata={
            "description": "Convert for this country: its ministry's conversion table for the "
            "two scales applies, if it set one (an institution's table comes first).",
            "example": "DE",
        },
    )


class TableReferenceSchema(Schema):
    code = fields.String()
    authority = fields.Dict(
        metadata={
            "description": "Whose table: {kind: institution, id}, {kind: ministry, "
            "country} or {kind: registry}."
        }
    )
    citation = fields.String()


class GradeConversionSchema(Schema):
    value = fields.String()
    raw = fields.String()
    scale = fields.String()
    passed = fields.Boolean()
    method = fields.String()
    basis = fields.String(
        metadata={
            "description": "What the value rests on: the conversion table used and its "
            "citation, or the method (for a named class, which mark of its band was taken) "
            "and why no table applied."
        }
    )
    table = fields.Nested(
        TableReferenceSchema,
        allow_none=True,
        metadata={"description": "The conversion table used; null for a method."},
    )
    steps = fields.List(fields.String())


# --- grade conversion tables ------------------------------------------------------------------


class TableAuthoritySchema(Schema):
    """Whose table: a ministry (its country), an institution (its id) or the registry."""

    kind = fields.String(
        required=True, validate=validate.OneOf(("ministry", "institution", "registry"))
    )
    country = fields.String(load_default=None, validate=iso_country)
    id = id_field(load_default=None)

    @validates_schema
    def _fields_of_its_kind(self, data, **_):
        needed = {"ministry": "country", "institution": "id"}.get(data.get("kind"))
        for name in ("country", "id"):
            if name == needed and data.get(name) is None:
                raise ValidationError(f"A {data['kind']} authority names its {name}.", name)
            if name != needed and data.get(name) is not None:
                raise ValidationError(f"Not a field of a {data.get('kind')} authority.", name)


class TableRowSchema(Schema):
    source = text_field(40, required=True, data_key="from")
    target = text_field(40, required=True, data_key="to")


class GradeTableSchema(Schema):
    """A grade conversion table as its authority sets it (API body, CLI file)."""

    code = fields.String(
        required=True, validate=validate.Regexp(TABLE_CODE, error=TABLE_CODE_MESSAGE)
    )
    source = fields.String(
        required=True,
        data_key="from",
        validate=validate.Regexp(FRAMEWORK_CODE, error=CODE_MESSAGE),
        metadata={"example": "GB-HONS"},
    )
    target = fields.String(
        required=True,
        data_key="to",
        validate=validate.Regexp(FRAMEWORK_CODE, error=CODE_MESSAGE),
        metadata={"example": "DE-1-5"},
    )
    authority = fields.Nested(TableAuthoritySchema, required=True)
    rows = fields.List(
        fields.Nested(TableRowSchema),
        required=True,
        validate=validate.Length(1, 100),
        metadata={"description": "Every class of the source scale once, best first."},
    )
    citation = text_field(
        2000,
        required=True,
        metadata={"description": "What the table rests on: the decision or regulation, dated."},
    )
    replaces = fields.String(
        load_default=None,
        validate=validate.Regexp(TABLE_CODE, error=TABLE_CODE_MESSAGE),
        metadata={
            "description": "A table of the same authority and scales this one replaces: "
            "it is withdrawn in the same write."
        },
    )


class GradeTableOutSchema(Schema):
    code = fields.String()
    source = fields.String(data_key="from")
    target = fields.String(data_key="to")
    authority = fields.Dict()
    rows = fields.List(fields.Dict())
    citation = fields.String()
    status = fields.String(metadata={"description": "active | withdrawn"})
    created_by = fields.String(allow_none=True)
    created_at = fields.String(allow_none=True)
    withdrawn_at = fields.String()
    withdrawn_by = fields.String()
    withdrawn_reason = fields.String()
    replaced_by = fields.String()


class GradeTablesQuerySchema(Schema):
    source = fields.String(load_default=None, data_key="from", metadata={"example": "GB-HONS"})
    target = fields.String(load_default=None, data_key="to", metadata={"example": "DE-1-5"})


class WithdrawalSchema(Schema):
    """Why a record is withdrawn; the reason stays with it and in its audit event."""

    reason = fields.String(required=True, validate=validate.Length(1, 2000))


class ImpactQuerySchema(Schema):
    on = fields.Date(
        load_default=None,
        metadata={
            "description": "The day the draft would take effect (default: its valid_from, "
            "else today). An earlier day shows what the draft would have changed had it "
            "taken effect then; publication itself is never backdated."
        },
    )


class ImpactChangeSchema(Schema):
    level = fields.String()
    target_framework = fields.String()
    old = fields.Nested(
        EquivalentsSchema,
        allow_none=True,
        metadata={"description": "The answer today; null for a level the draft adds."},
    )
    new = fields.Nested(
        EquivalentsSchema,
        allow_none=True,
        metadata={"description": "The answer once published; null for a level it removes."},
    )


class ImpactAssessmentSchema(Schema):
    id = fields.Integer()
    title = fields.String()
    target = fields.String()
    old = fields.String(metadata={"description": "The stored decision."})
    new = fields.String(metadata={"description": "The decision once the draft is published."})
    new_levels = fields.List(fields.Dict())


class ImpactSchema(Schema):
    framework = fields.String()
    version = fields.String()
    compared_with = fields.String(allow_none=True)
    on = fields.Date()
    levels = fields.Integer()
    frameworks = fields.Integer()
    changes = fields.List(fields.Nested(ImpactChangeSchema))
    assessments = fields.List(fields.Nested(ImpactAssessmentSchema))


# --- assessments ---------------------------------------------------------------------------


def _isced(value: str) -> None:
    if not isced.is_valid(value):
        raise ValidationError(f"{value!r} is not an ISCED-F 2013 field code.")


def _not_future(value: dt.date) -> None:
    if value > dt.date.today():
        raise ValidationError("An award date cannot be in the future.")


class CredentialInstitutionSchema(Schema):
    name = text_field(400, required=True)
    country = fields.String(required=True, validate=iso_country)
    identifiers = fields.Dict(
        keys=fields.String(validate=validate.OneOf(SCHEMES)),
        values=text_field(300),
        load_default=dict,
        metadata={"example": {"schac": "gla.ac.uk", "erasmus": "UK GLASGOW01"}},
    )


class CreditsInSchema(Schema):
    value = DecimalField(required=True, as_string=True, validate=validate.Range(min=0))
    system = fields.String(
        required=True, validate=validate.Regexp(FRAMEWORK_CODE), metadata={"example": "GB-SCQF-CP"}
    )


class GradeInSchema(Schema):
    value = text_field(40, required=True)
    scale = fields.String(required=True, validate=validate.Regexp(FRAMEWORK_CODE))


class MicroCredentialSchema(Schema):
    """The optional elements of the EU micro-credential standard (Council Recommendation
    2022/C 243/02, Annex I) that the general credential fields do not already carry."""

    assessment_type = text_field(300, load_default=None)
    participation_form = fields.String(
        load_default=None,
        validate=validate.OneOf(("online", "onsite", "blended", "volunteering", "work_experience")),
    )
    quality_assurance = text_field(500, load_default=None)
    stackable = fields.Boolean(load_default=None)
    prerequisites = text_field(1000, load_default=None)
    assessment_supervision = fields.String(
        load_default=None,
        validate=validate.OneOf(
            ("unsupervised", "supervised_no_identity_check", "supervised_identity_verified")
        ),
    )
    eqf_level = fields.Integer(load_default=None, validate=validate.Range(1, 8))


class CredentialSchema(Schema):
    """A credential to assess. Only title, institution name and country, and the award date are
    required; what is missing is resolved from the registry or reported as a gap."""

    title = text_field(500, required=True, metadata={"example": "BSc (Hons) Computing Science"})
    language = fields.String(
        load_default=None, validate=validate.Regexp(r"^[a-z]{2,3}(-[A-Za-z0-9]{1,8})*$")
    )
    institution = fields.Nested(CredentialInstitutionSchema, required=True)
    qualification_id = id_field(load_default=None, allow_none=True)
    level = fields.String(
        load_default=None,
        allow_none=True,
        validate=validate.Regexp(LEVEL_REF, error=LEVEL_REF_MESSAGE),
        metadata={"example": "GB-SCQF:10"},
    )
    qualification_type = fields.String(
        load_default=None, allow_none=True, validate=validate.OneOf(QUALIFICATION_TYPES)
    )
    credits = fields.Nested(CreditsInSchema, load_default=None, allow_none=True)
    grade = fields.Nested(GradeInSchema, load_default=None, allow_none=True)
    field = fields.String(
        load_default=None,
        allow_none=True,
        validate=_isced,
        metadata={"description": "ISCED-F 2013 code", "example": "0613"},
    )
    awarded_on = fields.Date(required=True, validate=_not_future)
    delivery_mode = fields.String(
        load_default=None, allow_none=True, validate=validate.OneOf(("onsite", "online", "blended"))
    )
    learning_outcomes = fields.List(
        text_field(2000), load_default=list, validate=validate.Length(max=200)
    )
    micro_credential = fields.Nested(MicroCredentialSchema, load_default=None, allow_none=True)


class AssessQuerySchema(Schema):
    target = fields.String(
        required=True,
        metadata={"description": "A country code or a framework code.", "example": "DE"},
    )
    target_qualification_type = fields.String(
        load_default=None, validate=validate.OneOf(QUALIFICATION_TYPES)
    )


class RecognisedAsSchema(Schema):
    level = fields.String(
        allow_none=True,
        metadata={"description": "The target framework's level the qualification reaches."},
    )
    eqf_level = fields.Integer(allow_none=True)
    qualification_type = fields.String(
        allow_none=True,
        metadata={"description": "The QF-EHEA type at that EQF level (short_cycle ...), if any."},
    )


class AlternativeSchema(Schema):
    """What a refusal or a partial recognition offers instead of the recognition asked for
    (EAR manual ch. 11); null with a recognition or a case sent for review."""

    form = fields.String(
        validate=validate.OneOf(ALTERNATIVE_FORMS),
        metadata={
            "description": "conditional (full recognition after bridging credits) | partial "
            "(the credits earned count as exemptions) | alternative (recognised as the level "
            "it reaches) | none (detail says why nothing is offered)"
        },
    )
    rule = fields.String(
        allow_none=True, metadata={"description": "The rule that names it; null when none does."}
    )
    detail = fields.String(metadata={"description": "What is offered, or why nothing is."})
    basis = fields.String(allow_none=True, metadata={"description": "The rule's source."})
    recognised_as = fields.Nested(
        RecognisedAsSchema, allow_none=True, metadata={"description": "Form alternative."}
    )
    ects_counted = fields.String(
        allow_none=True,
        metadata={"description": "Forms conditional and partial: the ECTS that count."},
    )
    bridging_ects = fields.String(
        allow_none=True,
        metadata={"description": "Forms conditional and partial: the ECTS still to be earned."},
    )


class RuleWithdrawalSchema(Schema):
    """Why a rule is withdrawn; the reason stays with the rule and in its audit event."""

    reason = fields.String(required=True, validate=validate.Length(1, 2000))
