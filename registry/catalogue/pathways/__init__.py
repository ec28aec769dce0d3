"""Pathway agreements: a receiving institution states which credentials (qualifications,
micro-credentials or courses of any issuer, all of them or any k of n) count for how many
credits toward one programme of its own catalogue, and on which conditions (minimum grade,
supervised assessment, quality assurance, age, a cap on credit from pathways, validity).
Anchored on Credential Engine's Transfer Value Profile; proposed, approved or rejected like
articulations (registry.catalogue.articulations)."""
