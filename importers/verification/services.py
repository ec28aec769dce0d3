"""Verify one file: tell its kind by its content, and answer a `Verification`."""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import json
import re
from dataclasses import replace
from typing import Any

from importers import xmlsafe
from importers.runner import FileError
from importers.verification import jades, jwt, xades, xmldsig
from importers.verification.result import Verification, check
from importers.verification.trust import TrustList
from registry.core import inputs
from registry.core.errors import InvalidData

# What one verification reads: a signed credential or transcript, never a bulk file.
MAX_BYTES = 16 << 20
_COMPACT_JWS = re.compile(rb"[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*")
_BASE64URL = re.compile(rb"[A-Za-z0-9_-]+")


def verify(data: bytes, *, trust: TrustList, on: dt.date | None = None) -> Verification:
    """The verdict on `data` on the day `on` (today by default): a compact JWS (VC-JWT), a JWS
    JSON serialization (a JAdES seal) or an XML document with a ds:Signature (XML-DSig, XAdES) is
    verified; anything else is `unsigned`, its reason naming what was found.

    :raise InvalidData: a file larger than MAX_BYTES, or XML or JSON that cannot be read.
    """
    if len(data) > MAX_BYTES:
        raise InvalidData(
            f"The file is larger than {MAX_BYTES} bytes.", errors={"file": ["Too large."]}
        )
    answer = _verify(data, trust, on or dt.date.today())
    if answer.verdict == "unknown_issuer" and trust.problems:
        unresolved = check("online_resolution", "failed", "; ".join(trust.problems))
        return replace(answer, checks=[*answer.checks, unresolved])
    return answer


def _verify(data: bytes, trust: TrustList, on: dt.date) -> Verification:
    text = data.removeprefix(b"\xef\xbb\xbf").strip()
    if text.startswith(b"<"):
        return _xml(text, trust, on)
    if text.startswith((b"{", b"[")):
        return _json(inputs.load_json(text, "file"), trust, on)
    if _COMPACT_JWS.fullmatch(text):
        header = _jose_header(text)
        if header is not None and "sigT" in header:  # JAdES: a claimed signing time, crit
            protected, payload, signature = text.decode("ascii").split(".")
            flattened = {"protected": protected, "payload": payload, "signature": signature}
            return jades.verify(flattened, trust, on, serialization="compact")
        return jwt.verify(text.decode("ascii"), trust, on)
    header = _jose_header(text)
    if header is not None:
        reason = (
            f"only a JWS protected header (alg {header.get('alg')!r}), with no payload and no "
            "signature: the file is incomplete"
            if b"." not in text
            else "a JWS header followed by parts that are not base64url: not a compact JWS"
        )
        return Verification("invalid", reason, None, [check("format", "failed", reason)])
    reason = "neither XML, JSON nor a compact JWS: nothing this version can verify"
    return Verification("unsigned", reason, None, [check("signature", "failed", reason)])


def _xml(data: bytes, trust: TrustList, on: dt.date) -> Verification:
    try:
        root = xmlsafe.document(data)
    except FileError as error:
        raise InvalidData(
            f"The file is not XML that can be read: {error}", errors={"file": [str(error)]}
        ) from None
    found = xmldsig.signatures(root)
    if not found:
        name = root.tag.rsplit("}", 1)[-1] if isinstance(root.tag, str) else "?"
        reason = f"an XML document (<{name}>) without an XML signature"
        return Verification("unsigned", reason, None, [check("signature", "failed", reason)])
    if len(found) == 1 and xades.is_xades(found[0]):
        return xades.verify(root, trust, on)
    return xmldsig.verify(root, trust, on)


def _json(document: Any, trust: TrustList, on: dt.date) -> Verification:
    """A JSON credential: a JWS JSON serialization (a JAdES seal) is verified; an embedded proof
    is named, not checked here."""
    if jades.is_jws_json(document):
        return jades.verify(document, trust, on)
    if isinstance(document, dict) and document.get("proof"):
        proofs = document["proof"] if isinstance(document["proof"], list) else [document["proof"]]
        suites = ", ".join(
            str(proof.get("cryptosuite") or proof.get("type")) if isinstance(proof, dict) else "?"
            for proof in proofs
        )
        reason = f"a Data Integrity proof (cryptosuite {suites}) is not checked by this version"
        return Verification(
            "unsigned", reason, _issuer(document), [check("proof", "not_checked", reason)]
        )
    kind = document.get("type") if isinstance(document, dict) else None
    if isinstance(kind, list):
        kind = ", ".join(map(str, kind))
    reason = f"a JSON document{f' (type {kind})' if kind else ''} with no proof and no signature"
    return Verification(
        "unsigned",
        reason,
        _issuer(document) if isinstance(document, dict) else None,
        [check("signature", "failed", reason)],
    )


def _issuer(document: dict) -> str | None:
    issuer = document.get("issuer")
    if isinstance(issuer, dict):
        issuer = issuer.get("id")
    return issuer if isinstance(issuer, str) else None


def _jose_header(text: bytes) -> dict | None:
    """The JWS protected header the text starts with (a JWT cut short or broken), else None."""
    first = text.split(b".", 1)[0]
    if not _BASE64URL.fullmatch(first):
        return None
    try:
        value = json.loads(base64.urlsafe_b64decode(first + b"=" * (-len(first) % 4)))
    except (binascii.Error, ValueError):
        return None
    return value if isinstance(value, dict) and "alg" in value else None
