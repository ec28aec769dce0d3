"""Pathway exchange with the registry: CTDL Transfer Value Profiles in (`pathways-ctdl`) and out.

`importers.ctdl` reads a profile into a Draft; here its references are resolved against the
registry and the pathway is written through `registry.catalogue.pathways.services.upsert_pathway`,
with the validation and authorisation of any other write.

Resolution, for each organisation a profile names (its owner, each credential's issuer): an
identifier the registry matches on (ROR, SCHAC, Erasmus, PIC... as `ceterms:identifier`), else
its web domain (`ceterms:subjectWebpage`, when one institution holds it), else its exact name
(normalised, one institution only). A credential or course: a CTID the catalogue holds
(`identifiers` "ctid" of a qualification), else its `ceterms:codedNotation` in its issuer's
catalogue, else its name there. The programme (`transferValueFor`): the same, in the owner's
catalogue. A reference that resolves to nothing, or to several, rejects its profile with the
reason; nothing is left out of a pathway in silence.

Whose pathways: with `institution_id` (the CLI's --institution), every profile is that
institution's, and a profile whose owner resolves to another institution is rejected (an
institution imports only its own pathways); without it, each profile's owner must resolve.
Either way the write is authorised on the institution really written.

The file is one JSON document, read whole (importers.elm.read_json: at most MAX_JSON_BYTES).
"""

from __future__ import annotations

import datetime as dt
from typing import IO, Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session, sessionmaker

from importers import ctdl
from importers.ctdl_export import to_graph
from importers.elm import domain, read_json
from importers.runner import ImportReport, run
from registry.catalogue.models import Qualification
from registry.catalogue.pathways import services
from registry.core.errors import InvalidData
from registry.core.normalise import name_key
from registry.core.permissions import Actor, Target, authorize, authorize_role
from registry.institutions.models import Institution, InstitutionName
from registry.institutions.schemas import normalise_identifier
from registry.institutions.services import find_by_identifier, get_institution

FORMAT = "pathways-ctdl"


class Resolver:
    """The registry look-ups of one import, each made once."""

    def __init__(self, session: Session):
        self.session = session
        self.institutions: dict[ctdl.Organisation, tuple[Institution | None, str | None]] = {}

    def institution(self, organisation: ctdl.Organisation) -> tuple[Institution | None, str | None]:
        """(the institution, None), or (None, why not)."""
        if organisation not in self.institutions:
            self.institutions[organisation] = self._institution(organisation)
        return self.institutions[organisation]

    def _institution(
        self, organisation: ctdl.Organisation
    ) -> tuple[Institution | None, str | None]:
        said = organisation.label + (f" ({organisation.name})" if organisation.name else "")
        found: dict[int, Institution] = {}
        for scheme, value in organisation.identifiers:
            try:
                holder = find_by_identifier(
                    self.session, scheme, normalise_identifier(scheme, value)
                )
            except ValueError:
                continue
            if holder is not None:
                found[holder.id] = holder
        if len(found) > 1:
            return None, f"organisation {said}: its identifiers name institutions {sorted(found)}"
        if found:
            return next(iter(found.values())), None
        host = domain(organisation.domain)
        holder = find_by_identifier(self.session, "domain", host) if host else None
        if holder is not None:
            return holder, None
        if organisation.name and name_key(organisation.name):
            key = name_key(organisation.name)
            named = self.session.scalars(
                select(Institution)
                .where(
                    or_(
                        Institution.name_key == key,
                        Institution.id.in_(
                            select(InstitutionName.institution_id).where(InstitutionName.key == key)
                        ),
                    )
                )
                .limit(2)
            ).all()
            if len(named) == 1:
                return named[0], None
            if named:
                return None, f"organisation {said}: several institutions have that name"
        return None, (
            f"organisation {said} is not in the registry (by identifier, web domain or name)"
        )

    def by_ctid(self, ctid: str, institution_id: int | None) -> int | None:
        query = select(Qualification.id).where(
            Qualification.identifiers["ctid"].as_string() == ctid
        )
        if institution_id is not None:
            query = query.where(Qualification.institution_id == institution_id)
        found = self.session.scalars(query.limit(2)).all()
        return found[0] if len(found) == 1 else None

    def credential(self, reference: ctdl.Reference, role: str) -> dict[str, Any]:
        """The reference as PathwayRecordSchema states one; Unusable naming what is missing."""
        if reference.ctid is not None:
            found = self.by_ctid(reference.ctid, None)
            if found is not None:
                return {"qualification_id": found}
            if reference.kind is None:
                raise ctdl.Unusable(
                    f"{role} {reference.label}: no qualification with CTID {reference.ctid} in "
                    "the registry's catalogue"
                )
        if reference.issuer is None:
            raise ctdl.Unusable(
                f"{role} {reference.label} names no issuer (ceterms:ownedBy or offeredBy)"
            )
        issuer, why = self.institution(reference.issuer)
        if issuer is None:
            raise ctdl.Unusable(f"{role} {reference.label}: {why}")
        if reference.code is not None:
            return {"institution_id": issuer.id, "kind": reference.kind, "code": reference.code}
        if reference.name is not None:
            return {"institution_id": issuer.id, "kind": reference.kind, "title": reference.name}
        raise ctdl.Unusable(f"{role} {reference.label} states neither a codedNotation nor a name")

    def programme(self, reference: ctdl.Reference, owner_id: int) -> dict[str, Any]:
        """programme_id or programme_code in the owner's catalogue."""
        if reference.ctid is not None:
            found = self.by_ctid(reference.ctid, owner_id)
            if found is not None:
                return {"programme_id": found}
        if reference.code is not None:
            return {"programme_code": reference.code}
        if reference.name is not None:
            found = self.session.scalars(
                select(Qualification.id)
                .where(
                    Qualification.institution_id == owner_id,
                    Qualification.title_key == name_key(reference.name),
                )
                .limit(2)
            ).all()
            if len(found) == 1:
                return {"programme_id": found[0]}
            said = "several" if found else "no"
            raise ctdl.Unusable(
                f"transferValueFor {reference.label}: {said} programme titled "
                f"{reference.name!r} in institution {owner_id}'s catalogue"
            )
        raise ctdl.Unusable(
            f"transferValueFor {reference.label}: no programme with CTID {reference.ctid} in "
            f"institution {owner_id}'s catalogue"
        )


