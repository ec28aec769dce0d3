"""Readers for bulk imports; the only place lxml is used."""
