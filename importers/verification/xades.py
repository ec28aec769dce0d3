"""XAdES seals (ETSI EN 319 132) on Europass EDC XML credentials (ELM v2 `europassCredential`),
through signxml's XAdESVerifier.

The EDC issuer (through the EU DSS library) writes one ds:Signature holding
xades:QualifyingProperties, with two references: the whole document (URI="", the signature
removed by the XPath filter `not(ancestor-or-self::ds:Signature)` or the enveloped-signature
transform, then exclusive c14n), and the xades:SignedProperties of that signature.

Checked, each reported as a check: one signature; its coverage (exactly those two references,
and at most one more over the signature's own KeyInfo, as signxml signs; the XPath filter only
in that exact form, which removes the one signature as the enveloped transform does;
SignedProperties inside this signature's QualifyingProperties, whose Target names it; no
transform but those and c14n); the signing certificate as for XML-DSig (xmldsig.signer: in the
trust list, or issued by a CA of it through the KeyInfo's other certificates, each valid on the
day); the signature and the references' digests (signxml), the signed properties'
SigningCertificate(V2) digest equal to the signing certificate's (signxml); the SigningTime
inside the certificate's validity. SHA-1 and HMAC are refused.

Not checked: timestamps (SignatureTimeStamp, AllDataObjectsTimeStamp, archive timestamps: no
RFC 3161 validation), so the SigningTime is the signer's claim and an expired certificate makes
the seal invalid whatever the timestamps say (verify `--on` the sealing day to ask about then);
a signature policy; IssuerSerial(V2); revocation data and OCSP/CRL; the qualified status (no EU
trusted list); certificate extensions; the credential's own issuer and dates (the verdict's
issuer is the one the trust list gives the certificate).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any

from lxml import etree
from signxml import CanonicalizationMethod, SignatureMethod
from signxml.exceptions import InvalidDigest, SignXMLException
from signxml.util import _remove_sig
from signxml.xades import XAdESSignatureConfiguration, XAdESVerifier, XAdESVerifyResult

from importers.verification import xmldsig
from importers.verification.result import Verification, check
from importers.verification.trust import TrustList
from importers.verification.validity import signing_time_check
from importers.verification.xmldsig import DSIG, ENVELOPED

XADES = "http://uri.etsi.org/01903/v1.3.2#"
SIGNED_PROPERTIES = "http://uri.etsi.org/01903#SignedProperties"
XPATH_FILTER = "http://www.w3.org/TR/1999/REC-xpath-19991116"
# The one XPath filter accepted: it removes every ds:Signature, as the enveloped transform does.
WITHOUT_SIGNATURES = "not(ancestor-or-self::ds:Signature)"
EXPECTED = XAdESSignatureConfiguration(
    expect_references=2,
    signature_methods=frozenset(
        method
        for method in XAdESSignatureConfiguration().signature_methods
        if not method.name.startswith("HMAC") and method is not SignatureMethod.RSA_SHA1
    ),
)


class Verifier(XAdESVerifier, xmldsig.DetachedC14NVerifier):
    """signxml's XAdES verifier (canonicalising detached copies, see DetachedC14NVerifier) that
    applies the XPath filter `not(ancestor-or-self::ds:Signature)`: signxml skips transforms it
    does not know, which would leave the signature inside the data it digests. `_coverage` has
    made sure the filter is exactly that one and the signature the document's only one."""

    def _apply_transforms(self, payload, *, transforms_node, signature):
        if transforms_node is not None and any(
            node.get("Algorithm") == XPATH_FILTER
            for node in transforms_node.iter(f"{{{DSIG}}}Transform")
        ):
            _remove_sig(signature, idempotent=True)
        return super()._apply_transforms(
            payload, transforms_node=transforms_node, signature=signature
        )


def is_xades(signature: Any) -> bool:
    return signature.find(f"{{{DSIG}}}Object/{{{XADES}}}QualifyingProperties") is not None