def record_of(resolver: Resolver, draft: ctdl.Draft, institution_id: int | None) -> dict[str, Any]:
    """The Draft as a PathwayRecordSchema record; Unusable with the reason it cannot be one."""
    owner, why = (None, "names no owner (ceterms:ownedBy)")
    if draft.owner is not None:
        owner, why = resolver.institution(draft.owner)
    if institution_id is not None:
        if owner is not None and owner.id != institution_id:
            raise ctdl.Unusable(
                f"owned by {owner.name} (institution {owner.id}), not by institution "
                f"{institution_id} whose import this is: an institution imports its own pathways"
            )
        owner_id = institution_id
    elif owner is None:
        raise ctdl.Unusable(f"{why}; give the import's institution to take it as that one's")
    else:
        owner_id = owner.id
    values = {
        name: value.isoformat() if isinstance(value, dt.date) else value
        for name, value in draft.values.items()
    }
    return {
        "rule_id": draft.rule_id,
        "institution_id": owner_id,
        **values,
        **resolver.programme(draft.programme, owner_id),
        "credentials": [
            resolver.credential(reference, f"transferValueFrom {number}")
            for number, reference in enumerate(draft.credentials, start=1)
        ],
    }


def _apply(actor: Actor, institution_id: int | None):
    def apply(session: Session, batch: list[tuple[str, ctdl.Draft]]):
        resolver = Resolver(session)
        outcomes = []
        for _, draft in batch:
            try:
                record = record_of(resolver, draft, institution_id)
            except ctdl.Unusable as reason:
                outcomes.append(("rejected", str(reason)))
                continue
            result = services.upsert_pathway(session, actor, record)
            outcomes.append((result.outcome, result.reason))
        return outcomes

    return apply


def import_pathways_ctdl(
    sessions: sessionmaker[Session],
    actor: Actor,
    stream: IO[bytes],
    source: str,
    *,
    institution_id: int | None = None,
    atomic: bool = False,
    progress=None,
) -> ImportReport:
    """Import the Transfer Value Profiles of a CTDL JSON-LD file as pathways. Raises
    PermissionDenied before reading when the actor may not edit catalogues, or not the
    catalogue of `institution_id`."""
    authorize_role(actor, services.ACTION)
    if institution_id is not None:
        authorize(
            actor,
            services.ACTION,
            Target("institution", str(institution_id), institution=str(institution_id)),
        )

    def records():
        # A file that is no CTDL is the report's failure, as a broken CSV file is.
        yield from ctdl.read_profiles(read_json(stream, "a CTDL document"))

    return run(
        sessions,
        actor,
        ImportReport(FORMAT, source, atomic=atomic),
        records(),
        None,  # upsert_pathway validates each record, as any write
        _apply(actor, institution_id),
        progress=progress,
    )


def export_ctdl(
    session: Session,
    actor: Actor,
    *,
    pathway_id: int | None = None,
    institution_id: int | None = None,
) -> dict[str, Any]:
    """The pathways the actor may see as one CTDL JSON-LD graph (importers.ctdl.to_graph): one
    pathway, an institution's, or all. Approved ones to anyone, drafts to their institution's
    accounts and admins; NotFound for an unknown (or another's draft) pathway or an unknown
    institution."""
    if pathway_id is not None and institution_id is not None:
        raise InvalidData(
            "Give a pathway or an institution, not both.", errors={"institution": ["With an id."]}
        )
    if pathway_id is not None:
        pathways = [services.get_pathway(session, actor, pathway_id)]
    else:
        if institution_id is not None:
            get_institution(session, institution_id)
        pathways = services.list_pathways(session, actor, institution_id=institution_id)
    shown = [services.present(pathway) for pathway in pathways]
    institution_ids = {entry["institution"]["id"] for entry in shown} | {
        credential["institution"]["id"]
        for entry in shown
        for credential in entry["credentials"]
        if credential["institution"]
    }
    institutions = {
        institution.id: {
            "id": institution.id,
            "name": institution.name,
            "country": institution.country,
            "identifiers": [(item.scheme, item.value) for item in institution.identifiers],
        }
        for institution in session.scalars(
            select(Institution).where(Institution.id.in_(sorted(institution_ids)))
        )
    }
    qualification_ids = {entry["programme"]["id"] for entry in shown} | {
        credential["id"]
        for entry in shown
        for credential in entry["credentials"]
        if credential["kind"] == "qualification"
    }
    ctids = {
        qualification.id: qualification.identifiers["ctid"]
        for qualification in session.scalars(
            select(Qualification).where(Qualification.id.in_(sorted(qualification_ids)))
        )
        if isinstance(qualification.identifiers, dict) and qualification.identifiers.get("ctid")
    }
    return to_graph(shown, institutions, ctids)
