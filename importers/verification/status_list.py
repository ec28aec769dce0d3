"""Revocation and suspension through a W3C Bitstring Status List, where the list is at hand.

A credential's `credentialStatus` entry of type `BitstringStatusListEntry` with
`statusPurpose` revocation or suspension names a status list credential (`statusListCredential`,
a URL) and an index. The list is looked for among the status list credentials at hand, by its
`id`: the files of the trust list's `status/` directory and the ones given with the
verification (`registry verify --status FILE`, the API's `status` file). With online
resolution on (TRUST_ONLINE=1, `online.py`) a list not at hand is fetched from that URL;
otherwise nothing is fetched, and a list not at hand leaves the status `not_checked`, the
verdict unchanged, and says so.

The list credential must itself be verified (Data Integrity proof or VC-JWT, against the trust
list, valid on the day) and issued by the credential's own issuer. A list that is not trusted
(unknown_issuer, unsigned, another issuer's) is no evidence either way: the status is
`not_checked`. A list that fails (a broken proof, or one in the issuer's name by a key that is
none of the issuer's: a forgery; expired, not a
status list of that purpose, shorter than the spec's 16KB minimum, an index outside it) makes
the status `failed` and the credential `invalid`: its status cannot be established from the
issuer's own list. Then `encodedList` (multibase base64url of the GZIP-compressed bitstring) is
decoded and the entry's bit read, index 0 being the left-most bit of the first byte: set means
revoked (or suspended), and the credential is `invalid`.

A list at hand may be older than the issuer's latest: the check names the list's validFrom.
`1EdTechRevocationList`, the pre-standard `StatusList2021Entry` (whose context is not bundled)
and other status types, and other purposes (message, refresh), are reported `not_checked`.
"""

from __future__ import annotations

import base64
import binascii
import json
import zlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from importers.verification.online import Fetcher, ResolutionError
from importers.verification.result import Verification, check
from importers.verification.trust import TrustList
from registry.core.errors import InvalidData

ENTRY = "BitstringStatusListEntry"
PURPOSES = ("revocation", "suspension")
# The spec's minimum bitstring length (16KB), for herd privacy; a shorter list is an error.
MIN_BITS = 131_072
# A decompressed list longer than this (16 MB) is refused rather than held in memory.
MAX_LIST_BYTES = 16 << 20
MAX_FILES = 1000


@dataclass(frozen=True)
class ListFile:
    """One status list credential at hand: where it came from, its bytes, its credential."""

    source: str
    data: bytes
    credential: dict[str, Any]


@dataclass(frozen=True)
class StatusLists:
    """The status list credentials at hand, found by their `id`."""

    files: tuple[ListFile, ...] = ()
    # Online resolution (TRUST_ONLINE): a list not at hand is fetched from its URL.
    online: Fetcher | None = None

    @classmethod
    def gather(cls, trust: TrustList, given: Iterable[tuple[str, bytes]] = ()) -> StatusLists:
        """The trust list's `status/` files and the files `given` as (name, bytes).

        :raise InvalidData: a file that is not a credential (JSON, or a compact JWS whose
            payload is one), naming it.
        """
        found = []
        folder = Path(trust.directory, "status") if trust.directory else None
        if folder is not None and folder.is_dir():
            paths = sorted(path for path in folder.iterdir() if path.is_file())
            found.extend((f"status/{path.name}", path.read_bytes()) for path in paths)
        found.extend(given)
        if len(found) > MAX_FILES:
            raise InvalidData(
                f"More than {MAX_FILES} status list files.", errors={"status": ["Too many."]}
            )
        files = []
        for source, data in found:
            credential = credential_of(data)
            if credential is None:
                raise InvalidData(
                    f"The status list file {source} is not a credential (JSON, or a VC-JWT).",
                    errors={"status": [f"{source}: not a credential"]},
                )
            files.append(ListFile(source, data, credential))
        return cls(tuple(files), trust.online)

    def find(self, url: str) -> list[ListFile]:
        return [item for item in self.files if item.credential.get("id") == url]

    def fetched(self, url: str) -> ListFile:
        """The list at `url`, fetched (online resolution on); its `id` must be that URL.

        :raise ResolutionError: not fetched, or not that list.
        """
        assert self.online is not None
        data = self.online.get(url)
        credential = credential_of(data)
        if credential is None or credential.get("id") != url:
            raise ResolutionError(f"{url} is not a status list credential whose id is that URL")
        return ListFile(f"fetched from {url}", data, credential)


@dataclass(frozen=True)
class StatusOutcome:
    """The `status` check, and the reason the credential is invalid (None when it is not)."""

    check: dict[str, str]
    problem: str | None = None


def credential_of(data: bytes) -> dict[str, Any] | None:
    """The credential in a file, unverified: a JSON object, or a compact JWS's payload (its
    `vc` claim, or the payload itself); None when it is neither."""
    text = data.removeprefix(b"\xef\xbb\xbf").strip()
    try:
        if text.startswith(b"{"):
            value = json.loads(text)
        else:
            payload = text.split(b".")[1]
            value = json.loads(base64.urlsafe_b64decode(payload + b"=" * (-len(payload) % 4)))
    except (ValueError, IndexError, binascii.Error):
        return None
    if isinstance(value, dict) and isinstance(value.get("vc"), dict):
        value = value["vc"]
    return value if isinstance(value, dict) else None


