"""Articulations: which courses of one institution count for which courses of another.

An articulation is the receiving (target) institution's rule: "these source courses, passed,
count as these target courses, for this many credits, while the rule is valid". It may bundle
courses both ways (two source courses for one target course, one for two). It is found again by
its natural key, the receiving institution and its `rule_id`, so re-importing a list updates it.

Only the receiving institution (or an admin) writes its articulations: they are part of its
catalogue (`catalogue.edit` on the target institution). A rule proposed by someone is not applied
until it is approved; two approved rules for the same source courses at the same institution may
not be valid on the same day, so an evaluation never has to choose between them.

Evaluations of transcripts against articulations are stored here too (`models.TransferEvaluation`),
since an approved decision on one becomes an articulation.
"""
