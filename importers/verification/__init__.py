"""Verification of signed credentials: is a file authentic and unaltered, and by whom?

`services.verify(data, trust=..., on=...)` tells the kind of file by its content and answers a
`Verification` (result.py): `verified`, `invalid` (with the reason), `unsigned` or
`unknown_issuer`, with every check made. Keys and certificates come only from the operator's
trust list (trust.py); no network access is made, by anything here. `stored.py` verifies an
uploaded file and stores the verdict (registry.verifications), for imports, the desk, batches
and `POST /verifications`; `services.verify` itself stores nothing.

Checked in this version:
- VC-JWT (W3C VCs, Open Badges 3.0) as a compact JWS (jwt.py): algorithm (EdDSA, ES256,
  RS256), key from the trust list, signature, issuer, validity dates on the day.
- Data Integrity proofs on JSON-LD credentials (data_integrity.py): eddsa-rdfc-2022 and
  ecdsa-rdfc-2019, canonicalised with RDFC-1.0 against bundled contexts only (canonical.py);
  `data_integrity.sign` makes such proofs.
- ELMO with an enveloped XML-DSig signature (xmldsig.py): coverage of the whole document, the
  signing certificate against the trust list, signature and digest.
- Revocation and suspension of a verified credential by a Bitstring Status List at hand
  (status_list.py): the trust list's status/ files or the ones given.

Not checked in this version, and never reported as verified: other Data Integrity suites
(`unsigned`, with a `proof` check `not_checked`), JAdES and XAdES seals of Europass EDC
credentials (`unsigned`, `not_checked`), CRL and OCSP, online resolution of did:web documents,
JWKS URLs, status lists or JSON-LD contexts.
"""
