"""Transcripts as received (ELMO, Europass, badges): the record every reader yields, its checks,
and the batch upsert an import applies.

A record is one learning opportunity result with its transcript's context:

    {"transcript": {"format", "document_id", "issued_on",
                    "issuer": {"name", "country", "identifiers": {scheme: value}, "titles"},
                    "learner": {"identifiers": {type: value}, "name", "birth_date"}},
     "result": {"local_id", "parent_local_id", "kind", "code", "title", "language", "credits",
                "credit_system", "grade", "grading_scheme", "grade_distribution", "eqf_level",
                "level", "isced_f", "status", "started_on", "ended_on"}}

A reader may also yield a record packed (`pack`: one flat tuple, the transcript then the result's
values in the table's column order), the form in which an import moves records between processes
and through its checks to `upsert_results`: the checks load it packed, the upsert stores it as
it stores the record, and no dict is built for it on the way.

`TranscriptResultRecordSchema` states the rules; `RecordChecker` applies the same rules in plain
Python, because an import validates every one of a million records and marshmallow's nested
schemas cost more than parsing and storing them together (see bench/import_elmo.py). Both give
the same validated record and refuse the same records (tests/importers/test_elmo.py holds them
to it).

A transcript is found again by `source_key`, a digest of what identifies the document: format,
issuer identifiers, learner, the document's id (else its issue date) and the institution that
received it. So re-importing a file finds the same transcripts, and its results are upserted by
(transcript, local_id): inserted, updated (the changed fields named) or unchanged. The learner is
kept as a digest of their identifiers (of name and birth date when they have none) and the name
printed on the record; identifiers and birth date are not stored.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
from collections.abc import Iterable, Sequence
from decimal import Decimal
from operator import itemgetter
from typing import Any

from marshmallow import Schema, ValidationError, fields, post_load, validate, validates_schema
from sqlalchemy import bindparam, select, tuple_, update
from sqlalchemy.orm import Session

from frameworks.schemas import LEVEL_REF
from registry.catalogue.models import RESULT_STATUSES, Transcript, TranscriptResult
from registry.catalogue.schemas import MAX_CREDITS, language_tag
from registry.core.db import insert_new, insert_rows
from registry.core.inputs import DecimalField, parse_decimal
from registry.institutions.models import InstitutionIdentifier
from registry.institutions.schemas import (
    CONTROL,
    iso_country,
    normalise_identifier,
    text_field,
)

FORMAT = re.compile(r"^[a-z][a-z0-9-]{0,29}$")
IDENTIFIER_TYPE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9:._-]{0,99}$")
ISCED = re.compile(r"^\d{2,4}$")
# Issuer identifiers the registry knows institutions by, in the order they are trusted.
ISSUER_SCHEMES = ("erasmus", "pic", "schac")
RESULT_FIELDS = (
    "parent_local_id",
    "kind",
    "code",
    "title",
    "language",
    "credits",
    "credit_system",
    "grade",
    "grading_scheme",
    "grade_distribution",
    "eqf_level",
    "level",
    "isced_f",
    "status",
    "started_on",
    "ended_on",
)
# A record packed (`pack`): its transcript, then its result's values in this order.
PACKED_FIELDS = ("local_id", *RESULT_FIELDS)
NOT_NULL = "Field may not be null."
REQUIRED = "Missing data for required field."
UNKNOWN = "Unknown field."
CHUNK = 1000


def _text(length: int, *, required: bool = False) -> fields.String:
    """Required text, or optional text that may be null."""
    if required:
        return text_field(length, required=True)
    return text_field(length, load_default=None, allow_none=True)


def _normalised_identifiers(identifiers: dict[str, str]) -> dict[str, str]:
    """Known schemes in their stored form; one that does not parse is kept as sent (it then
    resolves no institution) rather than losing the transcript over its issuer's typo."""
    out = {}
    for scheme, value in identifiers.items():
        if scheme in ISSUER_SCHEMES:
            try:
                value = normalise_identifier(scheme, value)
            except ValueError:
                pass
        out[scheme] = value
    return out


def _plain_decimal(value: Decimal) -> Decimal:
    # 1E+2 and 100 are the same number; store the plain notation.
    return Decimal(format(value, "f"))


class IssuerSchema(Schema):
    name = _text(500, required=True)
    country = fields.String(load_default=None, allow_none=True, validate=iso_country)
    identifiers = fields.Dict(
        keys=fields.String(validate=validate.Regexp(IDENTIFIER_TYPE)),
        values=text_field(300),
        load_default=dict,
    )
    titles = fields.Dict(
        keys=fields.String(validate=validate.Length(0, 35)),
        values=text_field(500),
        load_default=dict,
    )

    @post_load
    def _normalise(self, data, **_):
        data["identifiers"] = _normalised_identifiers(data["identifiers"])
        return data


