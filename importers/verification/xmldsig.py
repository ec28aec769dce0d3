"""ELMO (EMREX) transcripts with an enveloped XML signature (XML-DSig), through signxml.

Checked, each reported as a check: that there is one signature, and that it covers the whole
document (one Reference with URI="" and the enveloped-signature transform, the Signature a child
of the root); the signing certificate, the first X509Certificate of its KeyInfo: in the trust
list exactly, or issued by a CA certificate of the trust list (directly or through the other
certificates the KeyInfo carries), each valid on the day of verification; the signature and the
digest, by signxml (XMLVerifier) with that certificate. SHA-1 (rsa-sha1, sha1), which EMREX
contact points sign with, is accepted and said so; other algorithms are signxml's defaults.
When the signature fails, the reason says whether SignedInfo's signature or the document's
digest failed, and whether SignedInfo verifies with its indentation removed (a file re-indented
after signing).

Not checked: certificate extensions and revocation (no CRL or OCSP: no network), XAdES
properties (xades.py checks those of a XAdES signature), and signatures that cover only part of
a document (reported, and the verdict is invalid).
"""

from __future__ import annotations

import base64
import binascii
import copy
import dataclasses
import datetime as dt
from typing import Any

from cryptography import x509
from lxml import etree
from signxml import DigestAlgorithm, SignatureConfiguration, SignatureMethod, XMLVerifier
from signxml.exceptions import InvalidDigest, InvalidSignature, SignXMLException

from importers.verification.result import Verification, check
from importers.verification.trust import CertificateTrust, TrustList

DSIG = "http://www.w3.org/2000/09/xmldsig#"
ENVELOPED = "http://www.w3.org/2000/09/xmldsig#enveloped-signature"
SHA1_SIGNATURES = {SignatureMethod.RSA_SHA1, SignatureMethod.ECDSA_SHA1, SignatureMethod.DSA_SHA1}
EXPECTED = SignatureConfiguration(
    expect_references=1,
    signature_methods=SignatureConfiguration().signature_methods | SHA1_SIGNATURES,
    digest_algorithms=SignatureConfiguration().digest_algorithms | {DigestAlgorithm.SHA1},
)


class DetachedC14NVerifier(XMLVerifier):
    """signxml's verifier, canonicalising each node (SignedInfo above all) as a detached copy.

    lxml canonicalises an element in place through its document: under a redeclared default
    namespace (`<elmo xmlns="elmo-ns"><Signature xmlns="xmldsig-ns">`, as Java signers write
    it) it emits `xmlns=""` on the grandchildren of SignedInfo (Transforms, Transform), which
    are in the XML-DSig namespace: Canonical XML forbids that undeclaration, and the RSA
    signature of a correctly signed SignedInfo then fails. A copy serialised and parsed again
    carries the in-scope namespace declarations on its apex, as the standard's document subset
    does, and canonicalises right; signxml already does the same for its references.
    """

    def _c14n(self, nodes, algorithm, inclusive_ns_prefixes=None):
        nodes = nodes if isinstance(nodes, list) else [nodes]
        copies = [
            self._fromstring(self._tostring(node)) if isinstance(node, etree._Element) else node
            for node in nodes
        ]
        return super()._c14n(copies, algorithm, inclusive_ns_prefixes)


def signatures(root: Any) -> list[Any]:
    return root.findall(f".//{{{DSIG}}}Signature")


def on_day(config: SignatureConfiguration, on: dt.date) -> SignatureConfiguration:
    """`config` with signxml's own certificate date check made on the day of verification."""
    moment = dt.datetime.combine(on, dt.time(12), dt.UTC)
    return dataclasses.replace(config, verification_time=moment)


def signer(
    signature: Any, trust: TrustList, on: dt.date, checks: list
) -> tuple[x509.Certificate, CertificateTrust] | Verification:
    """The signing certificate of KeyInfo (its first X509Certificate) and how the trust list
    stands to it, or the verdict when it cannot be read or is not trusted."""
    try:
        certificates = [
            x509.load_der_x509_certificate(base64.b64decode("".join(node.text.split())))
            for node in signature.iter(f"{{{DSIG}}}X509Certificate")
        ]
    except (binascii.Error, ValueError, TypeError, AttributeError) as error:
        reason = f"a certificate in the signature's KeyInfo cannot be read: {error}"
        return Verification(
            "invalid", reason, None, [*checks, check("certificate", "failed", reason)]
        )
    if not certificates:
        reason = (
            "the signature carries no X509 certificate; this version finds signers by certificate"
        )
        return Verification(
            "unknown_issuer", reason, None, [*checks, check("certificate", "failed", reason)]
        )
    leaf = certificates[0]
    claimed = leaf.subject.rfc4514_string()
    trusted = trust.certificate_trust(leaf, certificates[1:], on)
    if trusted.entry is None:
        return Verification(
            "unknown_issuer",
            trusted.detail,
            claimed,
            [*checks, check("certificate", "failed", trusted.detail)],
        )
    if trusted.problem:
        return Verification(
            "invalid",
            trusted.problem,
            claimed,
            [*checks, check("certificate", "failed", trusted.problem)],
        )
    checks.append(check("certificate", "passed", trusted.detail))
    return leaf, trusted


