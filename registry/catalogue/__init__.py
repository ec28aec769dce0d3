"""Qualifications (national register entries and institutions' awards) and course catalogues."""