class LearnerSchema(Schema):
    identifiers = fields.Dict(
        keys=fields.String(validate=validate.Regexp(IDENTIFIER_TYPE)),
        values=text_field(300),
        load_default=dict,
    )
    name = _text(300)
    birth_date = fields.Date(load_default=None, allow_none=True)


class TranscriptSchema(Schema):
    format = fields.String(required=True, validate=validate.Regexp(FORMAT))
    document_id = _text(200)
    issued_on = fields.Date(load_default=None, allow_none=True)
    issuer = fields.Nested(IssuerSchema, required=True)
    learner = fields.Nested(LearnerSchema, required=True)


class GradeShareSchema(Schema):
    grade = text_field(60, required=True)
    percent = DecimalField(required=True, validate=validate.Range(0, 100))

    @post_load
    def _as_text(self, data, **_):
        data["percent"] = format(_plain_decimal(data["percent"]), "f")
        return data


class ResultSchema(Schema):
    local_id = _text(200, required=True)
    parent_local_id = _text(200)
    kind = _text(60)
    code = _text(100)
    title = _text(500, required=True)
    language = fields.String(load_default=None, allow_none=True, validate=language_tag)
    credits = DecimalField(
        load_default=None, allow_none=True, validate=validate.Range(min=0, max=MAX_CREDITS)
    )
    # Kept as the document spells it (upper-cased); an unknown system is flagged when assessed.
    credit_system = _text(20)
    grade = _text(60)
    grading_scheme = _text(200)
    grade_distribution = fields.List(
        fields.Nested(GradeShareSchema),
        load_default=None,
        allow_none=True,
        validate=validate.Length(min=1),
    )
    eqf_level = fields.Integer(
        load_default=None, allow_none=True, strict=True, validate=validate.Range(1, 8)
    )
    level = fields.String(
        load_default=None,
        allow_none=True,
        validate=validate.Regexp(LEVEL_REF, error="Expected FRAMEWORK:LEVEL, e.g. IE-NFQ:8."),
    )
    isced_f = fields.String(
        load_default=None,
        allow_none=True,
        validate=validate.Regexp(ISCED, error="Expected an ISCED-F code of 2 to 4 digits."),
    )
    status = fields.String(required=True, validate=validate.OneOf(RESULT_STATUSES))
    started_on = fields.Date(load_default=None, allow_none=True)
    ended_on = fields.Date(load_default=None, allow_none=True)

    @validates_schema
    def _credits_with_system(self, data, **_):
        if data.get("credits") is not None and data.get("credit_system") is None:
            raise ValidationError("Required with credits.", "credit_system")
        if data.get("credit_system") is not None and data.get("credits") is None:
            raise ValidationError("Required with credit_system.", "credits")

    @post_load
    def _plain_credits(self, data, **_):
        if data["credits"] is not None:
            data["credits"] = _plain_decimal(data["credits"])
        return data


class TranscriptResultRecordSchema(Schema):
    """One learning opportunity result and its transcript, as every transcript reader yields."""

    transcript = fields.Nested(TranscriptSchema, required=True)
    result = fields.Nested(ResultSchema, required=True)


# --- the same rules in plain Python, for the import path ----------------------------------------


