"""The authenticity step of an assessment: what the stored verification of the credential's
file (registry.verifications) does to the case.

- `verified`, and the credential assessed is one the file yielded: a step says who signed it.
- `invalid`: the fact `credential.signature` is `invalid`; the default policy's rule
  `default-authenticity-signature-invalid` makes it a substantial difference in authenticity.
  It holds whether or not the credential was edited since: editing a field never clears it.
- `unsigned`: confidence x UNSIGNED, saying why (nothing vouches for the document but itself).
- `unknown_issuer`: confidence x UNKNOWN_ISSUER: a signature by a key the trust list does not
  hold claims an issuer the registry cannot confirm, which weighs more than no claim at all.
- `verified`, but the credential assessed differs from what the file states (a registrar edited
  a field the file states): the fact is `altered` and confidence x ALTERED: the signature vouches
  for the file, not for the edited data.

With no verification (a typed-in credential) nothing here runs, and the default policy's rules
about the signature are left out of the evaluation, so such an answer is what it was before.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from registry.core.errors import InvalidData
from registry.core.normalise import whole_number

if TYPE_CHECKING:
    from mappings.recognition import Case

UNSIGNED = "0.9"
UNKNOWN_ISSUER = "0.8"
ALTERED = "0.8"
FACT = "credential.signature"


def apply(case: Case, verification: dict[str, Any]) -> None:
    """Set the facts and the step for the verification `carried` onto this credential."""
    verdict, covers = verification["verdict"], verification["covers"]
    fact = "altered" if verdict == "verified" and not covers else verdict
    case.facts[FACT] = fact
    case.facts["credential.signature_reason"] = verification["reason"]
    named = f"verification {verification['id']} of {verification['file']['name'] or 'the file'}"
    changed = ", ".join(verification.get("differs") or [])
    differs = (
        ""
        if covers
        else " The credential assessed is not one the file states as it is assessed"
        + (f" (it differs in: {changed})." if changed else ".")
    )
    detail = {
        "verification_id": verification["id"],
        "verdict": verdict,
        "covers": covers,
        "issuer": verification["issuer"],
    }
    if fact == "verified":
        case.step(
            "authenticity",
            "verified",
            f"The credential's file is signed by {verification['issuer']}, whose key the trust "
            f"list holds; the signature was verified on {verification['verified_on']} "
            f"({named}).",
            **detail,
        )
    elif fact == "invalid":
        case.step(
            "authenticity",
            "invalid",
            f"The credential's file has an invalid signature: {verification['reason']} "
            f"({named}).{differs}",
            **detail,
        )
    elif fact == "altered":
        case.weaken(
            ALTERED,
            "the credential assessed differs from what its verified file states, so the "
            "file's signature does not vouch for it",
        )
        case.step(
            "authenticity",
            "altered",
            f"The file was verified ({named}, signed by {verification['issuer']}), but the "
            "credential assessed differs from every credential the file states"
            + (f" (the closest differs in: {changed})" if changed else "")
            + ": the verification does not carry over to it.",
            **detail,
        )
    elif fact == "unsigned":
        case.weaken(
            UNSIGNED,
            f"the credential is not signed ({verification['reason']}): nothing but the "
            "document itself vouches for it",
        )
        case.step(
            "authenticity",
            "unsigned",
            f"The credential's file is not signed: {verification['reason']} ({named}).{differs}",
            **detail,
        )
    else:
        case.weaken(
            UNKNOWN_ISSUER,
            "the credential is signed by an issuer the trust list does not hold"
            + (f" ({verification['issuer']})" if verification["issuer"] else "")
            + ": who signed it cannot be confirmed",
        )
        case.step(
            "authenticity",
            "unknown_issuer",
            f"The credential's file is signed, but not by an issuer the trust list holds: "
            f"{verification['reason']} ({named}).{differs}",
            **detail,
        )


def named(raw: Any, verification_id: Any = None) -> tuple[Any, int | None]:
    """The credential without its `verification_id` field, and the id it or the caller named
    (InvalidData on "verification_id" when it is not an id)."""
    if isinstance(raw, dict) and "verification_id" in raw:
        raw = dict(raw)
        verification_id = raw.pop("verification_id")
    if verification_id is None:
        return raw, None
    plain = isinstance(verification_id, int | str) and not isinstance(verification_id, bool)
    number = whole_number(str(verification_id), 9) if plain else None
    if number is None or number < 1:
        raise InvalidData(
            "The verification is named by its id.",
            errors={"verification_id": ["The id of a stored verification."]},
        )
    return raw, number


def about_signature(rule: dict[str, Any]) -> bool:
    """Whether a rule's conditions name a signature fact (the default policy's such rules are
    left out of a case without a verification, so that its answer and trace are what they
    were before)."""
    return any(name.startswith("credential.signature") for name in _facts(rule.get("when")))


def _facts(node: Any):
    if isinstance(node, dict):
        if isinstance(node.get("fact"), str):
            yield node["fact"]
        for key in ("all", "any", "not"):
            yield from _facts(node.get(key))
    elif isinstance(node, list):
        for item in node:
            yield from _facts(item)