def failure(error: Exception, root: Any, verifier: type[XMLVerifier], **arguments) -> str:
    """Why signxml refused the signature, as precisely as can be told: SignedInfo's signature
    or the document's digest, and whether SignedInfo verifies without its indentation."""
    if isinstance(error, InvalidDigest):
        return (
            "the XML signature does not verify: its signature over SignedInfo is right, but the "
            f"digest of a reference is not the one signed ({error}): the document was changed "
            "(or re-serialised) after signing"
        )
    if isinstance(error, InvalidSignature):
        unindented = copy.deepcopy(root)
        for node in unindented.iterfind(f".//{{{DSIG}}}SignedInfo"):
            for element in node.iter():
                if element.text is not None and not element.text.strip():
                    element.text = None
                if element is not node and element.tail is not None and not element.tail.strip():
                    element.tail = None
        try:
            verifier().verify(unindented, **arguments)
        except InvalidDigest:  # SignedInfo verified: the references are what the indent changed
            pass
        except InvalidSignature:
            return (
                "the XML signature does not verify: the signature value does not match SignedInfo "
                "with the certificate's key (SignedInfo was changed after signing, or another "
                "key signed it)"
            )
        except (SignXMLException, etree.LxmlError):
            pass
        return (
            "the XML signature does not verify: SignedInfo's signature verifies only with its "
            "indentation removed: the file was re-indented after signing"
        )
    return f"the XML signature does not verify: {error}"


def verify(root: Any, trust: TrustList, on: dt.date) -> Verification:
    """The verdict on one parsed document holding at least one ds:Signature."""
    found = signatures(root)
    if len(found) > 1:
        reason = f"{len(found)} XML signatures: this version checks a document with one"
        return Verification("invalid", reason, None, [check("coverage", "failed", reason)])
    signature = found[0]
    coverage = _coverage(root, signature)
    checks = [coverage]
    if coverage["result"] == "failed":
        return Verification("invalid", coverage["detail"], None, checks)

    found_signer = signer(signature, trust, on, checks)
    if isinstance(found_signer, Verification):
        return found_signer
    leaf, trusted = found_signer
    claimed = leaf.subject.rfc4514_string()

    method = signature.find(f"{{{DSIG}}}SignedInfo/{{{DSIG}}}SignatureMethod")
    algorithm = method.get("Algorithm", "") if method is not None else ""
    arguments = {"x509_cert": leaf, "expect_config": on_day(EXPECTED, on)}
    try:
        DetachedC14NVerifier().verify(root, **arguments)
    except (SignXMLException, etree.LxmlError) as error:  # LxmlError: against the schema
        reason = failure(error, root, DetachedC14NVerifier, **arguments)
        return Verification(
            "invalid", reason, claimed, [*checks, check("signature", "failed", reason)]
        )
    weak = (
        " (SHA-1: weak, accepted because EMREX contact points sign with it)"
        if "sha1" in algorithm
        else ""
    )
    checks.append(check("signature", "passed", f"{algorithm.rsplit('#', 1)[-1]}{weak}"))
    return Verification(
        "verified",
        f"signed by {trusted.issuer}; the whole document is covered",
        trusted.issuer,
        checks,
    )


def _coverage(root: Any, signature: Any) -> dict[str, str]:
    references = signature.findall(f"{{{DSIG}}}SignedInfo/{{{DSIG}}}Reference")
    uris = [reference.get("URI") for reference in references]
    transforms = [
        node.get("Algorithm")
        for reference in references
        for node in reference.iter(f"{{{DSIG}}}Transform")
    ]
    if uris == [""] and ENVELOPED in transforms and signature.getparent() is root:
        return check("coverage", "passed", 'the whole document (enveloped, URI="")')
    return check(
        "coverage",
        "failed",
        f"the signature does not cover the whole document (references {uris}); "
        'this version accepts one enveloped signature over URI=""',
    )