class RecordChecker:
    """`load(raw)` with TranscriptResultRecordSchema's rules and result, ValidationError alike,
    at a fraction of the cost. A transcript dict shared by consecutive records (as readers yield
    them) is checked once: readers must not change a transcript dict once they have yielded it.
    """

    def __init__(self):
        self._last: tuple[Any, dict[str, Any] | None, dict[str, Any] | None] = (None, None, None)
        self._languages: dict[str, str | None] = {}
        self._countries: dict[str, str | None] = {}
        # Dates, credits, codes: few distinct texts among a million records, so each text's
        # verdict is kept ({field: {text: (value, errors)}}); cleared when it grows large.
        self._verdicts: dict[str, dict[str, tuple[Any, dict[str, Any]]]] = {}

    def load(self, raw: Any) -> dict[str, Any]:
        """The validated record, or ValidationError with every rule's message. A packed record
        (`pack`) is loaded packed."""
        if type(raw) is tuple and len(raw) == len(PACKED_FIELDS) + 1:
            return pack(self.load(unpack(raw)))
        if not isinstance(raw, dict):
            raise ValidationError({"_schema": ["Invalid input type."]})
        errors: dict[str, Any] = {}
        if len(raw) != 2 or raw.keys() != _RECORD_KEYS:
            errors.update({key: [UNKNOWN] for key in raw.keys() - _RECORD_KEYS})
        transcript = result = None
        if "transcript" not in raw:
            errors["transcript"] = [REQUIRED]
        else:
            raw_transcript = raw["transcript"]
            if raw_transcript is self._last[0] and raw_transcript is not None:
                transcript, transcript_errors = self._last[1], self._last[2]
            else:
                transcript, transcript_errors = self._transcript(raw_transcript)
                self._last = (raw_transcript, transcript, transcript_errors)
            if transcript_errors:
                errors["transcript"] = transcript_errors
        if "result" not in raw:
            errors["result"] = [REQUIRED]
        else:
            result, result_errors = self._result(raw["result"])
            if result_errors:
                errors["result"] = result_errors
        if errors:
            raise ValidationError(errors)
        return {"transcript": transcript, "result": result}

    # Each part returns (value, errors): the validated dict, or None and {field: [messages]}.

    def _transcript(self, raw: Any) -> tuple[dict[str, Any] | None, Any]:
        if raw is None:
            return None, [NOT_NULL]
        if not isinstance(raw, dict):
            return None, {"_schema": ["Invalid input type."]}
        errors: dict[str, Any] = {key: [UNKNOWN] for key in raw.keys() - _TRANSCRIPT_KEYS}
        out: dict[str, Any] = {}
        value = raw.get("format", _MISSING)
        if value is _MISSING:
            errors["format"] = [REQUIRED]
        elif value is None:
            errors["format"] = [NOT_NULL]
        elif not isinstance(value, str):
            errors["format"] = ["Not a valid string."]
        elif not FORMAT.match(value):
            errors["format"] = ["String does not match expected pattern."]
        out["format"] = value
        _optional_text(raw, "document_id", 200, out, errors)
        _optional_date(raw, "issued_on", out, errors)
        for part, check in (("issuer", self._issuer), ("learner", self._learner)):
            if part not in raw:
                errors[part] = [REQUIRED]
                continue
            value = raw[part]
            if value is None:
                errors[part] = [NOT_NULL]
            elif not isinstance(value, dict):
                errors[part] = {"_schema": ["Invalid input type."]}
            else:
                out[part], part_errors = check(value)
                if part_errors:
                    errors[part] = part_errors
        return (None, errors) if errors else (out, None)

    def _issuer(self, raw: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
        errors: dict[str, Any] = {key: [UNKNOWN] for key in raw.keys() - _ISSUER_KEYS}
        out: dict[str, Any] = {}
        value = raw.get("name", _MISSING)
        if value is _MISSING:
            errors["name"] = [REQUIRED]
        else:
            _text_value(value, 500, "name", out, errors)
        country = raw.get("country")
        if country is not None:
            if not isinstance(country, str):
                errors["country"] = ["Not a valid string."]
            elif self._country(country):
                errors["country"] = [self._country(country)]
        out["country"] = country
        identifiers = _mapping(raw, "identifiers", IDENTIFIER_TYPE, 300, errors)
        out["identifiers"] = _normalised_identifiers(identifiers) if identifiers else {}
        out["titles"] = _mapping(raw, "titles", None, 500, errors) or {}
        return out, errors

    def _learner(self, raw: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
        errors: dict[str, Any] = {key: [UNKNOWN] for key in raw.keys() - _LEARNER_KEYS}
        out: dict[str, Any] = {
            "identifiers": _mapping(raw, "identifiers", IDENTIFIER_TYPE, 300, errors) or {}
        }
        _optional_text(raw, "name", 300, out, errors)
        _optional_date(raw, "birth_date", out, errors)
        return out, errors

    def _result(self, raw: Any) -> tuple[dict[str, Any] | None, Any]:
        if raw is None:
            return None, [NOT_NULL]
        if not isinstance(raw, dict):
            return None, {"_schema": ["Invalid input type."]}
        errors: dict[str, Any] = {}
        # The validated record is the raw one copied, with the values that change type put in
        # (credits, grade table, dates): cheaper than building it field by field.
        if len(raw) == len(_RESULT_KEYS) and raw.keys() == _RESULT_KEYS:
            out = raw.copy()
        else:
            errors.update({key: [UNKNOWN] for key in raw.keys() - _RESULT_KEYS})
            out = dict.fromkeys(_RESULT_KEYS)
            out.update((key, raw[key]) for key in raw.keys() & _RESULT_KEYS)
        texts = []
        for name, length, required in _RESULT_TEXTS:
            value = out[name]
            if value is None:
                if required:
                    errors[name] = [REQUIRED if name not in raw else NOT_NULL]
            elif isinstance(value, str) and 0 < len(value) <= length:
                texts.append(value)
            else:
                _text_value(value, length, name, {}, errors)
        # One search over all of them; the culprits only when there is one.
        if CONTROL.search("".join(texts)):
            for name, length, _ in _RESULT_TEXTS:
                if name not in errors and out[name] is not None:
                    _text_value(out[name], length, name, out, errors)
        language = out["language"]
        if language is not None:
            problem = (
                self._language(language) if isinstance(language, str) else "Not a valid string."
            )
            if problem:
                errors["language"] = [problem]
        credits = out["credits"]
        if credits is not None:
            out["credits"] = credits = self._verdict("credits", credits, _credits, errors)
        if "credits" not in errors and "credit_system" not in errors:
            if credits is not None and out["credit_system"] is None:
                errors["credit_system"] = ["Required with credits."]
            elif out["credit_system"] is not None and credits is None:
                errors["credits"] = ["Required with credit_system."]
        distribution = out["grade_distribution"]
        if distribution is not None:
            out["grade_distribution"] = self._distribution(distribution, errors)
        eqf = out["eqf_level"]
        if eqf is not None:
            if not isinstance(eqf, int) or isinstance(eqf, bool):
                errors["eqf_level"] = ["Not a valid integer."]
            elif not 1 <= eqf <= 8:
                errors["eqf_level"] = [
                    "Must be greater than or equal to 1 and less than or equal to 8."
                ]
        for name, check in _RESULT_PATTERNS:
            value = out[name]
            if value is not None:
                self._verdict(name, value, check, errors)
        status = out["status"]
        if status is None:
            errors["status"] = [REQUIRED if "status" not in raw else NOT_NULL]
        elif status not in RESULT_STATUSES:
            errors["status"] = [f"Must be one of: {', '.join(RESULT_STATUSES)}."]
        for name in ("started_on", "ended_on"):
            value = out[name]
            if value is not None:
                out[name] = self._verdict(name, value, _date, errors)
        return (None, errors) if errors else (out, None)

    def _distribution(self, value: Any, errors: dict) -> list[dict[str, str]] | None:
        if not isinstance(value, list):
            errors["grade_distribution"] = ["Not a valid list."]
            return None
        if not value:
            errors["grade_distribution"] = ["Shorter than minimum length 1."]
            return None
        out, problems = [], {}
        for index, share in enumerate(value):
            entry: dict[str, Any] = {}
            if not isinstance(share, dict):
                problems[index] = {"_schema": ["Invalid input type."]}
                continue
            if len(share) != 2 or share.keys() != _SHARE_KEYS:
                entry.update({key: [UNKNOWN] for key in share.keys() - _SHARE_KEYS})
            grade = {}
            if "grade" not in share:
                entry["grade"] = [REQUIRED]
            else:
                _text_value(share["grade"], 60, "grade", grade, entry)
            percent = share.get("percent", _MISSING)
            if percent is _MISSING:
                entry["percent"] = [REQUIRED]
            elif percent is None:
                entry["percent"] = [NOT_NULL]
            else:
                percent = self._verdict("percent", percent, _percent, entry)
            if entry:
                problems[index] = entry
            else:
                out.append({"grade": grade["grade"], "percent": percent})
        if problems:
            errors["grade_distribution"] = problems
            return None
        return out

    def _verdict(self, name: str, value: Any, check, errors: dict) -> Any:
        """check(value) -> (validated value, {field: messages}), remembered for text values."""
        if type(value) is not str:
            found, problems = check(value, name)
        else:
            verdicts = self._verdicts.setdefault(name, {})
            verdict = verdicts.get(value)
            if verdict is None:
                if len(verdicts) >= 100_000:
                    verdicts.clear()
                verdict = verdicts[value] = check(value, name)
            found, problems = verdict
        if problems:
            errors.update(problems)
        return found

    def _language(self, value: str) -> str | None:
        if value not in self._languages:
            try:
                language_tag(value)
                self._languages[value] = None
            except ValidationError as error:
                self._languages[value] = error.messages[0]
        return self._languages[value]

    def _country(self, value: str) -> str | None:
        if value not in self._countries:
            try:
                iso_country(value)
                self._countries[value] = None
            except ValidationError as error:
                self._countries[value] = error.messages[0]
        return self._countries[value]


def pack(record: dict[str, Any]) -> tuple:
    """A record as one flat tuple, its transcript first, then its result's values in
    PACKED_FIELDS order: the form records cross from a reader process to the importing one in
    (marshal writes a tuple in about half a dict's time and reads it in a third), which
    `RecordChecker.load` loads (packed) and `upsert_results` stores as it does the record."""
    return (record["transcript"], *map(record["result"].__getitem__, PACKED_FIELDS))


def unpack(packed: tuple) -> dict[str, Any]:
    """The record `pack` packed."""
    return {"transcript": packed[0], "result": dict(zip(PACKED_FIELDS, packed[1:], strict=True))}


_MISSING = object()
_RECORD_KEYS = frozenset(("transcript", "result"))
_SHARE_KEYS = frozenset(("grade", "percent"))
_TRANSCRIPT_KEYS = frozenset(TranscriptSchema().fields)
_ISSUER_KEYS = frozenset(IssuerSchema().fields)
_LEARNER_KEYS = frozenset(LearnerSchema().fields)
_RESULT_KEYS = frozenset(ResultSchema().fields)
_RESULT_TEXTS = (
    ("local_id", 200, True),
    ("title", 500, True),
    ("parent_local_id", 200, False),
    ("kind", 60, False),
    ("code", 100, False),
    ("credit_system", 20, False),
    ("grade", 60, False),
    ("grading_scheme", 200, False),
)


def _pattern(pattern: re.Pattern, message: str):
    def check(value: Any, name: str) -> tuple[Any, dict[str, list[str]]]:
        if not isinstance(value, str):
            return value, {name: ["Not a valid string."]}
        return value, {} if pattern.match(value) else {name: [message]}

    return check


def _date(value: Any, name: str) -> tuple[dt.date | None, dict[str, list[str]]]:
    out: dict[str, Any] = {}
    errors: dict[str, Any] = {}
    _optional_date({name: value}, name, out, errors)
    return out.get(name), errors


def _percent(value: Any, name: str) -> tuple[str | None, dict[str, list[str]]]:
    errors: dict[str, Any] = {}
    number = _decimal(value, name, errors, 0, 100)
    return (None if number is None else format(number, "f")), errors


def _credits(value: Any, name: str) -> tuple[Decimal | None, dict[str, list[str]]]:
    errors: dict[str, Any] = {}
    return _decimal(value, name, errors, 0, MAX_CREDITS), errors


_RESULT_PATTERNS = (
    ("level", _pattern(LEVEL_REF, "Expected FRAMEWORK:LEVEL, e.g. IE-NFQ:8.")),
    ("isced_f", _pattern(ISCED, "Expected an ISCED-F code of 2 to 4 digits.")),
)


def _text_value(value: Any, length: int, name: str, out: dict, errors: dict) -> None:
    if value is None:
        errors[name] = [NOT_NULL]
    elif not isinstance(value, str):
        errors[name] = ["Not a valid string."]
    elif not 1 <= len(value) <= length:
        errors[name] = [f"Length must be between 1 and {length}."]
    elif CONTROL.search(value):
        errors[name] = ["Control characters are not allowed."]
    out[name] = value


def _optional_text(raw: dict, name: str, length: int, out: dict, errors: dict) -> None:
    value = raw.get(name)
    if value is None:
        out[name] = None
    else:
        _text_value(value, length, name, out, errors)


def _optional_date(raw: dict, name: str, out: dict, errors: dict) -> None:
    value = raw.get(name)
    if value is None:
        out[name] = None
        return
    if isinstance(value, dt.date):
        out[name] = value
        return
    try:
        out[name] = dt.date.fromisoformat(value)
    except (TypeError, ValueError):
        errors[name] = ["Not a valid date."]


def _mapping(
    raw: dict, name: str, key_pattern: re.Pattern | None, length: int, errors: dict
) -> dict[str, str] | None:
    value = raw.get(name)
    if value is None:
        if name in raw:
            errors[name] = [NOT_NULL]
        return None
    if not isinstance(value, dict):
        errors[name] = ["Not a valid mapping type."]
        return None
    problems: dict[str, Any] = {}
    for key, item in value.items():
        entry: dict[str, list[str]] = {}
        if not isinstance(key, str):
            entry["key"] = ["Not a valid string."]
        elif key_pattern is not None and not key_pattern.match(key):
            entry["key"] = ["String does not match expected pattern."]
        elif key_pattern is None and len(key) > 35:
            entry["key"] = ["Length must be between 0 and 35."]
        if item is None:
            entry["value"] = [NOT_NULL]
        elif not isinstance(item, str):
            entry["value"] = ["Not a valid string."]
        elif not 1 <= len(item) <= length:
            entry["value"] = [f"Length must be between 1 and {length}."]
        elif CONTROL.search(item):
            entry["value"] = ["Control characters are not allowed."]
        if entry:
            problems[key] = entry
    if problems:
        errors[name] = problems
        return None
    return value


def _decimal(
    value: Any, name: str, errors: dict, low: Decimal | int, high: Decimal | int
) -> Decimal | None:
    if value is True or value is False:
        errors[name] = ["Not a valid number."]
        return None
    text = str(value)
    try:
        number = parse_decimal(text)  # finite, and of a size plain notation can write out
    except ValueError as error:
        errors[name] = [str(error)]
        return None
    if not low <= number <= high:
        errors[name] = [f"Must be greater than or equal to {low} and less than or equal to {high}."]
        return None
    # Only an exponent ("1E+2") is not already the plain notation.
    return _plain_decimal(number) if "e" in text or "E" in text else number


# --- storage ---------------------------------------------------------------------------------


def learner_key(learner: dict[str, Any]) -> str | None:
    """A digest of the learner's identifiers; of name and birth date when they have none;
    None when the record says nothing about them."""
    if learner["identifiers"]:
        basis: Any = ["ids", sorted(learner["identifiers"].items())]
    elif learner.get("name") or learner.get("birth_date"):
        name = " ".join((learner.get("name") or "").casefold().split())
        birth = learner.get("birth_date")
        basis = ["name", name, birth.isoformat() if birth else None]
    else:
        return None
    return _digest(basis)


def source_key(transcript: dict[str, Any], received_by: int | None) -> str:
    """What identifies one received document (see the module docstring)."""
    issued = transcript["issued_on"]
    document = (
        ["id", transcript["document_id"]]
        if transcript["document_id"] is not None
        else ["on", issued.isoformat() if issued else None]
    )
    return _digest(
        [
            transcript["format"],
            sorted(transcript["issuer"]["identifiers"].items()),
            learner_key(transcript["learner"]),
            document,
            received_by,
        ]
    )


def _digest(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


def upsert_results(
    session: Session,
    records: Sequence[dict[str, Any] | tuple],
    *,
    received_by: int | None = None,
    import_source: str | None = None,
    stated: dict[int, set[str]] | None = None,
    verification_id: int | None = None,
) -> list[tuple[str, str | None]]:
    """Store a batch of validated records, as loaded or packed (`pack`); (outcome, reason) for
    each, in order: inserted, updated (reason: the changed fields), unchanged, or rejected when
    its result was stated before in this batch or, for an import's batches, in `stated` (the
    local ids already stored per transcript id; kept up to date here, and only for the
    transcripts of the last batch, since a transcript's records come together): a file states
    each result once, so a second statement is never an update. Transcripts are created as
    needed (their issuer resolved to a registry institution by Erasmus code, PIC or SCHAC, else
    left unresolved with its name kept) and refreshed when what they say changed. SQLAlchemy
    Core throughout, one look-up of the stored keys per batch: this is an import's hot path."""
    # Packed, a record's values are in the table's column order (PACKED_FIELDS).
    records = [record if type(record) is tuple else pack(record) for record in records]
    transcript_ids, new_transcripts = _transcripts(session, records, received_by, import_source)
    if verification_id is not None:
        # The verification of the file they were (last) imported from.
        table = Transcript.__table__
        for chunk in _chunks(sorted(set(transcript_ids)), CHUNK):
            session.execute(
                update(table).where(table.c.id.in_(chunk)).values(verification_id=verification_id)
            )
    keys = list(zip(transcript_ids, map(_local_id, records), strict=True))
    before = {} if stated is None else stated
    now: dict[int, set[str]] = {}
    twice = []
    for index, (transcript_id, local_id) in enumerate(keys):
        mine = now.get(transcript_id)
        if mine is None:
            mine = now[transcript_id] = before.get(transcript_id, set())
        if local_id in mine:
            twice.append(index)
        else:
            mine.add(local_id)
    if stated is not None:
        stated.clear()
        stated.update(now)
    if not twice:
        return _store(session, records, keys, new_transcripts)
    repeated = set(twice)
    stored = iter(
        _store(
            session,
            [record for index, record in enumerate(records) if index not in repeated],
            [key for index, key in enumerate(keys) if index not in repeated],
            new_transcripts,
        )
    )
    return [_STATED_TWICE if index in repeated else next(stored) for index in range(len(keys))]


_STATED_TWICE = (
    "rejected",
    "the same result (transcript and local_id) as an earlier record of this file: "
    "a file states each result once",
)


def _store(
    session: Session,
    records: list[tuple],
    keys: list[tuple[int, str]],
    new_transcripts: set[int],
) -> list[tuple[str, str | None]]:
    """upsert_results for records whose keys are distinct."""
    table = TranscriptResult.__table__
    known = [key for key in keys if key[0] not in new_transcripts]
    if not known:
        # All new (a first import): no look-up, no comparison.
        insert_rows(
            session.connection(),
            table,
            _INSERT_COLUMNS,
            [[key[0], *record[1:]] for key, record in zip(keys, records, strict=True)],
        )
        return [_INSERTED] * len(keys)
    stored = _stored_results(session, known)
    inserts: list[list[Any]] = []  # of transcripts created in this transaction: no one else's
    maybe: list[dict[str, Any]] = []  # of stored transcripts: a concurrent import may add them
    updates: list[dict[str, Any]] = []
    outcomes: list[tuple[str, str | None]] = []
    for key, record in zip(keys, records, strict=True):
        values = record[2:]
        current = stored.get(key)
        if current is None:
            if key[0] in new_transcripts:
                inserts.append([*key, *values])
            else:
                maybe.append(dict(zip(_INSERT_COLUMNS, (*key, *values), strict=True)))
            outcomes.append(_INSERTED)
            continue
        outcomes.append(_compare(current, values, updates))
    if inserts:
        insert_rows(session.connection(), table, _INSERT_COLUMNS, inserts)
    if maybe:
        # Sorted by key, so that two imports inserting into the same transcripts take their
        # row locks in one order (no deadlock).
        maybe.sort(key=itemgetter("transcript_id", "local_id"))
        done = set(
            insert_new(
                session.connection(),
                table,
                ("transcript_id", "local_id"),
                maybe,
                ("transcript_id", "local_id"),
            )
        )
        if len(done) < len(maybe):
            # Stored meanwhile by another import (committed now): compared like any stored row.
            late = [(row["transcript_id"], row["local_id"]) for row in maybe]
            late = [key for key in late if key not in done]
            found = _stored_results(session, late)
            index = {key: position for position, key in enumerate(keys)}
            for key in late:
                values = records[index[key]][2:]
                outcomes[index[key]] = _compare(found[key], values, updates)
    if updates:
        session.execute(update(table).where(table.c.id == bindparam("row_id")), updates)
    return outcomes


def _compare(
    current: tuple[int | None, tuple], values: tuple, updates: list[dict[str, Any]]
) -> tuple[str, str | None]:
    """The outcome of a record whose result is stored: unchanged, or updated (queued)."""
    row_id, before = current
    if before == values:
        return ("unchanged", None)
    changed = [
        name for name, old, new in zip(RESULT_FIELDS, before, values, strict=True) if old != new
    ]
    updates.append({"row_id": row_id, **dict(zip(RESULT_FIELDS, values, strict=True))})
    return ("updated", "changed: " + ", ".join(changed))


_INSERT_COLUMNS = ("transcript_id", *PACKED_FIELDS)
_local_id = itemgetter(1)
_INSERTED = ("inserted", None)


def _stored_results(
    session: Session, keys: list[tuple[int, str]]
) -> dict[tuple[int, str], tuple[int | None, tuple]]:
    """The stored rows of these (transcript_id, local_id) keys: (row id, RESULT_FIELDS values).
    Two IN lists rather than one of pairs: SQLite then walks the unique index instead of
    scanning the table."""
    table = TranscriptResult.__table__
    columns = [table.c[name] for name in RESULT_FIELDS]
    wanted = set(keys)
    transcripts = sorted({key[0] for key in keys})
    found: dict[tuple[int, str], tuple[int | None, tuple]] = {}
    for local_ids in _chunks(sorted({key[1] for key in keys}), CHUNK):
        for ids in _chunks(transcripts, CHUNK):
            query = select(table.c.id, table.c.transcript_id, table.c.local_id, *columns).where(
                table.c.transcript_id.in_(ids), table.c.local_id.in_(local_ids)
            )
            for row in session.execute(query):
                key = (row[1], row[2])
                if key in wanted:
                    found[key] = (row[0], tuple(row[3:]))
    return found


TRANSCRIPT_FIELDS = (
    "issuer_institution_id",
    "issuer_name",
    "issuer_country",
    "issuer_identifiers",
    "learner_key",
    "learner_name",
    "issued_on",
)


def _transcripts(
    session: Session,
    records: Sequence[tuple],
    received_by: int | None,
    import_source: str | None,
) -> tuple[list[int], set[int]]:
    """The transcript id of each (packed) record (created when new), and the ids created now."""
    by_object: dict[int, str] = {}  # records of one document share its transcript dict
    contexts: dict[str, dict[str, Any]] = {}
    record_keys = []
    for record in records:
        transcript = record[0]
        key = by_object.get(id(transcript))
        if key is None:
            key = by_object[id(transcript)] = source_key(transcript, received_by)
            contexts.setdefault(key, transcript)
        record_keys.append(key)
    table = Transcript.__table__
    columns = [table.c[name] for name in TRANSCRIPT_FIELDS]
    stored = {}
    for chunk in _chunks(sorted(contexts), CHUNK):
        for row in session.execute(
            select(table.c.id, table.c.source_key, *columns).where(table.c.source_key.in_(chunk))
        ):
            stored[row[1]] = (row[0], tuple(row[2:]))
    issuers = _issuer_institutions(session, contexts.values())
    rows, changes = [], []
    contexts_values: dict[str, tuple] = {}
    for key, transcript in contexts.items():
        issuer, learner = transcript["issuer"], transcript["learner"]
        values = (
            issuers.get(_issuer_pairs(issuer)),
            issuer["name"],
            issuer["country"],
            issuer["identifiers"],
            learner_key(learner),
            learner["name"],
            transcript["issued_on"],
        )
        if key not in stored:
            contexts_values[key] = values
            rows.append(
                {
                    "source_format": transcript["format"],
                    "source_key": key,
                    "received_by_institution_id": received_by,
                    "import_source": import_source,
                    **dict(zip(TRANSCRIPT_FIELDS, values, strict=True)),
                }
            )
        elif stored[key][1] != values:
            changes.append(
                {"row_id": stored[key][0], **dict(zip(TRANSCRIPT_FIELDS, values, strict=True))}
            )
    created: set[int] = set()
    if rows:
        # ON CONFLICT DO NOTHING: another import of the same documents may insert them at the
        # same time; sorted by key, so two such imports take their locks in one order.
        rows.sort(key=itemgetter("source_key"))
        for row_id, key in insert_new(
            session.connection(), table, ("source_key",), rows, ("id", "source_key")
        ):
            stored[key] = (row_id, ())
            created.add(row_id)
        late = sorted({row["source_key"] for row in rows} - stored.keys())
        for chunk in _chunks(late, CHUNK):
            # Inserted by that other import, committed now: refreshed like any stored one.
            for row in session.execute(
                select(table.c.id, table.c.source_key, *columns).where(
                    table.c.source_key.in_(chunk)
                )
            ):
                stored[row[1]] = (row[0], tuple(row[2:]))
                wanted = contexts_values[row[1]]
                if tuple(row[2:]) != wanted:
                    changes.append(
                        {"row_id": row[0], **dict(zip(TRANSCRIPT_FIELDS, wanted, strict=True))}
                    )
    if changes:
        session.execute(update(table).where(table.c.id == bindparam("row_id")), changes)
    return [stored[key][0] for key in record_keys], created


def _issuer_pairs(issuer: dict[str, Any]) -> tuple[tuple[str, str], ...]:
    identifiers = issuer["identifiers"]
    return tuple(
        (scheme, identifiers[scheme]) for scheme in ISSUER_SCHEMES if scheme in identifiers
    )


def _issuer_institutions(
    session: Session, transcripts: Iterable[dict[str, Any]]
) -> dict[tuple[tuple[str, str], ...], int]:
    """issuer identifier pairs -> the institution holding the most trusted of them: the look-up
    of institutions.services.find_by_identifier, for a whole batch in one query."""
    wanted = {_issuer_pairs(t["issuer"]) for t in transcripts}
    pairs = sorted({pair for group in wanted for pair in group})
    holders: dict[tuple[str, str], int] = {}
    column = InstitutionIdentifier.__table__.c
    for chunk in _chunks(pairs, CHUNK):
        for institution_id, scheme, value in session.execute(
            select(column.institution_id, column.scheme, column.value).where(
                tuple_(column.scheme, column.value).in_(chunk)
            )
        ):
            holders[(scheme, value)] = institution_id
    return {
        group: next(holders[pair] for pair in group if pair in holders)
        for group in wanted
        if any(pair in holders for pair in group)
    }


def _chunks(items: list, size: int) -> Iterable[list]:
    for start in range(0, len(items), size):
        yield items[start : start + size]
