"""The review queue: ambiguous institution matches met in assessments and transfer evaluations,
for an admin or the ministry of their country to confirm (the spelling becomes an alias of the
institution) or reject."""
