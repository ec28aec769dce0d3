"""Signed statements: the registry states its decisions as W3C Verifiable Credentials.

An assessment (statement of comparability), a transfer evaluation and a pathway evaluation are
projected to a credential (credentials.py), signed with the operator's Ed25519 key (keys.py) as
a VC-JWT or with a Data Integrity proof (signing.py), and named by a check code (codes.py) that
the printed statement carries: `/check/<code>` tells anyone holding it whether the registry
issued that statement. services.py is what the API, the CLI and the pages call.
"""
