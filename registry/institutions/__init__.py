"""Institutions: names in several languages, identifiers, recognition status."""