def check_status(
    credential: dict[str, Any],
    issuer: str,
    lists: StatusLists,
    verify: Callable[[bytes], Verification],
) -> StatusOutcome:
    """The status of a verified credential of `issuer`; `verify` verifies a list's file (on the
    day of the credential's verification, against the same trust list, with no status check of
    its own)."""
    raw = credential.get("credentialStatus")
    if not raw:
        return StatusOutcome(check("status", "not_checked", "the credential names no status"))
    entries = raw if isinstance(raw, list) else [raw]
    said = []
    for entry in entries:
        outcome = _entry(entry, issuer, lists, verify)
        if outcome.problem:
            return outcome
        said.append(outcome.check)
    if len(said) == 1:
        return StatusOutcome(said[0])
    result = "passed" if all(item["result"] == "passed" for item in said) else "not_checked"
    return StatusOutcome(check("status", result, "; ".join(item["detail"] for item in said)))


def _entry(
    entry: Any,
    issuer: str,
    lists: StatusLists,
    verify: Callable[[bytes], Verification],
) -> StatusOutcome:
    kind = entry.get("type") if isinstance(entry, dict) else None
    if kind != ENTRY:
        return StatusOutcome(
            check("status", "not_checked", f"a status of type {kind!r} is not checked")
        )
    purpose = entry.get("statusPurpose")
    url = entry.get("statusListCredential")
    index = _index(entry.get("statusListIndex"))
    if purpose not in PURPOSES:
        return StatusOutcome(
            check("status", "not_checked", f"a status of purpose {purpose!r} is not checked")
        )
    if not isinstance(url, str) or index is None:
        reason = f"the {ENTRY} has no statusListCredential URL or no statusListIndex number"
        return StatusOutcome(check("status", "failed", reason), reason)
    at_hand = lists.find(url)
    if not at_hand and lists.online is not None:
        try:
            at_hand = [lists.fetched(url)]
        except ResolutionError as error:
            detail = f"the {purpose} status list {url} could not be fetched: {error.detail}"
            return StatusOutcome(check("status", "not_checked", detail))
    if not at_hand:
        detail = (
            f"no {purpose} status list credential with the id {url} is at hand (in the trust "
            "list's status/ directory or given): the status is not checked"
        )
        return StatusOutcome(check("status", "not_checked", detail))
    untrusted = []
    for item in at_hand:
        listed = verify(item.data)
        if listed.verdict == "invalid":
            reason = f"the status list {url} at hand ({item.source}) is invalid: {listed.reason}"
            return StatusOutcome(check("status", "failed", reason), reason)
        if listed.verdict != "verified" or listed.issuer != issuer:
            by = listed.issuer if listed.verdict == "verified" else listed.verdict
            untrusted.append(f"{item.source} ({by})")
            continue
        return _read(item, purpose, url, index)
    detail = (
        f"the {purpose} status list {url} at hand is not one {issuer} is trusted to have "
        f"signed: {', '.join(untrusted)}; the status is not checked"
    )
    return StatusOutcome(check("status", "not_checked", detail))


def _read(item: ListFile, purpose: str, url: str, index: int) -> StatusOutcome:
    """The entry's bit in a verified list; any error of the spec's algorithm fails."""
    credential_type, subject_type = "BitstringStatusListCredential", "BitstringStatusList"
    subject = item.credential.get("credentialSubject")
    types = item.credential.get("type")
    types = types if isinstance(types, list) else [types]
    bits, problem = b"", None
    if credential_type not in types or not isinstance(subject, dict):
        problem = f"it is not a {credential_type}"
    elif subject.get("type") != subject_type or subject.get("statusPurpose") != purpose:
        problem = f"its subject is not a {subject_type} of purpose {purpose}"
    else:
        bits, problem = _bitstring(subject.get("encodedList"))
    if problem is None and len(bits) * 8 < MIN_BITS:
        problem = f"it holds {len(bits) * 8} entries, fewer than the {MIN_BITS} (16KB) required"
    if problem is None and index >= len(bits) * 8:
        problem = f"the index {index} is outside its {len(bits) * 8} entries"
    if problem:
        reason = f"the status list {url} ({item.source}) cannot be used: {problem}"
        return StatusOutcome(check("status", "failed", reason), reason)
    since = item.credential.get("validFrom") or item.credential.get("issuanceDate")
    state = f"list of {since}" if since else "list with no validFrom"
    if bits[index // 8] >> (7 - index % 8) & 1:
        reason = (
            f"{'revoked' if purpose == 'revocation' else 'suspended'} by its issuer's status "
            f"list {url} (index {index})"
        )
        return StatusOutcome(check("status", "failed", f"{reason}, {state}"), reason)
    detail = f"not {'revoked' if purpose == 'revocation' else 'suspended'}: {url} index {index}"
    return StatusOutcome(check("status", "passed", f"{detail} ({state}, {item.source})"))


def _index(value: Any) -> int | None:
    """statusListIndex: a string of digits by the spec; a JSON number is accepted too."""
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return value
    if isinstance(value, str) and value.isascii() and value.isdigit():
        return int(value)
    return None


def _bitstring(encoded: Any) -> tuple[bytes, str | None]:
    """The decompressed bitstring of `encodedList`: multibase base64url (`u`), no padding."""
    if not isinstance(encoded, str) or not encoded.startswith("u"):
        return b"", "its encodedList is not multibase base64url (it must start with u)"
    text = encoded[1:]
    try:
        compressed = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
        inflater = zlib.decompressobj(wbits=31)
        bits = inflater.decompress(compressed, MAX_LIST_BYTES)
    except (binascii.Error, ValueError, zlib.error):
        return b"", "its encodedList is not base64url GZIP data"
    if inflater.unconsumed_tail:
        return b"", f"its list is longer than {MAX_LIST_BYTES} bytes"
    if not inflater.eof:
        return b"", "its encodedList is cut short"
    return bits, None
