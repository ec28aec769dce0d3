"""Pathways evaluated: where a credential counts, what counts toward a programme, and a learner's
credentials judged against a programme's approved pathway agreements
(registry.catalogue.pathways), condition by condition, without counting a credential twice."""
