"""Qualifications frameworks, their versions, levels and links; credit systems and grading scales."""