def verify(root: Any, trust: TrustList, on: dt.date) -> Verification:
    """The verdict on one parsed document whose only ds:Signature is a XAdES one."""
    signature = xmldsig.signatures(root)[0]
    coverage = _coverage(signature)
    checks = [coverage]
    if coverage["result"] == "failed":
        return Verification("invalid", coverage["detail"], None, checks)

    found_signer = xmldsig.signer(signature, trust, on, checks)
    if isinstance(found_signer, Verification):
        return found_signer
    leaf, trusted = found_signer
    claimed = leaf.subject.rfc4514_string()

    references = signature.findall(f"{{{DSIG}}}SignedInfo/{{{DSIG}}}Reference")
    expected = dataclasses.replace(EXPECTED, expect_references=len(references))
    arguments = {"x509_cert": leaf, "expect_config": xmldsig.on_day(expected, on)}
    try:
        results = Verifier().verify(root, **arguments)
    except (SignXMLException, etree.LxmlError) as error:  # LxmlError: against the schema
        if isinstance(error, InvalidDigest) and "certificate digest" in str(error):
            reason = (
                "the signed properties name another signing certificate: their "
                "SigningCertificate digest is not the KeyInfo certificate's"
            )
        else:
            reason = xmldsig.failure(error, root, Verifier, **arguments)
        return Verification(
            "invalid", reason, claimed, [*checks, check("signature", "failed", reason)]
        )
    if not any(isinstance(result, XAdESVerifyResult) for result in results):
        reason = "the XAdES signed properties were not verified"
        return Verification(
            "invalid", reason, claimed, [*checks, check("signature", "failed", reason)]
        )
    method = signature.find(f"{{{DSIG}}}SignedInfo/{{{DSIG}}}SignatureMethod")
    algorithm = method.get("Algorithm", "").rsplit("#", 1)[-1] if method is not None else ""
    checks.append(
        check(
            "signature",
            "passed",
            f"{algorithm}; both references' digests, and the signing certificate's digest in "
            "the signed properties",
        )
    )
    checks.append(_signing_time_check(signature, leaf))
    checks.append(
        check(
            "timestamps",
            "not_checked",
            "XAdES timestamps and revocation data are not verified; no OCSP, CRL or EU trusted "
            "list is consulted",
        )
    )
    failed = next((item for item in checks if item["result"] == "failed"), None)
    if failed:
        return Verification("invalid", failed["detail"], claimed, checks)
    return Verification(
        "verified",
        f"sealed by {trusted.issuer} (XAdES); the whole document is covered",
        trusted.issuer,
        checks,
    )


def _coverage(signature: Any) -> dict[str, str]:
    references = signature.findall(f"{{{DSIG}}}SignedInfo/{{{DSIG}}}Reference")
    key_info = signature.find(f"{{{DSIG}}}KeyInfo")
    own_key = f"#{key_info.get('Id')}" if key_info is not None and key_info.get("Id") else None
    document = [reference for reference in references if reference.get("URI") == ""]
    properties = [
        reference for reference in references if reference.get("Type") == SIGNED_PROPERTIES
    ]
    keys = [reference for reference in references if own_key and reference.get("URI") == own_key]
    uris = [reference.get("URI") for reference in references]
    if len(document) != 1 or len(properties) != 1 or len(references) != 2 + len(keys[:1]):
        return check(
            "coverage",
            "failed",
            f"the XAdES signature's references are {uris}: this version accepts one over the "
            'whole document (URI=""), one over its SignedProperties and, optionally, one over '
            "its own KeyInfo",
        )
    problem = _whole_document(document[0]) or _own_properties(signature, properties[0])
    if problem:
        return check("coverage", "failed", problem)
    return check(
        "coverage",
        "passed",
        'the whole document (URI="", the signature removed) and the signature\'s SignedProperties'
        + (" and KeyInfo" if keys else ""),
    )


def _whole_document(reference: Any) -> str | None:
    transforms = list(reference.iter(f"{{{DSIG}}}Transform"))
    removes = []
    for transform in transforms:
        algorithm = transform.get("Algorithm")
        if algorithm == ENVELOPED:
            removes.append(algorithm)
        elif algorithm == XPATH_FILTER:
            expression = transform.find(f"{{{DSIG}}}XPath")
            text = " ".join((expression.text or "").split()) if expression is not None else ""
            if text != WITHOUT_SIGNATURES or expression.nsmap.get("ds") != DSIG:
                return (
                    f"the XPath transform {text!r} is not accepted: this version accepts only "
                    f"{WITHOUT_SIGNATURES} (ds the XML-DSig namespace), which removes the signature"
                )
            removes.append(algorithm)
        elif algorithm not in {method.value for method in CanonicalizationMethod}:
            return f'the reference over URI="" has the transform {algorithm}, not accepted'
    if len(removes) != 1:
        return (
            'the reference over URI="" does not remove the signature once (enveloped-signature '
            f"transform or the XPath {WITHOUT_SIGNATURES}): it does not cover the document as "
            "signed"
        )
    return None


def _own_properties(signature: Any, reference: Any) -> str | None:
    qualifying = signature.find(f"{{{DSIG}}}Object/{{{XADES}}}QualifyingProperties")
    signed = qualifying.find(f"{{{XADES}}}SignedProperties")
    if signed is None or reference.get("URI") != f"#{signed.get('Id')}":
        return "the SignedProperties reference does not point at this signature's SignedProperties"
    canonical = {method.value for method in CanonicalizationMethod}
    others = [
        node.get("Algorithm")
        for node in reference.iter(f"{{{DSIG}}}Transform")
        if node.get("Algorithm") not in canonical
    ]
    if others:
        return f"the SignedProperties reference has transforms {others}: only c14n is accepted"
    if qualifying.get("Target") != f"#{signature.get('Id')}":
        return "the QualifyingProperties' Target is not this signature"
    return None


def _signing_time_check(signature: Any, certificate: Any) -> dict[str, str]:
    node = signature.find(f".//{{{XADES}}}SignedProperties//{{{XADES}}}SigningTime")
    if node is None or not (node.text or "").strip():
        return check("signing_time", "not_checked", "the signed properties state no SigningTime")
    return signing_time_check("SigningTime", node.text.strip(), certificate)
